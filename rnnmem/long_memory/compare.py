"""Published beside reproduced for the long-memory study (docs/studies/long-memory.md).

One row per published number (rnnmem/core/compare.py makes each comparison):

    Table 2       test RMSE per dataset and model, Experiment 1, split `paper`: mean and sd
                  (ddof 0, A7) over seeds against the published mean and sd; DJI x100 as in
                  the paper (runs.csv holds original units, so DJI's RMSEs are scaled here)
    Experiment 2  the box plot of the test RMSE on the RNN-generated series: median,
                  quartiles and highest value, each within the published reading error;
                  the paper's generator was not published, so indicative only (§9)
    Tables 5, 6   review classification: rnnmem/long_memory/reviews/compare.py

A published cell the tier did not run is "not run" (never a zero) with the reason; a number
that differs carries the causes known for it (the tier's departures from the paper's
protocol, a baseline without public code). Writes comparison.csv (+ record),
comparison.md and the figures: published against reproduced per table (identity line,
published sd across, the reproduced 95% interval up) and Table 2's grid as heat maps
(published | reproduced | z).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from rnnmem.core.compare import (  # noqa: E402
    DIFFERS,
    TABLE_COLUMNS,
    compare_mean,
    compare_point,
    not_run,
    summary_line,
)
from rnnmem.core.compare_figures import (  # noqa: E402
    MARKDOWN_HEAD,
    identity_figure,
    markdown_row,
)
from rnnmem.core.io import read_csv, write_csv, write_json, write_text  # noqa: E402
from rnnmem.core.plotting import save_figure  # noqa: E402
from rnnmem.core.provenance import jobs_behind, provenance, sidecar_path  # noqa: E402
from rnnmem.long_memory.reviews import compare as reviews  # noqa: E402
from rnnmem.long_memory.study import MAIN_H, MAIN_K, MODEL_LABEL, PRIMARY_SPLIT  # noqa: E402

SCALED_X100 = ("DJI",)  # the paper's Table 2 shows DJI errors x100 (§6.4)
TABLE2_COLUMNS = ["dataset", "model", "rmse_mean", "rmse_sd"]
BOXPLOT = {  # published column -> (quantity, the statistic over seeds)
    "median": ("median test RMSE", np.median),
    "q1": ("lower quartile", lambda v: np.percentile(v, 25)),
    "q3": ("upper quartile", lambda v: np.percentile(v, 75)),
    "upper_outliers_to": ("highest value (top outlier)", np.max),
}
READING_ERROR = 1e-4  # of the box plot's values (data/published/README.md)
RULE2 = "within one published sd"
RULE_EXP2 = f"within the reading error (±{READING_ERROR:g})"
# The paper's protocol (docs/studies/long-memory.md §5.1, §8), for the notes only: never a
# default or a setting.
PAPER = {"seeds": 100, "max_epochs": 1000, "patience": 100}
NO_PUBLIC_CODE = ("rnn2", "rwa", "mist")  # A11: details are this pipeline's choices
GENERATOR = "Experiment 2's generator was not published: the series is the pipeline's own (§9)"
UNKNOWN = "cause not known (the hidden size and other settings were not published: A1, §14)"
FIGURES = {  # option -> what the figure shows (its alt text in comparison.md)
    "table2": "Table 2",
    "grid": "Table 2 as heat maps",
    "exp2": "Experiment 2",
    "table5": "Table 5",
    "table6": "Table 6",
}


# --------------------------------------------------------------------------- rows
def _tier_note(n_seeds: int, settings: dict | None) -> str:
    """How this tier's job differs from the paper's protocol ('' when it does not)."""
    seen = {"seeds": n_seeds}
    if settings is not None:
        seen |= {k: settings[k] for k in ("max_epochs", "patience") if k in settings}
    words = {"seeds": "{} seeds", "max_epochs": "at most {} epochs", "patience": "patience {}"}
    parts = [
        f"{words[k].format(v)} (the paper: {PAPER[k]})" for k, v in seen.items() if v != PAPER[k]
    ]
    return "this tier runs " + ", ".join(parts) if parts else ""


def _job(jobs: list[dict], dataset: str, model: str) -> dict | None:
    """The settings of the job behind a cell (split paper, K and H of the experiments)."""
    key = {"dataset": dataset, "split": PRIMARY_SPLIT, "model": model, "K": MAIN_K, "H": MAIN_H}
    return next((j for j in jobs if all(j.get(k) == v for k, v in key.items())), None)


def _seeds(runs, experiment: str, dataset: str, model: str):
    """(the cell's seed rows, why it was not run: '' when it was)."""
    if runs is None:
        return None, "the time-series experiments are not run by this tier"
    rows = runs[(runs["experiment"] == experiment) & (runs["split"] == PRIMARY_SPLIT)]
    key = {"exp1": "experiment1", "exp2": "experiment2"}[experiment]
    if experiment == "exp1" and dataset not in set(rows["dataset"]):
        return None, f"this tier does not train {dataset} (long_memory.{key}.datasets)"
    cell = rows[(rows["dataset"] == dataset) & (rows["model"] == model)]
    if cell.empty:
        return None, f"this tier does not train the model (long_memory.{key}.models)"
    if not np.isfinite(cell["rmse"].to_numpy(float)).any():
        return None, f"all {len(cell)} seeds diverged (no finite test RMSE)"
    return cell, ""


def table2_rows(published: pd.DataFrame, runs, jobs: list[dict], source: str) -> list[dict]:
    """Table 2: per published (dataset, model), the Experiment 1 seeds of split `paper`."""
    rows = []
    for p in published.itertuples():
        scale = 100.0 if p.dataset in SCALED_X100 else 1.0
        cell, why = _seeds(runs, "exp1", p.dataset, p.model)
        if cell is None:
            result, note = not_run(p.rmse_mean, p.rmse_sd), why
        else:
            values = cell["rmse"].to_numpy(float) * scale
            result = compare_mean(p.rmse_mean, p.rmse_sd, values, ddof=0)
            causes = [_tier_note(len(values), _job(jobs, p.dataset, p.model))]
            if p.model in NO_PUBLIC_CODE:
                causes.append(f"no public code for {MODEL_LABEL[p.model]} (A11)")
            causes = [c for c in causes if c] or [UNKNOWN]
            note = "; ".join(causes) if result["verdict"] == DIFFERS else ""
        quantity = "test RMSE x100" if scale != 1.0 else "test RMSE"
        head = {"table": "Table 2", "cell": f"{p.dataset} / {MODEL_LABEL.get(p.model, p.model)}"}
        rows.append(head | {"quantity": quantity} | result)
        rows[-1] |= {"rule": RULE2, "note": note, "source": source if cell is not None else ""}
    return rows


def exp2_rows(published: pd.DataFrame, runs, jobs: list[dict], source: str) -> list[dict]:
    """Experiment 2: each model's box-plot values against the seeds' statistics."""
    rows = []
    for p in published.itertuples():
        cell, why = _seeds(runs, "exp2", "rnn_generated", p.model)
        values = None if cell is None else cell["rmse"].to_numpy(float)
        values = None if values is None else values[np.isfinite(values)]
        job = _job(jobs, "rnn_generated", p.model)
        tier_note = "" if values is None else _tier_note(len(values), job)
        for column, (quantity, statistic) in BOXPLOT.items():
            value = float(getattr(p, column))
            if values is None:
                result, note = not_run(value, None), why
            else:
                reproduced = float(statistic(values))
                result = compare_point(value, reproduced, READING_ERROR, seeds=len(values))
                note = GENERATOR + (f"; {tier_note}" if tier_note else "")
            head = {"table": "Experiment 2", "cell": MODEL_LABEL.get(p.model, p.model)}
            rows.append(head | {"quantity": quantity} | result | {"rule": RULE_EXP2})
            rows[-1] |= {"note": note, "source": source if values is not None else ""}
    return rows


# ------------------------------------------------------------------------ figures
def grid_figure(rows: pd.DataFrame, png, tier: str):
    """Table 2 as heat maps: published | reproduced (both relative to the dataset's mean
    published RMSE, so the four series share a colour scale; numbers in the paper's units)
    | z = difference / published sd. Cells not run are blank and say so."""
    keys = rows["cell"].str.split(" / ", expand=True)
    datasets, models = list(dict.fromkeys(keys[0])), list(dict.fromkeys(keys[1]))
    grid = {n: np.full((len(datasets), len(models)), np.nan) for n in ("pub", "rep", "z")}
    for (d, m), r in zip(keys.itertuples(index=False), rows.itertuples(), strict=True):
        i, j = datasets.index(d), models.index(m)
        grid["pub"][i, j], grid["rep"][i, j], grid["z"][i, j] = r.published, r.reproduced, r.z
    scale = np.nanmean(grid["pub"], axis=1, keepdims=True)
    panels = (
        ("published", grid["pub"], grid["pub"] / scale, "viridis", (0.8, 1.6)),
        ("reproduced", grid["rep"], grid["rep"] / scale, "viridis", (0.8, 1.6)),
        ("z = difference / published sd", grid["z"], grid["z"], "coolwarm", (-4, 4)),
    )
    fig, axes = plt.subplots(1, 3, figsize=(16, 0.55 * len(datasets) + 2.2))
    for ax, (title, numbers, colour, cmap, (vmin, vmax)) in zip(axes, panels, strict=True):
        ax.imshow(np.ma.masked_invalid(colour), cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
        for i in range(len(datasets)):
            for j in range(len(models)):
                value = numbers[i, j]
                text = f"{value:+.2f}" if colour is numbers else f"{value:.3g}"
                text = text if np.isfinite(value) else "not run"
                ax.text(j, i, text, ha="center", va="center", fontsize=6)
        ax.set_xticks(range(len(models)), models, fontsize=7, rotation=45)
        ax.set_yticks(range(len(datasets)), datasets, fontsize=7)
        ax.set_title(title, fontsize=9)
    fig.suptitle("Table 2: test RMSE (DJI x100); colour relative to the dataset's mean", fontsize=9)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return save_figure(fig, png, tier)


def write_figures(rows: pd.DataFrame, pngs: dict[str, str], tier: str) -> None:
    """Every figure of FIGURES (pngs: name -> PNG path); the horizontal bar of a point
    comparison is its tolerance: the reading error, or Table 5's sd for Table 6."""
    t2 = rows[rows["table"] == "Table 2"]
    dataset, model = t2["cell"].str.split(" / ").str[0], t2["cell"].str.split(" / ").str[1]
    identity_figure(t2, dataset, model, pngs["table2"], tier, "Table 2: test RMSE")
    grid_figure(t2, pngs["grid"], tier)
    sd5 = rows[rows["table"] == "Table 5"].set_index(["cell", "quantity"])["published_sd"]
    t6 = rows[rows["table"] == "Table 6"]
    keys = zip(t6["cell"], t6["quantity"].str.rsplit(" (", n=1).str[0], strict=True)
    tolerances = {"exp2": READING_ERROR, "table5": 0.0, "table6": [sd5.get(k, 0.0) for k in keys]}
    for name, table in (("exp2", "Experiment 2"), ("table5", "Table 5"), ("table6", "Table 6")):
        block = rows[rows["table"] == table]
        panel, label, title = block["quantity"], block["cell"], TITLES[table]
        identity_figure(block, panel, label, pngs[name], tier, title, tolerances[name])


# ----------------------------------------------------------------------- markdown
TITLES = {
    "Table 2": "Table 2: test RMSE, Experiment 1 (split paper; DJI x100)",
    "Experiment 2": "Experiment 2: box plot of the test RMSE on the RNN-generated series",
    "Table 5": "Table 5: review classification, mean ± sd over seeds (authors layout)",
    "Table 6": "Table 6: review classification, best over seeds (authors layout)",
}
WHAT = {"Table 2": "means", "Experiment 2": "values", "Table 5": "means", "Table 6": "values"}


def markdown(rows: pd.DataFrame, tier: str, figures: dict[str, str]) -> str:
    """Summary lines, one table per published table, known causes, figures (relative)."""
    tables = list(dict.fromkeys(rows["table"]))
    lines = ["# Published beside reproduced: long memory", "", f"Tier: **{tier}**.", ""]
    for table in tables:
        block = rows[rows["table"] == table]
        lines.append(f"- {summary_line(table, block, WHAT[table], block['rule'].iloc[0])}")
    for table in tables:
        block = rows[rows["table"] == table]
        lines += ["", f"## {TITLES[table]}", "", f"Agreement: {block['rule'].iloc[0]}.", ""]
        lines += MARKDOWN_HEAD
        lines += [markdown_row(r) for r in block.itertuples()]
    lines += ["", "## Known causes of disagreement and cells not run", ""]
    lines += ["(A1-A16 and § numbers: docs/studies/long-memory.md.)", ""]
    notes = rows[rows["note"] != ""].groupby("note", sort=False)["table"]
    for note, which in notes:
        counts = ", ".join(f"{t} ({n})" for t, n in which.value_counts(sort=False).items())
        lines.append(f"- {note}: {counts}")
    lines += ["", "## Figures", ""]
    lines += [f"![{name}]({path})\n" for name, path in figures.items()]
    return "\n".join(lines)


# ---------------------------------------------------------------------- command
def _published(path, columns) -> pd.DataFrame:
    frame = read_csv(path)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: published table lacks the columns {missing}")
    return frame


def comparison_rows(args) -> tuple[pd.DataFrame, list[str]]:
    """Every published number's row, and the reproduced tables read."""
    tables = [t for t in (args.runs, args.reviews_runs) if t]
    runs = read_csv(args.runs) if args.runs else None
    lm_jobs = jobs_behind([args.runs]) if args.runs else []
    source = f"aggregate_long_memory: {args.runs}"
    rows = table2_rows(_published(args.table2, TABLE2_COLUMNS), runs, lm_jobs, source)
    boxplot = _published(args.exp2_boxplot, ["model", *BOXPLOT])
    rows += exp2_rows(boxplot, runs, lm_jobs, source)
    reviews_runs = read_csv(args.reviews_runs) if args.reviews_runs else None
    review_jobs = jobs_behind([args.reviews_runs]) if args.reviews_runs else []
    source = f"aggregate_reviews: {args.reviews_runs}"
    table5 = _published(args.table5, reviews.TABLE5_COLUMNS)
    table6 = _published(args.table6, reviews.TABLE6_COLUMNS)
    rows += reviews.table5_rows(table5, reviews_runs, review_jobs, source)
    rows += reviews.table6_rows(table6, table5, reviews_runs, review_jobs, source)
    return pd.DataFrame(rows, columns=TABLE_COLUMNS), tables


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnmem compare-long-memory")
    for name in ("table2", "exp2-boxplot", "table5", "table6"):
        parser.add_argument(f"--{name}", required=True, help="published CSV (data/published/)")
    parser.add_argument("--runs", help="results/long_memory/runs.csv, when the series ran")
    parser.add_argument("--reviews-runs", help="reviews/runs.csv, when the reviews ran")
    parser.add_argument("--tier", required=True)
    parser.add_argument("--csv", required=True, help="comparison table to write")
    parser.add_argument("--md", required=True, help="comparison page (Markdown) to write")
    for name in FIGURES:
        parser.add_argument(f"--{name}-figure", required=True, help="PNG (and .pdf) to write")
    args = parser.parse_args(argv)
    rows, tables = comparison_rows(args)
    published = [args.table2, args.exp2_boxplot, args.table5, args.table6]
    record = provenance(
        tier=args.tier,
        published=[Path(p).name for p in published],
        tables=[Path(t).as_posix() for t in tables],
        jobs=jobs_behind(tables),
    )
    write_csv(args.csv, rows, provenance=record)
    pngs = {name: getattr(args, f"{name}_figure") for name in FIGURES}
    write_figures(rows, pngs, args.tier)
    for png in pngs.values():
        write_json(sidecar_path(png), record)
    md_dir = Path(args.md).parent
    links = {FIGURES[n]: Path(os.path.relpath(p, md_dir)).as_posix() for n, p in pngs.items()}
    write_text(args.md, markdown(rows, args.tier, links))
    return 0
