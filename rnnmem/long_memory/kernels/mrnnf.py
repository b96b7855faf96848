"""MRNNF and RNN2 (long-memory.md §3.3, 3.7): fused forward and hand-written BPTT.

The two share the recurrence and differ only in the K input-filter weights w_j (p = q = 1):
MRNNF has w_j = pi_j(d), d = 0.5 sigmoid(a) (a [1]); RNN2 has free weights w_filter [K, 1].

    F_t  = sum_{j=1..K} w_j x_{t+1-j}            (inputs before the pass start are 0)
    m_t  = tanh(w_mm m_{t-1} + b_m + w_fm F_t)    w_mm [H,H], w_fm [H,1]
    h_t  = tanh(w_hh h_{t-1} + b_h + w_xh x_t)    w_hh [H,H], w_xh [H,1]
    y^_t = tanh(w_hz h_t + b_z + w_mz m_t)        w_hz [1,H], w_mz [1,H]

F does not depend on the states, so it is one pass per epoch before the recurrence (j outer,
t inner: an axpy along t, each F_t summed over j in ascending order), then transposed to
[T, n] for the step loop (states: m[t, lane], h[t, lane], lane = s * H + k, row 0 = zero
state; each step's tanh runs as vector loops over all lanes); dL/dw likewise runs t outer,
j inner (ascending t per weight). Backward, with
du = dy (1 - y^^2) and r^h, r^m = w_hh^T dz^h_{t+1}, w_mm^T dz^m_{t+1} carried back:

    dz^h_t = (du w_hz^T + r^h) (1 - h_t^2),   dz^m_t = (du w_mz^T + r^m) (1 - m_t^2)
    dF_t   = w_fm^T dz^m_t,   dL/dw_j = sum_{t < n_train} dF_t x_{t+1-j}
    MRNNF: dL/dd = sum_j dL/dw_j dpi_j/dd,   dL/da = dL/dd 0.5 sigmoid(a) (1 - sigmoid(a))

Entry points: forward_mrnnf / loss_grad_mrnnf and forward_rnn2 / loss_grad_rnn2 (the unused_*
parameters of both get zero gradients).
"""

from __future__ import annotations

import numba
import numpy as np

from . import common_fixed as cf
from . import filters

# The recurrence's parameters, in the kernels' argument order.
CORE = ("w_mm", "b_m", "w_fm", "w_hh", "b_h", "w_xh", "w_hz", "b_z", "w_mz")


@numba.njit(**cf.JIT)
def _filtered(w, x):
    """F[s, t] = sum_j w[s, j] x[t - j] (0-based j; x before 0 is 0), for t < len(x)."""
    n, K = w.shape
    T = x.shape[0]
    F = np.zeros((n, T), dtype=x.dtype)
    for s in range(n):
        Fs = F[s]
        for j in range(min(K, T)):
            wj, dst, src = w[s, j], Fs[j:], x[: T - j]
            for u in range(T - j):  # 1-D views indexed from 0: numba's loop vectorises
                dst[u] += wj * src[u]
    return F


@numba.njit(**cf.JIT)
def _filter_grad(dF, x, K):
    """dw[s, j] = sum_t dF[s, t] x[t - j] over t < dF.shape[1], in ascending t per (s, j)."""
    n, T = dF.shape
    xr = x[:T][::-1].copy()  # x[t - j] = xr[T - 1 - t + j]: contiguous in j
    dw = np.zeros((n, K), dtype=dF.dtype)
    for s in range(n):
        dws = dw[s]
        for t in range(T):
            g, src = dF[s, t], xr[T - 1 - t :]
            for j in range(min(K, t + 1)):
                dws[j] += g * src[j]
    return dw


@numba.njit(**cf.JIT)
def _pi_of_a(a, K):
    """w[s] = pi_1..pi_K(d_s), dw/dd [n, K], d = 0.5 sigmoid(a[s, 0]); and dd/da [n]."""
    n = a.shape[0]
    w = np.empty((n, K), dtype=a.dtype)
    gw = np.empty((n, K), dtype=a.dtype)
    dd_da = np.empty(n, dtype=a.dtype)
    half = a.dtype.type(0.5)
    for s in range(n):
        sg = cf.sigmoid(a[s, 0])
        filters.fill_pi_and_grad(half * sg, w[s], gw[s])
        dd_da[s] = half * sg * (a.dtype.type(1.0) - sg)
    return w, gw, dd_da


@numba.njit(**cf.JIT)
def _grad_a(dw, gw, dd_da):
    """dL/da[s, 0] = (sum_j dL/dw_j dpi_j/dd) dd/da, summed in ascending j."""
    n, K = dw.shape
    ga = np.empty((n, 1), dtype=dw.dtype)
    for s in range(n):
        acc = dw.dtype.type(0.0)
        for j in range(K):
            acc += dw[s, j] * gw[s, j]
        ga[s, 0] = acc * dd_da[s]
    return ga


@numba.njit(inline="always")
def _forward(w_mm, b_m, w_fm, w_hh, b_h, w_xh, w_hz, b_z, w_mz, x, F, m, h, yhat, H):
    """Steps 0..T-1; m[0] and h[0] must hold the zero state. F: [T, n]."""
    n = w_hh.shape[0]
    L = n * H
    z = np.empty(2 * L, dtype=x.dtype)  # pre-activations: m block, then h block
    zo = np.empty(n, dtype=x.dtype)
    for t in range(x.shape[0]):
        m_prev, h_prev, m_next, h_next = m[t], h[t], m[t + 1], h[t + 1]
        for s in range(n):
            base = s * H
            for i in range(H):
                am = b_m[s, i] + w_fm[s, i, 0] * F[t, s]
                ah = b_h[s, i] + w_xh[s, i, 0] * x[t]
                for j in range(H):
                    am += w_mm[s, i, j] * m_prev[base + j]
                    ah += w_hh[s, i, j] * h_prev[base + j]
                z[base + i] = am
                z[L + base + i] = ah
        cf.tanh_into(z[:L], m_next)  # vector loops over all lanes
        cf.tanh_into(z[L:], h_next)
        for s in range(n):
            out = b_z[s, 0]
            for i in range(H):
                out += w_hz[s, 0, i] * h_next[s * H + i] + w_mz[s, 0, i] * m_next[s * H + i]
            zo[s] = out
        cf.tanh_into(zo, yhat[t])


@numba.njit(inline="always")
def _run(w_mm, b_m, w_fm, w_hh, b_h, w_xh, w_hz, b_z, w_mz, x, F, H):
    n, T, dt = w_hh.shape[0], x.shape[0], x.dtype
    m = np.empty((T + 1, n * H), dtype=dt)
    h = np.empty((T + 1, n * H), dtype=dt)
    m[0, :] = 0.0
    h[0, :] = 0.0
    yhat = np.empty((T, n), dtype=dt)
    _forward(w_mm, b_m, w_fm, w_hh, b_h, w_xh, w_hz, b_z, w_mz, x, F, m, h, yhat, H)
    return m, h, yhat


@numba.njit(**cf.JIT)
def _predict(w, w_mm, b_m, w_fm, w_hh, b_h, w_xh, w_hz, b_z, w_mz, x):
    F = np.ascontiguousarray(_filtered(w, x).T)  # [T, n]: the step loop reads a row per step
    if w_hh.shape[1] == 1:  # inlined with the literal: LLVM drops the hidden-unit loops
        return _run(w_mm, b_m, w_fm, w_hh, b_h, w_xh, w_hz, b_z, w_mz, x, F, 1)[2]
    return _run(w_mm, b_m, w_fm, w_hh, b_h, w_xh, w_hz, b_z, w_mz, x, F, w_hh.shape[1])[2]


@numba.njit(**cf.JIT)
def _loss_grad(w, w_mm, b_m, w_fm, w_hh, b_h, w_xh, w_hz, b_z, w_mz, x, y, n_train, n_val):
    """Losses, the gradients of CORE (in order) and dL/dw [n, K]."""
    H = w_hh.shape[1]
    if H == 1:  # see _predict
        return _loss_grad_h(w, w_mm, b_m, w_fm, w_hh, b_h, w_xh, w_hz, b_z, w_mz, x, y,
                            n_train, n_val, 1)  # fmt: skip
    return _loss_grad_h(w, w_mm, b_m, w_fm, w_hh, b_h, w_xh, w_hz, b_z, w_mz, x, y,
                        n_train, n_val, H)  # fmt: skip


@numba.njit(inline="always")
def _loss_grad_h(w, w_mm, b_m, w_fm, w_hh, b_h, w_xh, w_hz, b_z, w_mz, x, y, n_train, n_val, H):
    n, dt = w_hh.shape[0], x.dtype
    one = dt.type(1.0)
    xs = x[: n_train + n_val]
    F = np.ascontiguousarray(_filtered(w, xs).T)
    m, h, yhat = _run(w_mm, b_m, w_fm, w_hh, b_h, w_xh, w_hz, b_z, w_mz, xs, F, H)
    loss_train = np.empty(n, dtype=dt)
    loss_val = np.empty(n, dtype=dt)
    cf.mse_losses(yhat, y, n_train, n_val, loss_train, loss_val)
    dy = np.empty((n_train, n), dtype=dt)
    cf.output_grads(yhat, y, n_train, dy)

    g_w_mm, g_b_m, g_w_fm = np.zeros_like(w_mm), np.zeros_like(b_m), np.zeros_like(w_fm)
    g_w_hh, g_b_h, g_w_xh = np.zeros_like(w_hh), np.zeros_like(b_h), np.zeros_like(w_xh)
    g_w_hz, g_b_z, g_w_mz = np.zeros_like(w_hz), np.zeros_like(b_z), np.zeros_like(w_mz)
    rh = np.zeros(n * H, dtype=dt)  # w_hh^T dz^h_{t+1}
    rm = np.zeros(n * H, dtype=dt)  # w_mm^T dz^m_{t+1}
    zh = np.empty(n * H, dtype=dt)
    zm = np.empty(n * H, dtype=dt)
    dF = np.empty((n_train, n), dtype=dt)
    for t in range(n_train - 1, -1, -1):
        for s in range(n):
            base = s * H
            yt = yhat[t, s]
            du = dy[t, s] * (one - yt * yt)
            g_b_z[s, 0] += du
            acc_f = dt.type(0.0)
            for i in range(H):
                ht, mt = h[t + 1, base + i], m[t + 1, base + i]
                g_w_hz[s, 0, i] += du * ht
                g_w_mz[s, 0, i] += du * mt
                a_h = (du * w_hz[s, 0, i] + rh[base + i]) * (one - ht * ht)
                a_m = (du * w_mz[s, 0, i] + rm[base + i]) * (one - mt * mt)
                zh[base + i], zm[base + i] = a_h, a_m
                g_b_h[s, i] += a_h
                g_w_xh[s, i, 0] += a_h * x[t]
                g_b_m[s, i] += a_m
                g_w_fm[s, i, 0] += a_m * F[t, s]
                acc_f += w_fm[s, i, 0] * a_m
                for j in range(H):
                    g_w_hh[s, i, j] += a_h * h[t, base + j]
                    g_w_mm[s, i, j] += a_m * m[t, base + j]
            dF[t, s] = acc_f
            for j in range(H):
                acc_h = dt.type(0.0)
                acc_m = dt.type(0.0)
                for i in range(H):
                    acc_h += w_hh[s, i, j] * zh[base + i]
                    acc_m += w_mm[s, i, j] * zm[base + i]
                rh[base + j] = acc_h
                rm[base + j] = acc_m
    g_w = _filter_grad(np.ascontiguousarray(dF.T), xs, w.shape[1])
    grads = (g_w_mm, g_b_m, g_w_fm, g_w_hh, g_b_h, g_w_xh, g_w_hz, g_b_z, g_w_mz)
    return loss_train, loss_val, grads, g_w


def _check(params, first, K):
    names = (first, *CORE)
    dtype = cf.param_dtype(params, names)
    assert params["w_fm"].shape[2] == 1 and params["w_hz"].shape[1] == 1, "p = q = 1 only"
    return names, dtype


def forward_mrnnf(params: dict, x, K: int) -> np.ndarray:
    """MRNNF predictions [S, T, 1] from the zero state over all T steps."""
    names, dtype = _check(params, "a", K)
    a, *core = cf.gather(params, names, np.arange(params["a"].shape[0]))
    w = _pi_of_a(a, K)[0]
    yhat = _predict(w, *core, cf.series(x, dtype))
    return np.ascontiguousarray(yhat.T)[:, :, None]


def forward_rnn2(params: dict, x, K: int) -> np.ndarray:
    """RNN2 predictions [S, T, 1] from the zero state over all T steps."""
    names, dtype = _check(params, "w_filter", K)
    w, *core = cf.gather(params, names, np.arange(params["w_filter"].shape[0]))
    assert w.shape[1:] == (K, 1), f"w_filter must be [S, {K}, 1], got {w.shape}"
    yhat = _predict(np.ascontiguousarray(w[:, :, 0]), *core, cf.series(x, dtype))
    return np.ascontiguousarray(yhat.T)[:, :, None]


def _loss_grad_any(params, first, x, y, n_train, n_val, K, active):
    names, dtype = _check(params, first, K)
    xs, ys, idx, n_seeds = cf.inputs(params, first, dtype, x, y, n_train, n_val, active)
    lead, *core = cf.gather(params, names, idx)
    if first == "a":
        w, gw, dd_da = _pi_of_a(lead, K)
    else:
        assert lead.shape[1:] == (K, 1), f"w_filter must be [S, {K}, 1], got {lead.shape}"
        w = np.ascontiguousarray(lead[:, :, 0])
    loss_train, loss_val, grads, g_w = _loss_grad(w, *core, xs, ys, n_train, n_val)
    sub = dict(zip(CORE, grads, strict=True))
    sub[first] = _grad_a(g_w, gw, dd_da) if first == "a" else g_w[:, :, None]
    return cf.scatter(params, loss_train, loss_val, sub, idx, n_seeds)


def loss_grad_mrnnf(params: dict, x, y, n_train: int, n_val: int, K: int, active=None):
    """MRNNF: (train_loss [S], val_loss [S], grads) of one pass over n_train + n_val steps."""
    return _loss_grad_any(params, "a", x, y, n_train, n_val, K, active)


def loss_grad_rnn2(params: dict, x, y, n_train: int, n_val: int, K: int, active=None):
    """RNN2: (train_loss [S], val_loss [S], grads) of one pass over n_train + n_val steps."""
    return _loss_grad_any(params, "w_filter", x, y, n_train, n_val, K, active)
