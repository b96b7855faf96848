# The long-memory study (spec/long-memory.md): fetch and generate data -> train (one job per
# dataset, split, model, K, H; all seeds at once) -> aggregate -> figures and claims.
import json
import re

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
LM_GENERATED = "rnn_generated"  # Experiment 2's series, made by the pipeline
LM_TRAIN_CODE = code_version(
    "long_memory/cells.py",
    "long_memory/kernels",
    "long_memory/adam.py",
    "long_memory/train.py",
    "long_memory/evaluate.py",
    "long_memory/data.py",
    "long_memory/jobs.py",
    *CORE_CODE,
)
LM_TABLES_CODE = code_version(
    "long_memory/aggregate.py", "long_memory/data.py", "core/claims.py", *CORE_CODE
)


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

    e1, e2, e3, sens = (LM[k] for k in ("experiment1", "experiment2", "experiment3", "sensitivity"))
    if e1["enabled"]:
        add("exp1", e1["datasets"], e1["models"], [e1["K"]], [LM["H"]], e1["seeds"])
    if e2["enabled"]:
        add("exp2", [LM_GENERATED], e2["models"], [e2["K"]], [LM["H"]], e2["seeds"])
    if e3["enabled"]:
        add("exp3", e3["datasets"], e3["models"], e3["K"], [LM["H"]], e3["seeds"])
    if sens["H"]:
        add("sensitivity", sens["datasets"], sens["models"], [e1["K"]], sens["H"], sens["seeds"])
    return views, seeds


LM_VIEWS, LM_SEEDS = lm_views()
LM_SEED_FILE = LM_OUT + "/runs/{job}/seed{seed}.npz"


def lm_seed_files(job, n=None):
    first = LM["seed_base"]
    n = LM_SEEDS[job] if n is None else n
    return [LM_SEED_FILE.format(job=job, seed=s) for s in range(first, first + n)]


def lm_series_file(dataset):
    if dataset == LM_GENERATED:
        return f"{LM_OUT}/data/{LM_GENERATED}.csv"
    return f"{LM_RES}/{LM_SERIES[dataset]}"


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


# ------------------------------------------------------------------------------ data
for name, file in LM_SERIES.items():

    rule:
        name:
            f"fetch_long_memory_{name}"
        output:
            f"{LM_RES}/{file}",
        log:
            f"{LM_LOG}/fetch_{name}.log",
        conda:
            "../envs/analysis.yaml"
        params:
            name=file,
            url=f"{LM['source']['base_url']}/time_series_prediction/{file}",
            mirror=LM["source"]["mirror"] or "",
            timeout=LM["source"]["timeout"],
        shell:
            "python -m rnnmem fetch-long-memory --name {params.name} --url {params.url:q} "
            "--out {output} --timeout {params.timeout} "
            "$([ -n {params.mirror:q} ] && echo --mirror {params.mirror:q}) > {log} 2>&1"


rule generate_long_memory:
    output:
        csv=f"{LM_OUT}/data/{LM_GENERATED}.csv",
        sha=f"{LM_OUT}/data/{LM_GENERATED}.csv.sha256.json",
    log:
        f"{LM_LOG}/generate.log",
    conda:
        "../envs/analysis.yaml"
    params:
        settings=settings_json(LM["experiment2"]["generator"]),
        code=code_version("long_memory/generate.py", *CORE_CODE),
    shell:
        "python -m rnnmem generate-long-memory --settings {params.settings:q} "
        "--out {output.csv} > {log} 2>&1"


# -------------------------------------------------------------------------- training
def lm_train_rules():
    """(rule name, job ids, seeds): each job goes to the first experiment that has it; an
    experiment's jobs with another seed count (shared with a larger view) get their own rule."""
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


for rule_name, jobs, n_seeds in lm_train_rules():

    rule:
        name:
            rule_name
        input:
            series=lambda wc: lm_series_file(wc.job.split("/")[0].rsplit("-", 1)[0]),
        output:
            [
                LM_SEED_FILE.format(job="{job}", seed=s)
                for s in range(LM["seed_base"], LM["seed_base"] + n_seeds)
            ],
        log:
            log=f"{LM_LOG}/{rule_name}/{{job}}.log",
        wildcard_constraints:
            job="|".join(re.escape(j) for j in jobs),
        conda:
            "../envs/train.yaml"
        threads: 1
        params:
            settings=lambda wc: settings_json(lm_job_settings(wc.job)),
            checkpoint=f"{LM_OUT}/checkpoints/{{job}}.npz",
            code=LM_TRAIN_CODE,
        shell:
            "python -m rnnmem train-long-memory --settings {params.settings:q} "
            "--series {input.series} --checkpoint {params.checkpoint} "
            "--out {output} > {log.log} 2>&1"


# ------------------------------------------------------------------ tables, figures, claims
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
    return " ".join(f"{k}={LM_OUT}/{v}.png" for k, v in LM_FIGURES[kind].items())


rule aggregate_long_memory:
    input:
        [f for job in LM_SEEDS for f in lm_seed_files(job)],
    output:
        **{name: f"{LM_OUT}/{name}.csv" for name in LM_TABLES},
        **{f"{name}_provenance": f"{LM_OUT}/{name}.csv.provenance.json" for name in LM_TABLES},
        tables=report(
            f"{LM_OUT}/tables.md", caption="../report/long_memory/tables.rst", category="Long memory"
        ),
        tables_provenance=f"{LM_OUT}/tables.md.provenance.json",
    log:
        f"{LM_LOG}/aggregate.log",
    conda:
        "../envs/analysis.yaml"
    params:
        views=json.dumps(LM_VIEWS, sort_keys=True),
        runs_dir=f"{LM_OUT}/runs",
        seed_base=LM["seed_base"],
        tier=TIER,
        code=code_version(
            "long_memory/aggregate.py", "long_memory/stats.py", *CORE_CODE
        ),
    shell:
        "python -m rnnmem aggregate-long-memory --views {params.views:q} "
        "--runs-dir {params.runs_dir} --seed-base {params.seed_base} --tier {params.tier} "
        "--runs {output.runs} --curves {output.curves} --summary {output.summary} "
        "--ttests {output.ttests} --predictions {output.predictions} "
        "--tables {output.tables} > {log} 2>&1"


rule figures_long_memory:
    input:
        runs=f"{LM_OUT}/runs.csv",
        curves=f"{LM_OUT}/curves.csv",
        summary=f"{LM_OUT}/summary.csv",
        predictions=f"{LM_OUT}/predictions.csv",
    output:
        png=[lm_figure(v) for kind in LM_FIGURES.values() for v in kind.values()]
        + [lm_figure("exp2_rmse"), lm_figure("exp3_k_sweep")],
        pdf=[f"{LM_OUT}/{v}.pdf" for kind in LM_FIGURES.values() for v in kind.values()]
        + [f"{LM_OUT}/exp2_rmse.pdf", f"{LM_OUT}/exp3_k_sweep.pdf"],
    log:
        f"{LM_LOG}/figures.log",
    conda:
        "../envs/analysis.yaml"
    params:
        tier=TIER,
        K=LM["experiment1"]["K"],
        H=LM["H"],
        noise=LM["experiment2"]["generator"]["noise_sd"],
        boxplots=lm_figure_args("boxplots"),
        curves=lm_figure_args("curves"),
        segments=lm_figure_args("segments"),
        code=code_version(
            "long_memory/figures.py", "long_memory/aggregate.py", "core/plotting.py", *CORE_CODE
        ),
    shell:
        "python -m rnnmem figures-long-memory --runs {input.runs} --curves {input.curves} "
        "--summary {input.summary} --predictions {input.predictions} --tier {params.tier} "
        "--K {params.K} --H {params.H} --noise-level {params.noise} "
        "--boxplots {params.boxplots} --learning-curves {params.curves} "
        "--test-segments {params.segments} --exp2-boxplot {LM_OUT}/exp2_rmse.png "
        "--k-sweep {LM_OUT}/exp3_k_sweep.png > {log} 2>&1"


rule claims_long_memory:
    input:
        runs=f"{LM_OUT}/runs.csv",
    output:
        csv=f"{LM_OUT}/claims.csv",
        csv_provenance=f"{LM_OUT}/claims.csv.provenance.json",
        md=report(
            f"{LM_OUT}/claims.md",
            caption="../report/long_memory/claims.rst",
            category="Long memory",
        ),
    log:
        f"{LM_LOG}/claims.log",
    conda:
        "../envs/analysis.yaml"
    params:
        tier=TIER,
        settings=settings_json(
            {**LM["claims"], "noise_level": LM["experiment2"]["generator"]["noise_sd"]}
        ),
        code=code_version(
            "long_memory/claims.py", "long_memory/aggregate.py", "core/claims.py", *CORE_CODE
        ),
    shell:
        "python -m rnnmem claims-long-memory --runs {input.runs} --csv {output.csv} "
        "--md {output.md} --tier {params.tier} --settings {params.settings:q} > {log} 2>&1"


if study_enabled("long_memory") and LM_SEEDS:
    register_study(
        "long-memory",
        [
            *rules.aggregate_long_memory.output,
            *rules.figures_long_memory.output,
            *rules.claims_long_memory.output,
        ],
        claims=rules.claims_long_memory.output.csv,
    )
