# The memory-distance study (spec/memory-distance.md): train -> probe -> aggregate ->
# figures and claims. One training job per (experiment, cell, task, layers, units).
# Every job gets its settings as one JSON object (--settings, built from the validated
# config in memorization/jobs.smk), its identity from the wildcards, and explicit input
# and output paths; every file a job writes is declared (provenance sidecars included).


include: "memorization/jobs.smk"


for name in MEM["experiments"]:

    rule:
        name:
            f"train_memorization_{name}"
        output:
            seed_files(name),
        log:
            log=f"logs/memorization/train_{name}/{MEM_JOB}.log",
            device=f"logs/memorization/train_{name}/{MEM_JOB}.device.json",
        conda:
            "../envs/train.yaml"
        threads: 1
        resources:
            gpu=1,
        params:
            experiment=name,
            settings=train_settings(name),
            tier=TIER,
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
            seed_files(name),
        output:
            table=f"{MEM_OUT}/capacity/{name}/{MEM_JOB}.csv",
            provenance=f"{MEM_OUT}/capacity/{name}/{MEM_JOB}.csv.provenance.json",
            curves=f"{MEM_OUT}/capacity/{name}/{MEM_JOB}_curves.csv",
        log:
            log=f"logs/memorization/probe_{name}/{MEM_JOB}.log",
            device=f"logs/memorization/probe_{name}/{MEM_JOB}.device.json",
        conda:
            "../envs/train.yaml"
        threads: 1
        resources:
            gpu=1,
        params:
            experiment=name,
            settings=probe_settings(name),
            tier=TIER,
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
    log:
        "logs/memorization/esn_capacity.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    params:
        settings=settings_json(
            {
                "capacity": MEM["capacity"],
                "esn": MEM["esn"],
                "task": {k: MEM[k] for k in MEM_TASK_KEYS},
            }
        ),
        tier=TIER,
        code=command_code("esn-capacity"),
    shell:
        "python -m rnnmem esn-capacity --settings {params.settings:q} --tier {params.tier} "
        "--out {output.table} --out-task {output.task} > {log} 2>&1"


rule aggregate_memorization:
    input:
        runs=all_seed_files(),
        capacity=all_capacity_files(""),
        curves=all_capacity_files("_curves"),
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
        "logs/memorization/aggregate.log",
    conda:
        "../envs/analysis.yaml"
    params:
        settings=settings_json(
            {"theta": MEM["theta"], "curve_experiments": MEM["curve_experiments"]}
        ),
        tier=TIER,
        code=command_code("aggregate-memorization"),
    shell:
        "python -m rnnmem aggregate-memorization --settings {params.settings:q} "
        "--tier {params.tier} --runs {input.runs} --capacity {input.capacity} "
        "--capacity-curves {input.curves} --out-runs {output.runs} "
        "--out-curves {output.curves} --out-summary {output.summary} "
        "--out-capacity {output.capacity} "
        "--out-capacity-curves {output.capacity_curves} > {log} 2>&1"


# The inputs of figures and claims: the aggregated tables and the ESN baseline.
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
        [
            report(
                f"{MEM_OUT}/{stem}.png",
                caption=f"../report/memorization/{caption}.rst",
                category="Memorization",
                subcategory="Figures",
            )
            for stem, caption in MEM_FIGURES.items()
        ],
        [f"{MEM_OUT}/{stem}.pdf" for stem in MEM_FIGURES],
    log:
        "logs/memorization/figures.log",
    conda:
        "../envs/analysis.yaml"
    params:
        settings=settings_json(
            {"theta": MEM["theta"], "curve_epochs": MEM["curve_epochs"]}
        ),
        tier=TIER,
        code=command_code("figures-memorization"),
    shell:
        "python -m rnnmem figures-memorization --settings {params.settings:q} "
        "--tier {params.tier} --runs {input.runs} --curves {input.curves} "
        "--capacity {input.capacity} --capacity-curves {input.capacity_curves} "
        "--esn {input.esn} --esn-task {input.esn_task} --out {output} > {log} 2>&1"


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
        "logs/memorization/claims.log",
    conda:
        "../envs/analysis.yaml"
    params:
        settings=settings_json(
            {
                "theta": MEM["theta"],
                "theta_sensitivity": MEM["theta_sensitivity"],
                "curve_epochs": MEM["curve_epochs"],
            }
        ),
        tier=TIER,
        code=command_code("claims-memorization"),
    shell:
        "python -m rnnmem claims-memorization --settings {params.settings:q} "
        "--tier {params.tier} --runs {input.runs} --curves {input.curves} "
        "--capacity {input.capacity} --capacity-curves {input.capacity_curves} "
        "--esn {input.esn} --esn-task {input.esn_task} --csv {output.csv} "
        "--md {output.md} > {log} 2>&1"


if study_enabled("memorization"):
    register_study(
        "memorization",
        [*rules.figures_memorization.output, *rules.claims_memorization.output],
        claims=rules.claims_memorization.output.csv,
    )
