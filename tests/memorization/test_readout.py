"""The study's readout and L1 loss on the engine: the written-out gradient equals autograd's."""

import pytest
import torch

from rnnmem.core.ensemble import Ensemble
from rnnmem.memorization.readout import l1_loss_and_grads, predict, summed


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
def test_hand_written_bptt_equals_autograd(cell, layers, units, tbptt_k, n_models):
    torch.manual_seed(0)
    M = n_models
    model = Ensemble(cell, M, layers, units, dtype=torch.float64)
    model.init_uniform_([torch.Generator().manual_seed(m) for m in range(M)])
    x = torch.rand(M, 6, 11, dtype=torch.float64)
    lengths = torch.randint(5, 12, (M, 6))
    targets = torch.rand(M, 6, dtype=torch.float64)
    loss, grads = l1_loss_and_grads(model, x, lengths, targets, tbptt_k)
    ref_loss = (summed(model(x, lengths, tbptt_k)) - targets).abs().mean(-1)
    ref_grads = torch.autograd.grad(ref_loss.sum(), list(model.parameters()))
    torch.testing.assert_close(loss, ref_loss.detach(), rtol=0, atol=1e-12)
    for (name, _), ref in zip(model.named_parameters(), ref_grads, strict=True):
        torch.testing.assert_close(grads[name], ref, rtol=0, atol=1e-12, msg=name)


def test_prediction_is_the_summed_top_layer_at_the_last_step():
    model = Ensemble("gru", 2, 2, 3, dtype=torch.float64)
    model.init_uniform_([torch.Generator().manual_seed(m) for m in range(2)])
    x = torch.rand(2, 40, 9, dtype=torch.float64)
    lengths = torch.randint(3, 10, (2, 40), generator=torch.Generator().manual_seed(3))
    _, (hs, _) = model.run(x, lengths, states="all")  # (M, B, T, c) per layer
    last = hs[-1][torch.arange(2)[:, None], torch.arange(40)[None, :], lengths - 1]  # (M, B, c)
    torch.testing.assert_close(predict(model, x, lengths), last.sum(-1), rtol=0, atol=1e-12)
