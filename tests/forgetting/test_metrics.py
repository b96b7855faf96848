"""The metrics of forgetting.md §4 on synthetic gap sequences (forgetting.md §7, test 5)."""

from __future__ import annotations

import numpy as np

from rnnmem.core.settings import schema_defaults
from rnnmem.forgetting.metrics import eps_label, gap_metrics, metric_names

EPS = schema_defaults("forgetting")["eps"]


def test_metric_names_follow_eps():
    assert eps_label(1e-6) == "1e-06" and eps_label(2.5e-4) == "2.5e-04"
    names = metric_names([1e-3, 1e-6])
    assert names == [
        "K_exact",
        "S",
        "K_tol_1e-03",
        "K_tol_1e-06",
        "K_allclose",
        "F_exact",
        "F_tol_1e-03",
        "F_tol_1e-06",
    ]


def test_spec_example_gap_sequence():
    d = np.zeros(100)
    d[:3] = [3.0, 0.0, 2.0]
    m = gap_metrics(d, d == 0, eps=[1e-3])
    assert m["K_exact"] == 3 and m["F_exact"] == 1
    assert m["K_tol_1e-03"] == 3 and m["F_tol_1e-03"] == 1
    assert m["K_allclose"] == 3
    assert not any(m[f"{n}_censored"] for n in ("K_exact", "F_exact", "K_tol_1e-03", "F_tol_1e-03"))


def test_tolerance_metrics_use_strict_and_inclusive_thresholds():
    d = np.array([1.0, 1e-3, 5e-4, 2e-3, 1e-7, 0.0, 0.0])
    m = gap_metrics(d, np.ones(7, bool), eps=[1e-3, 1e-6])
    assert m["K_tol_1e-03"] == 4  # last d > 1e-3 is at k = 3
    assert m["F_tol_1e-03"] == 1  # d = 1e-3 is "within" eps
    assert m["K_tol_1e-06"] == 4 and m["F_tol_1e-06"] == 4
    assert m["K_exact"] == 5 and m["F_exact"] == 5
    assert m["K_allclose"] == 0  # every step passed the allclose test given here


def test_censoring_at_the_end_of_the_sequence():
    d = np.full(50, 1e-9)
    d[10] = 0.0  # a first hit, but the gap reopens and is open at the last step
    m = gap_metrics(d, np.zeros(50, bool), eps=[1e-6], censor_at=99_000)
    assert (m["K_exact"], m["K_exact_censored"]) == (99_000, True)
    assert (m["F_exact"], m["F_exact_censored"]) == (10, False)
    assert (m["K_tol_1e-06"], m["F_tol_1e-06"]) == (0, 0)
    assert (m["K_allclose"], m["K_allclose_censored"]) == (99_000, True)
    never = gap_metrics(np.full(5, 1.0), np.zeros(5, bool), eps=[1e-6])
    assert (never["F_exact"], never["F_exact_censored"]) == (5, True)
    assert (never["F_tol_1e-06"], never["F_tol_1e-06_censored"]) == (5, True)


def test_all_zero_gaps_give_zero_metrics():
    m = gap_metrics(np.zeros(20), np.ones(20, bool), eps=EPS)
    assert all(m[n] == 0 for n in metric_names(EPS) if n != "S")
    assert not any(v for k, v in m.items() if k.endswith("_censored"))
