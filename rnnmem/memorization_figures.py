"""Figures of the memory-distance study (spec memory-distance.md).

`figures_main` writes the paper's Figs. 4-9 plus a run-level loss histogram and a memory
capacity figure (PNG + PDF, tier stamped, byte-reproducible). An experiment absent from a
tier gets a figure with a note instead of panels, never a crash.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import Normalize, TwoSlopeNorm  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from rnnmem.memorization_tables import (  # noqa: E402
    CONFIG_KEYS,
    CURVE_EPOCHS,
    HIST_TOP,
    HIST_WIDTH,
    NEAR_GUESS,
    SHAPE_KEYS,
    THETA,
    Tables,
    _experiment,
    band_shares,
    config_losses,
    distance_table,
    histogram_counts,
    load_tables,
    two_modes,
)
from rnnmem.core.plotting import save_figure  # noqa: E402

FIXED_GUESS = 0.25  # E|U - 0.5| for U ~ Uniform[0, 1]: the loss of the best constant guess

CELL_LABEL = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}
TASK_LABEL = {"variable": "Def. 1", "fixed": "Def. 2"}

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
