"""Heat-map figures of the study: Figs. 6 and 7 (RNN), 8 (LSTM, GRU) and 9 (fixed length).

x = target position p, y = cells c (1 at the bottom), one panel per layer count l, every
cell annotated with its value.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib
import numpy as np
from matplotlib.colors import Normalize, TwoSlopeNorm

from rnnmem.core.plotting import save_figure
from rnnmem.memorization.plots import (
    CELL_LABEL,
    FIXED_GUESS,
    TASK_LABEL,
    diverged_note,
    new_figure,
    note_figure,
    seed_count,
)
from rnnmem.memorization.tables import experiment_rows


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


def figure_fig6_mean(cfg, runs, path, tier) -> None:
    rows = experiment_rows(cfg, "fig6", "rnn")
    if rows.empty:
        note_figure(path, "RNN - Mean Absolute Loss", "fig6 was not run in this tier.", tier)
        return
    row = mean_loss_row(rows, ["rnn"], prefix_cell=False)
    fig6_runs = experiment_rows(runs, "fig6", "rnn")
    title = f"RNN - Mean Absolute Loss ({TASK_LABEL['variable']}, {seed_count(fig6_runs)})"
    heatmap_figure(path, title + diverged_note(fig6_runs), [row], tier)


def figure_fig7_sd(cfg, runs, path, tier) -> None:
    rows = experiment_rows(cfg, "fig6", "rnn")
    if rows.empty:
        note_figure(
            path, "RNN - Standard Deviation of the Loss", "fig6 was not run in this tier.", tier
        )
        return
    top = rows["sd"].max()
    title = f"RNN - SD of the Absolute Loss (ddof = 1, {seed_count(experiment_rows(runs, 'fig6'))})"
    if not np.isfinite(top) or top <= 0:
        # One seed per configuration: the sample sd is undefined; keep the layout, say why.
        title += "\nsd undefined or zero everywhere (one seed per configuration?)"
        top = 1e-3
    panels = [
        (f"Layers: {n}", rows[rows["layers"] == n], None) for n in sorted(rows["layers"].unique())
    ]
    row = HeatRow(
        panels, "sd", _viridis(), Normalize(0.0, float(top)), "sd of final loss over seeds"
    )
    heatmap_figure(path, title, [row], tier)


def figure_fig8(cfg, runs, path, tier) -> None:
    rows = experiment_rows(cfg, "fig8")
    cells = [c for c in ("lstm", "gru") if c in set(rows["cell"])]
    if not cells:
        note_figure(
            path, "LSTM and GRU - Mean Absolute Loss", "fig8 was not run in this tier.", tier
        )
        return
    fig8_runs = experiment_rows(runs, "fig8")
    title = (
        " and ".join(CELL_LABEL[c] for c in cells)
        + f" - Mean Absolute Loss ({seed_count(fig8_runs)})"
    )
    title += diverged_note(fig8_runs)
    missing = [CELL_LABEL[c] for c in ("lstm", "gru") if c not in cells]
    if missing:
        title += f"\n{', '.join(missing)} not run in this tier"
    heatmap_figure(path, title, [mean_loss_row(rows, cells, prefix_cell=True)], tier)


def figure_fig9(cfg, runs, path, tier) -> None:
    """Fig. 9 (Def. 2) plus the PROPOSAL difference row "Def. 2 minus Def. 1"."""
    fixed = experiment_rows(cfg, "fig9", "rnn")
    if fixed.empty:
        note_figure(
            path,
            "RNN, fixed length (Def. 2) - Mean Absolute Loss",
            "fig9 was not run in this tier.",
            tier,
        )
        return
    fig9_runs = experiment_rows(runs, "fig9", "rnn")
    title = (
        f"RNN, fixed length (Def. 2) - Mean Absolute Loss ({seed_count(fig9_runs)})"
        + diverged_note(fig9_runs)
    )
    rows = [mean_loss_row(fixed, ["rnn"], prefix_cell=False)]
    variable = experiment_rows(cfg, "fig6", "rnn")
    keys = ["layers", "units", "position"]
    both = fixed.merge(variable, on=keys, suffixes=("_2", "_1"))
    if both.empty:
        title += (
            "\nDef. 2 minus Def. 1 panel skipped: no matching Fig. 6 (Def. 1) configurations"
            " in this tier"
        )
    else:
        both["diff"] = both["L_2"] - both["L_1"]
        # Symmetric range, rounded up to 0.05, so zero is the neutral colour.
        span = max(0.05, float(np.ceil(np.nanmax(np.abs(both["diff"])) / 0.05) * 0.05))
        seeds = (
            f"Def. 2 (Fig. 9): {seed_count(experiment_rows(runs, 'fig9'))}\n"
            f"Def. 1 (Fig. 6): {seed_count(experiment_rows(runs, 'fig6'))}"
        )
        panels = [
            (
                f"Def. 2 minus Def. 1\nPROPOSAL - Layers: {n}",
                both[both["layers"] == n],
                f"Position p\n{seeds}",
            )
            for n in sorted(both["layers"].unique())
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
