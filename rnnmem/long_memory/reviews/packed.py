"""The review models on the CPU: one seed at a time, on packed steps (long-memory.md §11.2).

The same equations as models.py (see there), computed differently, for the CPU, where
train.py uses this module:

* One seed at a time, with 2-D products. A seed's work is products of [64, 128] by
  [128, 512] and elementwise passes over [64, 512]; batching the seeds saves no arithmetic
  there and costs memory traffic ([S, B, 4H] temporaries that no longer fit a cache). It
  also makes a seed's bits its own by construction, whatever the job's seeds.
* Packed steps and hand-written recurrences (recurrences.py): step t runs only the columns
  still before their length index, a few in-place calls per step; MLSTMF's history of K
  cells is one strided view per step, MRNNF's input filter one depthwise convolution.

forward and losses have models.forward's and models.losses's signatures and results.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from rnnmem.long_memory.reviews import models
from rnnmem.long_memory.reviews.params import MODELS
from rnnmem.long_memory.reviews.recurrences import (
    LSTMRecurrence,
    MLSTMFRecurrence,
    Packing,
    TanhRecurrence,
    pack,
    packing,
)


def _linear(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
    """x [N, i], w [o, i], b [o] -> x w^T + b [N, o]."""
    return x.mm(w.t()) if b is None else torch.addmm(b, x, w.t())


def _gate_order(t: torch.Tensor) -> torch.Tensor:
    """Rows of an LSTM weight or bias from torch's gate order i, f, g, o to LSTMRecurrence's
    i, f, o, g."""
    i, f, g, o = t.chunk(4, dim=0)
    return torch.cat([i, f, o, g])


def _input_filter(x: torch.Tensor, a: torch.Tensor, K: int) -> torch.Tensor:
    """F_t = sum_{j=1}^{K} pi_j(d) x_{t+1-j} (x_{<0} = 0), d = 0.5 sigmoid(a) a value per
    channel: x [T', B, p], a [p] -> [T', B, p], as one causal depthwise convolution over time
    (models.py builds the [p, K, T' B] window of lags instead: several times slower here)."""
    pi = models.filter_pi(a[None], K)[0]  # [K, p]: pi_1 .. pi_K
    kernel = pi.flip(0).t()[:, None, :]  # [p, 1, K]: kernel[c, 0, k] = pi_{K-k}[c]
    filtered = F.conv1d(F.pad(x.permute(1, 2, 0), (K - 1, 0)), kernel, groups=x.shape[-1])
    return filtered.permute(2, 0, 1)


def _lstm(x: torch.Tensor, W: dict, prefix: str, pk: Packing, feed_back: bool) -> torch.Tensor:
    """An LSTM layer on packed inputs x [N, i]: a [N, H] when feed_back, else h' [N, H]."""
    w_ih, w_hh = (_gate_order(W[prefix + k]) for k in ("w_ih", "w_hh"))
    b = _gate_order(W[prefix + "b_ih"] + W[prefix + "b_hh"])
    return LSTMRecurrence.apply(x, w_ih, b, w_hh, pk, feed_back)


def _first_layer(model: str, W: dict, x: torch.Tensor, pk: Packing, K: int) -> torch.Tensor:
    """The first layer's packed outputs [N, H]; x [T', B, p] (T' = pk.steps)."""
    if model == "rnn":
        h = TanhRecurrence.apply(pack(x, pk), W["w_ih"], W["b_ih"] + W["b_hh"], W["w_hh"], pk)
        return torch.tanh(h)  # not fed back
    if model == "lstm":
        return _lstm(pack(x, pk), W, "", pk, True)
    if model == "mrnnf":
        filtered = pack(_input_filter(x, W["a"], K), pk)
        m = TanhRecurrence.apply(filtered, W["w_fm"], W["b_m"], W["w_mm"], pk)
        h = TanhRecurrence.apply(pack(x, pk), W["w_xh"], W["b_h"], W["w_hh"], pk)
        return torch.tanh(_linear(h, W["w_hz"], W["b_z"]) + _linear(m, W["w_mz"]))
    if model == "mlstmf":
        p = x.shape[-1]
        w = torch.cat([W["w_i"], W["w_o"], W["w_c"]])  # [3H, p + H], gate order i, o, c~
        b = torch.cat([W["b_i"], W["b_o"], W["b_c"]])
        lags = -models.filter_pi(W["a"][None], K)[0]  # [K, H]: -pi_j(d), a d per hidden unit
        h = MLSTMFRecurrence.apply(pack(x, pk), w[:, :p], b, w[:, p:], lags, pk)
        return _linear(h, W["w_y"], W["b_y"])
    raise ValueError(f"unknown review model {model!r}; expected one of {MODELS}")


def forward_seed(model: str, W: dict, x: torch.Tensor, pk: Packing, K: int) -> torch.Tensor:
    """One seed: parameters name -> [*shape], x [T', B, p] -> log-probabilities [B, C]."""
    first = _first_layer(model, W, x, pk, K)
    if model == "rnn":  # nn.LSTM: h' not fed back; tanh only where the classifier reads
        top = torch.tanh(_lstm(first, W, "l2_", pk, feed_back=False).index_select(0, pk.pick))
    else:
        top = _lstm(first, W, "l2_", pk, feed_back=True).index_select(0, pk.pick)
    return torch.log_softmax(_linear(top, W["fc_w"], W["fc_b"]), dim=-1)


def forward(model: str, params: dict, x: torch.Tensor, idx: torch.Tensor, K: int) -> torch.Tensor:
    """Log-probabilities [S, B, C] of inputs x [T, B, p] with length indices idx [B] (< T),
    params name -> [S, ...]: each seed on its own."""
    pk = packing(idx)
    x = x[: pk.steps]
    seeds = {name: t.unbind(0) for name, t in params.items()}  # one autograd node per tensor
    S = next(iter(params.values())).shape[0]
    return torch.stack(
        [forward_seed(model, {k: v[s] for k, v in seeds.items()}, x, pk, K) for s in range(S)]
    )


def losses(model: str, params: dict, x, idx, y, K: int) -> torch.Tensor:
    """L_s for every seed [S]."""
    return models.nll(forward(model, params, x, idx, K), y)
