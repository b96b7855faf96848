"""The ensemble engine: M independent stacked RNN / LSTM / GRU networks run as one.

Every parameter and state carries a leading model axis M. The time loop runs once for
all M models and one optimiser step updates all of them. Objectives are summed (not
averaged) over models, so each model receives exactly its own gradient: training M
models here equals training each alone (tests/core/test_ensemble.py checks this against
per-model torch.nn.RNN / LSTM / GRU). The engine knows no study: a study reads the states
it needs and brings its own readout and loss (memorization: rnnmem.memorization.readout).

Symbols used for shapes in this package (as in the docstrings of torch.nn.RNN):

    M = number of models (the model axis: seeds x targets x ...)
    B = batch size: sequences per model
    T = sequence length: steps after right padding
    m = input features per step (input_size; scalar inputs have m = 1 and may drop the axis)
    c = hidden units per layer (hidden_size)
    l = number of layers (num_layers); layer j = 0 .. l - 1 reads layer j - 1's states
    G = gates per cell: 1 (RNN), 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n)

Gate equations follow torch.nn (gate order and two bias vectors per layer):

    RNN   h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
    LSTM  i, f, g, o = split(W_ih x + b_ih + W_hh h + b_hh)
          c' = sigmoid(f) * c + sigmoid(i) * tanh(g);  h' = sigmoid(o) * tanh(c')
    GRU   r, z, n_i = split(W_ih x + b_ih);  _, _, n_h = split(W_hh h + b_hh)
          r = sigmoid(r_i + r_h);  z = sigmoid(z_i + z_h);  n = tanh(n_i + r * n_h)
          h' = (1 - z) * n + z * h

Parameters (torch.nn.RNN's names, model axis first), for layer j:

    weight_ih_l{j}  (M, G*c, m) for j = 0, (M, G*c, c) above
    weight_hh_l{j}  (M, G*c, c)
    bias_ih_l{j}    (M, G*c)
    bias_hh_l{j}    (M, G*c)

Two code paths compute the same function. `Ensemble.run` with gradients enabled goes step
by step in torch.nn's own layout (M, B, T, c) through autograd (the reference, and
truncated BPTT through autograd). Without gradients, and for training with the written-out
backward pass (rnnmem.core.bptt), `layer_major_forward` runs layer by layer in the
feature-major layout (M, c, T, B) (see rnnmem.core.layer_major).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from rnnmem.core.layer_major import PARAM_KINDS, layer_major_forward

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
# torch's CPU kernels run the last (length mod 16 or 32) elements of each contiguous run of
# an elementwise op on a scalar path that rounds sigmoid and tanh differently from the
# vector path. The engine's per-step tensors are runs of B sequences per (model, unit)
# (see layer_major_forward), so with B a multiple of VECTOR_ALIGN there is no such tail,
# and in any case an element's path depends on its place within its own run, never on how
# many models share the job. Inference pads B to a multiple of VECTOR_ALIGN.
VECTOR_ALIGN = 32


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
    return {
        "weight_ih": (gc, fan_in),
        "weight_hh": (gc, units),
        "bias_ih": (gc,),
        "bias_hh": (gc,),
    }[kind]


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

    def __init__(
        self,
        cell: str,
        n_models: int,
        layers: int,
        units: int,
        input_size: int = 1,
        dtype=torch.float32,
        device=None,
    ):
        super().__init__()
        if cell not in GATES:
            raise ValueError(f"unknown cell type {cell!r}; expected one of {sorted(GATES)}")
        self.cell, self.n_models, self.layers, self.units = cell, n_models, layers, units
        self.input_size = input_size
        for name in param_names(layers):
            kind, layer = name.rsplit("_l", 1)
            shape = (n_models, *param_shape(cell, int(layer), units, input_size, kind))
            param = nn.Parameter(torch.zeros(shape, dtype=dtype, device=device))
            self.register_parameter(name, param)

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
                    draw = torch.empty(p.shape[1:], dtype=torch.float32)
                    draw.uniform_(-bound, bound, generator=gen)
                    p[m].copy_(draw.to(p.dtype))

    def state_arrays(self) -> dict[str, torch.Tensor]:
        """All parameters by name (model axis first), detached."""
        return {name: p.detach().clone() for name, p in self.named_parameters()}

    def load_arrays(self, arrays: dict) -> None:
        with torch.no_grad():
            for name, p in self.named_parameters():
                p.copy_(torch.as_tensor(arrays[name], dtype=p.dtype))

    def detached_params(self, *tensors: torch.Tensor):
        """Parameters by name, detached, and `tensors` (model axis first), ready for
        layer_major_forward and rnnmem.core.bptt.

        A lone model (M = 1) comes back beside a copy of itself, parameters and tensors
        alike (see _layer); the caller keeps model 0 of every result.
        """
        params = {name: p.detach() for name, p in self.named_parameters()}
        if self.n_models != 1:
            return params, tensors
        params = {k: torch.cat([v, v]) for k, v in params.items()}
        return params, tuple(torch.cat([a, a]) for a in tensors)

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
        """One cell step of layer j. gi: (M, B, G*c) input part incl. bias_ih; h, c: (M, B, c)."""
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

    def run(
        self,
        x: torch.Tensor,
        lengths: torch.Tensor | None = None,
        tbptt_k: int | None = None,
        states: str = "none",
    ):
        """Run all models over padded sequences.

        x: (M, B, T) scalar inputs or (M, B, T, m); lengths: (M, B) real lengths (default T).
        Returns (last, states):
          last: (M, B, c), the top layer's hidden state at each sequence's last real step;
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
            x2, lengths2 = torch.cat([x, x]), torch.cat([lengths, lengths])
            last, states = self._run(x2, lengths2, tbptt_k, states)
            if states is not None:
                states = tuple([s[:1] for s in group] for group in states)
            return last[:1], states
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
        top = zeros
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
            top = torch.where(is_last, h[-1], top)
        if states == "all":
            stacked = [torch.stack(s, dim=2) for s in hs], [torch.stack(s, dim=2) for s in cs if s]
            return top, stacked
        if states == "last":
            return top, (h_last, [cj for cj in c_last if cj is not None])
        return top, None

    def _run_layer_major(self, x, lengths, states):
        """Inference: the training forward pass (layer-major, see layer_major_forward)."""
        P = {
            f"{kind}_l{j}": p.detach()
            for j in range(self.layers)
            for kind, p in zip(PARAM_KINDS, self._layer(j), strict=True)
        }
        keep = "none" if states == "none" else "states"
        _, hs, cs = layer_major_forward(self.cell, self.layers, self.units, P, x, keep=keep)
        hs = [h[:, :, 1:] for h in hs]  # (M, c, T, B) each, as cs
        M, c, _, B = hs[0].shape
        idx = (lengths - 1).view(M, 1, 1, B).expand(M, c, 1, B)

        def at_last(s):  # (M, c, T, B) -> (M, B, c) at each sequence's last step (a view)
            return s.gather(2, idx).view(M, c, B).transpose(1, 2)

        top = at_last(hs[-1])
        if states == "all":  # (M, B, T, c)
            return top, ([h.permute(0, 3, 2, 1) for h in hs], [s.permute(0, 3, 2, 1) for s in cs])
        if states == "last":  # (M, B, c)
            return top, ([at_last(h) for h in hs], [at_last(s) for s in cs])
        return top, None

    @torch.no_grad()
    def infer(
        self,
        x: torch.Tensor,
        lengths: torch.Tensor | None = None,
        states: str = "none",
        chunk: int = 256,
        head=None,
    ):
        """`run` without gradients, over at most `chunk` sequences at a time.

        Same results as `run` (sequences are independent), in a fraction of the time for
        large B: a chunk's per-step tensors stay in cache. Chunks are padded to a multiple
        of VECTOR_ALIGN sequences, so a model's bits depend neither on M nor on B.
        head: a readout applied to each chunk's `last` (M, b, c) -> (M, b, ...), whose
        results are joined in place of `last`: a study's readout then sees exactly the
        tensors it would see on one chunk, so its bits do not depend on B either.
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
            top, st = self.run(xc, lc, states=states)
            if head is not None:
                top = head(top)
            if st is not None:
                st = tuple([a[:, :b] for a in group] for group in st)
            parts.append((top[:, :b], st))
        if len(parts) == 1:
            return parts[0]
        top = torch.cat([p[0] for p in parts], dim=1)
        if states == "none":
            return top, None
        joined = tuple(
            [torch.cat(group, dim=1) for group in zip(*(p[1][g] for p in parts), strict=True)]
            for g in range(2)
        )
        return top, joined

    def forward(self, x, lengths=None, tbptt_k=None):
        """The top layer's hidden state at each sequence's last step: (M, B, c)."""
        return self.run(x, lengths, tbptt_k)[0]


def sgd_step(model: nn.Module, loss: torch.Tensor, lr: float) -> None:
    """Plain SGD (no momentum, decay or clipping) on all models at once, through autograd.

    `loss` must be the SUM of the per-model losses, so each model's slice of every
    parameter gets exactly that model's gradient.
    """
    params = list(model.parameters())
    grads = torch.autograd.grad(loss, params)
    with torch.no_grad():
        torch._foreach_add_(params, grads, alpha=-lr)


def sgd_apply(model: nn.Module, grads: dict, lr: float) -> None:
    """p <- p - lr * grad for every parameter, all models at once."""
    with torch.no_grad():
        names = [n for n, _ in model.named_parameters()]
        params = [p for _, p in model.named_parameters()]
        torch._foreach_add_(params, [grads[n] for n in names], alpha=-lr)
