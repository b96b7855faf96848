"""The memorization plan without Snakemake: the grid of jobs, each job's settings with the
overrides applied in order, its files, and every config check naming its key."""

from __future__ import annotations

import copy
import json

import pytest

from rnnmem.core.settings import ConfigError, settings_json, validate
from rnnmem.memorization import plan
from rnnmem.memorization.job import TrainJob

EXPERIMENTS = {
    "fig6": dict(
        cells=["rnn"], task="variable", layers=[1, 2], units=[2, 3], positions=[1, 2], seeds=2,
        epochs=20,
    ),
    "fig8": dict(
        cells=["lstm", "gru"], task="variable", layers=[1], units=[2], positions=[1, 2], seeds=1,
        epochs=30, lr=0.1,
    ),
    "fig9": dict(
        cells=["rnn"], task="fixed", layers=[1], units=[1], positions=[1, 10], seeds=2, epochs=20
    ),
}  # fmt: skip


def section(**given) -> dict:
    """A validated `memorization` section: EXPERIMENTS, the schema's defaults, then `given`."""
    raw = {"experiments": copy.deepcopy(EXPERIMENTS), **copy.deepcopy(given)}
    return validate(raw, "memorization", prefix="memorization")


def wildcards(job: plan.Job) -> dict:
    """What Snakemake hands a rule: every wildcard as a string."""
    return {key: str(value) for key, value in job.wildcards.items()}


# ------------------------------------------------------------------------------- the grid
def test_jobs_are_the_grid_of_each_experiment_in_order():
    mem = section()
    assert [j.name for j in plan.jobs(mem, "fig6")] == [
        "rnn-variable-l1-c2",
        "rnn-variable-l1-c3",
        "rnn-variable-l2-c2",
        "rnn-variable-l2-c3",
    ]
    assert [(j.experiment, j.cell) for j in plan.jobs(mem, "fig8")] == [
        ("fig8", "lstm"),
        ("fig8", "gru"),
    ]
    assert len(plan.jobs(mem)) == 4 + 2 + 1
    assert plan.jobs(mem, "fig9")[0].task == "fixed"


def test_files_of_the_jobs():
    mem = section()
    assert plan.seed_files(mem, "fig6") == [
        "results/memorization/runs/fig6/{cell}-{task}-l{layers}-c{units}/seed0.npz",
        "results/memorization/runs/fig6/{cell}-{task}-l{layers}-c{units}/seed1.npz",
    ]
    seeds = plan.all_seed_files(mem)
    assert len(seeds) == 4 * 2 + 2 * 1 + 1 * 2 and len(set(seeds)) == len(seeds)
    assert "results/memorization/runs/fig8/gru-variable-l1-c2/seed0.npz" in seeds
    assert plan.all_capacity_files(mem, "_curves")[-1] == (
        "results/memorization/capacity/fig9/rnn-fixed-l1-c1_curves.csv"
    )


# ------------------------------------------------------------------------ job settings
def test_settings_study_then_experiment_then_overrides_in_order():
    mem = section(
        lr=0.03,
        overrides=[
            {"experiment": "fig6", "layers": 2, "lr": 0.05, "epochs": 40},
            {"units": 3, "lr": 0.07},  # later entries win
            {"cell": "gru", "tbptt_k": 3},
        ],
    )
    by_name = {(j.experiment, j.name): j for j in plan.jobs(mem)}

    def settings(experiment, name):
        return plan.train_settings(mem, experiment, wildcards(by_name[experiment, name]))

    assert settings("fig6", "rnn-variable-l1-c2")["lr"] == 0.03  # the study's
    assert settings("fig8", "lstm-variable-l1-c2")["lr"] == 0.1  # the experiment's
    assert {"lr": 0.05, "epochs": 40}.items() <= settings("fig6", "rnn-variable-l2-c2").items()
    assert {"lr": 0.07, "epochs": 40}.items() <= settings("fig6", "rnn-variable-l2-c3").items()
    assert settings("fig8", "gru-variable-l1-c2")["tbptt_k"] == 3
    assert settings("fig8", "lstm-variable-l1-c2")["tbptt_k"] is None
    # every job's settings build its TrainJob: nothing missing, nothing extra
    for job in plan.jobs(mem):
        identity = {"experiment": job.experiment, **job.wildcards}
        TrainJob.of(identity, plan.train_settings(mem, job.experiment, wildcards(job)))


def test_settings_json_is_stable():
    """The JSON a rule passes (its params rerun trigger) is the same string for the same
    config, whatever the key order, and the probe's holds the training job's settings."""
    mem = section(overrides=[{"experiment": "fig6", "units": 3, "lr": 0.05}])
    job = plan.jobs(mem, "fig6")[1]
    train = plan.settings_param(plan.train_settings, mem, "fig6")(wildcards(job))
    assert train == (
        '{"batch_size":32,"checkpoint_every":100,"epochs":20,"eval_every":100,'
        '"eval_seed":20221,"eval_sequences":4096,"fixed_length":10,"long_positions":"shift",'
        '"lr":0.05,"min_length":10,"positions":[1,2],"seed":0,"seeds":2,'
        '"steps_per_epoch":10,"tbptt_k":null,"window":6}'
    )
    shuffled = dict(reversed(list(mem.items())))
    assert plan.settings_param(plan.train_settings, shuffled, "fig6")(wildcards(job)) == train
    probe = json.loads(plan.settings_param(plan.probe_settings, mem, "fig6")(wildcards(job)))
    assert probe == {"job": json.loads(train), "capacity": mem["capacity"]}
    assert settings_json(plan.esn_settings(mem)) == settings_json(plan.esn_settings(shuffled))


def test_a_rule_bound_in_a_loop_keeps_its_experiment():
    mem = section()
    params = {name: plan.settings_param(plan.train_settings, mem, name) for name in EXPERIMENTS}
    fig8 = plan.jobs(mem, "fig8")[0]
    assert json.loads(params["fig8"](wildcards(fig8)))["epochs"] == 30


def test_a_job_outside_the_grid_is_refused():
    mem = section()
    with pytest.raises(ValueError, match="fig6: rnn-variable-l3-c2 is not a job of its grid"):
        plan.train_settings(mem, "fig6", {"cell": "rnn", "layers": "3", "units": "2"})
    with pytest.raises(ValueError, match="not a job"):
        plan.train_settings(
            mem, "fig9", {"cell": "rnn", "task": "variable", "layers": 1, "units": 1}
        )


# ------------------------------------------------------------------------ config checks
def test_a_good_config_has_no_problems():
    assert plan.config_problems(section()) == []


@pytest.mark.parametrize(
    "override,named",
    [
        ({"experiment": "fig4", "lr": 0.1}, "memorization.overrides[0].experiment: 'fig4'"),
        ({"cell": "lstm", "layers": 2, "lr": 0.1}, "memorization.overrides[0].layers: 2"),
        ({"experiment": "fig6", "cell": "gru", "lr": 0.1}, "memorization.overrides[0].cell: 'gru'"),
        ({"experiment": "fig6", "units": 4, "epochs": 5}, "memorization.overrides[0].units: 4"),
        ({"experiment": "fig6", "layers": 3, "lr": 0.1}, "memorization.overrides[0].layers: 3"),
    ],
    ids=["experiment-not-in-config", "no-lstm-with-2-layers", "cell", "units", "layers"],
)
def test_an_override_that_matches_no_job_is_named(override, named):
    problems = plan.config_problems(section(overrides=[override]))
    assert len(problems) == 1 and named in problems[0], problems
    assert "matches no job" in problems[0]


def test_only_the_override_that_matches_nothing_is_named():
    good = {"experiment": "fig6", "lr": 0.1}
    bad = {"experiment": "fig6", "units": 8, "lr": 0.1}
    problems = plan.config_problems(section(overrides=[good, bad, good]))
    assert len(problems) == 1 and "memorization.overrides[1].units: 8" in problems[0]
    assert "[2, 3]" in problems[0]  # the values it could take


def test_an_unknown_experiment_or_cell_is_a_schema_error_naming_the_entry():
    with pytest.raises(ConfigError, match=r"memorization\.overrides\[0\]\.experiment: 'fig44'"):
        section(overrides=[{"experiment": "fig44", "lr": 0.1}])
    with pytest.raises(ConfigError, match=r"memorization\.overrides\[1\]\.cell: 'LSTM'"):
        section(overrides=[{"lr": 0.1}, {"cell": "LSTM", "lr": 0.1}])
    with pytest.raises(ConfigError, match=r"memorization\.curve_experiments\[0\]: 'fig7'"):
        section(curve_experiments=["fig7"])


def test_a_position_beyond_the_fixed_length_is_named():
    mem = section(fixed_length=8)
    (problem,) = plan.config_problems(mem)
    assert problem.startswith("config key memorization.experiments.fig9.positions: p=10")
    assert "fixed_length = 8" in problem
    # the training job would refuse it at run time: the plan finds it before any job runs
    job = plan.jobs(mem, "fig9")[0]
    with pytest.raises(ValueError, match="impossible on the fixed-length task"):
        TrainJob.of(
            {"experiment": "fig9", **job.wildcards},
            plan.train_settings(mem, "fig9", wildcards(job)),
        )


def test_a_washout_shorter_than_the_longest_delay_is_named():
    # the largest probed state: the ESN's 30 units -> K = max(60, 40) = 60
    mem = section(capacity={"washout": 58}, esn={"units": [2, 30]})
    (problem,) = plan.config_problems(mem)
    assert "memorization.capacity.washout=58 must be at least K - 1 = 59" in problem
    assert plan.config_problems(section(capacity={"washout": 59}, esn={"units": [2, 30]})) == []


def test_every_problem_is_reported_at_once():
    mem = section(fixed_length=5, overrides=[{"experiment": "fig4", "lr": 0.1}])
    problems = plan.config_problems(mem)
    assert len(problems) == 2
    assert any("experiments.fig9.positions" in p for p in problems)
    assert any("overrides[0].experiment" in p for p in problems)
