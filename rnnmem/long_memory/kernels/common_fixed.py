"""Plumbing shared by the kernels of rnn, lstm, mrnnf, rnn2 and mlstmf: checks and seed bookkeeping.

The numba kernels work on the *active* seeds only, gathered into contiguous arrays of shape
[n, *shape] (n = number of active seeds). State arrays inside the kernels are laid out
[time, lane] with lane = s * H + k, so that the inner loops of a time step run over the
independent seeds (whose scalar recurrences are latency-bound one by one) and the
elementwise parts vectorise across them. Every per-seed sum is taken in a fixed order inside
the seed's own lane, so a seed's numbers do not depend on which other seeds are in the batch.

tanh, sigmoid and exp: glibc's tanh costs about 20 ns a call here and its exp a few, and a call
cannot be vectorised, so the step loops would be bound by them. This module has call-free,
dtype-preserving versions (Cephes): exp(x) = 2^k exp(r) with x = k ln2 + r, exp(r) by a
polynomial (float32) or a Pade form (float64), 2^k built from the exponent bits;
tanh(z) = 1 - 2 / (exp(2|z|) + 1) with the sign restored for |z| > 0.625 and an odd polynomial
(float32) or rational form (float64) below, both computed and selected (no branch);
sigmoid(z) = 1 / (1 + exp(-z)). Measured against a correctly rounded result: exp within 1 ulp,
tanh and sigmoid within 2.5 ulp (tests: within 2.5 ulp of glibc's float64 results); NaN stays NaN,
tanh(+-inf) = +-1; results that would be below ~1e-38 (float32) or ~1e-308 (float64) flush to 0.
Kernels apply them to whole rows of lanes with tanh_into / sigmoid_into, loops that LLVM
vectorises (one lane's result is the same whether it lands in a vector or in the scalar tail:
the same IEEE operations, no FMA contraction without fastmath).

Every model kernel compiles its step loops twice, for H = 1 and for general H: the loops are
inline functions taking H as an argument, called once with the literal 1 (so LLVM drops the
hidden-unit loops, which matters at H = 1) and once with the runtime H.

Also here: input checks (p = q = 1, float32/float64, shared series), the gather of the active
seeds, and the scatter of their losses (NaN elsewhere) and gradients (0 elsewhere).
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

from rnnmem.long_memory.kernels.interface import param_dtype, series  # noqa: F401 (re-exported)

# Every kernel module compiles with these options (error_model="numpy": no Python-style
# zero-division checks in the inner loops; IEEE semantics, so an inf/NaN stays in its seed).
JIT = dict(cache=True, nogil=True, error_model="numpy")


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


@numba.njit(error_model="numpy")
def _exp32(x):
    """Cephes expf, call-free: x = k ln2 + r, exp(r) by a degree-6 polynomial, 2^k from bits."""
    xc = x if x > np.float32(-87.0) else np.float32(-87.0)  # NaN -> -87, restored at the end
    xc = xc if xc < np.float32(88.72283) else np.float32(88.72283)
    k = np.floor(xc * np.float32(1.44269504088896341) + np.float32(0.5))
    r = xc - k * np.float32(0.693359375) + k * np.float32(2.12194440e-4)
    p = np.float32(1.9875691500e-4) * r + np.float32(1.3981999507e-3)
    p = p * r + np.float32(8.3334519073e-3)
    p = p * r + np.float32(4.1665795894e-2)
    p = p * r + np.float32(1.6666665459e-1)
    p = p * r + np.float32(5.0000001201e-1)
    y = p * (r * r) + r + np.float32(1.0)
    res = (y + y) * _bits_f32((np.int32(k) + np.int32(126)) << np.int32(23))  # y 2 2^(k-1)
    res = res if x < np.float32(88.72283) else np.float32(np.inf)
    res = res if x > np.float32(-87.0) else np.float32(0.0)  # (exp(-87) = 1.6e-38)
    return res if x == x else x


@numba.njit(error_model="numpy")
def _exp64(x):
    """Cephes exp, call-free: x = k ln2 + r, exp(r) by a (2, 3) Pade form, 2^k from bits."""
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


@numba.njit(inline="always", error_model="numpy")
def _tanh32(z):
    one = np.float32(1.0)
    az = abs(z)
    big = one - np.float32(2.0) / (_exp32(az + az) + one)
    big = -big if z < 0 else big
    s = z * z
    p = (np.float32(-5.70498872745e-3) * s + np.float32(2.06390887954e-2)) * s
    p = ((p - np.float32(5.37397155531e-2)) * s + np.float32(1.33314422036e-1)) * s
    small = (p - np.float32(3.33332819422e-1)) * s * z + z
    return big if az > np.float32(0.625) else small  # both computed: a select, not a branch


@numba.njit(inline="always", error_model="numpy")
def _tanh64(z):
    az = abs(z)
    big = 1.0 - 2.0 / (_exp64(az + az) + 1.0)
    big = -big if z < 0 else big
    s = z * z
    p = (-9.64399179425052238628e-1 * s - 9.92877231001918586564e1) * s - 1.61468768441708447952e3
    q = ((s + 1.12811678491632931402e2) * s + 2.23548839060100448583e3) * s
    small = z + z * s * (p / (q + 4.84406305325125486048e3))
    return big if az > 0.625 else small


@numba.njit(inline="always", error_model="numpy")
def _sigmoid32(z):
    return np.float32(1.0) / (np.float32(1.0) + _exp32(-z))


@numba.njit(inline="always", error_model="numpy")
def _sigmoid64(z):
    return 1.0 / (1.0 + _exp64(-z))


@overload(tanh, jit_options={"error_model": "numpy"}, inline="always")
def _tanh_overload(z):
    if z == types.float32:
        return lambda z: _tanh32(z)
    if z == types.float64:
        return lambda z: _tanh64(z)


@overload(sigmoid, jit_options={"error_model": "numpy"}, inline="always")
def _sigmoid_overload(z):
    if z == types.float32:
        return lambda z: _sigmoid32(z)
    if z == types.float64:
        return lambda z: _sigmoid64(z)


@numba.njit(error_model="numpy")
def tanh_into(src, dst):
    """dst[i] = tanh(src[i]) over 1-D arrays (indexed from 0, so the loop vectorises)."""
    for i in range(src.shape[0]):
        dst[i] = tanh(src[i])


@numba.njit(error_model="numpy")
def sigmoid_into(src, dst):
    """dst[i] = sigmoid(src[i]) over 1-D arrays."""
    for i in range(src.shape[0]):
        dst[i] = sigmoid(src[i])


def active_index(n_seeds: int, active) -> np.ndarray:
    """Indices of the active seeds (all seeds when `active` is None)."""
    if active is None:
        return np.arange(n_seeds)
    active = np.asarray(active, dtype=bool)
    assert active.shape == (n_seeds,), f"active must have shape [{n_seeds}], got {active.shape}"
    return np.flatnonzero(active)


def gather(params: dict, names: tuple[str, ...], idx: np.ndarray) -> list[np.ndarray]:
    """The named parameters of the seeds `idx`, each C-contiguous [n, *shape]."""
    n_seeds = params[names[0]].shape[0]
    if idx.shape[0] == n_seeds:  # all active: no copy unless the caller's array is strided
        return [np.ascontiguousarray(params[name]) for name in names]
    return [np.ascontiguousarray(params[name][idx]) for name in names]


def scatter_losses(loss: np.ndarray, idx: np.ndarray, n_seeds: int) -> np.ndarray:
    """Per-active-seed losses [n] -> [S], NaN for the inactive seeds."""
    out = np.full(n_seeds, np.nan, dtype=loss.dtype)
    out[idx] = loss
    return out


def scatter_grads(params: dict, sub_grads: dict, idx: np.ndarray) -> dict:
    """Gradients of the active seeds -> one [S, *shape] array per parameter (zeros elsewhere,
    zeros for parameters missing from `sub_grads`, e.g. the unused ones), in params' order."""
    grads = {}
    for name, value in params.items():
        full = np.zeros_like(value)
        if name in sub_grads:
            full[idx] = sub_grads[name]
        grads[name] = full
    return grads


def inputs(params: dict, first: str, dtype, x, y, n_train: int, n_val: int, active):
    """The series as 1-D arrays of `dtype`, checked against the split, and the active seeds:
    (xs, ys, idx, n_seeds). `first` names any parameter (for the seed count)."""
    xs, ys = series(x, dtype), series(y, dtype, "y")
    check_lengths(xs, ys, n_train, n_val)
    n_seeds = params[first].shape[0]
    return xs, ys, active_index(n_seeds, active), n_seeds


def scatter(params: dict, loss_train, loss_val, sub_grads: dict, idx, n_seeds: int):
    """The kernel's results for the active seeds -> loss_grad's (train [S], val [S], grads)."""
    return (
        scatter_losses(loss_train, idx, n_seeds),
        scatter_losses(loss_val, idx, n_seeds),
        scatter_grads(params, sub_grads, idx),
    )


def check_lengths(x: np.ndarray, y: np.ndarray, n_train: int, n_val: int) -> None:
    assert n_train >= 1 and n_val >= 0, (n_train, n_val)
    assert x.shape[0] >= n_train + n_val, f"x has {x.shape[0]} steps < {n_train} + {n_val}"
    assert y.shape[0] >= n_train + n_val, f"y has {y.shape[0]} steps < {n_train} + {n_val}"


@numba.njit(**JIT)
def mse_losses(yhat, y, n_train, n_val, loss_train, loss_val):
    """loss_train[s] = mean_{t < n_train} (yhat[t, s] - y[t])^2; loss_val over the next n_val
    steps (NaN when n_val = 0). Sums in time order, in the dtype of yhat."""
    zero = yhat.dtype.type(0.0)
    for s in range(yhat.shape[1]):
        acc = zero
        for t in range(n_train):
            e = yhat[t, s] - y[t]
            acc += e * e
        loss_train[s] = acc / yhat.dtype.type(n_train)
        acc = zero
        for t in range(n_train, n_train + n_val):
            e = yhat[t, s] - y[t]
            acc += e * e
        loss_val[s] = acc / yhat.dtype.type(n_val)  # 0 / 0 = NaN when n_val = 0


@numba.njit(**JIT)
def output_grads(yhat, y, n_train, dy):
    """dy[t, s] = d train_loss[s] / d yhat[t, s] = 2 (yhat - y) / n_train, t < n_train."""
    scale = yhat.dtype.type(2.0) / yhat.dtype.type(n_train)
    for t in range(n_train):
        for s in range(yhat.shape[1]):
            dy[t, s] = scale * (yhat[t, s] - y[t])
