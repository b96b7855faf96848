"""The long-memory study's plan: its jobs, their settings and files, and the config checks.

Plain functions of the validated `long_memory` config section (workflow/schemas/
long_memory.schema.yaml holds every default) and the tier label. workflow/rules/
long_memory.smk and long_memory/reviews.smk loop over what these return and declare rules;
nothing about the grid is computed there.

    views(section)                 -> {experiment: {job id: seeds it reads}}
    training_jobs(section, tier)   -> {job id: TrainingJob (seeds, series, files, settings)}
    train_rules(section)           -> the training rules: name, seeds, job ids
    figures(section)               -> the figures of figures-long-memory (kind, key, stem)
    review_jobs(section)           -> the review jobs (layout, model), and their settings
    config_problems(section)       -> every cross-key check a job makes, each naming its key

An experiment is a view on training jobs: a job trains the largest seed count any experiment
asks of it, and an experiment reads its own first n seeds (a seed's result does not depend
on its companions). So Experiment 3's K = 100 jobs are Experiment 1's.

Imports neither torch, numba nor matplotlib: the workflow reads it while parsing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import product

from rnnmem.core.provenance import sidecar_path
from rnnmem.long_memory.data import split_for

OUT = "results/long_memory"
RESOURCES = "resources/long_memory"
LOGS = "logs/long_memory"
# The released files of the authors' repository (sha256 pinned in rnnmem/long_memory/fetch.py).
SERIES_FILES = {
    "arfima": "arfima.csv",
    "DJI": "DJI.csv",
    "traffic": "traffic.csv",
    "tree7": "tree7.csv",
}
GENERATED = "rnn_generated"  # Experiment 2's series, made by the pipeline
GENERATED_FILE = f"{OUT}/data/{GENERATED}.csv"
SEED_FILE = f"{OUT}/runs/{{job}}/seed{{seed}}.npz"
RUNS_DIR = f"{OUT}/runs"
TABLES = ("runs", "curves", "summary", "ttests", "predictions")
FIXED_FIGURES = ("exp2_rmse", "exp3_k_sweep")  # written whatever the experiments

REVIEWS_OUT = f"{OUT}/reviews"
REVIEWS_FILE = f"{RESOURCES}/reviews.json"
EMBEDDINGS = f"{REVIEWS_OUT}/data/embeddings.npz"
# Reviews the pinned reviews.json keeps (388 Spanish reviews, 6 of them empty after cleaning:
# rnnmem/long_memory/reviews/data.py); the file is checked by its sha256, so this is fixed.
KEPT_REVIEWS = 382
# What a review training job takes from the section as it is.
REVIEW_JOB_KEYS = ("K", "hidden", "seq_len", "split_seed", "split_sizes", "seed_chunk", "threads")


# ---------------------------------------------------------------------- time-series jobs
def dataset_splits(section: dict, dataset: str) -> list[str]:
    """Splits of a series: traffic has the paper's and the code's (traffic_splits)."""
    return list(section["traffic_splits"]) if dataset == "traffic" else ["paper"]


def job_id(dataset: str, split: str, model: str, K: int, H: int) -> str:
    """A training job's id, also its folder under runs/: <dataset>-<split>/<model>-K<K>-H<H>."""
    return f"{dataset}-{split}/{model}-K{K}-H{H}"


def _experiment_grids(section: dict):
    """(experiment, datasets, models, Ks, Hs, seeds) of every enabled experiment, in order."""
    e1, e2, e3, sens = (
        section[k] for k in ("experiment1", "experiment2", "experiment3", "sensitivity")
    )
    H = section["H"]
    if e1["enabled"]:
        yield "exp1", e1["datasets"], e1["models"], [e1["K"]], [H], e1["seeds"]
    if e2["enabled"]:
        yield "exp2", [GENERATED], e2["models"], [e2["K"]], [H], e2["seeds"]
    if e3["enabled"]:
        yield "exp3", e3["datasets"], e3["models"], e3["K"], [H], e3["seeds"]
    if sens["H"]:
        yield "sensitivity", sens["datasets"], sens["models"], [e1["K"]], sens["H"], sens["seeds"]


def views(section: dict) -> dict[str, dict[str, int]]:
    """{experiment: {job id: seeds it reads}} of every enabled experiment (the aggregation's
    --views); an experiment without jobs is absent."""
    out: dict[str, dict[str, int]] = {}
    for experiment, datasets, models, Ks, Hs, n in _experiment_grids(section):
        for dataset in datasets:
            for split, model, K, H in product(dataset_splits(section, dataset), models, Ks, Hs):
                out.setdefault(experiment, {})[job_id(dataset, split, model, K, H)] = n
    return out


def job_seed_counts(section: dict) -> dict[str, int]:
    """{job id: seeds it trains}: the largest count any experiment reads of it."""
    counts: dict[str, int] = {}
    for view in views(section).values():
        for job, n in view.items():
            counts[job] = max(counts.get(job, 0), n)
    return counts


def job_owners(section: dict) -> dict[str, str]:
    """{job id: experiment whose rule trains it}: the first experiment that has it. A job of
    a later experiment with another owner is reused (Experiment 3's K = 100 jobs)."""
    owners: dict[str, str] = {}
    for experiment, view in views(section).items():
        for job in view:
            owners.setdefault(job, experiment)
    return owners


def seed_range(section: dict, n: int) -> list[int]:
    """The first n seeds: seed_base .. seed_base + n - 1."""
    return list(range(section["seed_base"], section["seed_base"] + n))


def series_file(dataset: str) -> str:
    """The series file of a dataset: fetched, or made by generate_long_memory."""
    return GENERATED_FILE if dataset == GENERATED else f"{RESOURCES}/{SERIES_FILES[dataset]}"


@dataclass(frozen=True)
class TrainingJob:
    """One training job: one (dataset, split, model, K, H), all its seeds."""

    dataset: str
    split: str
    model: str
    K: int
    H: int
    seeds: tuple[int, ...]
    settings: dict  # its --settings: everything its numbers depend on

    @property
    def id(self) -> str:
        return job_id(self.dataset, self.split, self.model, self.K, self.H)

    @property
    def series(self) -> str:
        return series_file(self.dataset)

    @property
    def seed_files(self) -> list[str]:
        return [SEED_FILE.format(job=self.id, seed=s) for s in self.seeds]


def parse_job_id(job: str) -> tuple[str, str, str, int, int]:
    """'traffic-code/mrnn-K25-H1' -> ('traffic', 'code', 'mrnn', 25, 1)."""
    match = re.fullmatch(r"(.+)-(\w+)/(\w+)-K(\d+)-H(\d+)", job)
    if match is None:
        raise ValueError(f"not a long-memory job id: {job!r}")
    dataset, split, model, K, H = match.groups()
    return dataset, split, model, int(K), int(H)


def training_jobs(section: dict, tier: str) -> dict[str, TrainingJob]:
    """Every training job by id, in view order, with its settings (one JSON object)."""
    jobs = {}
    for job, n in job_seed_counts(section).items():
        dataset, split, model, K, H = parse_job_id(job)
        seeds = seed_range(section, n)
        settings = dict(
            dataset=dataset,
            split=split,
            model=model,
            K=K,
            H=H,
            seeds=seeds,
            dtype=section["dtype"],
            tier=tier,
            **section["training"],
        )
        jobs[job] = TrainingJob(dataset, split, model, K, H, tuple(seeds), settings)
    return jobs


@dataclass(frozen=True)
class TrainRule:
    """One training rule: the jobs of one experiment that train the same number of seeds
    (its output list is per seed, so a rule has one count)."""

    name: str
    experiment: str
    seeds: tuple[int, ...]
    jobs: tuple[str, ...]

    @property
    def outputs(self) -> list[str]:
        """The per-seed file templates, with the {job} wildcard."""
        return [SEED_FILE.format(job="{job}", seed=s) for s in self.seeds]

    @property
    def job_pattern(self) -> str:
        """The {job} wildcard's constraint: exactly this rule's job ids."""
        return "|".join(re.escape(job) for job in self.jobs)


def train_rules(section: dict) -> list[TrainRule]:
    """The training rules: each job goes to the rule of its owner (job_owners); an
    experiment whose jobs train several seed counts (some shared with a larger view) gets
    one rule per count, named train_long_memory_<experiment>_<n>seeds."""
    counts, owners = job_seed_counts(section), job_owners(section)
    groups: dict[tuple[str, int], list[str]] = {}
    for job, experiment in owners.items():
        groups.setdefault((experiment, counts[job]), []).append(job)
    per_experiment: dict[str, int] = {}
    for experiment, _ in groups:
        per_experiment[experiment] = per_experiment.get(experiment, 0) + 1
    return [
        TrainRule(
            name=f"train_long_memory_{e}" + (f"_{n}seeds" if per_experiment[e] > 1 else ""),
            experiment=e,
            seeds=tuple(seed_range(section, n)),
            jobs=tuple(jobs),
        )
        for (e, n), jobs in groups.items()
    ]


# ------------------------------------------------------------------------------- figures
@dataclass(frozen=True)
class Figure:
    """A figure of figures-long-memory: its kind (the command's option), key and file stem."""

    kind: str  # boxplots (key: split), curves or segments (key: <dataset>-<split>)
    key: str
    stem: str

    @property
    def png(self) -> str:
        return f"{OUT}/{self.stem}.png"

    @property
    def pdf(self) -> str:
        return f"{OUT}/{self.stem}.pdf"


def shown_series(section: dict) -> list[tuple[str, str]]:
    """(dataset, split) of the learning-curve and test-segment figures: Experiment 1's
    series and Experiment 2's, of those enabled."""
    e1 = section["experiment1"]
    shown = [
        (dataset, split)
        for dataset in (e1["datasets"] if e1["enabled"] else [])
        for split in dataset_splits(section, dataset)
    ]
    return shown + ([(GENERATED, "paper")] if section["experiment2"]["enabled"] else [])


def figures(section: dict) -> list[Figure]:
    """The figures of one kind per option (boxplots, curves, segments), in that order."""
    shown = shown_series(section)
    return [
        *(Figure("boxplots", s, f"exp1_rmse_{s}") for s in section["traffic_splits"]),
        *(Figure("curves", f"{d}-{s}", f"curves_{d}-{s}") for d, s in shown),
        *(Figure("segments", f"{d}-{s}", f"segment_{d}-{s}") for d, s in shown),
    ]


def figure_args(section: dict, kind: str) -> str:
    """KEY=PATH pairs of one kind of figure, for the figures command."""
    return " ".join(f"{f.key}={f.png}" for f in figures(section) if f.kind == kind)


def figure_sidecars(section: dict) -> list[str]:
    """The provenance sidecar of every PNG figures-long-memory writes."""
    pngs = [f.png for f in figures(section)] + [f"{OUT}/{s}.png" for s in FIXED_FIGURES]
    return [str(sidecar_path(png)) for png in pngs]


def claims_inputs(section: dict) -> dict[str, str]:
    """The runs tables the claims read: the time series' and the reviews', of those run."""
    return {
        **({"runs": f"{OUT}/runs.csv"} if views(section) else {}),
        **({"reviews_runs": f"{REVIEWS_OUT}/runs.csv"} if review_jobs(section) else {}),
    }


def claims_options(section: dict) -> str:
    """The claims command's input options: --runs F and/or --reviews-runs F."""
    return " ".join(f"--{k.replace('_', '-')} {v}" for k, v in claims_inputs(section).items())


def claims_settings(section: dict) -> dict:
    """The claims' thresholds and Experiment 2's noise level (its --settings)."""
    return {**section["claims"], "noise_level": section["experiment2"]["generator"]["noise_sd"]}


# ---------------------------------------------------------------- review classification
def review_jobs(section: dict) -> list[tuple[str, str]]:
    """(layout, model) of every review training job: none when disabled."""
    reviews = section["reviews"]
    if not reviews["enabled"]:
        return []
    return [(layout, model) for layout in reviews["layouts"] for model in reviews["models"]]


def review_seeds(section: dict) -> list[int]:
    return seed_range(section, section["reviews"]["seeds"])


def review_seed_file(section: dict) -> str:
    """The per-seed file template of the review jobs ({layout}, {model}, {seed})."""
    reviews = section["reviews"]
    folder = f"{{model}}-K{reviews['K']}-H{reviews['hidden']}"
    return f"{REVIEWS_OUT}/runs/{{layout}}/{folder}/seed{{seed}}.npz"


def review_outputs(section: dict) -> list[str]:
    """A review job's per-seed file templates, with the {layout} and {model} wildcards."""
    template = review_seed_file(section)
    return [
        template.format(layout="{layout}", model="{model}", seed=s) for s in review_seeds(section)
    ]


def review_seed_files(section: dict, layout: str, model: str) -> list[str]:
    template = review_seed_file(section)
    return [template.format(layout=layout, model=model, seed=s) for s in review_seeds(section)]


def review_job_settings(section: dict, tier: str, layout: str, model: str) -> dict:
    """Everything a review training job's numbers depend on (its --settings)."""
    reviews = section["reviews"]
    return dict(
        layout=layout,
        model=model,
        seeds=review_seeds(section),
        tier=tier,
        training=reviews["training"],
        **{k: reviews[k] for k in REVIEW_JOB_KEYS},
    )


# ------------------------------------------------------------------------- config checks
def config_problems(section: dict) -> list[str]:
    """Cross-key checks of the validated `long_memory` section that the schema cannot
    express: what a job would otherwise find only when it runs (after Snakemake has removed
    its earlier outputs). Each message names its key; the workflow stops on any."""
    problems = []
    generator = section["experiment2"]["generator"]
    pairs = sum(split_for(GENERATED))
    if section["experiment2"]["enabled"] and generator["length"] != pairs + 1:
        problems.append(
            f"config key long_memory.experiment2.generator.length={generator['length']} "
            f"must be {pairs + 1}: Experiment 2's split {_slashed(split_for(GENERATED))} "
            f"needs {pairs} (input, target) pairs"
        )
    reviews = section["reviews"]
    if reviews["enabled"]:
        sizes = list(reviews["split_sizes"])  # three, each >= 1 (the schema)
        if sum(sizes) != KEPT_REVIEWS:
            problems.append(
                f"config key long_memory.reviews.split_sizes={sizes} adds up to {sum(sizes)}: "
                f"the training, validation and test reviews must add up to the "
                f"{KEPT_REVIEWS} kept reviews"
            )
        if reviews["word2vec"]["min_count"] != 1:
            problems.append(
                "config key long_memory.reviews.word2vec.min_count="
                f"{reviews['word2vec']['min_count']} must be 1: the review models need a "
                "vector for every token, and a rarer word would get none"
            )
    return problems


def _slashed(sizes) -> str:
    return "/".join(str(n) for n in sizes)
