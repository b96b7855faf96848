"""Every job the workflow would run for a validated config, with its work, from the studies'
plans (never from Snakemake), and where finished jobs leave their records.

    planned_jobs(config) -> {study: [PlannedJob, ...]}   (rule, job, cost family, work, threads)
    records(root)        -> [(cost family, record path)]  (JSON log records under root/logs)

The rules a study declares are the ones its rule file (workflow/rules/<study>.smk) loops
over, and a study's rules join the run only when its section says enabled, as `rule all`
takes them (register_study in workflow/rules/common.smk). The work of a job comes from its
study's cost module (rnnmem/<study>/cost.py; the review jobs': long_memory/reviews/cost.py),
which the jobs themselves use for their records; this module is kept apart from those, so
that a change of plan changes no job's code version. Small rules (one job each: aggregate,
figures, claims, compare, report, fetch) have no work: their cost family is their command,
at its start-up per job.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from rnnmem.core.costs import PlannedJob
from rnnmem.forgetting import cost as forget_cost
from rnnmem.forgetting import plan as forget_plan
from rnnmem.forgetting.settings import CELLS, VARIANTS
from rnnmem.forgetting.settings import config_problems as forget_problems
from rnnmem.long_memory import cost as lm_cost
from rnnmem.long_memory import plan as lm_plan
from rnnmem.long_memory.reviews import cost as review_cost
from rnnmem.memorization import cost as mem_cost
from rnnmem.memorization import plan as mem_plan
from rnnmem.memorization.job import TrainJob

STUDIES = ("memorization", "forgetting", "long_memory")
PROBLEMS = {
    "memorization": mem_plan.config_problems,
    "forgetting": forget_problems,
    "long_memory": lm_plan.config_problems,
}


def review_family(model: str) -> str:
    """A review training job's cost family: the models differ in kind."""
    return f"train-reviews:{model}"


def once(*commands: str) -> list[PlannedJob]:
    """Rules of one job each, named after their command (its family: a constant per job)."""
    return [PlannedJob(c.replace("-", "_"), c, c) for c in commands]


# ---------------------------------------------------------------------------- memorization
def memorization_jobs(section: dict) -> list[PlannedJob]:
    """train and probe per planned job (workflow/rules/memorization.smk), then the rest."""
    jobs = []
    for job in mem_plan.jobs(section):
        identity = {"experiment": job.experiment, **job.wildcards}
        train = TrainJob.of(
            identity, mem_plan.train_settings(section, job.experiment, job.wildcards)
        )
        capacity = section["capacity"]
        probe = (mem_cost.probe_steps(train, capacity), mem_cost.probe_work(train, capacity))
        trained = mem_cost.train_work(train)
        for stage, family, work, unit in (
            ("train", mem_cost.train_family(job.cell), trained, mem_cost.WORK_UNIT),
            ("probe", mem_cost.probe_family(job.cell), probe, mem_cost.PROBE_UNIT),
        ):
            rule = f"{stage}_memorization_{job.experiment}"
            jobs.append(PlannedJob(rule, job.name, family, work, unit))
    return jobs + once(
        "esn-capacity",
        "aggregate-memorization",
        "figures-memorization",
        "claims-memorization",
        "compare-memorization",
    )


# ------------------------------------------------------------------------------ forgetting
def forgetting_jobs(section: dict) -> list[PlannedJob]:
    """Per variant: one simulation job per (cell, n_in, units), then its tables, figures and
    claims (workflow/rules/forgetting.smk); the comparison of the primary variant."""
    jobs = []
    for variant in section["variants"]:
        for job in forget_plan.jobs(section):
            work = forget_cost.simulate_work(**job, runs=section["runs"], steps=section["steps"])
            jobs.append(
                PlannedJob(
                    f"simulate_forgetting_{variant}",
                    forget_plan.JOB_ID.format(**job),
                    forget_cost.simulate_family(variant, job["cell"]),
                    work,
                    forget_cost.WORK_UNIT,
                    section["threads"],
                )
            )
        for stage in ("aggregate", "figures", "claims"):
            jobs.append(PlannedJob(f"{stage}_forgetting_{variant}", variant, f"{stage}-forgetting"))
    return jobs + (once("compare-forgetting") if forget_plan.PRIMARY in section["variants"] else [])


# ----------------------------------------------------------------------------- long memory
def long_memory_jobs(section: dict, tier: str) -> list[PlannedJob]:
    """Fetches, the generated series, one training job per planned job id (in its rule), the
    review jobs, tables, figures, claims and comparison (workflow/rules/long_memory*.smk)."""
    if not lm_plan.claims_inputs(section):
        return []  # nothing to claim: the study registers no target
    training = lm_plan.training_jobs(section, tier)
    reviews = lm_plan.review_jobs(section)
    datasets = {job.dataset for job in training.values()}
    files = sorted(lm_plan.SERIES_FILES[d] for d in datasets if d != lm_plan.GENERATED)
    files += [Path(lm_plan.REVIEWS_FILE).name] if reviews else []
    jobs = [PlannedJob(f"fetch_long_memory_{Path(f).stem}", f, "fetch-long-memory") for f in files]
    jobs += once("generate-long-memory") if lm_plan.GENERATED in datasets else []
    for rule in lm_plan.train_rules(section):
        for job_id in rule.jobs:
            settings = training[job_id].settings
            family = lm_cost.train_family(settings["model"])
            work = lm_cost.train_work(settings)
            jobs.append(PlannedJob(rule.name, job_id, family, work, lm_cost.WORK_UNIT))
    jobs += once("aggregate-long-memory", "figures-long-memory") if training else []
    if reviews:
        config = section["reviews"]
        jobs += once("embed-reviews")
        for layout, model in reviews:
            settings = lm_plan.review_job_settings(section, tier, layout, model)
            work = review_cost.review_work(settings, config["word2vec"]["vector_size"])
            family, threads = review_family(model), config["threads"]
            name = f"{layout}-{model}"
            jobs.append(
                PlannedJob("train_reviews", name, family, work, review_cost.WORK_UNIT, threads)
            )
        jobs += once("aggregate-reviews", "figures-reviews")
    return jobs + once("claims-long-memory", "compare-long-memory")


# --------------------------------------------------------------------------------- the run
def planned_jobs(config: dict) -> dict[str, list[PlannedJob]]:
    """{study: its jobs} of the enabled studies, and "report" (the claims summary and the
    reproduction report, when a study registers claims and a comparison)."""
    out = {}
    if config["memorization"]["enabled"]:
        out["memorization"] = memorization_jobs(config["memorization"])
    if config["forgetting"]["enabled"]:
        out["forgetting"] = forgetting_jobs(config["forgetting"])
    if config["long_memory"]["enabled"]:
        out["long_memory"] = long_memory_jobs(config["long_memory"], config["tier"])
    out = {study: jobs for study, jobs in out.items() if jobs}
    # every registered study has claims; the forgetting study compares its primary variant
    primary = forget_plan.PRIMARY in config["forgetting"]["variants"]
    compared = [study for study in out if study != "forgetting" or primary]
    report = once("claims-summary") if out else []
    report += once("reproduction-report") if compared else []
    return {**out, **({"report": report} if report else {})}


def config_problems(config: dict) -> list[str]:
    """Every cross-key check of every study section (the workflow stops on any)."""
    return [problem for study in STUDIES for problem in PROBLEMS[study](config[study])]


# ------------------------------------------------------------------------------- records
def _cell(path: Path) -> str:
    """The cell of a memorization record, from its name: <cell>-<task>-l<l>-c<c>.device.json."""
    return path.name.split("-", 1)[0]


def _long_memory_family(path: Path) -> str:
    """A training record's family, from its job id: <rule>/<dataset>-<split>/<model>-...json."""
    job_id = f"{path.parent.name}/{path.name.removesuffix('.device.json')}"
    return lm_cost.train_family(lm_plan.parse_job_id(job_id)[2])


def _review_family(path: Path) -> str:
    """A review record's family, from its name: <layout>-<model>.device.json."""
    return review_family(path.name.removesuffix(".device.json").split("-", 1)[1])


def _forgetting_family(variant: str, path: Path) -> str:
    """A simulation record's family, from its name: <cell>-in<n_in>-u<units>.device.json."""
    cell = path.name.split("-", 1)[0]
    if cell not in CELLS:
        raise ValueError(f"not a simulation record: {path}")
    return forget_cost.simulate_family(variant, cell)


# Where each rule family's jobs leave their JSON log records (the rules' `log: device`
# paths, with their wildcards as *) and how a record's path names its cost family.
RECORD_GLOBS = [
    (f"{mem_plan.LOGS}/train_*/*.device.json", lambda p: mem_cost.train_family(_cell(p))),
    (f"{mem_plan.LOGS}/probe_*/*.device.json", lambda p: mem_cost.probe_family(_cell(p))),
    (f"{lm_plan.LOGS}/train_long_memory_*/*/*.device.json", _long_memory_family),
    (f"{lm_plan.LOGS}/reviews/train/*.device.json", _review_family),
    *(
        (f"{forget_plan.log_dir(v)}/simulate/*.device.json", partial(_forgetting_family, v))
        for v in VARIANTS
    ),
]


def records(root: Path) -> list[tuple[str, Path]]:
    """(cost family, path) of every job record under `root` (the working directory)."""
    found = []
    for pattern, family_of in RECORD_GLOBS:
        for path in sorted(Path(root).glob(pattern)):
            try:
                found.append((family_of(path), path))
            except (ValueError, IndexError):  # not a record of a planned kind of job
                continue
    return found
