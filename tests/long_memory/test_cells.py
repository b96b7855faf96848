"""Parameter specs and the reference-identical initialisation of the nine models (cells.py)."""

import numpy as np
import pytest
import torch
from torch import nn

from rnnmem.long_memory.cells import (
    MODELS,
    init_params,
    n_params,
    param_shapes,
    unused_params,
)

RANDOM_FREE = {"a", "w_filter"}  # parameters with no random draws


def test_counts_at_h1():
    # long-memory.md §7 (rnn .. mlstm); rnn2 = mrnnf - a + K*p; rwa: s, u, g, a, out; mist: 8 delays
    expected = {"rnn": 6, "lstm": 18, "mrnnf": 14, "mrnn": 18, "mlstmf": 16, "mlstm": 15}
    expected.update({"rnn2": 13 + 100, "rwa": 10, "mist": 32})
    assert {m: n_params(m) for m in MODELS} == expected
    assert n_params("rnn2", K=25) == 38
    assert [n_params(m, K=25) for m in MODELS if m != "rnn2"] == [
        expected[m] for m in MODELS if m != "rnn2"
    ]


def test_counts_match_formulas_at_larger_sizes():
    p, q, H, K = 2, 3, 4, 7
    lin = lambda i, o, bias=True: o * i + (o if bias else 0)  # noqa: E731
    base = H * p + H * H + 2 * H
    tracks = lin(H, H) + lin(p, H, 0) + lin(H, H) + lin(p, H, 0) + lin(H, q) + lin(H, q, 0)
    u = p + H
    formulas = {
        "rnn": base + lin(H, q),
        "lstm": 4 * base + lin(H, q),
        "mrnnf": p + base + tracks,
        "rnn2": K * p + base + tracks,
        "mrnn": base + lin(p, p) + lin(H, p, 0) + lin(H, p, 0) + lin(p, p, 0) + tracks,
        "mlstmf": H + 3 * lin(u, H) + lin(u + H, H) + lin(H, q),
        "mlstm": 3 * lin(u, H) + lin(u + H, H) + lin(H, q),
        "rwa": H + lin(p, H) + lin(u, H) + lin(u, H, 0) + lin(H, q),
        "mist": lin(u, 8) + lin(u, H) + lin(H, H, 0) + lin(p, H) + lin(H, q),
    }
    for model in MODELS:
        assert n_params(model, H=H, p=p, q=q, K=K) == formulas[model], model


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layout(dtype):
    for model in MODELS:
        shapes = param_shapes(model, H=2, K=5)
        params = init_params(model, [0, 1, 2], H=2, K=5, dtype=dtype)
        assert list(params) == list(shapes)
        for name, arr in params.items():
            assert arr.shape == (3,) + shapes[name] and arr.dtype == dtype
            assert arr.flags.c_contiguous
        assert all(n in params for n in unused_params(model))


# Hand-built module trees in the reference's structure: parameters() lists a module's own
# tensors first, then its children in the order they were created.
class _MRNNCell(nn.RNNCellBase):
    def __init__(self, p, q, H, dynamic):
        super().__init__(p, H, True, num_chunks=1)
        if dynamic:
            self.d_d, self.h_d = nn.Linear(p, p), nn.Linear(H, p, bias=False)
            self.m_d, self.x_d = nn.Linear(H, p, bias=False), nn.Linear(p, p, bias=False)
        self.m_m, self.f_m = nn.Linear(H, H), nn.Linear(p, H, bias=False)
        self.h_h, self.x_h = nn.Linear(H, H), nn.Linear(p, H, bias=False)
        self.h_z, self.m_z = nn.Linear(H, q), nn.Linear(H, q, bias=False)


class _MRNNFixD(nn.Module):
    def __init__(self, p, q, H):
        super().__init__()
        self.a = nn.Parameter(torch.zeros(p))
        self.cell = _MRNNCell(p, q, H, dynamic=False)


class _MLSTMCell(nn.Module):
    def __init__(self, p, q, H):
        super().__init__()
        self.c, self.i = nn.Linear(p + H, H), nn.Linear(p + H, H)
        self.f, self.o = nn.Linear(p + 2 * H, H), nn.Linear(p + H, H)
        self.out = nn.Linear(H, q)


class _MLSTMFixD(nn.Module):
    def __init__(self, p, q, H):
        super().__init__()
        self.a = nn.Parameter(torch.zeros(H))
        self.cell = _MLSTMCell(p, q, H)


def _hand_built(model, seed, H, p=1, q=1):
    torch.manual_seed(seed)
    if model == "rnn":
        mods = [nn.RNN(p, H), nn.Linear(H, q)]
    elif model == "lstm":
        mods = [nn.LSTMCell(p, H), nn.Linear(H, q)]
    elif model == "mrnnf":
        mods = [_MRNNFixD(p, q, H)]
    elif model == "mrnn":
        mods = [_MRNNCell(p, q, H, dynamic=True)]
    elif model == "mlstmf":
        mods = [_MLSTMFixD(p, q, H)]
    elif model == "mlstm":
        mods = [_MLSTMCell(p, q, H)]
    elif model == "rwa":
        s = torch.randn(H)
        mods = [nn.Linear(p, H), nn.Linear(p + H, H), nn.Linear(p + H, H, bias=False)]
        return [s] + [t.detach() for m in mods + [nn.Linear(H, q)] for t in m.parameters()]
    elif model == "mist":
        mods = [nn.Linear(p + H, 8), nn.Linear(p + H, H), nn.Linear(H, H, bias=False)]
        mods += [nn.Linear(p, H), nn.Linear(H, q)]
    return [t.detach() for m in mods for t in m.parameters()]


@pytest.mark.parametrize("H", [1, 3])
@pytest.mark.parametrize(
    "model", ["rnn", "lstm", "mrnnf", "mrnn", "mlstmf", "mlstm", "rwa", "mist"]
)
def test_init_bit_identical_to_hand_built_modules(model, H):
    seeds = [0, 7, 42]
    params = init_params(model, seeds, H=H, K=9)
    for k, seed in enumerate(seeds):
        expected = _hand_built(model, seed, H)
        assert len(expected) == len(params)
        for (name, arr), t in zip(params.items(), expected, strict=True):
            assert arr[k].shape == tuple(t.shape), name
            assert np.array_equal(arr[k], t.numpy()), (model, seed, name)


def test_draw_positions_at_h1():
    """At H = 1 the unused tensors are the first four U(-1, 1) draws; w_mm, b_m come next."""
    for seed in (0, 3):
        for model in ("mrnnf", "rnn2", "mrnn"):
            params = init_params(model, [seed], K=6)
            torch.manual_seed(seed)
            first4 = torch.empty(4).uniform_(-1.0, 1.0).numpy()
            lin = nn.Linear(1, 1)
            unused = np.concatenate([params[n][0].ravel() for n in unused_params(model)])
            assert np.array_equal(unused, first4)
            w, b = ("w_dd", "b_d") if model == "mrnn" else ("w_mm", "b_m")
            assert np.array_equal(params[w][0], lin.weight.detach().numpy())
            assert np.array_equal(params[b][0], lin.bias.detach().numpy())


def test_models_that_share_draws():
    seeds = [1, 2]
    mrnnf, rnn2 = init_params("mrnnf", seeds, H=2), init_params("rnn2", seeds, H=2)
    for name in mrnnf:
        if name != "a":
            assert np.array_equal(mrnnf[name], rnn2[name]), name
    mlstmf, mlstm = init_params("mlstmf", seeds, H=2), init_params("mlstm", seeds, H=2)
    for name in mlstm:
        other = "unused_" + name if name in ("w_f", "b_f") else name
        assert np.array_equal(mlstm[name], mlstmf[other]), name


def test_deterministic_parameters():
    K = 30
    filt = init_params("rnn2", [0, 5], K=K, p=2, dtype=np.float64)["w_filter"]
    assert filt.shape == (2, K, 2)
    pi = np.cumprod((np.arange(1, K + 1) - 1 - 0.25) / np.arange(1, K + 1))  # pi_j(0.25)
    np.testing.assert_allclose(filt, np.broadcast_to(pi[None, :, None], filt.shape), rtol=1e-14)
    assert np.all(init_params("mrnnf", [0, 1], p=3)["a"] == 0)
    assert np.all(init_params("mlstmf", [0, 1], H=4)["a"] == 0)


def test_seeds_differ_and_do_not_depend_on_the_batch():
    for model in MODELS:
        params = init_params(model, [0, 1, 2], H=2, K=5)
        flat = np.stack(
            [np.concatenate([v[k].ravel() for n, v in params.items() if n not in RANDOM_FREE])
             for k in range(3)]
        )  # fmt: skip
        assert not np.array_equal(flat[0], flat[1]) and not np.array_equal(flat[1], flat[2])
        alone = init_params(model, [2], H=2, K=5)
        assert all(np.array_equal(alone[n][0], params[n][2]) for n in params), model


def test_float64_holds_the_float32_values():
    for model in MODELS:
        p32 = init_params(model, [4], H=2, K=5, dtype=np.float32)
        p64 = init_params(model, [4], H=2, K=5, dtype=np.float64)
        for name in p32:
            if name != "w_filter":  # computed in the target dtype
                assert np.array_equal(p64[name], p32[name].astype(np.float64)), (model, name)
        if model == "rnn2":
            np.testing.assert_allclose(p64["w_filter"], p32["w_filter"], rtol=1e-6)


def test_caller_rng_untouched():
    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    init_params("rwa", [0, 1], H=2)
    assert torch.equal(torch.rand(3), before)


def test_unknown_model():
    with pytest.raises(ValueError):
        n_params("gru")
