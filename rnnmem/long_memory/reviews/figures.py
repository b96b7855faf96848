"""The review-classification figure: per-seed test accuracy per model (long-memory.md §11.3).

One panel per data layout (authors first). Each seed is a dot (jittered sideways by a fixed
rule, so the file is the same on every run), each model's mean a bar across its dots, and
the majority-class accuracy (the training split's most frequent class, on the test split)
a dashed line: on 50 test reviews accuracy moves in steps of 0.02, and a model that does not
clear that line has learnt nothing a constant guess would not.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from rnnmem.core.io import read_csv, write_json  # noqa: E402
from rnnmem.core.plotting import save_figure  # noqa: E402
from rnnmem.core.provenance import jobs_behind, provenance, sidecar_path  # noqa: E402
from rnnmem.long_memory.study import REVIEW_LAYOUT_ORDER, REVIEW_MODEL_ORDER, rank  # noqa: E402

JITTER = 0.28  # half-width of the band a model's dots spread over
TITLE = "Review classification: test accuracy per seed"


def _jitter(n: int) -> np.ndarray:
    """Fixed sideways offsets of n dots (a golden-ratio sequence: even, no randomness)."""
    return (np.modf(np.arange(n) * 0.6180339887498949)[0] - 0.5) * 2 * JITTER


def accuracy_figure(runs: pd.DataFrame, png_path, tier: str | None = None):
    """Write the figure (PNG + PDF); a note figure when there are no runs."""
    if runs.empty:
        fig = plt.figure(figsize=(7, 2.4))
        fig.suptitle(TITLE)
        fig.text(0.5, 0.5, "not run in this tier (long_memory.reviews)", ha="center")
        return save_figure(fig, png_path, tier)
    layouts = sorted(set(runs["layout"]), key=lambda v: rank(REVIEW_LAYOUT_ORDER, v))
    fig, axes = plt.subplots(
        1, len(layouts), figsize=(3.6 * len(layouts) + 0.6, 3.6), sharey=True, squeeze=False
    )
    for ax, layout in zip(axes[0], layouts, strict=True):
        rows = runs[runs["layout"] == layout]
        models = sorted(set(rows["model"]), key=lambda v: rank(REVIEW_MODEL_ORDER, v))
        for x, model in enumerate(models):
            accuracy = rows.loc[rows["model"] == model, "accuracy"].to_numpy(dtype=float)
            ax.scatter(x + _jitter(len(accuracy)), accuracy, s=10, alpha=0.6, color=f"C{x}")
            ax.hlines(accuracy.mean(), x - JITTER, x + JITTER, color="black", lw=1.5)
        majority = float(rows["majority_accuracy"].iloc[0])
        ax.axhline(majority, ls="--", color="grey", lw=1, label=f"majority class {majority:.2f}")
        labels = [rows.loc[rows["model"] == m, "label"].iloc[0] for m in models]
        ax.set_xticks(range(len(models)), labels)
        n = rows.groupby("model").size()
        seeds = f"{n.min()}" if n.min() == n.max() else f"{n.min()}-{n.max()}"
        ax.set_title(f"layout {layout} ({seeds} seeds per model)")
        ax.legend(loc="best", fontsize=7)
    axes[0][0].set_ylabel("test accuracy (50 reviews)")
    fig.suptitle(TITLE + " (bar: mean)")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return save_figure(fig, png_path, tier)


def main(argv=None) -> int:
    """`python -m rnnmem figures-reviews`: test_accuracy.png and .pdf from runs.csv, and the
    PNG's provenance sidecar naming the jobs of runs.csv's record."""
    parser = argparse.ArgumentParser(prog="python -m rnnmem figures-reviews")
    parser.add_argument("--runs", required=True, help="runs.csv of aggregate-reviews")
    parser.add_argument("--png", required=True, help="figure to write (and the same .pdf)")
    parser.add_argument("--tier", required=True)
    args = parser.parse_args(argv)
    record = provenance(
        tier=args.tier, tables=[Path(args.runs).name], jobs=jobs_behind([args.runs])
    )
    written = accuracy_figure(read_csv(args.runs), args.png, args.tier)
    write_json(sidecar_path(args.png), record)
    print("\n".join(str(p) for p in written))
    return 0
