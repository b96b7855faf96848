# The forgetting-time study (spec/forgetting-time.md): simulate -> aggregate -> figures and
# claims. One simulation job per (variant, cell, n_in, units) runs all of its runs; every job
# gets its settings as one JSON object (rnnmem.forgetting.settings picks them from the config).
from snakemake.exceptions import WorkflowError

from rnnmem.forgetting.settings import (
    CELLS,
    claim_settings,
    config_problems,
    figure_settings,
    simulate_settings,
    table_settings,
)

FORGET = study_config("forgetting")
# The primary variant owns results/forgetting/; a sensitivity variant gets a subfolder.
FORGET_OUT = {
    v: "results/forgetting" if v == "torch" else f"results/forgetting/{v}"
    for v in FORGET["variants"]
}
FORGET_LOG = {v: out.replace("results/", "logs/", 1) for v, out in FORGET_OUT.items()}
FORGET_JOB = "{cell}-in{n_in}-u{units}"
FORGET_RUN_IDS = [f"{r:02d}" for r in range(FORGET["runs"])]
# Cross-key checks the schema cannot express, each naming its key.
FORGET_PROBLEMS = config_problems(FORGET)
if FORGET_PROBLEMS:
    raise WorkflowError("\n".join(FORGET_PROBLEMS))

FORGET_FIGURES = FORGET["figures"]


for variant in FORGET["variants"]:
    out, logs = FORGET_OUT[variant], FORGET_LOG[variant]

    rule:
        name:
            f"simulate_forgetting_{variant}"
        output:
            expand(
                f"{out}/runs/{FORGET_JOB}/run{{run}}.npz",
                run=FORGET_RUN_IDS,
                allow_missing=True,
            ),
        log:
            log=f"{logs}/simulate/{FORGET_JOB}.log",
            device=f"{logs}/simulate/{FORGET_JOB}.device.json",
            runtime=f"{logs}/simulate/{FORGET_JOB}.runtime.json",
        wildcard_constraints:
            cell="|".join(CELLS),
            n_in=r"[1-9]\d*",
            units=r"[1-9]\d*",
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
            expand(
                f"{out}/runs/{FORGET_JOB}/run{{run}}.npz",
                cell=FORGET["cells"],
                n_in=FORGET["n_in"],
                units=FORGET["units"],
                run=FORGET_RUN_IDS,
            ),
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
                    f"{out}/heatmap_{metric}.png",
                    caption="../report/forgetting/heatmap.rst",
                    category="Forgetting time",
                    subcategory=variant,
                )
                for metric in FORGET_FIGURES["metrics"]
            ],
            heatmap_pdfs=[
                f"{out}/heatmap_{metric}.pdf" for metric in FORGET_FIGURES["metrics"]
            ],
            decay=report(
                f"{out}/decay.png",
                caption="../report/forgetting/decay.rst",
                category="Forgetting time",
                subcategory=variant,
            ),
            decay_pdf=f"{out}/decay.pdf",
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
        register_study(
            f"forgetting-{variant}",
            [
                f"{out}/runs.csv",
                f"{out}/summary.csv",
                *[
                    f"{out}/heatmap_{m}.{ext}"
                    for m in FORGET_FIGURES["metrics"]
                    for ext in ("png", "pdf")
                ],
                f"{out}/decay.png",
                f"{out}/decay.pdf",
                f"{out}/claims.csv",
                f"{out}/claims.md",
            ],
            claims=f"{out}/claims.csv",
        )
