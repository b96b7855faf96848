"""Vanilla RNN (long-memory.md §3.1): fused forward and hand-written BPTT, all seeds.

Per seed, hidden size H, scalar input x_t and output (p = q = 1):

    h_t  = tanh(w_ih x_t + b_ih + w_hh h_{t-1} + b_hh),   h_0 = 0        w_ih [H,1], w_hh [H,H]
    y^_t = w_out h_t + b_out                                             w_out [1,H], b_out [1]

Backward (dy_t = dL/dy^_t, r_t = w_hh^T dz_{t+1} carried from the next step, r = 0 after the
last training step):

    dz_t = (dy_t w_out^T + r_t) * (1 - h_t^2)
    dw_hh += dz_t h_{t-1}^T,  dw_ih += dz_t x_t,  db_ih = db_hh += dz_t,  dw_out += dy_t h_t^T

States are stored as h[t, lane] (lane = s * H + k, row 0 = the zero state). A forward step:
pre-activations seed by seed, then tanh over all lanes in one vector loop, then the outputs.
"""

from __future__ import annotations

import numba
import numpy as np

from . import common_fixed as cf

NAMES = ("w_ih", "w_hh", "b_ih", "b_hh", "w_out", "b_out")


@numba.njit(inline="always")
def _forward(w_ih, w_hh, b_ih, b_hh, w_out, b_out, x, h, yhat, H):
    """Fill h[1..T] and yhat[0..T-1] (h[0] must hold the zero state)."""
    n = w_hh.shape[0]
    z = np.empty(n * H, dtype=x.dtype)
    for t in range(x.shape[0]):
        h_prev, h_next = h[t], h[t + 1]
        for s in range(n):
            base = s * H
            for i in range(H):
                acc = w_ih[s, i, 0] * x[t] + b_ih[s, i]
                for j in range(H):
                    acc += w_hh[s, i, j] * h_prev[base + j]
                z[base + i] = acc + b_hh[s, i]
        cf.tanh_into(z, h_next)  # one vector loop over all lanes
        for s in range(n):
            out = b_out[s, 0]
            for i in range(H):
                out += w_out[s, 0, i] * h_next[s * H + i]
            yhat[t, s] = out


@numba.njit(**cf.JIT)
def _predict(w_ih, w_hh, b_ih, b_hh, w_out, b_out, x):
    n, H = w_hh.shape[0], w_hh.shape[1]
    h = np.zeros((x.shape[0] + 1, n * H), dtype=x.dtype)
    yhat = np.empty((x.shape[0], n), dtype=x.dtype)
    if H == 1:  # inlined with the literal: LLVM drops the hidden-unit loops
        _forward(w_ih, w_hh, b_ih, b_hh, w_out, b_out, x, h, yhat, 1)
    else:
        _forward(w_ih, w_hh, b_ih, b_hh, w_out, b_out, x, h, yhat, H)
    return yhat


@numba.njit(**cf.JIT)
def _loss_grad(w_ih, w_hh, b_ih, b_hh, w_out, b_out, x, y, n_train, n_val):
    if w_hh.shape[1] == 1:  # see _predict
        return _loss_grad_h(w_ih, w_hh, b_ih, b_hh, w_out, b_out, x, y, n_train, n_val, 1)
    return _loss_grad_h(w_ih, w_hh, b_ih, b_hh, w_out, b_out, x, y, n_train, n_val, w_hh.shape[1])


@numba.njit(inline="always")
def _loss_grad_h(w_ih, w_hh, b_ih, b_hh, w_out, b_out, x, y, n_train, n_val, H):
    n = w_hh.shape[0]
    dt = x.dtype
    one = dt.type(1.0)
    T = n_train + n_val
    h = np.empty((T + 1, n * H), dtype=dt)
    h[0, :] = 0.0
    yhat = np.empty((T, n), dtype=dt)
    _forward(w_ih, w_hh, b_ih, b_hh, w_out, b_out, x[:T], h, yhat, H)
    loss_train = np.empty(n, dtype=dt)
    loss_val = np.empty(n, dtype=dt)
    cf.mse_losses(yhat, y, n_train, n_val, loss_train, loss_val)
    dy = np.empty((n_train, n), dtype=dt)
    cf.output_grads(yhat, y, n_train, dy)

    g_w_ih = np.zeros_like(w_ih)
    g_w_hh = np.zeros_like(w_hh)
    g_b = np.zeros_like(b_ih)
    g_w_out = np.zeros_like(w_out)
    g_b_out = np.zeros_like(b_out)
    r = np.zeros(n * H, dtype=dt)  # w_hh^T dz_{t+1}
    dz = np.empty(n * H, dtype=dt)
    for t in range(n_train - 1, -1, -1):
        for s in range(n):
            base = s * H
            g = dy[t, s]
            g_b_out[s, 0] += g
            for i in range(H):
                ht = h[t + 1, base + i]
                g_w_out[s, 0, i] += g * ht
                z = (g * w_out[s, 0, i] + r[base + i]) * (one - ht * ht)
                dz[base + i] = z
                g_w_ih[s, i, 0] += z * x[t]
                g_b[s, i] += z
                for j in range(H):
                    g_w_hh[s, i, j] += z * h[t, base + j]
            for j in range(H):
                acc = dt.type(0.0)
                for i in range(H):
                    acc += w_hh[s, i, j] * dz[base + i]
                r[base + j] = acc
    return loss_train, loss_val, g_w_ih, g_w_hh, g_b, g_w_out, g_b_out


def forward(params: dict, x, K: int | None = None) -> np.ndarray:
    """Predictions [S, T, 1] from the zero state over all T steps (K is unused)."""
    dtype = cf.param_dtype(params, NAMES)
    xs = cf.series(x, dtype)
    yhat = _predict(*[np.ascontiguousarray(params[name]) for name in NAMES], xs)
    return np.ascontiguousarray(yhat.T)[:, :, None]


def loss_grad(params: dict, x, y, n_train: int, n_val: int, K: int | None = None, active=None):
    """(train_loss [S], val_loss [S], grads) of one pass over n_train + n_val steps."""
    dtype = cf.param_dtype(params, NAMES)
    xs, ys, idx, n_seeds = cf.inputs(params, NAMES[0], dtype, x, y, n_train, n_val, active)
    out = _loss_grad(*cf.gather(params, NAMES, idx), xs, ys, n_train, n_val)
    loss_train, loss_val, g_w_ih, g_w_hh, g_b, g_w_out, g_b_out = out
    sub = dict(w_ih=g_w_ih, w_hh=g_w_hh, b_ih=g_b, b_hh=g_b.copy(), w_out=g_w_out, b_out=g_b_out)
    return cf.scatter(params, loss_train, loss_val, sub, idx, n_seeds)
