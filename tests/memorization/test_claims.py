"""Claim checks of the memory-distance study on synthetic aggregated tables: each claim
holds on data built to hold and fails on data built to break the property it is about."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from rnnmem.core.claims import FAILS, HOLDS, INCONCLUSIVE, PARTLY
from rnnmem.core.provenance import read_record
from rnnmem.memorization import claims as mem_claims
from rnnmem.memorization import figures as mem_figures
from rnnmem.memorization import tables as mem_tables
from tests.memorization.synthetic import (
    CURVE_EPOCHS,
    FIG6,
    GRIDS,
    THETA,
    THETA_SENSITIVITY,
    as_tables,
    claims_args,
    expected_loss,
    make_tables,
    sha,
    table_jobs,
    with_experiment,
    write_tables,
)


def test_all_claims_hold_on_default_synthetic_data_with_sensitivity(default_tables):
    claims = {
        c.claim: c
        for c in mem_claims.evaluate_claims(default_tables, THETA, (0.03, 0.10), CURVE_EPOCHS)
    }
    assert {k: c.verdict for k, c in claims.items()} == {
        "C1-fixed-guess": HOLDS,
        "C2-fig4-shape": HOLDS,
        "C3-lstm-slower": HOLDS,
        "C4-identity": HOLDS,
        "C5-monotone-p": HOLDS,
        "C6-more-units-layers": HOLDS,
        "C7-diagonal": HOLDS,
        "C8-bimodality": HOLDS,
        "C9-layer-bound": HOLDS,
        "C10-lstm-gru-worse": HOLDS,
        "C11-fixed-length-easier": HOLDS,
        "C12-capacity-bound": HOLDS,
        "C13-capacity-vs-distance": HOLDS,
    }
    # Threshold-based claims carry their verdicts at the sensitivity thetas; the others do not.
    diagonal = claims["C7-diagonal"]
    assert {"verdict_at_theta_0.03", "verdict_at_theta_0.1"} <= set(diagonal.numbers)
    assert "Sensitivity: theta=0.03" in diagonal.note
    assert "verdict_at_theta_0.03" not in claims["C5-monotone-p"].numbers


def test_claim_diagonal(default_frames):
    holds = mem_claims.claim_diagonal(as_tables(default_frames), THETA)
    assert holds.verdict == HOLDS and holds.numbers["largest_n_holding_for_all_smaller"] == 10

    def short_by_one_from_c4(cell, task, layers, units, p):  # D = c - 1 for c >= 4
        d = units - 1 if units >= 4 else units
        return 0.01 if p <= d else 0.24

    fails = mem_claims.claim_diagonal(
        with_experiment(default_frames, "fig6", "rnn", "variable", FIG6, short_by_one_from_c4),
        THETA,
    )
    assert fails.verdict == FAILS
    assert fails.numbers["largest_n_holding_for_all_smaller"] == 3
    assert fails.numbers["failing_c"] == [4, 5, 6, 8, 10]


def test_claim_identity(default_frames):
    assert mem_claims.claim_identity(as_tables(default_frames), THETA).verdict == HOLDS

    def one_cell_remembers_two(cell, task, layers, units, p):
        return 0.01 if p <= max(2, units) else 0.24

    claim = mem_claims.claim_identity(
        with_experiment(default_frames, "fig6", "rnn", "variable", FIG6, one_cell_remembers_two),
        THETA,
    )
    assert claim.verdict == FAILS and claim.numbers["memorised_positions"] == [1, 2]


def test_claim_bimodality(default_frames):
    holds = mem_claims.claim_bimodality(as_tables(default_frames), THETA)
    assert holds.verdict == HOLDS and holds.numbers["histogram_two_separated_modes"] is True

    def everything_in_the_middle(cell, task, layers, units, p):
        return 0.05 + 0.15 * ((p + units) % 5) / 5

    fails = mem_claims.claim_bimodality(
        with_experiment(default_frames, "fig6", "rnn", "variable", FIG6, everything_in_the_middle),
        THETA,
    )
    assert fails.verdict == FAILS and fails.numbers["histogram_two_separated_modes"] is False


def test_claim_layer_bound(default_frames):
    holds = mem_claims.claim_layer_bound(as_tables(default_frames), THETA)
    assert holds.verdict == HOLDS and holds.numbers["equality"] == holds.numbers["testable"] > 0

    def deep_nets_beat_the_bound(cell, task, layers, units, p):
        return 0.01 if p <= units * layers else 0.24  # D = c*l > c*l - (l-1) for l >= 2

    fails = mem_claims.claim_layer_bound(
        with_experiment(default_frames, "fig6", "rnn", "variable", FIG6, deep_nets_beat_the_bound),
        THETA,
    )
    assert fails.verdict == FAILS and fails.numbers["violations"] > 0


def test_claim_layer_bound_untestable_when_bound_beyond_grid(default_frames):
    small = dict(layers=[2], units=[6, 8], positions=[1, 2, 3], seeds=2)  # bounds 11 and 15 > 3
    claim = mem_claims.claim_layer_bound(
        with_experiment(default_frames, "fig6", "rnn", "variable", small, expected_loss), THETA
    )
    assert claim.verdict == INCONCLUSIVE and "untestable" in claim.note


def test_claim_monotone_in_p(default_frames):
    assert mem_claims.claim_monotone_in_p(as_tables(default_frames), THETA).verdict == HOLDS

    def zigzag(cell, task, layers, units, p):
        return 0.24 if p % 2 else 0.01

    claim = mem_claims.claim_monotone_in_p(
        with_experiment(default_frames, "fig6", "rnn", "variable", FIG6, zigzag), THETA
    )
    assert claim.verdict == FAILS and claim.numbers["share"] > 0.4


def test_claim_more_units_layers(default_frames):
    assert mem_claims.claim_more_units_layers(as_tables(default_frames), THETA).verdict == HOLDS

    def more_cells_hurt(cell, task, layers, units, p):
        d = max(0, 12 - 2 * units)  # D falls with c, rises with l
        return 0.01 if p <= d + layers else 0.24

    claim = mem_claims.claim_more_units_layers(
        with_experiment(default_frames, "fig6", "rnn", "variable", FIG6, more_cells_hurt), THETA
    )
    assert claim.verdict == PARTLY
    assert claim.numbers["part_a_L_in_c"] == "fails" and claim.numbers["part_b_L_in_l"] == "holds"


def test_claim_fixed_guess(default_frames):
    holds = mem_claims.claim_fixed_guess(as_tables(default_frames), THETA)
    assert holds.verdict == HOLDS and holds.numbers["runs_above_0.27_or_diverged"] == 0
    frames = dict(default_frames)
    runs = frames["runs"].copy()
    bad = runs.index[
        (runs["experiment"] == "fig6") & (runs["position"] == 12) & (runs["units"] == 1)
    ]
    runs.loc[bad, "final_loss"] = 0.4
    runs.loc[bad[:1], ["final_loss", "diverged"]] = [np.nan, True]
    frames["runs"] = runs
    fails = mem_claims.claim_fixed_guess(as_tables(frames), THETA)
    assert fails.verdict == FAILS
    assert fails.numbers["runs_diverged"] == 1 and fails.numbers[
        "runs_above_0.27_or_diverged"
    ] == len(bad)


def test_claim_fig4_shape(default_frames):
    assert (
        mem_claims.claim_fig4_shape(as_tables(default_frames), THETA, CURVE_EPOCHS).verdict == HOLDS
    )
    frames = dict(default_frames)
    runs = frames["runs"].copy()
    far = (runs["experiment"] == "fig4") & runs["position"].isin([9, 10])
    runs.loc[far, "final_loss"] = 0.03  # p = 9, 10 memorised: parts c holds, d fails
    frames["runs"] = runs
    claim = mem_claims.claim_fig4_shape(as_tables(frames), THETA, CURVE_EPOCHS)
    assert claim.verdict == PARTLY and claim.numbers["part_d_p9to10_near_guess"] == "fails"
    smoke = mem_claims.claim_fig4_shape(as_tables(make_tables("smoke")), THETA, CURVE_EPOCHS)
    assert smoke.verdict == INCONCLUSIVE and "not testable" in smoke.note.lower()


def test_claim_lstm_slower(default_frames):
    holds = mem_claims.claim_lstm_slower(as_tables(default_frames), THETA, CURVE_EPOCHS)
    assert holds.verdict == HOLDS
    frames = dict(default_frames)
    curves = frames["curves"].copy()
    swap = {"fig4": "fig5", "fig5": "fig4"}  # the RNN's fast curves now belong to the LSTM
    curves["experiment"] = curves["experiment"].map(swap)
    curves["cell"] = curves["experiment"].map({"fig4": "rnn", "fig5": "lstm"})
    frames["curves"] = curves
    claim = mem_claims.claim_lstm_slower(as_tables(frames), THETA, CURVE_EPOCHS)
    assert claim.numbers["part_a_lstm_later_p1to5"] == "fails"
    assert claim.verdict in (FAILS, PARTLY)


def test_claim_lstm_gru_worse(default_frames):
    holds = mem_claims.claim_lstm_gru_worse(as_tables(default_frames), THETA)
    assert holds.verdict == HOLDS and "lstm_gru_correlation" in holds.numbers

    def lstm_better(cell, task, layers, units, p):
        return 0.005 if p <= 10 else 0.24

    grid = GRIDS["default"]["fig8"]
    claim = mem_claims.claim_lstm_gru_worse(
        with_experiment(default_frames, "fig8", "lstm", "variable", grid, lstm_better), THETA
    )
    assert claim.verdict == PARTLY
    assert claim.numbers["part_a_lstm_p10_not_memorised"] == "fails"
    assert (
        claim.numbers["part_b_lstm_worse"] == "fails"
        and claim.numbers["part_c_gru_worse"] == "holds"
    )


def test_claim_fixed_length_easier(default_frames):
    assert mem_claims.claim_fixed_length_easier(as_tables(default_frames), THETA).verdict == HOLDS

    def fixed_is_harder(cell, task, layers, units, p):
        return min(0.25, expected_loss(cell, "variable", layers, units, p + 1) + 0.05)

    grid = GRIDS["default"]["fig9"]
    claim = mem_claims.claim_fixed_length_easier(
        with_experiment(default_frames, "fig9", "rnn", "fixed", grid, fixed_is_harder), THETA
    )
    assert claim.verdict == FAILS


def test_capacity_claims(default_frames):
    tables = as_tables(default_frames)
    assert mem_claims.claim_capacity_bound(tables, THETA).verdict == HOLDS
    vs = mem_claims.claim_capacity_vs_distance(tables, THETA)
    assert vs.verdict == HOLDS and vs.numbers["share_D_within_bound"] == 1.0
    assert vs.numbers["memorised_networks_with_task_capacity"] > 0

    frames = dict(default_frames)
    capacity = frames["capacity"].copy()
    capacity.loc[capacity.index[:3], "mc"] = capacity.loc[capacity.index[:3], "n_state"] + 0.5
    frames["capacity"] = capacity
    assert mem_claims.claim_capacity_bound(as_tables(frames), THETA).verdict == FAILS

    frames = dict(default_frames)
    capacity = frames["capacity"].copy()
    capacity["mc"] = 0.3  # capacity far below the memorised delays
    frames["capacity"] = capacity
    assert mem_claims.claim_capacity_vs_distance(as_tables(frames), THETA).verdict in (
        FAILS,
        PARTLY,
    )


# ---------------------------------------------------------------------------------------
# Missing experiments and files
# ---------------------------------------------------------------------------------------
def test_missing_experiment_is_inconclusive():
    tables = as_tables(make_tables("default", drop=("fig9", "fig5")))
    assert mem_claims.claim_fixed_length_easier(tables, THETA).verdict == INCONCLUSIVE
    assert mem_claims.claim_lstm_slower(tables, THETA, CURVE_EPOCHS).verdict == INCONCLUSIVE
    assert mem_claims.claim_diagonal(tables, THETA).verdict == HOLDS
    assert "fig9" in mem_claims.claim_fixed_length_easier(tables, THETA).note


def test_theta_sensitivity_can_change_a_verdict(default_frames):
    """A plateau at 0.07 is 'memorised' at theta = 0.10 only: the diagonal claim flips."""

    def short_of_diagonal(cell, task, layers, units, p):
        return 0.01 if p < units else (0.07 if p == units else 0.24)

    tables = with_experiment(default_frames, "fig6", "rnn", "variable", FIG6, short_of_diagonal)
    claim = mem_claims.with_sensitivity(mem_claims.claim_diagonal, tables, 0.05, (0.03, 0.10))
    assert claim.verdict == FAILS and claim.numbers["verdict_at_theta_0.1"] == HOLDS


def test_claims_cli_smoke_and_empty(tmp_path):
    results = write_tables(tmp_path / "results", make_tables("smoke"))
    csv, md = tmp_path / "claims.csv", tmp_path / "claims.md"
    args = claims_args(results, csv, md, "smoke", theta=0.05, theta_sensitivity=[0.03, 0.10])
    assert mem_claims.main([*args, "--distance-table", str(tmp_path / "distance.csv")]) == 0
    table = pd.read_csv(csv)
    assert list(table.columns) == [
        "claim",
        "statement",
        "rule",
        "verdict",
        "numbers",
        "note",
        "tier",
    ]
    assert len(table) == 13 and set(table["tier"]) == {"smoke"}
    assert set(table["verdict"]) <= {"holds", "partly", "fails", "inconclusive"}
    assert all(isinstance(json.loads(n), dict) for n in table["numbers"])
    assert "Tier: **smoke**" in md.read_text()
    record = read_record(csv)  # the jobs behind every table, each once
    expected = {json.dumps(j, sort_keys=True) for n in mem_tables.COLUMNS for j in table_jobs(n)}
    assert [json.dumps(j, sort_keys=True) for j in record["jobs"]] == sorted(expected)
    assert record["theta"] == 0.05 and record["tier"] == "smoke"
    distance = pd.read_csv(tmp_path / "distance.csv")
    assert {"D", "bound", "N", "mc_mean_trained", "mc_mean_initial"} <= set(distance.columns)

    # Rerun: byte-identical outputs.
    before = sha(csv), sha(md)
    mem_claims.main(claims_args(results, csv, md, "smoke"))
    assert (sha(csv), sha(md)) == before

    # No inputs at all: every claim inconclusive, nothing crashes.
    (tmp_path / "empty").mkdir()
    mem_claims.main(claims_args(tmp_path / "empty", csv, md, "custom"))
    assert set(pd.read_csv(csv)["verdict"]) == {"inconclusive"}


@pytest.mark.parametrize(
    "absent", [("capacity", "capacity_curves"), ("esn", "esn_task"), ("curves",)]
)
def test_missing_tables(tmp_path, absent):
    """A tier without capacity probes, without the ESN baseline, or without curves."""
    frames = {k: v for k, v in make_tables("smoke").items() if k not in absent}
    results = write_tables(tmp_path / "results", frames)
    if "curves" in absent:
        (results / "curves.csv").write_text("")  # an empty file, not just a missing one
    t = mem_tables.load_tables(mem_tables.table_paths(results))
    assert set(t.missing) == {f"{name}.csv" for name in absent}
    verdicts = {
        c.claim: c.verdict
        for c in mem_claims.evaluate_claims(t, THETA, THETA_SENSITIVITY, CURVE_EPOCHS)
    }
    if "capacity" in absent:
        assert verdicts["C13-capacity-vs-distance"] == INCONCLUSIVE
        assert verdicts["C12-capacity-bound"] != INCONCLUSIVE  # the ESNs are still checked
    assert {"D", "mc_mean_trained"} <= set(mem_tables.distance_table(t, 0.05).columns)
    mem_figures.figure_memory_capacity(t, tmp_path / "memory_capacity.png", "smoke", 0.05)
    assert (tmp_path / "memory_capacity.pdf").exists()
