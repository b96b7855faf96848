"""reviews/params.py: parameter counts, the reference's initialisation (long-memory.md §7, 11.2)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnnmem.long_memory.reviews import params
from rnnmem.long_memory.reviews.reference import ReviewNet

p, H, C = 16, 128, 5
# long-memory.md §11.2
COUNTS = {"rnn": 151_429, "lstm": 207_493, "mrnnf": 221_461, "mlstmf": 240_005}


@pytest.mark.parametrize("model", params.MODELS)
def test_parameter_counts(model):
    assert params.n_params(model, p, H, C) == COUNTS[model]
    P = params.init_params(model, [0], p=p, H=H, n_classes=C, dtype=torch.float32, device="cpu")
    assert sum(t[0].numel() for t in P.values()) == COUNTS[model]
    assert list(P) == list(params.param_shapes(model, p, H, C))


def test_unused():
    assert params.unused_params("mrnnf") == (
        "unused_w_ih",
        "unused_w_hh",
        "unused_b_ih",
        "unused_b_hh",
    )
    assert params.unused_params("mlstmf") == ("unused_w_f", "unused_b_f")
    assert params.unused_params("rnn") == params.unused_params("lstm") == ()
    assert params.model_label("mlstmf", 50) == "MLSTMF50"


def _hand_built(model: str, seed: int) -> list[torch.Tensor]:
    """The reference's module tree, written out here independently of params.py."""
    torch.manual_seed(seed)

    def cell(i):
        c = nn.LSTMCell(i, H)
        return [c.weight_ih, c.weight_hh, c.bias_ih, c.bias_hh]

    def lin(i, o, bias=True):
        m = nn.Linear(i, o, bias=bias)
        return [m.weight] + ([m.bias] if bias else [])

    if model == "rnn":
        r, l2 = nn.RNN(p, H), nn.LSTM(H, H)
        out = [r.weight_ih_l0, r.weight_hh_l0, r.bias_ih_l0, r.bias_hh_l0]
        out += [l2.weight_ih_l0, l2.weight_hh_l0, l2.bias_ih_l0, l2.bias_hh_l0]
    elif model == "lstm":
        out = cell(p)
        out += cell(H)
    elif model == "mrnnf":
        a = torch.zeros(p)
        base = nn.RNNCellBase(p, H, bias=True, num_chunks=1)
        out = [a, base.weight_ih, base.weight_hh, base.bias_ih, base.bias_hh]
        out += lin(H, H) + lin(p, H, False) + lin(H, H) + lin(p, H, False)
        out += lin(H, H) + lin(H, H, False)
        out += cell(H)
    else:
        out = [torch.zeros(H)]
        out += lin(p + H, H) + lin(p + H, H) + lin(p + 2 * H, H) + lin(p + H, H) + lin(H, H)
        out += cell(H)
    return out + lin(H, C)


@pytest.mark.parametrize("model", params.MODELS)
def test_init_bit_identical_to_hand_built_modules(model):
    seeds = [0, 3, 7]
    P = params.init_params(model, seeds, p=p, H=H, n_classes=C, dtype=torch.float32, device="cpu")
    P64 = params.init_params(model, seeds, p=p, H=H, n_classes=C, dtype=torch.float64, device="cpu")
    for k, seed in enumerate(seeds):
        expected = _hand_built(model, seed)
        assert len(expected) == len(P)
        for (name, got), want in zip(P.items(), expected, strict=True):
            assert torch.equal(got[k], want.detach()), (model, seed, name)
            assert torch.equal(P64[name][k], want.detach().double()), (model, seed, name)
        # the per-seed reference module is built in the same order
        torch.manual_seed(seed)
        net = ReviewNet(model, p, H, C, 50)
        for (name, got), t in zip(P.items(), net.ordered(), strict=True):
            assert torch.equal(got[k], t.detach()), (model, seed, name)
    # seeds differ, and the zeros are zeros
    assert not torch.equal(P["fc_w"][0], P["fc_w"][1])
    if "a" in P:
        assert not P["a"].any()


def test_init_restores_the_rng_and_ignores_companions():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    both = params.init_params(
        "lstm", [5, 6], p=p, H=H, n_classes=C, dtype=torch.float32, device="cpu"
    )
    assert torch.equal(torch.random.get_rng_state(), before)
    alone = params.init_params(
        "lstm", [6], p=p, H=H, n_classes=C, dtype=torch.float32, device="cpu"
    )
    for name in both:
        assert torch.equal(both[name][1], alone[name][0])
