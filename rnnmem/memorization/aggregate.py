"""Aggregation: every job's per-seed files and capacity tables -> the study's tables.

    python -m rnnmem aggregate-memorization --settings JSON --tier smoke \\
        --runs runs/.../seed0.npz ... --capacity ... --capacity-curves ... \\
        --out-runs runs.csv --out-curves curves.csv --out-summary summary.csv \\
        --out-capacity capacity.csv --out-capacity-curves capacity_curves.csv

--settings: theta and curve_experiments of the study's config. Every table gets a
provenance sidecar `<table>.provenance.json` whose "jobs" are the full settings of the jobs
behind it (runs, curves, summary: the training jobs; capacity tables: the probe jobs).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import pandas as pd

from rnnmem.core.io import load_arrays, read_csv, write_csv
from rnnmem.core.provenance import distinct_jobs, jobs_behind, jobs_of, provenance
from rnnmem.core.settings import ConfigError, add_settings_argument

MOVING_AVERAGE = 10  # first-hit epochs use a 10-epoch moving average (claim 2)
SETTINGS = ("curve_experiments", "theta")
CURVE_COLUMNS = ["experiment", "cell", "task", "layers", "units", "position", "seed"]


def first_hit_epoch(curve: np.ndarray, theta: float, window: int = MOVING_AVERAGE) -> float:
    """1-based first epoch where the `window`-epoch moving average drops below theta."""
    if len(curve) < window:
        window = max(1, len(curve))
    ma = np.convolve(curve, np.ones(window) / window, mode="valid")
    hits = np.flatnonzero(ma < theta)
    return float(hits[0] + window) if hits.size else math.nan


def aggregate(run_files: list[Path], curve_experiments: set[str], theta: float):
    """Per-seed files -> runs table (one row per run), long curves table, and the distinct
    settings of the jobs behind them (from the same read of each file)."""
    runs, curves, jobs = [], [], []
    for path in sorted(run_files, key=str):
        arrays, meta = load_arrays(path)
        if "provenance" not in meta:
            raise FileNotFoundError(f"{path}: no provenance record")
        jobs += jobs_of(meta["provenance"])
        job = meta["job"]
        ident = {k: job[k] for k in ("experiment", "cell", "task", "layers", "units")}
        for i, position in enumerate(arrays["positions"]):
            curve = arrays["train_curve"][i].astype(np.float64)
            runs.append(
                {
                    **ident,
                    "position": int(position),
                    "seed": meta["seed"],
                    "final_loss": float(arrays["final_loss"][i]),
                    "best_loss": float(arrays["best_loss"][i]),
                    "diverged": bool(arrays["diverged"][i]),
                    "first_hit_epoch": first_hit_epoch(curve, theta),
                    "epochs": job["epochs"],
                    "n_params": meta["n_params"],
                    "device": meta["device"],
                }
            )
            if job["experiment"] in curve_experiments:
                curves.append(
                    pd.DataFrame(
                        {
                            **ident,
                            "position": int(position),
                            "seed": meta["seed"],
                            "epoch": np.arange(1, len(curve) + 1),
                            "train_loss": curve,
                        }
                    )
                )
    runs = pd.DataFrame(runs)
    if curves:
        curves = pd.concat(curves, ignore_index=True)
    else:
        curves = pd.DataFrame(columns=CURVE_COLUMNS + ["epoch", "train_loss"])
    return runs, curves, jobs


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """Per configuration and position: mean, sd (ddof=1), min, max, n, diverged count."""
    keys = ["experiment", "cell", "task", "layers", "units", "position"]
    g = runs.groupby(keys, sort=True)
    out = g["final_loss"].agg(["mean", "std", "min", "max", "count"]).reset_index()
    out = out.rename(
        columns={
            "mean": "mean_loss",
            "std": "sd_loss",
            "min": "min_loss",
            "max": "max_loss",
            "count": "n_runs",
        }
    )
    out["n_diverged"] = g["diverged"].sum().values
    return out


def _joined(files: list[Path]) -> pd.DataFrame:
    frames = [read_csv(f) for f in sorted(files, key=str)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def main(argv) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rnnmem aggregate-memorization", description=__doc__
    )
    add_settings_argument(parser)
    parser.add_argument("--tier", required=True, help="tier name, written into runs.csv")
    parser.add_argument("--runs", nargs="+", type=Path, required=True, help="per-seed files")
    parser.add_argument("--capacity", nargs="*", type=Path, default=[], help="probe tables")
    parser.add_argument(
        "--capacity-curves", nargs="*", type=Path, default=[], help="probe curve tables"
    )
    for name in ("runs", "curves", "summary", "capacity", "capacity-curves"):
        parser.add_argument(f"--out-{name}", type=Path, required=True, help=f"{name} table (CSV)")
    args = parser.parse_args(argv)
    if sorted(args.settings) != sorted(SETTINGS):
        raise ConfigError(f"--settings: expected exactly {list(SETTINGS)}")
    theta, curve_experiments = args.settings["theta"], set(args.settings["curve_experiments"])
    runs, curves, trained_jobs = aggregate(args.runs, curve_experiments, theta)
    devices = sorted(runs["device"].unique().tolist())

    def record(jobs):  # each table lists the jobs whose files it was made from
        return provenance(settings=args.settings, tier=args.tier, devices=devices, jobs=jobs)

    trained = record(distinct_jobs(trained_jobs))
    probed = record(jobs_behind(args.capacity + args.capacity_curves))
    runs["tier"] = args.tier
    write_csv(args.out_runs, runs, trained)
    write_csv(args.out_curves, curves, trained)
    write_csv(args.out_summary, summarize(runs), trained)
    write_csv(args.out_capacity, _joined(args.capacity), probed)
    write_csv(args.out_capacity_curves, _joined(args.capacity_curves), probed)
    return 0
