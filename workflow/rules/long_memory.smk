# The long-memory study (spec/long-memory.md): fetch and generate data -> train (one job per
# dataset, split, model, K, H; all seeds at once) -> aggregate -> figures and claims. The
# review classification (spec 11) has its own rules in long_memory/reviews.smk.


include: "long_memory/jobs.smk"
include: "long_memory/fetch.smk"
include: "long_memory/reviews.smk"


# ------------------------------------------------------------------------------ data
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
        code=command_code("generate-long-memory"),
    shell:
        "python -m rnnmem generate-long-memory --settings {params.settings:q} "
        "--out {output.csv} > {log} 2>&1"


# -------------------------------------------------------------------------- training
for rule_name, jobs, n_seeds in lm_train_rules():

    rule:
        name:
            rule_name
        input:
            series=lm_job_series,
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
            code=command_code("train-long-memory"),
        shell:
            "python -m rnnmem train-long-memory --settings {params.settings:q} "
            "--series {input.series} --checkpoint {params.checkpoint} "
            "--out {output} > {log.log} 2>&1"


# ------------------------------------------------------------------ tables, figures, claims
# The claims read the time-series runs and the review runs, of whichever was run.
LM_CLAIMS_INPUTS = {
    **({"runs": f"{LM_OUT}/runs.csv"} if LM_SEEDS else {}),
    **({"reviews_runs": f"{LM_OUT}/reviews/runs.csv"} if LMR_JOBS else {}),
}


rule aggregate_long_memory:
    input:
        [f for job in LM_SEEDS for f in lm_seed_files(job)],
    output:
        **{name: f"{LM_OUT}/{name}.csv" for name in LM_TABLES},
        **{
            f"{name}_provenance": f"{LM_OUT}/{name}.csv.provenance.json"
            for name in LM_TABLES
        },
        tables=report(
            f"{LM_OUT}/tables.md",
            caption="../report/long_memory/tables.rst",
            category="Long memory",
        ),
        tables_provenance=f"{LM_OUT}/tables.md.provenance.json",
    log:
        f"{LM_LOG}/aggregate.log",
    conda:
        "../envs/analysis.yaml"
    params:
        views=json.dumps(LM_VIEWS, sort_keys=True),
        # .../runs/<dataset>-<split>/<model>-K<K>-H<H>/seed<S>.npz -> .../runs
        runs_dir=lambda wildcards, input: Path(input[0]).parents[2],
        seed_base=LM["seed_base"],
        tier=TIER,
        code=command_code("aggregate-long-memory"),
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
        png=[lm_figure(v) for kind in LM_FIGURES.values() for v in kind.values()],
        pdf=[f"{LM_OUT}/{v}.pdf" for kind in LM_FIGURES.values() for v in kind.values()],
        exp2=lm_figure("exp2_rmse"),
        exp2_pdf=f"{LM_OUT}/exp2_rmse.pdf",
        k_sweep=lm_figure("exp3_k_sweep"),
        k_sweep_pdf=f"{LM_OUT}/exp3_k_sweep.pdf",
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
        code=command_code("figures-long-memory"),
    shell:
        "python -m rnnmem figures-long-memory --runs {input.runs} --curves {input.curves} "
        "--summary {input.summary} --predictions {input.predictions} --tier {params.tier} "
        "--K {params.K} --H {params.H} --noise-level {params.noise} "
        "--boxplots {params.boxplots} --learning-curves {params.curves} "
        "--test-segments {params.segments} --exp2-boxplot {output.exp2} "
        "--k-sweep {output.k_sweep} > {log} 2>&1"


rule claims_long_memory:
    input:
        **LM_CLAIMS_INPUTS,
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
        inputs=" ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in LM_CLAIMS_INPUTS.items()
        ),
        settings=settings_json(
            {**LM["claims"], "noise_level": LM["experiment2"]["generator"]["noise_sd"]}
        ),
        code=command_code("claims-long-memory"),
    shell:
        "python -m rnnmem claims-long-memory {params.inputs} --csv {output.csv} "
        "--md {output.md} --tier {params.tier} --settings {params.settings:q} > {log} 2>&1"


if study_enabled("long_memory") and LM_CLAIMS_INPUTS:
    register_study(
        "long-memory",
        [
            *(rules.aggregate_long_memory.output if LM_SEEDS else []),
            *(rules.figures_long_memory.output if LM_SEEDS else []),
            *LMR_TARGETS,
            *rules.claims_long_memory.output,
        ],
        claims=rules.claims_long_memory.output.csv,
    )
