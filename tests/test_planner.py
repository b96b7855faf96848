"""The cost planner (`python -m rnnmem plan`): its jobs are the workflow's, its schedule, its
output, and its estimate of a real job against the job's measured time."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from conftest import ROOT, copy_repo, snakemake

from rnnmem import planner
from rnnmem.core.costs import CONSTANT, CostModel, PlannedJob, lpt_wall, records_source
from rnnmem.core.settings import schema_defaults, settings_json
from rnnmem.forgetting import plan as forget_plan
from rnnmem.long_memory import plan as lm_plan
from rnnmem.memorization import plan as mem_plan
from rnnmem.memorization.cost import WORK_UNIT, train_family, train_work
from rnnmem.memorization.job import TrainJob
from rnnmem.memorization.train import main as train_main
from rnnmem.memorization.train import train
from rnnmem.planned_jobs import planned_jobs, records


def rule_counts(config: dict) -> Counter:
    return Counter(job.rule for jobs in planned_jobs(config).values() for job in jobs)


@pytest.mark.parametrize("tier", ["smoke", "config", "paper"])
def test_training_jobs_per_rule_are_the_plans(tier):
    config = planner.load_config([str(ROOT / f"config/{tier}.yaml")])
    counts = rule_counts(config)
    mem, forget, lm = (config[s] for s in ("memorization", "forgetting", "long_memory"))
    for name in mem["experiments"]:
        n = len(mem_plan.jobs(mem, name))
        assert counts[f"train_memorization_{name}"] == counts[f"probe_memorization_{name}"] == n
    for variant in forget["variants"]:
        assert counts[f"simulate_forgetting_{variant}"] == len(forget_plan.jobs(forget))
    for rule in lm_plan.train_rules(lm):
        assert counts[rule.name] == len(rule.jobs)
    assert counts["train_reviews"] == len(lm_plan.review_jobs(lm))


def _dry_run(tmp_path: Path, tier: str) -> tuple[Counter, list[str]]:
    """A Snakemake dry run of the tier in a copy of the checkout: jobs by rule, and the JSON
    log record each job's command writes (--device-record / --device-log)."""
    work = copy_repo(tmp_path / "repo")
    out = snakemake(work, "-n", "-p", "--cores", "2", "--configfile", f"config/{tier}.yaml")
    text = out.stdout + out.stderr
    table = text[text.index("job ") : text.index("total")]
    counts = Counter(
        {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M) if m[1] != "all"}
    )
    paths = re.findall(r"--device-(?:record|log) (\S+)", text)
    return counts, paths


def test_smoke_tier_plans_the_jobs_and_records_of_a_snakemake_dry_run(tmp_path):
    counts, paths = _dry_run(tmp_path, "smoke")
    config = planner.load_config([str(ROOT / "config/smoke.yaml")])
    assert rule_counts(config) == counts
    # every record a job writes maps to the cost family the plan gives that kind of job
    root = tmp_path / "run"
    for path in set(paths):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text("{}")
    found = Counter(family for family, _ in records(root))
    jobs = [job for part in planned_jobs(config).values() for job in part]
    planned = Counter(job.family for job in jobs if job.unit != CONSTANT)  # those with work
    assert found == planned and sum(found.values()) == len(set(paths))


def test_json_plan_parses_and_adds_up(tmp_path, capsys):
    rc = planner.main(
        ["--configfile", str(ROOT / "config/smoke.yaml"), "--cores", "3", "--json"]
        + ["--directory", str(tmp_path), "--calibration", str(tmp_path / "none.json")]
    )
    assert rc == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["tier"] == "smoke" and plan["cores"] == 3
    studies = plan["studies"]
    assert set(studies) == {"memorization", "forgetting", "long_memory", "report"}
    assert plan["total"]["jobs"] == sum(s["jobs"] for s in studies.values()) == 75
    for part in studies.values():
        assert part["jobs"] == sum(r["jobs"] for r in part["rules"])
        assert part["wall_s"] >= part["longest_s"] and part["wall_s"] >= 0
        assert part["core_hours"] == pytest.approx(sum(r["core_hours"] for r in part["rules"]))
    total = plan["total"]
    assert total["wall_s"] >= total["core_hours"] * 3600 / 3 - 1e-6
    assert [s["kind"] for s in plan["sources"]][:2] == ["records", "defaults"]


def test_text_plan_has_a_table_per_study_and_the_wall_time(capsys):
    assert planner.main(["--configfile", str(ROOT / "config/smoke.yaml"), "--cores", "2"]) == 0
    text = capsys.readouterr().out
    assert "rnnmem plan: tier smoke" in text and "defaults:" in text
    for study in ("memorization", "forgetting", "long_memory", "report"):
        assert f"\n{study}\n" in text
    assert re.search(r"all studies: 75 jobs, [\d.]+ core-hours, .* wall on 2 cores: \d+:", text)


def test_unknown_configfile_is_named(capsys):
    assert planner.main(["--configfile", "config/no-such-tier.yaml"]) == 2
    assert "config/no-such-tier.yaml" in capsys.readouterr().err


def test_bad_config_key_is_named(tmp_path, capsys):
    tier = tmp_path / "tier.yaml"
    text = (ROOT / "config/smoke.yaml").read_text().replace("  runs: 2", "  runs: -1")
    tier.write_text(text)
    assert planner.main(["--configfile", str(tier)]) == 2
    assert "forgetting.runs" in capsys.readouterr().err


def _train_settings(epochs: int) -> dict:
    section = schema_defaults("memorization")
    settings = {k: section[k] for k in mem_plan.TRAINING_KEYS + mem_plan.SHARED_KEYS}
    return {**settings, "epochs": epochs, "seeds": 2, "positions": [1, 2, 3, 4, 5]}


IDENTITY = dict(experiment="costs", cell="rnn", task="variable", layers=1, units=5)


def _measured_train(tmp_path: Path, epochs: int) -> Path:
    """Run train-memorization (its own main, this process) and return its device record,
    at the path the workflow gives it (logs/memorization/train_<experiment>/<job>.device.json)."""
    out = tmp_path / f"e{epochs}"
    record = tmp_path / f"logs/memorization/train_{epochs}/rnn-variable-l1-c5.device.json"
    record.parent.mkdir(parents=True, exist_ok=True)
    argv = [f"--{k}={v}" for k, v in IDENTITY.items()]
    argv += ["--settings", settings_json(_train_settings(epochs)), "--tier", "test"]
    argv += ["--device-record", str(record), "--out", str(out / "s0.npz"), str(out / "s1.npz")]
    assert train_main(argv) == 0
    shutil.rmtree(out)
    return record


def test_estimate_of_a_job_with_twice_the_epochs_against_its_measured_time(tmp_path):
    """Calibrate on one measured job, predict a job of twice the epochs, run it. Timings on
    a shared machine are noisy: each job takes at least about a second and the estimate
    need only lie within a factor of 2 of the measurement."""
    train(TrainJob.of(IDENTITY, _train_settings(1)), log=lambda _: None)  # compile the kernels
    first = _measured_train(tmp_path, 300)
    family = train_family("rnn")
    model = CostModel([records_source(records(tmp_path), {family: "flop"}, "t")])
    assert model.lookup(family, WORK_UNIT)[0].n == 1
    work = train_work(TrainJob.of(IDENTITY, _train_settings(600)))
    planned = PlannedJob("train_memorization_costs", "rnn-variable-l1-c5", family)
    predicted = model.seconds(
        PlannedJob(planned.rule, planned.name, planned.family, work, WORK_UNIT)
    )
    second = json.loads(_measured_train(tmp_path, 600).read_text())
    assert json.loads(first.read_text())["seconds"] >= 0.5  # long enough to time
    assert second["work"] == pytest.approx(work)
    assert 0.5 <= predicted / second["seconds"] <= 2.0, (predicted, second["seconds"])
    # and the schedule of the two on one core is their sum
    assert lpt_wall([(predicted, 1), (predicted / 2, 1)], 1) == pytest.approx(1.5 * predicted)
