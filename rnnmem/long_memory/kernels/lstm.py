"""Vanilla LSTM (long-memory.md §3.2): fused forward and hand-written BPTT, all seeds.

Per seed (torch nn.LSTMCell(1, H), gate blocks i, f, g, o of the 4H rows), p = q = 1:

    z_t  = w_ih x_t + b_ih + w_hh h_{t-1} + b_hh                         w_ih [4H,1], w_hh [4H,H]
    i, f, o = sigmoid(z_t[i], z_t[f], z_t[o]),  g = tanh(z_t[g])
    c_t  = f c_{t-1} + i g,   h_t = o tanh(c_t),   h_0 = c_0 = 0
    y^_t = w_out h_t + b_out                                             w_out [1,H], b_out [1]

Backward, with r_t = w_hh^T dz_{t+1} and e_t = dc_{t+1} f_{t+1} carried from the next step:

    dh = dy_t w_out^T + r_t,   dc = dh o (1 - tanh(c_t)^2) + e_t
    dz[i] = dc g i (1 - i),  dz[f] = dc c_{t-1} f (1 - f),  dz[g] = dc i (1 - g^2),
    dz[o] = dh tanh(c_t) o (1 - o);   dw_hh += dz h_{t-1}^T, dw_ih += dz x_t, db_ih = db_hh += dz

Stored per step: gate activations act[t, b * n H + lane] (gate-major: blocks b = i, f, g, o, so
each activation is one vector loop over the lanes), c[t, lane], tanh(c)[t, lane], h[t, lane]
(lane = s * H + k; row 0 of c and h = the zero state). A forward step: pre-activations seed by
seed, then the activations, the cell update and tanh(c) as vector loops over all lanes.
"""

from __future__ import annotations

import numba
import numpy as np

from . import common_fixed as cf

NAMES = ("w_ih", "w_hh", "b_ih", "b_hh", "w_out", "b_out")


@numba.njit(inline="always")
def _forward(w_ih, w_hh, b_ih, b_hh, w_out, b_out, x, act, c, tc, h, yhat, H):
    """Steps 0..T-1 (T = len(x)); c[0] and h[0] must hold the zero state."""
    n = w_hh.shape[0]
    L = n * H
    z = np.empty(4 * L, dtype=x.dtype)
    for t in range(x.shape[0]):
        h_prev = h[t]
        for s in range(n):
            for r in range(4 * H):  # gate block r // H, unit r % H
                acc = w_ih[s, r, 0] * x[t] + b_ih[s, r]
                for j in range(H):
                    acc += w_hh[s, r, j] * h_prev[s * H + j]
                z[(r // H) * L + s * H + r % H] = acc + b_hh[s, r]
        a = act[t]  # gate-major: i, f, g, o blocks of L lanes, each one vector loop
        cf.sigmoid_into(z[: 2 * L], a[: 2 * L])
        cf.tanh_into(z[2 * L : 3 * L], a[2 * L : 3 * L])
        cf.sigmoid_into(z[3 * L :], a[3 * L :])
        i_t, f_t, g_t, o_t = a[:L], a[L : 2 * L], a[2 * L : 3 * L], a[3 * L :]
        c_prev, c_next, tc_t, h_next = c[t], c[t + 1], tc[t], h[t + 1]
        for lane in range(L):
            c_next[lane] = f_t[lane] * c_prev[lane] + i_t[lane] * g_t[lane]
        cf.tanh_into(c_next, tc_t)
        for lane in range(L):
            h_next[lane] = o_t[lane] * tc_t[lane]
        for s in range(n):
            out = b_out[s, 0]
            for k in range(H):
                out += w_out[s, 0, k] * h_next[s * H + k]
            yhat[t, s] = out


@numba.njit(inline="always")
def _run(w_ih, w_hh, b_ih, b_hh, w_out, b_out, x, H):
    """Allocate the stores and run the forward pass over all of x."""
    n, T, dt = w_hh.shape[0], x.shape[0], x.dtype
    act = np.empty((T, 4 * n * H), dtype=dt)
    c = np.empty((T + 1, n * H), dtype=dt)
    h = np.empty((T + 1, n * H), dtype=dt)
    c[0, :] = 0.0
    h[0, :] = 0.0
    tc = np.empty((T, n * H), dtype=dt)
    yhat = np.empty((T, n), dtype=dt)
    _forward(w_ih, w_hh, b_ih, b_hh, w_out, b_out, x, act, c, tc, h, yhat, H)
    return act, c, tc, h, yhat


@numba.njit(**cf.JIT)
def _predict(w_ih, w_hh, b_ih, b_hh, w_out, b_out, x):
    if w_hh.shape[2] == 1:  # inlined with the literal: LLVM drops the hidden-unit loops
        return _run(w_ih, w_hh, b_ih, b_hh, w_out, b_out, x, 1)[4]
    return _run(w_ih, w_hh, b_ih, b_hh, w_out, b_out, x, w_hh.shape[2])[4]


@numba.njit(**cf.JIT)
def _loss_grad(w_ih, w_hh, b_ih, b_hh, w_out, b_out, x, y, n_train, n_val):
    if w_hh.shape[2] == 1:  # see _predict
        return _loss_grad_h(w_ih, w_hh, b_ih, b_hh, w_out, b_out, x, y, n_train, n_val, 1)
    return _loss_grad_h(w_ih, w_hh, b_ih, b_hh, w_out, b_out, x, y, n_train, n_val, w_hh.shape[2])


@numba.njit(inline="always")
def _loss_grad_h(w_ih, w_hh, b_ih, b_hh, w_out, b_out, x, y, n_train, n_val, H):
    n, dt = w_hh.shape[0], x.dtype
    one = dt.type(1.0)
    G = 4 * H
    act, c, tc, h, yhat = _run(w_ih, w_hh, b_ih, b_hh, w_out, b_out, x[: n_train + n_val], H)
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
    e = np.zeros(n * H, dtype=dt)  # dc_{t+1} f_{t+1}
    dz = np.empty(G, dtype=dt)
    L = n * H
    for t in range(n_train - 1, -1, -1):
        a = act[t]
        for s in range(n):
            base = s * H
            g = dy[t, s]
            g_b_out[s, 0] += g
            for k in range(H):
                lane = base + k
                ig, fg, gg, og = a[lane], a[L + lane], a[2 * L + lane], a[3 * L + lane]
                tct = tc[t, lane]
                g_w_out[s, 0, k] += g * h[t + 1, lane]
                dh = g * w_out[s, 0, k] + r[lane]
                dc = dh * og * (one - tct * tct) + e[lane]
                e[lane] = dc * fg
                dz[k] = dc * gg * ig * (one - ig)
                dz[H + k] = dc * c[t, lane] * fg * (one - fg)
                dz[2 * H + k] = dc * ig * (one - gg * gg)
                dz[3 * H + k] = dh * tct * og * (one - og)
            for q in range(G):
                g_w_ih[s, q, 0] += dz[q] * x[t]
                g_b[s, q] += dz[q]
                for j in range(H):
                    g_w_hh[s, q, j] += dz[q] * h[t, base + j]
            for j in range(H):
                acc = dt.type(0.0)
                for q in range(G):
                    acc += w_hh[s, q, j] * dz[q]
                r[base + j] = acc
    return loss_train, loss_val, g_w_ih, g_w_hh, g_b, g_w_out, g_b_out


def forward(params: dict, x, K: int | None = None) -> np.ndarray:
    """Predictions [S, T, 1] from the zero state over all T steps (K is unused)."""
    dtype = cf.param_dtype(params, NAMES)
    yhat = _predict(*[np.ascontiguousarray(params[name]) for name in NAMES], cf.series(x, dtype))
    return np.ascontiguousarray(yhat.T)[:, :, None]


def loss_grad(params: dict, x, y, n_train: int, n_val: int, K: int | None = None, active=None):
    """(train_loss [S], val_loss [S], grads) of one pass over n_train + n_val steps."""
    dtype = cf.param_dtype(params, NAMES)
    xs, ys, idx, n_seeds = cf.inputs(params, NAMES[0], dtype, x, y, n_train, n_val, active)
    out = _loss_grad(*cf.gather(params, NAMES, idx), xs, ys, n_train, n_val)
    loss_train, loss_val, g_w_ih, g_w_hh, g_b, g_w_out, g_b_out = out
    sub = dict(w_ih=g_w_ih, w_hh=g_w_hh, b_ih=g_b, b_hh=g_b.copy(), w_out=g_w_out, b_out=g_b_out)
    return cf.scatter(params, loss_train, loss_val, sub, idx, n_seeds)
