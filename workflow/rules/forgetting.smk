# The forgetting-time study (docs/studies/forgetting.md): simulate -> aggregate -> figures and
# claims. One simulation job per (variant, cell, n_in, units) runs all of its runs. What jobs
# exist and where their files go is rnnmem.forgetting.plan; what each job gets is
# rnnmem.forgetting.settings (both tested without Snakemake): the rules below loop over them.
from snakemake.exceptions import WorkflowError

from rnnmem.forgetting import plan as forget_plan
from rnnmem.forgetting.settings import (
    claim_settings,
    config_problems,
    figure_settings,
    simulate_settings,
    table_settings,
)

FORGET = study_config("forgetting")
# Cross-key checks the schema cannot express, each naming its key.
FORGET_PROBLEMS = config_problems(FORGET)
if FORGET_PROBLEMS:
    raise WorkflowError("\n".join(FORGET_PROBLEMS))

FORGET_JOB = forget_plan.JOB_ID


include: "forgetting/compare.smk"


for variant in FORGET["variants"]:
    out, logs = forget_plan.out_dir(variant), forget_plan.log_dir(variant)

    rule:
        name:
            f"simulate_forgetting_{variant}"
        output:
            forget_plan.run_files(FORGET, variant),
        log:
            log=f"{logs}/simulate/{FORGET_JOB}.log",
            device=f"{logs}/simulate/{FORGET_JOB}.device.json",
            runtime=f"{logs}/simulate/{FORGET_JOB}.runtime.json",
        wildcard_constraints:
            **forget_plan.WILDCARD_CONSTRAINTS,
        conda:
            "../envs/train.yaml"
        threads: FORGET["threads"]
        resources:
            gpu=1,
        params:
            settings=settings_json(simulate_settings(FORGET, variant)),
            code=command_code("simulate-forgetting"),
        shell:
            "python -m rnnmem simulate-forgetting --settings {params.settings:q} "
            "--cell {wildcards.cell} --n-in {wildcards.n_in} --units {wildcards.units} "
            "--gpus {resources.gpu} --device-log {log.device} --runtime-log {log.runtime} "
            "--outputs {output} > {log.log} 2>&1"

    rule:
        name:
            f"aggregate_forgetting_{variant}"
        input:
            forget_plan.all_run_files(FORGET, variant),
        output:
            runs=report(
                f"{out}/runs.csv",
                caption="../report/forgetting/runs.rst",
                category="Forgetting time",
                subcategory=variant,
            ),
            runs_provenance=f"{out}/runs.csv.provenance.json",
            summary=report(
                f"{out}/summary.csv",
                caption="../report/forgetting/summary.rst",
                category="Forgetting time",
                subcategory=variant,
            ),
            summary_provenance=f"{out}/summary.csv.provenance.json",
            # its record is in its own meta (an .npz holds one)
            decay=f"{out}/decay_medians.npz",
        log:
            f"{logs}/aggregate.log",
        conda:
            "../envs/analysis.yaml"
        params:
            settings=settings_json(table_settings(FORGET, variant, TIER)),
            code=command_code("aggregate-forgetting"),
        shell:
            "python -m rnnmem aggregate-forgetting --settings {params.settings:q} "
            "--runs-csv {output.runs} --summary-csv {output.summary} "
            "--decay {output.decay} --inputs {input} > {log} 2>&1"

    rule:
        name:
            f"figures_forgetting_{variant}"
        input:
            summary=f"{out}/summary.csv",
            decay=f"{out}/decay_medians.npz",
        output:
            heatmaps=[
                report(
                    path,
                    caption="../report/forgetting/heatmap.rst",
                    category="Forgetting time",
                    subcategory=variant,
                )
                for path in forget_plan.heatmap_files(FORGET, variant, "png")
            ],
            heatmap_pdfs=forget_plan.heatmap_files(FORGET, variant, "pdf"),
            # one record per figure, beside its PNG (its PDF shares it)
            heatmap_provenance=forget_plan.heatmap_files(
                FORGET, variant, "png.provenance.json"
            ),
            decay=report(
                f"{out}/decay.png",
                caption="../report/forgetting/decay.rst",
                category="Forgetting time",
                subcategory=variant,
            ),
            decay_pdf=f"{out}/decay.pdf",
            decay_provenance=f"{out}/decay.png.provenance.json",
        log:
            f"{logs}/figures.log",
        conda:
            "../envs/analysis.yaml"
        params:
            settings=settings_json(figure_settings(FORGET, variant, TIER)),
            code=command_code("figures-forgetting"),
        shell:
            "python -m rnnmem figures-forgetting --settings {params.settings:q} "
            "--summary {input.summary} --decay {input.decay} "
            "--heatmaps {output.heatmaps} --decay-plot {output.decay} > {log} 2>&1"

    rule:
        name:
            f"claims_forgetting_{variant}"
        input:
            f"{out}/runs.csv",
        output:
            csv=report(
                f"{out}/claims.csv",
                caption="../report/forgetting/claims.rst",
                category="Forgetting time",
                subcategory=variant,
            ),
            csv_provenance=f"{out}/claims.csv.provenance.json",
            md=report(
                f"{out}/claims.md",
                caption="../report/forgetting/claims.rst",
                category="Forgetting time",
                subcategory=variant,
            ),
        log:
            f"{logs}/claims.log",
        conda:
            "../envs/analysis.yaml"
        params:
            settings=settings_json(claim_settings(FORGET, variant, TIER)),
            code=command_code("claims-forgetting"),
        shell:
            "python -m rnnmem claims-forgetting --settings {params.settings:q} "
            "--runs {input} --csv {output.csv} --md {output.md} > {log} 2>&1"

    if study_enabled("forgetting"):
        # only the primary variant is set beside the blog's tables
        primary = variant == forget_plan.PRIMARY
        register_study(
            f"forgetting-{variant}",
            forget_plan.targets(FORGET, variant)
            + (list(rules.compare_forgetting.output) if primary else []),
            claims=f"{out}/claims.csv",
            comparison=rules.compare_forgetting.output.csv if primary else None,
        )
