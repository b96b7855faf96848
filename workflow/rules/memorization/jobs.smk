# Helpers of the memory-distance study's rules (workflow/rules/memorization.smk): the
# validated config, the training grid, each job's settings (one JSON object per job, the
# only way a setting reaches a job), its files, and the code each rule runs.
from rnnmem.memorization.figure_list import FIGURES as MEM_FIGURES
from rnnmem.memorization.task import TASK_KEYS as MEM_TASK_KEYS

MEM = study_config("memorization")
MEM_OUT = "results/memorization"
MEM_JOB = "{cell}-{task}-l{layers}-c{units}"
TRAINING_KEYS = ("lr", "batch_size", "steps_per_epoch", "tbptt_k")
SHARED_KEYS = (
    "seed",
    "eval_sequences",
    "eval_every",
    "eval_seed",
    "checkpoint_every",
    *MEM_TASK_KEYS,
)


def check_memorization_grid():
    """Stop on a grid the task cannot have, naming the config key."""
    for name, exp in MEM["experiments"].items():
        if exp["task"] == "fixed" and max(exp["positions"]) > MEM["fixed_length"]:
            raise ValueError(
                f"config key memorization.experiments.{name}.positions: p={max(exp['positions'])} "
                f"is impossible on the fixed-length task (q = fixed_length = {MEM['fixed_length']})"
            )


check_memorization_grid()


def memorization_jobs(name):
    """Wildcard values of every training job of experiment `name`."""
    exp = MEM["experiments"][name]
    return [
        dict(cell=cell, task=exp["task"], layers=l, units=c)
        for cell in exp["cells"]
        for l in exp["layers"]
        for c in exp["units"]
    ]


def job_settings(name, wildcards):
    """Every setting of one job: study defaults < experiment < matching overrides."""
    exp = MEM["experiments"][name]
    s = {k: MEM[k] for k in TRAINING_KEYS + SHARED_KEYS}
    s.update(
        {
            k: exp[k]
            for k in TRAINING_KEYS + ("epochs", "seeds", "positions")
            if k in exp
        }
    )
    ident = dict(
        experiment=name,
        cell=wildcards.cell,
        layers=int(wildcards.layers),
        units=int(wildcards.units),
    )
    for o in MEM["overrides"]:
        if all(o[k] == v for k, v in ident.items() if k in o):
            s.update({k: v for k, v in o.items() if k not in ident})
    return s


def train_settings(name):
    return lambda wildcards: settings_json(job_settings(name, wildcards))


def probe_settings(name):
    return lambda wildcards: settings_json(
        {"job": job_settings(name, wildcards), "capacity": MEM["capacity"]}
    )


def seed_files(name):
    n = MEM["experiments"][name]["seeds"]
    return expand(
        f"{MEM_OUT}/runs/{name}/{MEM_JOB}/seed{{seed}}.npz",
        seed=range(n),
        allow_missing=True,
    )


def all_seed_files():
    return [
        f
        for name in MEM["experiments"]
        for job in memorization_jobs(name)
        for f in expand(seed_files(name), **job)
    ]


def all_capacity_files(suffix):
    return [
        f"{MEM_OUT}/capacity/{name}/{MEM_JOB}{suffix}.csv".format(**job)
        for name in MEM["experiments"]
        for job in memorization_jobs(name)
    ]
