# Review classification (the paper's Tables 5 and 6): reviews.json (fetched by
# fetch_long_memory_reviews) -> corpus and word2vec embeddings -> one training job per
# (layout, model), all its seeds at once (GPU-tagged) -> per-seed tables, Tables 5 and 6,
# the accuracy figure; its claims join the study's claims (claims_long_memory).


rule embed_reviews:
    input:
        LMR_REVIEWS,
    output:
        corpus=f"{LMR_OUT}/data/corpus.txt",
        embeddings=LMR_EMBEDDINGS,
        embeddings_provenance=f"{LMR_EMBEDDINGS}.provenance.json",
        counts=f"{LMR_OUT}/data/counts.json",
    log:
        f"{LM_LOG}/reviews/embed.log",
    conda:
        "../../envs/train.yaml"
    params:
        settings=settings_json(LMR["word2vec"]),
        seq_len=LMR["seq_len"],
        code=command_code("embed-reviews"),
    shell:
        "python -m rnnmem embed-reviews --reviews {input} --settings {params.settings:q} "
        "--seq-len {params.seq_len} --corpus {output.corpus} "
        "--embeddings {output.embeddings} --counts {output.counts} > {log} 2>&1"


rule train_reviews:
    input:
        reviews=LMR_REVIEWS,
        embeddings=LMR_EMBEDDINGS,
    output:
        lm_plan.review_outputs(LM),
    log:
        log=f"{LM_LOG}/reviews/train/{{layout}}-{{model}}.log",
        device=f"{LM_LOG}/reviews/train/{{layout}}-{{model}}.device.json",
    wildcard_constraints:
        layout="authors|transpose",
        model="rnn|lstm|mrnnf|mlstmf",
    conda:
        "../../envs/train.yaml"
    threads: LMR["threads"]
    resources:
        gpu=LMR["gpus"],
    params:
        settings=lambda wildcards: settings_json(
            lm_plan.review_job_settings(
                LM, TIER_NAME, wildcards.layout, wildcards.model
            )
        ),
        code=command_code("train-reviews"),
    shell:
        "python -m rnnmem train-reviews --settings {params.settings:q} "
        "--reviews {input.reviews} --embeddings {input.embeddings} "
        "--gpus {resources.gpu} --device-record {log.device} --out {output} > {log.log} 2>&1"


rule aggregate_reviews:
    input:
        [
            f
            for layout, model in LMR_JOBS
            for f in lm_plan.review_seed_files(LM, layout, model)
        ],
    output:
        runs=f"{LMR_OUT}/runs.csv",
        runs_provenance=f"{LMR_OUT}/runs.csv.provenance.json",
        summary=f"{LMR_OUT}/summary.csv",
        summary_provenance=f"{LMR_OUT}/summary.csv.provenance.json",
        tables=report(
            f"{LMR_OUT}/tables.md",
            caption="../../report/long_memory/reviews_tables.rst",
            category="Long memory",
            subcategory="Review classification",
        ),
        tables_provenance=f"{LMR_OUT}/tables.md.provenance.json",
    log:
        f"{LM_LOG}/reviews/aggregate.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        tier=TIER,
        code=command_code("aggregate-reviews"),
    shell:
        "python -m rnnmem aggregate-reviews --files {input} --tier {params.tier} "
        "--runs {output.runs} --summary {output.summary} --tables {output.tables} "
        "> {log} 2>&1"


rule figures_reviews:
    input:
        runs=f"{LMR_OUT}/runs.csv",
    output:
        png=report(
            f"{LMR_OUT}/test_accuracy.png",
            caption="../../report/long_memory/reviews_accuracy.rst",
            category="Long memory",
            subcategory="Review classification",
        ),
        pdf=f"{LMR_OUT}/test_accuracy.pdf",
        # the provenance record beside the PNG (docs/architecture.md: provenance.py)
        png_provenance=f"{LMR_OUT}/test_accuracy.png.provenance.json",
    log:
        f"{LM_LOG}/reviews/figures.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        tier=TIER,
        code=command_code("figures-reviews"),
    shell:
        "python -m rnnmem figures-reviews --runs {input.runs} --png {output.png} "
        "--tier {params.tier} > {log} 2>&1"


LMR_TARGETS = (
    [
        *rules.embed_reviews.output,
        *rules.aggregate_reviews.output,
        *rules.figures_reviews.output,
    ]
    if LMR_JOBS
    else []
)
