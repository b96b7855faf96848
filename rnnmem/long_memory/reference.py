"""Plain per-seed reference of the nine time-series models: the oracle for the fused kernels.

One function per model steps over time with a Python loop on unbatched torch tensors, so
autograd gives exact BPTT gradients (use float64 for tests). Equations: docs/studies/long-memory.md
section 3 (parameter names and creation order: cells.py); shapes for one seed (p inputs,
q outputs, H hidden, K lags):

    rnn     h_t = tanh(w_ih x_t + b_ih + w_hh h_{t-1} + b_hh);  y_t = w_out h_t + b_out
    lstm    torch LSTMCell (gates i, f, g, o), y_t = w_out h_t + b_out
    mrnnf   d = 0.5 sigmoid(a);  F_t = sum_{j=1..K} pi_j(d) x_{t+1-j}   [p]
            m_t = tanh(w_mm m_{t-1} + b_m + w_fm F_t);  h_t = tanh(w_hh h_{t-1} + b_h + w_xh x_t)
            y_t = tanh(w_hz h_t + b_z + w_mz m_t)
    rnn2    as mrnnf with F_t = sum_j w_filter[j-1] x_{t+1-j}
    mrnn    d_t = 0.5 sigmoid(w_dd d_{t-1} + b_d + w_hd h_{t-1} + w_md m_{t-1} + w_xd x_t),
            F_t with pi_j(d_t) on every lag, m_t and h_t as mrnnf, y_t = w_hz h_t + b_z + w_mz m_t
    mlstmf  u = [x_t, h_{t-1}];  i, o = sigmoid(.), c~ = tanh(.);  d = 0.5 sigmoid(a)   [H]
            c_t = sum_j (-pi_j(d)) c_{t-j} + i c~;  h_t = o tanh(c_t);  y_t = w_out h_t + b_out
    mlstm   as mlstmf with d_t = 0.5 sigmoid(w_f [x_t, h_{t-1}, d_{t-1}] + b_f)
    rwa     h_0 = tanh(s);  z = (w_u x_t + b_u) tanh(w_g u + b_g);  a = w_a u
            h_t = tanh(sum_k z_k e^{a_k} / sum_k e^{a_k})   (running-max form)
    mist    alpha = softmax(w_alpha u + b_alpha) [8];  r = sigmoid(w_r u + b_r)
            h_t = tanh(w_h (r * sum_i alpha_i h_{t-tau_i}) + w_x x_t + b_x),  tau = 1, 2, .., 128

pi_j(d) = prod_{i=1..j} (i - 1 - d) / i (long-memory.md §2.1), as a closed-form cumulative product.
All states start at zero (inputs, cells and hidden states before the start count as 0).
A state dict can be passed back in to continue a pass (train -> validation -> test).
Buffers are newest first: win[j - 1] = x_{t+1-j}, cells[j - 1] = c_{t-j}, hist[k - 1] = h_{t-k}.
"""

from __future__ import annotations

import numpy as np
import torch

from rnnmem.long_memory.cells import MIST_DELAYS


def pi_weights(d: torch.Tensor, K: int) -> torch.Tensor:
    """pi_1..pi_K of every entry of d [C], as [K, C] (row j - 1 holds pi_j)."""
    j = torch.arange(1, K + 1, dtype=d.dtype)[:, None]
    return torch.cumprod((j - 1 - d[None, :]) / j, dim=0)


def _zeros(state, key, *shape, like):
    return state[key] if state is not None else torch.zeros(*shape, dtype=like.dtype)


def _shift(buf, new):
    """Push `new` in front of a newest-first buffer, dropping the oldest row."""
    return torch.cat([new[None], buf[:-1]]) if buf.shape[0] > 0 else buf


def _stack(ys, q, like):
    return torch.stack(ys) if ys else torch.zeros(0, q, dtype=like.dtype)


def _rnn(P, x, K, state):
    h = _zeros(state, "h", P["w_hh"].shape[0], like=x)
    ys = []
    for x_t in x:
        h = torch.tanh(P["w_ih"] @ x_t + P["b_ih"] + P["w_hh"] @ h + P["b_hh"])
        ys.append(P["w_out"] @ h + P["b_out"])
    return _stack(ys, P["b_out"].shape[0], x), {"h": h}


def _lstm(P, x, K, state):
    H = P["w_hh"].shape[1]
    h = _zeros(state, "h", H, like=x)
    c = _zeros(state, "c", H, like=x)
    ys = []
    for x_t in x:
        gates = P["w_ih"] @ x_t + P["b_ih"] + P["w_hh"] @ h + P["b_hh"]
        i, f, g, o = gates.split(H)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        ys.append(P["w_out"] @ h + P["b_out"])
    return _stack(ys, P["b_out"].shape[0], x), {"h": h, "c": c}


def _tracks(P, m, h, F_t, x_t):
    """One step of the memory track m and the hidden track h of the MRNN family."""
    m = torch.tanh(P["w_mm"] @ m + P["b_m"] + P["w_fm"] @ F_t)
    h = torch.tanh(P["w_hh"] @ h + P["b_h"] + P["w_xh"] @ x_t)
    return m, h


def _fixed_filter_rnn(P, x, K, state, filt):
    """mrnnf and rnn2: fixed filter weights filt [K, p], tanh output."""
    H, p = P["w_xh"].shape
    h = _zeros(state, "h", H, like=x)
    m = _zeros(state, "m", H, like=x)
    prev = _zeros(state, "win", K - 1, p, like=x)  # the K - 1 previous inputs
    ys = []
    for x_t in x:
        win = torch.cat([x_t[None], prev])
        m, h = _tracks(P, m, h, (filt * win).sum(0), x_t)
        ys.append(torch.tanh(P["w_hz"] @ h + P["b_z"] + P["w_mz"] @ m))
        prev = win[:-1]
    return _stack(ys, P["b_z"].shape[0], x), {"h": h, "m": m, "win": prev}


def _mrnnf(P, x, K, state):
    return _fixed_filter_rnn(P, x, K, state, pi_weights(0.5 * torch.sigmoid(P["a"]), K))


def _rnn2(P, x, K, state):
    assert P["w_filter"].shape[0] == K, "rnn2's w_filter must have K rows"
    return _fixed_filter_rnn(P, x, K, state, P["w_filter"])


def _mrnn(P, x, K, state):
    H, p = P["w_xh"].shape
    h = _zeros(state, "h", H, like=x)
    m = _zeros(state, "m", H, like=x)
    d = _zeros(state, "d", p, like=x)
    prev = _zeros(state, "win", K - 1, p, like=x)
    ys = []
    for x_t in x:
        pre = P["w_dd"] @ d + P["b_d"] + P["w_hd"] @ h + P["w_md"] @ m + P["w_xd"] @ x_t
        d = 0.5 * torch.sigmoid(pre)  # uses h_{t-1}, m_{t-1}: before the tracks step
        win = torch.cat([x_t[None], prev])
        m, h = _tracks(P, m, h, (pi_weights(d, K) * win).sum(0), x_t)
        ys.append(P["w_hz"] @ h + P["b_z"] + P["w_mz"] @ m)
        prev = win[:-1]
    return _stack(ys, P["b_z"].shape[0], x), {"h": h, "m": m, "d": d, "win": prev}


def _mlstm_family(P, x, K, state, dynamic):
    H = P["w_i"].shape[0]
    h = _zeros(state, "h", H, like=x)
    cells = _zeros(state, "cells", K, H, like=x)  # cells[j - 1] = c_{t-j}
    if dynamic:
        d = _zeros(state, "d", H, like=x)
    else:
        neg_pi = -pi_weights(0.5 * torch.sigmoid(P["a"]), K)  # once per pass
    ys = []
    for x_t in x:
        u = torch.cat([x_t, h])
        if dynamic:
            d = 0.5 * torch.sigmoid(P["w_f"] @ torch.cat([x_t, h, d]) + P["b_f"])
            neg_pi = -pi_weights(d, K)
        i = torch.sigmoid(P["w_i"] @ u + P["b_i"])
        o = torch.sigmoid(P["w_o"] @ u + P["b_o"])
        c_tilde = torch.tanh(P["w_c"] @ u + P["b_c"])
        c = (neg_pi * cells).sum(0) + i * c_tilde
        cells = _shift(cells, c)
        h = o * torch.tanh(c)
        ys.append(P["w_out"] @ h + P["b_out"])
    new_state = {"h": h, "cells": cells}
    if dynamic:
        new_state["d"] = d
    return _stack(ys, P["b_out"].shape[0], x), new_state


def _mlstmf(P, x, K, state):
    return _mlstm_family(P, x, K, state, dynamic=False)


def _mlstm(P, x, K, state):
    return _mlstm_family(P, x, K, state, dynamic=True)


def _rwa(P, x, K, state):
    if state is None:
        H = P["s"].shape[0]
        h = torch.tanh(P["s"])
        num = torch.zeros(H, dtype=x.dtype)
        den = torch.zeros(H, dtype=x.dtype)
        top = torch.full((H,), -torch.inf, dtype=x.dtype)  # running max M_t, M_0 = -inf
    else:
        h, num, den, top = state["h"], state["num"], state["den"], state["top"]
    ys = []
    for x_t in x:
        u = torch.cat([x_t, h])
        z = (P["w_u"] @ x_t + P["b_u"]) * torch.tanh(P["w_g"] @ u + P["b_g"])
        a = P["w_a"] @ u
        # n/den does not depend on the shift M, so M is a constant for autograd (detach):
        # the gradient stays exact and exp never overflows.
        new_top = torch.maximum(top, a.detach())
        rescale = torch.exp(top - new_top)  # 0 at the first step (M_0 = -inf)
        weight = torch.exp(a - new_top)
        num = num * rescale + z * weight
        den = den * rescale + weight
        top = new_top
        h = torch.tanh(num / den)
        ys.append(P["w_out"] @ h + P["b_out"])
    return _stack(ys, P["b_out"].shape[0], x), {"h": h, "num": num, "den": den, "top": top}


def _mist(P, x, K, state):
    H = P["w_h"].shape[0]
    hist = _zeros(state, "hist", MIST_DELAYS[-1], H, like=x)  # hist[k - 1] = h_{t-k}
    lag = torch.tensor(MIST_DELAYS) - 1
    ys = []
    for x_t in x:
        u = torch.cat([x_t, hist[0]])
        alpha = torch.softmax(P["w_alpha"] @ u + P["b_alpha"], dim=0)
        r = torch.sigmoid(P["w_r"] @ u + P["b_r"])
        mixed = (alpha[:, None] * hist[lag]).sum(0)
        h = torch.tanh(P["w_h"] @ (r * mixed) + P["w_x"] @ x_t + P["b_x"])
        hist = _shift(hist, h)
        ys.append(P["w_out"] @ h + P["b_out"])
    return _stack(ys, P["b_out"].shape[0], x), {"hist": hist}


_RUN = {
    "rnn": _rnn,
    "lstm": _lstm,
    "mrnnf": _mrnnf,
    "rnn2": _rnn2,
    "mrnn": _mrnn,
    "mlstmf": _mlstmf,
    "mlstm": _mlstm,
    "rwa": _rwa,
    "mist": _mist,
}


def _as_series(x, dtype) -> torch.Tensor:
    x = torch.as_tensor(x, dtype=dtype)
    return x[:, None] if x.ndim == 1 else x


def reference_run(model: str, params: dict, x, K: int, state: dict | None = None):
    """Predictions yhat [T, q] over x [T, p] from `state` (None: the zero state), and the state."""
    if model not in _RUN:
        raise ValueError(f"unknown model {model!r}")
    dtype = next(iter(params.values())).dtype
    return _RUN[model](params, _as_series(x, dtype), K, state)


def reference_forward(model: str, params_one_seed: dict, x, K: int) -> torch.Tensor:
    """Predictions yhat [T, q] of one seed over x [T, p], from the zero state."""
    return reference_run(model, params_one_seed, x, K)[0]


def reference_loss_grad(model: str, params_np: dict, x, y, n_train: int, n_val: int, K: int):
    """Per-seed losses and exact BPTT gradients, seed by seed with autograd.

    params_np: name -> [S, *shape]. One pass from the zero state over n_train + n_val steps.
    Returns train_loss [S], val_loss [S] (mean squared error over the steps and outputs) and
    grads name -> [S, *shape] = d train_loss[s] / d params[name][s] (zeros where unused).
    """
    names = list(params_np)
    dtype = np.asarray(params_np[names[0]]).dtype
    tdtype = torch.from_numpy(np.zeros(0, dtype=dtype)).dtype
    n = n_train + n_val
    xs = _as_series(np.asarray(x)[:n], tdtype)
    ys = _as_series(np.asarray(y)[:n], tdtype)
    S = np.asarray(params_np[names[0]]).shape[0]
    train = np.zeros(S, dtype=dtype)
    val = np.zeros(S, dtype=dtype)
    grads = {k: np.zeros_like(np.asarray(v)) for k, v in params_np.items()}
    for s in range(S):
        P = {k: torch.tensor(np.asarray(params_np[k])[s], requires_grad=True) for k in names}
        err = (reference_forward(model, P, xs, K) - ys) ** 2
        loss = err[:n_train].mean()
        found = torch.autograd.grad(loss, [P[k] for k in names], allow_unused=True)
        train[s] = loss.item()
        val[s] = err[n_train:].mean().item() if n_val > 0 else np.nan
        for k, g in zip(names, found, strict=True):
            if g is not None:
                grads[k][s] = g.numpy()
    return train, val, grads
