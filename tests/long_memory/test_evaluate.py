"""Test-set evaluation and per-seed records (rnnmem/long_memory/evaluate.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnmem.core.io import load_arrays, save_arrays
from rnnmem.long_memory.evaluate import (
    META_KEYS,
    evaluate_test,
    metrics,
    predict_test,
    seed_arrays,
    seed_path,
)
from rnnmem.long_memory.train import TrainResult

N_TRAIN, N_VAL, N_TEST = 6, 4, 5


def forward(params, x, K):
    """A tiny recurrent model, all seeds at once: h_t = tanh(a h_{t-1} + b x_t), y^_t = c h_t."""
    a, b, c = params["a"], params["b"], params["c"]  # [S, 1] each
    h = np.zeros_like(a)
    out = np.empty((a.shape[0], x.shape[0], 1), dtype=a.dtype)
    for t in range(x.shape[0]):
        h = np.tanh(a * h + b * x[t])
        out[:, t] = c * h
    return out


def snapshot(n_seeds=3):
    rng = np.random.default_rng(0)
    return {k: rng.uniform(-1, 1, (n_seeds, 1)) for k in "abc"}


def test_metrics_on_hand_computed_numbers():
    pred = np.array([[1.0, 2.0, 3.0], [2.0, 2.0, 2.0]])
    true = np.array([1.0, 1.0, 4.0])
    m = metrics(pred, true)
    # seed 0: errors 0, 1, -1;  seed 1: errors 1, 1, -2
    np.testing.assert_allclose(m["rmse"], [math.sqrt(2 / 3), math.sqrt(6 / 3)], rtol=1e-15)
    np.testing.assert_allclose(m["mae"], [2 / 3, 4 / 3], rtol=1e-15)
    np.testing.assert_allclose(m["mape"], [(0 + 1 + 1 / 4) / 3, (1 + 1 + 2 / 4) / 3], rtol=1e-15)
    assert all(v.dtype == np.float64 for v in m.values())
    with pytest.raises(ValueError):
        metrics(pred, true[:2])


def test_metrics_of_float32_predictions_are_computed_in_float64():
    pred = np.array([[0.1, 0.2]], dtype=np.float32)
    true = np.array([0.3, 0.1])
    m = metrics(pred, true)
    err = pred.astype(np.float64) - true
    assert m["rmse"][0] == np.sqrt(np.mean(err * err))
    assert m["mape"][0] == np.mean(np.abs(err / true))


def test_predict_test_is_one_pass_from_the_zero_state():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, (N_TRAIN + N_VAL + N_TEST, 1))
    snap = snapshot()
    pred = predict_test(forward, snap, x, 3, N_TRAIN, N_VAL)
    assert pred.shape == (3, N_TEST)
    for s in range(3):  # the same state carried through train, validation and test steps
        a, b, c = (float(snap[k][s, 0]) for k in "abc")
        h, expected = 0.0, []
        for t in range(x.shape[0]):
            h = math.tanh(a * h + b * float(x[t, 0]))
            expected.append(c * h)
        np.testing.assert_allclose(pred[s], expected[N_TRAIN + N_VAL :], rtol=1e-13)
    with pytest.raises(ValueError, match="no test steps"):
        predict_test(forward, snap, x[: N_TRAIN + N_VAL], 3, N_TRAIN, N_VAL)


def test_evaluate_test_unscales_before_scoring():
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 1, (N_TRAIN + N_VAL + N_TEST, 1))
    y = rng.uniform(0, 1, (N_TRAIN + N_VAL + N_TEST, 1))
    lo, hi = 10.0, 50.0
    snap = snapshot()
    test_pred, test_true, m = evaluate_test(
        forward, snap, x, y, 3, N_TRAIN, N_VAL, lambda v: v * (hi - lo) + lo
    )
    scaled = predict_test(forward, snap, x, 3, N_TRAIN, N_VAL)
    np.testing.assert_array_equal(test_pred, scaled * (hi - lo) + lo)
    np.testing.assert_array_equal(test_true, y[N_TRAIN + N_VAL :, 0] * (hi - lo) + lo)
    # RMSE and MAE scale with (hi - lo) when computed in original units
    raw = metrics(scaled, y[N_TRAIN + N_VAL :, 0])
    np.testing.assert_allclose(m["rmse"], raw["rmse"] * (hi - lo), rtol=1e-12)
    np.testing.assert_allclose(m["mae"], raw["mae"] * (hi - lo), rtol=1e-12)


def fake_result():
    """A finished 2-seed run: seed 0 ran 3 epochs, seed 1 diverged after 2 and never improved."""
    nan = np.nan
    return TrainResult(
        train_loss=np.array([[0.3, 0.2, 0.1], [0.5, nan, nan]]),
        val_loss=np.array([[0.4, 0.3, 0.35], [0.6, nan, nan]]),
        best_epoch=np.array([1, -1]),
        stop_epoch=np.array([2, 0]),
        epochs_run=np.array([3, 1]),
        diverged=np.array([False, True]),
        snapshot={"w_ih": np.array([[[0.5]], [[nan]]]), "b_out": np.array([[0.1], [0.2]])},
        params={"w_ih": np.zeros((2, 1, 1)), "b_out": np.zeros((2, 1))},
    )


def test_seed_arrays_follow_the_contract(tmp_path):
    result = fake_result()
    test_true = np.array([1.0, 2.0, 4.0])
    test_pred = np.array([[1.5, 2.0, 3.0], [np.nan, np.nan, np.nan]])  # seed 1: NaN snapshot
    records = seed_arrays(
        result, test_pred, test_true, [17, 42], dataset="arfima", split="paper", model="rnn",
        K=100, H=1, snapshot_rule="authors", n_train=2000, n_val=1200, tier="default",
    )  # fmt: skip
    assert len(records) == 2
    arrays, meta = records[0]
    assert set(arrays) == {
        "test_pred",
        "test_true",
        "train_loss",
        "val_loss",
        "param_w_ih",
        "param_b_out",
    }
    assert set(meta) == set(META_KEYS)
    assert arrays["param_w_ih"].shape == (1, 1) and arrays["param_b_out"].shape == (1,)
    np.testing.assert_array_equal(arrays["train_loss"], [0.3, 0.2, 0.1])
    assert meta["seed"] == 17 and meta["best_epoch"] == 1 and meta["epochs_run"] == 3
    assert meta["n_test"] == 3 and meta["diverged"] is False
    assert meta["rmse"] == pytest.approx(math.sqrt((0.25 + 0 + 1) / 3), rel=1e-15)
    assert meta["mape"] == pytest.approx((0.5 + 0 + 0.25) / 3, rel=1e-15)

    arrays1, meta1 = records[1]
    assert arrays1["train_loss"].tolist() == [0.5] and meta1["diverged"] is True
    assert meta1["best_epoch"] == -1 and math.isnan(meta1["rmse"])

    path = seed_path(tmp_path, "arfima", "paper", "rnn", 100, 1, 17)
    assert path == tmp_path / "results/long_memory/runs/arfima-paper/rnn-K100-H1/seed17.npz"
    save_arrays(path, arrays, meta)
    loaded, loaded_meta = load_arrays(path)
    assert loaded_meta == meta
    for name, value in arrays.items():
        assert loaded[name].tobytes() == value.tobytes()


def test_seed_arrays_check_shapes():
    with pytest.raises(ValueError):
        seed_arrays(
            fake_result(), np.zeros((2, 3)), np.zeros(3), [0], dataset="d", split="paper",
            model="rnn", K=1, H=1, snapshot_rule="authors", n_train=1, n_val=1, tier="t",
        )  # fmt: skip
