"""The ensemble engine equals training each model alone with torch.nn.RNN / LSTM / GRU.

The objective here is a test's own: the summed top layer at each sequence's last step,
L1 against a target (the engine has no readout or loss of its own).
"""

import numpy as np
import pytest
import torch

from rnnmem.core.ensemble import Ensemble, n_params, param_names, sgd_step

TORCH_MODULES = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}


def summed(model, x, lengths, tbptt_k=None):
    """The test objective's output: the top layer's units summed at the last step, (M, B)."""
    return model(x, lengths, tbptt_k).sum(-1)


def _batches(n_models, steps, batch, t_max, seed):
    """Per-model data: x (steps, M, B, T), lengths (steps, M, B), targets (steps, M, B)."""
    rng = np.random.default_rng(seed)
    x = rng.random((steps, n_models, batch, t_max))
    lengths = rng.integers(t_max - 5, t_max + 1, size=(steps, n_models, batch))
    # the target of each sequence: its 2nd-from-last element
    idx = lengths - 2
    targets = np.take_along_axis(x, idx[..., None], axis=-1)[..., 0]
    return torch.tensor(x), torch.tensor(lengths), torch.tensor(targets)


def _reference_train(cell, layers, units, init, x, lengths, targets, lr):
    """One plain torch.nn model trained alone; returns per-step losses and final weights."""
    net = TORCH_MODULES[cell](1, units, layers, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        for name, p in net.named_parameters():
            p.copy_(init[name])
    losses = []
    for s in range(x.shape[0]):
        seq_out, _ = net(x[s].unsqueeze(-1))  # (B, T, c)
        last = seq_out[torch.arange(x.shape[1]), lengths[s] - 1]  # (B, c)
        loss = (last.sum(-1) - targets[s]).abs().mean()
        net.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in net.parameters():
                p -= lr * p.grad
        losses.append(loss.item())
    return np.array(losses), {n: p.detach() for n, p in net.named_parameters()}


@pytest.mark.parametrize(
    "cell,layers,units",
    [("rnn", 1, 5), ("rnn", 3, 2), ("lstm", 1, 4), ("lstm", 2, 3), ("gru", 1, 3), ("gru", 2, 4)],
)
def test_ensemble_matches_per_model_torch(cell, layers, units):
    n_models, steps, batch, t_max, lr = 3, 60, 8, 12, 0.05
    model = Ensemble(cell, n_models, layers, units, dtype=torch.float64)
    model.init_uniform_([torch.Generator().manual_seed(100 + m) for m in range(n_models)])
    init = model.state_arrays()
    x, lengths, targets = _batches(n_models, steps, batch, t_max, seed=7)

    ens_losses = []
    for s in range(steps):
        per_model = (summed(model, x[s], lengths[s]) - targets[s]).abs().mean(-1)  # (M,)
        sgd_step(model, per_model.sum(), lr)
        ens_losses.append(per_model.detach().numpy())
    ens_losses = np.array(ens_losses)  # (steps, M)

    for m in range(n_models):
        ref_init = {name: init[name][m] for name in param_names(layers)}
        ref_losses, ref_weights = _reference_train(
            cell, layers, units, ref_init, x[:, m], lengths[:, m], targets[:, m], lr
        )
        np.testing.assert_allclose(ens_losses[:, m], ref_losses, rtol=0, atol=1e-5)
        for name in param_names(layers):
            np.testing.assert_allclose(
                getattr(model, name)[m].detach().numpy(),
                ref_weights[name].numpy(),
                rtol=0,
                atol=1e-5,
            )
        # training must have moved the weights, or the comparison proves nothing
        assert not torch.allclose(ref_weights["weight_hh_l0"], ref_init["weight_hh_l0"])


def test_model_result_independent_of_companions():
    """A model's training is bit-identical whether it trains alone or with others (float32)."""
    x, lengths, targets = _batches(3, 20, 32, 12, seed=3)
    finals = []
    for members in ([0, 1, 2], [1]):
        model = Ensemble("lstm", len(members), 2, 3)
        model.init_uniform_([torch.Generator().manual_seed(100 + m) for m in members])
        xs, ls, ts = x[:, members].float(), lengths[:, members], targets[:, members].float()
        for s in range(x.shape[0]):
            per_model = (summed(model, xs[s], ls[s]) - ts[s]).abs().mean(-1)
            sgd_step(model, per_model.sum(), 0.05)
        finals.append(model.weight_hh_l1[members.index(1)].detach().clone())
    assert torch.equal(finals[0], finals[1])


def test_padding_after_the_end_changes_nothing():
    model = Ensemble("gru", 2, 2, 3, dtype=torch.float64)
    model.init_uniform_([torch.Generator().manual_seed(m) for m in range(2)])
    x = torch.rand(2, 4, 10, dtype=torch.float64)
    lengths = torch.tensor([[10, 7, 5, 3], [9, 10, 1, 4]])
    out = model(x, lengths)  # (M, B, c): the top layer at each sequence's last step
    x_noisy = x.clone()
    for m in range(2):
        for b in range(4):
            x_noisy[m, b, lengths[m, b] :] = 99.0
    assert torch.equal(out, model(x_noisy, lengths))


def test_truncated_bptt_cuts_gradient_to_last_k_steps():
    model = Ensemble("rnn", 1, 1, 3, dtype=torch.float64)
    model.init_uniform_([torch.Generator().manual_seed(0)])
    x = torch.rand(1, 2, 8, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([[8, 6]])
    summed(model, x, lengths, tbptt_k=2).sum().backward()
    nonzero = x.grad[0].abs() > 0
    # sequence 0 ends at step 7 -> inputs 6, 7 get gradient; sequence 1 ends at 5 -> 4, 5
    assert nonzero[0].tolist() == [False] * 6 + [True] * 2
    assert nonzero[1].tolist() == [False] * 4 + [True] * 2 + [False] * 2


def test_parameter_counts_match_torch():
    for cell, module in TORCH_MODULES.items():
        for layers, units in ((1, 1), (2, 5), (3, 4)):
            ref = sum(p.numel() for p in module(1, units, layers).parameters())
            assert n_params(cell, layers, units) == ref


@pytest.mark.parametrize("cell,layers", [("rnn", 2), ("lstm", 2), ("gru", 1)])
@pytest.mark.parametrize("n_models", [1, 3])
def test_inference_path_equals_autograd_path(cell, layers, n_models):
    """Without gradients, run() takes the layer-major training forward; same states."""
    model = Ensemble(cell, n_models, layers, 4, dtype=torch.float64)
    model.init_uniform_([torch.Generator().manual_seed(m) for m in range(n_models)])
    x = torch.rand(n_models, 5, 9, dtype=torch.float64)
    lengths = torch.randint(3, 10, (n_models, 5), generator=torch.Generator().manual_seed(1))
    for states in ("none", "last", "all"):
        out_grad, st_grad = model.run(x, lengths, states=states)  # step-major, autograd
        with torch.no_grad():
            out_fast, st_fast = model.run(x, lengths, states=states)
        torch.testing.assert_close(out_fast, out_grad.detach(), rtol=0, atol=1e-12)
        if states != "none":
            assert len(st_fast[1]) == (layers if cell == "lstm" else 0)
            for a, b in zip([*st_fast[0], *st_fast[1]], [*st_grad[0], *st_grad[1]], strict=True):
                torch.testing.assert_close(a, b.detach(), rtol=0, atol=1e-12)


def test_chunked_inference_is_exact_and_companion_free():
    """infer() over chunks of sequences gives the bits of one pass; a model's bits do not
    depend on the models beside it (float32). The one pass has a multiple of VECTOR_ALIGN
    sequences, as every chunk has after padding, so both take the vector code path."""
    x = torch.rand(3, 64, 12)
    lengths = torch.randint(5, 13, (3, 64), generator=torch.Generator().manual_seed(2))
    model = Ensemble("lstm", 3, 2, 3)
    model.init_uniform_([torch.Generator().manual_seed(100 + m) for m in range(3)])
    with torch.no_grad():
        whole, (h_whole, c_whole) = model.run(x, lengths, states="last")
    out, (h, c) = model.infer(x, lengths, states="last", chunk=16)
    assert (
        torch.equal(out, whole) and torch.equal(h[1], h_whole[1]) and torch.equal(c[0], c_whole[0])
    )
    alone = Ensemble("lstm", 1, 2, 3)
    alone.init_uniform_([torch.Generator().manual_seed(101)])
    out_alone, _ = alone.infer(x[1:2], lengths[1:2], chunk=16)
    assert torch.equal(out_alone[0], out[1])
    # a readout applied chunk by chunk (head) sees the tensors of one pass
    head = model.infer(x, lengths, chunk=16, head=lambda top: top.sum(-1))[0]
    with torch.no_grad():
        assert torch.equal(head, model.run(x, lengths)[0].sum(-1))
