"""The written-out backward pass (rnnmem.core.bptt) equals autograd through Ensemble.run.

The objective is arbitrary: a fixed random weighting of the top layer's hidden state at
every step of every sequence, so the gradient entering the backward pass has every unit,
step and sequence, not only a readout's last step.
"""

import pytest
import torch

from rnnmem.core.bptt import bptt
from rnnmem.core.ensemble import Ensemble
from rnnmem.core.layer_major import layer_major_forward


@pytest.mark.parametrize(
    "cell,layers,units,tbptt_k",
    [
        ("rnn", 1, 5, None),
        ("rnn", 3, 2, None),
        ("lstm", 2, 3, None),
        ("gru", 2, 4, None),
        ("lstm", 1, 3, 3),
        ("gru", 2, 2, 4),
        ("rnn", 2, 3, 2),
    ],
)
@pytest.mark.parametrize("n_models", [1, 3])
def test_bptt_equals_autograd(cell, layers, units, tbptt_k, n_models):
    M, B, T = n_models, 6, 11
    model = Ensemble(cell, M, layers, units, dtype=torch.float64)
    model.init_uniform_([torch.Generator().manual_seed(m) for m in range(M)])
    gen = torch.Generator().manual_seed(5)
    x = torch.rand(M, B, T, dtype=torch.float64, generator=gen)
    lengths = torch.randint(5, T + 1, (M, B), generator=gen)
    weights = torch.randn(M, B, T, units, dtype=torch.float64, generator=gen)  # (M, B, T, c)

    # autograd: objective = sum over models, sequences, steps, units of weights * h_top
    _, (hs, _) = model.run(x, lengths, tbptt_k, states="all")
    objective = (weights * hs[-1]).sum()
    ref = torch.autograd.grad(objective, list(model.parameters()))

    P, (xs, ls, ws) = model.detached_params(x, lengths, weights)
    cache = layer_major_forward(cell, layers, units, P, xs, keep="cache")
    d_h_top = ws.permute(0, 3, 2, 1)  # feature-major (M, c, T, B)
    grads = bptt(cell, layers, units, P, cache, d_h_top, ls, tbptt_k)
    for (name, _), expected in zip(model.named_parameters(), ref, strict=True):
        torch.testing.assert_close(grads[name][:M], expected, rtol=0, atol=1e-12, msg=name)
    # the forward pass the backward reads is the engine's own (same top states)
    top = cache[1][-1][:M, :, 1:].permute(0, 3, 2, 1)
    torch.testing.assert_close(top, hs[-1].detach(), rtol=0, atol=1e-12)


def test_gradient_broadcast_over_units():
    """A gradient given once per (step, sequence), (M, 1, T, B), acts on every unit."""
    model = Ensemble("lstm", 2, 2, 3, dtype=torch.float64)
    model.init_uniform_([torch.Generator().manual_seed(m) for m in range(2)])
    x = torch.rand(2, 4, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    lengths = torch.full((2, 4), 7)
    P, _ = model.detached_params()
    cache = layer_major_forward("lstm", 2, 3, P, x, keep="cache")
    one = torch.rand(2, 1, 7, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    narrow = bptt("lstm", 2, 3, P, cache, one, lengths, None)
    wide = bptt("lstm", 2, 3, P, cache, one.expand(2, 3, 7, 4).contiguous(), lengths, None)
    for name in narrow:
        torch.testing.assert_close(narrow[name], wide[name], rtol=0, atol=1e-12, msg=name)
