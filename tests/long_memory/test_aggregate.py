"""Aggregation of the long-memory per-seed files, on synthetic files written as the contract says.

`write_seed` writes one per-seed .npz (arrays and meta exactly as in the contract, with the
job's provenance record) whose test error is set by `error`: the predictions are the true
values +- error, so the RMSE is `error` exactly. The other test files of this folder import it.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from rnnmem.core.io import read_csv, save_arrays
from rnnmem.core.provenance import read_record, sidecar_path
from rnnmem.long_memory import aggregate as agg
from rnnmem.long_memory import stats as lm_stats
from rnnmem.long_memory.study import RUN_COLUMNS

N_TEST = 12


def write_seed(
    root,
    dataset,
    model,
    seed,
    error,
    K=100,
    H=1,
    split="paper",
    epochs=6,
    tier="test",
    diverged=False,
    snapshot_rule="authors",
    provenance=True,
):
    """One per-seed result file: RMSE = MAE = error (original units). Its provenance record's
    config stands for the job's settings (the same for every seed of a job)."""
    true = 1.0 + 0.5 * np.sin(np.arange(N_TEST, dtype=np.float64))
    sign = np.where(np.arange(N_TEST) % 2 == 0, 1.0, -1.0)
    pred = true + error * sign
    train = np.linspace(1.0, 0.1, epochs) * (1.0 + 0.1 * seed)
    arrays = {
        "test_pred": pred.astype(np.float32),
        "test_true": true.astype(np.float32),
        "train_loss": train.astype(np.float32),
        "val_loss": (1.5 * train).astype(np.float32),
        "param_w_out": np.full((1, H), 0.5, dtype=np.float32),
        "param_b_out": np.zeros(1, dtype=np.float32),
    }
    meta = {
        "dataset": dataset,
        "split": split,
        "model": model,
        "K": K,
        "H": H,
        "seed": seed,
        "best_epoch": epochs - 2,
        "stop_epoch": epochs - 1,
        "epochs_run": epochs,
        "diverged": diverged,
        "snapshot_rule": snapshot_rule,
        "rmse": float(np.sqrt(np.mean((pred - true) ** 2))),
        "mae": float(np.mean(np.abs(pred - true))),
        "mape": float(np.mean(np.abs((pred - true) / true))),
        "n_train": 40,
        "n_val": 20,
        "n_test": N_TEST,
        "tier": tier,
    }
    if provenance:
        job = {"dataset": dataset, "split": split, "model": model, "K": K, "H": H, "tier": tier}
        meta["provenance"] = {"rnnmem_version": "test", "config": job}
    path = root / f"{dataset}-{split}" / f"{model}-K{K}-H{H}" / f"seed{seed}.npz"
    save_arrays(path, arrays, meta)
    return path


def seed_error(error: float, seed: int) -> float:
    """The error of seed `seed` in `write_grid`: grows with the seed, so the sd is > 0."""
    return error * (1.0 + 0.05 * seed + 0.01 * seed * seed)


def write_grid(root, errors: dict, seeds=(0, 1, 2), **kw):
    """errors: (dataset, model, K) -> base error of seed 0; see seed_error."""
    return [
        write_seed(root, d, m, s, seed_error(e, s), K=k, **kw)
        for (d, m, k), e in errors.items()
        for s in seeds
    ]


GRID = {
    ("arfima", "rnn", 100): 1.2,
    ("arfima", "mrnnf", 100): 1.0,
    ("arfima", "lstm", 100): 1.1,
    ("arfima", "mlstm", 100): 1.15,
    ("DJI", "rnn", 100): 0.004,
    ("DJI", "mrnnf", 100): 0.003,
    ("arfima", "mrnnf", 25): 1.05,
    ("rnn_generated", "rnn", 100): 1.01,
    ("rnn_generated", "mist", 100): 1.01,  # not in Experiment 2's view
}


@pytest.fixture
def files(tmp_path):
    return write_grid(tmp_path, GRID)


def test_runs_table_is_tidy_with_experiment_views(files):
    runs = agg.load_runs(files)
    assert list(runs.columns) == RUN_COLUMNS
    counts = runs.groupby(["experiment", "dataset", "model", "K"]).size().to_dict()
    # the K = 100 MRNNF job is in Experiment 1 and in Experiment 3; K = 25 only in Exp. 3
    assert counts[("exp1", "arfima", "mrnnf", 100)] == 3
    assert counts[("exp3", "arfima", "mrnnf", 100)] == 3
    assert counts[("exp3", "arfima", "mrnnf", 25)] == 3
    assert ("exp1", "arfima", "mrnnf", 25) not in counts
    assert ("exp3", "arfima", "rnn", 100) not in counts  # vanilla models are not swept
    assert ("exp2", "rnn_generated", "mist", 100) not in counts
    assert counts[("exp2", "rnn_generated", "rnn", 100)] == 3
    # 6 exp1 jobs; exp3: arfima mrnnf K100 and K25, arfima mlstm, DJI mrnnf; 1 exp2 job
    assert len(runs) == 3 * (6 + 4 + 1)
    exp1 = runs[(runs["experiment"] == "exp1") & (runs["dataset"] == "arfima")]
    assert list(dict.fromkeys(exp1["model"])) == ["rnn", "mrnnf", "lstm", "mlstm"]  # spec order
    assert list(dict.fromkeys(runs["dataset"])) == ["arfima", "DJI", "rnn_generated"]
    one = runs[(runs["experiment"] == "exp1") & (runs["model"] == "lstm") & (runs["seed"] == 2)]
    assert one["rmse"].item() == pytest.approx(seed_error(1.1, 2), rel=1e-12)
    assert one["epochs_run"].item() == 6 and one["best_epoch"].item() == 4
    assert runs["diverged"].dtype == bool


def test_explicit_pairs_and_errors(tmp_path):
    a = write_seed(tmp_path, "arfima", "mrnn", 0, 0.5)
    runs = agg.load_runs([("exp1", a), ("exp3", a)])
    assert sorted(runs["experiment"]) == ["exp1", "exp3"]
    with pytest.raises(ValueError, match="twice"):
        agg.load_runs([("exp1", a), ("exp1", a)])
    b = write_seed(tmp_path, "arfima", "rnn", 0, 0.5, tier="other")
    with pytest.raises(ValueError, match="tiers"):
        agg.load_runs([a, b])
    # a custom view function: every job in one experiment
    assert set(agg.load_runs([a], experiment_of=lambda meta: ["x"])["experiment"]) == {"x"}


def test_summary_uses_population_sd_and_skips_nonfinite(tmp_path):
    paths = [write_seed(tmp_path, "tree7", "rnn", s, e) for s, e in enumerate([0.1, 0.3, 0.8])]
    paths.append(write_seed(tmp_path, "tree7", "rnn", 3, np.inf, diverged=True))
    summary = agg.summary_table(agg.load_runs(paths))
    row = summary[summary["experiment"] == "exp1"].iloc[0]
    expected_rmse = np.array([0.1, 0.3, 0.8])
    assert row["n"] == 4 and row["n_diverged"] == 1 and row["n_finite"] == 3
    assert row["rmse_mean"] == pytest.approx(expected_rmse.mean(), rel=1e-5)
    assert row["rmse_sd"] == pytest.approx(np.std(expected_rmse, ddof=0), rel=1e-5)
    assert abs(row["rmse_sd"] - np.std(expected_rmse, ddof=1)) > 1e-3  # not the sample sd
    assert row["rmse_min"] == pytest.approx(0.1, rel=1e-5)


def test_markdown_scales_dji_only(files):
    summary = agg.summary_table(agg.load_runs(files))
    md = agg.markdown_table(summary, "exp1")
    dji = summary[(summary["experiment"] == "exp1") & (summary["dataset"] == "DJI")]
    mean = dji.loc[dji["model"] == "mrnnf", "rmse_mean"].item()
    assert mean < 0.01  # the table itself stays in original units
    dji_md = md[md.index("## DJI") :]
    assert "x100" in dji_md.splitlines()[0]
    assert f"{mean * 100:#.4g} ±" in dji_md
    arfima_md = md[md.index("## arfima") : md.index("## DJI")]
    assert "x100" not in arfima_md.splitlines()[0]
    arfima = summary[(summary["experiment"] == "exp1") & (summary["dataset"] == "arfima")]
    assert f"| {arfima['rmse_min'].iloc[0]:#.4g} |" in arfima_md  # Table 3, unscaled
    order = [
        line.split("|")[1].strip()
        for line in arfima_md.splitlines()
        if line.startswith("|") and "±" in line
    ]
    assert order == ["RNN", "MRNNF", "LSTM", "MLSTM"]
    assert "K=25" in agg.markdown_table(summary, "exp3")  # K varies within the sweep


def hand_welch(a, b):
    va, vb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
    t = (np.mean(a) - np.mean(b)) / np.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return t, 2 * stats.t.sf(abs(t), df), stats.t.cdf(t, df)


def test_ttests_match_scipy_and_hand_computation(tmp_path):
    errors = {"rnn": [1.3, 1.2, 1.5, 1.25, 1.4], "mrnn": [1.0, 1.1, 0.95], "lstm": [1.25, 1.28]}
    paths = [
        write_seed(tmp_path, "traffic", m, s, e)
        for m, es in errors.items()
        for s, e in enumerate(es)
    ]
    runs = agg.load_runs(paths)
    table = lm_stats.ttests(runs[runs["experiment"] == "exp1"])
    rnn = runs.loc[(runs["experiment"] == "exp1") & (runs["model"] == "rnn"), "rmse"].to_numpy()
    mrnn = runs.loc[(runs["experiment"] == "exp1") & (runs["model"] == "mrnn"), "rmse"].to_numpy()
    row = table[(table["comparison"] == "vs_vanilla") & (table["model"] == "mrnn")].iloc[0]
    t, p, p_less = hand_welch(mrnn, rnn)
    assert row["welch_t"] == pytest.approx(t, rel=1e-10) and t < 0
    assert row["welch_p"] == pytest.approx(p, rel=1e-10)
    assert row["welch_p_less"] == pytest.approx(p_less, rel=1e-10)
    pooled = stats.ttest_ind(mrnn, rnn, equal_var=True)
    assert row["pooled_t"] == pytest.approx(pooled.statistic, rel=1e-12)
    assert row["pooled_p"] == pytest.approx(pooled.pvalue, rel=1e-12)
    assert row["welch_p"] != pytest.approx(row["pooled_p"], rel=1e-6)  # unequal n and variances
    assert (row["n_model"], row["n_baseline"]) == (3, 5)
    assert set(table.loc[table["comparison"] == "vs_vanilla", "model"]) == {"mrnn"}  # no mlstm
    best = table[table["comparison"] == "vs_best_baseline"]
    assert set(best["baseline"]) == {"lstm"}  # mean 1.265 < rnn's mean
    assert set(best["model"]) == {"rnn", "mrnn"}  # every model but the best baseline itself
    # one seed: no test, but the means are there
    lone = lm_stats.compare([1.0], [1.0, 2.0])
    assert np.isnan(lone["welch_t"]) and lone["mean_baseline"] == 1.5


def test_learning_curves_median_with_seeds_dropping_out(tmp_path):
    paths = [
        write_seed(tmp_path, "arfima", "rnn", s, 0.5, epochs=e) for s, e in enumerate([5, 3, 2])
    ]
    # the same file listed in two experiments counts once
    curves = agg.learning_curves([("exp1", paths[0]), ("exp3", paths[0])] + paths[1:])
    assert list(curves["n_seeds"]) == [3, 3, 2, 1, 1]
    losses = [
        np.linspace(1.0, 0.1, e).astype(np.float32) * np.float32(1 + 0.1 * s)
        for s, e in enumerate([5, 3, 2])
    ]
    for epoch in range(5):
        alive = np.array([c[epoch] for c in losses if len(c) > epoch], dtype=np.float64)
        row = curves[curves["epoch"] == epoch].iloc[0]
        assert row["train_median"] == pytest.approx(np.median(alive), rel=1e-6)
        assert row["train_q25"] == pytest.approx(np.percentile(alive, 25), rel=1e-6)
        assert row["val_q75"] == pytest.approx(1.5 * np.percentile(alive, 75), rel=1e-5)
    assert curves.loc[curves["epoch"] == 2, "train_median"].item() == pytest.approx(
        np.median([losses[0][2], losses[1][2]]), rel=1e-6
    )


def test_best_seed_predictions(files):
    runs = agg.load_runs(files)
    pred = agg.best_seed_predictions(runs, files, "exp1")
    one = pred[(pred["dataset"] == "arfima") & (pred["model"] == "lstm")]
    assert set(one["seed"]) == {0} and len(one) == N_TEST  # seed 0 has the lowest error
    assert np.allclose(np.abs(one["pred"] - one["true"]), 1.1, rtol=1e-5)
    assert set(pred["model"]) == {"rnn", "mrnnf", "lstm", "mlstm"}
    with pytest.raises(ValueError, match="no file"):
        agg.best_seed_predictions(runs, files[:1], "exp1")


def test_empty_inputs_do_not_crash():
    runs = agg.load_runs([])
    assert runs.empty and list(runs.columns) == RUN_COLUMNS
    assert lm_stats.ttests(runs).empty
    assert "No runs" in agg.markdown_table(agg.summary_table(runs), "exp2")


# ---------------------------------------------------------------------------------------
# The command: tables and their provenance records
# ---------------------------------------------------------------------------------------
TABLES = ("runs", "curves", "summary", "ttests", "predictions")


def job_settings(paths) -> list[str]:
    """The distinct settings behind seed files, read from each file, as sorted JSON."""
    return sorted({json.dumps(read_record(p)["config"], sort_keys=True) for p in paths})


def recorded_jobs(table) -> list[str]:
    return sorted(json.dumps(j, sort_keys=True) for j in read_record(table)["jobs"])


def aggregate_main(root, views: dict, out) -> dict:
    """Run `aggregate-long-memory` on `root`; returns the paths of what it wrote."""
    paths = {name: out / f"{name}.csv" for name in TABLES}
    paths["tables"] = out / "tables.md"
    args = ["--views", json.dumps(views), "--runs-dir", str(root), "--seed-base", "0"]
    args += ["--tier", "test"] + [f"--{name}={path}" for name, path in paths.items()]
    assert agg.main(args) == 0
    return paths


VIEWS = {
    "exp1": {"arfima-paper/rnn-K100-H1": 3, "arfima-paper/mrnnf-K100-H1": 2},
    "exp3": {"arfima-paper/mrnnf-K25-H1": 3},
}


def test_each_table_records_exactly_the_jobs_of_its_seed_files(tmp_path, files):
    out = aggregate_main(tmp_path, VIEWS, tmp_path / "out")
    pairs = agg.view_files(VIEWS, tmp_path, 0)
    viewed, exp1 = [p for _, p in pairs], [p for e, p in pairs if e == "exp1"]
    every, shown = job_settings(viewed), job_settings(exp1)
    assert len(every) == 3 and len(shown) == 2  # the K = 25 job is in Experiment 3 only
    for name in ("runs", "summary", "ttests", "tables"):
        assert recorded_jobs(out[name]) == every, name
    for name in ("curves", "predictions"):  # drawn from Experiments 1 and 2 only
        assert recorded_jobs(out[name]) == shown, name
    record = read_record(out["runs"])
    assert record["tier"] == "test" and record["views"] == VIEWS
    assert sidecar_path(out["tables"]).is_file()
    assert len(read_csv(out["runs"])) == 3 + 2 + 3
    # the DJI and rnn_generated seed files exist but no view reads them
    assert not any(j["dataset"] != "arfima" for j in read_record(out["runs"])["jobs"])


def test_a_seed_file_without_a_record_is_named(tmp_path):
    write_seed(tmp_path, "arfima", "rnn", 0, 0.5)
    bare = write_seed(tmp_path, "arfima", "rnn", 1, 0.5, provenance=False)
    views = {"exp1": {"arfima-paper/rnn-K100-H1": 2}}
    with pytest.raises(FileNotFoundError, match=f"{bare}: no provenance record"):
        aggregate_main(tmp_path, views, tmp_path / "out")
