# Helpers of the long-memory rules (workflow/rules/long_memory.smk): the validated config,
# the experiments as views on training jobs, each job's settings (one JSON object per job),
# its files, the figures, and the code each rule runs.
import json
import re
import shlex
from pathlib import Path

LM = study_config("long_memory")
LM_OUT = "results/long_memory"
LM_RES = "resources/long_memory"
LM_LOG = "logs/long_memory"
# The released files of the authors' repository (sha256 pinned in rnnmem/long_memory/fetch.py).
LM_SERIES = {
    "arfima": "arfima.csv",
    "DJI": "DJI.csv",
    "traffic": "traffic.csv",
    "tree7": "tree7.csv",
}
# Every fetched file, by its path under source.base_url.
LM_FETCHED = {
    **{name: f"time_series_prediction/{file}" for name, file in LM_SERIES.items()},
    "reviews": "review_classification/reviews.json",
}
LM_GENERATED = "rnn_generated"  # Experiment 2's series, made by the pipeline


def lm_mirror_option():
    """`--mirror DIR` when the config names a local mirror of the data, else nothing."""
    mirror = LM["source"]["mirror"]
    return f"--mirror {shlex.quote(mirror)}" if mirror else ""


def lm_splits(dataset):
    """Splits of a series: traffic has the paper's and the code's (spec A2)."""
    return LM["traffic_splits"] if dataset == "traffic" else ["paper"]


def lm_job(dataset, split, model, K, H):
    return f"{dataset}-{split}/{model}-K{K}-H{H}"


def lm_views():
    """{experiment: [job id, ...]} of every enabled experiment, and {job id: seeds}.

    A job trains the largest seed count any experiment asks of it; an experiment reads
    its own first n seeds (a seed's result does not depend on its companions).
    """
    views, seeds = {}, {}

    def add(experiment, datasets, models, Ks, Hs, n):
        for dataset in datasets:
            for split in lm_splits(dataset):
                for model in models:
                    for K in Ks:
                        for H in Hs:
                            job = lm_job(dataset, split, model, K, H)
                            views.setdefault(experiment, {})[job] = n
                            seeds[job] = max(seeds.get(job, 0), n)

    e1, e2, e3, sens = (
        LM[k] for k in ("experiment1", "experiment2", "experiment3", "sensitivity")
    )
    if e1["enabled"]:
        add("exp1", e1["datasets"], e1["models"], [e1["K"]], [LM["H"]], e1["seeds"])
    if e2["enabled"]:
        add("exp2", [LM_GENERATED], e2["models"], [e2["K"]], [LM["H"]], e2["seeds"])
    if e3["enabled"]:
        add("exp3", e3["datasets"], e3["models"], e3["K"], [LM["H"]], e3["seeds"])
    if sens["H"]:
        add(
            "sensitivity",
            sens["datasets"],
            sens["models"],
            [e1["K"]],
            sens["H"],
            sens["seeds"],
        )
    return views, seeds


LM_VIEWS, LM_SEEDS = lm_views()
LM_SEED_FILE = f"{LM_OUT}/runs/{{job}}/seed{{seed}}.npz"


def lm_seed_files(job, n=None):
    first = LM["seed_base"]
    n = LM_SEEDS[job] if n is None else n
    return [LM_SEED_FILE.format(job=job, seed=s) for s in range(first, first + n)]


def lm_series_file(dataset):
    if dataset == LM_GENERATED:
        return f"{LM_OUT}/data/{LM_GENERATED}.csv"
    return f"{LM_RES}/{LM_SERIES[dataset]}"


def lm_job_series(wildcards):
    """The series file a training job reads (its job id starts with <dataset>-<split>)."""
    data_part = wildcards.job.split("/")[0]
    return lm_series_file(data_part.rsplit("-", 1)[0])


def lm_job_settings(job):
    """Everything a training job's numbers depend on (its --settings)."""
    data, model_part = job.split("/")
    dataset, split = data.rsplit("-", 1)
    model, K, H = model_part.split("-")
    first = LM["seed_base"]
    return dict(
        dataset=dataset,
        split=split,
        model=model,
        K=int(K[1:]),
        H=int(H[1:]),
        seeds=list(range(first, first + LM_SEEDS[job])),
        dtype=LM["dtype"],
        tier=TIER,
        **LM["training"],
    )


def lm_train_rules():
    """(name, job ids, seeds) of each training rule: each job goes to the first experiment that has it; an
    experiment's jobs with another seed count (shared with a larger view) get their own rule.
    """
    groups = {}
    for experiment, view in LM_VIEWS.items():
        for job in view:
            owner = next(e for e in LM_VIEWS if job in LM_VIEWS[e])
            if owner == experiment:
                groups.setdefault((experiment, LM_SEEDS[job]), []).append(job)
    counts = {}
    for experiment, _ in groups:
        counts[experiment] = counts.get(experiment, 0) + 1
    return [
        (f"train_long_memory_{e}" + (f"_{n}seeds" if counts[e] > 1 else ""), jobs, n)
        for (e, n), jobs in groups.items()
    ]


LM_TABLES = ("runs", "curves", "summary", "ttests", "predictions")
LM_SHOWN = [  # (dataset, split) of the learning-curve and test-segment figures
    (d, s)
    for d in (LM["experiment1"]["datasets"] if LM["experiment1"]["enabled"] else [])
    for s in lm_splits(d)
] + ([(LM_GENERATED, "paper")] if LM["experiment2"]["enabled"] else [])


def lm_figure(stem):
    return report(
        f"{LM_OUT}/{stem}.png",
        caption=f"../report/long_memory/{stem.split('_')[0]}.rst",
        category="Long memory",
        subcategory="Figures",
    )


LM_FIGURES = {
    "boxplots": {s: f"exp1_rmse_{s}" for s in LM["traffic_splits"]},
    "curves": {f"{d}-{s}": f"curves_{d}-{s}" for d, s in LM_SHOWN},
    "segments": {f"{d}-{s}": f"segment_{d}-{s}" for d, s in LM_SHOWN},
}


def lm_figure_args(kind):
    """KEY=PATH pairs of one kind of figure, for the figures command."""
    return " ".join(f"{k}={LM_OUT}/{v}.png" for k, v in LM_FIGURES[kind].items())


# ------------------------------------------------------------ review classification
# (spec 11; its rules: long_memory/reviews.smk) one training job per (layout, model).
LMR = LM["reviews"]
LMR_OUT = f"{LM_OUT}/reviews"
LMR_REVIEWS = f"{LM_RES}/reviews.json"
LMR_EMBEDDINGS = f"{LMR_OUT}/data/embeddings.npz"
LMR_JOBS = (
    [(layout, model) for layout in LMR["layouts"] for model in LMR["models"]]
    if LMR["enabled"]
    else []
)
LMR_SEEDS = list(range(LM["seed_base"], LM["seed_base"] + LMR["seeds"]))
LMR_SEED_FILE = (
    f"{LMR_OUT}/runs/{{layout}}/{{model}}-K{LMR['K']}-H{LMR['hidden']}/seed{{seed}}.npz"
)


def lmr_seed_files(layout, model):
    return [LMR_SEED_FILE.format(layout=layout, model=model, seed=s) for s in LMR_SEEDS]


def lmr_job_settings(layout, model):
    """Everything a review training job's numbers depend on (its --settings)."""
    keys = (
        "K",
        "hidden",
        "seq_len",
        "split_seed",
        "split_sizes",
        "seed_chunk",
        "threads",
    )
    return dict(
        layout=layout,
        model=model,
        seeds=LMR_SEEDS,
        tier=TIER,
        training=LMR["training"],
        **{k: LMR[k] for k in keys},
    )
