"""Review runs -> tables, figure and claims, on synthetic seed files (no training)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from rnnmem.core.io import read_csv, save_arrays
from rnnmem.core.provenance import read_record, sidecar_path
from rnnmem.long_memory.reviews import aggregate, claims, figures
from rnnmem.long_memory.study import REVIEW_MODEL_ORDER, REVIEW_RUN_COLUMNS

MAJORITY = 0.26


def seed_file(path, layout, model, seed, accuracy, tier="smoke", drop=None):
    label = {"rnn": "RNN", "lstm": "LSTM", "mrnnf": "MRNNF50", "mlstmf": "MLSTMF50"}[model]
    meta = {
        "layout": layout, "model": model, "label": label, "K": 50, "H": 128, "seed": seed,
        "test": {"accuracy": accuracy, "precision": accuracy / 2, "recall": accuracy / 3,
                 "f1": accuracy / 4, "loss": 2.0 - accuracy},
        "best_epoch": 3, "best_val_loss": 1.5, "majority_accuracy": MAJORITY,
        "n_params": 1, "device": "cpu", "tier": tier,
    }  # fmt: skip
    # the job's settings (one job per layout and model, all its seeds)
    meta["provenance"] = {"config": {"layout": layout, "model": model, "K": 50, "tier": tier}}
    if drop:
        del meta[drop]
    save_arrays(path, {"test_pred": np.zeros(50, dtype=np.int64)}, meta)
    return path


def make_runs(tmp_path, accuracies: dict) -> list:
    """accuracies: {(layout, model): [per-seed accuracy]} -> seed files."""
    files = []
    for (layout, model), values in accuracies.items():
        for seed, value in enumerate(values):
            name = f"{layout}-{model}-{seed}.npz"
            files.append(seed_file(tmp_path / name, layout, model, seed, value))
    return files


def test_tables_order_and_statistics(tmp_path):
    files = make_runs(
        tmp_path,
        {
            ("transpose", "rnn"): [0.5, 0.7],
            ("authors", "mrnnf"): [0.30, 0.34, 0.20],
            ("authors", "rnn"): [0.24, 0.28],
        },
    )
    runs = aggregate.load_review_runs(files)
    assert list(runs.columns) == REVIEW_RUN_COLUMNS
    pairs = list(zip(runs["layout"], runs["model"], strict=True))
    assert pairs[:3] == [("authors", "rnn"), ("authors", "rnn"), ("authors", "mrnnf")]
    summary = aggregate.summary_table(runs).set_index(["layout", "model"])
    row = summary.loc[("authors", "mrnnf")]
    assert row["n"] == 3
    assert row["accuracy_mean"] == pytest.approx(0.28)
    assert row["accuracy_sd"] == pytest.approx(np.std([0.30, 0.34, 0.20]))  # ddof 0
    assert row["accuracy_best"] == pytest.approx(0.34)
    assert row["loss_best"] == pytest.approx(2.0 - 0.34)  # the minimum for the loss
    text = aggregate.markdown_tables(aggregate.summary_table(runs), "smoke")
    assert text.index("layout `authors`") < text.index("layout `transpose`")
    assert "| MRNNF50 | 3 | 0.280 +- 0.059 |" in text
    assert "Table 6" in text and "0.260" in text  # the majority-class line


def test_bad_files_are_named(tmp_path):
    bad = seed_file(tmp_path / "bad.npz", "authors", "rnn", 0, 0.3, drop="majority_accuracy")
    with pytest.raises(ValueError, match="bad.npz.*majority_accuracy"):
        aggregate.load_review_runs([bad])
    a = seed_file(tmp_path / "a.npz", "authors", "rnn", 0, 0.3)
    b = seed_file(tmp_path / "b.npz", "authors", "rnn", 1, 0.3, tier="paper")
    with pytest.raises(ValueError, match="several tiers"):
        aggregate.load_review_runs([a, b])
    c = seed_file(tmp_path / "c.npz", "authors", "rnn", 0, 0.4)
    with pytest.raises(ValueError, match="twice"):
        aggregate.load_review_runs([a, c])


def aggregate_main(tmp_path, files) -> dict:
    """Run `aggregate-reviews` on `files`; returns the paths of what it wrote."""
    out = {k: tmp_path / f"{k}.csv" for k in ("runs", "summary")} | {"tables": tmp_path / "t.md"}
    args = ["--files", *map(str, files), "--tier", "smoke"]
    assert aggregate.main(args + [f"--{k}={v}" for k, v in out.items()]) == 0
    return out


def test_main_and_figure(tmp_path):
    files = make_runs(
        tmp_path,
        {("authors", "rnn"): [0.2, 0.3], ("authors", "lstm"): [0.4], ("transpose", "rnn"): [0.5]},
    )
    out = aggregate_main(tmp_path, files)
    runs = read_csv(out["runs"])
    assert len(runs) == 4
    # each table records exactly the settings of its seed files: three jobs, each once
    expected = sorted({json.dumps(read_record(f)["config"], sort_keys=True) for f in files})
    assert len(expected) == 3
    for path in out.values():
        jobs = read_record(path)["jobs"]
        assert sorted(json.dumps(j, sort_keys=True) for j in jobs) == expected, path.name
    png = tmp_path / "fig.png"
    figures.main(["--runs", str(out["runs"]), "--png", str(png), "--tier", "smoke"])
    assert read_record(png)["jobs"] == read_record(out["runs"])["jobs"]  # handed on
    assert sidecar_path(png).is_file() and read_record(png)["tables"] == ["runs.csv"]
    first = png.read_bytes()
    figures.accuracy_figure(runs, png, "smoke")
    assert png.read_bytes() == first and png.with_suffix(".pdf").exists()  # deterministic
    empty = figures.accuracy_figure(runs.iloc[:0], tmp_path / "none.png", "smoke")
    assert all(p.exists() for p in empty)


def claim_runs(authors_gap: float, transpose: bool, n: int = 6) -> pd.DataFrame:
    """Synthetic runs: MRNNF/MLSTMF `authors_gap` above RNN/LSTM, all near chance."""
    rng = np.random.default_rng(0)
    rows = []
    for layout in ("authors", "transpose") if transpose else ("authors",):
        for model in REVIEW_MODEL_ORDER:
            base = MAJORITY + (authors_gap if model.startswith("m") else 0.0)
            base += 0.3 if layout == "transpose" else 0.0
            for seed in range(n):
                acc = base + rng.normal(0, 0.01)
                rows.append({"layout": layout, "model": model, "seed": seed, "accuracy": acc,
                             "majority_accuracy": MAJORITY})  # fmt: skip
    return pd.DataFrame(rows)


def test_claims_verdicts():
    kw = dict(alpha=0.05, min_seeds=5, chance_margin=0.1)
    better, near, transposed = claims.evaluate_review_claims(claim_runs(0.05, True), **kw)
    assert (better.verdict, near.verdict, transposed.verdict) == ("holds", "holds", "holds")
    assert better.numbers["pairs_tested"] == 2
    same = claims.evaluate_review_claims(claim_runs(0.0, False), **kw)
    assert [c.verdict for c in same] == ["fails", "holds", "inconclusive"]
    far = claims.evaluate_review_claims(claim_runs(0.2, False), **kw)
    assert far[1].verdict == "partly"  # RNN and LSTM near chance, the memory models not
    few = claims.evaluate_review_claims(claim_runs(0.05, True, n=3), **kw)
    assert {c.verdict for c in few} == {"inconclusive"}
    empty = pd.DataFrame(columns=REVIEW_RUN_COLUMNS)
    assert {c.verdict for c in claims.evaluate_review_claims(empty, **kw)} == {"inconclusive"}
