"""The long-memory plan of the time-series jobs, without Snakemake: views, seeds, the reuse of
Experiment 1's jobs, the training rules, settings, files, figures and the config checks."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest import ROOT

from rnnmem.core.settings import schema_defaults, settings_json
from rnnmem.long_memory import plan

# Two traffic splits and DJI; Experiment 3 asks more seeds of Experiment 1's K = 100 job.
SMALL = dict(
    traffic_splits=["paper", "code"],
    experiment1={"datasets": ["traffic", "DJI"], "models": ["rnn", "mrnn"], "seeds": 3},
    experiment2={"models": ["rnn"], "seeds": 2},
    experiment3={"datasets": ["traffic"], "models": ["mrnn"], "K": [25, 100], "seeds": 5},
)


def section(**given) -> dict:
    return schema_defaults("long_memory", **{**SMALL, **given})


def test_views_name_every_job_of_every_experiment_with_its_seeds():
    assert plan.views(section()) == {
        "exp1": {
            "traffic-paper/rnn-K100-H1": 3,
            "traffic-paper/mrnn-K100-H1": 3,
            "traffic-code/rnn-K100-H1": 3,
            "traffic-code/mrnn-K100-H1": 3,
            "DJI-paper/rnn-K100-H1": 3,
            "DJI-paper/mrnn-K100-H1": 3,
        },
        "exp2": {"rnn_generated-paper/rnn-K100-H1": 2},
        "exp3": {
            "traffic-paper/mrnn-K25-H1": 5,
            "traffic-paper/mrnn-K100-H1": 5,
            "traffic-code/mrnn-K25-H1": 5,
            "traffic-code/mrnn-K100-H1": 5,
        },
    }


def test_experiment3_reuses_experiment1_jobs_and_they_train_the_larger_seed_count():
    s = section()
    counts, owners = plan.job_seed_counts(s), plan.job_owners(s)
    for split in ("paper", "code"):
        shared = f"traffic-{split}/mrnn-K100-H1"
        assert owners[shared] == "exp1" and counts[shared] == 5  # exp1 reads its first 3
        assert owners[f"traffic-{split}/mrnn-K25-H1"] == "exp3"
    assert counts["traffic-paper/rnn-K100-H1"] == 3
    jobs = plan.training_jobs(s, "smoke")
    assert sorted(jobs) == sorted(counts)  # each job once, whatever the views sharing it
    assert jobs["traffic-code/mrnn-K100-H1"].seed_files == [
        f"results/long_memory/runs/traffic-code/mrnn-K100-H1/seed{n}.npz" for n in range(5)
    ]


def test_training_rules_group_jobs_by_owner_and_seed_count():
    rules = {r.name: r for r in plan.train_rules(section(seed_base=10))}
    assert {name: r.jobs for name, r in rules.items()} == {
        "train_long_memory_exp1_3seeds": (
            "traffic-paper/rnn-K100-H1",
            "traffic-code/rnn-K100-H1",
            "DJI-paper/rnn-K100-H1",
            "DJI-paper/mrnn-K100-H1",
        ),
        "train_long_memory_exp1_5seeds": (
            "traffic-paper/mrnn-K100-H1",
            "traffic-code/mrnn-K100-H1",
        ),
        "train_long_memory_exp2": ("rnn_generated-paper/rnn-K100-H1",),
        "train_long_memory_exp3": ("traffic-paper/mrnn-K25-H1", "traffic-code/mrnn-K25-H1"),
    }
    five = rules["train_long_memory_exp1_5seeds"]
    assert five.seeds == (10, 11, 12, 13, 14)
    assert five.outputs[0] == "results/long_memory/runs/{job}/seed10.npz" and len(five.outputs) == 5
    # The {job} constraint matches exactly the rule's jobs (ids hold regex characters).
    for rule in rules.values():
        for job in plan.job_seed_counts(section()):
            assert bool(re.fullmatch(rule.job_pattern, job)) == (job in rule.jobs), (rule, job)


def test_one_rule_per_experiment_when_the_seed_counts_agree():
    s = section(experiment3={**SMALL["experiment3"], "seeds": 3})
    assert [r.name for r in plan.train_rules(s)] == [
        "train_long_memory_exp1",
        "train_long_memory_exp2",
        "train_long_memory_exp3",
    ]


def test_without_experiment1_experiment3_trains_its_k100_jobs_itself():
    s = section(experiment1={**SMALL["experiment1"], "enabled": False})
    assert "exp1" not in plan.views(s)
    rule = {r.name: r for r in plan.train_rules(s)}["train_long_memory_exp3"]
    assert "traffic-paper/mrnn-K100-H1" in rule.jobs and rule.seeds == tuple(range(5))


def test_sensitivity_runs_take_experiment1_k_and_their_own_hidden_sizes():
    s = section(sensitivity={"H": [2, 4], "datasets": ["DJI"], "models": ["rnn"], "seeds": 7})
    assert plan.views(s)["sensitivity"] == {"DJI-paper/rnn-K100-H2": 7, "DJI-paper/rnn-K100-H4": 7}
    assert plan.training_jobs(s, "t")["DJI-paper/rnn-K100-H4"].settings["H"] == 4


def test_a_job_settings_are_its_identity_seeds_dtype_tier_and_training():
    job = plan.training_jobs(section(), "smoke")["traffic-code/mrnn-K25-H1"]
    # The exact JSON the rule passes: a change here replans every finished training job.
    assert settings_json(job.settings) == (
        '{"H":1,"K":25,"betas":[0.9,0.999],"checkpoint_every":100,"dataset":"traffic",'
        '"dtype":"float32","eps":1e-08,"lr":0.01,"max_epochs":1000,"min_delta":1e-05,'
        '"model":"mrnn","patience":100,"seeds":[0,1,2,3,4],"snapshot_rule":"authors",'
        '"split":"code","tier":"smoke"}'
    )
    assert (job.id, job.series) == ("traffic-code/mrnn-K25-H1", "resources/long_memory/traffic.csv")
    generated = plan.training_jobs(section(), "smoke")["rnn_generated-paper/rnn-K100-H1"]
    assert generated.series == "results/long_memory/data/rnn_generated.csv"


def test_job_ids_parse_back_and_a_bad_one_is_named():
    assert plan.parse_job_id("rnn_generated-paper/mlstmf-K75-H3") == (
        "rnn_generated",
        "paper",
        "mlstmf",
        75,
        3,
    )
    with pytest.raises(ValueError, match="traffic/rnn"):
        plan.parse_job_id("traffic/rnn")


def test_figures_show_experiment1_and_2_series_and_each_png_has_a_sidecar():
    s = section()
    assert [(f.kind, f.key, f.stem) for f in plan.figures(s)] == [
        ("boxplots", "paper", "exp1_rmse_paper"),
        ("boxplots", "code", "exp1_rmse_code"),
        ("curves", "traffic-paper", "curves_traffic-paper"),
        ("curves", "traffic-code", "curves_traffic-code"),
        ("curves", "DJI-paper", "curves_DJI-paper"),
        ("curves", "rnn_generated-paper", "curves_rnn_generated-paper"),
        ("segments", "traffic-paper", "segment_traffic-paper"),
        ("segments", "traffic-code", "segment_traffic-code"),
        ("segments", "DJI-paper", "segment_DJI-paper"),
        ("segments", "rnn_generated-paper", "segment_rnn_generated-paper"),
    ]
    assert plan.figure_args(s, "boxplots") == (
        "paper=results/long_memory/exp1_rmse_paper.png code=results/long_memory/exp1_rmse_code.png"
    )
    sidecars = plan.figure_sidecars(s)
    assert len(sidecars) == 10 + len(plan.FIXED_FIGURES)
    assert "results/long_memory/exp3_k_sweep.png.provenance.json" in sidecars
    quiet = section(experiment1={"enabled": False}, experiment2={"enabled": False})
    assert [f.kind for f in plan.figures(quiet)] == ["boxplots", "boxplots"]


def test_claims_read_the_runs_of_whichever_part_ran():
    both = section()
    assert plan.claims_options(both) == (
        "--runs results/long_memory/runs.csv --reviews-runs results/long_memory/reviews/runs.csv"
    )
    no_reviews = section(reviews={"enabled": False})
    assert plan.claims_inputs(no_reviews) == {"runs": "results/long_memory/runs.csv"}
    off = {"enabled": False}
    reviews_only = section(experiment1=off, experiment2=off, experiment3=off)
    assert list(plan.claims_inputs(reviews_only)) == ["reviews_runs"]
    assert plan.claims_settings(both)["noise_level"] == 1.0


def test_the_default_tiers_have_no_config_problems():
    assert plan.config_problems(schema_defaults("long_memory")) == []
    assert plan.config_problems(section()) == []


def test_a_generated_series_that_does_not_fit_experiment2_split_is_named():
    generator = {"length": 3001}
    problems = plan.config_problems(section(experiment2={"generator": generator}))
    assert len(problems) == 1
    assert problems[0].startswith("config key long_memory.experiment2.generator.length=3001")
    assert "4001" in problems[0] and "2000/1200/800" in problems[0]
    # Without Experiment 2 nothing reads the generated series.
    off = section(experiment2={"enabled": False, "generator": generator})
    assert plan.config_problems(off) == []


def test_the_plan_imports_no_torch_numba_or_matplotlib():
    # The workflow imports it while parsing: it must stay light.
    code = (
        "import sys, rnnmem.long_memory.plan; "
        "print(sorted({'torch', 'numba', 'matplotlib'} & set(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
