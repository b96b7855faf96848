"""Figures of the long-memory study (long-memory.md §8-10), from the tables of `aggregate`.

* `rmse_boxplot`: test RMSE over seeds, one panel per dataset, models in the paper's order
  (Experiment 1); `exp2_boxplot`: the same for Experiment 2 with the noise level drawn.
* `learning_curve_figure`: median and interquartile band over seeds of the train and
  validation loss (scaled MSE) against the epoch, one panel per model, one figure per dataset.
* `prediction_figure`: the test segment, true values and the best seed's one-step-ahead
  predictions, one panel per model family (RNN: rnn, rnn2, mrnnf, mrnn; LSTM: lstm,
  mlstmf, mlstm; others: rwa, mist).
* `k_sweep_figure`: Experiment 3, mean test RMSE +- sd (ddof 0) against K per (dataset, model).

Every function takes its tables and the output path explicitly and writes PNG + PDF through
rnnmem.core.plotting.save_figure (byte-reproducible, tier stamped). Missing models or
datasets are named in the figure, an empty input gives a figure with a note, never a crash.
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
from rnnmem.long_memory.study import (  # noqa: E402
    DATASET_ORDER,
    EXP2_MODELS,
    MAIN_H,
    MAIN_K,
    MODEL_LABEL,
    MODEL_ORDER,
    PRIMARY_SPLIT,
    SWEEP_MODELS,
    finite,
    rank,
)

FAMILIES = (
    ("RNN family", ("rnn", "rnn2", "mrnnf", "mrnn")),
    ("LSTM family", ("lstm", "mlstmf", "mlstm")),
    ("other baselines", ("rwa", "mist")),
)
EXPECTED_MODELS = {
    "exp1": MODEL_ORDER,
    "exp2": EXP2_MODELS,
    "exp3": SWEEP_MODELS,
}
COLOURS = dict(zip(MODEL_ORDER, plt.get_cmap("tab10").colors, strict=False))
STAMP_STRIP = 0.2  # inches kept free at the bottom for save_figure's tier stamp


def label(model: str) -> str:
    return MODEL_LABEL.get(model, model)


def new_figure(width: float, height: float, rows: int = 1, cols: int = 1, **kwargs):
    """Constrained-layout subplots (always a 2-D axes array) that leave the tier stamp room."""
    fig, axes = plt.subplots(
        rows, cols, figsize=(width, height), layout="constrained", squeeze=False, **kwargs
    )
    strip = STAMP_STRIP / height
    fig.get_layout_engine().set(rect=(0.0, strip, 1.0, 1.0 - strip))
    return fig, axes


def grid_shape(n: int, max_cols: int) -> tuple[int, int]:
    cols = min(n, max_cols)
    return -(-n // cols), cols


def note_figure(path, title: str, message: str, tier: str | None):
    """A figure that says why it has no data."""
    fig = plt.figure(figsize=(7, 2.4))
    fig.suptitle(title)
    fig.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    return save_figure(fig, path, tier)


def missing_text(expected, present) -> str:
    missing = [label(m) for m in expected if m not in set(present)]
    return f"missing: {', '.join(missing)}" if missing else ""


def ordered(values, order) -> list:
    return sorted(set(values), key=lambda v: rank(order, v))


def _select(table: pd.DataFrame, **where) -> pd.DataFrame:
    mask = np.ones(len(table), dtype=bool)
    for column, value in where.items():
        if value is not None:
            mask &= (table[column] == value).to_numpy()
    return table[mask]


def _seed_range(counts) -> str:
    low, high = int(min(counts)), int(max(counts))
    return f"{low} seed{'s' * (low != 1)}" if low == high else f"{low}-{high} seeds"


# ---------------------------------------------------------------------------------------
# Test RMSE boxplots (Experiments 1 and 2)
# ---------------------------------------------------------------------------------------
def rmse_boxplot(
    runs: pd.DataFrame,
    path,
    tier: str | None,
    experiment: str = "exp1",
    split: str | None = PRIMARY_SPLIT,
    K: int | None = MAIN_K,
    H: int | None = MAIN_H,
    reference: float | None = None,
    title: str | None = None,
):
    """Boxes of the per-seed test RMSE (original units), one panel per dataset.

    `reference`: a horizontal line (Experiment 2: the noise sd). Seeds with a non-finite RMSE
    are left out and counted in the panel title."""
    rows = _select(runs, experiment=experiment, split=split, K=K, H=H)
    title = title or f"Test RMSE over seeds ({experiment})"
    where = f"split {split}, K={K}, H={H}"
    if rows.empty:
        return note_figure(path, title, f"No runs of {experiment} ({where}).", tier)
    datasets = ordered(rows["dataset"], DATASET_ORDER)
    n_rows, n_cols = grid_shape(len(datasets), 2)
    fig, axes = new_figure(max(6.5, 5.2 * n_cols), 3.6 * n_rows + 0.8, n_rows, n_cols)
    for ax, dataset in zip(axes.flat, datasets, strict=False):
        block = rows[rows["dataset"] == dataset]
        models = ordered(block["model"], MODEL_ORDER)
        data = [finite(block.loc[block["model"] == m, "rmse"]) for m in models]
        shown = [i for i, d in enumerate(data) if len(d)]
        ax.boxplot(
            [data[i] for i in shown],
            positions=shown,
            widths=0.6,
            tick_labels=[label(models[i]) for i in shown],
            flierprops={"markersize": 3},
        )
        for i in shown:  # the seeds themselves: with few seeds a box says little
            ax.plot(np.full(len(data[i]), i), data[i], ".", color=COLOURS.get(models[i]), ms=3)
        if reference is not None:
            ax.axhline(reference, color="0.4", ls="--", lw=0.8, label=f"noise sd {reference:g}")
            ax.legend(loc="best", fontsize=7)
        ax.set_xlim(-0.6, len(models) - 0.4)
        ax.set_xticks(range(len(models)), [label(m) for m in models], rotation=45, ha="right")
        ax.set_ylabel("test RMSE (original units)")
        notes = [missing_text(EXPECTED_MODELS.get(experiment, MODEL_ORDER), models)]
        lost = len(block) - sum(len(d) for d in data)
        notes.append(f"{lost} non-finite RMSE left out" if lost else "")
        seeds = block.groupby("model")["seed"].nunique()
        head = f"{dataset} ({_seed_range(seeds)})"
        ax.set_title("\n".join([head] + [n for n in notes if n]), fontsize=9)
    for ax in axes.flat[len(datasets) :]:
        ax.set_visible(False)
    fig.suptitle(f"{title}\n{where}")
    return save_figure(fig, path, tier)


def exp2_boxplot(runs: pd.DataFrame, path, tier: str | None, noise_level: float = 1.0, **kw):
    """Experiment 2: RNN-generated short-memory data, with the noise sd as reference line."""
    title = "Experiment 2: test RMSE on RNN-generated data"
    return rmse_boxplot(runs, path, tier, "exp2", reference=noise_level, title=title, **kw)


# ---------------------------------------------------------------------------------------
# Learning curves
# ---------------------------------------------------------------------------------------
def learning_curve_figure(
    curves: pd.DataFrame,
    dataset: str,
    path,
    tier: str | None,
    split: str | None = PRIMARY_SPLIT,
    K: int | None = MAIN_K,
    H: int | None = MAIN_H,
    models=MODEL_ORDER,
):
    """Median (line) and interquartile band over seeds of train and validation loss."""
    rows = _select(curves, dataset=dataset, split=split, K=K, H=H)
    title = f"Learning curves, {dataset} (split {split}, K={K}, H={H})"
    present = [m for m in ordered(rows["model"], MODEL_ORDER) if m in models]
    if not present:
        return note_figure(path, title, f"No learning curves of {dataset} for these models.", tier)
    n_rows, n_cols = grid_shape(len(present), 3)
    fig, axes = new_figure(3.6 * n_cols, 2.7 * n_rows + 0.7, n_rows, n_cols)
    for ax, model in zip(axes.flat, present, strict=False):
        curve = rows[rows["model"] == model].sort_values("epoch")
        epoch = curve["epoch"].to_numpy()
        for name, colour, text in (("train", "C0", "train"), ("val", "C1", "validation")):
            low, high = curve[f"{name}_q25"], curve[f"{name}_q75"]
            ax.fill_between(epoch, low, high, color=colour, alpha=0.25, lw=0)
            ax.plot(epoch, curve[f"{name}_median"], color=colour, lw=1.0, label=text)
        shown = finite(curve.filter(regex="_(median|q25|q75)$").to_numpy().ravel())
        if len(shown) and (shown > 0).all():
            ax.set_yscale("log")  # losses span decades over training
        n = curve["n_seeds"].to_numpy()
        ax.set_title(f"{label(model)} (seeds {n[0]} at epoch 0, {n[-1]} at {epoch[-1]})")
        ax.set_xlabel("epoch")
        ax.set_ylabel("MSE (scaled units)")
    axes.flat[0].legend(loc="upper right", fontsize=7)
    for ax in axes.flat[len(present) :]:
        ax.set_visible(False)
    note = missing_text(models, present)
    subtitle = "median and interquartile range over the seeds still running"
    fig.suptitle(f"{title}\n{subtitle}" + (f"; {note}" if note else ""))
    return save_figure(fig, path, tier)


# ---------------------------------------------------------------------------------------
# Test segment with the best seed of each model
# ---------------------------------------------------------------------------------------
def prediction_figure(
    predictions: pd.DataFrame,
    dataset: str,
    path,
    tier: str | None,
    split: str | None = PRIMARY_SPLIT,
    K: int | None = MAIN_K,
    H: int | None = MAIN_H,
):
    """True test values and the best seed's predictions, one panel per model family."""
    rows = _select(predictions, dataset=dataset, split=split, K=K, H=H)
    title = f"Test segment of {dataset}: best seed of each model (split {split}, K={K}, H={H})"
    if rows.empty:
        return note_figure(path, title, f"No predictions of {dataset}.", tier)
    fig, axes = new_figure(10.0, 2.6 * len(FAMILIES) + 0.7, len(FAMILIES), 1, sharex=True)
    truth = rows.drop_duplicates("step").sort_values("step")
    for ax, (family, members) in zip(axes[:, 0], FAMILIES, strict=True):
        ax.plot(truth["step"], truth["true"], color="black", lw=0.8, label="true")
        present = [m for m in members if m in set(rows["model"])]
        for model in present:
            one = rows[rows["model"] == model].sort_values("step")
            text = f"{label(model)} (seed {one['seed'].iloc[0]}, RMSE {one['rmse'].iloc[0]:.4g})"
            ax.plot(one["step"], one["pred"], color=COLOURS[model], lw=0.7, alpha=0.85, label=text)
        note = missing_text(members, present)
        ax.set_title(family + (f" ({note})" if note else ""), fontsize=9)
        ax.set_ylabel("value (original units)")
        ax.legend(loc="upper right", fontsize=6.5, ncol=min(5, len(present) + 1))
    axes[-1, 0].set_xlabel("test step (one-step-ahead predictions from the true history)")
    fig.suptitle(title)
    return save_figure(fig, path, tier)


# ---------------------------------------------------------------------------------------
# Experiment 3: RMSE against K
# ---------------------------------------------------------------------------------------
def k_sweep_figure(
    summary: pd.DataFrame,
    path,
    tier: str | None,
    split: str | None = PRIMARY_SPLIT,
    H: int | None = MAIN_H,
    models=SWEEP_MODELS,
):
    """Mean test RMSE +- sd (ddof 0) over seeds against K, one panel per dataset."""
    rows = _select(summary, experiment="exp3", split=split, H=H)
    title = f"Experiment 3: test RMSE against the filter length K\n(split {split}, H={H})"
    rows = rows[rows["model"].isin(models)]
    if rows.empty:
        return note_figure(path, title, "No runs of exp3.", tier)
    datasets = ordered(rows["dataset"], DATASET_ORDER)
    n_rows, n_cols = grid_shape(len(datasets), 2)
    fig, axes = new_figure(max(6.5, 5.0 * n_cols), 3.3 * n_rows + 0.9, n_rows, n_cols)
    ks = sorted(rows["K"].unique())
    for ax, dataset in zip(axes.flat, datasets, strict=False):
        block = rows[rows["dataset"] == dataset]
        present = ordered(block["model"], MODEL_ORDER)
        for j, model in enumerate(present):
            line = block[block["model"] == model].sort_values("K")
            shift = (j - (len(present) - 1) / 2) * 0.6  # side by side so error bars stay apart
            ax.errorbar(
                line["K"] + shift,
                line["rmse_mean"],
                yerr=line["rmse_sd"],
                color=COLOURS[model],
                marker="o",
                ms=3,
                lw=1.0,
                capsize=2,
                label=f"{label(model)} ({_seed_range(line['n'])})",
            )
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.set_xlabel("K")
        ax.set_ylabel("mean test RMSE ± sd")
        note = missing_text(models, present)
        ax.set_title(dataset + (f"\n{note}" if note else ""), fontsize=9)
        ax.legend(fontsize=7)
    for ax in axes.flat[len(datasets) :]:
        ax.set_visible(False)
    fig.suptitle(title)
    return save_figure(fig, path, tier)


# ---------------------------------------------------------------------------------------
# Command line: `python -m rnnmem figures-long-memory`
# ---------------------------------------------------------------------------------------
def _pairs(items) -> list[tuple[str, str]]:
    """['arfima-paper=out.png', ...] -> [('arfima-paper', 'out.png'), ...]."""
    pairs = []
    for item in items or []:
        key, sep, path = item.partition("=")
        if not sep:
            raise ValueError(f"expected KEY=PATH, got {item!r}")
        pairs.append((key, path))
    return pairs


def figure_record(table, tier: str) -> dict:
    """The provenance record of a figure drawn from `table`: the jobs of the table's record."""
    return provenance(tier=tier, tables=[Path(table).name], jobs=jobs_behind([table]))


def main(argv=None) -> int:
    """`python -m rnnmem figures-long-memory`: every figure as PNG + PDF, and beside each PNG
    a provenance sidecar naming the jobs of the table it was drawn from."""
    parser = argparse.ArgumentParser(prog="python -m rnnmem figures-long-memory")
    for name in ("runs", "curves", "summary", "predictions"):
        parser.add_argument(f"--{name}", required=True, help=f"{name}.csv of the aggregation")
    parser.add_argument("--tier", required=True)
    parser.add_argument("--K", type=int, required=True, help="Experiment 1's filter length")
    parser.add_argument("--H", type=int, required=True, help="the main hidden size")
    parser.add_argument("--noise-level", type=float, required=True, help="Experiment 2's noise sd")
    parser.add_argument("--boxplots", nargs="*", default=[], help="SPLIT=PNG (Experiment 1)")
    parser.add_argument("--exp2-boxplot", help="PNG of Experiment 2's boxplot")
    parser.add_argument("--learning-curves", nargs="*", default=[], help="DATASET-SPLIT=PNG")
    parser.add_argument("--test-segments", nargs="*", default=[], help="DATASET-SPLIT=PNG")
    parser.add_argument("--k-sweep", help="PNG of Experiment 3's figure")
    args = parser.parse_args(argv)
    runs, curves = read_csv(args.runs), read_csv(args.curves)
    summary, predictions = read_csv(args.summary), read_csv(args.predictions)
    tier, K, H = args.tier, args.K, args.H
    drawn = []  # (PNG, the table it was drawn from)
    for split, path in _pairs(args.boxplots):
        rmse_boxplot(runs, path, tier, "exp1", split=split, K=K, H=H)
        drawn.append((path, args.runs))
    if args.exp2_boxplot:
        exp2_boxplot(runs, args.exp2_boxplot, tier, noise_level=args.noise_level, K=K, H=H)
        drawn.append((args.exp2_boxplot, args.runs))
    for key, path in _pairs(args.learning_curves):
        dataset, split = key.rsplit("-", 1)
        learning_curve_figure(curves, dataset, path, tier, split=split, K=K, H=H)
        drawn.append((path, args.curves))
    for key, path in _pairs(args.test_segments):
        dataset, split = key.rsplit("-", 1)
        prediction_figure(predictions, dataset, path, tier, split=split, K=K, H=H)
        drawn.append((path, args.predictions))
    if args.k_sweep:
        k_sweep_figure(summary, args.k_sweep, tier, H=H)
        drawn.append((args.k_sweep, args.summary))
    records = {table: figure_record(table, tier) for table in {t for _, t in drawn}}
    for png, table in drawn:
        write_json(sidecar_path(png), records[table])
    return 0
