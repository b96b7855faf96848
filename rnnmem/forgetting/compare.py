"""Published beside reproduced for the forgetting study (docs/studies/forgetting.md).

The blog's two tables (LSTM, GRU; 8 x 8 cells of (n_in, units)) give the mean number of
steps until the two output streams converge, over 10 runs, one decimal, no sd. The post
does not define "converge", so every metric the study computes is set against them:

    Blog tables, <metric>   per published cell, the metric's mean over the tier's runs
                            (rnnmem/core/compare.py compare_mean, no published sd)

Agreement (RULE): the published mean is itself a mean of 10 runs with its own sampling
error, assumed the size of ours, so it agrees when it lies within sqrt(2) times the half
width of the reproduced 95% interval, plus its rounding (0.05: one decimal). A published
cell the tier did not run is "not run" (never a zero).

Per cell type and metric (comparison_metrics.csv): cells run and agreeing, the median over
cells of reproduced / published, the median |log10 ratio| and Spearman's rank correlation
over the cells; the closest metric is the one with the smallest median |log10 ratio| over
both cell types. Figures: published against reproduced and heat maps
(published | reproduced | log10 ratio) for the primary metric K_exact and the closest one.
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from rnnmem.core.compare import (
    AGREES,
    DIFFERS,
    NOT_RUN,
    TABLE_COLUMNS,
    compare_mean,
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
from rnnmem.forgetting.settings import CELL_LABEL, CELLS

BLOG_COLUMNS = ["cell", "n_in", "units", "mean_steps_to_converge"]
PRIMARY_METRIC = "K_exact"
ROUNDING = 0.05  # the blog prints one decimal
RULE = "within sqrt(2) x the reproduced 95% half width + 0.05 (the blog's own 10-run error)"
PAPER = {"runs": 10, "steps": 100_000, "prefix": 1_000}  # the post's protocol, for notes only
ASSUMED = (
    "the post's framework, initial weights and meaning of 'converge' are assumptions "
    "(docs/studies/forgetting.md §10)"
)
METRIC_COLUMNS = [
    "cell",
    "metric",
    "published_cells",
    "cells_run",
    "cells_agree",
    "median_ratio",
    "median_abs_log10_ratio",
    "spearman_rho",
    "spearman_p",
    "closest",
]
FIGURES = {"identity": "published against reproduced", "grid": "heat maps"}


def run_metrics(runs: pd.DataFrame) -> list[str]:
    """The metrics runs.csv holds, in table order (each has a `<metric>_censored` flag)."""
    return [c[: -len("_censored")] for c in runs.columns if c.endswith("_censored")]


def tolerance(values: np.ndarray) -> float:
    """RULE's tolerance for one cell's runs (the rounding alone below two runs)."""
    values = values[np.isfinite(values)]
    if len(values) < 2:
        return ROUNDING
    half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values))
    return float(math.sqrt(2) * half + ROUNDING)


def _tier_note(cell: pd.DataFrame, metric: str) -> str:
    seen = {"runs": len(cell), "steps": int(cell["steps"].iloc[0])}
    seen["prefix"] = int(cell["prefix"].iloc[0])
    words = {"runs": "{} runs", "steps": "T = {} steps", "prefix": "D = {}"}
    parts = [
        f"{words[k].format(v)} (the post: {PAPER[k]})" for k, v in seen.items() if v != PAPER[k]
    ]
    censored = int(cell[f"{metric}_censored"].sum())
    notes = ["this tier runs " + ", ".join(parts)] if parts else []
    if censored:
        notes.append(f"{censored} of {len(cell)} runs censored at T - D")
    return "; ".join([*notes, ASSUMED])


def blog_rows(published: pd.DataFrame, runs: pd.DataFrame | None, source: str) -> list[dict]:
    """Every published cell under every metric of runs.csv (runs None: none ran)."""
    metrics = run_metrics(runs) if runs is not None else [PRIMARY_METRIC]
    rows = []
    for metric in metrics:
        for p in published.itertuples():
            cell = None
            if runs is not None:
                key = (runs["cell"] == p.cell) & (runs["n_in"] == p.n_in)
                cell = runs[key & (runs["units"] == p.units)]
            value = float(p.mean_steps_to_converge)
            if cell is None or cell.empty:
                result = not_run(value, None)
                note = "this tier does not run the cell (forgetting.cells, .n_in, .units)"
            else:
                values = cell[metric].to_numpy(float)
                result = compare_mean(value, None, values, ddof=1, tolerance=tolerance(values))
                note = _tier_note(cell, metric) if result["verdict"] == DIFFERS else ""
            label = f"{CELL_LABEL.get(p.cell, p.cell)} / n_in {p.n_in} / {p.units} units"
            head = {"table": f"Blog tables, {metric}", "cell": label}
            rows.append(head | {"quantity": f"mean steps ({metric})"} | result | {"rule": RULE})
            rows[-1] |= {"note": note, "source": source if result["verdict"] != NOT_RUN else ""}
    return rows


def metric_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Per cell type (and both) and metric: agreement, median ratio, Spearman, closest."""
    keys = rows["cell"].str.split(" / ").str[0]
    out = []
    for table in dict.fromkeys(rows["table"]):
        metric = table.split(", ", 1)[1]
        for cell in [*(CELL_LABEL[c] for c in CELLS), "both"]:
            block = rows[(rows["table"] == table) & ((keys == cell) | (cell == "both"))]
            if block.empty:
                continue
            ran = block[block["verdict"] != NOT_RUN]
            pub, rep = ran["published"].to_numpy(float), ran["reproduced"].to_numpy(float)
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = rep / pub
                log_ratio = np.abs(np.log10(ratio))
            rho, p = (math.nan, math.nan)
            if len(ran) >= 3 and np.ptp(pub) > 0 and np.ptp(rep) > 0:
                rho, p = (float(v) for v in stats.spearmanr(pub, rep))
            out.append(
                dict(
                    cell=cell,
                    metric=metric,
                    published_cells=len(block),
                    cells_run=len(ran),
                    cells_agree=int((ran["verdict"] == AGREES).sum()),
                    median_ratio=float(np.median(ratio)) if len(ran) else math.nan,
                    median_abs_log10_ratio=float(np.median(log_ratio)) if len(ran) else math.nan,
                    spearman_rho=rho,
                    spearman_p=p,
                )
            )
    table = pd.DataFrame(out, columns=METRIC_COLUMNS)
    both = table[(table["cell"] == "both") & table["median_abs_log10_ratio"].notna()]
    best = both.loc[both["median_abs_log10_ratio"].idxmin(), "metric"] if len(both) else None
    table["closest"] = (table["cell"] == "both") & (table["metric"] == best)
    return table


def closest_metric(metrics: pd.DataFrame) -> str | None:
    chosen = metrics.loc[metrics["closest"], "metric"]
    return str(chosen.iloc[0]) if len(chosen) else None


# ------------------------------------------------------------------------ figures
def shown_metrics(rows: pd.DataFrame, closest: str | None) -> list[str]:
    """K_exact (the primary metric, where it was computed) and the closest metric."""
    held = [t.split(", ", 1)[1] for t in dict.fromkeys(rows["table"])]
    return list(dict.fromkeys(m for m in (PRIMARY_METRIC, closest) if m in held))


def _grid(rows: pd.DataFrame, metric: str, cell: str) -> Grid:
    block = rows[(rows["table"] == f"Blog tables, {metric}")]
    block = block[block["cell"].str.startswith(f"{CELL_LABEL[cell]} /")]
    parts = block["cell"].str.split(" / ")
    n_in = parts.str[1].str.split(" ").str[1].astype(int).to_numpy()
    units = parts.str[2].str.split(" ").str[0].astype(int).to_numpy()
    rows_, cols = sorted(set(n_in)), sorted(set(units))
    pub, rep = (np.full((len(rows_), len(cols)), np.nan) for _ in range(2))
    for i, j, r in zip(n_in, units, block.itertuples(), strict=True):
        pub[rows_.index(i), cols.index(j)] = r.published
        rep[rows_.index(i), cols.index(j)] = r.reproduced
    name = f"{CELL_LABEL[cell]}, {metric}"
    return Grid(name, pub, rep, rows_, cols, "input size n_in", "units")


def write_figures(rows: pd.DataFrame, closest: str | None, pngs: dict, tier: str) -> None:
    metrics = shown_metrics(rows, closest)
    shown = rows[rows["table"].isin([f"Blog tables, {m}" for m in metrics])]
    panel = shown["cell"].str.split(" / ").str[0] + ", " + shown["table"].str.split(", ").str[1]
    half = (shown["ci_high"] - shown["ci_low"]).to_numpy(float) / 2
    tol = np.nan_to_num(math.sqrt(2) * half) + ROUNDING  # RULE's tolerance, across
    title = "Blog tables: mean steps until the outputs converge"
    identity_figure(shown, panel.to_numpy(), None, pngs["identity"], tier, title, tol)
    grids = [_grid(rows, m, c) for m in metrics for c in CELLS]
    values = np.concatenate([np.ravel([g.published, g.reproduced]) for g in grids])
    high = float(np.nanmax(values)) if np.isfinite(values).any() else 1.0
    heatmap_comparison(grids, pngs["grid"], tier, title, (0.1, max(high, 1.0)), log=True)


# ----------------------------------------------------------------------- markdown
def markdown(rows: pd.DataFrame, metrics: pd.DataFrame, tier: str, links: dict) -> str:
    closest = closest_metric(metrics)
    lines = ["# Published beside reproduced: forgetting time", "", f"Tier: **{tier}**.", ""]
    for table in dict.fromkeys(rows["table"]):
        lines.append(f"- {summary_line(table, rows[rows['table'] == table], 'means', 'agree')}")
    lines += ["", f"Agreement: {RULE}.", ""]
    lines += ["## Agreement per cell type and metric", ""]
    lines += [
        "The post does not say what 'converge' means, so every metric is compared. Closest "
        f"metric (smallest median |log10 reproduced / published| over both cell types): "
        f"**{closest or 'none (no cell ran)'}**.",
        "",
        "| cell type | metric | cells run | agree | median ratio | median abs log10 ratio "
        "| Spearman rho (p) |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for m in metrics.itertuples():
        rho = (
            "" if not np.isfinite(m.spearman_rho) else f"{m.spearman_rho:.2f} ({m.spearman_p:.2g})"
        )
        name = f"**{m.metric}**" if m.closest else m.metric
        ratio, log = (
            f"{v:.3g}" if np.isfinite(v) else "" for v in (m.median_ratio, m.median_abs_log10_ratio)
        )
        lines.append(
            f"| {m.cell} | {name} | {m.cells_run} of {m.published_cells} | {m.cells_agree} "
            f"| {ratio} | {log} | {rho} |"
        )
    for metric in shown_metrics(rows, closest):
        table = f"Blog tables, {metric}"
        block = rows[(rows["table"] == table) & (rows["verdict"] != NOT_RUN)]
        missing = int(((rows["table"] == table) & (rows["verdict"] == NOT_RUN)).sum())
        lines += ["", f"## {table} (cells this tier ran)", ""]
        lines += [*MARKDOWN_HEAD, *(markdown_row(r) for r in block.itertuples())]
        if missing:
            lines += ["", f"{missing} published cells not run by this tier (comparison.csv)."]
    lines += ["", "## Known causes of disagreement and cells not run", ""]
    for note, count in rows.loc[rows["note"] != "", "note"].value_counts(sort=False).items():
        lines.append(f"- {note} ({count} rows)")
    lines += ["", "## Figures", ""]
    lines += [f"![{name}]({path})\n" for name, path in links.items()]
    return "\n".join(lines)


# ---------------------------------------------------------------------- command
def read_published(path) -> pd.DataFrame:
    frame = read_csv(path)
    missing = [c for c in BLOG_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: published table lacks the columns {missing}")
    unknown = sorted(set(frame["cell"]) - set(CELLS))
    if unknown:
        raise ValueError(f"{path}: unknown cell types {unknown} (known: {list(CELLS)})")
    return frame


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnmem compare-forgetting")
    parser.add_argument("--blog", required=True, help="published CSV (data/published/)")
    parser.add_argument("--runs", required=True, help="the primary variant's runs.csv")
    parser.add_argument("--tier", required=True)
    parser.add_argument("--csv", required=True, help="comparison table to write")
    parser.add_argument("--metrics-csv", required=True, help="per cell type and metric")
    parser.add_argument("--md", required=True, help="comparison page (Markdown) to write")
    for name in FIGURES:
        parser.add_argument(f"--{name}-figure", required=True, help="PNG (and .pdf) to write")
    args = parser.parse_args(argv)
    runs = read_csv(args.runs)
    rows = blog_rows(read_published(args.blog), runs, f"aggregate_forgetting_torch: {args.runs}")
    rows = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    metrics = metric_table(rows)
    record = provenance(
        tier=args.tier,
        published=[Path(args.blog).name],
        tables=[Path(args.runs).as_posix()],
        jobs=jobs_behind([args.runs]),
    )
    write_csv(args.csv, rows, provenance=record)
    write_csv(args.metrics_csv, metrics, provenance=record)
    pngs = {name: getattr(args, f"{name}_figure") for name in FIGURES}
    write_figures(rows, closest_metric(metrics), pngs, args.tier)
    for png in pngs.values():
        write_json(sidecar_path(png), record)
    md_dir = Path(args.md).parent
    links = {FIGURES[n]: Path(os.path.relpath(p, md_dir)).as_posix() for n, p in pngs.items()}
    write_text(args.md, markdown(rows, metrics, args.tier, links))
    return 0
