"""The study's readout and loss on top of the engine (rnnmem.core.ensemble).

Readout: the sum over the top layer's units at each sequence's own last step, (M, B).
Loss: the mean absolute error over a model's B sequences, (M,); summed over models for
training, so each model gets exactly its own gradient. Symbols as in rnnmem.core.ensemble.
"""

from __future__ import annotations

import torch

from rnnmem.core.bptt import bptt
from rnnmem.core.ensemble import Ensemble
from rnnmem.core.layer_major import layer_major_forward


def summed(top_last: torch.Tensor) -> torch.Tensor:
    """The readout from the top layer's states at each sequence's last step: (M, B, c) -> (M, B)."""
    return top_last.sum(-1)


def predict(model: Ensemble, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Every model's output for every sequence, without gradients: (M, B)."""
    out, _ = model.infer(x, lengths, head=summed)  # summed chunk by chunk (see infer)
    return out


def l1_readout(top: torch.Tensor, lengths: torch.Tensor, targets: torch.Tensor):
    """Loss and its gradient from the top layer's states, feature-major.

    top: (M, c, T, B) the top layer's hidden states after each step; lengths, targets:
    (M, B). Returns (loss (M,), d loss / d top (M, 1, T, B), broadcast over units).
    """
    M, c, T, B = top.shape
    last = (lengths - 1).view(M, 1, 1, B)
    steps = torch.arange(T, device=top.device).view(1, 1, T, 1)
    is_last = (steps == last).to(top.dtype)  # (M, 1, T, B)
    out = top.gather(2, last.expand(M, c, 1, B)).sum(1).view(M, B)  # each sequence's last step
    err = out - targets
    loss = err.abs().mean(-1)  # (M,)
    # d loss / d h of the top layer, from the readout: (M, 1, T, B), broadcast over units
    d_h_top = is_last * (torch.sign(err) / B).view(M, 1, 1, B)
    return loss, d_h_top


def l1_loss_and_grads(
    model: Ensemble,
    x: torch.Tensor,
    lengths: torch.Tensor,
    targets: torch.Tensor,
    tbptt_k: int | None,
):
    """Per-model L1 loss of the summed readout and its exact gradients, by explicit BPTT.

    Computes what autograd computes for `(summed(model(x, lengths)) - targets).abs().mean(-1)`
    summed over models. x: (M, B, T); lengths, targets: (M, B).
    Returns (loss (M,), {param name: gradient with the parameter's shape}).
    """
    P, (x, lengths, targets) = model.detached_params(x, lengths, targets)
    cell, layers, units = model.cell, model.layers, model.units
    cache = layer_major_forward(cell, layers, units, P, x, keep="cache")
    top = cache[1][-1][:, :, 1:]  # (M, c, T, B)
    loss, d_h_top = l1_readout(top, lengths, targets)
    grads = bptt(cell, layers, units, P, cache, d_h_top, lengths, tbptt_k)
    if model.n_models == 1:  # ran beside a copy of itself (see Ensemble.detached_params)
        loss, grads = loss[:1], {k: v[:1] for k, v in grads.items()}
    return loss, grads
