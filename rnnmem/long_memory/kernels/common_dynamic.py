"""Plumbing and shared loops of the kernels of mrnn, mlstm, rwa and mist.

Layout: inside these kernels every array keeps the seed axis LAST ([..., n], n = active seeds),
so that the innermost loop of every step runs over independent seeds. The loops without
transcendental calls then compile to SIMD code (one seed per lane), and the latency-bound
chains (the K-term product chain of pi_j(d), tanh/exp) of different seeds overlap. A seed's
numbers never depend on the other lanes: no reduction crosses the seed axis, every per-seed
sum runs in a fixed order, and without fastmath LLVM neither reassociates nor contracts, so a
vector lane and the scalar remainder loop give the same bits.

Parameters travel as `kernel shapes`: each model lists, per parameter, its single-seed shape
with the p = q = 1 axes dropped (e.g. mrnn's w_hd [1, H] -> (H,)); `pack` turns params[name]
[S, *shape] into [*kernel_shape, n_lanes] (zero-parameter lanes pad n up to a multiple of
LANES) and `unpack` turns the kernel's gradients back.

The filter sweeps run the recurrence of filters.fill_pi_and_grad for many seeds at once, in
the params' dtype: r_j = (j - 1 - d) / j, pi_j = pi_{j-1} r_j (the same arithmetic, so in
float64 pi_j has fill_pi's bits), and g_j = g_{j-1} r_j - pi_{j-1} * (1 / j) for d pi_j / d d
(a multiply by the rounded 1 / j instead of fill_pi_and_grad's division: within a few ulp of
it, and 20% off MRNN's whole epoch, since the sweep is bound by the divider's throughput).
"""

from __future__ import annotations

import threading

import numba
import numpy as np
from numba import types
from numba.extending import overload

from rnnmem.long_memory.kernels.interface import param_dtype, series  # noqa: F401 (re-exported)

# error_model="numpy": IEEE division (no zero-division branch), which lets the loops vectorise.
JIT = dict(cache=True, nogil=True, error_model="numpy")
# Seeds are padded to a multiple of this many lanes (8 float32 in a 256-bit register): a seed
# loop without a scalar remainder runs about 1.5x faster (measured on the filter sweep).
LANES = 8


def tanh(a):
    """tanh of a float32 or float64 scalar, for the kernels (see the overload below)."""
    return np.tanh(a)


@overload(tanh, jit_options=dict(error_model="numpy"))
def _tanh_kernel(a):
    """float64: libm's tanh. float32: (e - 1) / (e + 1) with e = exp(2 a) in float64, rounded
    once; within 0.5000001 ulp of the true tanh over a dense sample of float32 (glibc's tanhf:
    2.1 ulp), and about twice as fast, since tanhf goes through expm1f."""
    if a == types.float32:

        def tanh32(a):
            x = np.float64(a)
            if abs(x) < 2.0**-12:  # tanh(x) = x (1 - x^2 / 3 + ...): x is the rounded value
                return a
            if x > 10.0:  # tanh(10) rounds to 1 (and exp cannot overflow); NaN falls through
                return np.float32(1.0)
            if x < -10.0:
                return np.float32(-1.0)
            e = np.exp(2.0 * x)
            return np.float32((e - 1.0) / (e + 1.0))

        return tanh32
    return lambda a: np.tanh(a)


def pack(params: dict, shapes: dict, idx: np.ndarray) -> list[np.ndarray]:
    """params[name][idx] as C-contiguous [*kernel_shape, n_lanes] arrays, in the order of
    `shapes`; n_lanes rounds len(idx) up to a multiple of LANES with zero-parameter lanes,
    so that the seed loops have no scalar remainder (the padding lanes are discarded)."""
    n = len(idx)
    n_lanes = -(-n // LANES) * LANES
    out = []
    for name, shape in shapes.items():
        value = params[name][idx]
        assert value[0].size == int(np.prod(shape)), f"{name}: shape {value.shape[1:]} vs {shape}"
        lanes = np.zeros(shape + (n_lanes,), dtype=value.dtype)
        lanes[..., :n] = np.moveaxis(value.reshape((n,) + shape), 0, -1)
        out.append(lanes)
    return out


def unpack(params: dict, shapes: dict, kernel_grads, idx: np.ndarray) -> dict:
    """Kernel gradients [*kernel_shape, n] -> {name: [S, *shape]}, zero for inactive seeds and
    for the parameters not in `shapes` (the unused ones), in the order of params."""
    sub = dict(zip(shapes, kernel_grads, strict=True)) if len(idx) else {}
    grads = {}
    for name, value in params.items():
        full = np.zeros_like(value)
        if name in sub:
            lanes = np.moveaxis(sub[name][..., : len(idx)], -1, 0)
            full[idx] = lanes.reshape((len(idx),) + value.shape[1:])
        grads[name] = full
    return grads


# Scratch memory reused across calls (one flat array per thread and dtype): allocating the
# ~10 MB of trajectories afresh made every call page-fault (~6 ms of system time per call).
_POOL = threading.local()


def _work(dtype) -> np.ndarray:
    return getattr(_POOL, np.dtype(dtype).name, np.empty(0, dtype=dtype))


def _keep(work: np.ndarray) -> None:
    setattr(_POOL, work.dtype.name, work)


def run_forward(kernel, shapes: dict, params: dict, x, K: int) -> np.ndarray:
    """yhat [S, T, 1] from kernel(x, K, work, *packed params) -> (yhat [T, n_lanes], work)."""
    dtype = param_dtype(params, list(shapes))
    xs = series(x, dtype)
    n_seeds = params[next(iter(shapes))].shape[0]
    yhat, work = kernel(xs, K, _work(dtype), *pack(params, shapes, np.arange(n_seeds)))
    _keep(work)
    return yhat[:, :n_seeds].T.copy()[:, :, None]  # a copy: yhat lives in the scratch memory


def run_loss_grad(kernel, shapes, params, x, y, n_train, n_val, K, active):
    """(train_loss [S], val_loss [S], grads) from kernel(x, y, n_train, n_val, K, work,
    *packed) -> (train [n_lanes], val [n_lanes], work, *grads), on the active seeds only."""
    dtype = param_dtype(params, list(shapes))
    xs, ys = series(x, dtype), series(y, dtype, "y")
    assert n_train >= 1 and n_val >= 0, (n_train, n_val)
    T = n_train + n_val
    assert xs.shape[0] >= T and ys.shape[0] >= T, f"series shorter than {n_train} + {n_val}"
    n_seeds = params[next(iter(shapes))].shape[0]
    active = np.ones(n_seeds, bool) if active is None else np.asarray(active, dtype=bool)
    assert active.shape == (n_seeds,), f"active must have shape [{n_seeds}]"
    idx = np.flatnonzero(active)
    train = np.full(n_seeds, np.nan, dtype=dtype)
    val = np.full(n_seeds, np.nan, dtype=dtype)
    if len(idx) == 0:
        return train, val, unpack(params, shapes, [], idx)
    out = kernel(xs[:T], ys[:T], n_train, n_val, K, _work(dtype), *pack(params, shapes, idx))
    _keep(out[2])
    train[idx], val[idx] = out[0][: len(idx)], out[1][: len(idx)]
    return train, val, unpack(params, shapes, out[3:], idx)


@numba.njit(**JIT)
def ensure(work, size):
    """`work` if it holds at least `size` elements, else a new, larger scratch array."""
    return work if work.shape[0] >= size else np.empty(size, dtype=work.dtype)


@numba.njit(**JIT)
def take2(work, pos, a, b):
    """An [a, b] view of work[pos:], and the next free position (contents undefined)."""
    return work[pos : pos + a * b].reshape((a, b)), pos + a * b


@numba.njit(**JIT)
def take3(work, pos, a, b, c):
    """An [a, b, c] view of work[pos:], and the next free position (contents undefined)."""
    return work[pos : pos + a * b * c].reshape((a, b, c)), pos + a * b * c


@numba.njit(**JIT)
def losses(yhat, y, n_train, n_val):
    """Per-seed MSE over steps [0, n_train) and [n_train, n_train + n_val) (NaN if n_val = 0),
    summed in time order in float64 and rounded once to yhat's dtype."""
    n = yhat.shape[1]
    train = np.empty(n, dtype=yhat.dtype)
    val = np.empty(n, dtype=yhat.dtype)
    acc = np.zeros(n)
    for t in range(n_train):
        for s in range(n):
            e = np.float64(yhat[t, s] - y[t])
            acc[s] += e * e
    for s in range(n):
        train[s] = acc[s] / n_train
        acc[s] = 0.0
    for t in range(n_train, n_train + n_val):
        for s in range(n):
            e = np.float64(yhat[t, s] - y[t])
            acc[s] += e * e
    for s in range(n):
        val[s] = acc[s] / n_val if n_val > 0 else np.nan
    return train, val


@numba.njit(**JIT)
def output_grad_row(yhat, y, t, n_train, dy):
    """dy[s] = d train_loss[s] / d yhat[t, s] = 2 (yhat[t, s] - y[t]) / n_train."""
    scale = yhat.dtype.type(2.0) / yhat.dtype.type(n_train)
    for s in range(dy.shape[0]):
        dy[s] = scale * (yhat[t, s] - y[t])


@numba.njit(**JIT)
def pi_sweep_scalar(d, x, t, n_lags, f, g, pv, pg):
    """Filter of a series shared by all seeds: f[s] = sum_{j=1..n_lags} pi_j(d[s]) x[t + 1 - j],
    g[s] = the same with d pi_j / d d (both summed in increasing j); pv, pg are scratch [n]."""
    dt = d.dtype.type
    n = d.shape[0]
    for s in range(n):
        pv[s] = dt(1.0)
        pg[s] = dt(0.0)
        f[s] = dt(0.0)
        g[s] = dt(0.0)
    for j in range(1, n_lags + 1):
        jm1, jf, xj = dt(j - 1), dt(j), x[t + 1 - j]
        ij = dt(1.0) / jf
        for s in range(n):
            r = (jm1 - d[s]) / jf
            gj = pg[s] * r - pv[s] * ij
            pj = pv[s] * r
            pv[s] = pj
            pg[s] = gj
            f[s] += pj * xj
            g[s] += gj * xj


@numba.njit(**JIT)
def pi_sweep_scalar_nograd(d, x, t, n_lags, f, pv):
    """As pi_sweep_scalar without the derivative (the same f bits)."""
    dt = d.dtype.type
    n = d.shape[0]
    for s in range(n):
        pv[s] = dt(1.0)
        f[s] = dt(0.0)
    for j in range(1, n_lags + 1):
        jm1, jf, xj = dt(j - 1), dt(j), x[t + 1 - j]
        for s in range(n):
            pj = pv[s] * ((jm1 - d[s]) / jf)
            pv[s] = pj
            f[s] += pj * xj


@numba.njit(**JIT)
def pi_sweep_rows(d, hist, t, k, n_lags, f, g, pv, pg, with_grad):
    """Filter of per-seed histories: f[s] = sum_{j=1..n_lags} pi_j(d[s]) hist[t - j, k, s],
    g[s] = the same with d pi_j / d d (only if with_grad); pv, pg scratch [n]."""
    dt = d.dtype.type
    n = d.shape[0]
    for s in range(n):
        pv[s] = dt(1.0)
        pg[s] = dt(0.0)
        f[s] = dt(0.0)
        g[s] = dt(0.0)
    for j in range(1, n_lags + 1):
        jm1, jf = dt(j - 1), dt(j)
        ij = dt(1.0) / jf
        row = hist[t - j, k]
        if with_grad:
            for s in range(n):
                r = (jm1 - d[s]) / jf
                gj = pg[s] * r - pv[s] * ij
                pj = pv[s] * r
                pv[s] = pj
                pg[s] = gj
                f[s] += pj * row[s]
                g[s] += gj * row[s]
        else:
            for s in range(n):
                pj = pv[s] * ((jm1 - d[s]) / jf)
                pv[s] = pj
                f[s] += pj * row[s]


@numba.njit(**JIT)
def pi_scatter_rows(d, dc, grad_hist, t, k, n_lags, pv):
    """BPTT through the cell filter: grad_hist[t - j, k, s] -= pi_j(d[s]) dc[s], j = 1..n_lags
    (the weight of c_{t-j} in c_t is -pi_j(d_t))."""
    dt = d.dtype.type
    n = d.shape[0]
    for s in range(n):
        pv[s] = dt(1.0)
    for j in range(1, n_lags + 1):
        jm1, jf = dt(j - 1), dt(j)
        row = grad_hist[t - j, k]
        for s in range(n):
            pj = pv[s] * ((jm1 - d[s]) / jf)
            pv[s] = pj
            row[s] -= pj * dc[s]
