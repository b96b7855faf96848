"""`--config` overrides work on top of any tier, as Snakemake users expect (dry runs)."""

import pytest
from conftest import copy_repo, planned_jobs, snakemake

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return copy_repo(tmp_path_factory.mktemp("overrides") / "repo")


def test_an_override_on_the_default_tier_keeps_the_tier(work):
    # Before: any --config made the Snakefile skip config/config.yaml ("'tier' is a required
    # property"). The default tier stays, and only the override changes.
    default = planned_jobs(work)
    jobs = planned_jobs(work, "--config", 'forgetting={"enabled": false}')
    assert "simulate_forgetting_torch" in default and default["simulate_forgetting_torch"] > 0
    assert not any("forgetting" in rule for rule in jobs)
    assert {r: n for r, n in default.items() if "forgetting" not in r and r != "all"} == {
        r: n for r, n in jobs.items() if r != "all"
    }


def test_an_override_on_a_tier_file_is_merged_into_it(work):
    smoke = planned_jobs(work, "--configfile", "config/smoke.yaml")
    jobs = planned_jobs(
        work,
        "--configfile",
        "config/smoke.yaml",
        "--config",
        'long_memory={"experiment1": {"seeds": 3, "datasets": ["traffic"]}}',
    )
    assert jobs["train_long_memory_exp1"] == smoke["train_long_memory_exp1"]  # same jobs
    out = snakemake(
        work,
        "-n",
        "--configfile",
        "config/smoke.yaml",
        "--config",
        'long_memory={"experiment1": {"seeds": 3}}',
        "--printshellcmds",
    )
    assert '"seeds":[0,1,2]' in out.stdout  # the override reached the jobs' settings


def test_a_bad_override_names_the_full_key_path(work):
    out = snakemake(work, "-n", "--config", 'memorization={"lr": -1}', check=False)
    assert out.returncode != 0
    assert "config key memorization.lr" in out.stdout + out.stderr


def test_an_override_that_breaks_a_cross_key_check_is_named(work):
    # long_memory.reviews.split_sizes must add up to the kept reviews; the check runs while
    # the workflow is read (rnnmem/long_memory/plan.py), so an override is caught too.
    out = snakemake(
        work,
        "-n",
        "--config",
        'long_memory={"reviews": {"split_sizes": [100, 50, 50]}}',
        check=False,
    )
    assert out.returncode != 0
    assert "config key long_memory.reviews.split_sizes=[100, 50, 50]" in out.stdout + out.stderr
