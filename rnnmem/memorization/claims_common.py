"""What the claim checks share: the constants of memorization.md §8, §9 and the comparison helpers.

The threshold theta and the plotted epochs are config keys (memorization.theta,
memorization.curve_epochs): every claim takes them as arguments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rnnmem.memorization.tables import Tables, config_losses, experiment_rows

# ---------------------------------------------------------------------------------------
# Constants of the spec (§8, §9). Named so every rule reads like the spec.
# ---------------------------------------------------------------------------------------
FIXED_GUESS_CONFIG_MAX = 0.26  # claim 1: every configuration's L at or below this
FIXED_GUESS_RUN_MAX = 0.27  # claim 1: runs above this are listed as failed training
NOISE_MARGIN = 0.02  # violation margin of the monotonicity rules (claims 5, 6, 11)
RARE_SHARE = 0.05  # "rare" violations: fewer than 5% of the compared pairs
LSTM_P10_MIN = 0.04  # claim 10: no LSTM memorises p = 10 "satisfactorily"
# claim 3: "still decreasing" = a 50-epoch window mean at least this much below the previous one
STILL_DECREASING = 0.002
MC_SLACK = 0.05  # MC <= N + 0.05: Jaeger's bound plus estimation slack (§9.3)
# A delay the network memorised (MAE < theta on Uniform[0, 1] targets) leaves a linear
# readout with corr^2 of about 0.95 (error variance ~ 2 * 0.05^2 against Var(U) = 1/12);
# 0.9 leaves room for the threshold and estimation noise.
MEMORISED_CORR2 = 0.9


def experiment_config(t: Tables, experiment: str, cell: str | None = None) -> pd.DataFrame:
    return config_losses(experiment_rows(t.runs, experiment, cell))


def adjacent_violations(table, along, within, value, worse) -> tuple[int, int, list]:
    """Compare neighbouring tested grid points along one axis.

    worse(previous, next) says whether the step is a violation. Returns (pairs,
    violations, labels of the violations)."""
    pairs, bad = 0, []
    for key, group in table.groupby(within, sort=True):
        values = group.sort_values(along)[[along, value]].to_numpy(float)
        for (a_prev, v_prev), (a_next, v_next) in zip(values[:-1], values[1:], strict=True):
            if np.isnan(v_prev) or np.isnan(v_next):
                continue
            pairs += 1
            if worse(v_prev, v_next):
                where = ", ".join(
                    f"{w}={int(k)}" for w, k in zip(within, np.atleast_1d(key), strict=False)
                )
                bad.append(
                    f"{where}: {along} {int(a_prev)}->{int(a_next)}: {v_prev:.3f}->{v_next:.3f}"
                )
    return pairs, len(bad), bad


def median_hit(hits: pd.DataFrame, position) -> float:
    """Median first-hit epoch of one position; never-reached counts as +inf (censored)."""
    values = hits.loc[hits["position"] == position, "first_hit"].fillna(np.inf)
    return float(np.median(values)) if len(values) else np.nan


def hit_spread(hits: pd.DataFrame, position) -> float:
    """Inter-quartile range of first-hit epochs; never-reached counts as the run length + 1."""
    rows = hits[hits["position"] == position]
    values = rows["first_hit"].fillna(rows["epochs"] + 1)
    return float(np.subtract(*np.percentile(values, [75, 25]))) if len(values) else np.nan


def gap_note(distance: pd.DataFrame) -> str:
    """Say so when D was read on a grid whose positions skip values (e.g. p in {1, 5, 9})."""
    gaps = distance[~distance["contiguous"].astype(bool)]
    if gaps.empty:
        return ""
    return (
        f"For {len(gaps)} shape(s) the tested positions are not 1..p_max: D is read on the "
        "tested positions only. "
    )


def untested_note(parts: dict, what: str) -> str:
    missing = [k for k, v in parts.items() if v is None]
    return (
        f"Not testable in this tier (grid {what} not run): {', '.join(missing)}. "
        if missing
        else ""
    )
