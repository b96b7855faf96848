"""Test-set evaluation of trained seeds (long-memory.md §6) and per-seed result records.

    yhat = forward(snapshot, x[0 : n_train + n_val + n_test], K)[:, n_train + n_val :, 0]

one pass from the zero state over the training, validation and test inputs, so every test
prediction is one step ahead from the true history. Metrics per seed, in ORIGINAL units (the
caller undoes the min-max scaling with its `unscale`, v * (max - min) + min), in float64:

    RMSE = sqrt(mean((yhat - y)^2)),   MAE = mean|yhat - y|,   MAPE = mean|(yhat - y) / y|

MAPE is a fraction, not a percent; where targets come close to 0 it is dominated by a few points.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

# Meta keys of a per-seed result file (the shared contract), in the contract's order.
META_KEYS = (
    "dataset",
    "split",
    "model",
    "K",
    "H",
    "seed",
    "best_epoch",
    "stop_epoch",
    "epochs_run",
    "diverged",
    "snapshot_rule",
    "rmse",
    "mae",
    "mape",
    "n_train",
    "n_val",
    "n_test",
    "tier",
)


def predict_test(
    forward, snapshot: dict[str, np.ndarray], x: np.ndarray, K: int, n_train: int, n_val: int
):
    """Test predictions [S, n_test] in scaled units, from the zero state over all of x ([T, 1])."""
    x = np.asarray(x)
    n_test = x.shape[0] - n_train - n_val
    if n_test < 1:
        raise ValueError(f"x has {x.shape[0]} steps, no test steps after {n_train} + {n_val}")
    yhat = forward(snapshot, x, K)
    if yhat.ndim != 3 or yhat.shape[1] != x.shape[0] or yhat.shape[2] != 1:
        raise ValueError(f"forward returned {yhat.shape}, expected [S, {x.shape[0]}, 1]")
    return yhat[:, n_train + n_val :, 0]


def metrics(pred: np.ndarray, true: np.ndarray) -> dict[str, np.ndarray]:
    """rmse, mae, mape, each [S] float64; pred [S, n] and true [n] (or [S, n]), original units."""
    pred = np.asarray(pred, dtype=np.float64)
    true = np.asarray(true, dtype=np.float64)
    if pred.ndim != 2 or true.shape not in (pred.shape[1:], pred.shape):
        raise ValueError(f"pred {pred.shape} and true {true.shape}: expected [S, n] and [n]")
    err = pred - true
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "rmse": np.sqrt(np.mean(err * err, axis=1)),
            "mae": np.mean(np.abs(err), axis=1),
            "mape": np.mean(np.abs(err / true), axis=1),
        }


def evaluate_test(forward, snapshot, x, y, K, n_train, n_val, unscale):
    """Predict the test steps and score them: (test_pred [S, n_test], test_true [n_test], metrics).

    y: scaled targets [T] or [T, 1]; unscale maps scaled values to original units.
    """
    pred_scaled = predict_test(forward, snapshot, x, K, n_train, n_val)
    true_scaled = np.asarray(y).reshape(-1)[n_train + n_val :]
    if true_scaled.shape[0] != pred_scaled.shape[1]:
        raise ValueError(f"{true_scaled.shape[0]} test targets for {pred_scaled.shape[1]} inputs")
    test_pred, test_true = unscale(pred_scaled), unscale(true_scaled)
    return test_pred, test_true, metrics(test_pred, test_true)


def seed_arrays(
    result,
    test_pred: np.ndarray,
    test_true: np.ndarray,
    seeds,
    *,
    dataset: str,
    split: str,
    model: str,
    K: int,
    H: int,
    snapshot_rule: str,
    n_train: int,
    n_val: int,
    tier: str,
) -> list[tuple[dict[str, np.ndarray], dict]]:
    """One (arrays, meta) pair per seed, as the contract's per-seed .npz file holds them.

    result: a TrainResult; test_pred [S, n_test] and test_true [n_test] in original units;
    seeds[s] the seed number of batch row s. Curves are cut to the seed's epochs_run.
    """
    seeds = [int(s) for s in seeds]
    test_true = np.asarray(test_true)
    n_seeds = result.best_epoch.shape[0]
    if len(seeds) != n_seeds or test_pred.shape != (n_seeds, test_true.shape[0]):
        raise ValueError(
            f"{len(seeds)} seeds, predictions {test_pred.shape}, targets {test_true.shape} "
            f"for {n_seeds} trained seeds"
        )
    scores = metrics(test_pred, test_true)
    records = []
    for s, seed in enumerate(seeds):
        epochs = int(result.epochs_run[s])
        arrays = {
            "test_pred": np.ascontiguousarray(test_pred[s]),
            "test_true": np.ascontiguousarray(test_true),
            "train_loss": result.train_loss[s, :epochs].copy(),
            "val_loss": result.val_loss[s, :epochs].copy(),
        }
        for name, p in result.snapshot.items():
            arrays[f"param_{name}"] = p[s].copy()
        meta = {
            "dataset": dataset,
            "split": split,
            "model": model,
            "K": int(K),
            "H": int(H),
            "seed": seed,
            "best_epoch": int(result.best_epoch[s]),
            "stop_epoch": int(result.stop_epoch[s]),
            "epochs_run": epochs,
            "diverged": bool(result.diverged[s]),
            "snapshot_rule": snapshot_rule,
            "rmse": float(scores["rmse"][s]),
            "mae": float(scores["mae"][s]),
            "mape": float(scores["mape"][s]),
            "n_train": int(n_train),
            "n_val": int(n_val),
            "n_test": int(test_true.shape[0]),
            "tier": tier,
        }
        records.append((arrays, meta))
    return records


def seed_path(root, dataset: str, split: str, model: str, K: int, H: int, seed: int) -> Path:
    """results/long_memory/runs/{dataset}-{split}/{model}-K{K}-H{H}/seed{seed}.npz under root."""
    return (
        Path(root)
        / "results"
        / "long_memory"
        / "runs"
        / f"{dataset}-{split}"
        / f"{model}-K{K}-H{H}"
        / f"seed{seed}.npz"
    )
