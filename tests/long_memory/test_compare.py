"""Published beside reproduced in the long-memory study, on constructed runs tables.

A cell's seeds are mean + sd * UNIT (UNIT has mean 0 and population sd 1), so a published
mean and sd built from the same numbers must give z = 0 and "agrees".
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rnnmem.core.compare import AGREES, DIFFERS, NOT_RUN, TABLE_COLUMNS
from rnnmem.core.io import read_csv, write_csv
from rnnmem.core.provenance import provenance, read_record
from rnnmem.long_memory import compare
from rnnmem.long_memory.reviews import compare as reviews_compare
from rnnmem.long_memory.study import REVIEW_RUN_COLUMNS, RUN_COLUMNS

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "data" / "published"
UNIT = np.array([-1.5, -0.5, 0.0, 0.5, 1.5]) / np.std([-1.5, -0.5, 0.0, 0.5, 1.5])
SOURCE = "aggregate_long_memory: runs.csv"


def runs_table(cells: dict, split="paper") -> pd.DataFrame:
    """cells: (experiment, dataset, model) -> per-seed RMSEs (original units)."""
    rows = [
        {"experiment": e, "dataset": d, "split": split, "model": m, "K": 100, "H": 1}
        | {"seed": s, "rmse": v, "mae": v, "mape": v, "best_epoch": 3, "stop_epoch": 4}
        | {"epochs_run": 5, "diverged": not np.isfinite(v), "snapshot_rule": "authors"}
        for (e, d, m), values in cells.items()
        for s, v in enumerate(values)
    ]
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def job(dataset, model, seeds=5, max_epochs=1000, patience=100):
    """A training job's settings, as its seed files record them."""
    return {"dataset": dataset, "split": "paper", "model": model, "K": 100, "H": 1} | {
        "seeds": list(range(seeds)),
        "max_epochs": max_epochs,
        "patience": patience,
    }


def published2(*cells) -> pd.DataFrame:
    return pd.DataFrame(cells, columns=compare.TABLE2_COLUMNS)


def by_cell(rows: list[dict]) -> dict:
    return {(r["cell"], r["quantity"]): r for r in rows}


# ----------------------------------------------------------------------------- Table 2
def test_published_equal_to_reproduced_gives_z_zero_and_agrees():
    values = 336.44 + 10.401 * UNIT
    runs = runs_table({("exp1", "traffic", "rnn"): values})
    [row] = compare.table2_rows(published2(("traffic", "rnn", 336.44, 10.401)), runs, [], SOURCE)
    assert row["z"] == pytest.approx(0.0, abs=1e-12) and row["verdict"] == AGREES
    assert row["reproduced_sd"] == pytest.approx(10.401)  # ddof 0, as the paper
    assert row["seeds"] == 5 and row["ci_low"] < 336.44 < row["ci_high"]
    assert row["cell"] == "traffic / RNN" and row["note"] == "" and row["source"] == SOURCE


def test_dji_is_compared_x100_as_the_paper_prints_it():
    raw = (0.2605 + 0.0171 * UNIT) / 100  # runs.csv holds DJI in original units
    runs = runs_table({("exp1", "DJI", "rnn"): raw})
    [row] = compare.table2_rows(published2(("DJI", "rnn", 0.2605, 0.0171)), runs, [], SOURCE)
    assert row["quantity"] == "test RMSE x100"
    assert row["reproduced"] == pytest.approx(0.2605) and row["verdict"] == AGREES
    assert row["reproduced_sd"] == pytest.approx(0.0171) and row["z"] == pytest.approx(0, abs=1e-9)
    # the other series stay in their own units
    runs = runs_table({("exp1", "tree7", "rnn"): 0.2871 + 0.0086 * UNIT})
    [row] = compare.table2_rows(published2(("tree7", "rnn", 0.2871, 0.0086)), runs, [], SOURCE)
    assert row["quantity"] == "test RMSE" and row["reproduced"] == pytest.approx(0.2871)


def test_a_published_cell_the_tier_did_not_run_is_not_run_never_a_zero():
    runs = runs_table(
        {
            ("exp1", "traffic", "rnn"): [330.0, 340.0],
            ("exp1", "traffic", "lstm"): [np.nan, np.nan],  # every seed diverged
            ("exp3", "traffic", "mrnn"): [330.0, 340.0],  # another experiment's seeds
        }
    )
    table = published2(
        ("arfima", "rnn", 1.162, 0.198),
        ("traffic", "mist", 358.09, 16.27),
        ("traffic", "lstm", 337.60, 8.146),
        ("traffic", "mrnn", 333.72, 10.157),
    )
    rows = by_cell(compare.table2_rows(table, runs, [], SOURCE))
    notes = {
        ("arfima / RNN", "test RMSE"): "long_memory.experiment1.datasets",
        ("traffic / MIST", "test RMSE"): "long_memory.experiment1.models",
        ("traffic / LSTM", "test RMSE"): "all 2 seeds diverged",
        ("traffic / MRNN", "test RMSE"): "long_memory.experiment1.models",
    }
    for key, why in notes.items():
        row = rows[key]
        assert row["verdict"] == NOT_RUN and math.isnan(row["reproduced"]) and row["seeds"] == 0
        assert why in row["note"] and row["source"] == ""
    for row in compare.table2_rows(table, None, [], SOURCE):  # the series not run at all
        assert row["verdict"] == NOT_RUN and "not run by this tier" in row["note"]


def test_a_cell_that_differs_says_the_known_causes():
    runs = runs_table(
        {
            ("exp1", "traffic", "rnn"): [400.0, 410.0],
            ("exp1", "traffic", "rwa"): [400.0, 410.0],
            ("exp1", "traffic", "lstm"): [400.0, 410.0],
        }
    )
    runs = pd.concat([runs, runs_table({("exp1", "traffic", "rnn"): [337.0]}, split="code")])
    jobs = [job("traffic", "rnn", 2, max_epochs=6, patience=3), job("traffic", "lstm", 2)]
    table = published2(
        ("traffic", "rnn", 336.44, 10.401),
        ("traffic", "rwa", 346.62, 1.41),
        ("traffic", "lstm", 337.60, 8.146),
    )
    rows = by_cell(compare.table2_rows(table, runs, jobs, SOURCE))
    rnn = rows[("traffic / RNN", "test RMSE")]
    assert rnn["verdict"] == DIFFERS and rnn["seeds"] == 2  # the code split is left out
    assert rnn["z"] == pytest.approx((405.0 - 336.44) / 10.401)
    assert rnn["size"] == f"z = {rnn['z']:+.2f}"
    for cause in ("2 seeds (the paper: 100)", "at most 6 epochs (the paper: 1000)", "patience 3"):
        assert cause in rnn["note"]
    assert "A11" in rows[("traffic / RWA", "test RMSE")]["note"]
    lstm = rows[("traffic / LSTM", "test RMSE")]["note"]
    assert "2 seeds" in lstm and "epochs" not in lstm  # its job ran the paper's epochs


# ------------------------------------------------------------------------ Experiment 2
def test_experiment2_box_plot_within_the_reading_error():
    values = np.array([1.0050, 1.0060, 1.0065, 1.0070, 1.0200])
    runs = runs_table({("exp2", "rnn_generated", "rnn"): values})
    published = pd.DataFrame(
        [["rnn", 1.0065, 1.0060, 1.0070, 1.0146], ["mrnn", 1.0067, 1.0055, 1.0076, 1.0139]],
        columns=["model", *compare.BOXPLOT],
    )
    rows = by_cell(compare.exp2_rows(published, runs, [], "src"))
    assert rows[("RNN", "median test RMSE")]["verdict"] == AGREES
    assert rows[("RNN", "lower quartile")]["reproduced"] == pytest.approx(1.0060)
    assert rows[("RNN", "upper quartile")]["verdict"] == AGREES
    top = rows[("RNN", "highest value (top outlier)")]
    assert top["verdict"] == DIFFERS and top["reproduced"] == pytest.approx(1.02)
    assert top["rule"] == "within the reading error (±0.0001)"
    assert "generator was not published" in top["note"] and "5 seeds" in top["note"]
    assert rows[("MRNN", "median test RMSE")]["verdict"] == NOT_RUN


# ----------------------------------------------------------------------- Tables 5, 6
def review_runs(cells: dict) -> pd.DataFrame:
    """cells: (layout, model) -> per-seed accuracies; the other metrics follow from them."""
    label = {"rnn": "RNN", "lstm": "LSTM", "mrnnf": "MRNNF50", "mlstmf": "MLSTMF50"}
    rows = [
        {"layout": lay, "model": m, "label": label[m], "K": 50, "H": 128, "seed": s}
        | {"accuracy": a, "precision": a / 2, "recall": a / 3, "f1": a / 4, "loss": 2 - a}
        | {"best_epoch": 1, "best_val_loss": 1.5, "majority_accuracy": 0.26, "n_params": 1}
        | {"device": "cpu"}
        for (lay, m), values in cells.items()
        for s, a in enumerate(values)
    ]
    return pd.DataFrame(rows, columns=REVIEW_RUN_COLUMNS)


def test_tables_5_and_6_compare_the_authors_layout():
    accuracy = 0.30 + 0.04 * UNIT
    runs = review_runs({("authors", "rnn"): accuracy, ("transpose", "rnn"): [0.9, 0.9]})
    table5 = pd.DataFrame(
        [["rnn", 0.30, 0.04, 0.15, 0.02, 0.10, 0.0133, 1.70, 0.04]]
        + [["mrnnf50", 0.31, 0.0373, 0.17, 0.08, 0.22, 0.04, 1.57, 0.03]],
        columns=reviews_compare.TABLE5_COLUMNS,
    )
    rows = by_cell(reviews_compare.table5_rows(table5, runs, [], "src"))
    acc = rows[("RNN", "test accuracy")]
    assert acc["z"] == pytest.approx(0.0, abs=1e-12) and acc["verdict"] == AGREES
    assert acc["seeds"] == 5  # the transpose layout's seeds are not the paper's
    assert "A15" in acc["note"] and "5 seeds (the paper: 100)" in acc["note"]
    assert rows[("RNN", "test cross-entropy")]["reproduced"] == pytest.approx(1.70)
    assert rows[("MRNNF50", "test accuracy")]["verdict"] == NOT_RUN
    assert "reviews.models" in rows[("MRNNF50", "test accuracy")]["note"]
    table6 = pd.DataFrame(
        [["rnn", accuracy.max(), 0.5, 0.1, 1.5]] + [["mrnnf50", 0.4, 0.4, 0.3, 1.5]],
        columns=reviews_compare.TABLE6_COLUMNS,
    )
    rows = by_cell(reviews_compare.table6_rows(table6, table5, runs, [], "src"))
    assert rows[("RNN", "test accuracy (max)")]["verdict"] == AGREES
    loss = rows[("RNN", "test cross-entropy (min)")]
    assert loss["reproduced"] == pytest.approx(2 - accuracy.max())  # the minimum for the loss
    # tolerance: one published Table 5 sd (0.04): 1.5 against 1.632 differs
    assert loss["verdict"] == DIFFERS and loss["rule"] == "within one published sd (Table 5's)"
    precision = rows[("RNN", "test macro precision (max)")]  # 0.5 against 0.1866
    assert precision["verdict"] == DIFFERS and precision["seeds"] == 5
    for row in reviews_compare.table6_rows(table6, table5, None, [], "src"):
        assert row["verdict"] == NOT_RUN and math.isnan(row["reproduced"])
    only_transpose = review_runs({("transpose", "rnn"): [0.3, 0.3]})
    row = reviews_compare.table5_rows(table5, only_transpose, [], "src")[0]
    assert row["verdict"] == NOT_RUN and "`authors` layout" in row["note"]


# --------------------------------------------------------------------------- command
def write_runs(folder: Path) -> tuple[Path, Path]:
    """runs.csv (traffic, Exp. 2) and reviews/runs.csv with provenance records."""
    runs = runs_table(
        {
            ("exp1", "traffic", "rnn"): 336.44 + 10.401 * UNIT,
            ("exp1", "traffic", "mrnn"): [400.0, 410.0, 420.0],
            ("exp1", "DJI", "rnn"): (0.2605 + 0.0171 * UNIT) / 100,
            ("exp2", "rnn_generated", "rnn"): [1.0050, 1.0060, 1.0065, 1.0070, 1.0146],
        }
    )
    path = folder / "runs.csv"
    jobs = [job("traffic", "rnn"), job("traffic", "mrnn", 3, max_epochs=6)]
    write_csv(path, runs, provenance=provenance(tier="test", jobs=jobs))
    reviews = folder / "reviews" / "runs.csv"
    reviews.parent.mkdir(parents=True)
    review_jobs = [{"layout": "authors", "model": "rnn", "seeds": [0, 1, 2, 3, 4]}]
    table = review_runs({("authors", "rnn"): 0.2836 + 0.0348 * UNIT})
    write_csv(reviews, table, provenance=provenance(tier="test", jobs=review_jobs))
    return path, reviews


def command_args(folder: Path, runs: Path | None, reviews: Path | None) -> list[str]:
    args = ["--tier", "test", "--csv", str(folder / "comparison.csv")]
    args += ["--md", str(folder / "comparison.md")]
    names = {"table2": "table2", "exp2-boxplot": "exp2-boxplot"}
    names |= {"table5": "table5", "table6": "table6"}
    for option, stem in names.items():
        args += [f"--{option}", str(PUBLISHED / f"long-memory-{stem}.csv")]
    for name in compare.FIGURES:
        args += [f"--{name}-figure", str(folder / f"compare_{name}.png")]
    args += ["--runs", str(runs)] if runs else []
    return args + (["--reviews-runs", str(reviews)] if reviews else [])


def test_command_writes_every_declared_output_byte_identically(tmp_path):
    runs, reviews = write_runs(tmp_path)
    assert compare.main(command_args(tmp_path, runs, reviews)) == 0
    table = read_csv(tmp_path / "comparison.csv")
    assert list(table.columns) == TABLE_COLUMNS
    counts = table.groupby("table", sort=False).size().to_dict()
    # 36 cells; 8 models x 4 box-plot values; 4 models x 4 metrics, twice
    assert counts == {"Table 2": 36, "Experiment 2": 32, "Table 5": 16, "Table 6": 16}
    missing = table[table["verdict"] == NOT_RUN]
    assert missing["reproduced"].isna().all() and (missing["seeds"] == 0).all()
    row = table[(table["cell"] == "DJI / RNN")].iloc[0]
    assert row["verdict"] == AGREES and row["reproduced"] == pytest.approx(0.2605)
    row = table[(table["cell"] == "traffic / MRNN")].iloc[0]
    assert row["verdict"] == DIFFERS and "at most 6 epochs" in row["note"]
    record = read_record(tmp_path / "comparison.csv")
    assert record["tier"] == "test" and len(record["jobs"]) == 3
    page = (tmp_path / "comparison.md").read_text()
    assert "- Table 2: 2 of 3 means within one published sd, 1 differ; 33 published" in page
    assert "| traffic / MRNN | test RMSE |" in page and "![Table 2](compare_table2.png)" in page
    before = {}
    for name in compare.FIGURES:
        for suffix in (".png", ".pdf", ".png.provenance.json"):
            path = tmp_path / f"compare_{name}{suffix}"
            assert path.stat().st_size > 0, path
            before[path.name] = path.read_bytes()
    for name in ("comparison.csv", "comparison.md", "comparison.csv.provenance.json"):
        before[name] = (tmp_path / name).read_bytes()
    # a rerun writes the same bytes (no clocks, no random ids)
    assert compare.main(command_args(tmp_path, runs, reviews)) == 0
    for name, data in before.items():
        assert (tmp_path / name).read_bytes() == data, name


def test_command_without_runs_marks_everything_not_run(tmp_path):
    assert compare.main(command_args(tmp_path, None, None)) == 0
    table = read_csv(tmp_path / "comparison.csv")
    assert len(table) == 100 and (table["verdict"] == NOT_RUN).all()
    assert table["reproduced"].isna().all()
    assert "Table 5: 0 of 0 means" in (tmp_path / "comparison.md").read_text()


def test_a_bad_published_table_is_named(tmp_path):
    bad = tmp_path / "table2.csv"
    pd.DataFrame({"dataset": ["DJI"], "model": ["rnn"], "rmse_mean": [0.26]}).to_csv(bad)
    args = command_args(tmp_path, None, None)
    args[args.index("--table2") + 1] = str(bad)
    with pytest.raises(ValueError, match=r"table2.csv.*rmse_sd"):
        compare.main(args)
