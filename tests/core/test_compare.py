"""The comparison of published and reproduced numbers (rnnmem/core/compare.py)."""

import math

import numpy as np
import pandas as pd
import pytest

from rnnmem.core.compare import (
    AGREES,
    DIFFERS,
    NOT_RUN,
    compare_mean,
    compare_point,
    not_run,
    summary_line,
)


def test_published_equal_to_reproduced_gives_z_zero_and_agrees():
    values = np.array([1.0, 1.2, 0.8, 1.1, 0.9])
    row = compare_mean(values.mean(), values.std(), values, ddof=0)
    assert row["z"] == pytest.approx(0.0) and row["verdict"] == AGREES
    assert row["reproduced_sd"] == pytest.approx(values.std())
    assert row["seeds"] == 5 and row["ci_low"] < 1.0 < row["ci_high"]


def test_a_mean_two_sds_away_differs_with_its_size():
    row = compare_mean(1.0, 0.1, [1.2, 1.2, 1.2])
    assert row["verdict"] == DIFFERS and row["z"] == pytest.approx(2.0)
    assert row["size"] == "z = +2.00" and row["difference"] == pytest.approx(0.2)


def test_interval_is_the_student_t_interval_of_the_mean():
    values = np.array([1.0, 2.0, 3.0])
    row = compare_mean(2.0, None, values)
    half = 4.302652729911275 * values.std(ddof=1) / math.sqrt(3)  # t(0.975, 2)
    assert row["ci_low"] == pytest.approx(2 - half) and row["ci_high"] == pytest.approx(2 + half)
    assert row["verdict"] == AGREES  # no sd, no tolerance: inside the interval
    assert compare_mean(9.0, None, values)["verdict"] == DIFFERS


def test_tolerance_rule_without_a_published_sd():
    assert compare_point(0.10, 0.102, tolerance=0.003)["verdict"] == AGREES
    row = compare_point(0.10, 0.2, tolerance=0.003)
    assert row["verdict"] == DIFFERS and row["size"] == "+0.1"


def test_a_missing_cell_is_not_run_never_a_zero():
    for row in (not_run(1.0, 0.1), compare_mean(1.0, 0.1, []), compare_point(1.0, None, 0.1)):
        assert row["verdict"] == NOT_RUN and math.isnan(row["reproduced"]) and row["seeds"] == 0
    # NaN seeds (diverged) are left out of the mean, not counted as zeros
    assert compare_mean(1.0, 0.1, [1.0, np.nan])["seeds"] == 1


def test_summary_line_counts_agreement_and_cells_not_run():
    rows = pd.DataFrame({"verdict": [AGREES] * 33 + [DIFFERS] * 3})
    line = summary_line("Table 2", rows, agree_word="within one published sd")
    assert line == "Table 2: 33 of 36 means within one published sd, 3 differ"
    rows = pd.DataFrame({"verdict": [AGREES, NOT_RUN]})
    assert (
        summary_line("Table 5", rows)
        == "Table 5: 1 of 1 means agree; 1 published not run by this tier"
    )


def test_identity_figure_keeps_its_points_apart_when_intervals_are_wide(tmp_path, monkeypatch):
    """Three seeds give a 95% interval 4.3 sds wide each way: the view holds the points and
    the published spread, not the intervals (which run off the edge)."""
    import rnnmem.core.compare_figures as figures

    limits = []

    def keep_limits(fig, png, tier):
        limits.append(fig.axes[0].get_ylim())
        return []

    monkeypatch.setattr(figures, "save_figure", keep_limits)
    rows = pd.DataFrame(
        [compare_mean(p, 0.01, [p - 5.0, p, p + 5.0]) | {"published": p} for p in (1.0, 1.1)]
    )
    figures.identity_figure(rows, ["a", "a"], None, tmp_path / "f.png", "t", "title")
    low, high = limits[0]
    assert 0.9 < low < 1.0 and 1.1 < high < 1.2
