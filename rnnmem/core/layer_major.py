"""The engine's fast forward pass: layer-major, in the feature-major layout (M, ., T, B).

Used for inference (`Ensemble.run` without gradients) and for training with the
written-out backward pass (rnnmem.core.bptt), which reads the gate values it keeps.
Symbols as in rnnmem.core.ensemble (M models, B sequences, T steps, m inputs, c units,
G gates).
"""

from __future__ import annotations

import torch

PARAM_KINDS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def layer_major_forward(cell, layers, units, P, x, keep: str = "cache"):
    """Layer-major forward pass: each layer runs over all T steps before the next one.

    P: parameters by name (M, ...), detached; x: (M, B, T) scalar inputs or (M, B, T, m).
    keep: "cache" also returns what the backward pass needs; "states" the LSTM cell states.
    Returns (inputs, hs, extra) in the feature-major layout (M, features, T, B): per layer
    its input sequence (M, m, T, B), its hidden states (M, c, T + 1, B) with step 0 the
    zero initial state, and per layer a dict of gate values (cache) or the cell states
    (M, c, T, B).
    Why this layout: a step's gate block of one model, (c, B), has rows of B contiguous
    values, so every elementwise kernel runs on the vector path (B is a multiple of
    VECTOR_ALIGN in training and inference) and an element's rounding does not depend on
    M; per-model products need no transposes (W (G*c, c) @ h (c, B)); and the weight
    gradients contract over steps and sequences, one contiguous (T * B) axis, in one
    batched product without copies. Layer-major, a layer's whole input part W_ih x + b
    is one operation before its time loop, which then costs a few kernels per step.
    """
    c = units
    if x.dim() == 3:
        x = x.unsqueeze(-1)
    M, B, T, _ = x.shape
    inputs = [x.permute(0, 3, 2, 1).contiguous()]  # per layer: (M, m, T, B)
    hs, extra = [], []
    for j in range(layers):
        W_ih, W_hh = P[f"weight_ih_l{j}"], P[f"weight_hh_l{j}"]  # (M, G*c, m), (M, G*c, c)
        b_ih = P[f"bias_ih_l{j}"].unsqueeze(-1)  # (M, G*c, 1)
        b_hh = P[f"bias_hh_l{j}"].unsqueeze(-1)
        bias_h = None
        if cell == "gru":  # b_hn stays on the recurrent side: it sits inside r * (W_hn h + b_hn)
            bias = torch.cat([b_ih[:, : 2 * c] + b_hh[:, : 2 * c], b_ih[:, 2 * c :]], dim=1)
            bias_h = torch.cat([torch.zeros_like(b_hh[:, : 2 * c]), b_hh[:, 2 * c :]], dim=1)
        else:
            bias = b_ih + b_hh
        inp = inputs[j]
        if inp.shape[1] == 1:  # scalar input: an outer product, no matmul
            gi = torch.addcmul(bias.unsqueeze(-1), W_ih.unsqueeze(-1), inp)  # (M, G*c, T, B)
        else:  # one product per model over all steps
            gi = torch.baddbmm(bias, W_ih, inp.reshape(M, -1, T * B)).view(M, -1, T, B)
        Hx = x.new_empty(M, c, T + 1, B)
        Hx[:, :, 0] = 0
        gi_t, H_t = gi.unbind(2), Hx[:, :, 1:].unbind(2)  # per-step views, made once
        h = Hx[:, :, 0]
        if cell == "rnn":
            for t in range(T):
                h = torch.tanh(torch.baddbmm(gi_t[t], W_hh, h), out=H_t[t])
            cache = {}
        elif cell == "lstm":
            cache = _lstm_layer(x, gi_t, H_t, h, W_hh, c, M, T, B)
        else:
            cache = _gru_layer(x, gi, H_t, h, W_hh, bias_h, c, M, T, B)
        hs.append(Hx)
        if keep == "cache":
            extra.append(cache)
        elif keep == "states" and cell == "lstm":
            extra.append(cache["cx"][:, :, 1:])
        inputs.append(Hx[:, :, 1:])
    return inputs, hs, extra


def _lstm_layer(x, gi_t, H_t, h, W_hh, c, M, T, B) -> dict:
    """One LSTM layer's time loop; writes h_t into H_t, returns the gate values kept."""
    SIG, TG, TC = x.new_empty(M, 4 * c, T, B), x.new_empty(M, c, T, B), x.new_empty(M, c, T, B)
    CSx = x.new_empty(M, c, T + 1, B)  # cell states, step 0 the zero initial state
    CSx[:, :, 0] = 0
    i_t, f_t, o_t = (SIG[:, k * c : (k + 1) * c].unbind(2) for k in (0, 1, 3))
    SIG_t, TG_t, TC_t = SIG.unbind(2), TG.unbind(2), TC.unbind(2)
    CS_t = CSx[:, :, 1:].unbind(2)
    cst = CSx[:, :, 0]
    for t in range(T):
        gates = torch.baddbmm(gi_t[t], W_hh, h)  # (M, 4c, B): i, f, g, o
        torch.sigmoid(gates, out=SIG_t[t])
        g = torch.tanh(gates[:, 2 * c : 3 * c], out=TG_t[t])
        cst = torch.addcmul(f_t[t] * cst, i_t[t], g, out=CS_t[t])
        h = torch.mul(o_t[t], torch.tanh(cst, out=TC_t[t]), out=H_t[t])
    return {"sig": SIG, "g": TG, "cx": CSx, "tc": TC}


def _gru_layer(x, gi, H_t, h, W_hh, bias_h, c, M, T, B) -> dict:
    """One GRU layer's time loop; writes h_t into H_t, returns the gate values kept."""
    RZ, N, NH = x.new_empty(M, 2 * c, T, B), x.new_empty(M, c, T, B), x.new_empty(M, c, T, B)
    gi_rz, gi_n = gi[:, : 2 * c].unbind(2), gi[:, 2 * c :].unbind(2)
    RZ_t, N_t, NH_t = RZ.unbind(2), N.unbind(2), NH.unbind(2)
    r_t, z_t = RZ[:, :c].unbind(2), RZ[:, c:].unbind(2)
    for t in range(T):
        gh = torch.baddbmm(bias_h, W_hh, h)  # (M, 3c, B): W_hr h, W_hz h, W_hn h + b_hn
        torch.sigmoid(torch.add(gi_rz[t], gh[:, : 2 * c]), out=RZ_t[t])
        nh = NH_t[t].copy_(gh[:, 2 * c :])
        n = torch.tanh(torch.addcmul(gi_n[t], r_t[t], nh), out=N_t[t])
        h = torch.addcmul(n, z_t[t], h - n, out=H_t[t])  # (1 - z) n + z h
    return {"rz": RZ, "n": N, "nh": NH}
