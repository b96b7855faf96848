"""Figures of the study (forgetting.md §8): the `figures-forgetting` command.

One figure per metric with two heat maps (LSTM | GRU) in the post's layout, and the decay
plot of the output gap; PNG + PDF, tier stamped (rnnmem.core.plotting). Each PNG gets a
record `<png>.provenance.json` (its PDF shares it): the figure settings and the jobs behind
its inputs.
"""

from __future__ import annotations

import argparse
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import Normalize, SymLogNorm  # noqa: E402

from rnnmem.core.io import load_arrays, read_csv, write_json  # noqa: E402
from rnnmem.core.plotting import save_figure  # noqa: E402
from rnnmem.core.provenance import jobs_behind, provenance, sidecar_path  # noqa: E402
from rnnmem.core.settings import add_settings_argument, from_settings  # noqa: E402
from rnnmem.forgetting.settings import (  # noqa: E402
    CELL_LABEL,
    CELLS,
    VARIANT_LABEL,
    FigureSettings,
    fail,
)


def cell_grid(summary: pd.DataFrame, cell: str, column: str, n_in, units) -> np.ndarray:
    """(len(n_in), len(units)) matrix of one summary column; rows n_in ascending."""
    sub = summary[summary["cell"] == cell].set_index(["n_in", "units"])[column]
    return np.array([[sub.get((i, u), np.nan) for u in units] for i in n_in], dtype=np.float64)


def _annotate(ax, grid, censored, cmap, norm, fontsize):
    """Each cell's mean (one decimal) and its number of censored runs, readable on its colour."""
    for r in range(grid.shape[0]):
        for c in range(grid.shape[1]):
            if np.isnan(grid[r, c]):
                continue
            label = f"{grid[r, c]:.1f}"
            if censored[r, c] > 0:
                label += f"\n({int(censored[r, c])} cens.)"
            # dark text on the bright end of viridis, light text elsewhere
            shade = cmap(norm(grid[r, c]))
            luminance = 0.299 * shade[0] + 0.587 * shade[1] + 0.114 * shade[2]
            color = "black" if luminance > 0.5 else "white"
            ax.text(c, r, label, ha="center", va="center", fontsize=fontsize, color=color)


def heatmap_figure(
    summary: pd.DataFrame, metric: str, log_scale: bool, variant: str, censor_at: int
):
    """Two 8 x 8 heat maps (LSTM | GRU): rows n_in (1 at the bottom), columns units."""
    cells = [c for c in CELLS if c in set(summary["cell"])]
    n_in = sorted(summary["n_in"].unique())
    units = sorted(summary["units"].unique())
    means = {c: cell_grid(summary, c, f"{metric}_mean", n_in, units) for c in cells}
    censored = {c: cell_grid(summary, c, f"{metric}_n_censored", n_in, units) for c in cells}
    runs = int(summary["runs"].max())
    top = max(np.nanmax(m) for m in means.values())
    top = top if top > 0 else 1.0
    # one colour scale for both panels so LSTM and GRU can be compared by colour
    if log_scale:
        norm = SymLogNorm(linthresh=1.0, vmin=0.0, vmax=top, base=10)
    else:
        norm = Normalize(0.0, top)
    width = 1.0 + 5.6 * len(cells)
    fig, axes = plt.subplots(
        1, len(cells), figsize=(width, 5.4), squeeze=False, constrained_layout=True
    )
    cmap = plt.get_cmap("viridis")
    image = None
    for ax, cell in zip(axes[0], cells, strict=True):
        grid = means[cell]
        image = ax.imshow(grid, origin="lower", cmap=cmap, norm=norm, aspect="auto")
        _annotate(ax, grid, censored[cell], cmap, norm, fontsize=6.5 if len(units) > 6 else 8)
        ax.set_xticks(range(len(units)), [str(u) for u in units])
        ax.set_yticks(range(len(n_in)), [str(i) for i in n_in])
        ax.set_xlabel("Output Features (units)")
        ax.set_ylabel("Input Features")
        ax.set_title(CELL_LABEL[cell])
    bar = fig.colorbar(image, ax=axes[0].tolist(), shrink=0.9)
    bar.set_label(f"mean {metric} (shared steps){', log scale' if log_scale else ''}")
    fig.suptitle(
        f"{metric}: mean over {runs} runs per cell; censored runs count as {censor_at:,} "
        f"- {VARIANT_LABEL.get(variant, variant)}",
        fontsize=9,
    )
    return fig


def decay_figure(decay: dict, n_in: int, units, variant: str):
    """Median over runs of log10 d_t vs shared step k, one line per width, one panel per type."""
    cells = [c for c in CELLS if c in set(decay["cell"].tolist())]
    curves = {}
    for cell in cells:
        for u in units:
            pick = np.flatnonzero(
                (decay["cell"] == cell) & (decay["n_in"] == n_in) & (decay["units"] == u)
            )
            if pick.size:
                curves[cell, u] = decay["median_log10_gap"][pick[0]]
    # d_t = 0 has no logarithm: draw it on a floor line just below the smallest plotted gap
    finite = [c[np.isfinite(c)] for c in curves.values()]
    lowest = min((float(f.min()) for f in finite if f.size), default=0.0)
    floor = math.floor(lowest) - 1
    fig, axes = plt.subplots(
        1,
        len(cells),
        figsize=(5.2 * len(cells), 4.2),
        squeeze=False,
        sharey=True,
        constrained_layout=True,
    )
    for ax, cell in zip(axes[0], cells, strict=True):
        for u in units:
            if (cell, u) in curves:
                curve = np.maximum(curves[cell, u], floor)
                ax.plot(np.arange(1, curve.size + 1), curve, label=f"u = {u}", lw=1.2)
        ax.axhline(floor, color="grey", ls=":", lw=0.8)
        ax.text(
            0.99,
            floor,
            "d = 0 (bitwise equal)",
            transform=ax.get_yaxis_transform(),
            ha="right",
            va="bottom",
            fontsize=7,
            color="grey",
        )
        ax.set_xscale("log")
        ax.set_title(f"{CELL_LABEL[cell]}, n_in = {n_in}")
        ax.set_xlabel("shared step k + 1")
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("median over runs of log10 d_t")
    fig.suptitle(f"Output gap decay - {VARIANT_LABEL.get(variant, variant)}", fontsize=9)
    return fig


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m rnnmem figures-forgetting", description="heat maps and decay plot"
    )
    add_settings_argument(p)  # FigureSettings
    p.add_argument("--summary", required=True, help="summary.csv from aggregate-forgetting")
    p.add_argument("--decay", required=True, help="decay_medians.npz from aggregate-forgetting")
    p.add_argument("--heatmaps", nargs="+", required=True, help="PNG per metric (PDF beside it)")
    p.add_argument("--decay-plot", required=True, help="PNG of the decay plot (PDF beside it)")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    command = "figures-forgetting"
    try:
        settings = from_settings(FigureSettings, args.settings)
    except ValueError as err:
        return fail(command, str(err))
    if len(settings.metrics) != len(args.heatmaps):
        return fail(command, "settings metrics and --heatmaps must have the same length")
    summary = read_csv(args.summary)
    for metric in settings.metrics:
        if f"{metric}_mean" not in summary.columns:
            known = sorted(c[: -len("_mean")] for c in summary.columns if c.endswith("_mean"))
            return fail(
                command, f"forgetting.figures.metrics: {metric!r} is not a metric; known: {known}"
            )
    decay, _ = load_arrays(args.decay)
    if settings.decay_n_in not in set(decay["n_in"].tolist()):
        return fail(
            command, f"forgetting.figures.decay_n_in={settings.decay_n_in} is not in the grid"
        )
    record = provenance(
        config=args.settings, tier=settings.tier, jobs=jobs_behind([args.summary, args.decay])
    )
    for metric, png in zip(settings.metrics, args.heatmaps, strict=True):
        log_scale = metric in settings.log_scale
        fig = heatmap_figure(summary, metric, log_scale, settings.variant, settings.censor_at)
        save_figure(fig, png, tier=settings.tier)
        write_json(sidecar_path(png), record)  # the PDF beside the PNG shares it
    fig = decay_figure(decay, settings.decay_n_in, settings.decay_units, settings.variant)
    save_figure(fig, args.decay_plot, tier=settings.tier)
    write_json(sidecar_path(args.decay_plot), record)
    return 0
