"""Figures of the memory-distance study (docs/studies/memorization.md).

    python -m rnnmem figures-memorization --settings JSON --tier smoke \
        --runs runs.csv ... --esn-task esn_task.csv --out fig4_rnn_learning_curves.png ...

The paper's Figs. 4-9 plus a run-level loss histogram and a memory capacity figure (PNG +
PDF, tier stamped, byte-reproducible); the heat maps live in `heatmaps`. --out names the
files to write (<stem>.png and <stem>.pdf of stems in figure_list.FIGURES). An experiment
absent from a tier gets a figure with a note instead of panels, never a crash. Each PNG
gets a record `<png>.provenance.json` (its PDF shares it): the figure settings and the
jobs behind the tables. --settings: theta and curve_epochs of the study's config.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from rnnmem.core.io import write_json  # noqa: E402
from rnnmem.core.plotting import save_figure  # noqa: E402
from rnnmem.core.provenance import provenance, sidecar_path  # noqa: E402
from rnnmem.core.settings import ConfigError, add_settings_argument  # noqa: E402
from rnnmem.memorization.figure_list import FIGURES  # noqa: E402
from rnnmem.memorization.heatmaps import (  # noqa: E402
    figure_fig6_mean,
    figure_fig7_sd,
    figure_fig8,
    figure_fig9,
)
from rnnmem.memorization.plots import (  # noqa: E402
    CELL_LABEL,
    FIXED_GUESS,
    TASK_LABEL,
    new_figure,
    note_figure,
)
from rnnmem.memorization.tables import (  # noqa: E402
    HIST_TOP,
    HIST_WIDTH,
    NEAR_GUESS,
    SHAPE_KEYS,
    Tables,
    add_table_arguments,
    band_shares,
    config_losses,
    distance_table,
    experiment_rows,
    histogram_counts,
    jobs_behind_tables,
    tables_from,
    two_modes,
)

SETTINGS = ("curve_epochs", "theta")


def figure_learning_curves(t, experiment, cell, path, tier, theta, max_epoch=None):
    """Figs. 4/5: epoch training loss, one colour per p, one thin line per seed."""
    curves = experiment_rows(t.curves, experiment, cell)
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


def figure_histogram(t, path, tier, theta) -> None:
    """Run-level final losses of the Fig. 6 grid (claim 8: bimodality)."""
    runs = experiment_rows(t.runs, "fig6", "rnn")
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
    n_diverged = int(runs["diverged"].sum())
    ax.set_title(
        f"{title}\n{len(losses.dropna())} runs, {n_diverged} diverged (not shown), "
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
        Line2D([], [], color=colours(k), lw=4, label=f"l = {n}") for k, n in enumerate(layers)
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
    for ax, panel in zip(axes[0], panels, strict=True):
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
        "correlation of a linear readout (memorization.md §9.2)"
    )
    save_figure(fig, path, tier)


def drawings(t: Tables, tier: str, theta: float, curve_epochs: int) -> dict:
    """Per figure stem, the function that draws it to a PNG path (its PDF beside it)."""
    cfg = config_losses(t.runs)

    def curves(experiment, cell, window):
        return lambda path: figure_learning_curves(t, experiment, cell, path, tier, theta, window)

    return {
        "fig4_rnn_learning_curves": curves("fig4", "rnn", curve_epochs),
        "fig4_rnn_learning_curves_full": curves("fig4", "rnn", None),
        "fig5_lstm_learning_curves": curves("fig5", "lstm", curve_epochs),
        "fig5_lstm_learning_curves_full": curves("fig5", "lstm", None),
        "fig6_rnn_mean_loss": lambda path: figure_fig6_mean(cfg, t.runs, path, tier),
        "fig7_rnn_sd_loss": lambda path: figure_fig7_sd(cfg, t.runs, path, tier),
        "fig8_lstm_gru_mean_loss": lambda path: figure_fig8(cfg, t.runs, path, tier),
        "fig9_rnn_fixed_length": lambda path: figure_fig9(cfg, t.runs, path, tier),
        "loss_histogram": lambda path: figure_histogram(t, path, tier, theta),
        "memory_capacity": lambda path: figure_memory_capacity(t, path, tier, theta),
    }


def figure_paths(outputs) -> dict[str, Path]:
    """--out files -> {stem: PNG path}, in FIGURES order; each stem needs its PNG and its
    PDF side by side (save_figure writes both)."""
    outputs = [Path(p) for p in outputs]
    stems = {p.with_suffix("") for p in outputs}
    bad = [str(p) for p in outputs if p.suffix not in (".png", ".pdf") or p.stem not in FIGURES]
    unpaired = [
        str(s) for s in stems if not {s.with_suffix(".png"), s.with_suffix(".pdf")} <= set(outputs)
    ]
    if bad or unpaired:
        raise ConfigError(
            f"--out: unknown figures {bad} or a PNG without its PDF (or the reverse): {unpaired}; "
            f"figures are <stem>.png + <stem>.pdf with stem in {list(FIGURES)}"
        )
    by_stem = {s.name: s.with_suffix(".png") for s in stems}
    if len(by_stem) != len(stems):
        raise ConfigError("--out: a figure is named twice (in two folders)")
    return {stem: by_stem[stem] for stem in FIGURES if stem in by_stem}


def write_figures(t: Tables, pngs: dict, tier: str, theta: float, curve_epochs: int) -> list:
    """Draw the figures `pngs` names ({stem: PNG path}); returns the PNG paths."""
    draw = drawings(t, tier, theta, curve_epochs)
    for stem, path in pngs.items():
        draw[stem](path)
    return list(pngs.values())


def main(argv) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rnnmem figures-memorization",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_settings_argument(parser)
    parser.add_argument("--tier", required=True, help="tier name stamped on every figure")
    add_table_arguments(parser)
    parser.add_argument("--out", nargs="+", required=True, help="<stem>.png and <stem>.pdf files")
    args = parser.parse_args(argv)
    if sorted(args.settings) != sorted(SETTINGS):
        raise ConfigError(f"--settings: expected exactly {list(SETTINGS)}")
    pngs = figure_paths(args.out)
    theta, curve_epochs = args.settings["theta"], args.settings["curve_epochs"]
    record = provenance(settings=args.settings, tier=args.tier, jobs=jobs_behind_tables(args))
    for png in write_figures(tables_from(args), pngs, args.tier, theta, curve_epochs):
        write_json(sidecar_path(png), record)  # the PDF beside the PNG shares it
    return 0
