"""Figures and claim checks of the memory-distance study, on synthetic aggregated tables.

The generator below writes tables with exactly the columns of results/memorization/ and
realistic structure: loss grows with the distance p and falls with the cells c and
layers l, with a memorised regime (~0.01), a short middle band and the fixed-guess level
(~0.24). The true memory distance of the synthetic RNN is the paper's bound c*l - (l-1),
so the paper's claims hold on the default data; each claim test then breaks the one
property its claim is about.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from rnnmem.core.io import write_json
from rnnmem.core.provenance import sidecar_path
from rnnmem.core.settings import schema_defaults, settings_json
from rnnmem.memorization import tables as mem_tables

DEFAULTS = schema_defaults("memorization")
THETA, CURVE_EPOCHS = DEFAULTS["theta"], DEFAULTS["curve_epochs"]
THETA_SENSITIVITY = DEFAULTS["theta_sensitivity"]

# ---------------------------------------------------------------------------------------
# Synthetic data
# ---------------------------------------------------------------------------------------
GRIDS = {
    # Like config/smoke.yaml.
    "smoke": {
        "curves": dict(positions=[1, 5, 9], seeds=2, epochs=20),
        "fig6": dict(layers=[1, 2], units=[1, 2], positions=[1, 2], seeds=2),
        "fig8": dict(layers=[1, 2], units=[1, 2], positions=[1, 2], seeds=2),
        "fig9": dict(layers=[1, 2], units=[1, 2], positions=[1, 2], seeds=2),
        "esn_units": [2, 5],
    },
    # Like config/config.yaml (the default tier).
    "default": {
        "curves": dict(positions=list(range(1, 11)), seeds=10, epochs=500),
        "fig6": dict(
            layers=[1, 2, 3], units=[1, 2, 3, 4, 5, 6, 8, 10], positions=list(range(1, 13)), seeds=3
        ),
        "fig8": dict(
            layers=[1, 2], units=[1, 2, 4, 6, 8, 10], positions=list(range(1, 11)), seeds=3
        ),
        "fig9": dict(
            layers=[1, 2], units=[1, 2, 4, 6, 8, 10], positions=list(range(1, 11)), seeds=3
        ),
        "esn_units": [1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20],
    },
}


# Loss of a memorised configuration and of the fixed-guess plateau, per cell type: the
# LSTM and GRU do a little worse than the RNN (claim 10).
MEMORISED = {"rnn": 0.010, "lstm": 0.030, "gru": 0.025}


GUESS = {"rnn": 0.240, "lstm": 0.245, "gru": 0.244}


def true_distance(cell, task, layers, units):
    """Synthetic D: the layer bound for the RNN; less for LSTM/GRU; p = 10 stays out of reach."""
    d = units * layers - (layers - 1)
    if cell == "lstm":
        return min(max(0, d - 2), 8)
    if cell == "gru":
        return min(max(0, d - 1), 8)
    return d


def expected_loss(cell, task, layers, units, p):
    """Mean final loss of a configuration: memorised, a two-step middle band, fixed guess."""
    d = true_distance(cell, task, layers, units)
    if task == "fixed" and (layers, units) in ((1, 2), (2, 2)) and p >= 8:
        return MEMORISED[cell]  # the paper's named new memorised instances under Def. 2
    if p <= d:
        return MEMORISED[cell]
    if p == d + 1:
        return 0.12
    if p == d + 2:
        return 0.18
    return GUESS[cell]


def runs_table(experiment, cell, task, grid, loss=expected_loss, noise=0.003, seed=0, epochs=50):
    """runs.csv rows: one per (l, c, p, seed), final loss = `loss(...)` plus noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for layers in grid["layers"]:
        for units in grid["units"]:
            for p in grid["positions"]:
                for s in range(grid["seeds"]):
                    value = max(0.001, loss(cell, task, layers, units, p) + rng.normal(0, noise))
                    rows.append(
                        dict(
                            experiment=experiment,
                            cell=cell,
                            task=task,
                            layers=layers,
                            units=units,
                            position=p,
                            seed=s,
                            final_loss=value,
                            best_loss=value - 0.001,
                            diverged=False,
                            first_hit_epoch=np.nan,
                            epochs=epochs,
                            n_params=units * units + 3 * units,
                        )
                    )
    return pd.DataFrame(rows)


def curve(p, cell, seed_index, epochs, rng):
    """One learning curve: exponential approach to a plateau that depends on p.

    RNN: p=1..4 fast, p=5 slower with seed-to-seed spread, p=6..8 plateau ~0.15, p=9..10
    stay near 0.25. LSTM: the same plateaus, reached 4x more slowly (still falling at 500)."""
    plateau = 0.01 if p <= 5 else (0.15 if p <= 8 else 0.245)
    tau = 12.0 * p if p <= 4 else (40.0 + 25.0 * seed_index if p == 5 else 60.0)
    if cell == "lstm":
        tau *= 4
    t = np.arange(1, epochs + 1)
    return plateau + (0.27 - plateau) * np.exp(-t / tau) + rng.normal(0, 0.003, epochs)


def curves_and_runs(experiment, cell, grid, seed=1):
    rng = np.random.default_rng(seed)
    curve_rows, run_rows = [], []
    for p in grid["positions"]:
        for s in range(grid["seeds"]):
            loss = curve(p, cell, s, grid["epochs"], rng)
            keys = dict(
                experiment=experiment,
                cell=cell,
                task="variable",
                layers=1,
                units=5,
                position=p,
                seed=s,
            )
            curve_rows.append(
                pd.DataFrame(
                    {**keys, "epoch": np.arange(1, grid["epochs"] + 1), "train_loss": loss}
                )
            )
            average = pd.Series(loss).rolling(10).mean().to_numpy()
            hits = np.flatnonzero(average < 0.05)
            final = float(np.mean(loss[-10:]))
            run_rows.append(
                dict(
                    **keys,
                    final_loss=final,
                    best_loss=final,
                    diverged=False,
                    first_hit_epoch=float(hits[0] + 1) if hits.size else np.nan,
                    epochs=grid["epochs"],
                    n_params=40,
                )
            )
    return pd.concat(curve_rows, ignore_index=True), pd.DataFrame(run_rows)


def capacity_tables(runs, theta=0.05):
    """capacity.csv and capacity_curves.csv for every heat-map run: trained MC covers the
    memorised delays (below N), initial MC is about half of N."""
    cap_rows, curve_rows = [], []
    cfg = mem_tables.config_losses(runs)
    distance = mem_tables.memory_distance(cfg, theta).set_index(mem_tables.SHAPE_KEYS)["D"]
    for r in runs.itertuples():
        n = r.units * r.layers
        d = distance[(r.experiment, r.cell, r.task, r.layers, r.units)]
        keys = {k: getattr(r, k) for k in mem_tables.RUN_KEYS}
        for weights, mc in (("trained", min(n - 0.02, d + 0.4)), ("initial", 0.5 * n)):
            states = [("all", n, mc), ("top", r.units, min(r.units - 0.02, mc))]
            if r.cell == "lstm":
                states.append(("hc", 2 * n, mc + 0.1))
            for state, n_state, value in states:
                cap_rows.append(
                    dict(
                        **keys,
                        weights=weights,
                        state=state,
                        n_state=n_state,
                        mc=value,
                        mc_eq3=max(0.0, value - 0.9),
                        bias_estimate=0.004,
                    )
                )
            for delay in range(1, 11):
                stream = 0.95 if delay <= mc else 0.02
                own = weights == "trained" and delay == r.position and r.final_loss < theta
                task = 0.96 if own or (weights == "trained" and delay <= d) else 0.05
                curve_rows.append(
                    dict(**keys, weights=weights, measure="stream", delay=delay, value=stream)
                )
                curve_rows.append(
                    dict(**keys, weights=weights, measure="task", delay=delay, value=task)
                )
    return pd.DataFrame(cap_rows), pd.DataFrame(curve_rows)


def esn_tables(units_list, reservoirs=3):
    esn, task = [], []
    for n in units_list:
        for k in range(reservoirs):
            mc = 0.85 * n**0.8 + 0.01 * k
            esn.append(
                dict(units=n, reservoir=k, mc=mc, mc_eq3=max(0, mc - 0.95), bias_estimate=0.003)
            )
            for delay in range(1, 21):
                value = max(0.0, 1 - delay / (n + 1.5))
                task.append(
                    dict(units=n, reservoir=k, delay=delay, mc_task=value, mae=0.25 - 0.24 * value)
                )
    return pd.DataFrame(esn), pd.DataFrame(task)


def make_tables(grid_name="default", drop=()):
    """All six aggregated tables for a tier-like grid; `drop` removes experiments."""
    grid = GRIDS[grid_name]
    curves4, runs4 = curves_and_runs("fig4", "rnn", grid["curves"], seed=1)
    curves5, runs5 = curves_and_runs("fig5", "lstm", grid["curves"], seed=2)
    heat = [
        runs_table("fig6", "rnn", "variable", grid["fig6"], seed=3),
        runs_table("fig8", "lstm", "variable", grid["fig8"], seed=4),
        runs_table("fig8", "gru", "variable", grid["fig8"], seed=5),
        runs_table("fig9", "rnn", "fixed", grid["fig9"], seed=6),
    ]
    runs = pd.concat([runs4, runs5, *heat], ignore_index=True)
    runs = runs[~runs["experiment"].isin(drop)].reset_index(drop=True)
    curves = pd.concat([curves4, curves5], ignore_index=True)
    curves = curves[~curves["experiment"].isin(drop)].reset_index(drop=True)
    capacity, capacity_curves = capacity_tables(
        runs[runs["experiment"].isin(mem_tables.HEATMAP_EXPERIMENTS)]
    )
    esn, esn_task = esn_tables(grid["esn_units"])
    return {
        "runs": runs,
        "curves": curves,
        "capacity": capacity,
        "capacity_curves": capacity_curves,
        "esn": esn,
        "esn_task": esn_task,
    }


def table_jobs(name: str) -> list[dict]:
    """The jobs a synthetic table's record names: one made-up job per table, and one that
    every table shares (a figure made from several tables lists it once)."""
    return [{"command": "synthetic", "table": name}, {"command": "synthetic", "table": "all"}]


def write_tables(folder, frames):
    """Each table as CSV with its provenance record beside it, as aggregation writes them."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
        write_json(sidecar_path(folder / f"{name}.csv"), {"jobs": table_jobs(name)})
    return folder


def as_tables(frames) -> mem_tables.Tables:
    """The in-memory route: the same normalisation as reading the CSVs."""
    return mem_tables.Tables(**{k: mem_tables._normalise(v.copy(), k) for k, v in frames.items()})


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------------------------------
# Claims: expected verdict on data built to hold, the opposite on data built to fail
# ---------------------------------------------------------------------------------------
def with_experiment(frames, experiment, cell, task, grid, loss, **kw):
    """Replace one experiment (and cell) of the tables by rows following `loss`."""
    frames = dict(frames)
    runs = frames["runs"]
    keep = ~((runs["experiment"] == experiment) & (runs["cell"] == cell))
    frames["runs"] = pd.concat(
        [runs[keep], runs_table(experiment, cell, task, grid, loss, **kw)], ignore_index=True
    )
    return as_tables(frames)


FIG6 = GRIDS["default"]["fig6"]


def table_args(results) -> list[str]:
    """--runs results/runs.csv ... --esn-task results/esn_task.csv (files may be missing)."""
    paths = mem_tables.table_paths(results)
    return [a for name, p in paths.items() for a in ("--" + name.replace("_", "-"), str(p))]


def figures_args(results, outdir, tier, theta=THETA, curve_epochs=CURVE_EPOCHS) -> list[str]:
    """The figures CLI for every figure, written into `outdir`."""
    from rnnmem.memorization.figure_list import FIGURES

    outputs = [str(outdir / f"{stem}{ext}") for stem in FIGURES for ext in (".png", ".pdf")]
    settings = settings_json({"theta": theta, "curve_epochs": curve_epochs})
    return ["--settings", settings, "--tier", tier, *table_args(results), "--out", *outputs]


def claims_args(
    results, csv, md, tier, theta=THETA, theta_sensitivity=THETA_SENSITIVITY
) -> list[str]:
    """The claims CLI on the tables in `results`."""
    settings = {"theta": theta, "theta_sensitivity": theta_sensitivity}
    settings = settings_json(settings | {"curve_epochs": CURVE_EPOCHS})
    return [
        "--settings",
        settings,
        "--tier",
        tier,
        *table_args(results),
        "--csv",
        str(csv),
        "--md",
        str(md),
    ]
