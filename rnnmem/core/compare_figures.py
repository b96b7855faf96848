"""Figures and page rows shared by every study's compare stage (rnnmem/core/compare.py rows).

    identity_figure       published (x) against reproduced (y) per panel, identity line,
                          published sd (or the tolerance) across, reproduced 95% interval up
    heatmap_comparison    per grid: published | reproduced | difference heat maps
    markdown_row          one comparison row as a row of the study's comparison.md table

Imports no study: each study's compare module builds its panels and grids and calls these.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import LogNorm, Normalize  # noqa: E402

from rnnmem.core.compare import AGREES, DIFFERS, NOT_RUN  # noqa: E402
from rnnmem.core.plotting import save_figure  # noqa: E402

MARKDOWN_HEAD = [
    "| cell | quantity | published | reproduced mean ± sd (n) | 95% interval "
    "| difference | z | verdict |",
    "|---|---|---:|---:|---:|---:|---:|---|",
]


def _colour(verdicts) -> list[str]:
    return ["tab:green" if v == AGREES else "tab:red" for v in verdicts]


def identity_figure(rows: pd.DataFrame, panel, label, png, tier: str, title: str, tolerance=0.0):
    """Published (x) against reproduced (y) per panel, with the identity line; error bars:
    across the published sd (else the tolerance of the comparison: a number or one per row),
    up the reproduced 95% interval. `panel`, `label`: one per row (label None: no labels)."""
    rows = rows.assign(tolerance=np.broadcast_to(np.asarray(tolerance, float), len(rows)))
    panel = np.asarray(panel, dtype=object)
    label = np.full(len(rows), "", dtype=object) if label is None else np.asarray(label, object)
    names = list(dict.fromkeys(panel))
    fig, axes = plt.subplots(1, len(names), figsize=(3.3 * len(names) + 0.5, 3.5), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        block, labels = rows[panel == name], label[panel == name]
        ran = (block["verdict"] != NOT_RUN).to_numpy()
        missing = int((~ran).sum())
        ax.set_title(f"{name}" + (f" ({missing} not run)" if missing else ""), fontsize=8)
        if not ran.any():
            ax.text(0.5, 0.5, "not run in this tier", ha="center", transform=ax.transAxes)
            ax.set_xticks([]), ax.set_yticks([])
            continue
        block, labels = block[ran], labels[ran]
        x, y = block["published"].to_numpy(float), block["reproduced"].to_numpy(float)
        sd = block["published_sd"].to_numpy(float)
        xerr = np.where(np.isfinite(sd), sd, block["tolerance"].to_numpy(float))
        down = np.nan_to_num(y - block["ci_low"].to_numpy(float))
        up = np.nan_to_num(block["ci_high"].to_numpy(float) - y)
        ax.errorbar(x, y, xerr=xerr, yerr=[down, up], fmt="none", ecolor="grey", lw=0.8)
        ax.scatter(x, y, c=_colour(block["verdict"]), s=14, zorder=3)
        for xi, yi, text in zip(x, y, labels, strict=True):
            if text:
                ax.annotate(text, (xi, yi), xytext=(3, 2), textcoords="offset points", fontsize=6)
        # The view holds the points and the published spread; a wide interval over a few
        # seeds would squeeze the points together, so it runs off the edge instead.
        low, high = min((x - xerr).min(), y.min()), max((x + xerr).max(), y.max())
        pad = 0.05 * (high - low) or 0.05 * abs(high) or 0.05
        low, high = low - pad, high + pad
        ax.plot([low, high], [low, high], "k--", lw=0.8)
        ax.set_xlim(low, high), ax.set_ylim(low, high)
        if ((y - down) < low).any() or ((y + up) > high).any():
            ax.text(
                0.02,
                0.98,
                "some intervals run off the edge",
                transform=ax.transAxes,
                fontsize=6,
                va="top",
                color="grey",
            )
        ax.set_xlabel("published", fontsize=8)
        ax.ticklabel_format(useOffset=False)
        ax.locator_params(nbins=4), ax.tick_params(labelsize=7)
    axes[0][0].set_ylabel("reproduced (95% interval over seeds)", fontsize=8)
    fig.suptitle(f"{title} (green: agrees, red: differs)", fontsize=9)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return save_figure(fig, png, tier)


@dataclass
class Grid:
    """One published grid and its reproduced counterpart (rows x columns, NaN: no value).

    A published cell with a value and no reproduced value was not run: drawn grey and
    marked 'not run' where the cells are annotated, never as a zero.
    """

    name: str
    published: np.ndarray
    reproduced: np.ndarray
    rows: list
    columns: list
    row_label: str
    column_label: str


def heatmap_comparison(
    grids: list[Grid],
    png,
    tier: str,
    title: str,
    value_range: tuple[float, float],
    log: bool = False,
    annotate: bool = True,
):
    """One figure row per grid: published | reproduced (one colour scale, `value_range`,
    logarithmic if `log`) | difference (reproduced - published; with `log`, log10 of
    reproduced / published). Row 0 of a grid is drawn at the bottom."""
    fig, axes = plt.subplots(len(grids), 3, figsize=(13, 3.6 * len(grids) + 0.6), squeeze=False)
    low, high = value_range
    norm = LogNorm(low, high) if log else Normalize(low, high)
    for row, grid in zip(axes, grids, strict=True):
        pub, rep = np.asarray(grid.published, float), np.asarray(grid.reproduced, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            diff = np.log10(rep / pub) if log else rep - pub
        bound = float(np.nanmax(np.abs(diff))) if np.isfinite(diff).any() else 1.0
        diff_norm = Normalize(-(bound or 1.0), bound or 1.0)
        diff_name = "log10(reproduced / published)" if log else "reproduced - published"
        panels = (("published", pub, "viridis", norm), ("reproduced", rep, "viridis", norm))
        panels += ((diff_name, diff, "coolwarm", diff_norm),)
        for ax, (name, values, cmap, scale) in zip(row, panels, strict=True):
            shown = np.clip(values, low, high) if scale is norm else values
            colours = plt.get_cmap(cmap).with_extremes(bad="lightgrey")
            image = ax.imshow(
                np.ma.masked_invalid(shown), cmap=colours, norm=scale, origin="lower", aspect="auto"
            )
            fig.colorbar(image, ax=ax, fraction=0.046, pad=0.02).ax.tick_params(labelsize=6)
            if annotate:
                _annotate(ax, values, pub)
            ax.set_xticks(range(len(grid.columns)), grid.columns, fontsize=6)
            ax.set_yticks(range(len(grid.rows)), grid.rows, fontsize=6)
            ax.set_xlabel(grid.column_label, fontsize=7), ax.set_ylabel(grid.row_label, fontsize=7)
            ax.set_title(f"{grid.name}: {name}", fontsize=8)
    fig.suptitle(f"{title} (grey: no published value or not run)", fontsize=9)
    fig.tight_layout(rect=(0, 0.03, 1, 0.97))
    return save_figure(fig, png, tier)


def _annotate(ax, values: np.ndarray, published: np.ndarray) -> None:
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            if np.isfinite(values[i, j]):
                text = f"{values[i, j]:.3g}"
            elif np.isfinite(published[i, j]):
                text = "not\nrun"
            else:
                continue
            ax.text(j, i, text, ha="center", va="center", fontsize=5)


def fmt(value) -> str:
    """A number to four significant digits; '' for None or NaN."""
    return "" if value is None or not np.isfinite(value) else f"{value:.4g}"


def markdown_row(r) -> str:
    """cell | quantity | published (± sd) | reproduced ± sd (n) | interval | difference | z |
    verdict, from one comparison row (a namedtuple of comparison.csv's columns)."""
    published = fmt(r.published) + (f" ± {fmt(r.published_sd)}" if fmt(r.published_sd) else "")
    if r.verdict == NOT_RUN:
        reproduced, interval = "not run", ""
    else:
        sd = f" ± {fmt(r.reproduced_sd)}" if fmt(r.reproduced_sd) else ""
        reproduced = f"{fmt(r.reproduced)}{sd} ({r.seeds})"
        interval = f"[{fmt(r.ci_low)}, {fmt(r.ci_high)}]" if fmt(r.ci_low) else ""
    verdict = r.verdict + (f" ({r.size})" if r.verdict == DIFFERS else "")
    cells = [r.cell, r.quantity, published, reproduced, interval, fmt(r.difference), fmt(r.z)]
    return "| " + " | ".join([*cells, f"**{verdict}**"]) + " |"
