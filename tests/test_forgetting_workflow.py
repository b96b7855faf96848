"""Workflow tests of the forgetting-time rules: real Snakemake runs in a copy of the repository.

One module-scoped smoke run (both variants, tiny grid) feeds the checks: outputs present and
tier-stamped, byte-identical rerun, params-precise and code-precise reruns (dry runs), and
clean errors on bad config that name the key.
"""

from __future__ import annotations

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

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TARGETS = [f"{step}_forgetting_{v}" for v in ("torch", "keras22") for step in ("figures", "claims")]
IGNORE = shutil.ignore_patterns(".git", ".venv", ".snakemake", "results", "logs", "__pycache__", ".pytest_cache")

# A grid small enough for seconds, large enough for two values along each axis.
TEST_FORGETTING = {
    "variants": ["torch", "keras22"],
    "cells": ["LSTM", "GRU"],
    "n_in": [1, 2],
    "units": [1, 2],
    "runs": 2,
    "steps": 2500,
    "prefix": 500,
    "figures": {"decay_n_in": 2, "decay_units": [1, 2]},
    "claims": {"bootstrap": 100},
}


def snakemake(workdir: Path, *args, config: dict | None = None, check=True):
    """Run snakemake in `workdir` on the smoke config plus `config` (merged on top)."""
    extra = workdir / "test-forgetting.yaml"
    merged = {"forgetting": {**TEST_FORGETTING, **(config or {})}}
    extra.write_text(yaml.safe_dump(merged))
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = [str(BIN / "snakemake"), *args, "--cores", "2", "--resources", "gpu=0",
           "--configfile", "config/smoke.yaml", str(extra)]
    out = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=600)
    if check and out.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return out


def planned_jobs(workdir: Path, config: dict | None = None) -> dict[str, int]:
    """Dry run: {rule: job count} Snakemake would run now."""
    out = snakemake(workdir, "-n", *TARGETS, config=config)
    counts, in_table = {}, False
    for line in (out.stdout + out.stderr).splitlines():
        if line.startswith("job") and "count" in line:
            in_table = True
            continue
        if in_table:
            match = re.match(r"^(\S+)\s+(\d+)$", line.strip())
            if match and match.group(1) != "total":
                counts[match.group(1)] = int(match.group(2))
            elif line.strip().startswith("total"):
                break
    return counts


def digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    work = tmp_path_factory.mktemp("forgetting") / "repo"
    shutil.copytree(ROOT, work, ignore=IGNORE)
    snakemake(work, *TARGETS)
    return work


def test_smoke_run_writes_every_output(workdir):
    out = workdir / "results" / "forgetting"
    for folder in (out, out / "keras22"):
        for name in ("runs.csv", "summary.csv", "claims.csv", "claims.md", "decay.png", "decay.pdf",
                     "heatmap_K_exact.png", "heatmap_K_tol_1e-06.pdf", "heatmap_F_tol_1e-04.png"):
            assert (folder / name).stat().st_size > 0, folder / name
        assert len(list((folder / "runs").rglob("run*.npz"))) == 2 * 2 * 2 * 2  # one file per run
        runs = pd.read_csv(folder / "runs.csv")
        assert len(runs) == 16 and set(runs["device"]) == {"cpu"}
        assert set(runs["flush_denormal"]) == {False} and set(runs["torch_threads"]) == {1}
        assert (runs["K_exact"] <= runs["S"]).all()
        summary = pd.read_csv(folder / "summary.csv")
        assert len(summary) == 8 and "K_exact_n_censored" in summary
        md = (folder / "claims.md").read_text()
        assert "Tier: **smoke**" in md and "L1/K_exact" in md and "G2/F_tol_1e-04" in md
    assert set(pd.read_csv(out / "keras22" / "runs.csv")["variant"]) == {"keras22"}
    # the job's device record and runtimes go to the logs, not to the results
    logs = workdir / "logs" / "forgetting" / "simulate"
    assert (logs / "GRU-in2-u2.device.json").exists() and (logs / "GRU-in2-u2.runtime.json").exists()


def test_results_hold_no_machine_specific_text(workdir):
    for path in (workdir / "results" / "forgetting").rglob("*"):
        if path.is_file() and path.suffix in (".csv", ".json", ".md"):
            text = path.read_text()
            assert str(workdir) not in text and str(Path.home()) not in text, path


def test_rerun_is_byte_identical(workdir):
    """Delete the primary variant's outputs (every torch job reruns) and compare sha256.

    keras22 reruns are covered by the unit tests' determinism checks (kept out here for time).
    """
    out = workdir / "results" / "forgetting"
    before = digests(out)
    for path in out.iterdir():
        if path.name != "keras22":
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    assert planned_jobs(workdir).get("simulate_forgetting_torch") == 8
    snakemake(workdir, *TARGETS)
    after = digests(out)
    assert before.keys() == after.keys() and len(before) > 40
    assert before == after, sorted(k for k in before if before[k] != after.get(k))


@pytest.mark.parametrize(
    "change,expected",
    [
        ({}, {}),
        ({"claims": {"bootstrap": 120}}, {"claims_forgetting_torch": 1, "claims_forgetting_keras22": 1}),
        ({"figures": {"decay_n_in": 1, "decay_units": [1, 2]}},
         {"figures_forgetting_torch": 1, "figures_forgetting_keras22": 1}),
        ({"flush_denormal": True}, "all"),
        ({"chunk": 256}, "all"),
        ({"eps": [1.0e-3, 1.0e-4, 1.0e-6]}, "all"),
    ],
    ids=["nothing", "bootstrap", "decay-plot", "flush-denormal", "chunk", "eps"],
)
def test_params_changes_rerun_exactly_their_jobs(workdir, change, expected):
    if expected == "all":
        per_variant = {"simulate": 8, "aggregate": 1, "figures": 1, "claims": 1}
        expected = {f"{step}_forgetting_{v}": n for v in ("torch", "keras22") for step, n in per_variant.items()}
    assert planned_jobs(workdir, change) == expected


def test_code_change_reruns_only_the_rules_running_that_code(workdir):
    module = workdir / "rnnmem" / "forgetting_report.py"
    original = module.read_text()
    try:
        module.write_text(original + "\n# a styling edit\n")
        planned = planned_jobs(workdir)
    finally:
        module.write_text(original)
    assert not any(rule.startswith("simulate") for rule in planned)
    assert planned.get("figures_forgetting_torch") == 1 and planned.get("claims_forgetting_torch") == 1


@pytest.mark.parametrize(
    "bad,key",
    [
        ({"runs": 0}, "runs"),
        ({"steps": "long"}, "steps"),
        ({"eps": ["1e-6"]}, "eps"),
        ({"variants": ["keras3"]}, "variants"),
        ({"stepz": 10}, "stepz"),
        ({"prefix": 2500}, "forgetting.prefix"),
        ({"figures": {"decay_n_in": 3, "decay_units": [1]}}, "forgetting.figures.decay_n_in"),
        ({"claims": {"metrics": ["K_tol_1e-07"]}}, "forgetting.claims.metrics"),
    ],
)
def test_bad_config_fails_naming_the_key(workdir, bad, key):
    out = snakemake(workdir, "-n", *TARGETS, config=bad, check=False)
    assert out.returncode != 0
    assert key in out.stdout + out.stderr
