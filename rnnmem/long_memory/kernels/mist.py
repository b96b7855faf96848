"""MIST, mixed-history RNN (long-memory.md §3.9): fused forward and BPTT, all seeds.

Per seed, hidden size H, scalar input x_t (p = q = 1); h_t = 0 for t <= 0; delays
tau_i = 2^i, i = 0..7; u_t = [x_t, h_{t-1}]:

    alpha_t = softmax(w_alpha u_t + b_alpha)      (8 weights, shared by the units)
    r_t     = sigmoid(w_r u_t + b_r)
    v_t     = r_t * sum_i alpha_{t,i} h_{t-tau_i}
    h_t     = tanh(w_h v_t + w_x x_t + b_x),   y^_t = w_out h_t + b_out

Backward, per training step t in reverse (zh: gradient of h_t's pre-activation):

    dv = w_h^T zh,   dmix = dv r,   zr = dv mix (r (1 - r))
    dalpha_i = dmix . h_{t-tau_i},  dH_{t-tau_i} += alpha_i dmix
    ze_i = alpha_i (dalpha_i - sum_j alpha_j dalpha_j)        (softmax)
    dH_{t-1} += w_alpha[:, 1:]^T ze + w_r[:, 1:]^T zr

Kernel layout (seeds last, n = active seeds): the history h [128 + T + 1, H, n] holds h_t at
row 128 + t (t = 0..T; rows below 128 + 1 are the zeros before the start), so every delayed
read is a plain row; alpha [T, 8, n], r and mix [T, H, n].
"""

from __future__ import annotations

import numba
import numpy as np

from . import common_dynamic as cd

N_DELAYS = 8
OFF = 2 ** (N_DELAYS - 1)  # the longest delay: rows of zeros in front of the history


def _shapes(H: int) -> dict:
    """Kernel shapes (single seed, p = q = 1 axes dropped) of the parameters, in order."""
    return {
        "w_alpha": (N_DELAYS, 1 + H), "b_alpha": (N_DELAYS,), "w_r": (H, 1 + H), "b_r": (H,),
        "w_h": (H, H), "w_x": (H,), "b_x": (H,), "w_out": (H,), "b_out": (),
    }  # fmt: skip


@numba.njit(**cd.JIT)
def _forward_size(T, H, n):
    return (OFF + T + 1) * H * n + T * N_DELAYS * n + 2 * T * H * n + T * n


@numba.njit(**cd.JIT)
def _forward(x, work, w_alpha, b_alpha, w_r, b_r, w_h, w_x, b_x, w_out, b_out):
    """States and predictions of a pass over x, carved from `work`."""
    one = x.dtype.type(1.0)
    T = x.shape[0]
    H, n = b_r.shape
    hist, pos = cd.take3(work, 0, OFF + T + 1, H, n)
    alpha, pos = cd.take3(work, pos, T, N_DELAYS, n)
    r, pos = cd.take3(work, pos, T, H, n)
    mix, pos = cd.take3(work, pos, T, H, n)
    yhat, pos = cd.take2(work, pos, T, n)
    hist[: OFF + 1] = 0.0
    acc = np.empty(n, dtype=x.dtype)
    top = np.empty(n, dtype=x.dtype)
    tot = np.empty(n, dtype=x.dtype)
    v = np.empty((H, n), dtype=x.dtype)
    for ts in range(T):
        t = ts + 1  # 1-based time: step t reads x[t - 1] and writes h_t (row OFF + t)
        xt, h0, al = x[ts], hist[OFF + t - 1], alpha[ts]
        for i in range(N_DELAYS):  # attention logits, then a stable softmax in fixed order
            for s in range(n):
                al[i, s] = b_alpha[i, s] + w_alpha[i, 0, s] * xt
            for j in range(H):
                for s in range(n):
                    al[i, s] += w_alpha[i, 1 + j, s] * h0[j, s]
        for s in range(n):
            top[s] = al[0, s]
            tot[s] = 0.0
        for i in range(1, N_DELAYS):
            for s in range(n):
                top[s] = max(top[s], al[i, s])
        for i in range(N_DELAYS):
            for s in range(n):
                al[i, s] = np.exp(al[i, s] - top[s])
                tot[s] += al[i, s]
        for i in range(N_DELAYS):
            for s in range(n):
                al[i, s] = al[i, s] / tot[s]
        for k in range(H):
            for s in range(n):
                acc[s] = b_r[k, s] + w_r[k, 0, s] * xt
            for j in range(H):
                for s in range(n):
                    acc[s] += w_r[k, 1 + j, s] * h0[j, s]
            for s in range(n):
                r[ts, k, s] = one / (one + np.exp(-acc[s]))
                mix[ts, k, s] = 0.0
            for i in range(N_DELAYS):
                past = hist[OFF + t - 2**i, k]
                for s in range(n):
                    mix[ts, k, s] += al[i, s] * past[s]
            for s in range(n):
                v[k, s] = r[ts, k, s] * mix[ts, k, s]
        for k in range(H):
            for s in range(n):
                acc[s] = b_x[k, s] + w_x[k, s] * xt
            for j in range(H):
                for s in range(n):
                    acc[s] += w_h[k, j, s] * v[j, s]
            for s in range(n):
                hist[OFF + t, k, s] = cd.tanh(acc[s])
        for s in range(n):
            yhat[ts, s] = b_out[s]
        for k in range(H):
            for s in range(n):
                yhat[ts, s] += w_out[k, s] * hist[OFF + t, k, s]
    return hist, alpha, r, mix, yhat


@numba.njit(**cd.JIT)
def _predict(x, K, work, w_alpha, b_alpha, w_r, b_r, w_h, w_x, b_x, w_out, b_out):
    work = cd.ensure(work, _forward_size(x.shape[0], b_r.shape[0], b_r.shape[1]))
    out = _forward(x, work, w_alpha, b_alpha, w_r, b_r, w_h, w_x, b_x, w_out, b_out)
    return out[-1], work


@numba.njit(**cd.JIT)
def _loss_grad(x, y, n_train, n_val, K, work, w_alpha, b_alpha, w_r, b_r, w_h, w_x, b_x, w_out,
               b_out):  # fmt: skip
    one = x.dtype.type(1.0)
    H, n = b_r.shape
    n_fwd = _forward_size(x.shape[0], H, n)
    work = cd.ensure(work, n_fwd + (OFF + n_train + 1) * H * n)
    out = _forward(x, work, w_alpha, b_alpha, w_r, b_r, w_h, w_x, b_x, w_out, b_out)
    hist, alpha, r, mix, yhat = out
    train, val = cd.losses(yhat, y, n_train, n_val)
    gw_alpha, gb_alpha, gw_r, gb_r = (
        np.zeros_like(w_alpha),
        np.zeros_like(b_alpha),
        np.zeros_like(w_r),
        np.zeros_like(b_r),
    )
    gw_h, gw_x, gb_x = np.zeros_like(w_h), np.zeros_like(w_x), np.zeros_like(b_x)
    gw_out, gb_out = np.zeros_like(w_out), np.zeros_like(b_out)
    dH, _ = cd.take3(work, n_fwd, OFF + n_train + 1, H, n)  # dL/dh_t from the later steps
    dH[:] = 0.0
    zh = np.empty((H, n), dtype=x.dtype)
    zr = np.empty((H, n), dtype=x.dtype)
    dmix = np.empty((H, n), dtype=x.dtype)
    ze = np.empty((N_DELAYS, n), dtype=x.dtype)
    dot = np.empty(n, dtype=x.dtype)
    dyt = np.empty(n, dtype=x.dtype)  # dL/dy^_t
    for ts in range(n_train - 1, -1, -1):
        t = ts + 1
        xt, h0, h1, al = x[ts], hist[OFF + t - 1], hist[OFF + t], alpha[ts]
        cd.output_grad_row(yhat, y, ts, n_train, dyt)
        for s in range(n):
            gb_out[s] += dyt[s]
        for k in range(H):
            for s in range(n):
                gw_out[k, s] += dyt[s] * h1[k, s]
                zh[k, s] = (dH[OFF + t, k, s] + w_out[k, s] * dyt[s]) * (one - h1[k, s] * h1[k, s])
                gw_x[k, s] += zh[k, s] * xt
                gb_x[k, s] += zh[k, s]
            for j in range(H):
                for s in range(n):
                    gw_h[k, j, s] += zh[k, s] * (r[ts, j, s] * mix[ts, j, s])
        for j in range(H):  # dv = w_h^T zh, split into the reset gate and the mixture
            for s in range(n):
                dmix[j, s] = 0.0
            for k in range(H):
                for s in range(n):
                    dmix[j, s] += w_h[k, j, s] * zh[k, s]
            for s in range(n):
                rv = r[ts, j, s]
                zr[j, s] = dmix[j, s] * mix[ts, j, s] * (rv * (one - rv))
                dmix[j, s] = dmix[j, s] * rv
        for s in range(n):
            dot[s] = 0.0
        for i in range(N_DELAYS):
            row = OFF + t - 2**i
            for s in range(n):
                ze[i, s] = 0.0
            for j in range(H):
                for s in range(n):
                    ze[i, s] += dmix[j, s] * hist[row, j, s]
                    dH[row, j, s] += al[i, s] * dmix[j, s]
            for s in range(n):
                dot[s] += al[i, s] * ze[i, s]
        for i in range(N_DELAYS):
            for s in range(n):
                ze[i, s] = al[i, s] * (ze[i, s] - dot[s])
                gb_alpha[i, s] += ze[i, s]
                gw_alpha[i, 0, s] += ze[i, s] * xt
            for j in range(H):
                for s in range(n):
                    gw_alpha[i, 1 + j, s] += ze[i, s] * h0[j, s]
                    dH[OFF + t - 1, j, s] += w_alpha[i, 1 + j, s] * ze[i, s]
        for k in range(H):
            for s in range(n):
                gb_r[k, s] += zr[k, s]
                gw_r[k, 0, s] += zr[k, s] * xt
            for j in range(H):
                for s in range(n):
                    gw_r[k, 1 + j, s] += zr[k, s] * h0[j, s]
                    dH[OFF + t - 1, j, s] += w_r[k, 1 + j, s] * zr[k, s]
    return train, val, work, gw_alpha, gb_alpha, gw_r, gb_r, gw_h, gw_x, gb_x, gw_out, gb_out


def _hidden(params: dict) -> int:
    S, H, p = params["w_x"].shape
    assert p == 1 and params["w_out"].shape[1] == 1, "kernels assume p = q = 1"
    return H


def forward(params: dict, x, K: int | None = None) -> np.ndarray:
    """Predictions [S, T, 1] from the zero state over all T steps of x [T, 1] (K unused)."""
    return cd.run_forward(_predict, _shapes(_hidden(params)), params, x, 0 if K is None else K)


def loss_grad(params: dict, x, y, n_train: int, n_val: int, K: int | None = None, active=None):
    """(train_loss [S], val_loss [S], grads) of one pass over n_train + n_val steps."""
    shapes = _shapes(_hidden(params))
    K = 0 if K is None else K
    return cd.run_loss_grad(_loss_grad, shapes, params, x, y, n_train, n_val, K, active)
