"""RWA, recurrent weighted average (long-memory.md §3.8): fused forward and BPTT, all seeds.

Per seed, hidden size H, scalar input x_t (p = q = 1); h_0 = tanh(s), n_0 = den_0 = 0:

    u_t = w_u x_t + b_u,  g_t = w_g [x_t, h_{t-1}] + b_g,  a_t = w_a [x_t, h_{t-1}]
    z_t = u_t tanh(g_t),  h_t = tanh(N_t / D_t),  N_t = sum_{tau<=t} z e^a,  D_t = sum_{tau<=t} e^a
    y^_t = w_out h_t + b_out

Stable form (per unit): M_t = max(M_{t-1}, a_t) (M_0 = -inf), rho_t = e^{M_{t-1} - M_t},
e_t = e^{a_t - M_t}, n_t = n_{t-1} rho_t + z_t e_t, den_t = den_{t-1} rho_t + e_t
(n_t = N_t e^{-M_t}, den_t = D_t e^{-M_t}, q_t = n_t / den_t = N_t / D_t).

Backward: q_t does not depend on M, so the exact gradient is that of the plain sums. With the
scaled adjoints nu_t = e^{M_t} dL/dN_t and de_t = e^{M_t} dL/dD_t (both bounded, since
M_t <= M_{t+1}), and dq_t = dL/dq_t:

    nu_t = rho_{t+1} nu_{t+1} + dq_t / den_t,   de_t = rho_{t+1} de_{t+1} - dq_t q_t / den_t
    dL/dz_t = nu_t e_t,   dL/da_t = (nu_t z_t + de_t) e_t

Kernel layout (seeds last, n = active seeds): h [T+1, H, n] (row 0 = tanh(s)); n, den, e, rho,
u, tanh g [T, H, n].
"""

from __future__ import annotations

import numba
import numpy as np

from . import common_dynamic as cd


def _shapes(H: int) -> dict:
    """Kernel shapes (single seed, p = q = 1 axes dropped) of the parameters, in order."""
    return {
        "s": (H,), "w_u": (H,), "b_u": (H,), "w_g": (H, 1 + H), "b_g": (H,), "w_a": (H, 1 + H),
        "w_out": (H,), "b_out": (),
    }  # fmt: skip


@numba.njit(**cd.JIT)
def _forward(x, work, s0, w_u, b_u, w_g, b_g, w_a, w_out, b_out):
    """States and predictions of a pass over x, carved from `work` (grown if needed)."""
    T = x.shape[0]
    H, n = s0.shape
    work = cd.ensure(work, (T + 1) * H * n + 6 * T * H * n + T * n)
    h, pos = cd.take3(work, 0, T + 1, H, n)
    num, pos = cd.take3(work, pos, T, H, n)
    den, pos = cd.take3(work, pos, T, H, n)
    e, pos = cd.take3(work, pos, T, H, n)
    rho, pos = cd.take3(work, pos, T, H, n)
    u, pos = cd.take3(work, pos, T, H, n)
    tg, pos = cd.take3(work, pos, T, H, n)
    yhat, pos = cd.take2(work, pos, T, n)
    big = np.full((H, n), -np.inf, dtype=x.dtype)  # running maximum M
    ga = np.empty(n, dtype=x.dtype)
    aa = np.empty(n, dtype=x.dtype)
    for k in range(H):
        for s in range(n):
            h[0, k, s] = cd.tanh(s0[k, s])
    for t in range(T):
        xt, h0 = x[t], h[t]
        for k in range(H):
            for s in range(n):
                ga[s] = b_g[k, s] + w_g[k, 0, s] * xt
                aa[s] = w_a[k, 0, s] * xt
            for j in range(H):
                for s in range(n):
                    ga[s] += w_g[k, 1 + j, s] * h0[j, s]
                    aa[s] += w_a[k, 1 + j, s] * h0[j, s]
            for s in range(n):
                u[t, k, s] = w_u[k, s] * xt + b_u[k, s]
                tg[t, k, s] = cd.tanh(ga[s])
                m_new = max(big[k, s], aa[s])
                rho[t, k, s] = np.exp(big[k, s] - m_new)
                e[t, k, s] = np.exp(aa[s] - m_new)
                big[k, s] = m_new
            for s in range(n):
                z = u[t, k, s] * tg[t, k, s]
                if t == 0:  # n_0 = den_0 = 0 (and rho_1 = 0 would turn an inf into NaN)
                    num[t, k, s] = z * e[t, k, s]
                    den[t, k, s] = e[t, k, s]
                else:
                    num[t, k, s] = num[t - 1, k, s] * rho[t, k, s] + z * e[t, k, s]
                    den[t, k, s] = den[t - 1, k, s] * rho[t, k, s] + e[t, k, s]
                h[t + 1, k, s] = cd.tanh(num[t, k, s] / den[t, k, s])
        for s in range(n):
            yhat[t, s] = b_out[s]
        for k in range(H):
            for s in range(n):
                yhat[t, s] += w_out[k, s] * h[t + 1, k, s]
    return work, h, num, den, e, rho, u, tg, yhat


@numba.njit(**cd.JIT)
def _predict(x, K, work, s0, w_u, b_u, w_g, b_g, w_a, w_out, b_out):
    out = _forward(x, work, s0, w_u, b_u, w_g, b_g, w_a, w_out, b_out)
    return out[-1], out[0]


@numba.njit(**cd.JIT)
def _loss_grad(x, y, n_train, n_val, K, work, s0, w_u, b_u, w_g, b_g, w_a, w_out, b_out):
    one = x.dtype.type(1.0)
    out = _forward(x, work, s0, w_u, b_u, w_g, b_g, w_a, w_out, b_out)
    work, h, num, den, e, rho, u, tg, yhat = out
    train, val = cd.losses(yhat, y, n_train, n_val)
    H, n = s0.shape
    gs, gw_u, gb_u, gw_g = (
        np.zeros_like(s0),
        np.zeros_like(w_u),
        np.zeros_like(b_u),
        np.zeros_like(w_g),
    )
    gb_g, gw_a, gw_out, gb_out = (
        np.zeros_like(b_g),
        np.zeros_like(w_a),
        np.zeros_like(w_out),
        np.zeros_like(b_out),
    )
    dh = np.zeros((H, n), dtype=x.dtype)  # dL/dh_t through step t+1
    nu = np.zeros((H, n), dtype=x.dtype)  # rho_{t+1} nu_{t+1} (scaled dL/dN)
    de = np.zeros((H, n), dtype=x.dtype)  # rho_{t+1} de_{t+1} (scaled dL/dD)
    zg = np.empty((H, n), dtype=x.dtype)
    za = np.empty((H, n), dtype=x.dtype)
    dyt = np.empty(n, dtype=x.dtype)  # dL/dy^_t
    for t in range(n_train - 1, -1, -1):
        xt, h0, h1 = x[t], h[t], h[t + 1]
        cd.output_grad_row(yhat, y, t, n_train, dyt)
        for s in range(n):
            gb_out[s] += dyt[s]
        for k in range(H):
            for s in range(n):
                gw_out[k, s] += dyt[s] * h1[k, s]
                dq = (dh[k, s] + w_out[k, s] * dyt[s]) * (one - h1[k, s] * h1[k, s])
                inv_den = one / den[t, k, s]
                nu_t = nu[k, s] + dq * inv_den
                de_t = de[k, s] - dq * (num[t, k, s] * inv_den) * inv_den
                nu[k, s] = rho[t, k, s] * nu_t
                de[k, s] = rho[t, k, s] * de_t
                ut, tgt, et = u[t, k, s], tg[t, k, s], e[t, k, s]
                dz = nu_t * et
                za[k, s] = (nu_t * (ut * tgt) + de_t) * et
                du = dz * tgt
                zg[k, s] = dz * ut * (one - tgt * tgt)
                gw_u[k, s] += du * xt
                gb_u[k, s] += du
                gb_g[k, s] += zg[k, s]
                gw_g[k, 0, s] += zg[k, s] * xt
                gw_a[k, 0, s] += za[k, s] * xt
            for j in range(H):
                for s in range(n):
                    gw_g[k, 1 + j, s] += zg[k, s] * h0[j, s]
                    gw_a[k, 1 + j, s] += za[k, s] * h0[j, s]
        for j in range(H):
            for s in range(n):
                dh[j, s] = 0.0
            for k in range(H):
                for s in range(n):
                    dh[j, s] += w_g[k, 1 + j, s] * zg[k, s] + w_a[k, 1 + j, s] * za[k, s]
    for k in range(H):  # h_0 = tanh(s)
        for s in range(n):
            gs[k, s] = dh[k, s] * (one - h[0, k, s] * h[0, k, s])
    return train, val, work, gs, gw_u, gb_u, gw_g, gb_g, gw_a, gw_out, gb_out


def _hidden(params: dict) -> int:
    S, H, p = params["w_u"].shape
    assert p == 1 and params["w_out"].shape[1] == 1, "kernels assume p = q = 1"
    return H


def forward(params: dict, x, K: int | None = None) -> np.ndarray:
    """Predictions [S, T, 1] from the initial state over all T steps of x [T, 1] (K unused)."""
    return cd.run_forward(_predict, _shapes(_hidden(params)), params, x, 0 if K is None else K)


def loss_grad(params: dict, x, y, n_train: int, n_val: int, K: int | None = None, active=None):
    """(train_loss [S], val_loss [S], grads) of one pass over n_train + n_val steps."""
    shapes = _shapes(_hidden(params))
    K = 0 if K is None else K
    return cd.run_loss_grad(_loss_grad, shapes, params, x, y, n_train, n_val, K, active)
