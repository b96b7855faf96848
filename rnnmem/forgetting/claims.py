"""Claims of the post (forgetting.md §9): the `claims-forgetting` command.

L1, L2 (LSTM) and G1, G2 (GRU) under each chosen metric, with bootstrap intervals of the
regression slopes, plus the secondary LSTM-vs-GRU observation O1, as claims.csv / claims.md.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from rnnmem.core.claims import FAILS, HOLDS, INCONCLUSIVE, PARTLY, Claim, verdict_from, write_claims
from rnnmem.core.io import read_csv
from rnnmem.core.provenance import jobs_behind, provenance
from rnnmem.core.seeds import seed_sequence
from rnnmem.core.settings import add_settings_argument, from_settings
from rnnmem.forgetting.settings import (
    CELL_LABEL,
    CELLS,
    SEED_KEY_CELL,
    VARIANT_LABEL,
    ClaimSettings,
    fail,
)

NOT_IDENTIFIABLE = "fewer than two unit sizes or input sizes in this tier"
INPUTS_STATEMENT = {
    "lstm": "LSTM: more input features -> shorter memory.",
    "gru": "GRU: no clear effect of input size.",
}
CLAIM_IDS = {"lstm": ("L1", "L2"), "gru": ("G1", "G2")}  # (units claim, inputs claim)
# Recorded in the claims' provenance (the settings behind the verdicts).
PROVENANCE_KEYS = (
    "metrics",
    "bootstrap",
    "level",
    "row_fraction",
    "col_fraction",
    "g2_ratio",
    "experiment",
)


def design(frame: pd.DataFrame) -> np.ndarray:
    """(N, 3) design matrix [1, log2 u, log2 n_in]."""
    return np.column_stack([np.ones(len(frame)), np.log2(frame["units"]), np.log2(frame["n_in"])])


def bootstrap_slopes(frame: pd.DataFrame, metric: str, replicates: int, rng: np.random.Generator):
    """Least squares log(1 + K) = a + b_u log2 u + b_in log2 n_in, and its bootstrap.

    Resamples runs with replacement within each (n_in, u) cell. Returns the point
    estimate (a, b_u, b_in) and a (replicates, 3) array; None where the fit is not
    identifiable (fewer than two values of u or of n_in).
    """
    if frame["units"].nunique() < 2 or frame["n_in"].nunique() < 2:
        return None, None
    frame = frame.sort_values(["n_in", "units", "run"]).reset_index(drop=True)
    x = design(frame)
    y = np.log1p(frame[metric].to_numpy(dtype=np.float64))
    point = np.linalg.lstsq(x, y, rcond=None)[0]
    picks = []
    for _, idx in frame.groupby(["n_in", "units"], sort=True).indices.items():
        idx = np.asarray(idx)
        picks.append(idx[rng.integers(0, idx.size, size=(replicates, idx.size))])
    rows = np.concatenate(picks, axis=1)  # (B, N) resampled row numbers
    xb, yb = x[rows], y[rows]
    xtx = np.einsum("bni,bnj->bij", xb, xb)
    xty = np.einsum("bni,bn->bi", xb, yb)
    return point, np.linalg.solve(xtx, xty[..., None])[..., 0]


def spearman(x, y) -> float:
    """Spearman correlation; nan when either side is constant (no ordering to test)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 2 or np.all(y == y[0]) or np.all(x == x[0]):
        return float("nan")
    return float(spearmanr(x, y).statistic)


def needed(fraction: float, count: int) -> int:
    """At least `fraction` of `count` (7 of 8 rows = 0.875, 5 of 7 columns = 0.71)."""
    return math.ceil(fraction * count - 1e-9)


def cell_checks(frame: pd.DataFrame, metric: str, larger_units: bool):
    """Row / column checks on the cell means (forgetting.md §9).

    units direction: per n_in row, mean at max u > mean at min u, Spearman(u, mean) > 0;
    input direction: per column with u >= 2, Spearman(n_in, mean) < 0.
    """
    # rows n_in, columns u
    means = frame.groupby(["n_in", "units"])[metric].mean().unstack("units")
    if larger_units:
        rows_up = [bool(r.iloc[-1] > r.iloc[0]) for _, r in means.iterrows()]
        rho = [spearman(means.columns, r.to_numpy()) for _, r in means.iterrows()]
        return rows_up, rho
    cols = [u for u in means.columns if u >= 2]
    return None, [spearman(means.index, means[u].to_numpy()) for u in cols]


def interval(samples: np.ndarray, level: float) -> tuple[float, float]:
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(samples, [tail, 100.0 - tail])
    return float(low), float(high)


def _fit_numbers(frame, point, boot, metric, level) -> dict:
    """Runs, censored runs and, where identifiable, the slopes with their intervals."""
    numbers = {"runs": len(frame), "censored_runs": int(frame[f"{metric}_censored"].sum())}
    if point is not None:
        numbers.update(
            b_u=float(point[1]),
            b_u_ci=[round(v, 6) for v in interval(boot[:, 1], level)],
            b_in=float(point[2]),
            b_in_ci=[round(v, 6) for v in interval(boot[:, 2], level)],
        )
    return numbers


def _censor_note(numbers, censor_at) -> str:
    if numbers["censored_runs"]:
        return (
            f"{numbers['censored_runs']} of {numbers['runs']} runs are censored at "
            f"{censor_at:,} shared steps and enter the fit at that value, which flattens the "
            "slopes."
        )
    return ""


def _units_claim(claim_id, cell, frame, numbers, fit_rule, metric, s: ClaimSettings, note):
    """L1 / G1: more units -> longer memory."""
    statement = f"{CELL_LABEL[cell]}: more units -> longer memory."
    rows_up, rho = cell_checks(frame, metric, larger_units=True)
    need = needed(s.row_fraction, len(rho))
    positive = sum(r > 0 for r in rho if not math.isnan(r))
    slope_ok = numbers["b_u"] > 0 and numbers["b_u_ci"][0] > 0
    rows_ok = all(rows_up)
    rho_ok = positive >= need
    numbers.update(
        rows_max_u_above_min_u=f"{sum(rows_up)}/{len(rows_up)}",
        rows_spearman_positive=f"{positive}/{len(rho)} (need {need})",
    )
    verdict = HOLDS if slope_ok and rows_ok and rho_ok else PARTLY if slope_ok else FAILS
    rule = (
        f"{fit_rule}. Holds if b_u > 0 with the interval above 0, and in every n_in row the "
        f"mean at the largest u exceeds the mean at the smallest u, and Spearman(u, cell mean) "
        f"> 0 in at least {need} of {len(rho)} rows; partly if only the slope condition holds."
    )
    return Claim(claim_id, statement, rule, verdict, numbers, note(numbers))


def _lstm_inputs_claim(claim_id, frame, numbers, fit_rule, metric, s: ClaimSettings, note):
    """L2: more input features -> shorter LSTM memory."""
    statement = INPUTS_STATEMENT["lstm"]
    _, rho = cell_checks(frame, metric, larger_units=False)
    need = needed(s.col_fraction, len(rho))
    negative = sum(r < 0 for r in rho if not math.isnan(r))
    slope_ok = numbers["b_in"] < 0 and numbers["b_in_ci"][1] < 0
    cols_ok = len(rho) > 0 and negative >= need
    numbers.update(columns_spearman_negative=f"{negative}/{len(rho)} (need {need})")
    verdict = HOLDS if slope_ok and cols_ok else PARTLY if (slope_ok or cols_ok) else FAILS
    rule = (
        f"{fit_rule}. Holds if b_in < 0 with the interval below 0 and Spearman(n_in, cell "
        f"mean) < 0 in at least {need} of the {len(rho)} columns with u >= 2; partly if one "
        "of the two holds."
    )
    return Claim(claim_id, statement, rule, verdict, numbers, note(numbers))


def _gru_inputs_claim(claim_id, numbers, fit_rule, s: ClaimSettings, note):
    """G2: no clear effect of input size on the GRU."""
    statement = INPUTS_STATEMENT["gru"]
    low, high = numbers["b_in_ci"]
    contains_zero = low <= 0 <= high
    small = abs(numbers["b_in"]) < s.g2_ratio * abs(numbers["b_u"])
    numbers.update(b_in_ci_contains_0=contains_zero, abs_b_in_below_ratio_abs_b_u=small)
    rule = f"{fit_rule}. Holds if the interval of b_in contains 0, or |b_in| < {s.g2_ratio} |b_u|."
    verdict = verdict_from(contains_zero or small)
    return Claim(claim_id, statement, rule, verdict, numbers, note(numbers))


def _observation(runs, metric) -> Claim:
    """O1: the LSTM remembers longer than the GRU at equal (n_in, u)."""
    means = runs.groupby(["cell", "n_in", "units"])[metric].mean().unstack("cell").dropna()
    longer = int((means["lstm"] > means["gru"]).sum())
    shorter = int((means["lstm"] < means["gru"]).sum())
    share = longer / len(means) if len(means) else float("nan")
    if not len(means):
        verdict = INCONCLUSIVE
    else:
        verdict = HOLDS if share >= 0.75 else FAILS if share <= 0.25 else PARTLY
    return Claim(
        f"O1/{metric}",
        "Secondary observation (not a claim of the post): the LSTM remembers longer than the "
        "GRU at equal (n_in, u).",
        "share of (n_in, u) cells where the LSTM's mean exceeds the GRU's: holds if >= 75%, "
        "fails if <= 25%, partly in between.",
        verdict,
        {
            "cells": len(means),
            "lstm_longer": longer,
            "lstm_shorter": shorter,
            "ties": len(means) - longer - shorter,
        },
    )


def claims_for_metric(runs, metric, s: ClaimSettings) -> list[Claim]:
    """L1, L2 (LSTM) and G1, G2 (GRU) under one metric, plus the LSTM vs GRU observation."""
    out = []
    censor_at = int(runs["steps"].iloc[0] - runs["prefix"].iloc[0])

    def note(numbers):
        return _censor_note(numbers, censor_at)

    fits = {}
    for cell in CELLS:
        frame = runs[runs["cell"] == cell]
        if frame.empty:
            fits[cell] = None
            continue
        key = (s.experiment, "bootstrap", s.variant, metric, SEED_KEY_CELL[cell])
        rng = np.random.default_rng(seed_sequence(*key))
        point, boot = bootstrap_slopes(frame, metric, s.bootstrap, rng)
        fits[cell] = (frame, point, boot)

    fit_rule = (
        f"least squares log(1+{metric}) = a + b_u log2(u) + b_in log2(n_in) over all runs of "
        f"the type; {s.level:.0%} bootstrap interval ({s.bootstrap} replicates, runs "
        "resampled within cells)"
    )
    for cell, (units_id, inputs_id) in CLAIM_IDS.items():
        if fits.get(cell) is None:
            continue
        frame, point, boot = fits[cell]
        units_id, inputs_id = f"{units_id}/{metric}", f"{inputs_id}/{metric}"
        if point is None:
            numbers = _fit_numbers(frame, point, boot, metric, s.level)
            statement = f"{CELL_LABEL[cell]}: more units -> longer memory."
            note_units = f"{NOT_IDENTIFIABLE}: slopes not identifiable"
            out.append(Claim(units_id, statement, fit_rule, INCONCLUSIVE, numbers, note_units))
            statement = INPUTS_STATEMENT[cell]
            numbers = _fit_numbers(frame, point, boot, metric, s.level)
            out.append(
                Claim(inputs_id, statement, fit_rule, INCONCLUSIVE, numbers, NOT_IDENTIFIABLE)
            )
            continue
        numbers = _fit_numbers(frame, point, boot, metric, s.level)
        out.append(_units_claim(units_id, cell, frame, numbers, fit_rule, metric, s, note))
        numbers = _fit_numbers(frame, point, boot, metric, s.level)
        if cell == "lstm":
            out.append(_lstm_inputs_claim(inputs_id, frame, numbers, fit_rule, metric, s, note))
        else:
            out.append(_gru_inputs_claim(inputs_id, numbers, fit_rule, s, note))

    if fits.get("lstm") is not None and fits.get("gru") is not None:
        out.append(_observation(runs, metric))
    return out


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m rnnmem claims-forgetting", description="claims L1, L2, G1, G2"
    )
    add_settings_argument(p)  # ClaimSettings
    p.add_argument("--runs", required=True, help="runs.csv from aggregate-forgetting")
    p.add_argument("--csv", required=True, help="claims.csv (its provenance sidecar beside it)")
    p.add_argument("--md", required=True, help="claims.md")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    command = "claims-forgetting"
    try:
        settings = from_settings(ClaimSettings, args.settings)
    except ValueError as err:
        return fail(command, str(err))
    runs = read_csv(args.runs)
    for metric in settings.metrics:
        if metric not in runs.columns:
            return fail(
                command, f"forgetting.claims.metrics: {metric!r} is not a metric of {args.runs}"
            )
    claims = [c for metric in settings.metrics for c in claims_for_metric(runs, metric, settings)]
    record = provenance(
        config={k: getattr(settings, k) for k in PROVENANCE_KEYS},
        tier=settings.tier,
        variant=settings.variant,
        jobs=jobs_behind([args.runs]),
    )
    label = VARIANT_LABEL.get(settings.variant, settings.variant)
    write_claims(
        claims,
        args.csv,
        args.md,
        title=f"Forgetting time: claims of the post - {label}",
        tier=settings.tier,
        provenance=record,
    )
    return 0
