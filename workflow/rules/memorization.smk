# The memory-distance study (docs/studies/memorization.md): train -> probe -> aggregate ->
# figures and claims. One training job per (experiment, cell, task, layers, units).
# What jobs exist and what each gets is rnnmem.memorization.plan (tested without
# Snakemake): the rules below loop over it. Every job gets its settings as one JSON object
# (--settings), its identity from the wildcards, and explicit input and output paths; every
# file a job writes is declared (provenance records included).
from snakemake.exceptions import WorkflowError

from rnnmem.memorization import plan as mem_plan
from rnnmem.memorization.figure_list import FIGURES as MEM_FIGURES

MEM = study_config("memorization")
# Cross-key checks the schema cannot express, each naming its key.
MEM_PROBLEMS = mem_plan.config_problems(MEM)
if MEM_PROBLEMS:
    raise WorkflowError("\n".join(MEM_PROBLEMS))

MEM_OUT, MEM_LOG, MEM_JOB = mem_plan.OUT, mem_plan.LOGS, mem_plan.JOB_ID
# The per-job rules (train, probe, ESN) record the tier's name, the tables, figures and
# claims its full label (TIER): a --config override reruns only the jobs it changes.


for name in MEM["experiments"]:

    rule:
        name:
            f"train_memorization_{name}"
        output:
            mem_plan.seed_files(MEM, name),
        log:
            log=f"{MEM_LOG}/train_{name}/{MEM_JOB}.log",
            device=f"{MEM_LOG}/train_{name}/{MEM_JOB}.device.json",
        conda:
            "../envs/train.yaml"
        threads: 1
        resources:
            gpu=1,
        params:
            experiment=name,
            settings=mem_plan.settings_param(mem_plan.train_settings, MEM, name),
            tier=TIER_NAME,
            # Written while the job runs, removed when its outputs are complete: a job
            # killed part-way resumes from it (so it is no declared output).
            checkpoint=f"{MEM_OUT}/checkpoints/{name}/{MEM_JOB}.npz",
            code=command_code("train-memorization"),
        shell:
            "python -m rnnmem train-memorization --experiment {params.experiment} "
            "--cell {wildcards.cell} --task {wildcards.task} --layers {wildcards.layers} "
            "--units {wildcards.units} --settings {params.settings:q} --tier {params.tier} "
            "--gpus {resources.gpu} --checkpoint {params.checkpoint} "
            "--device-record {log.device} --out {output} > {log.log} 2>&1"

    rule:
        name:
            f"probe_memorization_{name}"
        input:
            mem_plan.seed_files(MEM, name),
        output:
            table=mem_plan.capacity_file(name),
            provenance=f"{mem_plan.capacity_file(name)}.provenance.json",
            curves=mem_plan.capacity_file(name, "_curves"),
            curves_provenance=f"{mem_plan.capacity_file(name, '_curves')}.provenance.json",
        log:
            log=f"{MEM_LOG}/probe_{name}/{MEM_JOB}.log",
            device=f"{MEM_LOG}/probe_{name}/{MEM_JOB}.device.json",
        conda:
            "../envs/train.yaml"
        threads: 1
        resources:
            gpu=1,
        params:
            experiment=name,
            settings=mem_plan.settings_param(mem_plan.probe_settings, MEM, name),
            tier=TIER_NAME,
            code=command_code("probe-memorization"),
        shell:
            "python -m rnnmem probe-memorization --experiment {params.experiment} "
            "--cell {wildcards.cell} --task {wildcards.task} --layers {wildcards.layers} "
            "--units {wildcards.units} --settings {params.settings:q} --tier {params.tier} "
            "--gpus {resources.gpu} --device-record {log.device} --runs {input} "
            "--out {output.table} --out-curves {output.curves} > {log.log} 2>&1"


rule esn_capacity:
    output:
        table=f"{MEM_OUT}/esn.csv",
        provenance=f"{MEM_OUT}/esn.csv.provenance.json",
        task=f"{MEM_OUT}/esn_task.csv",
        task_provenance=f"{MEM_OUT}/esn_task.csv.provenance.json",
    log:
        f"{MEM_LOG}/esn_capacity.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    params:
        settings=settings_json(mem_plan.esn_settings(MEM)),
        tier=TIER_NAME,
        code=command_code("esn-capacity"),
    shell:
        "python -m rnnmem esn-capacity --settings {params.settings:q} --tier {params.tier} "
        "--out {output.table} --out-task {output.task} > {log} 2>&1"


rule aggregate_memorization:
    input:
        runs=mem_plan.all_seed_files(MEM),
        capacity=mem_plan.all_capacity_files(MEM),
        curves=mem_plan.all_capacity_files(MEM, "_curves"),
    output:
        runs=f"{MEM_OUT}/runs.csv",
        runs_provenance=f"{MEM_OUT}/runs.csv.provenance.json",
        curves=f"{MEM_OUT}/curves.csv",
        curves_provenance=f"{MEM_OUT}/curves.csv.provenance.json",
        summary=report(
            f"{MEM_OUT}/summary.csv",
            caption="../report/memorization/tables.rst",
            category="Memorization",
        ),
        summary_provenance=f"{MEM_OUT}/summary.csv.provenance.json",
        capacity=f"{MEM_OUT}/capacity.csv",
        capacity_provenance=f"{MEM_OUT}/capacity.csv.provenance.json",
        capacity_curves=f"{MEM_OUT}/capacity_curves.csv",
        capacity_curves_provenance=f"{MEM_OUT}/capacity_curves.csv.provenance.json",
    log:
        f"{MEM_LOG}/aggregate.log",
    conda:
        "../envs/analysis.yaml"
    params:
        settings=settings_json(mem_plan.aggregate_settings(MEM)),
        tier=TIER,
        code=command_code("aggregate-memorization"),
    shell:
        "python -m rnnmem aggregate-memorization --settings {params.settings:q} "
        "--tier {params.tier} --runs {input.runs} --capacity {input.capacity} "
        "--capacity-curves {input.curves} --out-runs {output.runs} "
        "--out-curves {output.curves} --out-summary {output.summary} "
        "--out-capacity {output.capacity} "
        "--out-capacity-curves {output.capacity_curves} > {log} 2>&1"


# The inputs of figures and claims: the aggregated tables and the ESN baseline (each
# table's record lies beside it, named by the rule that writes it).
MEM_TABLE_FILES = dict(
    runs=rules.aggregate_memorization.output.runs,
    curves=rules.aggregate_memorization.output.curves,
    capacity=rules.aggregate_memorization.output.capacity,
    capacity_curves=rules.aggregate_memorization.output.capacity_curves,
    esn=rules.esn_capacity.output.table,
    esn_task=rules.esn_capacity.output.task,
)


rule figures_memorization:
    input:
        **MEM_TABLE_FILES,
    output:
        pngs=[
            report(
                f"{MEM_OUT}/{stem}.png",
                caption=f"../report/memorization/{caption}.rst",
                category="Memorization",
                subcategory="Figures",
            )
            for stem, caption in MEM_FIGURES.items()
        ],
        pdfs=[f"{MEM_OUT}/{stem}.pdf" for stem in MEM_FIGURES],
        # one record per figure, beside its PNG (its PDF shares it)
        provenance=[f"{MEM_OUT}/{stem}.png.provenance.json" for stem in MEM_FIGURES],
    log:
        f"{MEM_LOG}/figures.log",
    conda:
        "../envs/analysis.yaml"
    params:
        settings=settings_json(mem_plan.figure_settings(MEM)),
        tier=TIER,
        code=command_code("figures-memorization"),
    shell:
        "python -m rnnmem figures-memorization --settings {params.settings:q} "
        "--tier {params.tier} --runs {input.runs} --curves {input.curves} "
        "--capacity {input.capacity} --capacity-curves {input.capacity_curves} "
        "--esn {input.esn} --esn-task {input.esn_task} "
        "--out {output.pngs} {output.pdfs} > {log} 2>&1"


rule claims_memorization:
    input:
        **MEM_TABLE_FILES,
    output:
        csv=f"{MEM_OUT}/claims.csv",
        provenance=f"{MEM_OUT}/claims.csv.provenance.json",
        md=report(
            f"{MEM_OUT}/claims.md",
            caption="../report/memorization/claims.rst",
            category="Memorization",
        ),
    log:
        f"{MEM_LOG}/claims.log",
    conda:
        "../envs/analysis.yaml"
    params:
        settings=settings_json(mem_plan.claim_settings(MEM)),
        tier=TIER,
        code=command_code("claims-memorization"),
    shell:
        "python -m rnnmem claims-memorization --settings {params.settings:q} "
        "--tier {params.tier} --runs {input.runs} --curves {input.curves} "
        "--capacity {input.capacity} --capacity-curves {input.capacity_curves} "
        "--esn {input.esn} --esn-task {input.esn_task} --csv {output.csv} "
        "--md {output.md} > {log} 2>&1"


include: "memorization/compare.smk"


if study_enabled("memorization"):
    register_study(
        "memorization",
        [
            *rules.figures_memorization.output,
            *rules.claims_memorization.output,
            *rules.compare_memorization.output,
        ],
        claims=rules.claims_memorization.output.csv,
        comparison=rules.compare_memorization.output.csv,
    )
