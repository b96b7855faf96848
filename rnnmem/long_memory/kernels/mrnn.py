"""MRNN, memory-augmented RNN with dynamic d (long-memory.md §3.4): fused forward and BPTT.

Per seed, hidden size H, scalar input x_t (p = q = 1); h_0 = m_0 = 0, d_0 = 0, inputs before
the start of the pass are 0:

    d_t  = 0.5 sigmoid(w_dd d_{t-1} + b_d + w_hd . h_{t-1} + w_md . m_{t-1} + w_xd x_t)
    F_t  = sum_{j=1..K} pi_j(d_t) x_{t+1-j}                  (every lag uses the current d_t)
    m_t  = tanh(w_mm m_{t-1} + b_m + w_fm F_t)                w_mm [H,H], w_fm [H,1]
    h_t  = tanh(w_hh h_{t-1} + b_h + w_xh x_t)                w_hh [H,H], w_xh [H,1]
    y^_t = w_hz . h_t + b_z + w_mz . m_t                      (no tanh)

Backward, per training step t in reverse (dh, dm, dd: gradients carried from step t+1):

    zh_t = (dh + w_hz dy_t) (1 - h_t^2),   zm_t = (dm + w_mz dy_t) (1 - m_t^2)
    dF_t = w_fm . zm_t,   za_t = (dd + dF_t G_t) d_t (1 - 2 d_t)
    dh <- w_hh^T zh_t + w_hd za_t,  dm <- w_mm^T zm_t + w_md za_t,  dd <- w_dd za_t

where G_t = dF_t / dd_t = sum_j (d pi_j / d d)(d_t) x_{t+1-j} is stored by the forward sweep,
so the backward through the filter costs one multiply per step. The forward computes pi_j(d_t)
and its derivative in one sweep for all seeds at once (common_dynamic.pi_sweep_scalar).
The four unused_* parameters get zero gradients.

Kernel layout (seeds last, n = active seeds): states h, m [T+1, H, n] (row 0 = zero state),
d [T+1, n], F, G [T, n].
"""

from __future__ import annotations

import numba
import numpy as np

from . import common_dynamic as cd


def _shapes(H: int) -> dict:
    """Kernel shapes (single seed, p = q = 1 axes dropped) of the used parameters, in order."""
    return {
        "w_dd": (), "b_d": (), "w_hd": (H,), "w_md": (H,), "w_xd": (),
        "w_mm": (H, H), "b_m": (H,), "w_fm": (H,), "w_hh": (H, H), "b_h": (H,), "w_xh": (H,),
        "w_hz": (H,), "b_z": (), "w_mz": (H,),
    }  # fmt: skip


@numba.njit(**cd.JIT)
def _forward_size(T, n_grad, H, n):
    return 2 * (T + 1) * H * n + (T + 1) * n + 2 * T * n + n_grad * n


@numba.njit(**cd.JIT)
def _forward(x, K, n_grad, work, w_dd, b_d, w_hd, w_md, w_xd, w_mm, b_m, w_fm, w_hh, b_h,
             w_xh, w_hz, b_z, w_mz):  # fmt: skip
    """States and predictions of a pass over x, carved from `work`; G for the first n_grad steps."""
    dt = x.dtype.type
    half, one = dt(0.5), dt(1.0)
    T = x.shape[0]
    H, n = w_hd.shape
    h, pos = cd.take3(work, 0, T + 1, H, n)
    m, pos = cd.take3(work, pos, T + 1, H, n)
    d, pos = cd.take2(work, pos, T + 1, n)
    f, pos = cd.take2(work, pos, T, n)
    g, pos = cd.take2(work, pos, n_grad, n)
    yhat, pos = cd.take2(work, pos, T, n)
    h[0] = 0.0
    m[0] = 0.0
    d[0] = 0.0
    acc = np.empty(n, dtype=x.dtype)
    pv = np.empty(n, dtype=x.dtype)
    pg = np.empty(n, dtype=x.dtype)
    for t in range(T):
        xt = x[t]
        h0, m0, h1, m1, d1 = h[t], m[t], h[t + 1], m[t + 1], d[t + 1]
        for s in range(n):
            acc[s] = w_dd[s] * d[t, s] + b_d[s] + w_xd[s] * xt
        for k in range(H):
            for s in range(n):
                acc[s] += w_hd[k, s] * h0[k, s] + w_md[k, s] * m0[k, s]
        for s in range(n):
            d1[s] = half / (one + np.exp(-acc[s]))
        if t < n_grad:
            cd.pi_sweep_scalar(d1, x, t, min(K, t + 1), f[t], g[t], pv, pg)
        else:
            cd.pi_sweep_scalar_nograd(d1, x, t, min(K, t + 1), f[t], pv)
        for k in range(H):
            for s in range(n):
                acc[s] = b_m[k, s] + w_fm[k, s] * f[t, s]
            for j in range(H):
                for s in range(n):
                    acc[s] += w_mm[k, j, s] * m0[j, s]
            for s in range(n):
                m1[k, s] = cd.tanh(acc[s])
            for s in range(n):
                acc[s] = b_h[k, s] + w_xh[k, s] * xt
            for j in range(H):
                for s in range(n):
                    acc[s] += w_hh[k, j, s] * h0[j, s]
            for s in range(n):
                h1[k, s] = cd.tanh(acc[s])
        for s in range(n):
            yhat[t, s] = b_z[s]
        for k in range(H):
            for s in range(n):
                yhat[t, s] += w_hz[k, s] * h1[k, s] + w_mz[k, s] * m1[k, s]
    return h, m, d, f, g, yhat


@numba.njit(**cd.JIT)
def _predict(x, K, work, w_dd, b_d, w_hd, w_md, w_xd, w_mm, b_m, w_fm, w_hh, b_h, w_xh, w_hz,
             b_z, w_mz):  # fmt: skip
    work = cd.ensure(work, _forward_size(x.shape[0], 0, w_hd.shape[0], w_hd.shape[1]))
    out = _forward(x, K, 0, work, w_dd, b_d, w_hd, w_md, w_xd, w_mm, b_m, w_fm, w_hh, b_h, w_xh,
                   w_hz, b_z, w_mz)  # fmt: skip
    return out[5], work


@numba.njit(**cd.JIT)
def _loss_grad(x, y, n_train, n_val, K, work, w_dd, b_d, w_hd, w_md, w_xd, w_mm, b_m, w_fm,
               w_hh, b_h, w_xh, w_hz, b_z, w_mz):  # fmt: skip
    dt = x.dtype.type
    one, two = dt(1.0), dt(2.0)
    work = cd.ensure(work, _forward_size(x.shape[0], n_train, w_hd.shape[0], w_hd.shape[1]))
    h, m, d, f, g, yhat = _forward(x, K, n_train, work, w_dd, b_d, w_hd, w_md, w_xd, w_mm, b_m,
                                   w_fm, w_hh, b_h, w_xh, w_hz, b_z, w_mz)  # fmt: skip
    train, val = cd.losses(yhat, y, n_train, n_val)
    H, n = w_hd.shape
    gw_dd, gb_d, gw_hd, gw_md = (
        np.zeros_like(w_dd),
        np.zeros_like(b_d),
        np.zeros_like(w_hd),
        np.zeros_like(w_md),
    )
    gw_xd, gw_mm, gb_m, gw_fm = (
        np.zeros_like(w_xd),
        np.zeros_like(w_mm),
        np.zeros_like(b_m),
        np.zeros_like(w_fm),
    )
    gw_hh, gb_h, gw_xh = np.zeros_like(w_hh), np.zeros_like(b_h), np.zeros_like(w_xh)
    gw_hz, gb_z, gw_mz = np.zeros_like(w_hz), np.zeros_like(b_z), np.zeros_like(w_mz)
    dh = np.zeros((H, n), dtype=x.dtype)  # dL/dh_t from the steps after t
    dm = np.zeros((H, n), dtype=x.dtype)
    dd = np.zeros(n, dtype=x.dtype)
    zh = np.empty((H, n), dtype=x.dtype)  # dL/d(pre-activation of h_t)
    zm = np.empty((H, n), dtype=x.dtype)
    za = np.empty(n, dtype=x.dtype)  # dL/d(pre-activation of d_t)
    df = np.empty(n, dtype=x.dtype)
    dyt = np.empty(n, dtype=x.dtype)  # dL/dy^_t
    for t in range(n_train - 1, -1, -1):
        xt = x[t]
        cd.output_grad_row(yhat, y, t, n_train, dyt)
        h0, m0, h1, m1 = h[t], m[t], h[t + 1], m[t + 1]
        for s in range(n):
            gb_z[s] += dyt[s]
            df[s] = 0.0
        for k in range(H):
            for s in range(n):
                gw_hz[k, s] += dyt[s] * h1[k, s]
                gw_mz[k, s] += dyt[s] * m1[k, s]
                zh[k, s] = (dh[k, s] + w_hz[k, s] * dyt[s]) * (one - h1[k, s] * h1[k, s])
                zm[k, s] = (dm[k, s] + w_mz[k, s] * dyt[s]) * (one - m1[k, s] * m1[k, s])
                df[s] += w_fm[k, s] * zm[k, s]
        for s in range(n):
            dv = d[t + 1, s]
            za[s] = (dd[s] + df[s] * g[t, s]) * (dv * (one - two * dv))
            gw_dd[s] += za[s] * d[t, s]
            gb_d[s] += za[s]
            gw_xd[s] += za[s] * xt
            dd[s] = w_dd[s] * za[s]
        for k in range(H):
            for s in range(n):
                gb_h[k, s] += zh[k, s]
                gw_xh[k, s] += zh[k, s] * xt
                gb_m[k, s] += zm[k, s]
                gw_fm[k, s] += zm[k, s] * f[t, s]
                gw_hd[k, s] += za[s] * h0[k, s]
                gw_md[k, s] += za[s] * m0[k, s]
            for j in range(H):
                for s in range(n):
                    gw_hh[k, j, s] += zh[k, s] * h0[j, s]
                    gw_mm[k, j, s] += zm[k, s] * m0[j, s]
        for j in range(H):
            for s in range(n):
                dh[j, s] = w_hd[j, s] * za[s]
                dm[j, s] = w_md[j, s] * za[s]
        for k in range(H):
            for j in range(H):
                for s in range(n):
                    dh[j, s] += w_hh[k, j, s] * zh[k, s]
                    dm[j, s] += w_mm[k, j, s] * zm[k, s]
    d_grads = (gw_dd, gb_d, gw_hd, gw_md, gw_xd)  # the d_t gate, then the two tracks
    track_grads = (gw_mm, gb_m, gw_fm, gw_hh, gb_h, gw_xh, gw_hz, gb_z, gw_mz)
    return (train, val, work) + d_grads + track_grads


def _hidden(params: dict) -> int:
    S, H, p = params["w_xh"].shape
    assert p == 1 and params["w_hz"].shape[1] == 1, "kernels assume p = q = 1"
    return H


def forward(params: dict, x, K: int) -> np.ndarray:
    """Predictions [S, T, 1] from the zero state over all T steps of x [T, 1]."""
    return cd.run_forward(_predict, _shapes(_hidden(params)), params, x, K)


def loss_grad(params: dict, x, y, n_train: int, n_val: int, K: int, active=None):
    """(train_loss [S], val_loss [S], grads) of one pass over n_train + n_val steps."""
    shapes = _shapes(_hidden(params))
    return cd.run_loss_grad(_loss_grad, shapes, params, x, y, n_train, n_val, K, active)
