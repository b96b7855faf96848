"""Workflow tests of the forgetting-time rules: real Snakemake runs in a copy of the repository.

One module-scoped smoke run (both variants, tiny grid) feeds the checks: outputs present and
tier-stamped, byte-identical rerun, params-precise and code-precise reruns (dry runs), and
clean errors on bad config that name the key.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import copy_repo, planned_jobs, snakemake, tree_hashes

from rnnmem.core.provenance import read_record
from rnnmem.core.settings import validate
from rnnmem.forgetting import plan
from rnnmem.forgetting.settings import simulate_settings

pytestmark = pytest.mark.workflow

TARGETS = [f"{step}_forgetting_{v}" for v in ("torch", "keras22") for step in ("figures", "claims")]
TARGETS += ["compare_forgetting"]  # the blog's tables beside the primary variant

# A grid small enough for seconds, large enough for two values along each axis.
TEST_FORGETTING = {
    "variants": ["torch", "keras22"],
    "cells": ["lstm", "gru"],
    "n_in": [1, 2],
    "units": [1, 2],
    "runs": 2,
    "steps": 2500,
    "prefix": 500,
    "figures": {"decay_n_in": 2, "decay_units": [1, 2]},
    "claims": {"bootstrap": 100},
}


def config_args(workdir: Path, config: dict | None = None) -> list[str]:
    """The smoke tier plus TEST_FORGETTING plus `config` (merged on top, one level deep)."""
    extra = workdir / "test-forgetting.yaml"
    extra.write_text(yaml.safe_dump({"forgetting": {**TEST_FORGETTING, **(config or {})}}))
    return ["--configfile", "config/smoke.yaml", str(extra)]


def run(workdir: Path, *args, config: dict | None = None, check=True):
    """snakemake ARGS TARGETS on 2 cores and no GPU, on the test config."""
    return snakemake(
        workdir,
        *args,
        *TARGETS,
        "--cores",
        "2",
        "--resources",
        "gpu=0",
        *config_args(workdir, config),
        check=check,
        timeout=600,
    )


def planned(workdir: Path, config: dict | None = None) -> dict[str, int]:
    """Dry run: {rule: job count} Snakemake would run now."""
    return planned_jobs(workdir, *TARGETS, *config_args(workdir, config))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    work = copy_repo(tmp_path_factory.mktemp("forgetting") / "repo")
    run(work)
    return work


def test_smoke_run_writes_every_output(workdir):
    out = workdir / "results" / "forgetting"
    names = (
        "runs.csv",
        "summary.csv",
        "claims.csv",
        "claims.md",
        "decay.png",
        "decay.pdf",
        "heatmap_K_exact.png",
        "heatmap_K_tol_1e-06.pdf",
        "heatmap_F_tol_1e-04.png",
    )
    for folder in (out, out / "keras22"):
        for name in names:
            assert (folder / name).stat().st_size > 0, folder / name
            if name.endswith(".png"):  # its record beside it (the PDF shares it)
                assert (folder / f"{name}.provenance.json").is_file(), folder / name
        assert len(list((folder / "runs").rglob("run*.npz"))) == 2 * 2 * 2 * 2  # one per run
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
    assert (logs / "gru-in2-u2.device.json").exists()
    assert (logs / "gru-in2-u2.runtime.json").exists()


def test_compare_sets_the_blog_tables_beside_the_torch_runs(workdir):
    out = workdir / "results" / "forgetting"
    table = pd.read_csv(out / "comparison.csv", keep_default_na=False, na_values=[""])
    assert set(table["verdict"]) <= {"agrees", "differs", "not run"}
    ran = table[table["verdict"] != "not run"]
    assert len(ran) == 8 * table["table"].nunique() and ran["reproduced"].notna().all()
    assert "Blog tables, K_exact" in set(table["table"])
    # a published cell the smoke grid (n_in, units in {1, 2}) did not run: never a zero
    [missing] = table[(table["cell"] == "LSTM / n_in 128 / 128 units")].head(1).itertuples()
    assert missing.verdict == "not run" and pd.isna(missing.reproduced) and missing.seeds == 0
    metrics = pd.read_csv(out / "comparison_metrics.csv")
    assert metrics["closest"].sum() == 1
    page = (out / "comparison.md").read_text()
    assert "Tier: **smoke" in page and "Closest metric" in page
    for stem in ("compare_blog", "compare_blog_grid"):
        assert (out / f"{stem}.pdf").exists() and (out / f"{stem}.png.provenance.json").exists()
    assert not (out / "keras22" / "comparison.csv").exists()  # the primary variant only


def test_every_output_records_the_full_settings_of_the_jobs_behind_it(workdir):
    """Tables, decay medians, figures and claims: each lists every simulation job of its
    variant with exactly the settings that job was given."""
    tier = yaml.safe_load((workdir / "config/smoke.yaml").read_text())["forgetting"]
    merged = {  # as Snakemake merges the test's config file onto the tier's
        k: {**tier.get(k, {}), **v} if isinstance(v, dict) else v
        for k, v in TEST_FORGETTING.items()
    }
    section = validate({**tier, **merged}, "forgetting", prefix="forgetting")
    for variant in section["variants"]:
        settings = simulate_settings(section, variant)
        expected = sorted(
            json.dumps({"command": "simulate-forgetting", **job, **settings}, sort_keys=True)
            for job in plan.jobs(section)
        )
        out = workdir / plan.out_dir(variant)
        names = ["runs.csv", "summary.csv", "decay_medians.npz", "claims.csv", "decay.png"]
        names += [f"heatmap_{m}.png" for m in section["figures"]["metrics"]]
        for name in names:
            jobs = read_record(out / name)["jobs"]
            assert sorted(json.dumps(j, sort_keys=True) for j in jobs) == expected, out / name


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
    before = tree_hashes(out)
    for path in out.iterdir():
        if path.name != "keras22":
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    assert planned(workdir).get("simulate_forgetting_torch") == 8
    run(workdir)
    after = tree_hashes(out)
    assert before.keys() == after.keys() and len(before) > 40
    assert before == after, sorted(k for k in before if before[k] != after.get(k))


@pytest.mark.parametrize(
    "change,expected",
    [
        ({}, {}),
        (
            {"claims": {"bootstrap": 120}},
            {"claims_forgetting_torch": 1, "claims_forgetting_keras22": 1},
        ),
        (
            {"figures": {"decay_n_in": 1, "decay_units": [1, 2]}},
            {"figures_forgetting_torch": 1, "figures_forgetting_keras22": 1},
        ),
        ({"flush_denormal": True}, "all"),
        ({"chunk": 256}, "all"),
        ({"eps": [1.0e-3, 1.0e-4, 1.0e-6]}, "all"),
    ],
    ids=["nothing", "bootstrap", "decay-plot", "flush-denormal", "chunk", "eps"],
)
def test_params_changes_rerun_exactly_their_jobs(workdir, change, expected):
    if expected == "all":
        per_variant = {"simulate": 8, "aggregate": 1, "figures": 1, "claims": 1}
        expected = {
            f"{step}_forgetting_{v}": n
            for v in ("torch", "keras22")
            for step, n in per_variant.items()
        } | {"compare_forgetting": 1}
    assert planned(workdir, change) == expected


@pytest.mark.parametrize(
    "module,expected",
    [
        ("forgetting/figures.py", {"figures"}),
        ("forgetting/claims.py", {"claims"}),
        ("forgetting/aggregate.py", {"aggregate", "figures", "claims", "compare"}),
        ("core/plotting.py", {"figures", "compare"}),
        ("forgetting/compare.py", {"compare"}),
        ("forgetting/plan.py", set()),  # planning code: no job runs it
    ],
)
def test_code_change_reruns_only_the_rules_running_that_code(workdir, module, expected):
    path = workdir / "rnnmem" / module
    original = path.read_text()
    try:
        path.write_text(original + "\n# a styling edit\n")
        jobs = planned(workdir)
    finally:
        path.write_text(original)
    assert not any(rule.startswith("simulate") for rule in jobs)
    per_variant = expected - {"compare"}  # compare: the primary variant only
    expected_jobs = {
        f"{step}_forgetting_{v}": 1 for step in per_variant for v in ("torch", "keras22")
    }
    assert jobs == expected_jobs | ({"compare_forgetting": 1} if "compare" in expected else {})


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
    out = snakemake(workdir, "-n", *TARGETS, *config_args(workdir, bad), check=False)
    assert out.returncode != 0
    assert key in out.stdout + out.stderr
