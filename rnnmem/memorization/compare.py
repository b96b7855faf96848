"""Published beside reproduced for the memorization study (docs/studies/memorization.md).

    Fig. 6          RNN, Def. 1: per annotated (l, c, p) cell that the tier ran, the mean
                    final loss over seeds against the value read off the figure, within the
                    reading error (0.003; rnnmem/core/compare.py compare_mean)
    Fig. 6 learned  the same cells: learned (L < theta) or not, published against reproduced
    Text            the numbers the text states: the fixed-guess level 0.25 (configurations
                    that learned nothing, L > 0.2, end there within 0.01), no LSTM at p = 10
                    below 0.04 (per experiment that trains LSTMs: the lowest L at p = 10),
                    and MC <= N - (l - 1) per trained network shape (the largest MC of its
                    trained networks, within the estimator's 0.05 slack)

Unannotated Fig. 6 cells hold no data (drawn at the bottom of the colour scale) and are not
compared; an annotated cell outside the tier's grid is "not run" (never a zero). Writes
comparison.csv (+ record), comparison.md and the figures: published against reproduced
(Fig. 6 per layer count, the text's numbers) and Fig. 6 as heat maps (published |
reproduced | difference).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import pandas as pd

from rnnmem.core.compare import (
    AGREES,
    DIFFERS,
    NOT_RUN,
    TABLE_COLUMNS,
    compare_mean,
    compare_point,
    not_run,
    summary_line,
)
from rnnmem.core.compare_figures import (
    MARKDOWN_HEAD,
    Grid,
    heatmap_comparison,
    identity_figure,
    markdown_row,
)
from rnnmem.core.io import read_csv, write_csv, write_json, write_text
from rnnmem.core.provenance import jobs_behind, provenance, sidecar_path
from rnnmem.core.settings import add_settings_argument
from rnnmem.memorization.tables import NEAR_GUESS, bound, capacity_by_shape, config_losses

FIG6_COLUMNS = ["layers", "units", "position", "mean_abs_loss"]
READING_ERROR = 0.003  # of the Fig. 6 colours (data/published/README.md)
SATURATED = 0.248  # the colour scale ends at 0.25: a higher loss reads about 0.249
GUESS, GUESS_TOLERANCE = 0.25, 0.01  # E|U - 0.5|; claim 1 allows L <= 0.26
LSTM_FLOOR, LSTM_POSITION = 0.04, 10
MC_SLACK = 0.05  # sampling noise of the summed correlations (docs/studies/memorization.md §9)
PAPER = {"epochs": 5000, "seeds": 5}  # Fig. 6's protocol, for the notes only
RULES = {
    "Fig. 6": f"within the reading error (±{READING_ERROR:g})",
    "Fig. 6 learned": "the same learned / not learned call at theta",
    "Text": "as the text states it (each row's quantity)",
}
WHAT = {"Fig. 6": "means", "Fig. 6 learned": "calls", "Text": "numbers"}
CHOICES = "optimiser, initialisation and reported loss are this pipeline's choices (§11)"
UNANNOTATED = (
    "Fig. 6 cells without an annotation hold no data (drawn at the bottom of the colour "
    "scale): they are not compared"
)
FIGURES = {"fig6": "Fig. 6", "grid": "Fig. 6 as heat maps", "text": "the text's numbers"}


def _at_least(published: float, reproduced: float, seeds: int) -> dict:
    """A one-sided statement (reproduced >= published), in compare_point's columns."""
    row = compare_point(published, reproduced, 0.0, seeds=seeds)
    if row["verdict"] != NOT_RUN:
        agrees = reproduced >= published
        row |= {"verdict": AGREES if agrees else DIFFERS, "size": "" if agrees else row["size"]}
    return row


def _at_most(published: float, reproduced: float, slack: float, seeds: int) -> dict:
    row = compare_point(published, reproduced, 0.0, seeds=seeds)
    if row["verdict"] != NOT_RUN:
        agrees = reproduced <= published + slack
        row |= {"verdict": AGREES if agrees else DIFFERS, "size": "" if agrees else row["size"]}
    return row


def _fig6_note(cell: pd.DataFrame, position: int, published: float, reproduced: float) -> str:
    notes = []
    epochs, seeds = int(cell["epochs"].iloc[0]), len(cell)
    if epochs < PAPER["epochs"]:
        notes.append(f"this tier trains {epochs} epochs (the paper: {PAPER['epochs']})")
    if seeds != PAPER["seeds"]:
        notes.append(f"{seeds} seeds (the paper: {PAPER['seeds']})")
    if published >= SATURATED and reproduced > published:
        notes.append("the published colour saturates at 0.25: a higher loss reads about 0.249")
    if position > 10:
        notes.append("p > 10 uses a moved length window (§2)")
    return "; ".join([*notes, CHOICES])


def fig6_rows(published: pd.DataFrame, runs: pd.DataFrame, theta: float, source: str):
    """Fig. 6 (mean loss) and Fig. 6 learned rows, per annotated published cell."""
    fig6 = runs[(runs["experiment"] == "fig6") & (runs["cell"] == "rnn")]
    fig6 = fig6[fig6["task"] == "variable"]
    groups = dict(tuple(fig6.groupby(["layers", "units", "position"])))
    losses, calls = [], []
    annotated = published[published["mean_abs_loss"].notna()]
    for p in annotated.itertuples():
        value = float(p.mean_abs_loss)
        cell = groups.get((p.layers, p.units, p.position))
        label = f"l={p.layers}, c={p.units}, p={p.position}"
        learned = float(value < theta)
        if cell is None:
            loss, call = not_run(value, None), not_run(learned, None)
            note = "outside this tier's Fig. 6 grid (memorization.experiments.fig6)"
        else:
            values = cell["final_loss"].to_numpy(float)
            loss = compare_mean(value, None, values, ddof=1, tolerance=READING_ERROR)
            if loss["verdict"] == NOT_RUN:  # every seed diverged
                call, note = not_run(learned, None), f"all {len(cell)} seeds diverged"
            else:
                call = compare_point(learned, float(loss["reproduced"] < theta), 0.0, len(cell))
                note = _fig6_note(cell, p.position, value, loss["reproduced"])
        src = source if loss["verdict"] != NOT_RUN else ""
        for rows, result, table, quantity in (
            (losses, loss, "Fig. 6", "mean absolute loss"),
            (calls, call, "Fig. 6 learned", f"learned (L < {theta:g}: 1, else 0)"),
        ):
            head = {"table": table, "cell": label, "quantity": quantity}
            why = note if result["verdict"] != AGREES else ""
            rows.append(head | result | {"rule": RULES[table], "note": why, "source": src})
    return losses + calls


def text_rows(runs: pd.DataFrame, capacity: pd.DataFrame, sources: dict) -> list[dict]:
    """The text's numbers: the guess level, the LSTM floor at p = 10, the MC bound."""
    cfg = config_losses(runs)
    rows = []

    def add(cell, quantity, result, rule, note, source):
        row = {"table": "Text", "cell": cell, "quantity": quantity} | result
        ran = row["verdict"] != NOT_RUN
        row |= {"rule": rule, "note": note, "source": source if ran else ""}
        rows.append(row)

    guess = cfg["L"][cfg["L"] > NEAR_GUESS].to_numpy(float)
    result = compare_mean(GUESS, None, guess, ddof=1, tolerance=GUESS_TOLERANCE)
    note = "" if len(guess) else "no configuration of this tier ended near the guess (L > 0.2)"
    if result["verdict"] == DIFFERS:
        note = "failed training ends above the guess (claim 1 lists such runs)"
    quantity = "fixed-guess loss: mean L of configurations with L > 0.2 (n: configurations)"
    add("every experiment", quantity, result, f"within {GUESS_TOLERANCE:g}", note, sources["runs"])

    lstm = cfg[(cfg["cell"] == "lstm") & (cfg["position"] == LSTM_POSITION)]
    experiments = sorted(set(cfg.loc[cfg["cell"] == "lstm", "experiment"])) or ["fig5", "fig8"]
    for experiment in experiments:
        block = lstm[(lstm["experiment"] == experiment) & lstm["L"].notna()]
        quantity = f"lowest L of an LSTM at p = {LSTM_POSITION} (n: configurations)"
        if block.empty:
            result = not_run(LSTM_FLOOR, None)
            note = f"this tier trains no LSTM at p = {LSTM_POSITION} in {experiment}"
        else:
            low = block.loc[block["L"].idxmin()]
            result = _at_least(LSTM_FLOOR, float(low["L"]), len(block))
            note = "" if result["verdict"] == AGREES else "an LSTM memorised p = 10"
            note = note and f"{note} (l={low['layers']}, c={low['units']})"
        rule = f"not below {LSTM_FLOOR:g}"
        add(f"{experiment} LSTM", quantity, result, rule, note, sources["runs"])

    trained = capacity[capacity["weights"] == "trained"] if len(capacity) else capacity
    mc = capacity_by_shape(trained) if len(trained) else pd.DataFrame()
    rule = f"MC <= N - (l - 1) + {MC_SLACK:g} (the estimator's slack)"
    quantity = "largest MC of a trained network against N - (l - 1) (n: networks)"
    if mc.empty:
        result = not_run(float("nan"), None)
        add("every trained network", quantity, result, rule, "no capacity measured", "")
    for s in mc.itertuples():
        limit = float(bound(s.layers, s.units))
        result = _at_most(limit, float(s.mc_max), MC_SLACK, int(s.n_networks))
        note = "" if result["verdict"] == AGREES else "a trained network exceeds the layer bound"
        name = f"{s.experiment} {s.cell.upper()} l={s.layers}, c={s.units}"
        add(name, quantity, result, rule, note, sources["capacity"])
    return rows


# ------------------------------------------------------------------------ figures
def fig6_grids(rows: pd.DataFrame, published: pd.DataFrame) -> list[Grid]:
    """One grid per layer count: y = c (1 at the bottom), x = p."""
    fig6 = rows[rows["table"] == "Fig. 6"]
    reproduced = dict(zip(fig6["cell"], fig6["reproduced"], strict=True))
    grids = []
    for layers, block in published.groupby("layers", sort=True):
        units, positions = sorted(set(block["units"])), sorted(set(block["position"]))
        pub, rep = (np.full((len(units), len(positions)), np.nan) for _ in range(2))
        for p in block.itertuples():
            i, j = units.index(p.units), positions.index(p.position)
            pub[i, j] = p.mean_abs_loss
            rep[i, j] = reproduced.get(f"l={p.layers}, c={p.units}, p={p.position}", np.nan)
        grids.append(Grid(f"l = {layers}", pub, rep, units, positions, "units c", "position p"))
    return grids


def write_figures(rows: pd.DataFrame, published: pd.DataFrame, pngs: dict, tier: str) -> None:
    fig6 = rows[rows["table"] == "Fig. 6"]
    panel = ("l = " + fig6["cell"].str.split(",").str[0].str[2:]).to_numpy()
    title = "Fig. 6: mean absolute loss"
    identity_figure(fig6, panel, None, pngs["fig6"], tier, title, READING_ERROR)
    grids = fig6_grids(rows, published)
    heatmap_comparison(grids, pngs["grid"], tier, title, (0.0, 0.25), annotate=False)
    text = rows[(rows["table"] == "Text") & rows["published"].notna()]
    kind = text["quantity"].str.split(":| of| against").str[0]
    identity_figure(text, kind.to_numpy(), None, pngs["text"], tier, "The text's numbers")


# ----------------------------------------------------------------------- markdown
def markdown(rows: pd.DataFrame, tier: str, links: dict) -> str:
    tables = list(dict.fromkeys(rows["table"]))
    lines = ["# Published beside reproduced: memorization", "", f"Tier: **{tier}**.", ""]
    for table in tables:
        block = rows[rows["table"] == table]
        lines.append(f"- {summary_line(table, block, WHAT[table], RULES[table])}")
    lines += ["", f"{UNANNOTATED}."]
    for table in tables:
        block = rows[rows["table"] == table]
        ran = block[block["verdict"] != NOT_RUN]
        lines += ["", f"## {table}", "", f"Agreement: {RULES[table]}.", ""]
        lines += [*MARKDOWN_HEAD, *(markdown_row(r) for r in ran.itertuples())]
        missing = len(block) - len(ran)
        if missing:
            lines += ["", f"{missing} published numbers not run by this tier (comparison.csv)."]
    lines += ["", "## Known causes of disagreement and cells not run", ""]
    lines += ["(§ numbers: docs/studies/memorization.md.)", ""]
    for note, count in rows.loc[rows["note"] != "", "note"].value_counts(sort=False).items():
        lines.append(f"- {note} ({count} rows)")
    lines += ["", "## Figures", ""]
    lines += [f"![{name}]({path})\n" for name, path in links.items()]
    return "\n".join(lines)


# ---------------------------------------------------------------------- command
def read_published(path) -> pd.DataFrame:
    frame = read_csv(path)
    missing = [c for c in FIG6_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: published table lacks the columns {missing}")
    return frame


def comparison_rows(published, runs, capacity, theta: float, sources: dict) -> pd.DataFrame:
    rows = fig6_rows(published, runs, theta, sources["runs"])
    rows += text_rows(runs, capacity, sources)
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnmem compare-memorization")
    add_settings_argument(parser)  # {"theta": memorization.theta}
    parser.add_argument("--fig6", required=True, help="published CSV (data/published/)")
    parser.add_argument("--runs", required=True, help="results/memorization/runs.csv")
    parser.add_argument("--capacity", required=True, help="results/memorization/capacity.csv")
    parser.add_argument("--tier", required=True)
    parser.add_argument("--csv", required=True, help="comparison table to write")
    parser.add_argument("--md", required=True, help="comparison page (Markdown) to write")
    for name in FIGURES:
        parser.add_argument(f"--{name}-figure", required=True, help="PNG (and .pdf) to write")
    args = parser.parse_args(argv)
    if sorted(args.settings) != ["theta"]:
        raise ValueError(f"--settings: expected exactly ['theta'], got {sorted(args.settings)}")
    published = read_published(args.fig6)
    runs = read_csv(args.runs)
    try:
        capacity = read_csv(args.capacity)
    except pd.errors.EmptyDataError:  # no network probed: aggregate writes an empty table
        capacity = pd.DataFrame()
    sources = {
        "runs": f"aggregate_memorization: {args.runs}",
        "capacity": f"aggregate_memorization: {args.capacity}",
    }
    rows = comparison_rows(published, runs, capacity, args.settings["theta"], sources)
    record = provenance(
        tier=args.tier,
        settings=args.settings,
        published=[Path(args.fig6).name],
        tables=[Path(t).as_posix() for t in (args.runs, args.capacity)],
        jobs=jobs_behind([args.runs, args.capacity]),
    )
    write_csv(args.csv, rows, provenance=record)
    pngs = {name: getattr(args, f"{name}_figure") for name in FIGURES}
    write_figures(rows, published, pngs, args.tier)
    for png in pngs.values():
        write_json(sidecar_path(png), record)
    md_dir = Path(args.md).parent
    links = {FIGURES[n]: Path(os.path.relpath(p, md_dir)).as_posix() for n, p in pngs.items()}
    write_text(args.md, markdown(rows, args.tier, links))
    return 0
