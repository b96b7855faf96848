"""Aggregated tables of the memory-distance study and the quantities derived from them.

Loads the aggregated tables (runs.csv, curves.csv, capacity.csv, capacity_curves.csv,
esn.csv, esn_task.csv, each given by its path; a missing file becomes an empty table) and
computes what the figures (`figures`, `heatmaps`) and the claim checks (`claims*`) share.

Vocabulary (memorization.md §8): L = mean over seeds of a configuration's final loss; a
configuration is *memorised* if L < theta; D(type, task, l, c) = the largest p such that every
tested p' <= p is memorised (0 if p = 1 fails).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from rnnmem.core.provenance import jobs_behind
from rnnmem.memorization.aggregate import MOVING_AVERAGE

# ---------------------------------------------------------------------------------------
# Constants of the study shared by the figures and the claims, and the tables' columns
# ---------------------------------------------------------------------------------------
# The memorised threshold theta and the plotted epochs of Figs. 4/5 are config keys
# (memorization.theta, memorization.curve_epochs): every caller passes them.
NEAR_GUESS = 0.2  # "near 0.25 (say > 0.2)" of claim 2 and the upper edge of claim 8's band

HEATMAP_EXPERIMENTS = ("fig6", "fig8", "fig9")
RUN_KEYS = ["experiment", "cell", "task", "layers", "units", "position", "seed"]
CONFIG_KEYS = RUN_KEYS[:-1]
SHAPE_KEYS = CONFIG_KEYS[:-1]  # one network shape: experiment, cell, task, l, c

COLUMNS = {
    "runs": RUN_KEYS
    + ["final_loss", "best_loss", "diverged", "first_hit_epoch", "epochs", "n_params"],
    "curves": RUN_KEYS + ["epoch", "train_loss"],
    "capacity": RUN_KEYS + ["weights", "state", "n_state", "mc", "mc_eq3", "bias_estimate"],
    "capacity_curves": RUN_KEYS + ["weights", "measure", "delay", "value"],
    "esn": ["units", "reservoir", "mc", "mc_eq3", "bias_estimate"],
    "esn_task": ["units", "reservoir", "delay", "mc_task", "mae"],
}
INT_COLUMNS = ("layers", "units", "position", "seed", "epoch", "delay", "reservoir", "n_state")


# ---------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------
@dataclass
class Tables:
    runs: pd.DataFrame
    curves: pd.DataFrame
    capacity: pd.DataFrame
    capacity_curves: pd.DataFrame
    esn: pd.DataFrame
    esn_task: pd.DataFrame
    missing: list = field(default_factory=list)  # input files that were absent or empty


def _normalise(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Expected columns present (NaN if absent) and identifier columns as plain ints."""
    for column in COLUMNS[name]:
        if column not in frame.columns:
            frame[column] = np.nan
    for column in INT_COLUMNS:
        if column in frame.columns and frame[column].notna().all():
            frame[column] = frame[column].astype(int)
    if "diverged" in frame.columns:
        # CSV round trips give bools, "True"/"False" strings or NaN; NaN means "did not".
        frame["diverged"] = frame["diverged"].map(
            lambda v: str(v).strip().lower() in ("true", "1", "1.0")
        )
    return frame


def table_paths(folder) -> dict[str, Path]:
    """Every table's path in one folder, by table name (results/memorization/ in the pipeline)."""
    return {name: Path(folder) / f"{name}.csv" for name in COLUMNS}


def load_tables(paths: dict) -> Tables:
    """Read every aggregated table from `paths` (table name -> CSV file); a missing or empty
    file becomes an empty table, and its file name is listed in Tables.missing."""
    frames, missing = {}, []
    for name, columns in COLUMNS.items():
        path = Path(paths[name])
        try:
            frame = pd.read_csv(path)
        except (FileNotFoundError, pd.errors.EmptyDataError):
            frame = pd.DataFrame(columns=columns)
        if frame.empty:
            missing.append(path.name)
        frames[name] = _normalise(frame, name)
    return Tables(**frames, missing=missing)


def add_table_arguments(parser: argparse.ArgumentParser) -> None:
    """One input option per aggregated table: --runs, --curves, ..., --esn-task."""
    for name in COLUMNS:
        option = "--" + name.replace("_", "-")
        parser.add_argument(option, type=Path, required=True, help=f"{name} table (CSV)")


def tables_from(args: argparse.Namespace) -> Tables:
    return load_tables({name: getattr(args, name) for name in COLUMNS})


def jobs_behind_tables(args: argparse.Namespace) -> list[dict]:
    """The full settings of the jobs behind the tables `args` names, from each table's
    record (a missing table has none; a table without its record is an error naming it)."""
    paths = [Path(getattr(args, name)) for name in COLUMNS]
    return jobs_behind([path for path in paths if path.exists()])


def experiment_rows(frame: pd.DataFrame, experiment: str, cell: str | None = None) -> pd.DataFrame:
    rows = frame[frame["experiment"] == experiment]
    if cell is not None:
        rows = rows[rows["cell"] == cell]
    return rows


# ---------------------------------------------------------------------------------------
# Derived quantities shared by figures and claims
# ---------------------------------------------------------------------------------------
def config_losses(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per configuration: L (mean final loss over seeds), sd (ddof = 1), counts.

    Diverged runs have no final loss; L and sd are over the runs that finished, and the
    diverged count is kept so that claim 1 can list them.
    """
    columns = CONFIG_KEYS + ["L", "sd", "n_runs", "n_diverged"]
    if runs.empty:
        return pd.DataFrame(columns=columns)
    grouped = runs.groupby(CONFIG_KEYS, sort=True)
    table = grouped["final_loss"].agg(L="mean", sd="std", n_runs="size")  # pandas std: ddof = 1
    table["n_diverged"] = grouped["diverged"].sum().astype(int)
    return table.reset_index()[columns]


def memory_distance(cfg: pd.DataFrame, theta: float) -> pd.DataFrame:
    """D per network shape, from the tested positions in increasing order.

    censored: every tested position is memorised, so the true D may be larger than the
    largest tested p. contiguous: the tested positions are exactly 1..p_max (otherwise D
    skips untested positions and is only as fine as the grid).
    """
    columns = SHAPE_KEYS + ["D", "p_max", "censored", "contiguous"]
    rows = []
    for shape, group in cfg.groupby(SHAPE_KEYS, sort=True):
        group = group.sort_values("position")
        positions = group["position"].to_numpy()
        memorised = (group["L"] < theta).to_numpy()  # NaN (all runs diverged) is not memorised
        n_leading = len(memorised) if memorised.all() else int(np.argmin(memorised))
        distance = int(positions[n_leading - 1]) if n_leading else 0
        rows.append(
            dict(
                zip(SHAPE_KEYS, shape, strict=True),
                D=distance,
                p_max=int(positions.max()),
                censored=bool(memorised.all()),
                contiguous=bool(list(positions) == list(range(1, len(positions) + 1))),
            )
        )
    return pd.DataFrame(rows, columns=columns)


def first_hit_epochs(curves: pd.DataFrame, theta: float) -> pd.DataFrame:
    """First (1-based) epoch whose trailing 10-epoch mean training loss is below theta.

    The average exists from a run's 10th epoch on (a run shorter than 10 epochs is averaged
    over its whole length, as runs.csv's first_hit_epoch does). first_hit is NaN when theta
    is never reached; `epochs` is the run's length, so such a run is censored there.
    """
    columns = RUN_KEYS + ["first_hit", "epochs"]
    if curves.empty:
        return pd.DataFrame(columns=columns)
    ordered = curves.sort_values(RUN_KEYS + ["epoch"])
    by_run = ordered.groupby(RUN_KEYS, sort=False)
    average = (
        by_run["train_loss"]
        .rolling(MOVING_AVERAGE, min_periods=1)
        .mean()
        .droplevel(list(range(len(RUN_KEYS))))
        .reindex(ordered.index)
    )
    # Only full windows count (or the whole run when it is shorter than one window).
    full = by_run.cumcount() >= np.minimum(MOVING_AVERAGE, by_run["epoch"].transform("size")) - 1
    runs = by_run["epoch"].max().rename("epochs").to_frame().sort_index()
    hits = ordered[full & (average < theta)].groupby(RUN_KEYS, sort=True)["epoch"].min()
    runs["first_hit"] = hits.astype(float)
    return runs.reset_index()[columns]


def hits_for(t: Tables, experiment: str, theta: float) -> tuple[pd.DataFrame, str]:
    """First-hit epochs of an experiment: from its curves, else from runs.csv (with a note)."""
    curves = experiment_rows(t.curves, experiment)
    if not curves.empty:
        return first_hit_epochs(curves, theta), ""
    runs = experiment_rows(t.runs, experiment)
    hits = runs[RUN_KEYS].assign(first_hit=runs["first_hit_epoch"], epochs=runs["epochs"])
    note = f"{experiment}: no curves; first-hit epochs taken from runs.csv (aggregation theta)."
    return hits, note


def bound(layers, units):
    """The paper's layer bound c*l - (l - 1) on the memory distance."""
    return units * layers - (layers - 1)


def band_shares(losses: pd.Series, theta: float) -> dict:
    """Shares of values below theta, in [theta, 0.2] and above 0.2 (claim 8)."""
    losses = losses.dropna()
    n = len(losses)
    if n == 0:
        return {"n": 0, "low": np.nan, "middle": np.nan, "high": np.nan}
    return {
        "n": n,
        "low": float((losses < theta).mean()),
        "middle": float(((losses >= theta) & (losses <= NEAR_GUESS)).mean()),
        "high": float((losses > NEAR_GUESS).mean()),
    }


HIST_WIDTH = 0.01
HIST_TOP = 0.3


def histogram_counts(losses: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Counts in 0.01-wide bins over [0, 0.3]; losses above 0.3 go into the last bin."""
    edges = np.round(np.arange(0.0, HIST_TOP + HIST_WIDTH / 2, HIST_WIDTH), 10)
    values = np.clip(losses.dropna().to_numpy(float), 0.0, HIST_TOP - HIST_WIDTH / 2)
    counts, _ = np.histogram(values, bins=edges)
    return counts, edges


def two_modes(losses: pd.Series, theta: float) -> dict:
    """Does the run-level histogram have two separated modes (claim 8, reported)?

    Modes: the highest bin below theta and the highest bin above 0.2. Separated: the
    emptiest bin of the middle band [theta, 0.2] holds less than half the smaller peak.
    """
    counts, edges = histogram_counts(losses)
    left, right = edges[:-1], edges[1:]
    low = counts[left < theta - 1e-12]
    high = counts[left >= NEAR_GUESS - 1e-12]
    middle = counts[(left >= theta - 1e-12) & (right <= NEAR_GUESS + 1e-12)]
    peak_low = int(low.max()) if low.size else 0
    peak_high = int(high.max()) if high.size else 0
    valley = int(middle.min()) if middle.size else 0
    separated = peak_low > 0 and peak_high > 0 and valley < 0.5 * min(peak_low, peak_high)
    return {"peak_low": peak_low, "peak_high": peak_high, "valley": valley, "separated": separated}


def capacity_by_shape(capacity: pd.DataFrame, state: str = "all") -> pd.DataFrame:
    """MC per network shape and weights (trained / initial): mean, min, max over networks."""
    columns = SHAPE_KEYS + ["weights", "mc_mean", "mc_min", "mc_max", "n_networks"]
    rows = capacity[capacity["state"] == state]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    table = rows.groupby(SHAPE_KEYS + ["weights"], sort=True)["mc"].agg(
        mc_mean="mean", mc_min="min", mc_max="max", n_networks="size"
    )
    return table.reset_index()[columns]


def distance_table(t: Tables, theta: float) -> pd.DataFrame:
    """Per heat-map network shape: D, the layer bound, N = c*l and the MC of its networks."""
    cfg = config_losses(t.runs[t.runs["experiment"].isin(HEATMAP_EXPERIMENTS)])
    table = memory_distance(cfg, theta)
    table["N"] = table["units"] * table["layers"]
    table["bound"] = bound(table["layers"], table["units"])
    mc = capacity_by_shape(t.capacity)
    for weights in ("trained", "initial"):
        part = mc[mc["weights"] == weights].drop(columns="weights")
        part = part.rename(
            columns={c: f"{c}_{weights}" for c in part.columns if c.startswith(("mc_", "n_"))}
        )
        if table.empty or part.empty:
            # Nothing to match (no runs or no capacity measured): keep the columns, all NaN.
            table = table.assign(**{c: np.nan for c in part.columns if c not in SHAPE_KEYS})
        else:
            table = table.merge(part, on=SHAPE_KEYS, how="left")
    return table
