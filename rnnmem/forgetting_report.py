"""Aggregation, figures and claim checks of the forgetting-time study (spec sections 5, 8, 9).

Reads the per-run .npz files written by `simulate-forgetting` and writes

* `aggregate_main`: runs.csv (one row per run), summary.csv (one row per grid cell: mean,
  median, sd, min, max and number censored of every metric) and decay_medians.npz
  (per cell, the median over runs of log10 d_t for the first stored shared steps);
* `figures_main`: one figure per metric with two heat maps (LSTM | GRU) in the post's
  layout, and the decay plot (PNG + PDF, tier stamped);
* `claims_main`: claims L1, L2, G1, G2 of the post (spec 9) under each chosen metric, with
  bootstrap intervals, plus the secondary LSTM-vs-GRU observation, as claims.csv / .md.

Kept apart from rnnmem.forgetting so that editing a table or a figure never reruns the
simulations.
"""

from __future__ import annotations

import argparse
import math
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import Normalize, SymLogNorm  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402

from rnnmem.core.claims import (  # noqa: E402
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    PARTLY,
    Claim,
    verdict_from,
    write_claims,
)
from rnnmem.core.io import load_arrays, read_csv, save_arrays, write_csv  # noqa: E402
from rnnmem.core.plotting import save_figure  # noqa: E402
from rnnmem.core.provenance import provenance  # noqa: E402
from rnnmem.core.seeds import seed_sequence  # noqa: E402

CELL_ORDER = ("LSTM", "GRU")
CELL_KEYS = ["variant", "cell", "n_in", "units"]
RUN_KEYS = CELL_KEYS + ["run"]
STATS = ("mean", "median", "sd", "min", "max", "n_censored")
# Settings every run of one table must share (they define what the numbers mean).
SHARED_SETTINGS = ("experiment", "device", "torch_threads", "flush_denormal", "torch_version", "metrics", "settings")
VARIANT_LABEL = {"torch": "torch nn.LSTM/nn.GRU (primary)", "keras22": "Keras 2.2 hard-sigmoid (sensitivity)"}


def _fail(command: str, message: str) -> int:
    print(f"{command}: {message}", file=sys.stderr)
    return 2


# --------------------------------------------------------------------------------------
# Aggregation


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
        row = {k: v for k, v in meta.items() if k not in ("settings", "metrics")}
        for key in ("steps", "prefix", "chunk", "dtype", "early_stop", "fast_mode"):
            row[key] = meta["settings"][key]
        rows.append(row)
        gaps[tuple(row[k] for k in RUN_KEYS)] = arrays["gaps"]
    if not rows:
        raise ValueError("no run files given")
    metrics = shared["metrics"]
    runs = pd.DataFrame(rows)
    runs["cell_order"] = runs["cell"].map(CELL_ORDER.index)
    runs = runs.sort_values(["variant", "cell_order", "n_in", "units", "run"]).drop(columns="cell_order")
    if runs.duplicated(RUN_KEYS).any():
        raise ValueError("duplicate runs in the input files")
    flags = [f"{m}_censored" for m in metrics]
    first = RUN_KEYS + ["experiment", "seed_entropy", "seed_streams"]
    rest = [c for c in runs.columns if c not in first + metrics + flags]
    columns = first + [c for pair in zip(metrics, flags) for c in pair] + rest
    return runs[columns].reset_index(drop=True), shared, metrics, gaps


def summarise(runs: pd.DataFrame, metrics) -> pd.DataFrame:
    """One row per (variant, cell, n_in, units): the spec-5 statistics of every metric.

    Censored values count as T - D (they are stored that way); sd is the sample sd.
    """
    rows = []
    for key, group in runs.groupby(CELL_KEYS, sort=False):
        row = dict(zip(CELL_KEYS, key))
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


def aggregate_main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m rnnmem aggregate-forgetting", description="per-run files -> tables")
    p.add_argument("--inputs", nargs="+", required=True, help="per-run .npz files")
    p.add_argument("--runs-csv", required=True)
    p.add_argument("--summary-csv", required=True)
    p.add_argument("--decay", required=True, help=".npz of median log10 gaps per cell")
    p.add_argument("--variant", required=True)
    p.add_argument("--tier", required=True)
    args = p.parse_args(argv)
    try:
        runs, shared, metrics, gaps = load_runs(args.inputs)
    except (ValueError, KeyError, FileNotFoundError) as err:
        return _fail("aggregate-forgetting", str(err))
    if set(runs["variant"]) != {args.variant}:
        return _fail("aggregate-forgetting", f"inputs hold variants {sorted(set(runs['variant']))}, not {args.variant!r}")
    summary = summarise(runs, metrics)
    censored = int(runs["K_exact_censored"].sum())
    record = provenance(
        config=shared["settings"],
        tier=args.tier,
        variant=args.variant,
        experiment=shared["experiment"],
        device=shared["device"],
        torch_threads=shared["torch_threads"],
        flush_denormal=shared["flush_denormal"],
        metrics=metrics,
        runs=len(runs),
        cells=len(summary),
        K_exact_censored_runs=censored,
    )
    write_csv(args.runs_csv, runs, provenance=record)
    write_csv(args.summary_csv, summary, provenance=record)
    meta = {"tier": args.tier, "variant": args.variant, "dtype": shared["settings"]["dtype"]}
    save_arrays(args.decay, decay_medians(runs, gaps), meta=meta)
    print(f"{len(runs)} runs, {len(summary)} cells; K_exact censored in {censored} runs")
    return 0


# --------------------------------------------------------------------------------------
# Figures


def cell_grid(summary: pd.DataFrame, cell: str, column: str, n_in, units) -> np.ndarray:
    """(len(n_in), len(units)) matrix of one summary column; rows n_in ascending."""
    sub = summary[summary["cell"] == cell].set_index(["n_in", "units"])[column]
    return np.array([[sub.get((i, u), np.nan) for u in units] for i in n_in], dtype=np.float64)


def heatmap_figure(summary: pd.DataFrame, metric: str, log_scale: bool, variant: str, censor_at: int):
    """Two 8 x 8 heat maps (LSTM | GRU): rows n_in (1 at the bottom), columns units."""
    cells = [c for c in CELL_ORDER if c in set(summary["cell"])]
    n_in = sorted(summary["n_in"].unique())
    units = sorted(summary["units"].unique())
    means = {c: cell_grid(summary, c, f"{metric}_mean", n_in, units) for c in cells}
    censored = {c: cell_grid(summary, c, f"{metric}_n_censored", n_in, units) for c in cells}
    runs = int(summary["runs"].max())
    top = max(np.nanmax(m) for m in means.values())
    top = top if top > 0 else 1.0
    # one colour scale for both panels so LSTM and GRU can be compared by colour
    norm = SymLogNorm(linthresh=1.0, vmin=0.0, vmax=top, base=10) if log_scale else Normalize(0.0, top)
    width = 1.0 + 5.6 * len(cells)
    fig, axes = plt.subplots(1, len(cells), figsize=(width, 5.4), squeeze=False, constrained_layout=True)
    cmap = plt.get_cmap("viridis")
    image = None
    for ax, cell in zip(axes[0], cells):
        grid = means[cell]
        image = ax.imshow(grid, origin="lower", cmap=cmap, norm=norm, aspect="auto")
        for r in range(grid.shape[0]):
            for c in range(grid.shape[1]):
                if np.isnan(grid[r, c]):
                    continue
                label = f"{grid[r, c]:.1f}"
                if censored[cell][r, c] > 0:
                    label += f"\n({int(censored[cell][r, c])} cens.)"
                # dark text on the bright end of viridis, light text elsewhere
                shade = cmap(norm(grid[r, c]))
                luminance = 0.299 * shade[0] + 0.587 * shade[1] + 0.114 * shade[2]
                ax.text(c, r, label, ha="center", va="center", fontsize=6.5 if len(units) > 6 else 8,
                        color="black" if luminance > 0.5 else "white")
        ax.set_xticks(range(len(units)), [str(u) for u in units])
        ax.set_yticks(range(len(n_in)), [str(i) for i in n_in])
        ax.set_xlabel("Output Features (units)")
        ax.set_ylabel("Input Features")
        ax.set_title(cell)
    bar = fig.colorbar(image, ax=axes[0].tolist(), shrink=0.9)
    bar.set_label(f"mean {metric} (shared steps){', log scale' if log_scale else ''}")
    fig.suptitle(
        f"{metric}: mean over {runs} runs per cell; censored runs count as {censor_at:,} "
        f"- {VARIANT_LABEL.get(variant, variant)}",
        fontsize=9,
    )
    return fig


def decay_figure(decay: dict, n_in: int, units, variant: str):
    """Median over runs of log10 d_t vs shared step k, one line per width, one panel per type."""
    cells = [c for c in CELL_ORDER if c in set(decay["cell"].tolist())]
    curves = {}
    for cell in cells:
        for u in units:
            pick = np.flatnonzero((decay["cell"] == cell) & (decay["n_in"] == n_in) & (decay["units"] == u))
            if pick.size:
                curves[cell, u] = decay["median_log10_gap"][pick[0]]
    # d_t = 0 has no logarithm: draw it on a floor line just below the smallest plotted gap
    finite = [c[np.isfinite(c)] for c in curves.values()]
    lowest = min((float(f.min()) for f in finite if f.size), default=0.0)
    floor = math.floor(lowest) - 1
    fig, axes = plt.subplots(1, len(cells), figsize=(5.2 * len(cells), 4.2), squeeze=False, sharey=True,
                             constrained_layout=True)
    for ax, cell in zip(axes[0], cells):
        for u in units:
            if (cell, u) in curves:
                curve = np.maximum(curves[cell, u], floor)
                ax.plot(np.arange(1, curve.size + 1), curve, label=f"u = {u}", lw=1.2)
        ax.axhline(floor, color="grey", ls=":", lw=0.8)
        ax.text(0.99, floor, "d = 0 (bitwise equal)", transform=ax.get_yaxis_transform(), ha="right",
                va="bottom", fontsize=7, color="grey")
        ax.set_xscale("log")
        ax.set_title(f"{cell}, n_in = {n_in}")
        ax.set_xlabel("shared step k + 1")
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("median over runs of log10 d_t")
    fig.suptitle(f"Output gap decay - {VARIANT_LABEL.get(variant, variant)}", fontsize=9)
    return fig


def figures_main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m rnnmem figures-forgetting", description="heat maps and decay plot")
    p.add_argument("--summary", required=True)
    p.add_argument("--decay", required=True, help="decay_medians.npz from aggregate-forgetting")
    p.add_argument("--metrics", nargs="+", required=True, help="one heat-map figure per metric")
    p.add_argument("--heatmaps", nargs="+", required=True, help="PNG path per metric (PDF beside it)")
    p.add_argument("--log-scale", nargs="*", default=[], help="metrics drawn on a log colour scale")
    p.add_argument("--decay-plot", required=True, help="PNG path of the decay plot (PDF beside it)")
    p.add_argument("--decay-n-in", type=int, required=True)
    p.add_argument("--decay-units", type=int, nargs="+", required=True)
    p.add_argument("--censor-at", type=int, required=True, help="T - D, the value of censored runs")
    p.add_argument("--variant", required=True)
    p.add_argument("--tier", required=True)
    args = p.parse_args(argv)
    if len(args.metrics) != len(args.heatmaps):
        return _fail("figures-forgetting", "--metrics and --heatmaps must have the same length")
    summary = read_csv(args.summary)
    for metric in args.metrics:
        if f"{metric}_mean" not in summary.columns:
            known = sorted(c[: -len("_mean")] for c in summary.columns if c.endswith("_mean"))
            return _fail("figures-forgetting", f"forgetting.figures.metrics: {metric!r} is not a metric; known: {known}")
    decay, _ = load_arrays(args.decay)
    if args.decay_n_in not in set(decay["n_in"].tolist()):
        return _fail("figures-forgetting", f"forgetting.figures.decay_n_in={args.decay_n_in} is not in the grid")
    for metric, png in zip(args.metrics, args.heatmaps):
        fig = heatmap_figure(summary, metric, metric in args.log_scale, args.variant, args.censor_at)
        save_figure(fig, png, tier=args.tier)
    fig = decay_figure(decay, args.decay_n_in, args.decay_units, args.variant)
    save_figure(fig, args.decay_plot, tier=args.tier)
    return 0


# --------------------------------------------------------------------------------------
# Claims (spec 9)


def design(frame: pd.DataFrame) -> np.ndarray:
    """(N, 3) design matrix [1, log2 u, log2 n_in]."""
    return np.column_stack([np.ones(len(frame)), np.log2(frame["units"]), np.log2(frame["n_in"])])


def bootstrap_slopes(frame: pd.DataFrame, metric: str, replicates: int, rng: np.random.Generator):
    """Least squares log(1 + K) = a + b_u log2 u + b_in log2 n_in, and its bootstrap.

    Resamples runs with replacement within each (n_in, u) cell. Returns the point
    estimate (a, b_u, b_in) and a (replicates, 3) array; None where the fit is not
    identifiable (fewer than two values of u or of n_in).
    """
    if frame["units"].nunique() < 2 or frame["n_in"].nunique() < 2:
        return None, None
    frame = frame.sort_values(["n_in", "units", "run"]).reset_index(drop=True)
    x = design(frame)
    y = np.log1p(frame[metric].to_numpy(dtype=np.float64))
    point = np.linalg.lstsq(x, y, rcond=None)[0]
    picks = []
    for _, idx in frame.groupby(["n_in", "units"], sort=True).indices.items():
        idx = np.asarray(idx)
        picks.append(idx[rng.integers(0, idx.size, size=(replicates, idx.size))])
    rows = np.concatenate(picks, axis=1)  # (B, N) resampled row numbers
    xb, yb = x[rows], y[rows]
    xtx = np.einsum("bni,bnj->bij", xb, xb)
    xty = np.einsum("bni,bn->bi", xb, yb)
    return point, np.linalg.solve(xtx, xty[..., None])[..., 0]


def spearman(x, y) -> float:
    """Spearman correlation; nan when either side is constant (no ordering to test)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 2 or np.all(y == y[0]) or np.all(x == x[0]):
        return float("nan")
    return float(spearmanr(x, y).statistic)


def needed(fraction: float, count: int) -> int:
    """At least `fraction` of `count` (7 of 8 rows = 0.875, 5 of 7 columns = 0.71)."""
    return math.ceil(fraction * count - 1e-9)


def cell_checks(frame: pd.DataFrame, metric: str, larger_units: bool):
    """Row / column checks on the cell means (spec 9).

    units direction: per n_in row, mean at max u > mean at min u, Spearman(u, mean) > 0;
    input direction: per column with u >= 2, Spearman(n_in, mean) < 0.
    """
    means = frame.groupby(["n_in", "units"])[metric].mean().unstack("units")  # rows n_in, cols u
    if larger_units:
        rows_up = [bool(r.iloc[-1] > r.iloc[0]) for _, r in means.iterrows()]
        rho = [spearman(means.columns, r.to_numpy()) for _, r in means.iterrows()]
        return rows_up, rho
    cols = [u for u in means.columns if u >= 2]
    return None, [spearman(means.index, means[u].to_numpy()) for u in cols]


def interval(samples: np.ndarray, level: float) -> tuple[float, float]:
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(samples, [tail, 100.0 - tail])
    return float(low), float(high)


def claims_for_metric(runs, metric, args) -> list[Claim]:
    """L1, L2 (LSTM) and G1, G2 (GRU) under one metric, plus the LSTM vs GRU observation."""
    out = []
    censor_at = int(runs["steps"].iloc[0] - runs["prefix"].iloc[0])
    fits = {}
    for cell in CELL_ORDER:
        frame = runs[runs["cell"] == cell]
        if frame.empty:
            fits[cell] = None
            continue
        rng = np.random.default_rng(seed_sequence(args.experiment, "bootstrap", args.variant, metric, cell))
        point, boot = bootstrap_slopes(frame, metric, args.bootstrap, rng)
        fits[cell] = (frame, point, boot)

    def base_numbers(cell):
        frame, point, boot = fits[cell]
        numbers = {"runs": len(frame), "censored_runs": int(frame[f"{metric}_censored"].sum())}
        if point is not None:
            numbers.update(
                b_u=float(point[1]),
                b_u_ci=[round(v, 6) for v in interval(boot[:, 1], args.level)],
                b_in=float(point[2]),
                b_in_ci=[round(v, 6) for v in interval(boot[:, 2], args.level)],
            )
        return numbers

    def censor_note(numbers):
        if numbers["censored_runs"]:
            return (
                f"{numbers['censored_runs']} of {numbers['runs']} runs are censored at {censor_at:,} shared steps "
                "and enter the fit at that value, which flattens the slopes."
            )
        return ""

    level = f"{args.level:.0%}"
    fit_rule = (
        f"least squares log(1+{metric}) = a + b_u log2(u) + b_in log2(n_in) over all runs of the type; "
        f"{level} bootstrap interval ({args.bootstrap} replicates, runs resampled within cells)"
    )
    for cell, units_claim, inputs_claim in (("LSTM", "L1", "L2"), ("GRU", "G1", "G2")):
        if fits.get(cell) is None:
            continue
        frame, point, boot = fits[cell]
        numbers = base_numbers(cell)
        statement = f"{cell}: more units -> longer memory."
        if point is None:
            out.append(Claim(f"{units_claim}/{metric}", statement, fit_rule, INCONCLUSIVE, numbers,
                             "fewer than two unit sizes or input sizes in this tier: slopes not identifiable"))
        else:
            rows_up, rho = cell_checks(frame, metric, larger_units=True)
            need = needed(args.row_fraction, len(rho))
            positive = sum(r > 0 for r in rho if not math.isnan(r))
            slope_ok = numbers["b_u"] > 0 and numbers["b_u_ci"][0] > 0
            rows_ok = all(rows_up)
            rho_ok = positive >= need
            numbers.update(rows_max_u_above_min_u=f"{sum(rows_up)}/{len(rows_up)}",
                           rows_spearman_positive=f"{positive}/{len(rho)} (need {need})")
            verdict = HOLDS if slope_ok and rows_ok and rho_ok else PARTLY if slope_ok else FAILS
            rule = (f"{fit_rule}. Holds if b_u > 0 with the interval above 0, and in every n_in row the mean at the "
                    f"largest u exceeds the mean at the smallest u, and Spearman(u, cell mean) > 0 in at least "
                    f"{need} of {len(rho)} rows; partly if only the slope condition holds.")
            out.append(Claim(f"{units_claim}/{metric}", statement, rule, verdict, numbers, censor_note(numbers)))

        numbers = base_numbers(cell)
        if cell == "LSTM":
            statement = "LSTM: more input features -> shorter memory."
            if point is None:
                out.append(Claim(f"{inputs_claim}/{metric}", statement, fit_rule, INCONCLUSIVE, numbers,
                                 "fewer than two unit sizes or input sizes in this tier"))
                continue
            _, rho = cell_checks(frame, metric, larger_units=False)
            need = needed(args.col_fraction, len(rho))
            negative = sum(r < 0 for r in rho if not math.isnan(r))
            slope_ok = numbers["b_in"] < 0 and numbers["b_in_ci"][1] < 0
            cols_ok = len(rho) > 0 and negative >= need
            numbers.update(columns_spearman_negative=f"{negative}/{len(rho)} (need {need})")
            verdict = HOLDS if slope_ok and cols_ok else PARTLY if (slope_ok or cols_ok) else FAILS
            rule = (f"{fit_rule}. Holds if b_in < 0 with the interval below 0 and Spearman(n_in, cell mean) < 0 "
                    f"in at least {need} of the {len(rho)} columns with u >= 2; partly if one of the two holds.")
            out.append(Claim(f"{inputs_claim}/{metric}", statement, rule, verdict, numbers, censor_note(numbers)))
        else:
            statement = "GRU: no clear effect of input size."
            if point is None:
                out.append(Claim(f"{inputs_claim}/{metric}", statement, fit_rule, INCONCLUSIVE, numbers,
                                 "fewer than two unit sizes or input sizes in this tier"))
                continue
            low, high = numbers["b_in_ci"]
            contains_zero = low <= 0 <= high
            small = abs(numbers["b_in"]) < args.g2_ratio * abs(numbers["b_u"])
            numbers.update(b_in_ci_contains_0=contains_zero, abs_b_in_below_ratio_abs_b_u=small)
            rule = (f"{fit_rule}. Holds if the interval of b_in contains 0, or |b_in| < {args.g2_ratio} |b_u|.")
            out.append(Claim(f"{inputs_claim}/{metric}", statement, rule, verdict_from(contains_zero or small),
                             numbers, censor_note(numbers)))

    if fits.get("LSTM") is not None and fits.get("GRU") is not None:
        means = runs.groupby(["cell", "n_in", "units"])[metric].mean().unstack("cell").dropna()
        longer = int((means["LSTM"] > means["GRU"]).sum())
        shorter = int((means["LSTM"] < means["GRU"]).sum())
        share = longer / len(means) if len(means) else float("nan")
        verdict = INCONCLUSIVE if not len(means) else HOLDS if share >= 0.75 else FAILS if share <= 0.25 else PARTLY
        out.append(Claim(
            f"O1/{metric}",
            "Secondary observation (not a claim of the post): the LSTM remembers longer than the GRU at equal (n_in, u).",
            "share of (n_in, u) cells where the LSTM's mean exceeds the GRU's: holds if >= 75%, fails if <= 25%, "
            "partly in between.",
            verdict,
            {"cells": len(means), "lstm_longer": longer, "lstm_shorter": shorter, "ties": len(means) - longer - shorter},
        ))
    return out


def claims_main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m rnnmem claims-forgetting", description="claims L1, L2, G1, G2")
    p.add_argument("--runs", required=True, help="runs.csv from aggregate-forgetting")
    p.add_argument("--csv", required=True)
    p.add_argument("--md", required=True)
    p.add_argument("--metrics", nargs="+", required=True)
    p.add_argument("--bootstrap", type=int, required=True, help="bootstrap replicates")
    p.add_argument("--level", type=float, required=True, help="interval level, e.g. 0.95")
    p.add_argument("--row-fraction", type=float, required=True, help="share of n_in rows with Spearman > 0 (7/8)")
    p.add_argument("--col-fraction", type=float, required=True, help="share of u >= 2 columns with Spearman < 0 (5/7)")
    p.add_argument("--g2-ratio", type=float, required=True, help="G2: |b_in| < ratio |b_u|")
    p.add_argument("--experiment", required=True, help="seed key base of the bootstrap streams")
    p.add_argument("--variant", required=True)
    p.add_argument("--tier", required=True)
    args = p.parse_args(argv)
    runs = read_csv(args.runs)
    for metric in args.metrics:
        if metric not in runs.columns:
            return _fail("claims-forgetting", f"forgetting.claims.metrics: {metric!r} is not a metric of {args.runs}")
    claims = [c for metric in args.metrics for c in claims_for_metric(runs, metric, args)]
    record = provenance(
        config={k: getattr(args, k) for k in ("metrics", "bootstrap", "level", "row_fraction", "col_fraction",
                                              "g2_ratio", "experiment")},
        tier=args.tier,
        variant=args.variant,
    )
    write_claims(
        claims,
        args.csv,
        args.md,
        title=f"Forgetting time: claims of the post - {VARIANT_LABEL.get(args.variant, args.variant)}",
        tier=args.tier,
        provenance=record,
    )
    return 0
