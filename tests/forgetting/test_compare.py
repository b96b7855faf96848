"""Published beside reproduced in the forgetting study, on constructed runs tables."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rnnmem.core.compare import AGREES, DIFFERS, NOT_RUN, TABLE_COLUMNS
from rnnmem.core.io import read_csv, write_csv
from rnnmem.core.provenance import provenance, read_record
from rnnmem.forgetting import compare

ROOT = Path(__file__).resolve().parents[2]
BLOG = ROOT / "data" / "published" / "forgetting-blog-tables.csv"
SOURCE = "aggregate_forgetting_torch: runs.csv"
OFFSETS = np.array([-1.0, 0.0, 1.0])


def runs_table(cells: dict, metrics=("K_exact", "K_tol_1e-06"), steps=100_000) -> pd.DataFrame:
    """cells: (cell, n_in, units) -> the runs' values of every metric."""
    rows = []
    for (cell, n_in, units), values in cells.items():
        for run, value in enumerate(values):
            row = {"variant": "torch", "cell": cell, "n_in": n_in, "units": units, "run": run}
            for metric in metrics:
                row |= {metric: value, f"{metric}_censored": False}
            rows.append(row | {"steps": steps, "prefix": 1000})
    return pd.DataFrame(rows)


def published(*cells) -> pd.DataFrame:
    return pd.DataFrame(cells, columns=compare.BLOG_COLUMNS)


def test_published_equal_to_reproduced_agrees_with_zero_difference():
    runs = runs_table({("lstm", 4, 8): 20.4 + OFFSETS})
    rows = compare.blog_rows(published(("lstm", 4, 8, 20.4)), runs, SOURCE)
    assert [r["table"] for r in rows] == ["Blog tables, K_exact", "Blog tables, K_tol_1e-06"]
    row = rows[0]
    assert row["verdict"] == AGREES and row["difference"] == pytest.approx(0, abs=1e-12)
    assert row["seeds"] == 3 and row["ci_low"] < 20.4 < row["ci_high"]
    assert math.isnan(row["z"]) and row["source"] == SOURCE and row["note"] == ""
    assert row["cell"] == "LSTM / n_in 4 / 8 units"


def test_a_mean_far_outside_the_tolerance_differs_and_names_the_tier():
    runs = runs_table({("gru", 1, 1): 50.0 + OFFSETS}, steps=5000)
    [row, _] = compare.blog_rows(published(("gru", 1, 1, 0.6)), runs, SOURCE)
    assert row["verdict"] == DIFFERS and row["size"] == "+49.4"
    assert "3 runs (the post: 10)" in row["note"] and "T = 5000 steps" in row["note"]
    # the tolerance: sqrt(2) x the 95% half width + the rounding
    half = (row["ci_high"] - row["ci_low"]) / 2
    assert compare.tolerance(50.0 + OFFSETS) == pytest.approx(math.sqrt(2) * half + 0.05)


def test_a_published_cell_the_tier_did_not_run_is_not_run_never_zero():
    runs = runs_table({("lstm", 1, 1): 1.0 + OFFSETS})
    rows = compare.blog_rows(published(("lstm", 128, 128, 9.8)), runs, SOURCE)
    for row in rows:
        assert row["verdict"] == NOT_RUN and math.isnan(row["reproduced"])
        assert row["seeds"] == 0 and row["source"] == "" and "does not run" in row["note"]


def test_metric_table_ranks_by_log_ratio_and_names_the_closest():
    pub = published(("lstm", 1, 1, 2.0), ("lstm", 1, 2, 4.0), ("lstm", 2, 2, 8.0))
    runs = runs_table(
        {("lstm", 1, 1): [2.0] * 3, ("lstm", 1, 2): [4.0] * 3, ("lstm", 2, 2): [8.0] * 3}
    )
    runs["K_exact"] *= 10  # ten times too many steps, same ranks
    rows = pd.DataFrame(compare.blog_rows(pub, runs, SOURCE), columns=TABLE_COLUMNS)
    table = compare.metric_table(rows).set_index(["cell", "metric"])
    assert table.loc[("LSTM", "K_exact"), "median_ratio"] == pytest.approx(10)
    assert table.loc[("LSTM", "K_exact"), "spearman_rho"] == pytest.approx(1)
    assert table.loc[("LSTM", "K_tol_1e-06"), "median_abs_log10_ratio"] == pytest.approx(0)
    assert compare.closest_metric(table.reset_index()) == "K_tol_1e-06"


def test_the_command_writes_every_declared_output(tmp_path):
    runs = runs_table({("lstm", 1, 1): 1.4 + OFFSETS, ("gru", 1, 2): 13.6 + OFFSETS})
    write_csv(tmp_path / "runs.csv", runs, provenance=provenance(jobs=[{"cell": "lstm"}]))
    out = {n: tmp_path / f"{n}.png" for n in compare.FIGURES}
    args = ["--blog", str(BLOG), "--runs", str(tmp_path / "runs.csv"), "--tier", "t"]
    args += ["--csv", str(tmp_path / "c.csv"), "--metrics-csv", str(tmp_path / "m.csv")]
    args += ["--md", str(tmp_path / "c.md")]
    args += [a for n, p in out.items() for a in (f"--{n}-figure", str(p))]
    assert compare.main(args) == 0
    table = read_csv(tmp_path / "c.csv")
    assert list(table.columns) == TABLE_COLUMNS and len(table) == 2 * 128
    assert (table["verdict"] == NOT_RUN).sum() == 2 * 126
    assert read_record(tmp_path / "c.csv")["jobs"] == [{"cell": "lstm"}]
    for png in out.values():
        assert png.exists() and png.with_suffix(".pdf").exists()
        assert Path(f"{png}.provenance.json").exists()
    page = (tmp_path / "c.md").read_text()
    assert "Blog tables, K_exact: 2 of 2 means agree; 126 published not run" in page
    assert "Closest metric" in page and "![heat maps](grid.png)" in page


def test_a_published_table_without_its_columns_is_named(tmp_path):
    bad = tmp_path / "blog.csv"
    bad.write_text("cell,n_in,steps\nlstm,1,2\n")
    with pytest.raises(ValueError, match="lacks the columns"):
        compare.read_published(bad)
