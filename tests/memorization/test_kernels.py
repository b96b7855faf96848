"""The fused CPU kernels (rnnmem.memorization.kernels) against the torch engine and torch.nn.

In float64 a step's losses and gradients equal the torch engine's (rnnmem.memorization.
readout.l1_loss_and_grads) and those of each model trained alone as a torch.nn.RNN / LSTM /
GRU module with autograd (truncated BPTT written as a detached state), and 20 epochs of SGD
end at the same parameters, all to 1e-10. A model's bits do not depend on the models beside
it (float32 and float64), and a rerun gives the same bytes. numba compiles each dtype once
(about 30 s on a loaded 2-core machine), then loads it from its cache.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnmem.core.ensemble import Ensemble
from rnnmem.memorization import kernels
from rnnmem.memorization.readout import l1_loss_and_grads
from rnnmem.memorization.readout import predict as engine_predict

TORCH_MODULES = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
TOL = dict(rtol=0, atol=1e-10)


def _models(cell, M, layers, units, dtype=torch.float64, first_seed=100):
    """The torch engine's models (torch.nn's init, one generator per model) and theta."""
    model = Ensemble(cell, M, layers, units, dtype=dtype)
    model.init_uniform_([torch.Generator().manual_seed(first_seed + m) for m in range(M)])
    params = {k: v.numpy() for k, v in model.state_arrays().items()}
    return model, kernels.pack(kernels.Net(cell, layers, units), params)


def _batches(shape, T, seed, dtype=np.float64):
    """x (*shape, T), lengths in T-5..T, targets: the 2nd element from each sequence's end."""
    rng = np.random.default_rng(seed)
    x = rng.random((*shape, T)).astype(dtype)
    lengths = rng.integers(max(T - 5, 2), T + 1, size=shape)
    targets = np.take_along_axis(x, (lengths - 2)[..., None], axis=-1)[..., 0]
    return x, lengths, targets


def _torch_loss(net, x, lengths, targets, tbptt_k):
    """One model's L1 loss on one mini-batch (B, T): the summed top layer at each sequence's
    last step; with tbptt_k, the state entering step last - k + 1 is detached."""
    B = x.shape[0]
    if tbptt_k is None:
        seq, _ = net(x.unsqueeze(-1))
        out = seq[torch.arange(B), lengths - 1].sum(-1)
    else:
        outs = []
        for b in range(B):
            n = int(lengths[b])
            cut = max(n - tbptt_k, 0)
            xb = x[b, :n].view(1, n, 1)
            state = None
            if cut > 0:
                _, state = net(xb[:, :cut])
                lstm = isinstance(state, tuple)  # (h, c)
                state = tuple(s.detach() for s in state) if lstm else state.detach()
            seq, _ = net(xb[:, cut:], state)
            outs.append(seq[0, -1].sum())
        out = torch.stack(outs)
    return (out - targets).abs().mean()


def _torch_net(cell, layers, units, params, m):
    net = TORCH_MODULES[cell](1, units, layers, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        for name, p in net.named_parameters():
            p.copy_(torch.from_numpy(params[name][m]))
    return net


CASES = [
    ("rnn", 1, 4, None),
    ("rnn", 3, 3, 3),
    ("lstm", 1, 3, None),
    ("lstm", 2, 4, 4),
    ("gru", 2, 3, None),
    ("gru", 3, 2, 2),
    ("lstm", 5, 2, None),
    ("gru", 5, 3, 4),
]


@pytest.mark.parametrize("cell,layers,units,tbptt_k", CASES)
def test_step_equals_torch_engine_and_torch_nn(cell, layers, units, tbptt_k):
    """One mini-batch: losses and every gradient, 3 models, B = 6 (not a multiple of 8)."""
    M, B, T = 3, 6, 12
    model, theta = _models(cell, M, layers, units)
    x, lengths, targets = _batches((M, B), T, seed=layers)
    net = kernels.Net(cell, layers, units)
    loss, grads = kernels.loss_and_grads(net, theta, x, lengths, targets, tbptt_k)
    tx, tl, ty = torch.from_numpy(x), torch.from_numpy(lengths), torch.from_numpy(targets)
    ref_loss, ref_grads = l1_loss_and_grads(model, tx, tl, ty, tbptt_k)
    np.testing.assert_allclose(loss, ref_loss.numpy(), **TOL)
    assert set(grads) == set(ref_grads)
    for name, value in grads.items():
        np.testing.assert_allclose(value, ref_grads[name].numpy(), **TOL, err_msg=name)
    params = kernels.unpack(net, theta)
    for m in range(M):
        module = _torch_net(cell, layers, units, params, m)
        ref = _torch_loss(module, tx[m], tl[m], ty[m], tbptt_k)
        ref.backward()
        np.testing.assert_allclose(loss[m], ref.item(), **TOL)
        for name, p in module.named_parameters():
            np.testing.assert_allclose(grads[name][m], p.grad.numpy(), **TOL, err_msg=name)
    assert min(np.abs(v).max() for v in grads.values()) > 1e-5  # gradients reach every layer


@pytest.mark.parametrize(
    "cell,layers,units,tbptt_k", [("rnn", 2, 3, None), ("lstm", 2, 3, 3), ("gru", 1, 4, 2)]
)
def test_twenty_epochs_equal_per_model_torch_nn(cell, layers, units, tbptt_k):
    """20 epochs of 2 SGD steps: every step's loss and the final parameters, model by model."""
    M, B, T, epochs, steps, lr = 2, 8, 12, 20, 2, 0.1
    _, theta = _models(cell, M, layers, units)
    net = kernels.Net(cell, layers, units)
    initial = {k: v.copy() for k, v in kernels.unpack(net, theta).items()}
    x, lengths, targets = _batches((epochs, steps, M, B), T, seed=11)
    losses = np.stack(
        [
            kernels.train_epoch(net, theta, x[e], lengths[e], targets[e], lr, tbptt_k)
            for e in range(epochs)
        ]
    )  # (epochs, steps, M)
    final = kernels.unpack(net, theta)
    for m in range(M):
        module = _torch_net(cell, layers, units, initial, m)
        for e in range(epochs):
            for s in range(steps):
                xs, ls, ys = (torch.from_numpy(a[e, s, m]) for a in (x, lengths, targets))
                loss = _torch_loss(module, xs, ls, ys, tbptt_k)
                module.zero_grad()
                loss.backward()
                with torch.no_grad():
                    for p in module.parameters():
                        p -= lr * p.grad
                np.testing.assert_allclose(losses[e, s, m], loss.item(), **TOL)
        for name, p in module.named_parameters():
            np.testing.assert_allclose(final[name][m], p.detach().numpy(), **TOL, err_msg=name)
            assert np.abs(final[name][m] - initial[name][m]).max() > 1e-3  # training moved it


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cell,tbptt_k", [("rnn", None), ("lstm", 3), ("gru", None)])
def test_a_model_does_not_depend_on_its_companions(cell, tbptt_k, dtype):
    """Model 1 trained alone, beside two and beside four others: the same bits."""
    layers, units, B, T = 2, 3, 8, 10
    torch_dtype = torch.float32 if dtype == np.float32 else torch.float64
    _, theta5 = _models(cell, 5, layers, units, dtype=torch_dtype)
    x, lengths, targets = _batches((3, 2, 5, B), T, seed=5, dtype=dtype)
    net = kernels.Net(cell, layers, units)
    finals, curves, outs = [], [], []
    for members in ([0, 1, 2, 3, 4], [0, 1, 2], [1]):
        theta = np.ascontiguousarray(theta5[members])
        curve = [
            kernels.train_epoch(
                net, theta, x[e][:, members], lengths[e][:, members], targets[e][:, members],
                0.1, tbptt_k,
            )
            for e in range(3)
        ]  # fmt: skip
        i = members.index(1)
        finals.append(theta[i].tobytes())
        curves.append(np.stack(curve)[..., i].tobytes())
        outs.append(kernels.predict(net, theta, x[0, 0][members], lengths[0, 0][members])[i])
    assert finals[0] == finals[1] == finals[2]
    assert curves[0] == curves[1] == curves[2]
    assert outs[0].tobytes() == outs[1].tobytes() == outs[2].tobytes()


def test_reruns_are_byte_identical():
    _, theta0 = _models("lstm", 4, 2, 3, dtype=torch.float32)
    x, lengths, targets = _batches((2, 3, 4, 8), 10, seed=2, dtype=np.float32)
    net = kernels.Net("lstm", 2, 3)
    runs = []
    for _ in range(2):
        theta = theta0.copy()
        curve = [
            kernels.train_epoch(net, theta, x[e], lengths[e], targets[e], 0.1, 4) for e in range(2)
        ]
        runs.append((theta.tobytes(), np.stack(curve).tobytes()))
    assert runs[0] == runs[1]
    assert runs[0][0] != theta0.tobytes()


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_predict_equals_torch_engine_and_ignores_padding(cell):
    """Readouts of 70 sequences (chunks of 32: the last one padded), as the torch engine's."""
    model, theta = _models(cell, 2, 2, 3)
    x, lengths, _ = _batches((2, 70), 9, seed=4)
    net = kernels.Net(cell, 2, 3)
    out = kernels.predict(net, theta, x, lengths, chunk=32)
    ref = engine_predict(model, torch.from_numpy(x), torch.from_numpy(lengths))
    np.testing.assert_allclose(out, ref.numpy(), rtol=0, atol=1e-12)
    noisy = x.copy()
    noisy[np.arange(x.shape[-1]) >= lengths[..., None]] = 99.0  # after each sequence's end
    assert np.array_equal(kernels.predict(net, theta, noisy, lengths, chunk=32), out)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_sequence_does_not_depend_on_its_place_among_the_others(dtype):
    """Chunks of 5 (every loop on its scalar path), 24 and 70 (vector paths and remainders):
    the same bits for every sequence (see the VECTOR_ALIGN note in rnnmem.core.ensemble)."""
    torch_dtype = torch.float32 if dtype == np.float32 else torch.float64
    _, theta = _models("lstm", 2, 2, 5, dtype=torch_dtype)
    x, lengths, _ = _batches((2, 70), 9, seed=6, dtype=dtype)
    net = kernels.Net("lstm", 2, 5)
    outs = [kernels.predict(net, theta, x, lengths, chunk=n).tobytes() for n in (5, 24, 70)]
    assert outs[0] == outs[1] == outs[2]


def test_pack_unpack_and_bad_inputs():
    model, theta = _models("gru", 2, 2, 3)
    net = kernels.Net("gru", 2, 3)
    assert theta.shape == (2, net.n_params) == (2, sum(p[0].numel() for p in model.parameters()))
    for name, value in kernels.unpack(net, theta).items():
        assert np.array_equal(value, getattr(model, name).detach().numpy()), name
    x, lengths, targets = _batches((1, 2, 4), 6, seed=0)
    with pytest.raises(ValueError, match=r"lengths must lie in 1..6"):
        kernels.train_epoch(net, theta, x, np.full_like(lengths, 7), targets, 0.1, None)
    with pytest.raises(ValueError, match=r"theta has shape"):
        kernels.train_epoch(net, theta[:, :-1].copy(), x, lengths, targets, 0.1, None)
    with pytest.raises(ValueError, match=r"C-contiguous"):
        kernels.train_epoch(net, np.asfortranarray(theta), x, lengths, targets, 0.1, None)
    with pytest.raises(ValueError, match=r"tbptt_k must be >= 1"):
        kernels.train_epoch(net, theta, x, lengths, targets, 0.1, 0)
    with pytest.raises(ValueError, match=r"unknown cell type 'elman'"):
        kernels.pack(kernels.Net("elman", 1, 2), {})
