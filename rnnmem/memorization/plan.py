"""The memorization study's plan: its jobs, their settings and files, and the config checks.

Plain functions of the validated `memorization` config section (workflow/schemas/
memorization.schema.yaml holds every default). workflow/rules/memorization.smk loops over
what these return and declares its rules; nothing about the grid is computed there.

    jobs(section, "fig6")                     -> the training jobs of one experiment
    train_settings(section, "fig6", wildcards) -> one job's --settings (overrides applied)
    config_problems(section)                   -> every cross-key check, each naming its key

Imports neither torch nor matplotlib: the workflow reads it while parsing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from rnnmem.core.settings import settings_json
from rnnmem.memorization.task import TASK_KEYS, TaskSpec

OUT = "results/memorization"
LOGS = "logs/memorization"
JOB_ID = "{cell}-{task}-l{layers}-c{units}"  # a job's folder and file name (its wildcards)

# Training settings an experiment (and an override) may set for its jobs.
TRAINING_KEYS = ("lr", "batch_size", "steps_per_epoch", "tbptt_k")
EXPERIMENT_KEYS = (*TRAINING_KEYS, "epochs", "seeds", "positions")
# Study-wide settings every training job gets as they are.
SHARED_KEYS = (
    "seed",
    "eval_sequences",
    "eval_every",
    "eval_seed",
    "checkpoint_every",
    *TASK_KEYS,
)
# The keys by which an override entry picks its jobs, most general first.
MATCH_KEYS = ("experiment", "cell", "layers", "units")


@dataclass(frozen=True)
class Job:
    """One training job: one configuration of one experiment, all its positions and seeds."""

    experiment: str
    cell: str
    task: str
    layers: int
    units: int

    @property
    def wildcards(self) -> dict:
        return {"cell": self.cell, "task": self.task, "layers": self.layers, "units": self.units}

    @property
    def name(self) -> str:
        return JOB_ID.format(**self.wildcards)


# ------------------------------------------------------------------------------- the grid
def jobs(section: dict, experiment: str | None = None) -> list[Job]:
    """Every training job of `experiment` (of every experiment when None), in grid order."""
    names = list(section["experiments"]) if experiment is None else [experiment]
    return [
        Job(name, cell, exp["task"], layers, units)
        for name in names
        for exp in [section["experiments"][name]]
        for cell in exp["cells"]
        for layers in exp["layers"]
        for units in exp["units"]
    ]


def job_of(section: dict, experiment: str, wildcards: Mapping) -> Job:
    """The planned job that `wildcards` (cell, task, layers, units; strings or ints) name.

    Raises ValueError for a job outside the experiment's grid.
    """
    exp = section["experiments"][experiment]
    job = Job(
        experiment,
        str(wildcards["cell"]),
        exp["task"],
        int(wildcards["layers"]),
        int(wildcards["units"]),
    )
    if job not in jobs(section, experiment) or str(wildcards.get("task", job.task)) != job.task:
        raise ValueError(f"{experiment}: {job.name} is not a job of its grid")
    return job


# ------------------------------------------------------------------------ job settings
def matches(override: dict, job: Job) -> bool:
    """Whether an override entry picks `job` (every match key it gives is the job's)."""
    return all(override[key] == getattr(job, key) for key in MATCH_KEYS if key in override)


def job_settings(section: dict, job: Job) -> dict:
    """Every setting of one training job: study < experiment < matching overrides, in order."""
    exp = section["experiments"][job.experiment]
    settings = {key: section[key] for key in TRAINING_KEYS + SHARED_KEYS}
    settings.update({key: exp[key] for key in EXPERIMENT_KEYS if key in exp})
    for override in section["overrides"]:
        if matches(override, job):
            settings.update({k: v for k, v in override.items() if k not in MATCH_KEYS})
    return settings


def train_settings(section: dict, experiment: str, wildcards: Mapping) -> dict:
    """The --settings of the training job `wildcards` names (TrainJob without its identity)."""
    return job_settings(section, job_of(section, experiment, wildcards))


def probe_settings(section: dict, experiment: str, wildcards: Mapping) -> dict:
    """The --settings of a probe job: its training job's settings and the capacity section."""
    return {
        "job": train_settings(section, experiment, wildcards),
        "capacity": section["capacity"],
    }


def settings_param(settings_of: Callable, section: dict, experiment: str) -> Callable:
    """A rule's `settings` param: wildcards -> the JSON of `settings_of(section, experiment,
    wildcards)` (bound here, so a rule declared in a loop gets its own experiment)."""
    return lambda wildcards: settings_json(settings_of(section, experiment, wildcards))


def esn_settings(section: dict) -> dict:
    return {
        "capacity": section["capacity"],
        "esn": section["esn"],
        "task": {key: section[key] for key in TASK_KEYS},
    }


def aggregate_settings(section: dict) -> dict:
    return {"theta": section["theta"], "curve_experiments": section["curve_experiments"]}


def figure_settings(section: dict) -> dict:
    return {"theta": section["theta"], "curve_epochs": section["curve_epochs"]}


def claim_settings(section: dict) -> dict:
    return {
        "theta": section["theta"],
        "theta_sensitivity": section["theta_sensitivity"],
        "curve_epochs": section["curve_epochs"],
    }


# ------------------------------------------------------------------------------- files
def seed_files(section: dict, experiment: str) -> list[str]:
    """One experiment's per-seed files, the job's wildcards left open ({cell}, ...)."""
    n = section["experiments"][experiment]["seeds"]
    return [f"{OUT}/runs/{experiment}/{JOB_ID}/seed{seed}.npz" for seed in range(n)]


def all_seed_files(section: dict) -> list[str]:
    """Every per-seed file of every job."""
    return [
        path.format(**job.wildcards)
        for job in jobs(section)
        for path in seed_files(section, job.experiment)
    ]


def capacity_file(experiment: str, suffix: str = "", job: Job | None = None) -> str:
    """A probe job's table (suffix "") or curves ("_curves"); wildcards left open without job."""
    path = f"{OUT}/capacity/{experiment}/{JOB_ID}{suffix}.csv"
    return path if job is None else path.format(**job.wildcards)


def all_capacity_files(section: dict, suffix: str = "") -> list[str]:
    return [capacity_file(job.experiment, suffix, job) for job in jobs(section)]


# ------------------------------------------------------------------------ config checks
def config_problems(section: dict) -> list[str]:
    """Cross-key checks of the validated `memorization` section that the schema cannot
    express, each naming its key; the workflow stops on any, before a job runs."""
    return [*_grid_problems(section), *_override_problems(section), *_washout_problems(section)]


def _grid_problems(section: dict) -> list[str]:
    """Every position of every experiment must exist on its task (TrainJob checks it too)."""
    problems = []
    for name, exp in section["experiments"].items():
        task = TaskSpec.of(exp["task"], section)
        impossible = [p for p in exp["positions"] if not task.position_possible(p)]
        if impossible:
            problems.append(
                f"config key memorization.experiments.{name}.positions: "
                f"p={max(impossible)} is impossible on the fixed-length task "
                f"(q = fixed_length = {section['fixed_length']})"
            )
    return problems


def _override_problems(section: dict) -> list[str]:
    """Each override entry must pick at least one job: the message names the first match key
    (experiment, cell, layers, units) that leaves none, and the values it could take."""
    problems = []
    every_job = jobs(section)
    for i, override in enumerate(section["overrides"]):
        candidates = every_job
        for key in MATCH_KEYS:
            if key not in override:
                continue
            kept = [job for job in candidates if getattr(job, key) == override[key]]
            if not kept:
                known = sorted({getattr(job, key) for job in candidates}, key=str)
                where = "" if candidates is every_job else " among the jobs it matches so far"
                problems.append(
                    f"config key memorization.overrides[{i}].{key}: {override[key]!r} "
                    f"matches no job (planned values{where}: {known})"
                )
                break
            candidates = kept
    return problems


def _washout_problems(section: dict) -> list[str]:
    """The capacity probes discard `washout` steps, which must cover the K - 1 earlier
    inputs the longest delay reads (K = max(2N, min_delays) for an N-unit state)."""
    capacity = section["capacity"]
    sizes = {job.units * job.layers for job in jobs(section)} | set(section["esn"]["units"])
    if not sizes:
        return []
    largest = max(sizes)
    delays = max(2 * largest, capacity["min_delays"])
    if capacity["washout"] >= delays - 1:
        return []
    return [
        f"config key memorization.capacity.washout={capacity['washout']} must be at least "
        f"K - 1 = {delays - 1}: K = max(2N, memorization.capacity.min_delays) delays for the "
        f"largest probed state, N = {largest}"
    ]
