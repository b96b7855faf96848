"""The cost model (rnnmem/core/costs.py): the fit, its sources in order, the schedule."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnnmem.core.costs import (
    CONSTANT,
    CostModel,
    Fit,
    PlannedJob,
    Source,
    file_source,
    fit_line,
    fit_linear,
    fit_points,
    lpt_wall,
    read_record,
    records_source,
    write_calibration,
)


def test_fit_recovers_a_and_b_from_synthetic_records():
    rng = np.random.default_rng(0)
    work = rng.uniform(1e9, 5e10, 40)
    exact = 2.5 + 3e-10 * work
    a, b = fit_line(work, exact)
    assert a == pytest.approx(2.5, rel=1e-9) and b == pytest.approx(3e-10, rel=1e-9)
    noisy = exact * rng.uniform(0.97, 1.03, work.size)  # timings: a few percent of noise
    a, b = fit_line(work, noisy)
    assert a == pytest.approx(2.5, abs=0.5) and b == pytest.approx(3e-10, rel=0.05)


def _residual(a, b, w, s):
    return float(np.sum((a + b * np.asarray(w) - np.asarray(s)) ** 2))


@pytest.mark.parametrize(
    "seconds",
    [
        [1.0, 3.0, 5.0, 7.0],  # the free line has a = -1: the fit goes through the origin
        [7.0, 5.0, 3.0, 1.0],  # falling: the free line has b < 0, the fit is the mean
        [0.1, 0.1, 0.1, 9.0],
    ],
)
def test_fit_is_non_negative_and_the_best_such_line(seconds):
    work = [1.0, 2.0, 3.0, 4.0]
    a, b = fit_line(work, seconds)
    assert a >= 0 and b >= 0
    # no non-negative line on a fine grid fits better
    grid = [(ga, gb) for ga in np.linspace(0, 10, 101) for gb in np.linspace(0, 5, 101)]
    best = min(_residual(ga, gb, work, seconds) for ga, gb in grid)
    assert _residual(a, b, work, seconds) <= best + 1e-9


def test_one_work_value_fits_a_line_through_the_origin_and_no_work_a_constant():
    assert fit_line([4.0, 4.0], [2.0, 4.0]) == pytest.approx((0.0, 0.75))
    assert fit_points([(0.0, 2.0), (0.0, 4.0)], CONSTANT) == Fit(3.0, (0.0,), CONSTANT, 2)


def test_fit_of_two_work_components_recovers_both_rates():
    """The probe's work: model-steps and flops, each with its own rate."""
    rng = np.random.default_rng(1)
    steps, flops = rng.uniform(1e5, 1e7, 30), rng.uniform(1e8, 1e11, 30)
    seconds = 0.5 + 2e-6 * steps + 4e-10 * flops
    a, b = fit_linear(np.column_stack([steps, flops]), seconds)
    assert a == pytest.approx(0.5, rel=1e-6) and b == pytest.approx((2e-6, 4e-10), rel=1e-6)
    points = list(zip(zip(steps, flops, strict=True), seconds, strict=True))
    fit = fit_points(points, "model-step+flop")
    assert fit.seconds((1e6, 1e10)) == pytest.approx(0.5 + 2 + 4)
    with pytest.raises(ValueError):
        fit.seconds(1e6)  # one component for a two-component fit


def _record(folder, name, **content):
    path = folder / name
    path.write_text(json.dumps(content))
    return path


def test_records_count_in_their_unit_only_and_need_seconds(tmp_path):
    found = [
        ("train", _record(tmp_path, "a.json", seconds=3.0, work=1e9, work_unit="flop")),
        ("train", _record(tmp_path, "b.json", seconds=5.0, work=2e9, work_unit="flop")),
        ("train", _record(tmp_path, "c.json", seconds=99.0, work=1.0, work_unit="madd")),
        ("train", _record(tmp_path, "d.json", device="cpu")),  # written before the job ended
        ("other", _record(tmp_path, "e.json", seconds=1.0, work=1.0, work_unit="flop")),
    ]
    assert read_record(found[3][1]) is None
    source = records_source(found, {"train": "flop"}, "logs")
    assert set(source.fits) == {"train"}  # "other" is no family of the plan
    fit = source.fits["train"]
    assert fit.n == 2 and fit.seconds(3e9) == pytest.approx(7.0)


def _job(family, unit="flop", work=1e9):
    return PlannedJob("rule", "job", family, work, unit)


def test_each_family_comes_from_the_first_source_that_has_it_and_says_which():
    records = Source("records", "logs", {"x": Fit(1.0, (1e-9,), "flop", 3)})
    calibration = Source(
        "calibration",
        "file",
        {"x": Fit(50.0, (0.0,), "flop", 2), "y": Fit(2.0, (2e-9,), "flop", 2)},
        {"x": 0.5},
    )
    defaults = Source(
        "defaults",
        "shipped",
        {"y": Fit(70.0, (0.0,), "flop", 2), "z": Fit(3.0, (0.0,), "madd", 2)},
        {"x": 9.0, "z": 0.25},
    )
    model = CostModel([records, None, calibration, defaults])  # None: an absent file
    assert model.seconds(_job("x")) == pytest.approx(0.5 + 1.0 + 1.0)  # records + start-up
    assert model.source_of(_job("x")) == "records"
    assert model.seconds(_job("y")) == pytest.approx(2.0 + 2.0)
    assert model.source_of(_job("y")) == "calibration"
    assert model.seconds(_job("z", "madd")) == pytest.approx(0.25 + 3.0)
    assert model.source_of(_job("z", "madd")) == "defaults"
    # a family fitted in another unit only is not estimated; a small rule is its start-up
    assert model.seconds(_job("z", "flop")) is None
    assert model.source_of(_job("z", "flop")).startswith("none")
    assert model.seconds(PlannedJob("r", "j", "x:qualified")) == 0.5
    assert model.source_of(PlannedJob("r", "j", "x:qualified")) == "start-up only"


def test_calibration_file_round_trip(tmp_path):
    points = {"x": [(1e9, 2.0), (3e9, 4.0)]}
    about = {"date": "2026-01-01", "machine": "cpu", "commit": "abc1234"}
    fits = write_calibration(tmp_path / "c.json", points, {"x": "flop"}, {"cmd": 1.5}, about)
    source = file_source(tmp_path / "c.json", "calibration")
    assert source.fits == fits and fits["x"].seconds(2e9) == pytest.approx(3.0)
    assert source.startup == {"cmd": 1.5}
    assert "2026-01-01" in source.label and "abc1234" in source.label
    assert file_source(tmp_path / "absent.json", "calibration") is None


@pytest.mark.parametrize(
    "jobs, cores, wall",
    [
        ([(7, 1), (5, 1), (4, 1), (3, 1), (3, 1), (2, 1)], 2, 12),
        # longest-first is not optimal: 3+3 | 2+2+2 would take 6
        ([(3, 1), (3, 1), (2, 1), (2, 1), (2, 1)], 2, 7),
        # a two-thread job holds both cores; the others wait for it
        ([(4, 2), (3, 1), (3, 1)], 2, 7),
        ([(5, 8)], 2, 5),  # more threads than cores: all of them
        ([(1, 1)] * 10, 4, 3),
        ([], 4, 0),
    ],
)
def test_longest_first_schedule(jobs, cores, wall):
    assert lpt_wall(jobs, cores) == pytest.approx(wall)
