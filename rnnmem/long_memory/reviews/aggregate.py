"""Per-seed result files of the review classifiers -> tidy tables (long-memory.md §11.3 "Report").

One .npz per (layout, model, seed), as written by train-reviews (rnnmem/long_memory/reviews/
jobs.py; meta: layout, model, label, K, H, seed, test{accuracy, precision, recall, f1, loss},
best_epoch, best_val_loss, majority_accuracy, n_params, device, tier). Here:

* `load_review_runs`: one row per seed file (REVIEW_RUN_COLUMNS), in the paper's order;
* `summary_table`: per (layout, model), n and, per metric, the mean, the sd (ddof = 0,
  long-memory.md A7) and the best over seeds (max; min for the loss) - "Table 5" and "Table 6";
* `markdown_tables`: Tables 5 and 6 per layout, `authors` (the reference's reshape,
  long-memory.md A10) first and primary, `transpose` labelled as the extra it is.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from rnnmem.core.io import load_arrays, write_csv, write_json, write_text
from rnnmem.core.provenance import jobs_behind, provenance, sidecar_path
from rnnmem.long_memory.study import (
    REVIEW_KEYS,
    REVIEW_LAYOUT_ORDER,
    REVIEW_METRICS,
    REVIEW_MODEL_ORDER,
    REVIEW_RUN_COLUMNS,
    rank,
)

LOWER_IS_BETTER = ("loss",)
REQUIRED_META = ("layout", "model", "label", "K", "H", "seed", "test", "best_epoch")
REQUIRED_META += ("best_val_loss", "majority_accuracy", "n_params", "device", "tier")
LAYOUT_TITLE = {
    "authors": "layout `authors` (the reference's reshape; primary, long-memory.md A10)",
    "transpose": "layout `transpose` (time-major as intended; an extra, not in the paper)",
}


def sort_runs(frame: pd.DataFrame, extra=()) -> pd.DataFrame:
    """Rows in the paper's order: layout (authors first), model (RNN, LSTM, MRNNF, MLSTMF)."""
    if frame.empty:
        return frame.reset_index(drop=True)
    key = frame.apply(
        lambda r: (
            (rank(REVIEW_LAYOUT_ORDER, r["layout"]), rank(REVIEW_MODEL_ORDER, r["model"]))
            + tuple(r[k] for k in extra)
        ),
        axis=1,
    )
    return frame.loc[key.sort_values(kind="stable").index].reset_index(drop=True)


def load_review_runs(files) -> pd.DataFrame:
    """Runs table: one row per seed file, columns REVIEW_RUN_COLUMNS. All files from one tier."""
    rows, tiers = [], set()
    for path in files:
        _, meta = load_arrays(path)
        missing = [k for k in REQUIRED_META if k not in meta]
        missing += [f"test.{m}" for m in REVIEW_METRICS if m not in meta.get("test", {})]
        if missing:
            raise ValueError(f"{path}: meta lacks {', '.join(missing)}")
        tiers.add(meta["tier"])
        row = {k: meta[k] for k in REVIEW_RUN_COLUMNS if k in meta and k not in REVIEW_METRICS}
        rows.append(row | {m: meta["test"][m] for m in REVIEW_METRICS})
    if len(tiers) > 1:
        raise ValueError(f"review run files from several tiers: {sorted(tiers)}")
    runs = pd.DataFrame(rows, columns=REVIEW_RUN_COLUMNS)
    runs = runs.astype({"K": "int64", "H": "int64", "seed": "int64", "best_epoch": "int64"})
    runs = runs.astype({m: float for m in (*REVIEW_METRICS, "best_val_loss", "majority_accuracy")})
    duplicated = runs.duplicated(["layout", "model", "K", "H", "seed"])
    if duplicated.any():
        first = runs[duplicated].iloc[0][REVIEW_KEYS + ["seed"]].to_dict()
        raise ValueError(f"the same seed appears twice: {first}")
    return sort_runs(runs, extra=["seed"])


def summary_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (layout, model, K, H): n, majority_accuracy and <metric>_mean / _sd / _best."""
    columns = REVIEW_KEYS + ["n", "majority_accuracy"]
    columns += [f"{m}_{s}" for m in REVIEW_METRICS for s in ("mean", "sd", "best")]
    rows = []
    for key, group in runs.groupby(REVIEW_KEYS, sort=False):
        row = dict(zip(REVIEW_KEYS, key, strict=True)) | {"n": len(group)}
        row["majority_accuracy"] = float(group["majority_accuracy"].iloc[0])
        for m in REVIEW_METRICS:
            values = group[m].to_numpy(dtype=np.float64)
            best = values.min() if m in LOWER_IS_BETTER else values.max()
            row |= {f"{m}_mean": values.mean(), f"{m}_sd": values.std(ddof=0), f"{m}_best": best}
        rows.append(row)
    return sort_runs(pd.DataFrame(rows, columns=columns))


def _fmt(value: float) -> str:
    return f"{value:.3f}"


def markdown_tables(summary: pd.DataFrame, tier: str) -> str:
    """Tables 5 (mean +- sd over seeds) and 6 (best over seeds), one pair per layout."""
    parts = [f"Tier: **{tier}**.", ""]
    if summary.empty:
        return "\n".join(parts + ["No review-classification runs in this tier.", ""])
    head = "| model | seeds | " + " | ".join(REVIEW_METRICS) + " |"
    rule = "|---|---:|" + "---:|" * len(REVIEW_METRICS)
    layouts = sorted(set(summary["layout"]), key=lambda v: rank(REVIEW_LAYOUT_ORDER, v))
    for layout in layouts:
        rows = summary[summary["layout"] == layout]
        title = LAYOUT_TITLE.get(layout, f"layout `{layout}`")
        majority = rows["majority_accuracy"].iloc[0]
        parts += [f"## Review classification, {title}", ""]
        parts += [f"Majority class (of the training split) on the test split: {_fmt(majority)}."]
        parts += ["", "Table 5: mean +- sd (ddof 0) over seeds", "", head, rule]
        for r in rows.itertuples():
            cells = [_fmt(getattr(r, f"{m}_mean")) for m in REVIEW_METRICS]
            cells = [
                f"{c} +- {_fmt(getattr(r, f'{m}_sd'))}"
                for c, m in zip(cells, REVIEW_METRICS, strict=True)
            ]
            parts.append(f"| {r.label} | {r.n} | " + " | ".join(cells) + " |")
        parts += ["", "Table 6: best over seeds (max; min for the loss)", "", head, rule]
        for r in rows.itertuples():
            cells = [_fmt(getattr(r, f"{m}_best")) for m in REVIEW_METRICS]
            parts.append(f"| {r.label} | {r.n} | " + " | ".join(cells) + " |")
        parts.append("")
    return "\n".join(parts)


def main(argv=None) -> int:
    """`python -m rnnmem aggregate-reviews`: runs.csv, summary.csv and tables.md, each with a
    provenance record whose `jobs` are the settings read from the seed files."""
    parser = argparse.ArgumentParser(prog="python -m rnnmem aggregate-reviews")
    parser.add_argument("--files", nargs="*", default=[], help="the per-seed .npz files")
    parser.add_argument("--tier", required=True)
    parser.add_argument("--runs", required=True, help="per-seed table (CSV) to write")
    parser.add_argument("--summary", required=True, help="Tables 5 and 6 (CSV) to write")
    parser.add_argument("--tables", required=True, help="Tables 5 and 6 as Markdown")
    args = parser.parse_args(argv)
    runs = load_review_runs(args.files)
    summary = summary_table(runs)
    record = provenance(tier=args.tier, files=len(args.files), jobs=jobs_behind(args.files))
    write_csv(args.runs, runs, provenance=record)
    write_csv(args.summary, summary, provenance=record)
    write_text(args.tables, markdown_tables(summary, args.tier))
    write_json(sidecar_path(args.tables), record)
    return 0
