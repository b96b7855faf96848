"""MLSTMF (long-memory.md §3.5): fused forward and hand-written BPTT, all seeds.

Per seed, p = q = 1, u_t = [x_t, h_{t-1}] (size 1 + H), d = 0.5 sigmoid(a) (a [H], one d per unit):

    i_t = sigmoid(w_i u_t + b_i),  o_t = sigmoid(w_o u_t + b_o),  c~_t = tanh(w_c u_t + b_c)
    c_t = sum_{j=1..K} w_j c_{t-j} + i_t c~_t,   w_j = -pi_j(d)   (cells before the start are 0)
    h_t = o_t tanh(c_t),   y^_t = w_out h_t + b_out

Backward: dc_t (the total derivative) collects the cell's own output and the K later cells it
feeds; r_t = sum over the gates of w_gate[:, 1:]^T dz_gate from the next step:

    dh_t = dy_t w_out^T + r_t,   dc_t = dh_t o_t (1 - tanh(c_t)^2) + sum_{j=1..K} w_j dc_{t+j}
    dz_i = dc_t c~_t i_t (1 - i_t),  dz_o = dh_t tanh(c_t) o_t (1 - o_t),
    dz_c = dc_t i_t (1 - c~_t^2)
    dL/dd = sum_t dc_t sum_j (-dpi_j/dd) c_{t-j},   dL/da = dL/dd 0.5 sigmoid(a) (1 - sigmoid(a))

The two K-sums of a step run j outer, lane inner (a vector loop over all seeds' units, each
lane summed in ascending j). Layout: cells cpad[K + t, lane] (rows 0..K-1 are the zeros before
the start), gates and tanh(c) [t, lane], h[t, lane] (row 0 = zero state), lane = s * H + k;
the gate activations, the cell update and tanh(c) of a step are vector loops over all lanes.
"""

from __future__ import annotations

import numba
import numpy as np

from . import common_fixed as cf
from . import filters

NAMES = ("a", "w_c", "b_c", "w_i", "b_i", "w_o", "b_o", "w_out", "b_out")


@numba.njit(**cf.JIT)
def _filter_weights(a, K):
    """wneg[j, lane] = -pi_{j+1}(d), gneg = -dpi/dd, dd_da[lane]; d = 0.5 sigmoid(a)."""
    n, H = a.shape
    dt = a.dtype
    wneg = np.empty((K, n * H), dtype=dt)
    gneg = np.empty((K, n * H), dtype=dt)
    dd_da = np.empty(n * H, dtype=dt)
    pi = np.empty(K, dtype=dt)
    gpi = np.empty(K, dtype=dt)
    half = dt.type(0.5)
    for s in range(n):
        for k in range(H):
            sg = cf.sigmoid(a[s, k])
            filters.fill_pi_and_grad(half * sg, pi, gpi)
            lane = s * H + k
            for j in range(K):
                wneg[j, lane] = -pi[j]
                gneg[j, lane] = -gpi[j]
            dd_da[lane] = half * sg * (dt.type(1.0) - sg)
    return wneg, gneg, dd_da


@numba.njit(inline="always")
def _forward(wneg, w_c, b_c, w_i, b_i, w_o, b_o, w_out, b_out, x, cpad, h, ig, og, cc, tc, yhat, H):
    """Steps 0..T-1; cpad[:K] and h[0] must hold zeros."""
    K, L = wneg.shape
    n = w_c.shape[0]
    mem = np.empty(L, dtype=x.dtype)
    z = np.empty(3 * L, dtype=x.dtype)  # pre-activations: i, o, c~ blocks of L lanes
    for t in range(x.shape[0]):
        mem[:] = 0.0
        for j in range(K):  # c_{t-1-j} sits in row K + t - 1 - j
            wj, cj = wneg[j], cpad[K + t - 1 - j]  # 1-D views: the lane loop vectorises
            for lane in range(L):
                mem[lane] += wj[lane] * cj[lane]
        h_prev = h[t]
        for s in range(n):
            base = s * H
            for k in range(H):
                zi = b_i[s, k] + w_i[s, k, 0] * x[t]
                zo = b_o[s, k] + w_o[s, k, 0] * x[t]
                zc = b_c[s, k] + w_c[s, k, 0] * x[t]
                for j in range(H):
                    hp = h_prev[base + j]
                    zi += w_i[s, k, 1 + j] * hp
                    zo += w_o[s, k, 1 + j] * hp
                    zc += w_c[s, k, 1 + j] * hp
                z[base + k], z[L + base + k], z[2 * L + base + k] = zi, zo, zc
        i_t, o_t, cc_t, tc_t, c_t, h_next = ig[t], og[t], cc[t], tc[t], cpad[K + t], h[t + 1]
        cf.sigmoid_into(z[:L], i_t)
        cf.sigmoid_into(z[L : 2 * L], o_t)
        cf.tanh_into(z[2 * L :], cc_t)
        for lane in range(L):
            c_t[lane] = mem[lane] + i_t[lane] * cc_t[lane]
        cf.tanh_into(c_t, tc_t)
        for lane in range(L):
            h_next[lane] = o_t[lane] * tc_t[lane]
        for s in range(n):
            out = b_out[s, 0]
            for k in range(H):
                out += w_out[s, 0, k] * h_next[s * H + k]
            yhat[t, s] = out


@numba.njit(inline="always")
def _run(wneg, w_c, b_c, w_i, b_i, w_o, b_o, w_out, b_out, x, H):
    K, L = wneg.shape
    n, T, dt = w_c.shape[0], x.shape[0], x.dtype
    cpad = np.empty((K + T, L), dtype=dt)
    cpad[:K] = 0.0
    h = np.empty((T + 1, L), dtype=dt)
    h[0] = 0.0
    ig, og = np.empty((T, L), dtype=dt), np.empty((T, L), dtype=dt)
    cc, tc = np.empty((T, L), dtype=dt), np.empty((T, L), dtype=dt)
    yhat = np.empty((T, n), dtype=dt)
    _forward(wneg, w_c, b_c, w_i, b_i, w_o, b_o, w_out, b_out, x, cpad, h, ig, og, cc, tc, yhat, H)
    return cpad, h, ig, og, cc, tc, yhat


@numba.njit(**cf.JIT)
def _predict(wneg, w_c, b_c, w_i, b_i, w_o, b_o, w_out, b_out, x):
    if w_c.shape[1] == 1:  # inlined with the literal: LLVM drops the hidden-unit loops
        return _run(wneg, w_c, b_c, w_i, b_i, w_o, b_o, w_out, b_out, x, 1)[6]
    return _run(wneg, w_c, b_c, w_i, b_i, w_o, b_o, w_out, b_out, x, w_c.shape[1])[6]


@numba.njit(**cf.JIT)
def _loss_grad(wneg, gneg, w_c, b_c, w_i, b_i, w_o, b_o, w_out, b_out, x, y, n_train, n_val):
    """Losses, the gradients of w_c .. b_out (NAMES order) and dL/dd [n * H]."""
    H = w_c.shape[1]
    if H == 1:  # see _predict
        return _loss_grad_h(wneg, gneg, w_c, b_c, w_i, b_i, w_o, b_o, w_out, b_out, x, y,
                            n_train, n_val, 1)  # fmt: skip
    return _loss_grad_h(wneg, gneg, w_c, b_c, w_i, b_i, w_o, b_o, w_out, b_out, x, y,
                        n_train, n_val, H)  # fmt: skip


@numba.njit(inline="always")
def _loss_grad_h(wneg, gneg, w_c, b_c, w_i, b_i, w_o, b_o, w_out, b_out, x, y, n_train, n_val, H):
    K, L = wneg.shape
    n, dt = w_c.shape[0], x.dtype
    one = dt.type(1.0)
    xs = x[: n_train + n_val]
    cpad, h, ig, og, cc, tc, yhat = _run(wneg, w_c, b_c, w_i, b_i, w_o, b_o, w_out, b_out, xs, H)
    loss_train = np.empty(n, dtype=dt)
    loss_val = np.empty(n, dtype=dt)
    cf.mse_losses(yhat, y, n_train, n_val, loss_train, loss_val)
    dy = np.empty((n_train, n), dtype=dt)
    cf.output_grads(yhat, y, n_train, dy)

    g_w_c, g_b_c = np.zeros_like(w_c), np.zeros_like(b_c)
    g_w_i, g_b_i = np.zeros_like(w_i), np.zeros_like(b_i)
    g_w_o, g_b_o = np.zeros_like(w_o), np.zeros_like(b_o)
    g_w_out, g_b_out = np.zeros_like(w_out), np.zeros_like(b_out)
    g_d = np.zeros(L, dtype=dt)
    dc = np.zeros((n_train + K, L), dtype=dt)  # dc[t] = dL/dc_t; rows >= n_train stay 0
    r = np.zeros(L, dtype=dt)  # sum over gates of w_gate[:, 1:]^T dz_gate at t + 1
    fut = np.empty(L, dtype=dt)  # sum_j w_j dc_{t+j}
    e = np.empty(L, dtype=dt)  # sum_j (-dpi_j/dd) c_{t-j}
    z = np.empty(3 * H, dtype=dt)
    for t in range(n_train - 1, -1, -1):
        fut[:] = 0.0
        e[:] = 0.0
        for j in range(K):
            wj, dcj, gj, cj = wneg[j], dc[t + 1 + j], gneg[j], cpad[K + t - 1 - j]
            for lane in range(L):
                fut[lane] += wj[lane] * dcj[lane]
                e[lane] += gj[lane] * cj[lane]
        for s in range(n):
            base = s * H
            g = dy[t, s]
            g_b_out[s, 0] += g
            for k in range(H):
                lane = base + k
                i_t, o_t, c_tilde, t_c = ig[t, lane], og[t, lane], cc[t, lane], tc[t, lane]
                g_w_out[s, 0, k] += g * h[t + 1, lane]
                dh = g * w_out[s, 0, k] + r[lane]
                dc_t = dh * o_t * (one - t_c * t_c) + fut[lane]
                dc[t, lane] = dc_t
                g_d[lane] += dc_t * e[lane]
                zi = dc_t * c_tilde * i_t * (one - i_t)
                zo = dh * t_c * o_t * (one - o_t)
                zc = dc_t * i_t * (one - c_tilde * c_tilde)
                z[k], z[H + k], z[2 * H + k] = zi, zo, zc
                g_b_i[s, k] += zi
                g_b_o[s, k] += zo
                g_b_c[s, k] += zc
                g_w_i[s, k, 0] += zi * x[t]
                g_w_o[s, k, 0] += zo * x[t]
                g_w_c[s, k, 0] += zc * x[t]
                for j in range(H):
                    hp = h[t, base + j]
                    g_w_i[s, k, 1 + j] += zi * hp
                    g_w_o[s, k, 1 + j] += zo * hp
                    g_w_c[s, k, 1 + j] += zc * hp
            for j in range(H):
                acc = dt.type(0.0)
                for k in range(H):
                    acc += w_i[s, k, 1 + j] * z[k]
                    acc += w_o[s, k, 1 + j] * z[H + k]
                    acc += w_c[s, k, 1 + j] * z[2 * H + k]
                r[base + j] = acc
    grads = (g_w_c, g_b_c, g_w_i, g_b_i, g_w_o, g_b_o, g_w_out, g_b_out)
    return loss_train, loss_val, grads, g_d


def _check(params):
    dtype = cf.param_dtype(params, NAMES)
    assert params["w_c"].shape[2] == params["w_c"].shape[1] + 1, "p = 1 only"
    assert params["w_out"].shape[1] == 1, "q = 1 only"
    return dtype


def forward(params: dict, x, K: int) -> np.ndarray:
    """Predictions [S, T, 1] from the zero state over all T steps."""
    dtype = _check(params)
    a, *rest = cf.gather(params, NAMES, np.arange(params["a"].shape[0]))
    wneg = _filter_weights(a, K)[0]
    yhat = _predict(wneg, *rest, cf.series(x, dtype))
    return np.ascontiguousarray(yhat.T)[:, :, None]


def loss_grad(params: dict, x, y, n_train: int, n_val: int, K: int, active=None):
    """(train_loss [S], val_loss [S], grads) of one pass over n_train + n_val steps."""
    dtype = _check(params)
    xs, ys, idx, n_seeds = cf.inputs(params, "a", dtype, x, y, n_train, n_val, active)
    a, *rest = cf.gather(params, NAMES, idx)
    wneg, gneg, dd_da = _filter_weights(a, K)
    loss_train, loss_val, grads, g_d = _loss_grad(wneg, gneg, *rest, xs, ys, n_train, n_val)
    sub = dict(zip(NAMES[1:], grads, strict=True))
    sub["a"] = (g_d * dd_da).reshape(a.shape)  # elementwise: dL/da = dL/dd dd/da
    return cf.scatter(params, loss_train, loss_val, sub, idx, n_seeds)
