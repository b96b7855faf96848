"""Published beside reproduced in the memorization study, on constructed tables."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rnnmem.core.compare import AGREES, DIFFERS, NOT_RUN, TABLE_COLUMNS
from rnnmem.core.io import read_csv, write_csv
from rnnmem.core.provenance import provenance, read_record
from rnnmem.memorization import compare

ROOT = Path(__file__).resolve().parents[2]
FIG6 = ROOT / "data" / "published" / "memorization-fig6.csv"
SOURCES = {"runs": "aggregate_memorization: runs.csv", "capacity": "capacity.csv"}
THETA = 0.05


def runs_table(cells: dict, experiment="fig6", cell="rnn", epochs=5000) -> pd.DataFrame:
    """cells: (layers, units, position) -> per-seed final losses."""
    rows = [
        {"experiment": experiment, "cell": cell, "task": "variable", "layers": layers, "units": c}
        | {"position": p, "seed": s, "final_loss": v, "diverged": False, "epochs": epochs}
        for (layers, c, p), values in cells.items()
        for s, v in enumerate(values)
    ]
    return pd.DataFrame(rows)


def fig6(*cells) -> pd.DataFrame:
    return pd.DataFrame(cells, columns=compare.FIG6_COLUMNS)


def rows_of(table, rows):
    return {r["cell"]: r for r in rows if r["table"] == table}


def test_published_equal_to_reproduced_agrees_and_calls_agree():
    runs = runs_table({(1, 1, 1): 0.039 + np.array([-0.01, 0.0, 0.01])})
    rows = compare.fig6_rows(fig6((1, 1, 1, 0.039)), runs, THETA, SOURCES["runs"])
    loss = rows_of("Fig. 6", rows)["l=1, c=1, p=1"]
    assert loss["verdict"] == AGREES and loss["difference"] == pytest.approx(0, abs=1e-12)
    assert loss["seeds"] == 3 and math.isnan(loss["z"]) and loss["note"] == ""
    call = rows_of("Fig. 6 learned", rows)["l=1, c=1, p=1"]
    assert call["published"] == call["reproduced"] == 1.0 and call["verdict"] == AGREES


def test_a_loss_beyond_the_reading_error_differs_with_its_known_causes():
    runs = runs_table({(1, 2, 12): [0.10, 0.12]}, epochs=1000)
    rows = compare.fig6_rows(fig6((1, 2, 12, 0.03)), runs, THETA, SOURCES["runs"])
    loss = rows_of("Fig. 6", rows)["l=1, c=2, p=12"]
    assert loss["verdict"] == DIFFERS and loss["size"] == "+0.08"
    assert "1000 epochs (the paper: 5000)" in loss["note"] and "2 seeds" in loss["note"]
    assert "moved length window" in loss["note"]
    assert rows_of("Fig. 6 learned", rows)["l=1, c=2, p=12"]["verdict"] == DIFFERS


def test_cells_outside_the_tier_are_not_run_and_unannotated_cells_are_not_compared():
    runs = runs_table({(1, 1, 1): [0.04, 0.04]})
    published = fig6((1, 1, 1, 0.039), (5, 20, 20, 0.249), (5, 19, 20, np.nan))
    rows = compare.fig6_rows(published, runs, THETA, SOURCES["runs"])
    assert len(rows) == 4  # two annotated cells, two tables; the empty cell has no row
    missing = rows_of("Fig. 6", rows)["l=5, c=20, p=20"]
    assert missing["verdict"] == NOT_RUN and math.isnan(missing["reproduced"])
    assert missing["seeds"] == 0 and "outside this tier" in missing["note"]


def capacity_table(mc_values, layers=2, units=2) -> pd.DataFrame:
    return pd.DataFrame(
        {"experiment": "fig6", "cell": "rnn", "task": "variable", "layers": layers}
        | {"units": units, "position": 1, "seed": range(len(mc_values)), "state": "all"}
        | {"weights": "trained", "mc": mc_values}
    )


def test_the_texts_numbers():
    runs = pd.concat(
        [
            runs_table({(1, 1, 9): [0.25, 0.25], (1, 1, 1): [0.01, 0.01]}),
            runs_table({(1, 5, 10): [0.03, 0.05]}, experiment="fig5", cell="lstm"),
        ]
    )
    rows = compare.text_rows(runs, capacity_table([2.0, 3.2]), SOURCES)
    by = {r["cell"]: r for r in rows}
    guess = by["every experiment"]
    assert guess["published"] == 0.25 and guess["reproduced"] == pytest.approx(0.25)
    assert guess["verdict"] == AGREES and guess["seeds"] == 1
    lstm = by["fig5 LSTM"]  # lowest L at p = 10: 0.04, not below 0.04
    assert lstm["reproduced"] == pytest.approx(0.04) and lstm["verdict"] == AGREES
    mc = by["fig6 RNN l=2, c=2"]  # N - (l - 1) = 3; 3.2 exceeds it beyond the slack
    assert mc["published"] == 3 and mc["reproduced"] == 3.2 and mc["verdict"] == DIFFERS
    assert mc["source"] == "capacity.csv"
    rows = compare.text_rows(runs, capacity_table([2.0, 3.04]), SOURCES)
    assert {r["cell"]: r for r in rows}["fig6 RNN l=2, c=2"]["verdict"] == AGREES


def test_an_lstm_below_the_floor_differs_and_missing_lstms_are_not_run():
    runs = runs_table({(1, 2, 10): [0.01, 0.02]}, experiment="fig8", cell="lstm")
    rows = {r["cell"]: r for r in compare.text_rows(runs, pd.DataFrame(), SOURCES)}
    assert rows["fig8 LSTM"]["verdict"] == DIFFERS and "l=1, c=2" in rows["fig8 LSTM"]["note"]
    assert rows["every trained network"]["verdict"] == NOT_RUN
    runs = runs_table({(1, 2, 1): [0.01, 0.02]}, experiment="fig8", cell="lstm")
    rows = {r["cell"]: r for r in compare.text_rows(runs, pd.DataFrame(), SOURCES)}
    assert rows["fig8 LSTM"]["verdict"] == NOT_RUN and rows["fig8 LSTM"]["seeds"] == 0


def test_the_command_writes_every_declared_output(tmp_path):
    runs = runs_table({(1, 1, 1): [0.03, 0.05], (1, 1, 2): [0.1, 0.12]})
    write_csv(tmp_path / "runs.csv", runs, provenance=provenance(jobs=[{"layers": 1}]))
    write_csv(tmp_path / "cap.csv", capacity_table([1.0], 1, 1), provenance=provenance(jobs=[]))
    out = {n: tmp_path / f"{n}.png" for n in compare.FIGURES}
    args = ["--settings", '{"theta": 0.05}', "--fig6", str(FIG6), "--tier", "t"]
    args += ["--runs", str(tmp_path / "runs.csv"), "--capacity", str(tmp_path / "cap.csv")]
    args += ["--csv", str(tmp_path / "c.csv"), "--md", str(tmp_path / "c.md")]
    args += [a for n, p in out.items() for a in (f"--{n}-figure", str(p))]
    assert compare.main(args) == 0
    table = read_csv(tmp_path / "c.csv")
    assert list(table.columns) == TABLE_COLUMNS
    annotated = int(pd.read_csv(FIG6)["mean_abs_loss"].notna().sum())
    assert (table["table"] == "Fig. 6").sum() == annotated
    assert ((table["table"] == "Fig. 6") & (table["verdict"] != NOT_RUN)).sum() == 2
    assert read_record(tmp_path / "c.csv")["jobs"] == [{"layers": 1}]
    for png in out.values():
        assert png.exists() and png.with_suffix(".pdf").exists()
        assert Path(f"{png}.provenance.json").exists()
    page = (tmp_path / "c.md").read_text()
    assert (
        f"Fig. 6: 1 of 2 means within the reading error (±0.003), 1 differ; {annotated - 2}" in page
    )
    assert "not compared" in page
