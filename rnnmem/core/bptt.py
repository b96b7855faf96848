"""The engine's written-out backward pass through time (BPTT), for every model at once.

It takes the gradient that reaches the top layer's hidden states from outside the
network (from a study's readout and loss) and returns every parameter's gradient. It
computes what autograd computes through `Ensemble.run`, without autograd's per-operation
bookkeeping, which dominates the cost of these small networks (checked against autograd
to 1e-12 in float64, tests/core/test_bptt.py). No readout and no loss live here.

Symbols as in rnnmem.core.ensemble; every tensor is in the feature-major layout
(M, features, T, B) of rnnmem.core.layer_major.
"""

from __future__ import annotations

import torch


def _local_factors(cell, units, Hx, cache):
    """Per-step derivative factors of one layer, computed for all steps at once: (M, ., T, B).

    RNN:  d a = dh * (1 - h^2)
    LSTM: dc = dc' + dh * o (1 - tanh(c)^2);  d[i, f, g, o] = [dc, dc, dc, dh] * fac
    GRU:  d gh = [dh, dh, dh] * fac;  dh_prev = d gh @ W_hh + dh * z
    """
    c = units
    H = Hx[:, :, 1:]
    if cell == "rnn":
        return {"fac": 1 - H * H}
    if cell == "lstm":
        sig, g, cx, tc = cache["sig"], cache["g"], cache["cx"], cache["tc"]
        i, f, o = sig[:, :c], sig[:, c : 2 * c], sig[:, 3 * c :]
        dsig = sig * (1 - sig)
        fac = torch.cat(
            [
                g * dsig[:, :c],
                cx[:, :, :-1] * dsig[:, c : 2 * c],
                i * (1 - g * g),
                tc * dsig[:, 3 * c :],
            ],
            dim=1,
        )  # (M, 4c, T, B)
        return {"fac": fac, "dc": o * (1 - tc * tc), "f": f}
    rz, n, nh = cache["rz"], cache["n"], cache["nh"]
    r, z = rz[:, :c], rz[:, c:]
    drz = rz * (1 - rz)
    dn = (1 - z) * (1 - n * n)  # d h / d (pre-activation of n)
    fac = torch.cat([dn * nh * drz[:, :c], (Hx[:, :, :-1] - n) * drz[:, c:], dn * r], dim=1)
    return {"fac": fac, "dn": dn, "z": z}


def truncation_mask(lengths: torch.Tensor, T: int, tbptt_k: int | None, dtype):
    """Per step (M, 1, B): 0 where the state entering step last-k+1 is cut from the graph
    (truncated BPTT through each sequence's last k steps), else 1; None for full BPTT."""
    if tbptt_k is None:
        return None
    M, B = lengths.shape
    last = (lengths - 1).view(M, 1, 1, B)
    steps = torch.arange(T, device=lengths.device).view(1, 1, T, 1)
    return (1 - (steps == last - tbptt_k + 1).to(dtype)).unbind(2)


def bptt(cell, layers, units, P, cache, d_h_top, lengths, tbptt_k):
    """Gradients of every parameter, from the gradient reaching the top layer's states.

    P: the parameters the forward pass ran with (by name, (M, ...), detached); cache:
    (inputs, hs, gates) of `layer_major_forward(..., keep="cache")`; d_h_top: (M, c, T, B)
    or (M, 1, T, B) (broadcast over units), d objective / d h_t of the top layer from
    outside the recurrence, h_t the state after step t; lengths: (M, B), read for tbptt_k
    only (the state entering each sequence's step last-k+1 is cut from the graph).
    Returns {param name: gradient with the parameter's shape}.
    """
    inputs, hs, saved = cache
    ref = hs[0]  # dtype and device of every buffer
    M, c, T, B = ref.shape[0], units, ref.shape[2] - 1, ref.shape[3]
    keep = truncation_mask(lengths, T, tbptt_k, ref.dtype)
    d_h_in = d_h_top
    grads = {}
    for j in reversed(range(layers)):
        # ---- backward through time of layer j; d_h_in: gradient reaching h_t from outside
        # the recurrence
        W_hh_T = P[f"weight_hh_l{j}"].transpose(1, 2)  # (M, c, G*c), a transposed operand
        F = _local_factors(cell, c, hs[j], saved[j])
        G = F["fac"].shape[1]
        d_gh = ref.new_empty(M, G, T, B)  # gradient of the recurrent pre-activations
        dh_all = ref.new_empty(M, c, T, B) if cell == "gru" else None
        dh_carry = dc_carry = None  # gradient reaching h_t (and c_t) from step t + 1
        fac, d_in, out = F["fac"].unbind(2), d_h_in.unbind(2), d_gh.unbind(2)
        if cell == "rnn":  # da = (dh_carry + d_in) * fac: one fused kernel per step
            d_in = (d_h_in * F["fac"]).unbind(2)
        elif cell == "lstm":  # gate blocks as (M, 4, c, B) views: i, f, g take dc, o takes dh
            fac4, out4 = F["fac"].view(M, 4, c, T, B), d_gh.view(M, 4, c, T, B)
            fac_ifg, fac_o = fac4[:, :3].unbind(3), fac4[:, 3].unbind(2)
            out_ifg, out_o = out4[:, :3].unbind(3), out4[:, 3].unbind(2)
            dc_fac, f_t = F["dc"].unbind(2), F["f"].unbind(2)
        else:
            fac3 = F["fac"].view(M, 3, c, T, B).unbind(3)
            out3 = d_gh.view(M, 3, c, T, B).unbind(3)
            dh_t, z_t = dh_all.unbind(2), F["z"].unbind(2)
        for t in reversed(range(T)):
            if cell == "rnn":
                if dh_carry is None:
                    da = out[t].copy_(d_in[t])
                else:
                    da = torch.addcmul(d_in[t], dh_carry, fac[t], out=out[t])
            else:
                dh = d_in[t] if dh_carry is None else dh_carry + d_in[t]  # (M, c|1, B)
                if cell == "lstm":
                    dh = dh.expand(M, c, B)
                    if dc_carry is None:
                        dc = dh * dc_fac[t]
                    else:
                        dc = torch.addcmul(dc_carry, dh, dc_fac[t])
                    torch.mul(fac_ifg[t], dc.unsqueeze(1), out=out_ifg[t])
                    torch.mul(fac_o[t], dh, out=out_o[t])
                    dc_carry = dc * f_t[t]
                else:
                    dh = dh_t[t].copy_(dh.expand(M, c, B))
                    torch.mul(fac3[t], dh.unsqueeze(1), out=out3[t])
                da = out[t]
            if t == 0:
                break
            if cell == "gru":
                dh_carry = torch.baddbmm(dh * z_t[t], W_hh_T, da)
            else:
                dh_carry = torch.bmm(W_hh_T, da)  # (M, c, B)
            if keep is not None:
                dh_carry = dh_carry * keep[t]
                if cell == "lstm":
                    dc_carry = dc_carry * keep[t]
        if cell == "gru":  # the input side's n gradient lacks the factor r
            d_gi = torch.cat([d_gh[:, : 2 * c], dh_all * F["dn"]], dim=1)
        else:
            d_gi = d_gh
        # ---- parameter gradients: one batched product over all steps and sequences
        gh_k = d_gh.view(M, G, T * B)
        gi_k = gh_k if d_gi is d_gh else d_gi.view(M, G, T * B)
        h_prev = hs[j][:, :, :-1].reshape(M, c, T * B)  # a view: the state entering each step
        inp = inputs[j].reshape(M, -1, T * B)
        grads[f"weight_hh_l{j}"] = torch.bmm(gh_k, h_prev.transpose(1, 2))
        grads[f"weight_ih_l{j}"] = torch.bmm(gi_k, inp.transpose(1, 2))
        grads[f"bias_ih_l{j}"] = gi_k.sum(-1)
        grads[f"bias_hh_l{j}"] = gh_k.sum(-1) if cell == "gru" else grads[f"bias_ih_l{j}"]
        if j > 0:
            d_h_in = torch.bmm(P[f"weight_ih_l{j}"].transpose(1, 2), gi_k).view(M, c, T, B)
    return grads
