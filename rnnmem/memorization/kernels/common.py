"""What the cell kernels share: compile options, call-free tanh and sigmoid, the product loops
over a model's B sequences, and the flat parameter layout.

Every loop here runs over one model's arrays only, and every array keeps the sequence axis B
last, so the innermost loops are elementwise over B and compile to SIMD code. A sum runs in a
fixed order inside one (unit, sequence) or one weight entry; without fastmath LLVM neither
reassociates nor contracts (no FMA), so a vector lane and the scalar remainder give the same
bits, and a model's numbers depend on nothing but its own parameters and data.

tanh, sigmoid: libm's tanh is a call (about 20 ns) that blocks vectorisation, and the cell
loops would be bound by it. These are call-free and branch-free (every branch computed, one
selected). float64 (Cephes): exp(x) = 2^k exp(r) with x = k ln2 + r, exp(r) by a Pade form,
2^k from the exponent bits; tanh(z) = 1 - 2 / (exp(2|z|) + 1) with the sign restored for
|z| > 0.625, a rational form below: within a few ulp. float32: exp as above with a
polynomial (Cephes expf); tanh a rational minimax form on a clamped range (odd degree 13
over even degree 6, the Eigen library's), half the instructions of the exp-based form;
polynomials in Estrin's scheme (the loops are bound by dependency chains, not by the
arithmetic). sigmoid(z) = 1 / (1 + exp(-z)). Measured against float64 on 2e7 points: float32
tanh within 6 ulp (of [-12, 12] and a log grid down to 1e-30), sigmoid within 2.5 ulp (of
[-80, 80]). NaN stays NaN; tanh(+-inf) = +-1; exp results below ~1e-38 (float32) or
~1e-308 (float64) flush to 0.
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

# cache=True: compiled code persists (see the package docstring for where); error_model
# "numpy": IEEE division without zero checks, so an inf or NaN stays in its own model.
JIT = dict(cache=True, nogil=True, error_model="numpy")
# The cell steps and small helpers: inlined into the driver by numba.
INLINE = dict(inline="always", error_model="numpy")
# tanh: inlined too (as a call, LLVM did not inline the float64 one, and a loop with a call
# in it does not vectorise). exp: left to LLVM, which inlines it (inlined by numba inside
# the inlined tanh and sigmoid, it makes numba emit spurious NumbaIRAssumptionWarnings).
SCALAR = dict(inline="always", error_model="numpy")
EXP = dict(error_model="numpy")
# The loops over rows and sequences are called, not inlined: each compiles once per dtype
# (inlined at every call site they took a third more compile time, for no measurable speed).
# A call per layer and step costs little.
CALLED = dict(error_model="numpy")

# cell -> (module with its layer loops, gate blocks in row order, code the drivers branch on)
CELLS = {
    "rnn": ("rnn", ("h",), 0),
    "lstm": ("lstm", ("i", "f", "g", "o"), 1),
    "gru": ("gru", ("r", "z", "n"), 2),
}
GATES = {cell: len(blocks) for cell, (_, blocks, _) in CELLS.items()}


def tanh(z):
    """tanh of a float32/float64 scalar, inside numba kernels (see the module docstring)."""
    raise NotImplementedError("numba only")


def sigmoid(z):
    """1 / (1 + exp(-z)) of a float32/float64 scalar, inside numba kernels."""
    raise NotImplementedError("numba only")


@intrinsic
def _bits_f32(typingctx, i):
    """The float32 whose bits are the int32 i (an LLVM bitcast: vectorises)."""

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(types.int32), codegen


@intrinsic
def _bits_f64(typingctx, i):
    """The float64 whose bits are the int64 i."""

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@numba.njit(**EXP)
def _exp32(x):
    """Cephes expf: x = k ln2 + r, exp(r) by a degree-7 polynomial (its degree-5 part in
    Estrin's scheme: shorter dependency chains than Horner's), 2^k from bits."""
    xc = x if x > np.float32(-87.0) else np.float32(-87.0)  # NaN -> -87, restored at the end
    xc = xc if xc < np.float32(88.72283) else np.float32(88.72283)
    k = np.floor(xc * np.float32(1.44269504088896341) + np.float32(0.5))
    r = xc - k * np.float32(0.693359375) + k * np.float32(2.12194440e-4)
    r2 = r * r
    p = (np.float32(5.0000001201e-1) + np.float32(1.6666665459e-1) * r) + (
        np.float32(4.1665795894e-2) + np.float32(8.3334519073e-3) * r
    ) * r2
    p = p + (np.float32(1.3981999507e-3) + np.float32(1.9875691500e-4) * r) * (r2 * r2)
    y = p * r2 + r + np.float32(1.0)
    res = (y + y) * _bits_f32((np.int32(k) + np.int32(126)) << np.int32(23))  # y 2 2^(k-1)
    res = res if x < np.float32(88.72283) else np.float32(np.inf)
    res = res if x > np.float32(-87.0) else np.float32(0.0)
    return res if x == x else x


@numba.njit(**EXP)
def _exp64(x):
    """Cephes exp: x = k ln2 + r, exp(r) by a (2, 3) Pade form, 2^k from bits."""
    xc = x if x > -708.0 else -708.0
    xc = xc if xc < 709.78 else 709.78
    k = np.floor(xc * 1.4426950408889634073599 + 0.5)
    r = xc - k * 6.93145751953125e-1 - k * 1.42860682030941723212e-6
    rr = r * r
    px = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr + 1.0)
    q = (
        (3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr
        + 2.27265548208155028766e-1
    ) * rr + 2.0
    y = 1.0 + 2.0 * (px / (q - px))
    res = (y + y) * _bits_f64(np.int64(np.int32(k) + np.int32(1022)) << np.int64(52))
    res = res if x < 709.782712893384 else np.inf
    res = res if x > -708.0 else 0.0
    return res if x == x else x


@numba.njit(**SCALAR)
def _tanh32(z):
    """A rational minimax form on [-7.9053, 7.9053] (odd degree 13 over even degree 6, the
    inputs clamped there; both polynomials in y = x^2 in Estrin's scheme), z itself for
    |z| < 0.0004 and +-1 for |z| >= 9 (where float32's tanh rounds to +-1)."""
    c = np.float32(7.90531110763549805)
    x = z if z < c else c
    x = x if x > -c else -c
    y = x * x
    y2 = y * y
    p = (np.float32(4.89352455891786e-03) + np.float32(6.37261928875436e-04) * y) + (
        np.float32(1.48572235717979e-05) + np.float32(5.12229709037114e-08) * y
    ) * y2
    p = p + (
        (np.float32(-8.60467152213735e-11) + np.float32(2.00018790482477e-13) * y)
        + np.float32(-2.76076847742355e-16) * y2
    ) * (y2 * y2)
    q = (np.float32(4.89352518554385e-03) + np.float32(2.26843463243900e-03) * y) + (
        np.float32(1.18534705686654e-04) + np.float32(1.19825839466702e-06) * y
    ) * y2
    r = (x * p) / q
    r = z if abs(z) < np.float32(0.0004) else r
    one = np.float32(1.0)
    r = (one if z > 0 else -one) if abs(z) >= np.float32(9.0) else r  # tanh rounds to +-1
    return r if z == z else z  # NaN stays NaN (the clamps would replace it)


@numba.njit(**SCALAR)
def _tanh64(z):
    az = abs(z)
    big = 1.0 - 2.0 / (_exp64(az + az) + 1.0)
    big = -big if z < 0 else big
    s = z * z
    p = (-9.64399179425052238628e-1 * s - 9.92877231001918586564e1) * s - 1.61468768441708447952e3
    q = ((s + 1.12811678491632931402e2) * s + 2.23548839060100448583e3) * s
    small = z + z * s * (p / (q + 4.84406305325125486048e3))
    return big if az > 0.625 else small


@overload(tanh, jit_options={"error_model": "numpy"}, inline="always")
def _tanh_overload(z):
    if z == types.float32:
        return lambda z: _tanh32(z)
    if z == types.float64:
        return lambda z: _tanh64(z)


@overload(sigmoid, jit_options={"error_model": "numpy"}, inline="always")
def _sigmoid_overload(z):
    if z == types.float32:
        return lambda z: np.float32(1.0) / (np.float32(1.0) + _exp32(-z))
    if z == types.float64:
        return lambda z: 1.0 / (1.0 + _exp64(-z))


# ------------------------------------------------------------------ loops over one model
# Arrays are indexed in place (no sub-array views in the loops: each view costs numba two
# atomic reference-count updates). A[t, r, b]: step t, row r, sequence b.
@numba.njit(**CALLED)
def activate(A, t, r0, tanh_lo, tanh_hi, r1):
    """A[t, r, b] = tanh(A[t, r, b]) for tanh_lo <= r < tanh_hi, sigmoid for the other rows
    r0 <= r < r1 (one call for all the gates of a step)."""
    B = A.shape[2]
    for r in range(r0, tanh_lo):
        for b in range(B):
            A[t, r, b] = sigmoid(A[t, r, b])
    for r in range(tanh_lo, tanh_hi):
        for b in range(B):
            A[t, r, b] = tanh(A[t, r, b])
    for r in range(tanh_hi, r1):
        for b in range(B):
            A[t, r, b] = sigmoid(A[t, r, b])


@numba.njit(**CALLED)
def affine(out, t, o0, bias, r0, r1, W1, X1, t1, W2, X2, t2):
    """out[t, o0 + r - r0, b] = bias[r] + sum_k W1[r, k] X1[t1, k, b] + sum_k W2[r, k] X2[t2, k, b]
    for r0 <= r < r1 (sums in that order; no second sum when t2 < 0): a step's pre-activations.
    """
    for r in range(r0, r1):
        v = bias[r]
        for b in range(out.shape[2]):
            out[t, o0 + r - r0, b] = v
    add_product(out, t, o0, W1, X1, t1, r0, r1)
    if t2 >= 0:
        add_product(out, t, o0, W2, X2, t2, r0, r1)


@numba.njit(**INLINE)
def add_product(out, t, o0, W, X, tx, r0, r1):
    """out[t, o0 + r - r0, b] += sum_k W[r, k] X[tx, k, b] for r0 <= r < r1, k in increasing
    order: W (rows, K) weights, X (., K, B) inputs.

    Four k per pass over the rows (then two, then one): one load and store of out per four
    terms, the same additions in the same order. k is outside r: consecutive updates of one
    row are a pass over the rows apart, so they do not wait on each other."""
    K, B = X.shape[1], X.shape[2]
    k = 0
    while k + 3 < K:
        for r in range(r0, r1):
            w0, w1, w2, w3 = W[r, k], W[r, k + 1], W[r, k + 2], W[r, k + 3]
            o = o0 + r - r0
            for b in range(B):
                s = out[t, o, b] + w0 * X[tx, k, b]
                s = s + w1 * X[tx, k + 1, b]
                s = s + w2 * X[tx, k + 2, b]
                out[t, o, b] = s + w3 * X[tx, k + 3, b]
        k += 4
    if k + 1 < K:
        for r in range(r0, r1):
            w0, w1 = W[r, k], W[r, k + 1]
            o = o0 + r - r0
            for b in range(B):
                out[t, o, b] = (out[t, o, b] + w0 * X[tx, k, b]) + w1 * X[tx, k + 1, b]
        k += 2
    if k < K:
        for r in range(r0, r1):
            w0 = W[r, k]
            o = o0 + r - r0
            for b in range(B):
                out[t, o, b] += w0 * X[tx, k, b]


@numba.njit(**CALLED)
def add_transposed(out, t, W, D, td, r0, r1):
    """out[t, k, b] += sum_r W[r, k] D[td, r, b] over r0 <= r < r1 in increasing order:
    W (rows, K); D (., rows, B) gradients of pre-activations; out (., K, B). Four r per
    pass (as add_product)."""
    K, B = out.shape[1], out.shape[2]
    r = r0
    while r + 3 < r1:
        for k in range(K):
            w0, w1, w2, w3 = W[r, k], W[r + 1, k], W[r + 2, k], W[r + 3, k]
            for b in range(B):
                s = out[t, k, b] + w0 * D[td, r, b]
                s = s + w1 * D[td, r + 1, b]
                s = s + w2 * D[td, r + 2, b]
                out[t, k, b] = s + w3 * D[td, r + 3, b]
        r += 4
    if r + 1 < r1:
        for k in range(K):
            w0, w1 = W[r, k], W[r + 1, k]
            for b in range(B):
                out[t, k, b] = (out[t, k, b] + w0 * D[td, r, b]) + w1 * D[td, r + 1, b]
        r += 2
    if r < r1:
        for k in range(K):
            w0 = W[r, k]
            for b in range(B):
                out[t, k, b] += w0 * D[td, r, b]


@numba.njit(**INLINE)
def lane_sum(acc, k):
    """sum_b acc[k, b] in a fixed order (acc is scratch: it is overwritten). For B >= 8: eight
    partial sums p_q = acc[q] + acc[q + 8] + ... in order (vector adds), the lanes past the
    last multiple of 8 added to p_0, p_1, ..., then ((p0 + p4) + (p2 + p6)) + ((p1 + p5) +
    (p3 + p7)); for B < 8 the plain sum in order."""
    B = acc.shape[1]
    if B < 8:
        s = acc[k, 0]
        for b in range(1, B):
            s += acc[k, b]
        return s
    n8 = (B // 8) * 8
    for j in range(8, n8, 8):
        for q in range(8):
            acc[k, q] += acc[k, j + q]
    for b in range(n8, B):
        acc[k, b - n8] += acc[k, b]
    left = (acc[k, 0] + acc[k, 4]) + (acc[k, 2] + acc[k, 6])
    return left + ((acc[k, 1] + acc[k, 5]) + (acc[k, 3] + acc[k, 7]))


@numba.njit(**CALLED)
def outer_sums(g, D, X, x_off, t_lo, t_hi, acc):
    """g[r, k] += sum_{t, b} D[t, r, b] X[t + x_off, k, b] over t_lo <= t < t_hi: a weight's
    gradient. Per row r: one sum per (k, sequence) over t in increasing order, in acc (>= K
    rows of B; four steps per pass, as add_product), then lane_sum."""
    R, K = g.shape
    B = acc.shape[1]
    for r in range(R):
        for k in range(K):
            for b in range(B):
                acc[k, b] = 0.0
        t = t_lo
        while t + 3 < t_hi:
            u = t + x_off
            for k in range(K):
                for b in range(B):
                    s = acc[k, b] + D[t, r, b] * X[u, k, b]
                    s = s + D[t + 1, r, b] * X[u + 1, k, b]
                    s = s + D[t + 2, r, b] * X[u + 2, k, b]
                    acc[k, b] = s + D[t + 3, r, b] * X[u + 3, k, b]
            t += 4
        if t + 1 < t_hi:
            u = t + x_off
            for k in range(K):
                for b in range(B):
                    s = acc[k, b] + D[t, r, b] * X[u, k, b]
                    acc[k, b] = s + D[t + 1, r, b] * X[u + 1, k, b]
            t += 2
        if t < t_hi:
            for k in range(K):
                for b in range(B):
                    acc[k, b] += D[t, r, b] * X[t + x_off, k, b]
        for k in range(K):
            g[r, k] += lane_sum(acc, k)


@numba.njit(**CALLED)
def row_sums(g, D, t_lo, t_hi, acc):
    """g[r] += sum_{t, b} D[t, r, b] over t_lo <= t < t_hi: a bias's gradient."""
    B = acc.shape[1]
    for r in range(g.shape[0]):
        for b in range(B):
            acc[0, b] = 0.0
        for t in range(t_lo, t_hi):
            for b in range(B):
                acc[0, b] += D[t, r, b]
        g[r] += lane_sum(acc, 0)


# --------------------------------------------------------------------- parameter layout
def layer_sizes(cell: str, layers: int, units: int, input_size: int = 1) -> list[dict]:
    """Per layer, each parameter's one-model shape in torch.nn.RNN's order (the flat layout)."""
    gc = GATES[cell] * units
    return [
        {
            "weight_ih": (gc, input_size if j == 0 else units),
            "weight_hh": (gc, units),
            "bias_ih": (gc,),
            "bias_hh": (gc,),
        }
        for j in range(layers)
    ]


@numba.njit(**INLINE)
def layer_offset(layer, gc, units, input_size):
    """Where layer `layer`'s parameters start in a model's flat vector (torch.nn's order:
    W_ih (gc, m | c), W_hh (gc, c), b_ih (gc), b_hh (gc) per layer)."""
    first = gc * (input_size + units + 2)
    return 0 if layer == 0 else first + (layer - 1) * gc * (2 * units + 2)


@numba.njit(**INLINE)
def layer_views(flat, layer, gc, units, input_size):
    """(W_ih (gc, cin), W_hh (gc, c), b_ih (gc,), b_hh (gc,)): views of one model's flat
    vector (parameters or gradients) for one layer."""
    cin = input_size if layer == 0 else units
    o = layer_offset(layer, gc, units, input_size)
    w_ih = flat[o : o + gc * cin].reshape((gc, cin))
    o += gc * cin
    w_hh = flat[o : o + gc * units].reshape((gc, units))
    o += gc * units
    return w_ih, w_hh, flat[o : o + gc], flat[o + gc : o + 2 * gc]
