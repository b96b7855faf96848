"""The forgetting study's plan: output folders per variant, its jobs and their files.

Plain functions of the validated `forgetting` config section; workflow/rules/forgetting.smk
loops over what they return and declares its rules (the settings of each job come from
rnnmem.forgetting.settings). Kept apart from settings.py, which the simulation command
imports: a change of plan must not change the simulations' code version.

Imports neither torch nor matplotlib: the workflow reads it while parsing.
"""

from __future__ import annotations

from rnnmem.forgetting.settings import CELLS

PRIMARY = "torch"  # the primary variant owns results/forgetting/; another gets a subfolder
JOB_ID = "{cell}-in{n_in}-u{units}"  # a simulation job's name (its wildcards)
# The simulation rule's wildcards: ids of the known cells and positive integers.
WILDCARD_CONSTRAINTS = {"cell": "|".join(CELLS), "n_in": r"[1-9]\d*", "units": r"[1-9]\d*"}


def out_dir(variant: str) -> str:
    """Where a variant's results go."""
    return "results/forgetting" if variant == PRIMARY else f"results/forgetting/{variant}"


def log_dir(variant: str) -> str:
    return out_dir(variant).replace("results/", "logs/", 1)


def run_ids(section: dict) -> list[str]:
    """Every run's id ("00", "01", ...): one output file per run of a job."""
    return [f"{run:02d}" for run in range(section["runs"])]


def jobs(section: dict) -> list[dict]:
    """The wildcards of every simulation job (of one variant), in grid order."""
    return [
        {"cell": cell, "n_in": n_in, "units": units}
        for cell in section["cells"]
        for n_in in section["n_in"]
        for units in section["units"]
    ]


def run_files(section: dict, variant: str) -> list[str]:
    """One simulation job's run files, its wildcards left open ({cell}, {n_in}, {units})."""
    return [f"{out_dir(variant)}/runs/{JOB_ID}/run{run}.npz" for run in run_ids(section)]


def all_run_files(section: dict, variant: str) -> list[str]:
    """Every run file of a variant: the aggregation's inputs."""
    return [path.format(**job) for job in jobs(section) for path in run_files(section, variant)]


def heatmap_files(section: dict, variant: str, ext: str) -> list[str]:
    """One heat-map figure per metric (ext "png", "pdf" or "png.provenance.json")."""
    metrics = section["figures"]["metrics"]
    return [f"{out_dir(variant)}/heatmap_{metric}.{ext}" for metric in metrics]


def targets(section: dict, variant: str) -> list[str]:
    """A variant's final outputs: tables, figures (with their records), claims."""
    out = out_dir(variant)
    return [
        f"{out}/runs.csv",
        f"{out}/summary.csv",
        *[
            path
            for metric in section["figures"]["metrics"]
            for path in (
                f"{out}/heatmap_{metric}.png",
                f"{out}/heatmap_{metric}.pdf",
                f"{out}/heatmap_{metric}.png.provenance.json",
            )
        ],
        f"{out}/decay.png",
        f"{out}/decay.pdf",
        f"{out}/decay.png.provenance.json",
        f"{out}/claims.csv",
        f"{out}/claims.md",
    ]
