"""The ensemble engine: M independent stacked RNN / LSTM / GRU networks run as one.

Every parameter and state carries a leading model axis M. The time loop runs once for
all M models and one optimiser step updates all of them. Losses are summed (not
averaged) over models, so each model receives exactly its own gradient: training M
models here equals training each alone (tests/test_ensemble.py checks this against
per-model torch.nn.RNN / LSTM / GRU).

Gate equations follow torch.nn (gate order and two bias vectors per layer):

    RNN   h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
    LSTM  i, f, g, o = split(W_ih x + b_ih + W_hh h + b_hh)
          c' = sigmoid(f) * c + sigmoid(i) * tanh(g);  h' = sigmoid(o) * tanh(c')
    GRU   r, z, n_i = split(W_ih x + b_ih);  _, _, n_h = split(W_hh h + b_hh)
          r = sigmoid(r_i + r_h);  z = sigmoid(z_i + z_h);  n = tanh(n_i + r * n_h)
          h' = (1 - z) * n + z * h

The network output is the sum over the top layer's units at each sequence's own last
step (the memorization study's readout). Shapes: M models, B sequences, T steps,
c units, G gates (1 RNN, 4 LSTM, 3 GRU).

Two code paths compute the same function: `Ensemble.run` with autograd, step by step in
torch.nn's own layout (the reference, and truncated BPTT through autograd), and the
training/inference path `_forward` + `_bptt`: layer by layer, feature-major, with the
backward pass written out (checked against autograd to 1e-12 in float64).
"""

from __future__ import annotations

import math

import torch
from torch import nn

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
# torch's CPU kernels run the last (length mod 16 or 32) elements of each contiguous run of
# an elementwise op on a scalar path that rounds sigmoid and tanh differently from the
# vector path. The engine's per-step tensors are runs of B sequences per (model, unit)
# (see _forward), so with B a multiple of VECTOR_ALIGN there is no such tail, and in any
# case an element's path depends on its place within its own run, never on how many models
# share the job. Inference pads B to a multiple of VECTOR_ALIGN.
VECTOR_ALIGN = 32
PARAM_KINDS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _affine(bias: torch.Tensor, x: torch.Tensor, weight_t: torch.Tensor) -> torch.Tensor:
    """x @ weight_t + bias, batched over models (the autograd reference path)."""
    return torch.matmul(x, weight_t) + bias


def param_names(layers: int) -> list[str]:
    """Parameter names in torch.nn.RNN's order: weight_ih_l0, weight_hh_l0, bias_ih_l0, ..."""
    return [f"{kind}_l{j}" for j in range(layers) for kind in PARAM_KINDS]


def param_shape(cell: str, layer: int, units: int, input_size: int, kind: str) -> tuple:
    """Shape of one model's parameter, as in torch.nn (without the model axis)."""
    gc = GATES[cell] * units
    fan_in = input_size if layer == 0 else units
    return {"weight_ih": (gc, fan_in), "weight_hh": (gc, units), "bias_ih": (gc,), "bias_hh": (gc,)}[
        kind
    ]


def n_params(cell: str, layers: int, units: int, input_size: int = 1) -> int:
    """Trainable parameters of one network (torch convention: two biases per layer)."""
    return sum(
        math.prod(param_shape(cell, j, units, input_size, kind))
        for j in range(layers)
        for kind in PARAM_KINDS
    )


class Ensemble(nn.Module):
    """M networks of the same shape (cell, layers, units, input_size), one per model.

    Parameters are registered under torch.nn.RNN's names with a leading model axis, for
    example weight_hh_l0 has shape (M, G*c, c).
    """

    def __init__(self, cell: str, n_models: int, layers: int, units: int, input_size: int = 1,
                 dtype=torch.float32, device=None):
        super().__init__()
        if cell not in GATES:
            raise ValueError(f"unknown cell type {cell!r}; expected one of {sorted(GATES)}")
        self.cell, self.n_models, self.layers, self.units = cell, n_models, layers, units
        self.input_size = input_size
        for name in param_names(layers):
            kind, layer = name.rsplit("_l", 1)
            shape = (n_models, *param_shape(cell, int(layer), units, input_size, kind))
            self.register_parameter(name, nn.Parameter(torch.zeros(shape, dtype=dtype, device=device)))

    # ----------------------------------------------------------------------------- init
    def init_uniform_(self, generators: list[torch.Generator]) -> None:
        """torch.nn's default init, U(-1/sqrt(c), 1/sqrt(c)), each model from its own generator.

        Draws go parameter by parameter in torch.nn order, in float32 on the CPU, so the
        weights of a model depend only on its own generator (and not on the dtype).
        """
        if len(generators) != self.n_models:
            raise ValueError(f"need {self.n_models} generators, got {len(generators)}")
        bound = 1.0 / math.sqrt(self.units)
        with torch.no_grad():
            for m, gen in enumerate(generators):
                for name in param_names(self.layers):
                    p = getattr(self, name)
                    draw = torch.empty(p.shape[1:], dtype=torch.float32).uniform_(-bound, bound, generator=gen)
                    p[m].copy_(draw.to(p.dtype))

    def state_arrays(self) -> dict[str, torch.Tensor]:
        """All parameters by name (model axis first), detached."""
        return {name: p.detach().clone() for name, p in self.named_parameters()}

    def load_arrays(self, arrays: dict) -> None:
        with torch.no_grad():
            for name, p in self.named_parameters():
                p.copy_(torch.as_tensor(arrays[name], dtype=p.dtype))

    # -------------------------------------------------------------------------- forward
    def _layer(self, j: int):
        params = [getattr(self, f"{kind}_l{j}") for kind in PARAM_KINDS]
        if self.n_models == 1:
            # A lone model runs beside a detached copy of itself: with M = 1 torch takes
            # other matmul kernels, whose rounding would make a model's bits depend on
            # whether it shares its job. The copy gets no gradient; its output is dropped.
            params = [torch.cat([p, p.detach()]) for p in params]
        return params

    def _step(self, gi: torch.Tensor, h: torch.Tensor, c: torch.Tensor | None, j: int):
        """One cell step of layer j. gi: (M, B, G*c) input projection incl. bias_ih; h, c: (M, B, c)."""
        _, w_hh, _, b_hh = self._layer(j)
        gh = _affine(b_hh.unsqueeze(1), h, w_hh.transpose(1, 2))  # (M, B, G*c)
        if self.cell == "rnn":
            return torch.tanh(gi + gh), None
        if self.cell == "lstm":
            # Transcendental functions run on contiguous tensors only: their vectorised and
            # strided code paths round differently, and which one runs on a chunk view
            # depends on M, so a model's bits would depend on its companions.
            gates = gi + gh
            i, f, _, o = torch.sigmoid(gates).chunk(4, dim=-1)
            g = torch.tanh(gates[..., 2 * self.units : 3 * self.units].contiguous())
            c = f * c + i * g
            return o * torch.tanh(c), c
        r_i, z_i, n_i = gi.chunk(3, dim=-1)
        r_h, z_h, n_h = gh.chunk(3, dim=-1)
        r = torch.sigmoid(r_i + r_h)
        z = torch.sigmoid(z_i + z_h)
        n = torch.tanh(n_i + r * n_h)
        return (1 - z) * n + z * h, None

    def _input_projection(self, x: torch.Tensor, j: int) -> torch.Tensor:
        """W_ih x + b_ih for all steps at once. x: (M, B, T, m) -> (M, B, T, G*c)."""
        w_ih, _, b_ih, _ = self._layer(j)
        M, B, T, m = x.shape
        gi = _affine(b_ih.unsqueeze(1), x.reshape(M, B * T, m), w_ih.transpose(1, 2))
        return gi.reshape(M, B, T, -1)

    def run(self, x: torch.Tensor, lengths: torch.Tensor | None = None, tbptt_k: int | None = None,
            states: str = "none"):
        """Run all models over padded sequences.

        x: (M, B, T) scalar inputs or (M, B, T, m); lengths: (M, B) real lengths (default T).
        Returns (out, states):
          out: (M, B), the sum of the top layer's units at each sequence's last real step;
          states: "none" gives None; "all" gives (hs, cs), the hidden (and LSTM cell) states
            of every layer at every step as lists over layers of (M, B, T, c) tensors;
            "last" gives the same at each sequence's last real step, (M, B, c) each.
        tbptt_k: if set, gradients flow through each sequence's last k steps only.
        Steps after a sequence's end are computed on padding but never read: the state at
        the sequence's own last step is gathered, so right padding changes nothing.
        """
        if x.dim() == 3:
            x = x.unsqueeze(-1)
        M, B, T, _ = x.shape
        if lengths is None:
            lengths = torch.full((M, B), T, dtype=torch.long, device=x.device)
        if self.n_models == 1:  # see _layer: run as M = 2, keep model 0
            out, states = self._run(torch.cat([x, x]), torch.cat([lengths, lengths]), tbptt_k, states)
            if states is not None:
                states = tuple([s[:1] for s in group] for group in states)
            return out[:1], states
        return self._run(x, lengths, tbptt_k, states)

    def _run(self, x, lengths, tbptt_k, states):
        if tbptt_k is None and not torch.is_grad_enabled():
            return self._run_layer_major(x, lengths, states)
        # Step-major with autograd (tests and truncated BPTT through autograd).
        M, B, T, _ = x.shape
        last = (lengths - 1).unsqueeze(-1)  # (M, B, 1)
        zeros = x.new_zeros(M, B, self.units)
        h = [zeros] * self.layers
        c = [zeros] * self.layers if self.cell == "lstm" else [None] * self.layers
        gi0 = self._input_projection(x, 0)  # (M, B, T, G*c): layer 0's input part, all steps
        out = x.new_zeros(M, B)
        hs = [[] for _ in range(self.layers)]
        cs = [[] for _ in range(self.layers)]
        h_last = list(h)
        c_last = list(c)
        for t in range(T):
            if tbptt_k is not None:
                # Cut the graph where the last k steps begin (state entering step last-k+1).
                cut = (last - tbptt_k + 1) == t
                h = [torch.where(cut, hj.detach(), hj) for hj in h]
                if self.cell == "lstm":
                    c = [torch.where(cut, cj.detach(), cj) for cj in c]
            is_last = last == t  # (M, B, 1)
            inp = None
            for j in range(self.layers):
                if j == 0:
                    gi = gi0[:, :, t]
                else:
                    w_ih, _, b_ih, _ = self._layer(j)
                    gi = _affine(b_ih.unsqueeze(1), inp, w_ih.transpose(1, 2))
                h[j], c[j] = self._step(gi, h[j], c[j], j)
                inp = h[j]
                if states == "all":
                    hs[j].append(h[j])
                    if c[j] is not None:
                        cs[j].append(c[j])
                elif states == "last":
                    h_last[j] = torch.where(is_last, h[j], h_last[j])
                    if c[j] is not None:
                        c_last[j] = torch.where(is_last, c[j], c_last[j])
            out = torch.where(is_last.squeeze(-1), h[-1].sum(-1), out)
        if states == "all":
            return out, ([torch.stack(s, dim=2) for s in hs], [torch.stack(s, dim=2) for s in cs if s])
        if states == "last":
            return out, (h_last, [cj for cj in c_last if cj is not None])
        return out, None

    def _run_layer_major(self, x, lengths, states):
        """Inference: the training forward pass (layer-major, see _forward), no autograd."""
        P = {f"{kind}_l{j}": p.detach()
             for j in range(self.layers) for kind, p in zip(PARAM_KINDS, self._layer(j))}
        _, hs, cs = _forward(self.cell, self.layers, self.units, P, x,
                             keep="none" if states == "none" else "states")
        hs = [h[:, :, 1:] for h in hs]  # (M, c, T, B) each, as cs
        M, c, _, B = hs[0].shape
        idx = (lengths - 1).view(M, 1, 1, B).expand(M, c, 1, B)
        out = hs[-1].gather(2, idx).sum(1).view(M, B)  # each sequence's last step
        if states == "all":  # (M, B, T, c)
            return out, ([h.permute(0, 3, 2, 1) for h in hs], [s.permute(0, 3, 2, 1) for s in cs])
        if states == "last":  # (M, B, c)
            return out, ([h.gather(2, idx).view(M, c, B).transpose(1, 2) for h in hs],
                         [s.gather(2, idx).view(M, c, B).transpose(1, 2) for s in cs])
        return out, None

    @torch.no_grad()
    def infer(self, x: torch.Tensor, lengths: torch.Tensor | None = None, states: str = "none",
              chunk: int = 256):
        """`run` without gradients, over at most `chunk` sequences at a time.

        Same results as `run` (sequences are independent), in a fraction of the time for
        large B: a chunk's per-step tensors stay in cache. Chunks are padded to a multiple
        of VECTOR_ALIGN sequences, so a model's bits depend neither on M nor on B.
        """
        M, B, T = x.shape[:3]
        if lengths is None:
            lengths = torch.full((M, B), T, dtype=torch.long, device=x.device)
        parts = []
        for s in range(0, B, chunk):
            xc, lc = x[:, s : s + chunk], lengths[:, s : s + chunk]
            b = xc.shape[1]
            pad = -b % VECTOR_ALIGN  # dummy sequences, dropped below (see VECTOR_ALIGN)
            if pad:
                xc = torch.cat([xc, xc.new_zeros(M, pad, *xc.shape[2:])], dim=1)
                lc = torch.cat([lc, lc.new_ones(M, pad)], dim=1)
            out, st = self.run(xc, lc, states=states)
            if st is not None:
                st = tuple([a[:, :b] for a in group] for group in st)
            parts.append((out[:, :b], st))
        if len(parts) == 1:
            return parts[0]
        out = torch.cat([p[0] for p in parts], dim=1)
        if states == "none":
            return out, None
        joined = tuple([torch.cat(group, dim=1) for group in zip(*(p[1][g] for p in parts))]
                       for g in range(2))
        return out, joined

    def forward(self, x, lengths=None, tbptt_k=None):
        """The summed readout at each sequence's last step: (M, B)."""
        return self.run(x, lengths, tbptt_k)[0]


def sgd_step(model: nn.Module, loss: torch.Tensor, lr: float) -> None:
    """Plain SGD (no momentum, decay or clipping) on all models at once.

    `loss` must be the SUM of the per-model losses, so each model's slice of every
    parameter gets exactly that model's gradient.
    """
    params = list(model.parameters())
    grads = torch.autograd.grad(loss, params)
    with torch.no_grad():
        torch._foreach_add_(params, grads, alpha=-lr)


# ------------------------------------------------------------------ hand-written BPTT
def l1_loss_and_grads(model: Ensemble, x: torch.Tensor, lengths: torch.Tensor, targets: torch.Tensor,
                      tbptt_k: int | None = None):
    """Per-model L1 loss of the summed readout and its exact gradients, by explicit BPTT.

    Computes what autograd computes for `(model(x, lengths) - targets).abs().mean(-1)`
    summed over models, without autograd's per-operation bookkeeping, which dominates
    the cost of these small networks. x: (M, B, T); lengths, targets: (M, B).
    Returns (loss (M,), {param name: gradient with the parameter's shape}).
    """
    params = {name: p.detach() for name, p in model.named_parameters()}
    lone = model.n_models == 1
    if lone:  # run as M = 2 for companion-independent rounding, see Ensemble._layer
        params = {k: torch.cat([v, v]) for k, v in params.items()}
        x, lengths, targets = (torch.cat([a, a]) for a in (x, lengths, targets))
    loss, grads = _bptt(model.cell, model.layers, model.units, params, x, lengths, targets, tbptt_k)
    if lone:
        loss, grads = loss[:1], {k: v[:1] for k, v in grads.items()}
    return loss, grads


def _forward(cell, layers, units, P, x, keep: str = "cache"):
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
        b_ih, b_hh = P[f"bias_ih_l{j}"].unsqueeze(-1), P[f"bias_hh_l{j}"].unsqueeze(-1)  # (M, G*c, 1)
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
            SIG, TG, TC = x.new_empty(M, 4 * c, T, B), x.new_empty(M, c, T, B), x.new_empty(M, c, T, B)
            CSx = x.new_empty(M, c, T + 1, B)  # cell states, step 0 the zero initial state
            CSx[:, :, 0] = 0
            i_t, f_t, o_t = (SIG[:, k * c : (k + 1) * c].unbind(2) for k in (0, 1, 3))
            SIG_t, TG_t, CS_t, TC_t = SIG.unbind(2), TG.unbind(2), CSx[:, :, 1:].unbind(2), TC.unbind(2)
            cst = CSx[:, :, 0]
            for t in range(T):
                gates = torch.baddbmm(gi_t[t], W_hh, h)  # (M, 4c, B): i, f, g, o
                torch.sigmoid(gates, out=SIG_t[t])
                g = torch.tanh(gates[:, 2 * c : 3 * c], out=TG_t[t])
                cst = torch.addcmul(f_t[t] * cst, i_t[t], g, out=CS_t[t])
                h = torch.mul(o_t[t], torch.tanh(cst, out=TC_t[t]), out=H_t[t])
            cache = {"sig": SIG, "g": TG, "cx": CSx, "tc": TC}
        else:  # gru
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
            cache = {"rz": RZ, "n": N, "nh": NH}
        hs.append(Hx)
        if keep == "cache":
            extra.append(cache)
        elif keep == "states" and cell == "lstm":
            extra.append(cache["cx"][:, :, 1:])
        inputs.append(Hx[:, :, 1:])
    return inputs, hs, extra


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
        fac = torch.cat([g * dsig[:, :c], cx[:, :, :-1] * dsig[:, c : 2 * c],
                         i * (1 - g * g), tc * dsig[:, 3 * c :]], dim=1)  # (M, 4c, T, B)
        return {"fac": fac, "dc": o * (1 - tc * tc), "f": f}
    rz, n, nh = cache["rz"], cache["n"], cache["nh"]
    r, z = rz[:, :c], rz[:, c:]
    drz = rz * (1 - rz)
    dn = (1 - z) * (1 - n * n)  # d h / d (pre-activation of n)
    fac = torch.cat([dn * nh * drz[:, :c], (Hx[:, :, :-1] - n) * drz[:, c:], dn * r], dim=1)
    return {"fac": fac, "dn": dn, "z": z}


def _bptt(cell, layers, units, P, x, lengths, targets, tbptt_k):
    # Feature-major layout (M, features, T, B), see _forward.
    M, B, T = x.shape
    c = units
    last = (lengths - 1).view(M, 1, 1, B)
    steps = torch.arange(T, device=x.device).view(1, 1, T, 1)
    is_last = (steps == last).to(x.dtype)  # (M, 1, T, B)
    inputs, hs, saved = _forward(cell, layers, units, P, x, keep="cache")

    top = hs[-1][:, :, 1:]  # (M, c, T, B)
    out = top.gather(2, last.expand(M, c, 1, B)).sum(1).view(M, B)  # each sequence's last step
    err = out - targets
    loss = err.abs().mean(-1)  # (M,)
    # d loss / d h of the top layer, from the readout: (M, 1, T, B), broadcast over units
    d_h_in = is_last * (torch.sign(err) / B).view(M, 1, 1, B)

    keep = None
    if tbptt_k is not None:  # the state entering step last-k+1 is cut from the graph
        keep = (1 - (steps == last - tbptt_k + 1).to(x.dtype)).unbind(2)  # per step (M, 1, B)
    grads = {}
    for j in reversed(range(layers)):
        # ---- backward through time of layer j; d_h_in: gradient reaching h_t from outside the recurrence
        W_hh_T = P[f"weight_hh_l{j}"].transpose(1, 2)  # (M, c, G*c), a view (a transposed operand)
        F = _local_factors(cell, c, hs[j], saved[j])
        G = F["fac"].shape[1]
        d_gh = x.new_empty(M, G, T, B)  # gradient of the recurrent pre-activations
        dh_all = x.new_empty(M, c, T, B) if cell == "gru" else None
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
            fac3, out3 = F["fac"].view(M, 3, c, T, B).unbind(3), d_gh.view(M, 3, c, T, B).unbind(3)
            dh_t, z_t = dh_all.unbind(2), F["z"].unbind(2)
        for t in reversed(range(T)):
            if cell == "rnn":
                da = out[t].copy_(d_in[t]) if dh_carry is None else torch.addcmul(
                    d_in[t], dh_carry, fac[t], out=out[t])
            else:
                dh = d_in[t] if dh_carry is None else dh_carry + d_in[t]  # (M, c, B) or (M, 1, B)
                if cell == "lstm":
                    dh = dh.expand(M, c, B)
                    dc = dh * dc_fac[t] if dc_carry is None else torch.addcmul(dc_carry, dh, dc_fac[t])
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
    return loss, grads


def sgd_apply(model: nn.Module, grads: dict, lr: float) -> None:
    """p <- p - lr * grad for every parameter, all models at once."""
    with torch.no_grad():
        names = [n for n, _ in model.named_parameters()]
        torch._foreach_add_([p for _, p in model.named_parameters()], [grads[n] for n in names], alpha=-lr)
