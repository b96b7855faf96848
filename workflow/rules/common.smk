# Shared helpers: study switches, code versions, resources and the list of final targets.
import hashlib
from pathlib import Path

# Every study appends its final outputs (tables, figures, claims) here; `rule all` asks
# for them.
ALL_TARGETS = []

TIER = config["tier"]
PYTHON = "python -m rnnmem"


def study_enabled(name):
    """A study runs when its config section says enabled: true."""
    return config[name]["enabled"]


def code_version(*modules):
    """Hash of the rnnmem source files a rule runs.

    Passed as a param, so a code change reruns exactly the rules that run that code
    (file modification times would also fire on a fresh clone).
    """
    digest = hashlib.sha256()
    for module in sorted(modules):
        path = Path(workflow.basedir) / "rnnmem" / f"{module}.py"
        digest.update(module.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


# Modules every rule depends on (I/O, seeds, provenance, device choice).
CORE_MODULES = ("core/io", "core/seeds", "core/provenance", "core/device")


# ------------------------------------------------------------------ memorization
validate(config["memorization"], "../schemas/memorization.schema.yaml")

MEM = config["memorization"]
MEM_OUT = "results/memorization"
MEM_JOB = "{cell}-{task}-l{layers}-c{units}"
TRAINING_KEYS = ("lr", "batch_size", "steps_per_epoch", "tbptt_k")
SHARED_KEYS = (
    "seed",
    "eval_sequences",
    "eval_every",
    "eval_seed",
    "min_length",
    "window",
)
SHARED_KEYS += ("fixed_length", "long_positions", "checkpoint_every")


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


def job_arguments(name, wildcards):
    """The CLI options of a job (train and probe share them)."""
    s = job_settings(name, wildcards)
    args = [
        f"--experiment {name} --cell {wildcards.cell} --task {wildcards.task}",
        f"--layers {wildcards.layers} --units {wildcards.units}",
        "--positions " + " ".join(map(str, s.pop("positions"))),
    ]
    tbptt_k = s.pop("tbptt_k")
    if tbptt_k is not None:
        args.append(f"--tbptt-k {tbptt_k}")
    args += [f"--{k.replace('_', '-')} {v}" for k, v in sorted(s.items())]
    return " ".join(args + [f"--tier {TIER}"])


def capacity_arguments():
    return " ".join(
        f"--mc-{k.replace('_', '-')} {v}" for k, v in sorted(MEM["capacity"].items())
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


# ------------------------------------------------------------------------ claims
def claims_files():
    """claims.csv of every enabled study (and sensitivity variant), by study label."""
    files = {}
    if study_enabled("memorization"):
        files["memorization"] = "results/memorization/claims.csv"
    if study_enabled("forgetting"):
        for variant in config["forgetting"]["variants"]:
            folder = "results/forgetting"
            if variant != "torch":  # sensitivity variants live in a subfolder
                folder = f"results/forgetting/{variant}"
            files[f"forgetting-{variant}"] = f"{folder}/claims.csv"
    return files
