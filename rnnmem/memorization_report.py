"""Figures and claim checks of the memory-distance study (spec memory-distance.md, §7-9).

Reads the aggregated tables of results/memorization/ (runs.csv, curves.csv, capacity.csv,
capacity_curves.csv, esn.csv, esn_task.csv) and writes

* `figures_main`: the paper's Figs. 4-9 plus a run-level loss histogram and a memory
  capacity figure (PNG + PDF, tier stamped, byte-reproducible);
* `claims_main`: the spec's §8 claims 1-11 and the §9.3-9.4 capacity checks as
  claims.csv / claims.md.

Any experiment may be absent from a tier (a user can switch a figure off): its figure then
carries a note instead of panels, and its claims are "inconclusive", never a crash.

Vocabulary (spec §8): L = mean over seeds of a configuration's final loss; a configuration
is *memorised* if L < theta; D(type, task, l, c) = the largest p such that every tested
p' <= p is memorised (0 if p = 1 fails).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import Normalize, TwoSlopeNorm  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from rnnmem.claims import (  # noqa: E402
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    PARTLY,
    Claim,
    verdict_from,
    write_claims,
)
from rnnmem.io import write_csv  # noqa: E402
from rnnmem.plotting import save_figure  # noqa: E402
from rnnmem.provenance import provenance  # noqa: E402

# ---------------------------------------------------------------------------------------
# Constants of the spec (§2, §8, §9). Named so every rule below reads like the spec.
# ---------------------------------------------------------------------------------------
THETA = 0.05  # "memorised" threshold (DECISION, §8)
THETA_SENSITIVITY = (0.03, 0.10)
FIXED_GUESS = 0.25  # E|U - 0.5| for U ~ Uniform[0, 1]: the loss of the best constant guess
FIXED_GUESS_CONFIG_MAX = 0.26  # claim 1: every configuration's L at or below this
FIXED_GUESS_RUN_MAX = 0.27  # claim 1: runs above this are listed as failed training
NOISE_MARGIN = 0.02  # violation margin of the monotonicity rules (claims 5, 6, 11)
RARE_SHARE = 0.05  # "rare" violations: fewer than 5% of the compared pairs
NEAR_GUESS = 0.2  # "near 0.25 (say > 0.2)" of claim 2 and the upper edge of claim 8's band
LSTM_P10_MIN = 0.04  # claim 10: no LSTM memorises p = 10 "satisfactorily"
MOVING_AVERAGE = 10  # first-hit epochs use a 10-epoch moving average (claim 2)
CURVE_EPOCHS = 500  # plotted window of Figs. 4/5 and the "epoch 500" of claim 3
# claim 3: "still decreasing" = a 50-epoch window mean at least this much below the previous one
STILL_DECREASING = 0.002
MC_SLACK = 0.05  # MC <= N + 0.05: Jaeger's bound plus estimation slack (§9.3)
# A delay the network memorised (MAE < theta on Uniform[0, 1] targets) leaves a linear
# readout with corr^2 of about 0.95 (error variance ~ 2 * 0.05^2 against Var(U) = 1/12);
# 0.9 leaves room for the threshold and estimation noise.
MEMORISED_CORR2 = 0.9

HEATMAP_EXPERIMENTS = ("fig6", "fig8", "fig9")
CELL_LABEL = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}
TASK_LABEL = {"variable": "Def. 1", "fixed": "Def. 2"}
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

FIGURE_NAMES = (
    "fig4_rnn_learning_curves.png",
    "fig4_rnn_learning_curves_full.png",
    "fig5_lstm_learning_curves.png",
    "fig5_lstm_learning_curves_full.png",
    "fig6_rnn_mean_loss.png",
    "fig7_rnn_sd_loss.png",
    "fig8_lstm_gru_mean_loss.png",
    "fig9_rnn_fixed_length.png",
    "loss_histogram.png",
    "memory_capacity.png",
)


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


def load_tables(results) -> Tables:
    """Read every aggregated table of `results`; a missing file becomes an empty table."""
    results = Path(results)
    frames, missing = {}, []
    for name, columns in COLUMNS.items():
        path = results / f"{name}.csv"
        try:
            frame = pd.read_csv(path)
        except (FileNotFoundError, pd.errors.EmptyDataError):
            frame = pd.DataFrame(columns=columns)
        if frame.empty:
            missing.append(path.name)
        frames[name] = _normalise(frame, name)
    return Tables(**frames, missing=missing)


def _experiment(frame: pd.DataFrame, experiment: str, cell: str | None = None) -> pd.DataFrame:
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
                zip(SHAPE_KEYS, shape),
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
    curves = _experiment(t.curves, experiment)
    if not curves.empty:
        return first_hit_epochs(curves, theta), ""
    runs = _experiment(t.runs, experiment)
    hits = runs[RUN_KEYS].assign(first_hit=runs["first_hit_epoch"], epochs=runs["epochs"])
    note = f"{experiment}: no curves; first-hit epochs taken from runs.csv (aggregation theta)."
    return hits, note


def gap_note(distance: pd.DataFrame) -> str:
    """Say so when D was read on a grid whose positions skip values (e.g. p in {1, 5, 9})."""
    gaps = distance[~distance["contiguous"].astype(bool)]
    if gaps.empty:
        return ""
    return (
        f"For {len(gaps)} shape(s) the tested positions are not 1..p_max: D is read on the "
        "tested positions only. "
    )


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


# ---------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------
def _seed_count(runs: pd.DataFrame) -> str:
    """'5 seeds', or '3-5 seeds' when configurations differ."""
    if runs.empty:
        return "0 seeds"
    counts = runs.groupby(CONFIG_KEYS)["seed"].nunique()
    low, high = int(counts.min()), int(counts.max())
    return f"{low} seeds" if low == high else f"{low}-{high} seeds"


STAMP_STRIP = 0.2  # inches kept free at the bottom for save_figure's tier stamp


def new_figure(width: float, height: float, rows: int = 1, cols: int = 1):
    """Constrained-layout subplots (always a 2-D axes array) that leave the tier stamp room."""
    fig, axes = plt.subplots(
        rows, cols, figsize=(width, height), layout="constrained", squeeze=False
    )
    strip = STAMP_STRIP / height
    fig.get_layout_engine().set(rect=(0.0, strip, 1.0, 1.0 - strip))
    return fig, axes


def _diverged_note(runs: pd.DataFrame) -> str:
    """Heat-map means skip diverged runs; say so when there are any."""
    n = int(runs["diverged"].sum()) if not runs.empty else 0
    return f"\n{n} diverged runs left out of the means" if n else ""


def note_figure(path, title: str, message: str, tier: str) -> None:
    """A figure that says why it has no data (experiment not run in this tier)."""
    fig = plt.figure(figsize=(7, 2.4))
    fig.suptitle(title)
    fig.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    save_figure(fig, path, tier)


def _text_colour(cmap, norm, value) -> str:
    """White text on dark cells, black on light ones (viridis runs dark to light)."""
    r, g, b, _ = cmap(norm(value))
    return "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "black"


def draw_heatmap(ax, frame, value, units, positions, cmap, norm):
    """One panel: x = position p, y = cells c (1 at the bottom), every cell annotated."""
    grid = frame.pivot_table(index="units", columns="position", values=value, aggfunc="first")
    grid = grid.reindex(index=units, columns=positions).to_numpy(float)
    image = ax.imshow(
        np.ma.masked_invalid(grid),
        origin="lower",
        cmap=cmap,
        norm=norm,
        aspect="auto",
        interpolation="nearest",
    )
    fontsize = 5.5 if len(positions) > 8 else 7
    for i in range(len(units)):
        for j in range(len(positions)):
            if np.isfinite(grid[i, j]):
                # in_layout=False: the labels sit inside the axes, so the layout engine
                # need not measure hundreds of them.
                ax.text(
                    j,
                    i,
                    f"{grid[i, j]:.3f}",
                    ha="center",
                    va="center",
                    fontsize=fontsize,
                    color=_text_colour(cmap, norm, grid[i, j]),
                    in_layout=False,
                )
    ax.set_xticks(range(len(positions)), [str(p) for p in positions])
    ax.set_yticks(range(len(units)), [str(c) for c in units])
    ax.set_xlabel("Position p")
    ax.set_ylabel("Cells c")
    return image


@dataclass
class HeatRow:
    """One row of heat-map panels sharing a colour scale and one horizontal colour bar."""

    panels: list  # (title, frame, xlabel or None)
    value: str
    cmap: object
    norm: object
    label: str
    extend: str = "neither"


def heatmap_figure(path, title: str, rows: list[HeatRow], tier: str) -> None:
    """Panels side by side per row, grid axes shared by all panels of the figure."""
    frames = [frame for row in rows for _, frame, _ in row.panels]
    units = sorted(set().union(*(f["units"].unique() for f in frames)))
    positions = sorted(set().union(*(f["position"].unique() for f in frames)))
    n_cols = max(len(row.panels) for row in rows)
    # Cells sized so a 3-decimal label fits; small grids get a minimum panel size.
    panel_w = max(3.0, 0.38 * len(positions) + 0.6)
    panel_h = max(2.0, 0.26 * len(units) + 0.9)
    width = max(7.5, n_cols * panel_w + 0.6)
    fig, axes = new_figure(width, len(rows) * (panel_h + 0.7) + 0.8, len(rows), n_cols)
    for r, row in enumerate(rows):
        image = None
        for k, (panel_title, frame, xlabel) in enumerate(row.panels):
            ax = axes[r, k]
            image = draw_heatmap(ax, frame, row.value, units, positions, row.cmap, row.norm)
            ax.set_title(panel_title)
            if xlabel:
                ax.set_xlabel(xlabel)
        for ax in axes[r, len(row.panels) :]:
            ax.set_visible(False)
        fig.colorbar(
            image,
            ax=list(axes[r, : len(row.panels)]),
            location="bottom",
            shrink=0.6,
            aspect=50,
            extend=row.extend,
            label=row.label,
        )
    fig.suptitle(title)
    save_figure(fig, path, tier)


def _viridis(bad="0.85"):
    return matplotlib.colormaps["viridis"].with_extremes(bad=bad)


def mean_loss_row(cfg, cells, prefix_cell: bool) -> HeatRow:
    """Mean final loss panels, one per (cell type, layer count), colour range [0, 0.25]."""
    panels = []
    for cell in cells:
        rows = cfg[cfg["cell"] == cell]
        for layers in sorted(rows["layers"].unique()):
            label = f"Layers: {layers}"
            if prefix_cell:
                label = f"{CELL_LABEL[cell]} - {label}"
            panels.append((label, rows[rows["layers"] == layers], None))
    return HeatRow(
        panels,
        "L",
        _viridis(),
        Normalize(0.0, FIXED_GUESS),
        "mean absolute loss (final, evaluation set)",
        extend="max",
    )


def figure_learning_curves(t, experiment, cell, path, tier, theta, max_epoch=None):
    """Figs. 4/5: epoch training loss, one colour per p, one thin line per seed."""
    curves = _experiment(t.curves, experiment, cell)
    name = CELL_LABEL[cell]
    if curves.empty:
        note_figure(
            path,
            f"{name} learning curves",
            f"{experiment} was not run in this tier: no learning curves.",
            tier,
        )
        return
    last = int(curves["epoch"].max())
    shown = curves if max_epoch is None else curves[curves["epoch"] <= max_epoch]
    positions = sorted(shown["position"].unique())
    colours = plt.get_cmap("tab10" if len(positions) <= 10 else "viridis")
    fig, axes = new_figure(7.5, 4.4)
    ax = axes[0, 0]
    for k, p in enumerate(positions):
        colour = colours(k if len(positions) <= 10 else k / max(1, len(positions) - 1))
        for s, (_, run) in enumerate(shown[shown["position"] == p].groupby("seed", sort=True)):
            ax.plot(
                run["epoch"],
                run["train_loss"],
                color=colour,
                lw=0.6,
                alpha=0.75,
                label=f"p = {p}" if s == 0 else None,
            )
    ax.axhline(FIXED_GUESS, color="0.35", ls="--", lw=0.8, label="fixed guess 0.25")
    ax.axhline(theta, color="0.35", ls=":", lw=0.8, label=f"theta = {theta:g}")
    ax.set_ylim(0.0, 0.3)
    ax.set_xlim(1, min(last, max_epoch) if max_epoch else last)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    ax.set_xlabel("epoch")
    ax.set_ylabel("absolute loss")
    shape = ", ".join(
        f"{k} = {'/'.join(str(v) for v in sorted(shown[col].unique()))}"
        for k, col in (("l", "layers"), ("c", "units"))
    )
    tasks = "/".join(TASK_LABEL.get(v, v) for v in sorted(shown["task"].unique()))
    window = f"first {max_epoch} epochs" if max_epoch and max_epoch < last else f"all {last} epochs"
    ax.set_title(
        f"{name} learning curves ({shape}, {tasks}; {window}; "
        f"{shown['seed'].nunique()} seeds per p)"
    )
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7, frameon=False)
    save_figure(fig, path, tier)


def figure_fig6_mean(cfg, runs, path, tier) -> None:
    rows = _experiment(cfg, "fig6", "rnn")
    if rows.empty:
        note_figure(path, "RNN - Mean Absolute Loss", "fig6 was not run in this tier.", tier)
        return
    row = mean_loss_row(rows, ["rnn"], prefix_cell=False)
    fig6_runs = _experiment(runs, "fig6", "rnn")
    title = f"RNN - Mean Absolute Loss ({TASK_LABEL['variable']}, {_seed_count(fig6_runs)})"
    heatmap_figure(path, title + _diverged_note(fig6_runs), [row], tier)


def figure_fig7_sd(cfg, runs, path, tier) -> None:
    rows = _experiment(cfg, "fig6", "rnn")
    if rows.empty:
        note_figure(
            path, "RNN - Standard Deviation of the Loss", "fig6 was not run in this tier.", tier
        )
        return
    top = rows["sd"].max()
    title = f"RNN - SD of the Absolute Loss (ddof = 1, {_seed_count(_experiment(runs, 'fig6'))})"
    if not np.isfinite(top) or top <= 0:
        # One seed per configuration: the sample sd is undefined; keep the layout, say why.
        title += "\nsd undefined or zero everywhere (one seed per configuration?)"
        top = 1e-3
    panels = [
        (f"Layers: {l}", rows[rows["layers"] == l], None) for l in sorted(rows["layers"].unique())
    ]
    row = HeatRow(
        panels, "sd", _viridis(), Normalize(0.0, float(top)), "sd of final loss over seeds"
    )
    heatmap_figure(path, title, [row], tier)


def figure_fig8(cfg, runs, path, tier) -> None:
    rows = _experiment(cfg, "fig8")
    cells = [c for c in ("lstm", "gru") if c in set(rows["cell"])]
    if not cells:
        note_figure(
            path, "LSTM and GRU - Mean Absolute Loss", "fig8 was not run in this tier.", tier
        )
        return
    fig8_runs = _experiment(runs, "fig8")
    title = (
        " and ".join(CELL_LABEL[c] for c in cells)
        + f" - Mean Absolute Loss ({_seed_count(fig8_runs)})"
    )
    title += _diverged_note(fig8_runs)
    missing = [CELL_LABEL[c] for c in ("lstm", "gru") if c not in cells]
    if missing:
        title += f"\n{', '.join(missing)} not run in this tier"
    heatmap_figure(path, title, [mean_loss_row(rows, cells, prefix_cell=True)], tier)


def figure_fig9(cfg, runs, path, tier) -> None:
    """Fig. 9 (Def. 2) plus the PROPOSAL difference row "Def. 2 minus Def. 1"."""
    fixed = _experiment(cfg, "fig9", "rnn")
    if fixed.empty:
        note_figure(
            path,
            "RNN, fixed length (Def. 2) - Mean Absolute Loss",
            "fig9 was not run in this tier.",
            tier,
        )
        return
    fig9_runs = _experiment(runs, "fig9", "rnn")
    title = (
        f"RNN, fixed length (Def. 2) - Mean Absolute Loss ({_seed_count(fig9_runs)})"
        + _diverged_note(fig9_runs)
    )
    rows = [mean_loss_row(fixed, ["rnn"], prefix_cell=False)]
    variable = _experiment(cfg, "fig6", "rnn")
    keys = ["layers", "units", "position"]
    both = fixed.merge(variable, on=keys, suffixes=("_2", "_1"))
    if both.empty:
        title += "\nDef. 2 minus Def. 1 panel skipped: no matching Fig. 6 (Def. 1) configurations in this tier"
    else:
        both["diff"] = both["L_2"] - both["L_1"]
        # Symmetric range, rounded up to 0.05, so zero is the neutral colour.
        span = max(0.05, float(np.ceil(np.nanmax(np.abs(both["diff"])) / 0.05) * 0.05))
        seeds = (
            f"Def. 2 (Fig. 9): {_seed_count(_experiment(runs, 'fig9'))}\n"
            f"Def. 1 (Fig. 6): {_seed_count(_experiment(runs, 'fig6'))}"
        )
        panels = [
            (
                f"Def. 2 minus Def. 1\nPROPOSAL - Layers: {l}",
                both[both["layers"] == l],
                f"Position p\n{seeds}",
            )
            for l in sorted(both["layers"].unique())
        ]
        cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad="0.85")
        rows.append(
            HeatRow(
                panels,
                "diff",
                cmap,
                TwoSlopeNorm(0.0, -span, span),
                "L(Def. 2) - L(Def. 1), matching Fig. 6 cells",
            )
        )
    heatmap_figure(path, title, rows, tier)


def figure_histogram(t, path, tier, theta) -> None:
    """Run-level final losses of the Fig. 6 grid (claim 8: bimodality)."""
    runs = _experiment(t.runs, "fig6", "rnn")
    title = "RNN (Fig. 6 grid) - final loss of every run"
    if runs.empty:
        note_figure(path, title, "fig6 was not run in this tier: no histogram.", tier)
        return
    losses = runs["final_loss"]
    counts, edges = histogram_counts(losses)
    fig, axes = new_figure(7.5, 4.0)
    ax = axes[0, 0]
    ax.bar(
        edges[:-1],
        counts,
        width=HIST_WIDTH,
        align="edge",
        color="#3b528b",
        edgecolor="white",
        lw=0.4,
    )
    ax.axvspan(
        theta, NEAR_GUESS, color="0.85", zorder=0, label=f"middle band [{theta:g}, {NEAR_GUESS:g}]"
    )
    ax.axvline(FIXED_GUESS, color="0.35", ls="--", lw=0.8, label="fixed guess 0.25")
    shares = band_shares(config_losses(runs)["L"], theta)
    modes = two_modes(losses, theta)
    above = int((losses > HIST_TOP).sum())
    ax.set_xlim(0, HIST_TOP)
    ax.set_xlabel(
        f"final absolute loss (bins of {HIST_WIDTH:g}; losses above {HIST_TOP:g} in the last bin)"
    )
    ax.set_ylabel("runs")
    ax.set_title(
        f"{title}\n{len(losses.dropna())} runs, {int(runs['diverged'].sum())} diverged (not shown), "
        f"{above} above {HIST_TOP:g}"
    )
    ax.text(
        0.5,
        0.97,
        f"configurations (mean over seeds): {shares['low']:.0%} below theta = {theta:g}, "
        f"{shares['middle']:.0%} in the band, {shares['high']:.0%} above {NEAR_GUESS:g}\n"
        f"run histogram: two separated modes: {'yes' if modes['separated'] else 'no'}",
        transform=ax.transAxes,
        ha="center",
        va="top",
        fontsize=7.5,
    )
    ax.legend(loc="upper right", bbox_to_anchor=(1.0, 0.86), fontsize=7, frameon=False)
    save_figure(fig, path, tier)


def _panel_order(key) -> tuple:
    """Capacity panels in the paper's order: Fig. 6 RNN, Fig. 8 LSTM then GRU, Fig. 9."""
    experiment, cell, task = key
    return (experiment, list(CELL_LABEL).index(cell) if cell in CELL_LABEL else 99, task)


def _capacity_legend(layers: list, theta: float) -> list:
    """Marker shape = quantity, colour = layer count (one legend for all panels)."""
    from matplotlib.lines import Line2D

    grey = "0.3"
    handles = [
        Line2D([], [], color="0.6", ls=":", label="MC = N (Jaeger bound)"),
        Line2D([], [], color="black", marker=".", label="ESN MC (mean, band: min-max)"),
        Line2D([], [], color=grey, marker="o", ls="", label="MC trained (mean, bar: min-max)"),
        Line2D([], [], color=grey, marker="o", mfc="none", ls="", label="MC initial (mean)"),
        Line2D([], [], color=grey, marker="x", ls="", label=f"D (theta = {theta:g})"),
        Line2D([], [], color=grey, marker="_", ms=10, mew=1.5, ls="", label="bound c*l - (l-1)"),
    ]
    colours = plt.get_cmap("tab10")
    handles += [
        Line2D([], [], color=colours(k), lw=4, label=f"l = {l}") for k, l in enumerate(layers)
    ]
    return handles


def figure_memory_capacity(t, path, tier, theta) -> None:
    """MC of trained / initial networks, D and the layer bound against N = c*l; ESN MC."""
    table = distance_table(t, theta)
    table = table[table["mc_mean_trained"].notna() | table["mc_mean_initial"].notna()]
    esn = (
        t.esn.groupby("units", sort=True)["mc"].agg(["mean", "min", "max"])
        if not t.esn.empty
        else None
    )
    title = "Jaeger memory capacity (PROPOSAL, state = all layers) vs memorisation distance D"
    if table.empty and esn is None:
        note_figure(path, title, "No memory-capacity measurements in this tier.", tier)
        return
    keys = {tuple(s) for s in table[SHAPE_KEYS[:3]].itertuples(index=False)}
    panels = sorted(keys, key=_panel_order) or [None]
    layers_all = sorted(table["layers"].unique())
    fig, axes = new_figure(4.2 * len(panels) + 1.8, 4.6, 1, len(panels))
    layer_colours = plt.get_cmap("tab10")
    top = max([1.0] + list(table["N"]) + ([float(esn.index.max())] if esn is not None else []))
    for ax, panel in zip(axes[0], panels):
        ax.plot([0, top], [0, top], color="0.6", lw=0.8, ls=":")
        if esn is not None:
            ax.plot(esn.index, esn["mean"], color="black", lw=1.0, marker=".")
            ax.fill_between(esn.index, esn["min"], esn["max"], color="0.8", alpha=0.6, lw=0)
        if panel is None:
            ax.set_title("ESN only (no trained networks measured)")
        else:
            experiment, cell, task = panel
            rows = table[
                (table["experiment"] == experiment)
                & (table["cell"] == cell)
                & (table["task"] == task)
            ]
            for layers in sorted(rows["layers"].unique()):
                k = layers_all.index(layers)
                part = rows[rows["layers"] == layers]
                x = part["N"] + 0.15 * (k - 1)  # small offset: shapes with equal N stay visible
                colour = layer_colours(k)
                spread = [
                    (part["mc_mean_trained"] - part["mc_min_trained"]).clip(lower=0),
                    (part["mc_max_trained"] - part["mc_mean_trained"]).clip(lower=0),
                ]  # rounding
                ax.errorbar(
                    x, part["mc_mean_trained"], yerr=spread, fmt="o", color=colour, ms=4, lw=0.7
                )
                ax.plot(x, part["mc_mean_initial"], "o", mfc="none", color=colour, ms=5)
                ax.plot(x, part["D"], "x", color=colour, ms=6)
                ax.plot(x, part["bound"], "_", color=colour, ms=10, mew=1.5)
            ax.set_title(
                f"{CELL_LABEL.get(cell, cell)}, {TASK_LABEL.get(task, task)} ({experiment})"
            )
        ax.set_xlabel("N = c * l (units)")
        ax.set_ylabel("memory (delays)")
        ax.set_xlim(0, top + 1)
        ax.set_ylim(0, top + 1)
    axes[0, -1].legend(
        handles=_capacity_legend(layers_all, theta),
        loc="center left",
        bbox_to_anchor=(1.02, 0.5),
        fontsize=7,
        frameon=False,
    )
    fig.suptitle(
        title + "\nD is censored at the largest tested p; MC = sum over delays of the squared "
        "correlation of a linear readout (spec 9.2)"
    )
    save_figure(fig, path, tier)


def write_figures(
    t: Tables, outdir, tier: str, theta: float = THETA, curve_epochs: int = CURVE_EPOCHS
) -> list[Path]:
    """Every figure of the study into `outdir`; returns the PNG paths."""
    outdir = Path(outdir)
    cfg = config_losses(t.runs)
    out = {name: outdir / name for name in FIGURE_NAMES}
    figure_learning_curves(
        t, "fig4", "rnn", out["fig4_rnn_learning_curves.png"], tier, theta, curve_epochs
    )
    figure_learning_curves(t, "fig4", "rnn", out["fig4_rnn_learning_curves_full.png"], tier, theta)
    figure_learning_curves(
        t, "fig5", "lstm", out["fig5_lstm_learning_curves.png"], tier, theta, curve_epochs
    )
    figure_learning_curves(
        t, "fig5", "lstm", out["fig5_lstm_learning_curves_full.png"], tier, theta
    )
    figure_fig6_mean(cfg, t.runs, out["fig6_rnn_mean_loss.png"], tier)
    figure_fig7_sd(cfg, t.runs, out["fig7_rnn_sd_loss.png"], tier)
    figure_fig8(cfg, t.runs, out["fig8_lstm_gru_mean_loss.png"], tier)
    figure_fig9(cfg, t.runs, out["fig9_rnn_fixed_length.png"], tier)
    figure_histogram(t, out["loss_histogram.png"], tier, theta)
    figure_memory_capacity(t, out["memory_capacity.png"], tier, theta)
    return list(out.values())


def figures_main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="rnnmem figures-memorization", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--results", required=True, help="folder with the aggregated CSV tables")
    parser.add_argument("--outdir", required=True, help="folder for the PNG and PDF figures")
    parser.add_argument("--tier", required=True, help="tier name stamped on every figure")
    parser.add_argument("--theta", type=float, default=THETA, help="memorised threshold")
    parser.add_argument(
        "--curve-epochs",
        type=int,
        default=CURVE_EPOCHS,
        help="epochs shown in the Fig. 4/5 learning curves",
    )
    args = parser.parse_args(argv)
    write_figures(load_tables(args.results), args.outdir, args.tier, args.theta, args.curve_epochs)
    return 0


# ---------------------------------------------------------------------------------------
# Claim helpers
# ---------------------------------------------------------------------------------------
def num(value, digits: int = 4):
    """A number for the claims table: rounded, NaN -> None, inf -> 'never'."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    value = float(value)
    if np.isnan(value):
        return None
    if np.isinf(value):
        return "never"
    return round(value, digits)


def capped(items: list, limit: int = 25) -> list:
    """Long lists in the claims table stay readable: the first `limit`, then a count."""
    items = list(items)
    return items if len(items) <= limit else items[:limit] + [f"... (+{len(items) - limit} more)"]


def verdict_from_parts(parts: dict) -> str:
    """One part: holds / fails / inconclusive (None). Several parts: any untestable part ->
    inconclusive; all hold -> holds; none hold -> fails; otherwise partly."""
    values = list(parts.values())
    if len(values) == 1:
        return verdict_from(values[0])
    if not values or any(v is None for v in values):
        return INCONCLUSIVE
    if all(values):
        return HOLDS
    return FAILS if not any(values) else PARTLY


def parts_numbers(parts: dict) -> dict:
    return {
        f"part_{k}": ("untestable" if v is None else ("holds" if v else "fails"))
        for k, v in parts.items()
    }


def not_run(claim_id, statement, rule, what) -> Claim:
    """The claim's experiment is absent from this tier (disabled or not aggregated)."""
    return Claim(
        claim_id,
        statement,
        rule,
        INCONCLUSIVE,
        {},
        f"Not in this tier's results: {what}. Nothing to test.",
    )


def _config(t: Tables, experiment: str, cell: str | None = None) -> pd.DataFrame:
    return config_losses(_experiment(t.runs, experiment, cell))


def adjacent_violations(table, along, within, value, worse) -> tuple[int, int, list]:
    """Compare neighbouring tested grid points along one axis.

    worse(previous, next) says whether the step is a violation. Returns (pairs,
    violations, labels of the violations)."""
    pairs, bad = 0, []
    for key, group in table.groupby(within, sort=True):
        values = group.sort_values(along)[[along, value]].to_numpy(float)
        for (a_prev, v_prev), (a_next, v_next) in zip(values[:-1], values[1:]):
            if np.isnan(v_prev) or np.isnan(v_next):
                continue
            pairs += 1
            if worse(v_prev, v_next):
                where = ", ".join(f"{w}={int(k)}" for w, k in zip(within, np.atleast_1d(key)))
                bad.append(
                    f"{where}: {along} {int(a_prev)}->{int(a_next)}: {v_prev:.3f}->{v_next:.3f}"
                )
    return pairs, len(bad), bad


def _median_hit(hits: pd.DataFrame, position) -> float:
    """Median first-hit epoch of one position; never-reached counts as +inf (censored)."""
    values = hits.loc[hits["position"] == position, "first_hit"].fillna(np.inf)
    return float(np.median(values)) if len(values) else np.nan


def _hit_spread(hits: pd.DataFrame, position) -> float:
    """Inter-quartile range of first-hit epochs; never-reached counts as the run length + 1."""
    rows = hits[hits["position"] == position]
    values = rows["first_hit"].fillna(rows["epochs"] + 1)
    return float(np.subtract(*np.percentile(values, [75, 25]))) if len(values) else np.nan


# ---------------------------------------------------------------------------------------
# Claims of the paper (spec §8)
# ---------------------------------------------------------------------------------------
def claim_fixed_guess(t: Tables, theta: float = THETA) -> Claim:
    """Claim 1: every configuration ends at or below the fixed-guess level."""
    statement = "Every configuration ends at or below the fixed-guess level 0.25 (Figs. 4-9)."
    rule = (
        f"L <= {FIXED_GUESS_CONFIG_MAX} for every configuration of every experiment; runs with "
        f"final loss > {FIXED_GUESS_RUN_MAX} or diverged are counted and listed (failed training)."
    )
    if t.runs.empty:
        return not_run("C1-fixed-guess", statement, rule, "no runs at all")
    cfg = config_losses(t.runs)
    above = cfg[~(cfg["L"] <= FIXED_GUESS_CONFIG_MAX)]  # NaN L (all runs diverged) also fails
    bad_runs = t.runs[(t.runs["final_loss"] > FIXED_GUESS_RUN_MAX) | t.runs["diverged"]]
    worst = cfg.loc[cfg["L"].idxmax()] if cfg["L"].notna().any() else None
    label = lambda r: (
        f"{r.experiment} {r.cell} {r.task} l={r.layers} c={r.units} p={r.position}"
    )  # noqa: E731
    numbers = {
        "configurations": len(cfg),
        "configurations_above_0.26": len(above),
        "max_L": num(cfg["L"].max()),
        "max_L_at": label(worst) if worst is not None else None,
        "runs": len(t.runs),
        "runs_above_0.27_or_diverged": len(bad_runs),
        "runs_diverged": int(t.runs["diverged"].sum()),
        "failed_runs": capped(
            f"{label(r)} seed={r.seed}: " + ("diverged" if r.diverged else f"{r.final_loss:.3f}")
            for r in bad_runs.itertuples()
        ),
        "configurations_above": capped(f"{label(r)}: {r.L:.3f}" for r in above.itertuples()),
    }
    return Claim(
        "C1-fixed-guess", statement, rule, verdict_from_parts({"all": above.empty}), numbers
    )


def claim_fig4_shape(t: Tables, theta: float = THETA, curve_epochs: int = CURVE_EPOCHS) -> Claim:
    """Claim 2: the shape of the RNN learning curves (l = 1, c = 5)."""
    statement = (
        "RNN, l=1, c=5: p=1..4 are learned quickly; p=5 also ends memorised but later and with "
        "more spread; p=6..8 plateau below 0.25 (around 0.15); p=9, 10 end near 0.25."
    )
    rule = (
        f"(a) p=1..4: in most seeds the {MOVING_AVERAGE}-epoch moving average first drops below theta "
        f"within {curve_epochs} epochs, and L < theta; (b) p=5: L < theta, median first-hit epoch larger "
        f"and first-hit IQR larger than for every p=1..4; (c) p=6..8: theta <= L <= {NEAR_GUESS}; "
        f"(d) p=9, 10: final loss > {NEAR_GUESS} in most seeds. Theta = {theta:g}."
    )
    runs = _experiment(t.runs, "fig4", "rnn")
    if runs.empty:
        return not_run("C2-fig4-shape", statement, rule, "fig4")
    cfg = config_losses(runs).set_index("position")
    hits, hit_note = hits_for(t, "fig4", theta)
    tested = set(cfg.index)
    L = lambda p: cfg.loc[p, "L"]  # noqa: E731
    numbers = {f"L_p{p}": num(L(p)) for p in sorted(tested)}
    numbers.update({f"median_first_hit_p{p}": num(_median_hit(hits, p)) for p in sorted(tested)})

    def has(ps):
        return set(ps) <= tested

    parts = {}
    if has(range(1, 5)):
        quick = {
            p: float((hits.loc[hits["position"] == p, "first_hit"] <= curve_epochs).mean())
            for p in range(1, 5)
        }
        numbers.update({f"share_hit_within_window_p{p}": num(s) for p, s in quick.items()})
        parts["a_p1to4_quick"] = all(quick[p] > 0.5 and L(p) < theta for p in range(1, 5))
    else:
        parts["a_p1to4_quick"] = None
    if has(range(1, 6)):
        spreads = {p: _hit_spread(hits, p) for p in range(1, 6)}
        numbers.update({f"first_hit_iqr_p{p}": num(s) for p, s in spreads.items()})
        later = _median_hit(hits, 5) > max(_median_hit(hits, p) for p in range(1, 5))
        wider = spreads[5] > max(spreads[p] for p in range(1, 5))
        parts["b_p5_later"] = bool(L(5) < theta and later and wider)
    else:
        parts["b_p5_later"] = None
    parts["c_p6to8_plateau"] = (
        all(theta <= L(p) <= NEAR_GUESS for p in range(6, 9)) if has(range(6, 9)) else None
    )
    if has((9, 10)):
        near = {
            p: float((runs.loc[runs["position"] == p, "final_loss"] > NEAR_GUESS).mean())
            for p in (9, 10)
        }
        numbers.update({f"share_seeds_above_0.2_p{p}": num(s) for p, s in near.items()})
        parts["d_p9to10_near_guess"] = all(s > 0.5 for s in near.values())
    else:
        parts["d_p9to10_near_guess"] = None
    numbers.update(parts_numbers(parts))
    note = _untested_note(parts, "positions") + hit_note
    return Claim("C2-fig4-shape", statement, rule, verdict_from_parts(parts), numbers, note.strip())


def _untested_note(parts: dict, what: str) -> str:
    missing = [k for k, v in parts.items() if v is None]
    return (
        f"Not testable in this tier (grid {what} not run): {', '.join(missing)}. "
        if missing
        else ""
    )


def claim_lstm_slower(t: Tables, theta: float = THETA, curve_epochs: int = CURVE_EPOCHS) -> Claim:
    """Claim 3: the LSTM learns p = 1..5 later than the RNN and is still improving at epoch 500."""
    statement = (
        "Fig. 5: for p=1..5 the LSTM first reaches theta later than the RNN, and its curves are "
        "still decreasing at epoch 500 for some p >= 4."
    )
    rule = (
        f"(a) median first-hit epoch (10-epoch moving average < theta, never = infinity) of fig5 LSTM > "
        f"that of fig4 RNN for every p=1..5 (a p where neither reaches theta is untestable); "
        f"(b) for some p >= 4 the seed-mean LSTM loss over epochs {curve_epochs - 49}-{curve_epochs} is at "
        f"least {STILL_DECREASING} below its mean over epochs {curve_epochs - 99}-{curve_epochs - 50}. "
        f"Theta = {theta:g}."
    )
    if _experiment(t.runs, "fig5", "lstm").empty and _experiment(t.curves, "fig5", "lstm").empty:
        return not_run("C3-lstm-slower", statement, rule, "fig5")
    lstm, note_l = hits_for(t, "fig5", theta)
    rnn, note_r = hits_for(t, "fig4", theta)
    numbers, parts = {}, {}
    later = []
    for p in range(1, 6):
        m_lstm, m_rnn = _median_hit(lstm, p), _median_hit(rnn, p)
        numbers[f"median_first_hit_p{p}_lstm"] = "not run" if np.isnan(m_lstm) else num(m_lstm)
        numbers[f"median_first_hit_p{p}_rnn"] = "not run" if np.isnan(m_rnn) else num(m_rnn)
        if np.isnan(m_lstm) or np.isnan(m_rnn) or (np.isinf(m_lstm) and np.isinf(m_rnn)):
            later.append(None)
        else:
            later.append(bool(m_lstm > m_rnn))
    # One p where the LSTM is not later already fails "every p"; otherwise any untestable p
    # leaves the part open.
    parts["a_lstm_later_p1to5"] = False if False in later else (None if None in later else True)

    curves = _experiment(t.curves, "fig5", "lstm")
    decreasing = {}
    if not curves.empty and curves["epoch"].max() >= curve_epochs >= 100:
        mean = curves.groupby(["position", "epoch"], sort=True)["train_loss"].mean()
        for p in sorted(p for p in curves["position"].unique() if p >= 4):
            curve = mean.loc[p]
            recent = curve.loc[curve_epochs - 49 : curve_epochs].mean()
            before = curve.loc[curve_epochs - 99 : curve_epochs - 50].mean()
            decreasing[p] = bool(before - recent >= STILL_DECREASING)
            numbers[f"lstm_drop_over_last_50_epochs_p{p}"] = num(before - recent)
        parts["b_still_decreasing"] = any(decreasing.values()) if decreasing else None
    else:
        parts["b_still_decreasing"] = None
    numbers.update(parts_numbers(parts))
    note = " ".join(s for s in (note_l, note_r) if s)
    if parts["b_still_decreasing"] is None:
        note += f" Curves do not reach epoch {curve_epochs} (or no p >= 4): part b untestable."
    if parts["a_lstm_later_p1to5"] is None:
        note += " Part a needs p=1..5 in fig4 and fig5 with at least one of the two reaching theta."
    return Claim(
        "C3-lstm-slower", statement, rule, verdict_from_parts(parts), numbers, note.strip()
    )


def claim_identity(t: Tables, theta: float = THETA) -> Claim:
    """Claim 4: a single RNN unit in a single layer memorises only p = 1."""
    statement = "Fig. 6: with l=1, c=1 the RNN memorises only p=1 (the identity case)."
    rule = f"fig6 l=1, c=1: L(p=1) < theta and L(p) >= theta for every tested p >= 2. Theta = {theta:g}."
    cfg = _config(t, "fig6", "rnn")
    cell = cfg[(cfg["layers"] == 1) & (cfg["units"] == 1)].set_index("position")["L"]
    if 1 not in cell.index or len(cell) < 2:
        return Claim(
            "C4-identity",
            statement,
            rule,
            INCONCLUSIVE,
            {f"L_p{p}": num(v) for p, v in cell.items()},
            "fig6 did not run l=1, c=1 with p=1 and some p >= 2 in this tier.",
        )
    memorised = [int(p) for p, v in cell.items() if v < theta]
    numbers = {f"L_p{p}": num(v) for p, v in cell.items()}
    numbers["memorised_positions"] = memorised
    return Claim(
        "C4-identity", statement, rule, verdict_from_parts({"only_p1": memorised == [1]}), numbers
    )


def claim_monotone_in_p(t: Tables, theta: float = THETA) -> Claim:
    """Claim 5: the loss grows with the distance p, up to noise."""
    statement = "Fig. 6: for fixed (l, c) the loss is non-decreasing in p (up to noise)."
    rule = (
        f"Count neighbouring tested p with L(p_next) < L(p) - {NOISE_MARGIN}; holds if violations "
        f"< {RARE_SHARE:.0%} of the pairs."
    )
    cfg = _config(t, "fig6", "rnn")
    pairs, n_bad, bad = adjacent_violations(
        cfg, "position", ["layers", "units"], "L", lambda prev, nxt: nxt < prev - NOISE_MARGIN
    )
    if pairs == 0:
        return not_run("C5-monotone-p", statement, rule, "fig6 with two or more positions")
    numbers = {
        "pairs": pairs,
        "violations": n_bad,
        "share": num(n_bad / pairs),
        "violations_at": capped(bad),
    }
    return Claim(
        "C5-monotone-p",
        statement,
        rule,
        verdict_from_parts({"rare": n_bad / pairs < RARE_SHARE}),
        numbers,
    )


def claim_more_units_layers(t: Tables, theta: float = THETA) -> Claim:
    """Claim 6: more cells or more layers never make the task harder."""
    statement = "Fig. 6: more cells and more layers help: L non-increasing in c and l; D non-decreasing in c and l."
    rule = (
        f"(a) c and (b) l: count neighbouring tested values with L(next) > L(prev) + {NOISE_MARGIN}; holds "
        f"if < {RARE_SHARE:.0%} of the pairs; (c) c and (d) l: D(next) >= D(prev) for every neighbouring "
        f"pair (D with theta = {theta:g})."
    )
    cfg = _config(t, "fig6", "rnn")
    if cfg.empty:
        return not_run("C6-more-units-layers", statement, rule, "fig6")
    distance = memory_distance(cfg, theta)
    higher = lambda prev, nxt: nxt > prev + NOISE_MARGIN  # noqa: E731
    lower = lambda prev, nxt: nxt < prev  # noqa: E731
    checks = {
        "a_L_in_c": (cfg, "units", ["layers", "position"], "L", higher, RARE_SHARE),
        "b_L_in_l": (cfg, "layers", ["units", "position"], "L", higher, RARE_SHARE),
        "c_D_in_c": (distance, "units", ["layers"], "D", lower, 0.0),
        "d_D_in_l": (distance, "layers", ["units"], "D", lower, 0.0),
    }
    numbers, parts = {}, {}
    for name, (table, along, within, value, worse, allowed) in checks.items():
        pairs, n_bad, bad = adjacent_violations(table, along, within, value, worse)
        numbers[f"{name}_pairs"], numbers[f"{name}_violations"] = pairs, n_bad
        if n_bad:
            numbers[f"{name}_violations_at"] = capped(bad, 10)
        # "Rare" for L (< 5%); none at all for D, as the spec words it.
        parts[name] = None if pairs == 0 else (n_bad / pairs < allowed if allowed else n_bad == 0)
    numbers.update(parts_numbers(parts))
    note = _untested_note(parts, "with a single cell count or layer count") + gap_note(distance)
    return Claim(
        "C6-more-units-layers", statement, rule, verdict_from_parts(parts), numbers, note.strip()
    )


def claim_diagonal(t: Tables, theta: float = THETA) -> Claim:
    """Claim 7: one layer of c cells memorises p = c, i.e. D(RNN, Def. 1, 1, c) >= c."""
    statement = "Fig. 6 text: with one layer, n cells always memorise p = n (D >= c)."
    rule = (
        f"fig6 l=1: D(c) >= c for every tested c <= max tested p (D with theta = {theta:g}); report "
        f"the largest n such that this holds for every tested c <= n."
    )
    distance = memory_distance(_config(t, "fig6", "rnn"), theta)
    rows = distance[distance["layers"] == 1].sort_values("units")
    testable = rows[rows["units"] <= rows["p_max"]]
    if testable.empty:
        return Claim(
            "C7-diagonal",
            statement,
            rule,
            INCONCLUSIVE,
            {},
            "fig6 with l=1 and some c <= max p was not run in this tier.",
        )
    ok = testable["D"] >= testable["units"]
    largest = 0
    for units, good in zip(testable["units"], ok):
        if not good:
            break
        largest = int(units)
    numbers = {
        "D_by_c": {int(r.units): int(r.D) for r in rows.itertuples()},
        "largest_n_holding_for_all_smaller": largest,
        "failing_c": [int(c) for c in testable.loc[~ok, "units"]],
    }
    untestable = [int(c) for c in rows.loc[rows["units"] > rows["p_max"], "units"]]
    note = f"c larger than the largest tested p, untestable: {untestable}. " if untestable else ""
    note += gap_note(rows)
    return Claim(
        "C7-diagonal", statement, rule, verdict_from_parts({"all": bool(ok.all())}), numbers, note
    )


def claim_bimodality(t: Tables, theta: float = THETA) -> Claim:
    """Claim 8: few configurations land between memorised and the fixed guess."""
    statement = (
        "Figs. 6/7 text: few configurations land in the middle band; the outcome is bimodal."
    )
    rule = (
        f"fig6 configurations: share with theta <= L <= {NEAR_GUESS} smaller than both the share with "
        f"L < theta and the share with L > {NEAR_GUESS} (theta = {theta:g}). Reported too: whether the "
        f"run-level histogram (bins {HIST_WIDTH}) has two separated modes (the emptiest middle-band bin "
        f"below half of the smaller of the two peaks)."
    )
    runs = _experiment(t.runs, "fig6", "rnn")
    if runs.empty:
        return not_run("C8-bimodality", statement, rule, "fig6")
    shares = band_shares(config_losses(runs)["L"], theta)
    modes = two_modes(runs["final_loss"], theta)
    numbers = {
        "configurations": shares["n"],
        "share_below_theta": num(shares["low"]),
        "share_middle_band": num(shares["middle"]),
        "share_above_0.2": num(shares["high"]),
        "runs": int(runs["final_loss"].notna().sum()),
        "histogram_peak_low": modes["peak_low"],
        "histogram_peak_high": modes["peak_high"],
        "histogram_middle_valley": modes["valley"],
        "histogram_two_separated_modes": modes["separated"],
    }
    ok = shares["middle"] < shares["low"] and shares["middle"] < shares["high"]
    return Claim("C8-bimodality", statement, rule, verdict_from_parts({"shares": ok}), numbers)


def claim_layer_bound(t: Tables, theta: float = THETA) -> Claim:
    """Claim 9: D(RNN, Def. 1, l, c) <= c*l - (l - 1)."""
    statement = (
        "Text: the memory distance of l layers of c cells is at most c*l - (l - 1) (N = c*l units)."
    )
    rule = (
        f"fig6: D <= c*l - (l-1) for every (l, c) where the bound is below the largest tested p "
        f"(elsewhere untestable); list equality cases (D with theta = {theta:g})."
    )
    distance = memory_distance(_config(t, "fig6", "rnn"), theta)
    if distance.empty:
        return not_run("C9-layer-bound", statement, rule, "fig6")
    distance["bound"] = bound(distance["layers"], distance["units"])
    testable = distance[distance["bound"] < distance["p_max"]]
    if testable.empty:
        return Claim(
            "C9-layer-bound",
            statement,
            rule,
            INCONCLUSIVE,
            {"shapes": len(distance), "testable": 0},
            "No (l, c) in this tier has c*l - (l-1) below the largest tested p: the bound is untestable.",
        )
    label = lambda r: f"l={r.layers},c={r.units}: D={r.D}, bound={r.bound}"  # noqa: E731
    violations = testable[testable["D"] > testable["bound"]]
    equal = testable[testable["D"] == testable["bound"]]
    one_layer = testable[testable["layers"] == 1]
    numbers = {
        "shapes": len(distance),
        "testable": len(testable),
        "violations": len(violations),
        "violations_at": capped(label(r) for r in violations.itertuples()),
        "equality": len(equal),
        "equality_at": capped(label(r) for r in equal.itertuples()),
        "l1_testable": len(one_layer),
        "l1_with_D_equal_c": int((one_layer["D"] == one_layer["units"]).sum()),
    }
    note = (
        "For l = 1, claims 7 and 9 together say D = c; l1_with_D_equal_c counts where that holds. "
    )
    note += gap_note(distance)
    return Claim(
        "C9-layer-bound",
        statement,
        rule,
        verdict_from_parts({"bound": violations.empty}),
        numbers,
        note,
    )


def claim_lstm_gru_worse(t: Tables, theta: float = THETA) -> Claim:
    """Claim 10: within the budget LSTM and GRU do worse than the RNN."""
    statement = (
        "Fig. 8 text: no LSTM configuration memorises p=10 satisfactorily; LSTM and GRU are worse than "
        "the RNN on most of the shared grid; GRU behaves like LSTM."
    )
    rule = (
        f"(a) every L(LSTM, l, c, p=10) >= {LSTM_P10_MIN}; (b) L(LSTM) >= L(RNN) and (c) L(GRU) >= L(RNN) "
        f"on more than half of the (l, c, p) shared by fig8 and fig6. Reported: correlation and mean "
        f"absolute difference of the LSTM and GRU heat maps."
    )
    fig8 = _config(t, "fig8")
    if fig8.empty:
        return not_run("C10-lstm-gru-worse", statement, rule, "fig8")
    keys = ["layers", "units", "position"]
    rnn = _config(t, "fig6", "rnn")[keys + ["L"]]
    lstm = fig8[fig8["cell"] == "lstm"][keys + ["L"]]
    gru = fig8[fig8["cell"] == "gru"][keys + ["L"]]
    numbers, parts = {}, {}
    at10 = lstm[lstm["position"] == 10]
    if at10.empty:
        parts["a_lstm_p10_not_memorised"] = None
    else:
        numbers["min_L_lstm_p10"] = num(at10["L"].min())
        parts["a_lstm_p10_not_memorised"] = bool((at10["L"] >= LSTM_P10_MIN).all())
    for name, cell in (("b_lstm_worse", lstm), ("c_gru_worse", gru)):
        shared = cell.merge(rnn, on=keys, suffixes=("", "_rnn"))
        if shared.empty:
            parts[name] = None
            continue
        share = float((shared["L"] >= shared["L_rnn"]).mean())
        numbers[f"{name}_shared_cells"] = len(shared)
        numbers[f"{name}_share"] = num(share)
        numbers[f"{name}_share_within_0.02"] = num(
            float((shared["L"] >= shared["L_rnn"] - NOISE_MARGIN).mean())
        )
        parts[name] = share > 0.5
    pair = lstm.merge(gru, on=keys, suffixes=("_lstm", "_gru")).dropna()
    if len(pair) >= 3 and pair["L_lstm"].std() > 0 and pair["L_gru"].std() > 0:
        numbers["lstm_gru_correlation"] = num(np.corrcoef(pair["L_lstm"], pair["L_gru"])[0, 1])
    if len(pair):
        numbers["lstm_gru_mean_abs_difference"] = num((pair["L_lstm"] - pair["L_gru"]).abs().mean())
    numbers.update(parts_numbers(parts))
    note = _untested_note(parts, "points, cell types or fig6") + (
        "fig6 (RNN) and fig8 may have different seed counts (paper: 5 and 10)."
    )
    return Claim("C10-lstm-gru-worse", statement, rule, verdict_from_parts(parts), numbers, note)


def claim_fixed_length_easier(t: Tables, theta: float = THETA) -> Claim:
    """Claim 11: the fixed-length task (Def. 2) is no harder than the variable one (Def. 1)."""
    statement = (
        "Fig. 9: fixed length is easier: L(Def. 2) <= L(Def. 1) almost everywhere, memorised instances "
        "stay memorised, new ones appear at large p (p=10 for l=1, c=2; p >= 8 for l=2, c=2)."
    )
    rule = (
        f"Shared (l, c, p) of fig9 and fig6: (a) L(Def. 2) > L(Def. 1) + {NOISE_MARGIN} in < {RARE_SHARE:.0%} "
        f"of them; (b) no configuration memorised under Def. 1 is not memorised under Def. 2; (c) the named "
        f"cases (l=1, c=2, p=10; l=2, c=2, p=8..10) are memorised under Def. 2 and not under Def. 1. "
        f"Theta = {theta:g}."
    )
    fixed, variable = _config(t, "fig9", "rnn"), _config(t, "fig6", "rnn")
    if fixed.empty or variable.empty:
        return not_run("C11-fixed-length-easier", statement, rule, "fig9 and fig6 (both needed)")
    keys = ["layers", "units", "position"]
    both = fixed[keys + ["L"]].merge(variable[keys + ["L"]], on=keys, suffixes=("_2", "_1"))
    if both.empty:
        return Claim(
            "C11-fixed-length-easier",
            statement,
            rule,
            INCONCLUSIVE,
            {"shared": 0},
            "fig9 and fig6 share no (l, c, p) in this tier.",
        )
    mem1, mem2 = both["L_1"] < theta, both["L_2"] < theta
    worse = both["L_2"] > both["L_1"] + NOISE_MARGIN
    lost, new = both[mem1 & ~mem2], both[mem2 & ~mem1]
    label = lambda r: f"l={r.layers},c={r.units},p={r.position}"  # noqa: E731
    index = both.set_index(keys)
    named = [(1, 2, 10)] + [(2, 2, p) for p in (8, 9, 10)]
    if all(k in index.index for k in named):
        named_new = [bool(index.loc[k, "L_2"] < theta <= index.loc[k, "L_1"]) for k in named]
        part_c = all(named_new)
    else:
        part_c = None
    parts = {
        "a_not_worse": float(worse.mean()) < RARE_SHARE,
        "b_memorised_stay": lost.empty,
        "c_named_new": part_c,
    }
    numbers = {
        "shared": len(both),
        "worse_by_more_than_0.02": int(worse.sum()),
        "share_worse": num(float(worse.mean())),
        "mean_difference_def2_minus_def1": num((both["L_2"] - both["L_1"]).mean()),
        "lost_memorised": capped(label(r) for r in lost.itertuples()),
        "new_memorised": capped(label(r) for r in new.itertuples()),
        "mean_p_of_new_memorised": num(new["position"].mean()) if len(new) else None,
        "mean_p_shared": num(both["position"].mean()),
    }
    numbers.update(parts_numbers(parts))
    note = _untested_note(parts, "points of the named cases") + (
        "fig6 (Def. 1) and fig9 (Def. 2) may have different seed counts (paper: 5 and 10)."
    )
    return Claim(
        "C11-fixed-length-easier", statement, rule, verdict_from_parts(parts), numbers, note
    )


# ---------------------------------------------------------------------------------------
# Memory capacity checks (spec §9.3-9.4, PROPOSAL)
# ---------------------------------------------------------------------------------------
def claim_capacity_bound(t: Tables, theta: float = THETA) -> Claim:
    """MC <= N + 0.05 for every measured network and ESN (sanity of the MC estimates)."""
    statement = (
        "PROPOSAL (spec 9.3/9.4): Jaeger's bound MC <= N holds for every trained and initial network "
        "and every ESN (sanity check of the capacity measurement)."
    )
    rule = (
        f"MC <= n_state + {MC_SLACK} for every row of capacity.csv (every state: all, top, hc) and "
        f"MC <= N + {MC_SLACK} for every ESN reservoir."
    )
    if t.capacity.empty and t.esn.empty:
        return not_run("C12-capacity-bound", statement, rule, "memory-capacity measurements")
    nets = t.capacity.assign(excess=t.capacity["mc"] - t.capacity["n_state"])
    esn = t.esn.assign(excess=t.esn["mc"] - t.esn["units"])
    bad_nets, bad_esn = nets[nets["excess"] > MC_SLACK], esn[esn["excess"] > MC_SLACK]
    numbers = {
        "networks": len(nets),
        "esn_reservoirs": len(esn),
        "violations_networks": len(bad_nets),
        "violations_esn": len(bad_esn),
        "max_MC_minus_N_networks": num(nets["excess"].max()),
        "max_MC_minus_N_esn": num(esn["excess"].max()),
        "max_bias_estimate": num(
            pd.to_numeric(pd.concat([nets["bias_estimate"], esn["bias_estimate"]])).max()
        ),
        "violations_at": capped(
            [
                f"{r.experiment} {r.cell} l={r.layers} c={r.units} p={r.position} seed={r.seed} {r.weights} "
                f"{r.state}: MC={r.mc:.3f} > N={r.n_state}"
                for r in bad_nets.itertuples()
            ]
            + [
                f"ESN N={r.units} reservoir={r.reservoir}: MC={r.mc:.3f}"
                for r in bad_esn.itertuples()
            ]
        ),
    }
    ok = bad_nets.empty and bad_esn.empty
    return Claim("C12-capacity-bound", statement, rule, verdict_from_parts({"bound": ok}), numbers)


def _task_capacity_of_memorised(t: Tables, theta: float) -> tuple[int, int]:
    """Trained networks whose own run memorised its p: how many reach MC_task(p) >= 0.9.

    Their summed output is one linear readout of the state, so the best ridge readout
    (MC_task) must do at least as well."""
    curves = t.capacity_curves
    task = curves[
        (curves["measure"] == "task")
        & (curves["weights"] == "trained")
        & (curves["delay"] == curves["position"])
    ]
    if task.empty:
        return 0, 0
    merged = task.merge(t.runs[RUN_KEYS + ["final_loss"]], on=RUN_KEYS)
    memorised = merged[merged["final_loss"] < theta]
    return len(memorised), int((memorised["value"] >= MEMORISED_CORR2).sum())


def esn_task_comparison(t: Tables, theta: float) -> dict:
    """Spec 9.4: the ESN's ridge-readout distance next to the trained one-layer RNN's D.

    ESN D(N) = largest delay p such that the mean MAE over reservoirs is below theta for
    every p' <= p, read like the heat maps' D; compared with D(RNN, Def. 1, l=1, c=N)."""
    if t.esn_task.empty:
        return {}
    mae = t.esn_task.groupby(["units", "delay"], sort=True)["mae"].mean().reset_index()
    as_cfg = mae.rename(columns={"delay": "position", "mae": "L"}).assign(
        experiment="esn", cell="esn", task="variable", layers=1
    )
    esn_d = memory_distance(as_cfg, theta).set_index("units")["D"]
    rnn = memory_distance(_config(t, "fig6", "rnn"), theta)
    rnn_d = rnn[rnn["layers"] == 1].set_index("units")["D"]
    return {
        "esn_ridge_D_by_N": {int(n): int(d) for n, d in esn_d.items()},
        "rnn_l1_D_by_c": {int(c): int(d) for c, d in rnn_d.items()},
    }


def claim_capacity_vs_distance(t: Tables, theta: float = THETA) -> Claim:
    """Compare per (type, task, l, c): Jaeger MC, memorisation distance D and the layer bound."""
    statement = (
        "PROPOSAL (spec 9.3): the paper links its limit c*l - (l-1) to Jaeger's MC <= N. Per (type, "
        "l, c): the trained networks' MC should account for the delays they memorise."
    )
    rule = (
        f"(a) stream MC (state = all layers, best trained network of the shape) >= {MEMORISED_CORR2} * D - "
        f"{MC_SLACK} for every measured shape (each memorised delay needs corr^2 >= ~{MEMORISED_CORR2}); "
        f"(b) every trained network whose run memorised its p has task-aligned MC_task(p) >= "
        f"{MEMORISED_CORR2}. Reported: shares with MC trained > initial, D <= bound, D <= N; "
        f"correlation of MC and D; ESN MC by N. Theta = {theta:g}."
    )
    table = distance_table(t, theta)
    table = table[table["mc_max_trained"].notna()]
    if table.empty:
        return not_run(
            "C13-capacity-vs-distance", statement, rule, "capacity measurements of trained networks"
        )
    accounted = table["mc_max_trained"] >= MEMORISED_CORR2 * table["D"] - MC_SLACK
    n_memorised, n_task_ok = _task_capacity_of_memorised(t, theta)
    parts = {
        "a_stream_mc_accounts_for_D": bool(accounted.all()),
        "b_task_mc_of_memorised": (n_task_ok == n_memorised) if n_memorised else None,
    }
    with_initial = table[table["mc_mean_initial"].notna()]
    label = lambda r: (
        f"{r.experiment} {r.cell} l={r.layers} c={r.units}: MC={r.mc_max_trained:.2f}, "  # noqa: E731
        f"D={r.D}, bound={r.bound}"
    )
    numbers = {
        "shapes": len(table),
        "shapes_not_accounted": capped(label(r) for r in table[~accounted].itertuples()),
        "share_mc_trained_above_initial": (
            num((with_initial["mc_mean_trained"] > with_initial["mc_mean_initial"]).mean())
            if len(with_initial)
            else None
        ),
        "share_D_within_bound": num((table["D"] <= table["bound"]).mean()),
        "share_D_within_N": num((table["D"] <= table["N"]).mean()),
        "mean_mc_trained_minus_D": num((table["mc_mean_trained"] - table["D"]).mean()),
        "memorised_networks_with_task_capacity": n_memorised,
        "of_which_MC_task_at_least_0.9": n_task_ok,
    }
    if len(table) >= 3 and table["D"].std() > 0 and table["mc_mean_trained"].std() > 0:
        numbers["correlation_mc_trained_D"] = num(
            np.corrcoef(table["mc_mean_trained"], table["D"])[0, 1]
        )
    if not t.esn.empty:
        numbers["esn_mean_mc_by_N"] = {
            int(n): num(v, 3) for n, v in t.esn.groupby("units")["mc"].mean().items()
        }
    numbers.update(esn_task_comparison(t, theta))
    numbers.update(parts_numbers(parts))
    note = (
        "Stream MC and task-aligned MC can disagree for trained networks (their state may drift on a long "
        "stream, spec 9.2.7); both are reported, neither corrects the other. "
    )
    note += _untested_note(parts, "task-aligned capacity of memorised runs")
    return Claim(
        "C13-capacity-vs-distance",
        statement,
        rule,
        verdict_from_parts(parts),
        numbers,
        note.strip(),
    )


# ---------------------------------------------------------------------------------------
# All claims, with the theta sensitivity of the threshold-based ones
# ---------------------------------------------------------------------------------------
def with_sensitivity(check, t: Tables, theta: float, thetas) -> Claim:
    """Evaluate at theta, then at each sensitivity theta; record those verdicts too."""
    claim = check(t, theta)
    outcomes = {th: check(t, th).verdict for th in thetas if th != theta}
    if claim.verdict == INCONCLUSIVE and set(outcomes.values()) <= {INCONCLUSIVE}:
        return claim  # nothing testable at any threshold: no sensitivity to report
    for th, verdict in outcomes.items():
        claim.numbers[f"verdict_at_theta_{th:g}"] = verdict
    if outcomes:
        text = "; ".join(f"theta={th:g}: {v}" for th, v in outcomes.items())
        claim.note = f"{claim.note.strip()} Sensitivity: {text}.".strip()
    return claim


def evaluate_claims(
    t: Tables, theta: float = THETA, thetas=THETA_SENSITIVITY, curve_epochs: int = CURVE_EPOCHS
) -> list[Claim]:
    """Claims 1-11 of the spec's §8 in order, then the two capacity checks of §9."""
    # Claims 2 and 3 also need the plotted window of the learning curves.
    fig4_shape = lambda tables, th: claim_fig4_shape(tables, th, curve_epochs)  # noqa: E731
    lstm_slower = lambda tables, th: claim_lstm_slower(tables, th, curve_epochs)  # noqa: E731
    # Claims 1, 5, 10 and 12 do not use theta; all others are re-evaluated at each sensitivity theta.
    claims = [
        claim_fixed_guess(t, theta),
        with_sensitivity(fig4_shape, t, theta, thetas),
        with_sensitivity(lstm_slower, t, theta, thetas),
        with_sensitivity(claim_identity, t, theta, thetas),
        claim_monotone_in_p(t, theta),
        with_sensitivity(claim_more_units_layers, t, theta, thetas),
        with_sensitivity(claim_diagonal, t, theta, thetas),
        with_sensitivity(claim_bimodality, t, theta, thetas),
        with_sensitivity(claim_layer_bound, t, theta, thetas),
        claim_lstm_gru_worse(t, theta),
        with_sensitivity(claim_fixed_length_easier, t, theta, thetas),
        claim_capacity_bound(t, theta),
        with_sensitivity(claim_capacity_vs_distance, t, theta, thetas),
    ]
    for claim in claims:
        claim.note = claim.note.strip()
    if t.missing:
        for claim in claims:
            if claim.verdict == INCONCLUSIVE:
                claim.note = (
                    claim.note + f" Empty or missing inputs: {', '.join(t.missing)}."
                ).strip()
    return claims


def claims_main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="rnnmem claims-memorization", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--results", required=True, help="folder with the aggregated CSV tables")
    parser.add_argument("--csv", required=True, help="claims table (CSV)")
    parser.add_argument("--md", required=True, help="claims report (Markdown)")
    parser.add_argument("--tier", required=True, help="tier name written into both outputs")
    parser.add_argument("--theta", type=float, default=THETA, help="memorised threshold")
    parser.add_argument(
        "--theta-sensitivity",
        type=float,
        nargs="*",
        default=list(THETA_SENSITIVITY),
        help="further thresholds at which the threshold-based claims are re-evaluated",
    )
    parser.add_argument(
        "--curve-epochs",
        type=int,
        default=CURVE_EPOCHS,
        help="the plotted window of Figs. 4/5 (claims 2 and 3)",
    )
    parser.add_argument(
        "--distance-table",
        default=None,
        help="optional CSV: per heat-map shape D, bound, N and MC (trained/initial)",
    )
    args = parser.parse_args(argv)
    tables = load_tables(args.results)
    claims = evaluate_claims(tables, args.theta, args.theta_sensitivity, args.curve_epochs)
    record = provenance(
        tier=args.tier,
        theta=args.theta,
        theta_sensitivity=args.theta_sensitivity,
        curve_epochs=args.curve_epochs,
        missing_inputs=tables.missing,
    )
    write_claims(
        claims,
        args.csv,
        args.md,
        "Memory distance (Illium et al. 2022): claim checks",
        args.tier,
        record,
    )
    if args.distance_table:
        write_csv(args.distance_table, distance_table(tables, args.theta), provenance=record)
    return 0
