"""Seed-batched training (rnnmem/long_memory/train.py, adam.py) against plain per-seed torch loops.

The model is abstract to train.py, so these tests use a tiny tanh RNN (H = 1, the contract's
rnn parameter layout) whose loss_grad runs torch autograd seed by seed.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from rnnmem.core.io import load_arrays, save_arrays
from rnnmem.long_memory.adam import adam_from_arrays, adam_init, adam_step, adam_to_arrays
from rnnmem.long_memory.train import (
    TrainSettings,
    state_from_arrays,
    state_to_arrays,
    train_seeds,
)

N_TRAIN, N_VAL, K = 40, 20, 3
SHAPES = {
    "w_ih": (1, 1),
    "w_hh": (1, 1),
    "b_ih": (1,),
    "b_hh": (1,),
    "w_out": (1, 1),
    "b_out": (1,),
}
SETTINGS = TrainSettings(
    lr=0.05,
    betas=(0.9, 0.999),
    eps=1e-8,
    max_epochs=60,
    patience=5,
    min_delta=1e-4,
    snapshot_rule="authors",
    dtype="float64",
)


def series():
    """x_t (inputs) and y_t = x_{t+1} (targets), [T, 1] each."""
    rng = np.random.default_rng(7)
    t = np.arange(N_TRAIN + N_VAL + 1)
    s = 0.5 + 0.3 * np.sin(t / 3.0) + 0.05 * rng.standard_normal(t.shape[0])
    return s[:-1, None], s[1:, None]


def initial_params(n_seeds, seed=0):
    rng = np.random.default_rng(seed)
    return {k: rng.uniform(-1, 1, (n_seeds,) + shape) for k, shape in SHAPES.items()}


def seed_losses(p, x, y, n_train, n_val):
    """Training loss (with graph) and validation loss of one seed: torch tensors -> (L, V)."""
    h = torch.zeros(1, dtype=p["w_ih"].dtype)
    xs, preds = torch.from_numpy(x), []
    for t in range(n_train + n_val):
        h = torch.tanh(p["w_ih"] @ xs[t] + p["b_ih"] + p["w_hh"] @ h + p["b_hh"])
        preds.append(p["w_out"] @ h + p["b_out"])
    err = torch.stack(preds) - torch.from_numpy(y[: n_train + n_val])
    return torch.mean(err[:n_train] ** 2), torch.mean(err[n_train:].detach() ** 2)


def loss_grad(params, x, y, n_train, n_val, k, active):
    """The kernel interface, one seed at a time with torch autograd."""
    n_seeds = active.shape[0]
    train = np.full(n_seeds, np.nan)
    val = np.full(n_seeds, np.nan)
    grads = {name: np.zeros_like(p) for name, p in params.items()}
    for s in np.flatnonzero(active):
        p = {name: torch.tensor(v[s], requires_grad=True) for name, v in params.items()}
        L, V = seed_losses(p, x, y, n_train, n_val)
        for name, g in zip(p, torch.autograd.grad(L, list(p.values())), strict=True):
            grads[name][s] = g.numpy()
        train[s], val[s] = L.item(), V.item()
    return train, val, grads


def reference_run(params0, s, settings):
    """Seed s trained the straightforward way: torch.optim.Adam and the long-memory.md §5.2 loop."""
    x, y = series()
    p = {k: torch.nn.Parameter(torch.tensor(v[s])) for k, v in params0.items()}
    opt = torch.optim.Adam(
        p.values(), lr=settings.lr, betas=settings.betas, eps=settings.eps, foreach=False
    )
    best_val, best_train, counter = np.inf, np.inf, 0
    snapshot = {k: v[s].copy() for k, v in params0.items()}
    best_epoch, train, val = -1, [], []
    for epoch in range(settings.max_epochs):
        opt.zero_grad()
        L, V = seed_losses(p, x, y, N_TRAIN, N_VAL)
        L.backward()
        pre = {k: t.detach().numpy().copy() for k, t in p.items()}
        opt.step()
        post = {k: t.detach().numpy().copy() for k, t in p.items()}
        train.append(L.item())
        val.append(V.item())
        if V.item() < best_val:
            best_val, best_epoch = V.item(), epoch
            snapshot = post if settings.snapshot_rule == "authors" else pre
        if best_train - L.item() > settings.min_delta:
            best_train, counter = L.item(), 0
        else:
            counter += 1
        if counter == settings.patience:
            break
    return dict(
        train=np.array(train),
        val=np.array(val),
        best_epoch=best_epoch,
        stop=epoch,
        snapshot=snapshot,
    )


def run(params0, settings=SETTINGS, fn=loss_grad, **kw):
    x, y = series()
    return train_seeds(fn, params0, x, y, N_TRAIN, N_VAL, K, settings, **kw)


def assert_same_seed(a, i, b, j):
    """Seed i of result a and seed j of result b: identical bits."""
    assert a.epochs_run[i] == b.epochs_run[j] and a.best_epoch[i] == b.best_epoch[j]
    assert a.stop_epoch[i] == b.stop_epoch[j] and a.diverged[i] == b.diverged[j]
    n = a.epochs_run[i]
    for curve in ("train_loss", "val_loss"):
        assert getattr(a, curve)[i, :n].tobytes() == getattr(b, curve)[j, :n].tobytes()
    for name in a.snapshot:
        assert a.snapshot[name][i].tobytes() == b.snapshot[name][j].tobytes()
        assert a.params[name][i].tobytes() == b.params[name][j].tobytes()


# -------------------------------------------------------------------------------- settings
def test_settings_have_no_defaults_and_check_fields():
    with pytest.raises(TypeError):
        TrainSettings(lr=0.01)
    config = dataclasses.asdict(SETTINGS)
    assert TrainSettings.from_config(config) == SETTINGS
    with pytest.raises(ValueError, match="missing"):
        TrainSettings.from_config({k: v for k, v in config.items() if k != "patience"})
    with pytest.raises(ValueError, match="snapshot_rule"):
        dataclasses.replace(SETTINGS, snapshot_rule="late")


# ------------------------------------------------------------------------------------ adam
@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.3, 0.9)])  # 0.3: lerp's other branch
def test_adam_matches_torch_with_mask(betas):
    rng = np.random.default_rng(3)
    n_seeds, shapes = 4, {"a": (3, 2), "b": (5,), "c": (1, 1)}
    params = {k: rng.standard_normal((n_seeds,) + s) for k, s in shapes.items()}
    torch_p = [
        [torch.nn.Parameter(torch.tensor(params[k][s])) for k in shapes] for s in range(n_seeds)
    ]
    opts = [torch.optim.Adam(tp, lr=0.01, betas=betas, eps=1e-8, foreach=False) for tp in torch_p]
    state = adam_init(params)
    for _ in range(20):
        active = rng.random(n_seeds) < 0.7
        grads = {
            k: rng.standard_normal((n_seeds,) + s) * 10.0 ** rng.uniform(-4, 1)
            for k, s in shapes.items()
        }
        grads["b"][~active] = np.nan  # masked seeds must not see it
        before = {k: v.copy() for k, v in params.items()}
        params, state = adam_step(params, grads, state, active, lr=0.01, betas=betas, eps=1e-8)
        for s in np.flatnonzero(active):
            for tensor, k in zip(torch_p[s], shapes, strict=True):
                tensor.grad = torch.tensor(grads[k][s])
            opts[s].step()
        for k in shapes:
            assert params[k][~active].tobytes() == before[k][~active].tobytes()
    for k in shapes:
        ref = np.stack([torch_p[s][list(shapes).index(k)].detach().numpy() for s in range(n_seeds)])
        np.testing.assert_allclose(params[k], ref, rtol=1e-14, atol=1e-14)
        assert not np.array_equal(params[k], before[k])
    assert state.step.tolist() == [
        int(opt.state[opt.param_groups[0]["params"][0]]["step"]) for opt in opts
    ]


def test_adam_float32_close_to_torch():
    rng = np.random.default_rng(4)
    params = {"w": rng.standard_normal((3, 4, 2)).astype(np.float32)}
    torch_p = [torch.nn.Parameter(torch.tensor(params["w"][s])) for s in range(3)]
    opts = [torch.optim.Adam([p], lr=0.01, foreach=False) for p in torch_p]
    state = adam_init(params)
    for _ in range(20):
        g = {"w": rng.standard_normal((3, 4, 2)).astype(np.float32)}
        params, state = adam_step(
            params, g, state, np.ones(3, bool), lr=0.01, betas=(0.9, 0.999), eps=1e-8
        )
        for s in range(3):
            torch_p[s].grad = torch.tensor(g["w"][s])
            opts[s].step()
    assert params["w"].dtype == np.float32
    ref = np.stack([p.detach().numpy() for p in torch_p])
    np.testing.assert_allclose(params["w"], ref, rtol=1e-5, atol=1e-6)


def test_adam_state_round_trips_exactly():
    rng = np.random.default_rng(5)
    params = {"a": rng.standard_normal((2, 3)), "b": rng.standard_normal((2, 1, 1))}
    state = adam_init(params)
    grads = [{k: rng.standard_normal(v.shape) for k, v in params.items()} for _ in range(6)]
    kw = dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8)
    for g in grads[:3]:
        params, state = adam_step(params, g, state, np.array([True, False]), **kw)
    restored = adam_from_arrays(adam_to_arrays(state), list(params))
    p1, p2 = dict(params), dict(params)
    for g in grads[3:]:
        p1, state = adam_step(p1, g, state, np.ones(2, bool), **kw)
        p2, restored = adam_step(p2, g, restored, np.ones(2, bool), **kw)
    for k in params:
        assert p1[k].tobytes() == p2[k].tobytes()
    assert state.step.tolist() == [6, 3]


# -------------------------------------------------------------------------------- training
@pytest.mark.parametrize(
    "rule, patience, max_epochs",
    [("authors", 5, 60), ("corrected", 5, 60), ("authors", 100, 12)],  # patience / epoch cap
)
def test_batched_training_matches_per_seed_torch_loops(rule, patience, max_epochs):
    settings = dataclasses.replace(
        SETTINGS, snapshot_rule=rule, patience=patience, max_epochs=max_epochs
    )
    params0 = initial_params(4)
    result = run(params0, settings)
    if patience < max_epochs:  # the stopping rule acted
        assert (result.stop_epoch < max_epochs - 1).all()
    else:
        assert (result.stop_epoch == max_epochs - 1).all()
    for s in range(4):
        ref = reference_run(params0, s, settings)
        n = len(ref["train"])
        assert result.epochs_run[s] == n and result.stop_epoch[s] == ref["stop"]
        assert result.best_epoch[s] == ref["best_epoch"] and not result.diverged[s]
        np.testing.assert_allclose(result.train_loss[s, :n], ref["train"], rtol=1e-12, atol=0)
        np.testing.assert_allclose(result.val_loss[s, :n], ref["val"], rtol=1e-12, atol=0)
        assert np.isnan(result.train_loss[s, n:]).all() and np.isnan(result.val_loss[s, n:]).all()
        for name in SHAPES:
            np.testing.assert_allclose(
                result.snapshot[name][s], ref["snapshot"][name], rtol=1e-12, atol=1e-13
            )


def test_stopping_and_selection_on_scripted_losses():
    """Exact dyadic losses: strict validation improvement, the min_delta boundary, the cap."""
    inf = np.inf
    train = [
        [4.0, 3.5, 3.25, 3.0, 2.875, 2.75, 2.75, inf, inf, inf],  # 3.5 - 3.25 == min_delta
        [10.0, 9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0],
    ]
    val = [[2.0, 1.0, 1.0, 0.5, 0.5, 0.75, 0.5, 9, 9, 9], [1.0] * 10]  # ties never select
    calls = []

    def scripted(params, x, y, n_train, n_val, k, active):
        e = len(calls)
        calls.append(active.copy())
        grads = {name: np.zeros_like(p) for name, p in params.items()}
        now_train = np.where(active, [row[e] for row in train], np.nan)
        now_val = np.where(active, [row[e] for row in val], np.nan)
        return now_train, now_val, grads

    settings = dataclasses.replace(SETTINGS, patience=3, min_delta=0.25, max_epochs=10)
    result = run(initial_params(2), settings, fn=scripted)
    # seed 0 counter: reset, reset, 1, reset, 1, 2, 3 -> stops after epoch 6
    assert result.stop_epoch.tolist() == [6, 9] and result.epochs_run.tolist() == [7, 10]
    assert result.best_epoch.tolist() == [3, 0]
    assert [c.tolist() for c in calls[6:8]] == [[True, True], [False, True]]
    np.testing.assert_array_equal(result.train_loss[0, :7], train[0][:7])
    assert np.isnan(result.train_loss[0, 7:]).all()


def test_snapshot_rules_differ_by_one_step():
    params0 = initial_params(3)
    seen = []  # parameters at each epoch's pass = the pre-step parameters of that epoch

    def recording(params, *args):
        seen.append({k: v.copy() for k, v in params.items()})
        return loss_grad(params, *args)

    authors = run(params0, dataclasses.replace(SETTINGS, snapshot_rule="authors"), fn=recording)
    trajectory, seen = seen, []
    corrected = run(params0, dataclasses.replace(SETTINGS, snapshot_rule="corrected"))
    for s in range(3):
        e = authors.best_epoch[s]
        assert e >= 0 and e == corrected.best_epoch[s]
        assert authors.train_loss[s].tobytes() == corrected.train_loss[s].tobytes()
        after = trajectory[e + 1] if e + 1 < len(trajectory) else authors.params
        for name in SHAPES:
            assert corrected.snapshot[name][s].tobytes() == trajectory[e][name][s].tobytes()
            assert authors.snapshot[name][s].tobytes() == after[name][s].tobytes()
            assert not np.array_equal(authors.snapshot[name][s], corrected.snapshot[name][s])


def test_nan_seed_is_diverged_and_isolated():
    params0 = initial_params(4)
    with_nan = {k: v.copy() for k, v in params0.items()}
    with_nan["w_hh"][2] = np.nan
    others = [0, 1, 3]
    alone = run({k: v[others] for k, v in params0.items()})
    result = run(with_nan)
    assert result.diverged.tolist() == [False, False, True, False]
    assert result.stop_epoch[2] == 0 and result.epochs_run[2] == 1 and result.best_epoch[2] == -1
    for name in SHAPES:  # never improved: the snapshot is the initial parameters
        assert result.snapshot[name][2].tobytes() == with_nan[name][2].tobytes()
    for j, s in enumerate(others):
        assert_same_seed(result, s, alone, j)


def test_divergence_mid_run_keeps_best_snapshot():
    params0, bad_epoch = initial_params(3), 7
    clean_states = []
    clean = run(params0, on_epoch=lambda e, st: clean_states.append(st))
    calls = []

    def poisoned(params, *args):
        train, val, grads = loss_grad(params, *args)
        if len(calls) == bad_epoch:
            grads["w_out"][1] = np.inf
        calls.append(1)
        return train, val, grads

    result = run(params0, fn=poisoned)
    assert result.diverged.tolist() == [False, True, False]
    assert result.stop_epoch[1] == bad_epoch and result.epochs_run[1] == bad_epoch + 1
    before = clean_states[bad_epoch - 1]  # the state after epoch bad_epoch - 1
    assert 0 <= result.best_epoch[1] == before.best_epoch[1] < bad_epoch
    for name in SHAPES:
        assert result.snapshot[name][1].tobytes() == before.snapshot[name][1].tobytes()
        assert result.params[name][1].tobytes() == before.params[name][1].tobytes()  # no step
    for s in (0, 2):
        assert_same_seed(result, s, clean, s)


def test_seed_alone_equals_seed_among_companions():
    params0 = initial_params(5, seed=11)
    together = run(params0)
    assert len(set(together.stop_epoch.tolist())) > 1  # companions stop at other epochs
    for s in (0, 3):
        alone = run({k: v[s : s + 1] for k, v in params0.items()})
        assert_same_seed(together, s, alone, 0)


def test_resume_from_checkpoint_is_bit_identical(tmp_path):
    params0 = initial_params(3, seed=2)
    epochs = []
    checkpoints = {}

    def on_epoch(epoch, state):
        epochs.append(epoch)
        if epoch in (0, 9):
            save_arrays(tmp_path / f"ckpt{epoch}.npz", state_to_arrays(state, SETTINGS))
            checkpoints[epoch] = state

    full = run(params0, on_epoch=on_epoch)
    assert epochs == list(range(full.epochs_run.max()))
    for epoch in (0, 9):
        arrays, _ = load_arrays(tmp_path / f"ckpt{epoch}.npz")
        state = state_from_arrays(arrays, SETTINGS)
        assert state.epoch == epoch + 1
        assert list(state.params) == list(SHAPES)  # creation order survives the sorted file
        resumed = run(params0, state=state)
        for s in range(3):
            assert_same_seed(full, s, resumed, s)
        assert full.train_loss.shape == resumed.train_loss.shape
        for name in ("full", "resumed"):
            res = full if name == "full" else resumed
            save_arrays(
                tmp_path / f"{name}.npz",
                {
                    "t": res.train_loss,
                    "v": res.val_loss,
                    **{f"p_{k}": v for k, v in res.snapshot.items()},
                },
            )
        assert (tmp_path / "full.npz").read_bytes() == (tmp_path / "resumed.npz").read_bytes()
    other = dataclasses.replace(SETTINGS, lr=0.02)
    with pytest.raises(ValueError, match="settings"):
        state_from_arrays(state_to_arrays(checkpoints[9], SETTINGS), other)


def test_float32_run_keeps_dtype():
    settings = dataclasses.replace(SETTINGS, dtype="float32", max_epochs=8)

    def loss_grad32(params, *args):
        train, val, grads = loss_grad(params, *args)
        return train.astype(np.float32), val.astype(np.float32), grads

    result = run(initial_params(2), settings, fn=loss_grad32)
    assert result.train_loss.dtype == np.float32
    assert all(v.dtype == np.float32 for v in result.snapshot.values())
    assert result.epochs_run.tolist() == [8, 8] and result.stop_epoch.tolist() == [7, 7]
    assert np.isfinite(result.train_loss).all() and (result.best_epoch >= 0).all()
