"""The compiled driver: every model of a job, every mini-batch, in one call.

`run` goes through S mini-batches per model, in one of three modes: TRAIN (forward through
all layers, the study's readout and L1 loss, backward through time truncated at tbptt_k,
the SGD update), GRADS (the same without the update: one mini-batch's gradients) and
FORWARD (the readout only, for evaluation). The model loop is the outermost loop and no
array is shared between models' numbers, so a model's bits do not depend on its
companions. The cell (RNN, LSTM, GRU: CELL_CODES) is an argument; its layer loops come from
its module. One entry point, so that a dtype compiles once (about 30 s, then cached).

Per model and mini-batch, with Tb = its longest sequence and last_b = lengths_b - 1:

    readout  y_b = sum_k h_top[last_b, k, b]       loss = sum_b |y_b - target_b| / B
    gradient reaching h_top[last_b, k, b]: sign(y_b - target_b) / B, zero at other steps
    truncated BPTT (k = tbptt_k): the state entering step last_b - k + 1 is cut from the
    graph; steps below every sequence's cut get no gradient and are skipped.

Steps past a sequence's end run on its padding but are never read (as in the torch engine);
steps past the batch's longest sequence are not run.
"""

from __future__ import annotations

import numba
import numpy as np

from . import common as cm
from . import gru, lstm, rnn

CELL_CODES = {cell: code for cell, (_, _, code) in cm.CELLS.items()}
TRAIN, GRADS, FORWARD = 0, 1, 2


@numba.njit(**cm.INLINE)
def _load_inputs(X0, x, lengths):
    """X0[t + 1, 0, b] = x[b, t] up to the longest sequence; returns its length Tb."""
    B = x.shape[0]
    Tb = 0
    for b in range(B):
        Tb = max(Tb, lengths[b])
    for t in range(Tb):
        for b in range(B):
            X0[t + 1, 0, b] = x[b, t]
    return Tb


@numba.njit(**cm.INLINE)
def _sign(e, one):
    """torch.sign: 1, -1, 0 for 0, NaN for NaN (e * 0)."""
    return one if e > 0 else (-one if e < 0 else e * 0)


@numba.njit(**cm.JIT)
def run(cell, L, c, theta, x, lengths, targets, lr, tbptt_k, mode, losses, grads, outputs):
    """S mini-batches of every model, in `mode` (TRAIN, GRADS or FORWARD).

    theta: (M, P) flat parameters (common.layer_views), updated in place in TRAIN;
    x: (S, M, B, T) inputs, right-padded; lengths: (S, M, B) int64 in 1..T; targets (S, M, B)
    (read in TRAIN and GRADS); lr: the SGD step; tbptt_k: 0 for full BPTT.
    Writes, by mode: TRAIN losses (S, M), each mini-batch's loss before its update; GRADS
    losses (1, M) and grads (M, P) of one mini-batch (S = 1); FORWARD outputs (S, M, B).
    """
    S, M, B, T = x.shape
    dt = theta.dtype.type
    G = 1 if cell == 0 else (4 if cell == 1 else 3)
    gc = G * c
    H = np.zeros((L, T + 1, c, B), dtype=theta.dtype)  # hidden states, row 0 the zero state
    C = np.zeros((L, T + 1, c, B), dtype=theta.dtype)  # LSTM cell states, row 0 zero
    A = np.empty((L, T, gc, B), dtype=theta.dtype)  # gate activations
    E = np.empty((L, T, c, B), dtype=theta.dtype)  # LSTM tanh(c_t), GRU W_hn h + b_hn
    X0 = np.zeros((T + 1, 1, B), dtype=theta.dtype)  # the inputs at rows 1..T
    D = np.empty((T, gc, B), dtype=theta.dtype)  # recurrent side's da, per layer
    DI = np.empty((T, gc, B), dtype=theta.dtype) if cell == 2 else D  # input side's
    d_in = np.empty((T, c, B), dtype=theta.dtype)  # gradient reaching h_t from outside
    carry = np.empty((1, c, B), dtype=theta.dtype)  # gradients carried to step t - 1
    carry_c = np.empty((1, c, B), dtype=theta.dtype)
    cut = np.empty(B, dtype=np.int64)  # per sequence: the step whose incoming state is cut
    cuts = np.zeros(T, dtype=np.bool_)  # per step: whether any sequence is cut there
    bias = np.empty(gc, dtype=theta.dtype)
    acc = np.empty((c, B), dtype=theta.dtype)  # per-sequence sums of weight gradients
    g = np.empty(theta.shape[1], dtype=theta.dtype)
    neg_lr = dt(-lr)
    inv_b = dt(1.0) / dt(B)
    for m in range(M):
        th = theta[m]
        for s in range(S):
            ls = lengths[s, m]
            Tb = _load_inputs(X0, x[s, m], ls)
            # ---- forward, layer by layer
            for j in range(L):
                w_ih, w_hh, b_ih, b_hh = cm.layer_views(th, j, gc, c, 1)
                inp = X0 if j == 0 else H[j - 1]
                if cell == 0:
                    rnn.forward(w_ih, w_hh, b_ih, b_hh, inp, H[j], Tb, bias)
                elif cell == 1:
                    lstm.forward(w_ih, w_hh, b_ih, b_hh, inp, H[j], A[j], C[j], E[j], Tb, bias)
                else:
                    gru.forward(w_ih, w_hh, b_ih, b_hh, inp, H[j], A[j], E[j], Tb, bias)
            top = H[L - 1]
            if mode == FORWARD:
                for b in range(B):
                    out = dt(0.0)
                    for k in range(c):
                        out += top[ls[b], k, b]
                    outputs[s, m, b] = out
                continue
            # ---- readout, loss, and the gradient reaching the top layer's states
            ys = targets[s, m]
            cuts[:] = False
            t_lo = Tb if tbptt_k > 0 else 0
            for b in range(B):
                cut[b] = ls[b] - tbptt_k if tbptt_k > 0 else -1
                if cut[b] > 0:
                    cuts[cut[b]] = True
                if tbptt_k > 0:
                    t_lo = min(t_lo, max(cut[b], 0))
            d_in[t_lo:Tb] = 0.0
            loss = dt(0.0)
            for b in range(B):
                last = ls[b] - 1
                out = dt(0.0)
                for k in range(c):
                    out += top[last + 1, k, b]
                err = out - ys[b]
                loss += abs(err)
                sgn = _sign(err, dt(1.0)) * inv_b  # = sign / B exactly: 1 / B is one rounding
                for k in range(c):
                    d_in[last, k, b] = sgn
            losses[s, m] = loss / dt(B)
            # ---- backward, top layer first
            g[:] = 0.0
            for j in range(L - 1, -1, -1):
                w_ih, w_hh, _, _ = cm.layer_views(th, j, gc, c, 1)
                g_ih, g_hh, g_bih, g_bhh = cm.layer_views(g, j, gc, c, 1)
                if cell == 0:
                    rnn.backward(w_hh, H[j], d_in, D, carry, cut, cuts, t_lo, Tb)
                elif cell == 1:
                    lstm.backward(
                        w_hh, A[j], C[j], E[j], d_in, D, carry, carry_c, cut, cuts, t_lo, Tb
                    )
                else:
                    gru.backward(w_hh, H[j], A[j], E[j], d_in, D, DI, carry, cut, cuts, t_lo, Tb)
                inp = X0 if j == 0 else H[j - 1]
                cm.outer_sums(g_hh, D, H[j], 0, t_lo, Tb, acc)
                cm.outer_sums(g_ih, DI, inp, 1, t_lo, Tb, acc)
                cm.row_sums(g_bih, DI, t_lo, Tb, acc)
                cm.row_sums(g_bhh, D, t_lo, Tb, acc)
                if j > 0:  # the gradient reaching the layer below: W_ih^T da, step by step
                    d_in[t_lo:Tb] = 0.0
                    for t in range(t_lo, Tb):
                        cm.add_transposed(d_in, t, w_ih, DI, t, 0, gc)
            if mode == TRAIN:
                for p in range(th.shape[0]):
                    th[p] = th[p] + neg_lr * g[p]
            else:
                grads[m, :] = g
