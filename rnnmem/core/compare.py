"""Published beside reproduced: one comparison row per published number a tier reproduces.

    compare_mean(published, published_sd, values, ddof)     a mean over seeds (Table 2, 5)
    compare_point(published, reproduced, tolerance)         a value without a published sd
    not_run(published, published_sd)                        a published cell the tier lacks

Every row holds the published value (and sd where published), the reproduced mean, sd,
seed count and 95% interval over seeds (Student t), the difference, z against the published
sd where there is one, and a verdict:

    agrees        |z| <= 1 (within one published sd); without a published sd,
                  |difference| <= the study's stated tolerance (its reading error), or, with
                  no tolerance either, the published value inside the reproduced 95% interval
    differs       otherwise; `size` says by how much (z, or the difference)
    not run       the tier has no such cell: never a zero

The rules that say why a number differs (a known cause) belong to the study; they go into
`note`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

AGREES, DIFFERS, NOT_RUN = "agrees", "differs", "not run"
COLUMNS = (
    "published",
    "published_sd",
    "reproduced",
    "reproduced_sd",
    "seeds",
    "ci_low",
    "ci_high",
    "difference",
    "z",
    "verdict",
    "size",
)
# The columns of every study's comparison.csv: what is compared, the row of this module, what
# agreement means for its table, the known cause where it differs, the rule and file behind it.
TABLE_COLUMNS = ["table", "cell", "quantity", *COLUMNS, "rule", "note", "source"]


def _interval(values: np.ndarray) -> tuple[float, float]:
    """95% interval of the mean over seeds (Student t); NaN for fewer than two seeds."""
    n = len(values)
    if n < 2:
        return math.nan, math.nan
    half = stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / math.sqrt(n)
    mean = values.mean()
    return float(mean - half), float(mean + half)


def compare_mean(
    published: float,
    published_sd: float | None,
    values,
    ddof: int = 0,
    tolerance: float | None = None,
) -> dict:
    """A published mean (and sd) against the reproduced values of every seed.

    `ddof` is the paper's convention for its sd (0: the population sd), so the two sds are
    comparable.
    """
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return not_run(published, published_sd)
    mean = float(values.mean())
    sd = float(values.std(ddof=ddof)) if len(values) > ddof else math.nan
    low, high = _interval(values)
    diff = mean - published
    row = dict(
        published=published,
        published_sd=published_sd,
        reproduced=mean,
        reproduced_sd=sd,
        seeds=len(values),
        ci_low=low,
        ci_high=high,
        difference=diff,
    )
    if published_sd is not None and published_sd > 0:
        z = diff / published_sd
        return {**row, "z": z, **_verdict(abs(z) <= 1, f"z = {z:+.2f}")}
    if tolerance is not None:
        return {**row, "z": math.nan, **_verdict(abs(diff) <= tolerance, f"{diff:+.4g}")}
    inside = low <= published <= high if np.isfinite(low) else False
    return {**row, "z": math.nan, **_verdict(inside, f"{diff:+.4g} (outside the 95% interval)")}


def compare_point(published: float, reproduced: float, tolerance: float, seeds: int = 1) -> dict:
    """A published value without an sd against one reproduced value (a mean or a median)."""
    if reproduced is None or not np.isfinite(reproduced):
        return not_run(published, None)
    diff = float(reproduced) - published
    return dict(
        published=published,
        published_sd=None,
        reproduced=float(reproduced),
        reproduced_sd=math.nan,
        seeds=seeds,
        ci_low=math.nan,
        ci_high=math.nan,
        difference=diff,
        z=math.nan,
        **_verdict(abs(diff) <= tolerance, f"{diff:+.4g}"),
    )


def not_run(published: float, published_sd: float | None) -> dict:
    """A published number the tier did not reproduce."""
    return dict(
        published=published,
        published_sd=published_sd,
        reproduced=math.nan,
        reproduced_sd=math.nan,
        seeds=0,
        ci_low=math.nan,
        ci_high=math.nan,
        difference=math.nan,
        z=math.nan,
        verdict=NOT_RUN,
        size="",
    )


def _verdict(agrees: bool, size: str) -> dict:
    return {"verdict": AGREES if agrees else DIFFERS, "size": "" if agrees else size}


def summary_line(
    table: str, rows: pd.DataFrame, what: str = "means", agree_word: str = "agree"
) -> str:
    """'Table 2: 33 of 36 means within one published sd, 3 differ' (rows: compare_* rows;
    `agree_word` says what agreement meant for this table)."""
    counts = rows["verdict"].value_counts()
    agree, differ, missing = (int(counts.get(v, 0)) for v in (AGREES, DIFFERS, NOT_RUN))
    ran = len(rows) - missing
    line = f"{table}: {agree} of {ran} {what} {agree_word}"
    if differ:
        line += f", {differ} differ"
    if missing:
        line += f"; {missing} published not run by this tier"
    return line
