"""Aggregation on synthetic run tables. `synthetic_runs` also feeds the figure and claim tests."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from rnnmem.forgetting.aggregate import summarise
from rnnmem.forgetting.settings import CELLS


def synthetic_runs(effect_units=0.5, effect_in=-0.3, noise=0.05, runs=6, grid=(1, 2, 4, 8), seed=0):
    """A runs table with log(1 + K_exact) = 3 + effect_units log2 u + effect_in log2 n_in."""
    rng = np.random.default_rng(seed)
    rows = []
    for cell in CELLS:
        for n_in in grid:
            for units in grid:
                for run in range(runs):
                    log_k = (
                        3
                        + effect_units * np.log2(units)
                        + effect_in * np.log2(n_in)
                        + noise * rng.standard_normal()
                    )
                    k = int(round(math.expm1(log_k)))
                    rows.append(
                        dict(
                            variant="torch",
                            cell=cell,
                            n_in=n_in,
                            units=units,
                            run=run,
                            K_exact=k,
                            K_exact_censored=False,
                            steps=100_000,
                            prefix=1_000,
                        )
                    )
    return pd.DataFrame(rows)


def test_summary_statistics_and_censoring_counts():
    runs = synthetic_runs(runs=4, grid=(1, 2))
    runs.loc[0, ["K_exact", "K_exact_censored"]] = [99_000, True]
    summary = summarise(runs, ["K_exact"])
    first = summary.iloc[0]
    pick = (runs.cell == "lstm") & (runs.n_in == 1) & (runs.units == 1)
    values = runs[pick]["K_exact"].to_numpy(float)
    assert first["K_exact_n_censored"] == 1 and first["runs"] == 4
    assert first["K_exact_mean"] == values.mean() and first["K_exact_max"] == 99_000
    assert first["K_exact_sd"] == pytest.approx(values.std(ddof=1))
    assert first["K_exact_median"] == np.median(values)
    assert summary["K_exact_n_censored"].sum() == 1
