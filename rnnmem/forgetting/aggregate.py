"""Aggregation of the per-run files (forgetting.md §5): the `aggregate-forgetting` command.

Writes runs.csv (one row per run), summary.csv (one row per grid cell: mean, median, sd, min,
max and number censored of every metric) and decay_medians.npz (per cell, the median over
runs of log10 d_t for the first stored shared steps). All three hold one provenance record
(the CSVs in a sidecar, the .npz in its meta) with the settings of every job behind them.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from rnnmem.core.io import load_arrays, save_arrays, write_csv
from rnnmem.core.provenance import jobs_behind, provenance
from rnnmem.core.settings import add_settings_argument, from_settings
from rnnmem.forgetting.settings import CELLS, TableSettings, fail

CELL_KEYS = ["variant", "cell", "n_in", "units"]
RUN_KEYS = CELL_KEYS + ["run"]
# Settings every run of one table must share (they define what the numbers mean).
SHARED_SETTINGS = (
    "experiment",
    "device",
    "torch_threads",
    "flush_denormal",
    "torch_version",
    "metrics",
    "settings",
)


def load_runs(paths) -> tuple[pd.DataFrame, dict, list[str], dict]:
    """Per-run files -> (runs table, shared settings, metric names, stored gaps by run)."""
    rows, gaps, shared = [], {}, None
    for path in paths:
        arrays, meta = load_arrays(path)
        common = {key: meta[key] for key in SHARED_SETTINGS}
        if shared is None:
            shared = common
        elif common != shared:
            diff = sorted(k for k in SHARED_SETTINGS if common[k] != shared[k])
            raise ValueError(f"{path}: run settings differ from the other runs in {diff}")
        row = {k: v for k, v in meta.items() if k not in ("settings", "metrics", "provenance")}
        for key in ("steps", "prefix", "chunk", "dtype", "early_stop", "fast_mode"):
            row[key] = meta["settings"][key]
        rows.append(row)
        gaps[tuple(row[k] for k in RUN_KEYS)] = arrays["gaps"]
    if not rows:
        raise ValueError("no run files given")
    metrics = shared["metrics"]
    runs = pd.DataFrame(rows)
    runs["cell_order"] = runs["cell"].map(CELLS.index)
    order = ["variant", "cell_order", "n_in", "units", "run"]
    runs = runs.sort_values(order).drop(columns="cell_order")
    if runs.duplicated(RUN_KEYS).any():
        raise ValueError("duplicate runs in the input files")
    flags = [f"{m}_censored" for m in metrics]
    first = RUN_KEYS + ["experiment", "seed_entropy", "seed_streams"]
    rest = [c for c in runs.columns if c not in first + metrics + flags]
    columns = first + [c for pair in zip(metrics, flags, strict=True) for c in pair] + rest
    return runs[columns].reset_index(drop=True), shared, metrics, gaps


def summarise(runs: pd.DataFrame, metrics) -> pd.DataFrame:
    """One row per (variant, cell, n_in, units): the statistics of forgetting.md §5 of every metric.

    Censored values count as T - D (they are stored that way); sd is the sample sd.
    """
    rows = []
    for key, group in runs.groupby(CELL_KEYS, sort=False):
        row = dict(zip(CELL_KEYS, key, strict=True))
        row["runs"] = len(group)
        for m in metrics:
            values = group[m].to_numpy(dtype=np.float64)
            row[f"{m}_mean"] = values.mean()
            row[f"{m}_median"] = float(np.median(values))
            row[f"{m}_sd"] = values.std(ddof=1) if len(values) > 1 else float("nan")
            row[f"{m}_min"] = values.min()
            row[f"{m}_max"] = values.max()
            row[f"{m}_n_censored"] = int(group[f"{m}_censored"].sum())
        rows.append(row)
    return pd.DataFrame(rows)


def log10_gaps(gaps: np.ndarray) -> np.ndarray:
    """log10 d_t with d_t = 0 (bitwise equal outputs) as -inf."""
    with np.errstate(divide="ignore"):
        return np.log10(gaps)


def decay_medians(runs: pd.DataFrame, gaps: dict) -> dict[str, np.ndarray]:
    """Per cell, the median over runs of log10 d_t, k = 0 .. gaps_stored - 1."""
    keys, medians = [], []
    for key, group in runs.groupby(CELL_KEYS, sort=False):
        stack = np.stack([gaps[tuple(r[k] for k in RUN_KEYS)] for _, r in group.iterrows()])
        keys.append(key)
        medians.append(np.median(log10_gaps(stack), axis=0) if stack.shape[1] else stack[0])
    return {
        "cell": np.array([k[1] for k in keys]),
        "n_in": np.array([k[2] for k in keys], dtype=np.int64),
        "units": np.array([k[3] for k in keys], dtype=np.int64),
        "median_log10_gap": np.stack(medians).astype(np.float64),
    }


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m rnnmem aggregate-forgetting", description="per-run files -> tables"
    )
    add_settings_argument(p)  # TableSettings: variant, tier
    p.add_argument("--inputs", nargs="+", required=True, help="per-run .npz files")
    p.add_argument("--runs-csv", required=True, help="(its provenance sidecar beside it)")
    p.add_argument("--summary-csv", required=True, help="(its provenance sidecar beside it)")
    p.add_argument("--decay", required=True, help=".npz of median log10 gaps per cell")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    command = "aggregate-forgetting"
    try:
        settings = from_settings(TableSettings, args.settings)
        runs, shared, metrics, gaps = load_runs(args.inputs)
        jobs = jobs_behind(args.inputs)  # the full settings of every simulation job behind
    except (ValueError, KeyError, FileNotFoundError) as err:
        return fail(command, str(err))
    if set(runs["variant"]) != {settings.variant}:
        held = sorted(set(runs["variant"]))
        return fail(command, f"inputs hold variants {held}, not {settings.variant!r}")
    summary = summarise(runs, metrics)
    censored = int(runs["K_exact_censored"].sum())
    record = provenance(
        config=shared["settings"],
        tier=settings.tier,
        variant=settings.variant,
        experiment=shared["experiment"],
        device=shared["device"],
        torch_threads=shared["torch_threads"],
        flush_denormal=shared["flush_denormal"],
        metrics=metrics,
        runs=len(runs),
        cells=len(summary),
        K_exact_censored_runs=censored,
        jobs=jobs,
    )
    write_csv(args.runs_csv, runs, provenance=record)
    write_csv(args.summary_csv, summary, provenance=record)
    meta = {
        "tier": settings.tier,
        "variant": settings.variant,
        "dtype": shared["settings"]["dtype"],
        "provenance": record,  # read_record finds an .npz's record here
    }
    save_arrays(args.decay, decay_medians(runs, gaps), meta=meta)
    print(f"{len(runs)} runs, {len(summary)} cells; K_exact censored in {censored} runs")
    return 0
