"""MLSTM, memory-augmented LSTM with dynamic d (long-memory.md §3.6): fused forward and BPTT.

Per seed, hidden size H, scalar input x_t (p = q = 1); h_0 = 0, d_0 = 0, cells before the start
of the pass are 0; u_t = [x_t, h_{t-1}]:

    i_t  = sigmoid(w_i u_t + b_i),  o_t = sigmoid(w_o u_t + b_o),  g_t = tanh(w_c u_t + b_c)
    d_t  = 0.5 sigmoid(w_f [x_t, h_{t-1}, d_{t-1}] + b_f)                       (per unit)
    c_t  = sum_{j=1..K} (-pi_j(d_t)) c_{t-j} + i_t g_t     (every lag uses the current d_t)
    h_t  = o_t tanh(c_t),   y^_t = w_out h_t + b_out

Backward, per training step t in reverse; dc_t collects, besides the direct path through h_t,
the contributions -pi_j(d_{t+j}) dc_{t+j} scattered by the later cells:

    dc_t = dC_t + dh_t o_t (1 - tanh^2 c_t)
    dC_{t-j} -= pi_j(d_t) dc_t, j = 1..K      (pi_j(d_t) recomputed from d_t: no [T, K] storage)
    dd_t = (dd from step t+1) - dc_t P_t,  P_t = sum_j (d pi_j / d d)(d_t) c_{t-j} (forward)

then the usual gate derivatives (zi, zo, zc, zf: gradients of the pre-activations) feed
dh_{t-1} = w_*[:, 1:1+H]^T z_* and dd_{t-1} = w_f[:, 1+H:]^T zf.

Kernel layout (seeds last, n = active seeds): h, d [T+1, H, n] (row 0 = zero state);
c, tanh c, i, o, g [T, H, n]; P [n_train, H, n].
"""

from __future__ import annotations

import numba
import numpy as np

from . import common_dynamic as cd


def _shapes(H: int) -> dict:
    """Kernel shapes (single seed, p = q = 1 axes dropped) of the parameters, in order."""
    return {
        "w_c": (H, 1 + H), "b_c": (H,), "w_i": (H, 1 + H), "b_i": (H,),
        "w_f": (H, 1 + 2 * H), "b_f": (H,), "w_o": (H, 1 + H), "b_o": (H,),
        "w_out": (H,), "b_out": (),
    }  # fmt: skip


@numba.njit(**cd.JIT)
def _affine(w, b, k, xt, h0, acc):
    """acc[s] = b[k, s] + w[k, 0, s] xt + sum_j w[k, 1 + j, s] h0[j, s]."""
    for s in range(acc.shape[0]):
        acc[s] = b[k, s] + w[k, 0, s] * xt
    for j in range(h0.shape[0]):
        for s in range(acc.shape[0]):
            acc[s] += w[k, 1 + j, s] * h0[j, s]


@numba.njit(**cd.JIT)
def _forward_size(T, n_grad, H, n):
    return 2 * (T + 1) * H * n + 5 * T * H * n + n_grad * H * n + T * n


@numba.njit(**cd.JIT)
def _forward(x, K, n_grad, work, w_c, b_c, w_i, b_i, w_f, b_f, w_o, b_o, w_out, b_out):
    """States and predictions of a pass over x, carved from `work`; P for the first n_grad steps."""
    dt = x.dtype.type
    half, one = dt(0.5), dt(1.0)
    T = x.shape[0]
    H, n = b_c.shape
    h, pos = cd.take3(work, 0, T + 1, H, n)
    d, pos = cd.take3(work, pos, T + 1, H, n)
    c, pos = cd.take3(work, pos, T, H, n)
    tc, pos = cd.take3(work, pos, T, H, n)
    gi, pos = cd.take3(work, pos, T, H, n)
    go, pos = cd.take3(work, pos, T, H, n)
    gg, pos = cd.take3(work, pos, T, H, n)
    P, pos = cd.take3(work, pos, n_grad, H, n)
    yhat, pos = cd.take2(work, pos, T, n)
    h[0] = 0.0
    d[0] = 0.0
    acc = np.empty(n, dtype=x.dtype)
    f = np.empty(n, dtype=x.dtype)
    g = np.empty(n, dtype=x.dtype)
    pv = np.empty(n, dtype=x.dtype)
    pg = np.empty(n, dtype=x.dtype)
    for t in range(T):
        xt, h0, d0 = x[t], h[t], d[t]
        for k in range(H):
            _affine(w_i, b_i, k, xt, h0, acc)
            for s in range(n):
                gi[t, k, s] = one / (one + np.exp(-acc[s]))
            _affine(w_o, b_o, k, xt, h0, acc)
            for s in range(n):
                go[t, k, s] = one / (one + np.exp(-acc[s]))
            _affine(w_c, b_c, k, xt, h0, acc)
            for s in range(n):
                gg[t, k, s] = cd.tanh(acc[s])
            _affine(w_f, b_f, k, xt, h0, acc)
            for j in range(H):
                for s in range(n):
                    acc[s] += w_f[k, 1 + H + j, s] * d0[j, s]
            for s in range(n):
                d[t + 1, k, s] = half / (one + np.exp(-acc[s]))
            # f = sum_j pi_j(d_t) c_{t-j} (the filter term is -f), g = d f / d d_t
            cd.pi_sweep_rows(d[t + 1, k], c, t, k, min(K, t), f, g, pv, pg, t < n_grad)
            if t < n_grad:
                P[t, k] = g
            for s in range(n):
                c[t, k, s] = gi[t, k, s] * gg[t, k, s] - f[s]
            for s in range(n):
                tc[t, k, s] = cd.tanh(c[t, k, s])
            for s in range(n):
                h[t + 1, k, s] = go[t, k, s] * tc[t, k, s]
        for s in range(n):
            yhat[t, s] = b_out[s]
        for k in range(H):
            for s in range(n):
                yhat[t, s] += w_out[k, s] * h[t + 1, k, s]
    return h, d, c, tc, gi, go, gg, P, yhat


@numba.njit(**cd.JIT)
def _predict(x, K, work, w_c, b_c, w_i, b_i, w_f, b_f, w_o, b_o, w_out, b_out):
    work = cd.ensure(work, _forward_size(x.shape[0], 0, b_c.shape[0], b_c.shape[1]))
    out = _forward(x, K, 0, work, w_c, b_c, w_i, b_i, w_f, b_f, w_o, b_o, w_out, b_out)
    return out[-1], work


@numba.njit(**cd.JIT)
def _gate_grads(gw, gb, z, xt, h0):
    """gw[k] += z[k] [x_t, h_{t-1}],  gb[k] += z[k]."""
    H, n = z.shape
    for k in range(H):
        for s in range(n):
            gb[k, s] += z[k, s]
            gw[k, 0, s] += z[k, s] * xt
        for j in range(H):
            for s in range(n):
                gw[k, 1 + j, s] += z[k, s] * h0[j, s]


@numba.njit(**cd.JIT)
def _loss_grad(x, y, n_train, n_val, K, work, w_c, b_c, w_i, b_i, w_f, b_f, w_o, b_o, w_out,
               b_out):  # fmt: skip
    dt = x.dtype.type
    one, two = dt(1.0), dt(2.0)
    H, n = b_c.shape
    n_fwd = _forward_size(x.shape[0], n_train, H, n)
    work = cd.ensure(work, n_fwd + n_train * H * n)
    h, d, c, tc, gi, go, gg, P, yhat = _forward(
        x, K, n_train, work, w_c, b_c, w_i, b_i, w_f, b_f, w_o, b_o, w_out, b_out
    )
    train, val = cd.losses(yhat, y, n_train, n_val)
    gw_c, gb_c, gw_i, gb_i = (
        np.zeros_like(w_c),
        np.zeros_like(b_c),
        np.zeros_like(w_i),
        np.zeros_like(b_i),
    )
    gw_f, gb_f, gw_o, gb_o = (
        np.zeros_like(w_f),
        np.zeros_like(b_f),
        np.zeros_like(w_o),
        np.zeros_like(b_o),
    )
    gw_out, gb_out = np.zeros_like(w_out), np.zeros_like(b_out)
    dC, _ = cd.take3(work, n_fwd, n_train, H, n)  # dL/dc_t through the later cells' filters
    dC[:] = 0.0
    dh = np.zeros((H, n), dtype=x.dtype)  # dL/dh_t through step t+1
    dd = np.zeros((H, n), dtype=x.dtype)  # dL/dd_t through step t+1
    zi = np.empty((H, n), dtype=x.dtype)
    zo = np.empty((H, n), dtype=x.dtype)
    zc = np.empty((H, n), dtype=x.dtype)
    zf = np.empty((H, n), dtype=x.dtype)
    dc = np.empty(n, dtype=x.dtype)
    pv = np.empty(n, dtype=x.dtype)
    dyt = np.empty(n, dtype=x.dtype)  # dL/dy^_t
    for t in range(n_train - 1, -1, -1):
        xt, h0, d0 = x[t], h[t], d[t]
        cd.output_grad_row(yhat, y, t, n_train, dyt)
        for s in range(n):
            gb_out[s] += dyt[s]
        for k in range(H):
            for s in range(n):
                gw_out[k, s] += dyt[s] * h[t + 1, k, s]
                dht = dh[k, s] + w_out[k, s] * dyt[s]
                i, o, g, th, dv = gi[t, k, s], go[t, k, s], gg[t, k, s], tc[t, k, s], d[t + 1, k, s]
                dc[s] = dC[t, k, s] + dht * o * (one - th * th)
                zo[k, s] = dht * th * (o * (one - o))
                zi[k, s] = dc[s] * g * (i * (one - i))
                zc[k, s] = dc[s] * i * (one - g * g)
                zf[k, s] = (dd[k, s] - dc[s] * P[t, k, s]) * (dv * (one - two * dv))
            cd.pi_scatter_rows(d[t + 1, k], dc, dC, t, k, min(K, t), pv)
        _gate_grads(gw_i, gb_i, zi, xt, h0)
        _gate_grads(gw_o, gb_o, zo, xt, h0)
        _gate_grads(gw_c, gb_c, zc, xt, h0)
        _gate_grads(gw_f, gb_f, zf, xt, h0)
        for k in range(H):
            for j in range(H):
                for s in range(n):
                    gw_f[k, 1 + H + j, s] += zf[k, s] * d0[j, s]
        for j in range(H):
            for s in range(n):
                dh[j, s] = 0.0
                dd[j, s] = 0.0
            for k in range(H):
                for s in range(n):
                    gates = w_i[k, 1 + j, s] * zi[k, s] + w_o[k, 1 + j, s] * zo[k, s]
                    gates += w_c[k, 1 + j, s] * zc[k, s] + w_f[k, 1 + j, s] * zf[k, s]
                    dh[j, s] += gates
                    dd[j, s] += w_f[k, 1 + H + j, s] * zf[k, s]
    return train, val, work, gw_c, gb_c, gw_i, gb_i, gw_f, gb_f, gw_o, gb_o, gw_out, gb_out


def _hidden(params: dict) -> int:
    S, H, m = params["w_c"].shape
    assert m == 1 + H and params["w_out"].shape[1] == 1, "kernels assume p = q = 1"
    return H


def forward(params: dict, x, K: int) -> np.ndarray:
    """Predictions [S, T, 1] from the zero state over all T steps of x [T, 1]."""
    return cd.run_forward(_predict, _shapes(_hidden(params)), params, x, K)


def loss_grad(params: dict, x, y, n_train: int, n_val: int, K: int, active=None):
    """(train_loss [S], val_loss [S], grads) of one pass over n_train + n_val steps."""
    shapes = _shapes(_hidden(params))
    return cd.run_loss_grad(_loss_grad, shapes, params, x, y, n_train, n_val, K, active)
