"""`python -m rnnmem plan --calibrate`: the cost model's coefficients, measured on this machine.

Tiny real jobs of every training family run in this process, one thread each, after one
untimed warm-up per kind (numba compiles or loads its kernels then):

    train-memorization:<cell>   rnnmem.memorization.train.train, three sizes per cell
    probe-memorization:<cell>   rnnmem.memorization.probe.probe, two sizes, two stream lengths
    train-long-memory:<model>   rnnmem.long_memory.jobs.run_job on a synthetic series of the
                                traffic split's length, 50 and 100 seeds, no early stop
    train-reviews:<model>       rnnmem.long_memory.reviews.train.train_reviews on synthetic
                                embedded reviews of the real split sizes, two seed counts
    simulate-forgetting:<v>-<cell>  rnnmem.forgetting.simulate.run_one, 2 runs of 3 widths x
                                2 input sizes, the schema's settings at fewer steps

Each point is (the job's work as its record would count it, its seconds); each family gets
seconds = a + b * work (rnnmem/core/costs.py). Sizes and seed counts span those the tiers
run, so that the fit does not extrapolate from overhead-bound toy jobs alone. The start-up
of every rule's command is timed as `python -m rnnmem <command> --help` in a fresh
interpreter (its imports), which records of finished jobs do not hold. The file names the
date, machine, commit and the load average (timings on a busy machine run long).
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import date
from pathlib import Path

import numpy as np
import torch

from rnnmem.commands import COMMANDS
from rnnmem.core.costs import write_calibration
from rnnmem.core.device import configure_torch
from rnnmem.core.io import save_arrays
from rnnmem.core.settings import from_settings, schema_defaults
from rnnmem.forgetting import cost as forget_cost
from rnnmem.forgetting.settings import VARIANTS, SimulateJob, simulate_settings
from rnnmem.forgetting.simulate import run_one
from rnnmem.long_memory import cost as lm_cost
from rnnmem.long_memory.cells import MODELS
from rnnmem.long_memory.data import split_for
from rnnmem.long_memory.jobs import JobSettings, run_job
from rnnmem.long_memory.reviews import cost as review_cost
from rnnmem.long_memory.reviews import data as review_data
from rnnmem.long_memory.reviews.jobs import N_CLASSES
from rnnmem.long_memory.reviews.params import MODELS as REVIEW_MODELS
from rnnmem.long_memory.reviews.train import ReviewTrainSettings, train_reviews
from rnnmem.memorization import cost as mem_cost
from rnnmem.memorization import plan as mem_plan
from rnnmem.memorization.capacity import CapacitySettings
from rnnmem.memorization.job import TrainJob
from rnnmem.memorization.probe import probe
from rnnmem.memorization.train import seed_file_arrays, train
from rnnmem.planned_jobs import review_family

ROOT = Path(__file__).resolve().parents[1]
NOT_RULES = ("bench", "config-docs", "plan")  # commands no rule runs
# forgetting: (cell, units) of the timed simulations, each at n_in 1 and 16
CELL_UNITS = [(cell, units) for cell in forget_cost.GATES for units in (1, 16, 128)]
CPU = torch.device("cpu")


def quiet(*_):
    pass


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - start, out


def progress(family: str, points: list) -> None:
    """The points measured so far (stderr: a calibration takes minutes)."""
    shown = ", ".join(f"{s:.2f} s" for _, s in points)
    print(f"  {family}: {shown}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- memorization
def memorization_job(cell: str, layers: int, units: int, epochs: int) -> TrainJob:
    """A job with the schema's training settings, 2 seeds x positions 1..5."""
    section = schema_defaults("memorization")
    settings = {k: section[k] for k in mem_plan.TRAINING_KEYS + mem_plan.SHARED_KEYS}
    settings.update(epochs=epochs, seeds=2, positions=[1, 2, 3, 4, 5])
    identity = dict(
        experiment="calibration", cell=cell, task="variable", layers=layers, units=units
    )
    return TrainJob.of(identity, settings)


def memorization_points(folder: Path) -> dict[str, list]:
    for cell in ("rnn", "lstm", "gru"):  # warm-up: compiles each cell's kernels
        train(memorization_job(cell, 1, 2, 1), log=quiet)
    points: dict[str, list] = {}
    for cell, layers, units, epochs in (
        ("rnn", 1, 5, 200),
        ("rnn", 3, 10, 40),
        ("rnn", 5, 20, 15),
        ("gru", 1, 5, 100),
        ("gru", 2, 10, 30),
        ("gru", 3, 16, 8),
        ("lstm", 1, 5, 60),
        ("lstm", 3, 10, 15),
        ("lstm", 2, 16, 8),
    ):  # per cell, sizes spanning about 100x in work: the fit needs both ends
        job = memorization_job(cell, layers, units, epochs)
        seconds, _ = timed(train, job, log=quiet)
        family = mem_cost.train_family(cell)
        points.setdefault(family, []).append((mem_cost.train_work(job), seconds))
    capacity = schema_defaults("memorization")["capacity"]
    for cell in ("rnn", "lstm", "gru"):
        for layers, units in ((1, 4), (3, 16)):
            job = memorization_job(cell, layers, units, 1)  # probing costs the same untrained
            files = []
            for seed, arrays in enumerate(seed_files(job, train(job, log=quiet))):
                files.append(folder / f"{job.name}-seed{seed}.npz")
                save_arrays(files[-1], *arrays)
            for steps in (1000, 4000):
                washout = max(2 * layers * units, capacity["min_delays"])  # K: the least
                cap = {**capacity, "washout": washout, "train_steps": steps, "test_steps": steps}
                cap["task_sequences"] = steps
                seconds, _ = timed(probe, job, files, from_settings(CapacitySettings, cap), CPU)
                work = (mem_cost.probe_steps(job, cap), mem_cost.probe_work(job, cap))
                points.setdefault(mem_cost.probe_family(cell), []).append((work, seconds))
    return points


def seed_files(job: TrainJob, result: dict) -> list:
    """(arrays, meta) of each seed's file, as the training job writes them."""
    return [seed_file_arrays(job, result, seed) for seed in range(job.seeds)]


# ----------------------------------------------------------------------------- long memory
def series_file(folder: Path) -> Path:
    """A synthetic AR(1) series as long as the traffic series (paper split)."""
    n = sum(split_for("traffic", "paper")) + 1
    rng = np.random.default_rng(0)
    x = np.zeros(n)
    for t in range(1, n):
        x[t] = 0.9 * x[t - 1] + rng.standard_normal()
    path = folder / "series.csv"
    path.write_text("t,x\n" + "".join(f"{t},{float(v)!r}\n" for t, v in enumerate(x)), "utf-8")
    return path


def long_memory_points(folder: Path) -> dict[str, list]:
    section = schema_defaults("long_memory")
    series = series_file(folder)
    points: dict[str, list] = {}

    def job(model, seeds, epochs):
        training = {**section["training"], "max_epochs": epochs, "patience": epochs}
        return JobSettings(
            dataset="traffic",
            split="paper",
            model=model,
            K=section["experiment1"]["K"],
            H=section["H"],
            seeds=list(range(seeds)),
            dtype=section["dtype"],
            tier="calibration",
            **training,
        )

    for model in MODELS:
        run_job(job(model, 1, 1), series, log=quiet)  # warm-up: compiles or loads the kernel
        family = lm_cost.train_family(model)
        for seeds, epochs in ((50, 40), (100, 40), (100, 80)):  # seed batches as run
            settings = job(model, seeds, epochs)
            seconds, _ = timed(run_job, settings, series, log=quiet)
            points.setdefault(family, []).append((lm_cost.train_work(asdict(settings)), seconds))
    return points


def review_points() -> dict[str, list]:
    """Synthetic embedded reviews (the real split sizes, seq_len 30) in the authors' layout."""
    reviews = schema_defaults("long_memory")["reviews"]
    seq_len, p = 30, reviews["word2vec"]["vector_size"]
    n = sum(reviews["split_sizes"])
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, seq_len, p)).astype(np.float32)
    lengths = np.full(n, seq_len, dtype=np.int64)
    labels = rng.integers(0, N_CLASSES, n)
    splits = review_data.make_splits(
        x,
        lengths,
        labels,
        split_seed=reviews["split_seed"],
        split_sizes=reviews["split_sizes"],
        layout="authors",
    )
    configure_torch(reviews["threads"])
    points: dict[str, list] = {}
    for model in REVIEW_MODELS:
        for seeds, epochs in ((1, 1), (1, 2), (2, 2)):  # the first: warm-up, untimed
            settings = {
                "model": model,
                "K": reviews["K"],
                "hidden": reviews["hidden"],
                "seq_len": seq_len,
                "split_sizes": reviews["split_sizes"],
                "seeds": list(range(seeds)),
                "training": {**reviews["training"], "epochs": epochs},
            }
            seconds, _ = timed(
                train_reviews,
                model,
                settings["seeds"],
                splits,
                p=p,
                H=reviews["hidden"],
                n_classes=N_CLASSES,
                K=reviews["K"],
                settings=ReviewTrainSettings.from_config(settings["training"]),
                gpus=0,
                extra_meta={},
            )
            if epochs > 1:
                work = review_cost.review_work(settings, p)
                points.setdefault(review_family(model), []).append((work, seconds))
    return points


# ------------------------------------------------------------------------------ forgetting
def forgetting_points() -> dict[str, list]:
    """Two runs per cell/size, at the schema's settings but fewer steps (keras22: a step per
    call, so fewer still)."""
    section = schema_defaults("forgetting")
    configure_torch(section["threads"])
    points: dict[str, list] = {}
    for variant in VARIANTS:
        steps = 20000 if variant == "torch" else 4000
        settings = simulate_settings({**section, "steps": steps}, variant)
        job = from_settings(SimulateJob, settings)
        run_one(job.experiment, "lstm", 1, 1, 0, job.run)  # warm-up
        for (cell, units), n_in in itertools.product(CELL_UNITS, (1, 16)):
            start = time.perf_counter()
            for run in range(2):
                run_one(job.experiment, cell, n_in, units, run, job.run)
            seconds = time.perf_counter() - start
            work = forget_cost.simulate_work(cell, n_in, units, runs=2, steps=steps)
            family = forget_cost.simulate_family(variant, cell)
            points.setdefault(family, []).append((work, seconds))
    return points


# ------------------------------------------------------------------------------- the file
def startup_seconds() -> dict[str, float]:
    """Wall seconds of `python -m rnnmem <command> --help` per rule command (its imports)."""
    out = {}
    for command in [c for c in COMMANDS if c not in NOT_RULES]:
        seconds, _ = timed(
            subprocess.run,
            [sys.executable, "-m", "rnnmem", command, "--help"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        out[command] = round(seconds, 3)
    return out


def machine() -> str:
    """The CPU model (/proc/cpuinfo) and core count."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores"


def commit() -> str:
    out = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return out.stdout.strip() or "unknown"


def run(path: Path) -> int:
    """Measure, fit, write the calibration file at `path`, print the fits."""
    load = os.getloadavg()[0]
    torch.set_num_threads(1)
    points: dict[str, list] = {}
    units: dict[str, str] = {}

    def memorization_unit(family):
        return mem_cost.WORK_UNIT if family.startswith("train-") else mem_cost.PROBE_UNIT

    with tempfile.TemporaryDirectory() as tmp:
        for unit_of, measure in (
            (memorization_unit, lambda: memorization_points(Path(tmp))),
            (lambda _: lm_cost.WORK_UNIT, lambda: long_memory_points(Path(tmp))),
            (lambda _: review_cost.WORK_UNIT, review_points),
            (lambda _: forget_cost.WORK_UNIT, forgetting_points),
        ):
            for family, measured in measure().items():
                points[family], units[family] = measured, unit_of(family)
                progress(family, measured)
    startup = startup_seconds()
    about = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "commit": commit(),
        "command": "python -m rnnmem plan --calibrate",
        "load_average_at_start": round(load, 2),
        "load_average_at_end": round(os.getloadavg()[0], 2),
    }
    fits = write_calibration(path, points, units, startup, about)
    print(f"wrote {path} ({about['machine']}, commit {about['commit']})")
    print(f"{'family':<34} {'a (s)':>8} {'b (s per unit)':>15}  unit  points")
    for name, fit in fits.items():
        rates = " ".join(f"{b:.4e}" for b in fit.b)
        print(f"{name:<34} {fit.a:>8.3f} {rates:>15}  {fit.unit:<5} {fit.n}")
    print("start-up (s): " + ", ".join(f"{c} {s:.2f}" for c, s in startup.items()))
    return 0
