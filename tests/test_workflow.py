"""The workflow, run for real with Snakemake: dry runs, smoke run, reruns, bytes, bad input.

One smoke run in a fresh copy of the repository is shared by most tests (module fixture);
a second fresh copy checks that the whole tier reproduces byte for byte.
"""

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

pytestmark = pytest.mark.workflow

ROOT = Path(__file__).resolve().parent.parent
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")


def copy_repo(dest: Path) -> Path:
    """The checkout's tracked and untracked-but-not-ignored files (what a clone would hold)."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        src = ROOT / name
        if src.is_symlink():  # e.g. profiles -> workflow/profiles
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            (dest / name).symlink_to(os.readlink(src))
        elif src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


def snakemake(workdir, *args, check=True):
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    out = subprocess.run([SNAKEMAKE, *args], cwd=workdir, capture_output=True, text=True, env=env)
    if check and out.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{out.stdout[-4000:]}\n{out.stderr[-4000:]}")
    return out


def planned_jobs(workdir, *args) -> dict[str, int]:
    """Jobs a dry run would execute, by rule (empty when nothing is to be done)."""
    out = snakemake(workdir, "-n", "--cores", "2", *args)
    text = out.stdout + out.stderr
    if "Nothing to be done" in text:
        return {}
    stats = text.split("Job stats:")[1]
    jobs = {}
    for line in stats.splitlines()[3:]:
        parts = line.split()
        if len(parts) != 2 or parts[0] == "total":
            break
        jobs[parts[0]] = int(parts[1])
    return jobs


def tree_hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    work = copy_repo(tmp_path_factory.mktemp("smoke_a"))
    snakemake(work, "--configfile", "config/smoke.yaml", "--cores", "2", "--resources", "gpu=0")
    return work


def write_config(work, name, edit):
    config = yaml.safe_load((work / "config/smoke.yaml").read_text())
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


def test_rerun_has_nothing_to_do(smoke):
    assert planned_jobs(smoke, "--configfile", "config/smoke.yaml") == {}


def test_whole_tier_is_byte_identical_in_a_fresh_folder(smoke, tmp_path):
    fresh = copy_repo(tmp_path)
    snakemake(fresh, "--configfile", "config/smoke.yaml", "--cores", "2", "--resources", "gpu=0")
    first, second = tree_hashes(smoke / "results"), tree_hashes(fresh / "results")
    assert first.keys() == second.keys()
    differ = [name for name in first if first[name] != second[name]]
    assert not differ, f"files differ between two fresh runs: {differ}"
    assert any(name.endswith(".png") for name in first) and any(name.endswith(".pdf") for name in first)


# ----------------------------------------------------------------- precise reruns
MEM_DOWNSTREAM = {"aggregate_memorization": 1, "figures_memorization": 1, "claims_memorization": 1,
                  "claims_summary": 1, "all": 1}


def test_one_configuration_parameter_reruns_only_its_jobs(smoke):
    def edit(c):
        c["memorization"]["overrides"] = [dict(experiment="fig6", cell="rnn", layers=2, units=2, lr=0.05)]

    jobs = planned_jobs(smoke, "--configfile", write_config(smoke, "one_config.yaml", edit))
    assert jobs == {"train_memorization_fig6": 1, "probe_memorization_fig6": 1, **MEM_DOWNSTREAM}


def test_study_wide_setting_reruns_that_study_only(smoke):
    def edit(c):
        c["memorization"]["experiments"]["fig8"]["epochs"] = 21

    jobs = planned_jobs(smoke, "--configfile", write_config(smoke, "epochs.yaml", edit))
    n8 = len(yaml.safe_load((smoke / "config/smoke.yaml").read_text())["memorization"]["experiments"]["fig8"]["cells"])
    assert jobs == {"train_memorization_fig8": n8, "probe_memorization_fig8": n8, **MEM_DOWNSTREAM}

    def lr_everywhere(c):
        c["memorization"]["lr"] = 0.02

    jobs = planned_jobs(smoke, "--configfile", write_config(smoke, "lr.yaml", lr_everywhere))
    assert not any("forgetting" in rule for rule in jobs), jobs
    assert jobs["train_memorization_fig6"] >= 1


@pytest.mark.parametrize(
    "module,expected",
    [
        ("memory_capacity", {"probe_memorization", "esn_capacity"}),
        ("ensemble", {"train_memorization", "probe_memorization"}),
        ("plotting", {"figures_memorization", "figures_forgetting"}),
        ("memorization_figures", {"figures_memorization"}),
    ],
)
def test_code_change_reruns_the_rules_that_run_it(smoke, module, expected):
    path = smoke / "rnnmem" / f"{module}.py"
    original = path.read_text()
    try:
        path.write_text(original + "\n# an edit\n")
        jobs = planned_jobs(smoke, "--configfile", "config/smoke.yaml")
    finally:
        path.write_text(original)
    rerun = {re.sub(r"_(fig\d|torch|keras22)$", "", rule) for rule in jobs} - {"all"}
    assert expected <= rerun, jobs
    if module == "memory_capacity":
        assert not any(rule.startswith("train_") for rule in jobs)
    if module in ("plotting", "memorization_figures"):  # styling: figures only
        assert rerun == expected, jobs


# ------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "edit,named",
    [
        (lambda c: c["memorization"].update(learning_rate=0.1), "learning_rate"),
        (lambda c: c["memorization"]["experiments"]["fig6"].update(seeds="three"), "seeds"),
        (lambda c: c["memorization"].update(lr=-1.0), "lr"),
        (lambda c: c.update(colour="blue"), "colour"),
        (lambda c: c["memorization"]["experiments"]["fig9"].update(positions=[1, 11]),
         "memorization.experiments.fig9.positions"),
    ],
    ids=["unknown-key", "wrong-type", "out-of-range", "unknown-top-key", "impossible-grid"],
)
def test_bad_config_is_named_and_loses_nothing(smoke, edit, named):
    before = tree_hashes(smoke / "results")
    out = snakemake(smoke, "--configfile", write_config(smoke, "bad.yaml", edit), "--cores", "2",
                    check=False)
    assert out.returncode != 0
    assert named in out.stdout + out.stderr
    assert tree_hashes(smoke / "results") == before


def test_corrupt_intermediate_file_fails_cleanly(smoke, tmp_path):
    work = copy_repo(tmp_path)
    shutil.copytree(smoke / "results", work / "results")
    shutil.copytree(smoke / ".snakemake", work / ".snakemake", ignore=shutil.ignore_patterns("log", "locks"))
    seed = next((work / "results/memorization/runs/fig6").rglob("seed0.npz"))
    seed.write_bytes(seed.read_bytes()[:100])  # truncated
    os.utime(seed)
    before = tree_hashes(work / "results/forgetting")
    out = snakemake(work, "--configfile", "config/smoke.yaml", "--cores", "2", "--resources", "gpu=0",
                    "--until", "aggregate_memorization", "--show-failed-logs", check=False)
    text = out.stdout + out.stderr
    assert out.returncode != 0
    assert "corrupt or truncated" in text and seed.name in text
    # the job that read it failed and left no output that looks complete
    probe_out = work / "results/memorization/capacity/fig6" / f"{seed.parent.name}.csv"
    assert not probe_out.exists()
    assert tree_hashes(work / "results/forgetting") == before  # other results kept


# ---------------------------------------------------------------------------- report
def test_report_holds_every_figure_with_captions(smoke):
    snakemake(smoke, "--configfile", "config/smoke.yaml", "--report", "results/report.html")
    html = (smoke / "results/report.html").read_text(errors="replace")
    for stem in ("fig4_rnn_learning_curves", "fig6_rnn_mean_loss", "fig9_rnn_fixed_length"):
        assert stem in html
    assert "smoke" in html
