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
"""

from __future__ import annotations

import math

import torch
from torch import nn

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
# torch's CPU kernels run the last (numel mod 16 or 32) elements of an elementwise op on a
# scalar path that rounds sigmoid and tanh differently from the vector path; tensors whose
# size is a multiple of VECTOR_ALIGN have no such tail, so an element's bits do not depend
# on how many models or sequences share the tensor.
VECTOR_ALIGN = 32
PARAM_KINDS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _affine(bias: torch.Tensor, x: torch.Tensor, weight_t: torch.Tensor) -> torch.Tensor:
    """x @ weight_t + bias, batched over models (baddbmm is several times slower here)."""
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
                             keep="none" if states == "none" else "states")  # (T, M, B, c) each
        last = (lengths - 1).unsqueeze(0)  # (1, M, B)
        out = hs[-1].sum(-1).gather(0, last).squeeze(0)  # (M, B): each sequence's last step
        if states == "all":
            return out, ([h.permute(1, 2, 0, 3) for h in hs], [c.permute(1, 2, 0, 3) for c in cs])
        if states == "last":
            idx = last.unsqueeze(-1).expand(1, *hs[0].shape[1:])
            return out, ([h.gather(0, idx).squeeze(0) for h in hs], [c.gather(0, idx).squeeze(0) for c in cs])
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
def _sigmoid_grad(y):
    return y * (1 - y)


def _tanh_grad(y):
    return 1 - y * y


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
    Returns (inputs, hs, extra): per layer its input sequence (T, M, B, m), its hidden
    states (T, M, B, c), and per layer the cache (list over steps) or cell states (T, M, B, c).
    Layer-major, a layer's whole input sequence is known before its time loop starts:
    scalar inputs enter per step as one outer product, wider ones as one batched product.
    """
    c = units
    if x.dim() == 3:
        x = x.unsqueeze(-1)
    M, B, T, _ = x.shape
    W_ih = [P[f"weight_ih_l{j}"] for j in range(layers)]  # (M, G*c, m)
    W_hh = [P[f"weight_hh_l{j}"] for j in range(layers)]  # (M, G*c, c)
    b_ih = [P[f"bias_ih_l{j}"].unsqueeze(1) for j in range(layers)]  # (M, 1, G*c)
    b_hh = [P[f"bias_hh_l{j}"].unsqueeze(1) for j in range(layers)]
    # transposed once here: a transposed view would be copied by every matmul of the loop
    W_ih_T = [w.transpose(1, 2).contiguous() for w in W_ih]  # (M, m, G*c)
    W_hh_T = [w.transpose(1, 2).contiguous() for w in W_hh]  # (M, c, G*c)
    zeros = x.new_zeros(M, B, c)
    inputs = [x.permute(2, 0, 1, 3)]  # per layer: (T, M, B, m)
    hs, extra = [], []
    for j in range(layers):
        # Input part of every step at once; the recurrent bias joins it here (one add for
        # all steps) except the GRU's b_hn, which sits inside r * (W_hn h + b_hn).
        bias = b_ih[j] + b_hh[j]
        if cell == "gru":
            bias = torch.cat([bias[..., : 2 * c], b_ih[j][..., 2 * c :]], dim=-1)
            b_hn = b_hh[j][..., 2 * c :]
        scalar = inputs[j].shape[-1] == 1
        if scalar:  # an outer product per step (no matmul): cache-sized, several times faster
            x_seq = inputs[j].contiguous()  # (T, M, B, 1)
        else:
            gi_all = torch.matmul(inputs[j], W_ih_T[j]) + bias  # (T, M, B, G*c)
        h, cst = zeros, zeros
        h_seq, cache, c_seq = [], [], []
        for t in range(T):
            gi = torch.addcmul(bias, x_seq[t], W_ih_T[j]) if scalar else gi_all[t]  # (M, B, G*c)
            gh = torch.matmul(h, W_hh_T[j])  # (M, B, G*c)
            if cell == "rnn":
                h = torch.tanh(gi + gh)
                step_cache = None
            elif cell == "lstm":
                gates = gi + gh
                sig = torch.sigmoid(gates)
                i, f, o = sig[..., :c], sig[..., c : 2 * c], sig[..., 3 * c :]
                g = torch.tanh(gates[..., 2 * c : 3 * c].contiguous())
                c_prev = cst
                cst = f * c_prev + i * g
                tc = torch.tanh(cst)
                h = o * tc
                step_cache = (i, f, g, o, c_prev, tc)
                c_seq.append(cst)
            else:  # gru
                rz = torch.sigmoid(gi[..., : 2 * c] + gh[..., : 2 * c])
                r, z = rz[..., :c], rz[..., c:]
                nh = gh[..., 2 * c :] + b_hn
                n = torch.tanh(gi[..., 2 * c :] + r * nh)
                h_prev = h
                h = (1 - z) * n + z * h_prev
                step_cache = (r, z, n, nh, h_prev)
            if keep == "cache":
                cache.append(step_cache)
            h_seq.append(h)
        hs.append(torch.stack(h_seq))  # (T, M, B, c)
        if keep == "cache":
            extra.append(cache)
        elif keep == "states" and c_seq:
            extra.append(torch.stack(c_seq))
        inputs.append(hs[j])
    return inputs, hs, extra


def _bptt(cell, layers, units, P, x, lengths, targets, tbptt_k):
    # Time-major layout (T, M, B, ...): per-step slices and stacks are contiguous copies.
    M, B, T = x.shape
    c = units
    last = (lengths - 1).unsqueeze(-1)  # (M, B, 1)
    steps = torch.arange(T, device=x.device).view(T, 1, 1, 1)
    is_last = (steps == last.unsqueeze(0)).to(x.dtype)  # (T, M, B, 1)
    W_ih = [P[f"weight_ih_l{j}"] for j in range(layers)]  # (M, G*c, m)
    W_hh = [P[f"weight_hh_l{j}"] for j in range(layers)]  # (M, G*c, c)
    zeros = x.new_zeros(M, B, c)
    inputs, hs, saved = _forward(cell, layers, units, P, x, keep="cache")

    out = hs[-1].sum(-1).gather(0, last.permute(2, 0, 1)).squeeze(0)  # (M, B): each sequence's last step
    err = out - targets
    loss = err.abs().mean(-1)  # (M,)
    d_out = (torch.sign(err) / B).unsqueeze(-1)  # (M, B, 1): d loss / d readout

    # ---- backward through time, top layer first
    grads = {}
    d_inputs_above = None  # gradient w.r.t. the input sequence of the layer above: (T, M, B, c)
    keep = None
    if tbptt_k is not None:  # the state entering step last-k+1 is cut from the graph
        keep = 1 - (steps == (last - tbptt_k + 1).unsqueeze(0)).to(x.dtype)  # (T, M, B, 1)
    for j in reversed(range(layers)):
        d_gi, d_gh = [], []  # per step, last step first
        dh_carry, dc_carry = zeros, zeros
        h_seq = hs[j]
        for t in reversed(range(T)):
            if j == layers - 1:
                dh = dh_carry + d_out * is_last[t]
            else:
                dh = dh_carry + d_inputs_above[t]
            if cell == "rnn":
                da = dh * _tanh_grad(h_seq[t])
                d_gi.append(da)
                dh_prev = torch.matmul(da, W_hh[j])
            elif cell == "lstm":
                i, f, g, o, c_prev, tc = saved[j][t]
                dc = dc_carry + dh * o * _tanh_grad(tc)
                da = torch.cat([dc * g * _sigmoid_grad(i), dc * c_prev * _sigmoid_grad(f),
                                dc * i * _tanh_grad(g), dh * tc * _sigmoid_grad(o)], dim=-1)
                d_gi.append(da)
                dh_prev = torch.matmul(da, W_hh[j])
                dc_carry = dc * f
            else:
                r, z, n, nh, h_prev = saved[j][t]
                dan = dh * (1 - z) * _tanh_grad(n)
                dar = dan * nh * _sigmoid_grad(r)
                daz = dh * (h_prev - n) * _sigmoid_grad(z)
                d_gi.append(torch.cat([dar, daz, dan], dim=-1))
                dgh = torch.cat([dar, daz, dan * r], dim=-1)
                d_gh.append(dgh)
                dh_prev = torch.matmul(dgh, W_hh[j]) + dh * z
            if keep is not None:
                dh_prev = dh_prev * keep[t]
                if cell == "lstm":
                    dc_carry = dc_carry * keep[t]
            dh_carry = dh_prev
        d_gi = torch.stack(d_gi[::-1])  # (T, M, B, G)
        d_gh = d_gi if cell != "gru" else torch.stack(d_gh[::-1])
        # parameter gradients: one batched product over all steps and sequences
        h_prev_seq = torch.cat([zeros.unsqueeze(0), h_seq[:-1]])  # (T, M, B, c)
        grads[f"weight_hh_l{j}"] = torch.einsum("tmbg,tmbc->mgc", d_gh, h_prev_seq)
        if inputs[j].shape[-1] == 1:
            grads[f"weight_ih_l{j}"] = (d_gi * inputs[j]).sum(dim=(0, 2)).unsqueeze(-1)
        else:
            grads[f"weight_ih_l{j}"] = torch.einsum("tmbg,tmbi->mgi", d_gi, inputs[j])
        grads[f"bias_ih_l{j}"] = d_gi.sum(dim=(0, 2))
        grads[f"bias_hh_l{j}"] = d_gh.sum(dim=(0, 2)) if cell == "gru" else grads[f"bias_ih_l{j}"]
        if j > 0:
            d_inputs_above = torch.matmul(d_gi, W_ih[j])  # (T, M, B, c)
    return loss, grads


def sgd_apply(model: nn.Module, grads: dict, lr: float) -> None:
    """p <- p - lr * grad for every parameter, all models at once."""
    with torch.no_grad():
        names = [n for n, _ in model.named_parameters()]
        torch._foreach_add_([p for _, p in model.named_parameters()], [grads[n] for n in names], alpha=-lr)
