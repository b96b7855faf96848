# The memory-distance study (spec/memory-distance.md): train -> probe -> aggregate ->
# figures and claims. One training job per (experiment, cell, task, layers, units).

MEM = study_config("memorization")
MEM_OUT = "results/memorization"
MEM_JOB = "{cell}-{task}-l{layers}-c{units}"
TRAINING_KEYS = ("lr", "batch_size", "steps_per_epoch", "tbptt_k")
SHARED_KEYS = (
    "seed",
    "eval_sequences",
    "eval_every",
    "eval_seed",
    "min_length",
    "window",
)
SHARED_KEYS += ("fixed_length", "long_positions", "checkpoint_every")


def check_memorization_grid():
    """Stop on a grid the task cannot have, naming the config key."""
    for name, exp in MEM["experiments"].items():
        if exp["task"] == "fixed" and max(exp["positions"]) > MEM["fixed_length"]:
            raise ValueError(
                f"config key memorization.experiments.{name}.positions: p={max(exp['positions'])} "
                f"is impossible on the fixed-length task (q = fixed_length = {MEM['fixed_length']})"
            )


check_memorization_grid()


def memorization_jobs(name):
    """Wildcard values of every training job of experiment `name`."""
    exp = MEM["experiments"][name]
    return [
        dict(cell=cell, task=exp["task"], layers=l, units=c)
        for cell in exp["cells"]
        for l in exp["layers"]
        for c in exp["units"]
    ]


def job_settings(name, wildcards):
    """Every setting of one job: study defaults < experiment < matching overrides."""
    exp = MEM["experiments"][name]
    s = {k: MEM[k] for k in TRAINING_KEYS + SHARED_KEYS}
    s.update(
        {
            k: exp[k]
            for k in TRAINING_KEYS + ("epochs", "seeds", "positions")
            if k in exp
        }
    )
    ident = dict(
        experiment=name,
        cell=wildcards.cell,
        layers=int(wildcards.layers),
        units=int(wildcards.units),
    )
    for o in MEM["overrides"]:
        if all(o[k] == v for k, v in ident.items() if k in o):
            s.update({k: v for k, v in o.items() if k not in ident})
    return s


def job_arguments(name, wildcards):
    """The CLI options of a job (train and probe share them)."""
    s = job_settings(name, wildcards)
    args = [
        f"--experiment {name} --cell {wildcards.cell} --task {wildcards.task}",
        f"--layers {wildcards.layers} --units {wildcards.units}",
        "--positions " + " ".join(map(str, s.pop("positions"))),
    ]
    tbptt_k = s.pop("tbptt_k")
    if tbptt_k is not None:
        args.append(f"--tbptt-k {tbptt_k}")
    args += [f"--{k.replace('_', '-')} {v}" for k, v in sorted(s.items())]
    return " ".join(args + [f"--tier {TIER}"])


def capacity_arguments():
    return " ".join(
        f"--mc-{k.replace('_', '-')} {v}" for k, v in sorted(MEM["capacity"].items())
    )


def seed_files(name):
    n = MEM["experiments"][name]["seeds"]
    return expand(
        f"{MEM_OUT}/runs/{name}/{MEM_JOB}/seed{{seed}}.npz",
        seed=range(n),
        allow_missing=True,
    )


def all_seed_files():
    return [
        f
        for name in MEM["experiments"]
        for job in memorization_jobs(name)
        for f in expand(seed_files(name), **job)
    ]


def all_capacity_files(suffix):
    return [
        f"{MEM_OUT}/capacity/{name}/{MEM_JOB}{suffix}.csv".format(**job)
        for name in MEM["experiments"]
        for job in memorization_jobs(name)
    ]



TRAIN_CODE = code_version("ensemble.py", "memorization.py", *CORE_CODE)
PROBE_CODE = code_version("ensemble.py", "memorization.py", "memory_capacity.py", *CORE_CODE)
FIGURES_CODE = code_version(
    "memorization_tables.py", "memorization_figures.py", "core/plotting.py", *CORE_CODE
)
CLAIMS_CODE = code_version(
    "memorization_tables.py", "memorization_claims.py", "core/claims.py", *CORE_CODE
)


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
            args=lambda wc, name=name: job_arguments(name, wc),
            checkpoint=f"{MEM_OUT}/checkpoints/{name}/{MEM_JOB}.npz",
            code=TRAIN_CODE,
        shell:
            "python -m rnnmem train-memorization {params.args} --gpus {resources.gpu} "
            "--checkpoint {params.checkpoint} --device-record {log.device} "
            "--out {output} > {log.log} 2>&1"

    rule:
        name:
            f"probe_memorization_{name}"
        input:
            seed_files(name),
        output:
            table=f"{MEM_OUT}/capacity/{name}/{MEM_JOB}.csv",
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
            args=lambda wc, name=name: job_arguments(name, wc),
            capacity=capacity_arguments(),
            code=PROBE_CODE,
        shell:
            "python -m rnnmem probe-memorization {params.args} {params.capacity} --gpus {resources.gpu} "
            "--device-record {log.device} --runs {input} --out {output.table} "
            "--out-curves {output.curves} > {log.log} 2>&1"


rule esn_capacity:
    output:
        table=f"{MEM_OUT}/esn.csv",
        task=f"{MEM_OUT}/esn_task.csv",
    log:
        "logs/memorization/esn_capacity.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    params:
        tier=TIER,
        capacity=capacity_arguments(),
        esn=" ".join(
            f"--{k.replace('_', '-')} "
            + (" ".join(map(str, v)) if isinstance(v, list) else str(v))
            for k, v in sorted(MEM["esn"].items())
        ),
        code=PROBE_CODE,
    shell:
        "python -m rnnmem esn-capacity {params.capacity} {params.esn} --tier {params.tier} "
        "--out {output.table} --out-task {output.task} > {log} 2>&1"


rule aggregate_memorization:
    input:
        runs=all_seed_files(),
        capacity=all_capacity_files(""),
        curves=all_capacity_files("_curves"),
    output:
        runs=f"{MEM_OUT}/runs.csv",
        curves=f"{MEM_OUT}/curves.csv",
        summary=report(
            f"{MEM_OUT}/summary.csv",
            caption="../report/memorization_tables.rst",
            category="Memorization",
        ),
        capacity=f"{MEM_OUT}/capacity.csv",
        capacity_curves=f"{MEM_OUT}/capacity_curves.csv",
    log:
        "logs/memorization/aggregate.log",
    conda:
        "../envs/analysis.yaml"
    params:
        tier=TIER,
        outdir=lambda wildcards, output: Path(output[0]).parent,
        theta=MEM["theta"],
        curve_experiments=" ".join(MEM["curve_experiments"]),
        code=code_version("memorization.py", *CORE_CODE),
    shell:
        "python -m rnnmem aggregate-memorization --runs {input.runs} --capacity {input.capacity} "
        "--capacity-curves {input.curves} --curve-experiments {params.curve_experiments} "
        "--theta {params.theta} --tier {params.tier} --outdir {params.outdir} > {log} 2>&1"


MEM_FIGURES = {
    "fig4_rnn_learning_curves": "memorization_fig4.rst",
    "fig4_rnn_learning_curves_full": "memorization_fig4.rst",
    "fig5_lstm_learning_curves": "memorization_fig5.rst",
    "fig5_lstm_learning_curves_full": "memorization_fig5.rst",
    "fig6_rnn_mean_loss": "memorization_fig6.rst",
    "fig7_rnn_sd_loss": "memorization_fig7.rst",
    "fig8_lstm_gru_mean_loss": "memorization_fig8.rst",
    "fig9_rnn_fixed_length": "memorization_fig9.rst",
    "loss_histogram": "memorization_histogram.rst",
    "memory_capacity": "memorization_capacity.rst",
}


rule figures_memorization:
    input:
        rules.aggregate_memorization.output,
        rules.esn_capacity.output,
    output:
        [
            report(
                f"{MEM_OUT}/{stem}.png",
                caption=f"../report/{caption}",
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
        tier=TIER,
        outdir=lambda wildcards, output: Path(output[0]).parent,
        theta=MEM["theta"],
        curve_epochs=MEM["curve_epochs"],
        code=FIGURES_CODE,
    shell:
        "python -m rnnmem figures-memorization --results {params.outdir} --outdir {params.outdir} --tier {params.tier} "
        "--theta {params.theta} --curve-epochs {params.curve_epochs} > {log} 2>&1"


rule claims_memorization:
    input:
        rules.aggregate_memorization.output,
        rules.esn_capacity.output,
    output:
        csv=f"{MEM_OUT}/claims.csv",
        md=report(
            f"{MEM_OUT}/claims.md",
            caption="../report/memorization_claims.rst",
            category="Memorization",
        ),
    log:
        "logs/memorization/claims.log",
    conda:
        "../envs/analysis.yaml"
    params:
        tier=TIER,
        outdir=lambda wildcards, output: Path(output[0]).parent,
        theta=MEM["theta"],
        sensitivity=" ".join(map(str, MEM["theta_sensitivity"])),
        code=CLAIMS_CODE,
    shell:
        "python -m rnnmem claims-memorization --results {params.outdir} --csv {output.csv} --md {output.md} "
        "--tier {params.tier} --theta {params.theta} --theta-sensitivity {params.sensitivity} > {log} 2>&1"


if study_enabled("memorization"):
    register_study(
        "memorization",
        [*rules.figures_memorization.output, *rules.claims_memorization.output],
        claims=rules.claims_memorization.output.csv,
    )
