"""Per-seed result files of the long-memory study -> tidy tables (long-memory.md §6.4, 6.5, 8-10).

One .npz per (dataset, split, model, K, H, seed), as written by the training jobs (contract:
arrays test_pred, test_true, train_loss, val_loss, param_*; meta with the metrics). Here:

* `load_runs`: one row per (experiment, seed file). Experiments are views of the jobs, and a
  job can sit in several (Experiment 3 reuses Experiment 1's K = 100 jobs), so a file can
  give several rows, one per experiment it belongs to.
* `learning_curves`: per job and epoch, median and quartiles over seeds of the train and
  validation loss; a seed that stopped early drops out of the later epochs (n_seeds says
  how many remain).
* `summary_table` / `markdown_table`: mean, sd (ddof = 0, long-memory.md A7) and min over seeds of
  RMSE, MAE, MAPE ("Table 2" = mean +- sd, "Table 3" = min); DJI shown x100 in Markdown only.
* t-tests (long-memory.md §6.5): `rnnmem.long_memory.stats`.
* `best_seed_predictions`: the test segment of the best seed (lowest test RMSE) of each model.
* `main`: every table with a provenance sidecar whose `jobs` are the settings of the jobs
  whose seed files it summarises (read from the files themselves).

Statistics use the seeds whose metric is finite; seeds flagged diverged are counted.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from rnnmem.core.io import load_arrays, write_csv, write_json, write_text
from rnnmem.core.provenance import jobs_behind, provenance, sidecar_path
from rnnmem.long_memory.stats import ttests
from rnnmem.long_memory.study import (
    EXP2_MODELS,
    GENERATED_DATASET,
    GROUP_KEYS,
    JOB_KEYS,
    LONG_MEMORY_DATASETS,
    MAIN_H,
    MAIN_K,
    METRICS,
    MODEL_LABEL,
    RUN_COLUMNS,
    SWEEP_K,
    SWEEP_MODELS,
    finite,
    sort_table,
)

SCALED_X100 = ("DJI",)  # the paper's table shows DJI errors x100 (long-memory.md §6.4)
REQUIRED_META = ("dataset", "split", "model", "K", "H", "seed", *METRICS, "best_epoch")
REQUIRED_META += ("stop_epoch", "epochs_run", "diverged", "snapshot_rule", "tier")


def experiment_views(meta: dict, k_main: int = MAIN_K, h_main: int = MAIN_H, k_sweep=SWEEP_K):
    """The experiments a job belongs to (contract: experiments are views of the jobs)."""
    dataset, model, K, H = meta["dataset"], meta["model"], int(meta["K"]), int(meta["H"])
    views = []
    if H != h_main:
        return views  # larger-H runs are sensitivity runs outside the three experiments
    if dataset in LONG_MEMORY_DATASETS and K == k_main:
        views.append("exp1")
    if dataset == GENERATED_DATASET and model in EXP2_MODELS and K == k_main:
        views.append("exp2")
    if dataset in LONG_MEMORY_DATASETS and model in SWEEP_MODELS and K in k_sweep:
        views.append("exp3")
    return views


def _pairs(files, experiment_of):
    """(experiment, path, meta) from explicit (experiment, path) pairs, or from paths and
    `experiment_of(meta)`; each file is read once, and only its meta is kept."""
    metas = {}
    for item in files:
        explicit = isinstance(item, (tuple, list))
        path = Path(item[1] if explicit else item)
        if path not in metas:
            metas[path] = load_arrays(path)[1]
        for experiment in [item[0]] if explicit else experiment_of(metas[path]):
            yield experiment, path, metas[path]


def unique_paths(files) -> list[Path]:
    """The distinct files of paths or (experiment, path) pairs, sorted."""
    return sorted({Path(f[1] if isinstance(f, (tuple, list)) else f) for f in files})


def _check_meta(path, meta: dict) -> None:
    missing = [k for k in REQUIRED_META if k not in meta]
    if missing:
        raise ValueError(f"{path}: meta lacks {missing}")


def load_runs(files, experiment_of=experiment_views) -> pd.DataFrame:
    """Runs table: one row per (experiment, per-seed file), columns RUN_COLUMNS.

    `files`: (experiment, path) pairs, or paths whose experiments `experiment_of(meta)` gives
    (a list; default: the contract's views). All files must come from one tier.
    """
    rows, tiers = [], set()
    for experiment, path, meta in _pairs(files, experiment_of):
        _check_meta(path, meta)
        tiers.add(meta["tier"])
        row = {k: meta[k] for k in RUN_COLUMNS if k != "experiment"}
        rows.append({"experiment": experiment, **row})
    if len(tiers) > 1:
        raise ValueError(f"run files from several tiers: {sorted(tiers)}")
    runs = pd.DataFrame(rows, columns=RUN_COLUMNS)
    runs = runs.astype({"K": "int64", "H": "int64", "seed": "int64", "epochs_run": "int64"})
    runs = runs.astype({"diverged": bool, "rmse": float, "mae": float, "mape": float})
    # A seed that never improved or never stopped may carry null epochs.
    runs = runs.astype({"best_epoch": "Int64", "stop_epoch": "Int64"})
    duplicated = runs.duplicated(GROUP_KEYS + ["seed"])
    if duplicated.any():
        first = runs[duplicated].iloc[0][GROUP_KEYS + ["seed"]].to_dict()
        raise ValueError(f"the same seed appears twice: {first}")
    return sort_table(runs, extra=["seed"])


# ---------------------------------------------------------------------------------------
# Learning curves
# ---------------------------------------------------------------------------------------
def learning_curves(files) -> pd.DataFrame:
    """Per job (dataset, split, model, K, H) and epoch: n_seeds still running, and the median
    and quartiles (25, 75) over those seeds of train_loss and val_loss (scaled MSE).

    `files`: paths or (experiment, path) pairs; a file listed in several experiments counts
    once. Non-finite losses (a diverging seed) are left out of the quartiles (n_finite).
    """
    paths = unique_paths(files)
    jobs = {}
    for path in paths:
        arrays, meta = load_arrays(path)
        key = tuple(meta[k] for k in JOB_KEYS)
        seeds = jobs.setdefault(key, {})
        if meta["seed"] in seeds:
            raise ValueError(f"{path}: seed {meta['seed']} of job {key} appears twice")
        seeds[meta["seed"]] = (arrays["train_loss"], arrays["val_loss"])
    frames = []
    for key, seeds in jobs.items():
        ordered = [seeds[k] for k in sorted(seeds)]
        lengths = np.array([len(train) for train, _ in ordered])
        epoch = np.arange(lengths.max(), dtype=np.int64)
        frame = pd.DataFrame({"epoch": epoch, "n_seeds": (lengths[:, None] > epoch).sum(axis=0)})
        for name, which in (("train", 0), ("val", 1)):
            loss = np.full((len(ordered), len(epoch)), np.nan)  # [seeds, epochs]
            for s, pair in enumerate(ordered):
                loss[s, : len(pair[which])] = pair[which]  # NaN after the seed stopped
            loss[~np.isfinite(loss)] = np.nan
            frame[f"{name}_n_finite"] = np.isfinite(loss).sum(axis=0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN epochs stay NaN
                q25, q50, q75 = np.nanpercentile(loss, [25, 50, 75], axis=0)
            frame[f"{name}_median"], frame[f"{name}_q25"], frame[f"{name}_q75"] = q50, q25, q75
        columns = JOB_KEYS + list(frame.columns)
        frames.append(frame.assign(**dict(zip(JOB_KEYS, key, strict=True)))[columns])
    if not frames:
        return pd.DataFrame(columns=JOB_KEYS + ["epoch", "n_seeds"])
    return sort_table(pd.concat(frames, ignore_index=True), extra=["epoch"])


# ---------------------------------------------------------------------------------------
# Summary tables (long-memory.md §6.4)
# ---------------------------------------------------------------------------------------
SUMMARY_COLUMNS = GROUP_KEYS + ["n", "n_diverged", "n_finite"]
SUMMARY_COLUMNS += [f"{m}_{s}" for m in METRICS for s in ("mean", "sd", "min")]


def summary_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (experiment, dataset, split, model, K, H): n, n_diverged, n_finite (finite RMSE)
    and mean, sd (population, ddof = 0) and min of each metric over its finite seeds."""
    rows = []
    for key, group in runs.groupby(GROUP_KEYS, sort=False):
        row = dict(zip(GROUP_KEYS, key, strict=True))
        row["n"] = len(group)
        row["n_diverged"] = int(group["diverged"].sum())
        row["n_finite"] = len(finite(group["rmse"]))
        for m in METRICS:
            values = finite(group[m])
            empty = len(values) == 0
            row[f"{m}_mean"] = np.nan if empty else float(values.mean())
            row[f"{m}_sd"] = np.nan if empty else float(values.std(ddof=0))
            row[f"{m}_min"] = np.nan if empty else float(values.min())
        rows.append(row)
    return sort_table(pd.DataFrame(rows, columns=SUMMARY_COLUMNS))


def _g(value: float) -> str:
    return "n/a" if not np.isfinite(value) else f"{value:#.4g}"


def markdown_table(summary: pd.DataFrame, experiment: str = "exp1", title: str | None = None):
    """Table 2 (mean +- sd) and Table 3 (min) of one experiment, one section per
    (dataset, split), rows in the paper's model order (and K, H where they vary)."""
    rows = summary[summary["experiment"] == experiment]
    lines = [f"# {title or f'Test errors, {experiment}'}", ""]
    lines += [
        "Original units of each series. Sd over seeds with ddof = 0. MAPE is a fraction; on "
        "series with targets near zero (DJI, arfima, traffic) a few points dominate it.",
        "",
    ]
    if rows.empty:
        return "\n".join(lines + [f"No runs of {experiment}.", ""])
    for (dataset, split), block in rows.groupby(["dataset", "split"], sort=False):
        scale = 100.0 if dataset in SCALED_X100 else 1.0
        heading = f"## {dataset} (split: {split})"
        if scale != 1.0:
            heading += ": RMSE and MAE x100, as in the paper (MAPE unscaled)"
        label_k = block["K"].nunique() > 1
        label_h = block["H"].nunique() > 1
        table2 = ["| model | RMSE | MAE | MAPE | seeds | diverged |", "|---|---|---|---|---|---|"]
        table3 = ["| model | RMSE | MAE | MAPE |", "|---|---|---|---|"]
        f = {"rmse": scale, "mae": scale, "mape": 1.0}  # MAPE is relative: never scaled
        for r in block.itertuples():
            name = MODEL_LABEL.get(r.model, r.model)
            name += f" K={r.K}" if label_k else ""
            name += f" H={r.H}" if label_h else ""
            cells = [
                f"{_g(getattr(r, f'{m}_mean') * f[m])} ± {_g(getattr(r, f'{m}_sd') * f[m])}"
                for m in METRICS
            ]
            table2.append(f"| {name} | {' | '.join(cells)} | {r.n} | {r.n_diverged} |")
            mins = [_g(getattr(r, f"{m}_min") * f[m]) for m in METRICS]
            table3.append(f"| {name} | {' | '.join(mins)} |")
        lines += [heading, "", "Table 2 style: mean ± sd over seeds.", "", *table2, ""]
        lines += ["Table 3 style: best seed (minimum over seeds).", "", *table3, ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# Best-seed test predictions (for the figure of the test segment)
# ---------------------------------------------------------------------------------------
def best_seed_predictions(runs: pd.DataFrame, files, experiment: str = "exp1") -> pd.DataFrame:
    """Per (dataset, split, model, K, H) of `experiment`: the seed with the lowest finite test
    RMSE (ties: lowest seed) and its test segment, tidy: ... seed, rmse, step, true, pred."""
    rows = runs[(runs["experiment"] == experiment) & np.isfinite(runs["rmse"])]
    best = rows.sort_values(["rmse", "seed"], kind="stable").groupby(JOB_KEYS, sort=False).head(1)
    wanted = {tuple(r[k] for k in JOB_KEYS + ["seed"]): r["rmse"] for _, r in best.iterrows()}
    paths = unique_paths(files)
    frames = []
    for path in paths:
        arrays, meta = load_arrays(path)
        key = tuple(meta[k] for k in JOB_KEYS + ["seed"])
        if key not in wanted:
            continue
        wanted_rmse = wanted.pop(key)
        frame = pd.DataFrame(
            {
                "step": np.arange(len(arrays["test_true"]), dtype=np.int64),
                "true": arrays["test_true"].astype(np.float64),
                "pred": arrays["test_pred"].astype(np.float64),
            }
        )
        head = dict(zip(JOB_KEYS + ["seed"], key, strict=True)) | {"rmse": wanted_rmse}
        frames.append(frame.assign(**head)[list(head) + ["step", "true", "pred"]])
    if wanted:
        raise ValueError(f"no file given for the best seeds {sorted(wanted, key=str)[:3]}")
    if not frames:
        return pd.DataFrame(columns=JOB_KEYS + ["seed", "rmse", "step", "true", "pred"])
    table = pd.concat(frames, ignore_index=True)
    return sort_table(table, extra=["step"])


# ---------------------------------------------------------------------------------------
# Command line: `python -m rnnmem aggregate-long-memory`
# ---------------------------------------------------------------------------------------
def view_files(views: dict, runs_dir, seed_base: int) -> list[tuple[str, Path]]:
    """(experiment, seed file) pairs: each experiment reads the first n seeds of its jobs.

    views: {experiment: {job: n}}, job = "<dataset>-<split>/<model>-K<K>-H<H>".
    """
    return [
        (experiment, Path(runs_dir) / job / f"seed{seed}.npz")
        for experiment, jobs in views.items()
        for job, n in jobs.items()
        for seed in range(seed_base, seed_base + n)
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnmem aggregate-long-memory")
    parser.add_argument("--views", type=json.loads, required=True, help="{experiment: {job: n}}")
    parser.add_argument("--runs-dir", required=True, help="results/long_memory/runs")
    parser.add_argument("--seed-base", type=int, required=True)
    parser.add_argument("--tier", required=True)
    for name in ("runs", "curves", "summary", "ttests", "predictions"):
        parser.add_argument(f"--{name}", required=True, help=f"{name} table (CSV) to write")
    parser.add_argument("--tables", required=True, help="Tables 2 and 3 as Markdown")
    args = parser.parse_args(argv)
    pairs = view_files(args.views, args.runs_dir, args.seed_base)
    runs = load_runs(pairs)
    shown = [(e, p) for e, p in pairs if e in ("exp1", "exp2")]  # curves and test segments
    # Each table records the settings of exactly the jobs whose seed files it summarises.
    every = provenance(tier=args.tier, views=args.views, jobs=jobs_behind(unique_paths(pairs)))
    exp12 = provenance(tier=args.tier, views=args.views, jobs=jobs_behind(unique_paths(shown)))
    summary = summary_table(runs)
    write_csv(args.runs, runs, provenance=every)
    write_csv(args.curves, learning_curves(shown), provenance=exp12)
    write_csv(args.summary, summary, provenance=every)
    write_csv(args.ttests, ttests(runs), provenance=every)
    predictions = [best_seed_predictions(runs, shown, e) for e in ("exp1", "exp2")]
    write_csv(args.predictions, pd.concat(predictions, ignore_index=True), provenance=exp12)
    titles = {
        "exp1": "Experiment 1: long-memory series (the paper's Tables 2 and 3)",
        "exp2": "Experiment 2: RNN-generated short-memory series",
        "exp3": "Experiment 3: filter length K",
        "sensitivity": "Hidden-size sensitivity runs (not in the paper)",
    }
    parts = [f"Tier: **{args.tier}**.", ""]
    parts += [markdown_table(summary, e, titles.get(e, e)) for e in args.views]
    write_text(args.tables, "\n".join(parts))
    write_json(sidecar_path(args.tables), every)
    return 0
