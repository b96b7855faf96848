# The long-memory study (docs/architecture.md): fetch and generate data -> train (one job per
# dataset, split, model, K, H; all seeds at once) -> aggregate -> figures and claims. The
# review classification has its own rules in long_memory/reviews.smk; published beside
# reproduced (Tables 2, 5, 6, the Experiment 2 box plot): long_memory/compare.smk.


include: "long_memory/jobs.smk"
include: "long_memory/fetch.smk"
include: "long_memory/reviews.smk"
include: "long_memory/compare.smk"


# ------------------------------------------------------------------------------ data
rule generate_long_memory:
    output:
        csv=lm_plan.GENERATED_FILE,
        sha=f"{lm_plan.GENERATED_FILE}.sha256.json",
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
# One rule per experiment and seed count (rnnmem/long_memory/plan.py: train_rules); a job
# shared by several experiments trains in its first experiment's rule.
for train_rule in LM_TRAIN_RULES:

    rule:
        name:
            train_rule.name
        input:
            series=lambda wildcards: LM_JOBS[wildcards.job].series,
        output:
            train_rule.outputs,
        log:
            log=f"{LM_LOG}/{train_rule.name}/{{job}}.log",
            # seconds and work, for the cost planner (python -m rnnmem plan)
            device=f"{LM_LOG}/{train_rule.name}/{{job}}.device.json",
        wildcard_constraints:
            job=train_rule.job_pattern,
        conda:
            "../envs/train.yaml"
        threads: 1
        params:
            settings=lambda wildcards: settings_json(LM_JOBS[wildcards.job].settings),
            checkpoint=f"{LM_OUT}/checkpoints/{{job}}.npz",
            code=command_code("train-long-memory"),
        shell:
            "python -m rnnmem train-long-memory --settings {params.settings:q} "
            "--series {input.series} --checkpoint {params.checkpoint} "
            "--device-record {log.device} --out {output} > {log.log} 2>&1"


# ------------------------------------------------------------------ tables, figures, claims
rule aggregate_long_memory:
    input:
        [f for job in LM_JOBS.values() for f in job.seed_files],
    output:
        **{name: f"{LM_OUT}/{name}.csv" for name in lm_plan.TABLES},
        **{
            f"{name}_provenance": f"{LM_OUT}/{name}.csv.provenance.json"
            for name in lm_plan.TABLES
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
        # a function of the input, as before: Snakemake keeps such params out of its params
        # trigger, so a finished run does not replan for it
        runs_dir=lambda wildcards, input: lm_plan.RUNS_DIR,
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
        png=[lm_figure(figure.stem) for figure in LM_FIGURES],
        pdf=[figure.pdf for figure in LM_FIGURES],
        exp2=lm_figure("exp2_rmse"),
        exp2_pdf=f"{LM_OUT}/exp2_rmse.pdf",
        k_sweep=lm_figure("exp3_k_sweep"),
        k_sweep_pdf=f"{LM_OUT}/exp3_k_sweep.pdf",
        # the provenance record beside every PNG (docs/architecture.md: provenance.py)
        provenance=lm_plan.figure_sidecars(LM),
    log:
        f"{LM_LOG}/figures.log",
    conda:
        "../envs/analysis.yaml"
    params:
        tier=TIER,
        K=LM["experiment1"]["K"],
        H=LM["H"],
        noise=LM["experiment2"]["generator"]["noise_sd"],
        boxplots=lm_plan.figure_args(LM, "boxplots"),
        curves=lm_plan.figure_args(LM, "curves"),
        segments=lm_plan.figure_args(LM, "segments"),
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
        inputs=lm_plan.claims_options(LM),
        settings=settings_json(lm_plan.claims_settings(LM)),
        code=command_code("claims-long-memory"),
    shell:
        "python -m rnnmem claims-long-memory {params.inputs} --csv {output.csv} "
        "--md {output.md} --tier {params.tier} --settings {params.settings:q} > {log} 2>&1"


if study_enabled("long_memory") and LM_CLAIMS_INPUTS:
    register_study(
        "long-memory",
        [
            *(rules.aggregate_long_memory.output if LM_JOBS else []),
            *(rules.figures_long_memory.output if LM_JOBS else []),
            *LMR_TARGETS,
            *rules.claims_long_memory.output,
            *rules.compare_long_memory.output,
        ],
        claims=rules.claims_long_memory.output.csv,
        comparison=rules.compare_long_memory.output.csv,
    )
