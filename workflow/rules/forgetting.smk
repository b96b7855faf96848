# The forgetting-time study (spec/forgetting-time.md): simulate -> aggregate -> figures and
# claims. One simulation job per (variant, cell, n_in, units) runs all of its runs.
import shlex

import numpy as np
from snakemake.exceptions import WorkflowError

FORGET = study_config("forgetting")
# The primary variant owns results/forgetting/; a sensitivity variant gets a subfolder.
FORGET_OUT = {
    v: "results/forgetting" if v == "torch" else f"results/forgetting/{v}"
    for v in FORGET["variants"]
}
FORGET_LOG = {v: out.replace("results/", "logs/", 1) for v, out in FORGET_OUT.items()}
FORGET_JOB = "{cell}-in{n_in}-u{units}"
FORGET_RUN_IDS = [f"{r:02d}" for r in range(FORGET["runs"])]
FORGET_SIM_CODE = code_version("forgetting.py", *CORE_CODE)
# Tables and claims do not draw: a styling edit (plotting.py) reruns only the figures.
FORGET_TABLES_CODE = code_version(
    "forgetting.py", "forgetting_report.py", "core/claims.py", *CORE_CODE
)
FORGET_FIGURES_CODE = code_version(
    "forgetting.py", "forgetting_report.py", "core/plotting.py", *CORE_CODE
)


def forgetting_metrics():
    """Metric names the simulation writes (as rnnmem.forgetting.metric_names, sans torch)."""
    labels = [
        np.format_float_scientific(e, trim="-", exp_digits=2) for e in FORGET["eps"]
    ]
    return (
        ["K_exact", "S"]
        + [f"K_tol_{lab}" for lab in labels]
        + ["K_allclose", "F_exact"]
        + [f"F_tol_{lab}" for lab in labels]
    )


def check_forgetting_config():
    """Cross-key checks the schema cannot express; each error names its key."""
    f = FORGET
    if f["prefix"] >= f["steps"]:
        raise WorkflowError(
            f"config key forgetting.prefix={f['prefix']} must be below "
            f"forgetting.steps={f['steps']} (the shared part would be empty)"
        )
    known = forgetting_metrics()
    for key in ("figures.metrics", "figures.log_scale", "claims.metrics"):
        section, name = key.split(".")
        bad = [m for m in f[section][name] if m not in known]
        if bad:
            raise WorkflowError(
                f"config key forgetting.{key}: {bad} not among the metrics {known} "
                "(K_tol_/F_tol_ names need their tolerance in forgetting.eps)"
            )
    if f["figures"]["decay_n_in"] not in f["n_in"]:
        raise WorkflowError(
            f"config key forgetting.figures.decay_n_in={f['figures']['decay_n_in']} "
            f"is not in forgetting.n_in={f['n_in']}"
        )
    missing = [u for u in f["figures"]["decay_units"] if u not in f["units"]]
    if missing:
        raise WorkflowError(
            f"config key forgetting.figures.decay_units: {missing} not in forgetting.units={f['units']}"
        )


check_forgetting_config()


def forgetting_run_files(variant):
    """Every per-run file of one variant (the aggregation's inputs)."""
    return expand(
        f"{FORGET_OUT[variant]}/runs/{FORGET_JOB}/run{{run}}.npz",
        cell=FORGET["cells"],
        n_in=FORGET["n_in"],
        units=FORGET["units"],
        run=FORGET_RUN_IDS,
    )


def forgetting_simulation_args():
    """CLI options of a simulation job: every setting a run depends on."""
    f = FORGET
    return " ".join(
        [
            f"--experiment {shlex.quote(str(f['experiment']))} --steps {f['steps']} --prefix {f['prefix']}",
            f"--chunk {f['chunk']} --eps {' '.join(map(repr, map(float, f['eps'])))}",
            f"--gaps-stored {f['gaps_stored']} --early-stop {f['early_stop']}",
            f"--fast-mode {f['fast_mode']['enabled']} --fast-window {f['fast_mode']['window']}",
            f"--fast-factor {float(f['fast_mode']['factor'])!r}",
            f"--allclose-rtol {float(f['allclose']['rtol'])!r}",
            f"--allclose-atol {float(f['allclose']['atol'])!r}",
            f"--dtype {f['dtype']} --flush-denormal {f['flush_denormal']}",
            f"--threads {f['threads']}",
        ]
    )


FORGET_FIGURES = FORGET["figures"]
FORGET_CLAIMS = FORGET["claims"]


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
            cell="LSTM|GRU",
            n_in=r"[1-9]\d*",
            units=r"[1-9]\d*",
        conda:
            "../envs/train.yaml"
        threads: FORGET["threads"]
        resources:
            gpu=1,
        params:
            variant=variant,
            args=forgetting_simulation_args(),
            code=FORGET_SIM_CODE,
        shell:
            "python -m rnnmem simulate-forgetting --variant {params.variant} --cell {wildcards.cell} "
            "--n-in {wildcards.n_in} --units {wildcards.units} {params.args} "
            "--gpus {resources.gpu} --device-log {log.device} --runtime-log {log.runtime} "
            "--outputs {output} > {log.log} 2>&1"

    rule:
        name:
            f"aggregate_forgetting_{variant}"
        input:
            forgetting_run_files(variant),
        output:
            runs=report(
                f"{out}/runs.csv",
                caption="../report/forgetting_runs.rst",
                category="Forgetting time",
                subcategory=variant,
            ),
            runs_provenance=f"{out}/runs.csv.provenance.json",
            summary=report(
                f"{out}/summary.csv",
                caption="../report/forgetting_summary.rst",
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
            variant=variant,
            tier=TIER,
            code=FORGET_TABLES_CODE,
        shell:
            "python -m rnnmem aggregate-forgetting --variant {params.variant} --tier {params.tier} "
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
                    caption="../report/forgetting_heatmap.rst",
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
                caption="../report/forgetting_decay.rst",
                category="Forgetting time",
                subcategory=variant,
            ),
            decay_pdf=f"{out}/decay.pdf",
        log:
            f"{logs}/figures.log",
        conda:
            "../envs/analysis.yaml"
        params:
            variant=variant,
            tier=TIER,
            metrics=FORGET_FIGURES["metrics"],
            log_scale=FORGET_FIGURES["log_scale"],
            decay_n_in=FORGET_FIGURES["decay_n_in"],
            decay_units=FORGET_FIGURES["decay_units"],
            censor_at=FORGET["steps"] - FORGET["prefix"],
            code=FORGET_FIGURES_CODE,
        shell:
            "python -m rnnmem figures-forgetting --variant {params.variant} --tier {params.tier} "
            "--summary {input.summary} --decay {input.decay} --metrics {params.metrics} "
            "--heatmaps {output.heatmaps} --log-scale {params.log_scale} "
            "--decay-plot {output.decay} --decay-n-in {params.decay_n_in} "
            "--decay-units {params.decay_units} --censor-at {params.censor_at} > {log} 2>&1"

    rule:
        name:
            f"claims_forgetting_{variant}"
        input:
            f"{out}/runs.csv",
        output:
            csv=report(
                f"{out}/claims.csv",
                caption="../report/forgetting_claims.rst",
                category="Forgetting time",
                subcategory=variant,
            ),
            csv_provenance=f"{out}/claims.csv.provenance.json",
            md=report(
                f"{out}/claims.md",
                caption="../report/forgetting_claims.rst",
                category="Forgetting time",
                subcategory=variant,
            ),
        log:
            f"{logs}/claims.log",
        conda:
            "../envs/analysis.yaml"
        params:
            variant=variant,
            tier=TIER,
            experiment=FORGET["experiment"],
            metrics=FORGET_CLAIMS["metrics"],
            bootstrap=FORGET_CLAIMS["bootstrap"],
            level=FORGET_CLAIMS["level"],
            row_fraction=FORGET_CLAIMS["row_fraction"],
            col_fraction=FORGET_CLAIMS["col_fraction"],
            g2_ratio=FORGET_CLAIMS["g2_ratio"],
            code=FORGET_TABLES_CODE,
        shell:
            "python -m rnnmem claims-forgetting --variant {params.variant} --tier {params.tier} "
            "--experiment {params.experiment:q} --runs {input} --csv {output.csv} --md {output.md} "
            "--metrics {params.metrics} --bootstrap {params.bootstrap} --level {params.level} "
            "--row-fraction {params.row_fraction} --col-fraction {params.col_fraction} "
            "--g2-ratio {params.g2_ratio} > {log} 2>&1"

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
