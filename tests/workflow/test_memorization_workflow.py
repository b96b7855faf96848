"""The memorization workflow, run for real with Snakemake: dry runs, smoke run, reruns,
bytes, bad input.

One smoke run in a fresh copy of the repository is shared by most tests (module fixture);
a second fresh copy checks that the whole run reproduces byte for byte. The run is the
smoke tier with the other studies disabled (tests/workflow has their own workflow tests),
so it needs no network and takes a few minutes.
"""

import json
import os
import re
import shutil

import pandas as pd
import pytest
import yaml
from conftest import ROOT, copy_repo, planned_jobs, snakemake, tree_hashes

from rnnmem.core.provenance import read_record
from rnnmem.core.settings import validate
from rnnmem.memorization import plan
from rnnmem.memorization.figure_list import FIGURES

pytestmark = pytest.mark.workflow

TIER = "config/test-memorization.yaml"  # the smoke tier, memorization only (written below)
OTHER_STUDIES = ("forgetting", "long_memory")


def smoke_config() -> dict:
    config = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())
    for study in OTHER_STUDIES:
        if study in config:
            config[study]["enabled"] = False
    return config


def prepare(work):
    """A fresh copy's memorization-only smoke tier."""
    (work / TIER).write_text(yaml.safe_dump(smoke_config()))
    return work


def run_smoke(work):
    snakemake(work, "--configfile", TIER, "--cores", "2", "--resources", "gpu=0")


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    work = prepare(copy_repo(tmp_path_factory.mktemp("smoke_a")))
    run_smoke(work)
    return work


def write_config(work, name, edit):
    config = yaml.safe_load((work / TIER).read_text())
    edit(config)
    path = work / "config" / name
    path.write_text(yaml.safe_dump(config))
    return f"config/{name}"


# -------------------------------------------------------------------------- dry runs
@pytest.mark.parametrize("tier", ["config.yaml", "smoke.yaml", "paper.yaml"])
def test_every_tier_plans(tmp_path, tier):
    work = copy_repo(tmp_path)
    jobs = planned_jobs(work, "--configfile", f"config/{tier}")
    config = yaml.safe_load((ROOT / "config" / tier).read_text())
    for name, exp in config["memorization"]["experiments"].items():
        n = len(exp["cells"]) * len(exp["layers"]) * len(exp["units"])
        assert jobs[f"train_memorization_{name}"] == n
        assert jobs[f"probe_memorization_{name}"] == n
    assert jobs["figures_memorization"] == jobs["claims_memorization"] == 1


# ------------------------------------------------------------------------- smoke run
def test_smoke_tier_writes_every_figure_and_claim(smoke):
    out = smoke / "results/memorization"
    for n in (4, 5, 6, 7, 8, 9):
        pngs = list(out.glob(f"fig{n}*.png"))
        assert pngs, f"no fig{n} PNG"
        assert all(p.with_suffix(".pdf").exists() for p in pngs)
    claims = pd.read_csv(out / "claims.csv")
    assert set(claims["verdict"]) <= {"holds", "partly", "fails", "inconclusive"}
    assert len(claims) >= 11 and (claims["tier"] == "smoke").all()
    assert "smoke" in (out / "claims.md").read_text()
    runs = pd.read_csv(out / "runs.csv")
    assert (runs["final_loss"] <= 0.5).all()
    assert set(runs["device"]) == {"cpu"}
    # every table's provenance sidecar is a declared output, so it is there
    for table in (
        "runs", "curves", "summary", "capacity", "capacity_curves", "esn", "esn_task", "claims"
    ):  # fmt: skip
        assert (out / f"{table}.csv.provenance.json").exists(), table


def test_compare_sets_fig6_and_the_text_beside_the_runs(smoke):
    out = smoke / "results/memorization"
    table = pd.read_csv(out / "comparison.csv", keep_default_na=False, na_values=[""])
    assert set(table["table"]) == {"Fig. 6", "Fig. 6 learned", "Text"}
    assert set(table["verdict"]) <= {"agrees", "differs", "not run"}
    fig6 = table[table["table"] == "Fig. 6"].set_index("cell")
    # the smoke grid: l in {1, 2}, c = 2, p in {1, 2}, every one annotated in the paper
    ran = fig6[fig6["verdict"] != "not run"]
    assert sorted(ran.index) == ["l=1, c=2, p=1", "l=1, c=2, p=2", "l=2, c=2, p=1", "l=2, c=2, p=2"]
    assert (ran["seeds"] == 2).all() and ran["reproduced"].notna().all()
    missing = fig6.loc["l=1, c=1, p=1"]  # outside the smoke grid: not run, never a zero
    assert missing["verdict"] == "not run" and pd.isna(missing["reproduced"])
    assert "20 epochs (the paper: 5000)" in " ".join(ran["note"])
    text = table[table["table"] == "Text"]
    assert (text["verdict"] != "not run").any() and text["cell"].str.contains("l=2, c=2").any()
    page = (out / "comparison.md").read_text()
    assert page.startswith("# Published beside reproduced") and "not compared" in page
    for stem in ("compare_fig6", "compare_fig6_grid", "compare_text"):
        assert (out / f"{stem}.pdf").exists() and (out / f"{stem}.png.provenance.json").exists()
    assert read_record(out / "comparison.csv")["jobs"]


def planned_records() -> dict[str, list[str]]:
    """The job records the smoke tier's outputs must hold, by kind (as sorted JSON)."""
    mem = validate(smoke_config()["memorization"], "memorization", prefix="memorization")
    records = {"train": [], "probe": []}
    for job in plan.jobs(mem):
        identity = {"experiment": job.experiment, **job.wildcards}
        wild = {k: str(v) for k, v in job.wildcards.items()}
        for kind in records:
            settings = getattr(plan, f"{kind}_settings")(mem, job.experiment, wild)
            command = f"{kind}-memorization"
            records[kind].append({"command": command, **identity, **settings})
    records["esn"] = [{"command": "esn-capacity", **plan.esn_settings(mem)}]
    return {kind: sorted(json.dumps(r, sort_keys=True) for r in rs) for kind, rs in records.items()}


def test_every_output_records_the_full_settings_of_the_jobs_behind_it(smoke):
    out, expected = smoke / "results/memorization", planned_records()

    def jobs(name):
        return sorted(json.dumps(r, sort_keys=True) for r in read_record(out / name)["jobs"])

    for table in ("runs", "curves", "summary"):
        assert jobs(f"{table}.csv") == expected["train"], table
    for table in ("capacity", "capacity_curves"):
        assert jobs(f"{table}.csv") == expected["probe"], table
    for table in ("esn", "esn_task"):
        assert [json.dumps(read_record(out / f"{table}.csv")["config"], sort_keys=True)] == (
            expected["esn"]
        )
    probes = sorted((out / "capacity").rglob("*_curves.csv"))
    assert len(probes) == len(expected["probe"])
    for curves in probes:  # each probe's curves share its table's record
        assert read_record(curves) == read_record(str(curves).replace("_curves.csv", ".csv"))
    everything = sorted(expected["train"] + expected["probe"] + expected["esn"])
    for name in ["claims.csv", *(f"{stem}.png" for stem in FIGURES)]:
        assert jobs(name) == everything, name


def test_rerun_has_nothing_to_do(smoke):
    assert planned_jobs(smoke, "--configfile", TIER) == {}


def test_whole_tier_is_byte_identical_in_a_fresh_folder(smoke, tmp_path):
    fresh = prepare(copy_repo(tmp_path))
    run_smoke(fresh)
    first, second = tree_hashes(smoke / "results"), tree_hashes(fresh / "results")
    assert first.keys() == second.keys()
    differ = [name for name in first if first[name] != second[name]]
    assert not differ, f"files differ between two fresh runs: {differ}"
    assert any(name.endswith(".png") for name in first)
    assert any(name.endswith(".pdf") for name in first)


# ----------------------------------------------------------------- precise reruns
MEM_DOWNSTREAM = {
    "aggregate_memorization": 1,
    "figures_memorization": 1,
    "claims_memorization": 1,
    "compare_memorization": 1,
    "claims_summary": 1,
    "reproduction_report": 1,
    "all": 1,
}


def test_one_configuration_parameter_reruns_only_its_jobs(smoke):
    def edit(c):
        c["memorization"]["overrides"] = [
            dict(experiment="fig6", cell="rnn", layers=2, units=2, lr=0.05)
        ]

    jobs = planned_jobs(smoke, "--configfile", write_config(smoke, "one_config.yaml", edit))
    assert jobs == {"train_memorization_fig6": 1, "probe_memorization_fig6": 1, **MEM_DOWNSTREAM}


def test_study_wide_setting_reruns_that_study_only(smoke):
    def edit(c):
        c["memorization"]["experiments"]["fig8"]["epochs"] = 21

    jobs = planned_jobs(smoke, "--configfile", write_config(smoke, "epochs.yaml", edit))
    n8 = len(smoke_config()["memorization"]["experiments"]["fig8"]["cells"])
    assert jobs == {"train_memorization_fig8": n8, "probe_memorization_fig8": n8, **MEM_DOWNSTREAM}

    def lr_everywhere(c):
        c["memorization"]["lr"] = 0.02

    jobs = planned_jobs(smoke, "--configfile", write_config(smoke, "lr.yaml", lr_everywhere))
    assert not any("forgetting" in rule for rule in jobs), jobs
    assert jobs["train_memorization_fig6"] >= 1


LEAF_STAGES = ("memorization/figures", "memorization/heatmaps", "memorization/claims_heatmaps")


@pytest.mark.parametrize(
    "module,expected",
    [
        ("memorization/capacity", {"probe_memorization", "esn_capacity"}),
        ("core/ensemble", {"train_memorization", "probe_memorization"}),
        ("core/bptt", {"train_memorization"}),
        ("memorization/readout", {"train_memorization"}),
        ("core/plotting", {"figures_memorization", "compare_memorization"}),
        ("memorization/compare", {"compare_memorization"}),
        ("memorization/figures", {"figures_memorization"}),
        ("memorization/heatmaps", {"figures_memorization"}),
        ("memorization/claims_heatmaps", {"claims_memorization"}),
        ("memorization/plan", set()),  # planning code: no job runs it
    ],
)
def test_code_change_reruns_the_rules_that_run_it(smoke, module, expected):
    path = smoke / "rnnmem" / f"{module}.py"
    original = path.read_text()
    try:
        path.write_text(original + "\n# an edit\n")
        jobs = planned_jobs(smoke, "--configfile", TIER)
    finally:
        path.write_text(original)
    rerun = {re.sub(r"_(fig\d|torch|keras22)$", "", rule) for rule in jobs} - {"all"}
    rerun -= {"claims_summary", "reproduction_report"}  # downstream of claims and compare
    assert expected <= rerun, jobs
    if module == "memorization/capacity":
        assert not any(rule.startswith("train_") for rule in jobs)
    if module in ("core/bptt", "memorization/readout"):  # training code: not the ESN
        assert "esn_capacity" not in rerun, jobs
    if module == "core/plotting":  # styling: figure rules only (of every enabled study)
        assert all(rule.startswith(("figures_", "compare_")) for rule in rerun), jobs
    if (
        module in LEAF_STAGES or module == "memorization/compare" or not expected
    ):  # a figures or claims module: that rule only
        assert rerun == expected, jobs


# ------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "edit,named",
    [
        (lambda c: c["memorization"].update(learning_rate=0.1), "learning_rate"),
        (lambda c: c["memorization"]["experiments"]["fig6"].update(seeds="three"), "seeds"),
        (lambda c: c["memorization"].update(lr=-1.0), "lr"),
        (lambda c: c.update(colour="blue"), "colour"),
        (
            lambda c: c["memorization"]["experiments"]["fig9"].update(positions=[1, 11]),
            "memorization.experiments.fig9.positions",
        ),
        (
            lambda c: c["memorization"].update(overrides=[{"experiment": "fig44", "lr": 0.1}]),
            "memorization.overrides[0].experiment: 'fig44'",
        ),
        (
            lambda c: c["memorization"].update(
                overrides=[{"experiment": "fig6", "lr": 0.1}, {"experiment": "fig6", "layers": 7}]
            ),
            "memorization.overrides[1].layers: 7",
        ),
    ],
    ids=[
        "unknown-key",
        "wrong-type",
        "out-of-range",
        "unknown-top-key",
        "impossible-grid",
        "override-unknown-experiment",
        "override-matches-no-job",
    ],
)
def test_bad_config_is_named_and_loses_nothing(smoke, edit, named):
    before = tree_hashes(smoke / "results")
    bad = write_config(smoke, "bad.yaml", edit)
    out = snakemake(smoke, "--configfile", bad, "--cores", "2", check=False)
    assert out.returncode != 0
    assert named in out.stdout + out.stderr
    assert "Building DAG of jobs" not in out.stdout + out.stderr  # stopped while parsing
    assert tree_hashes(smoke / "results") == before


def test_corrupt_intermediate_file_fails_cleanly(smoke, tmp_path):
    work = prepare(copy_repo(tmp_path))
    shutil.copytree(smoke / "results", work / "results")
    shutil.copytree(
        smoke / ".snakemake", work / ".snakemake", ignore=shutil.ignore_patterns("log", "locks")
    )
    seed = next((work / "results/memorization/runs/fig6").rglob("seed0.npz"))
    seed.write_bytes(seed.read_bytes()[:100])  # truncated
    os.utime(seed)
    before = tree_hashes(work / "results/forgetting")
    out = snakemake(
        work,
        "--configfile",
        TIER,
        "--cores",
        "2",
        "--resources",
        "gpu=0",
        "--until",
        "aggregate_memorization",
        "--show-failed-logs",
        check=False,
    )
    text = out.stdout + out.stderr
    assert out.returncode != 0
    assert "corrupt or truncated" in text and seed.name in text
    # the job that read it failed and left no output that looks complete
    probe_out = work / "results/memorization/capacity/fig6" / f"{seed.parent.name}.csv"
    assert not probe_out.exists()
    assert tree_hashes(work / "results/forgetting") == before  # other results kept


# ---------------------------------------------------------------------------- report
def test_report_holds_every_figure_with_captions(smoke):
    snakemake(smoke, "--configfile", TIER, "--report", "results/report.html")
    html = (smoke / "results/report.html").read_text(errors="replace")
    for stem in ("fig4_rnn_learning_curves", "fig6_rnn_mean_loss", "fig9_rnn_fixed_length"):
        assert stem in html
    assert "smoke" in html
