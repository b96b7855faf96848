"""Provenance through the real commands: tiny simulation jobs, their aggregation, figures and
claims, planned from one small config. Every output records the full settings of the
simulation jobs behind it."""

from __future__ import annotations

import pytest

from rnnmem.core.io import load_arrays
from rnnmem.core.provenance import read_record, sidecar_path
from rnnmem.core.settings import schema_defaults, settings_json
from rnnmem.forgetting import aggregate, claims, figures, plan, simulate
from rnnmem.forgetting.settings import (
    claim_settings,
    figure_settings,
    simulate_settings,
    table_settings,
)

SECTION = schema_defaults(
    "forgetting",
    experiment="t",
    cells=["lstm", "gru"],
    n_in=[2],
    units=[1, 2],
    runs=2,
    steps=1500,
    prefix=500,
    figures={"decay_n_in": 2, "decay_units": [1, 2]},
    claims={"bootstrap": 20},
)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Every job of SECTION (variant torch) run by its command, as the rules call them."""
    root = tmp_path_factory.mktemp("forgetting")
    sim_json = settings_json(simulate_settings(SECTION, "torch"))
    for job in plan.jobs(SECTION):
        outs = [str(root / p.format(**job)) for p in plan.run_files(SECTION, "torch")]
        argv = ["--cell", job["cell"], "--n-in", str(job["n_in"]), "--units", str(job["units"])]
        assert simulate.main(["--settings", sim_json, *argv, "--outputs", *outs]) == 0
    out = root / plan.out_dir("torch")
    inputs = [str(root / p) for p in plan.all_run_files(SECTION, "torch")]
    tables = {"runs": out / "runs.csv", "summary": out / "summary.csv"}
    decay = out / "decay_medians.npz"
    argv = ["--settings", settings_json(table_settings(SECTION, "torch", "test"))]
    argv += ["--runs-csv", str(tables["runs"]), "--summary-csv", str(tables["summary"])]
    assert aggregate.main([*argv, "--decay", str(decay), "--inputs", *inputs]) == 0
    heatmaps = [str(root / p) for p in plan.heatmap_files(SECTION, "torch", "png")]
    argv = ["--settings", settings_json(figure_settings(SECTION, "torch", "test"))]
    argv += ["--summary", str(tables["summary"]), "--decay", str(decay)]
    argv += ["--heatmaps", *heatmaps, "--decay-plot", str(out / "decay.png")]
    assert figures.main(argv) == 0
    argv = ["--settings", settings_json(claim_settings(SECTION, "torch", "test"))]
    argv += ["--runs", str(tables["runs"]), "--csv", str(out / "claims.csv")]
    assert claims.main([*argv, "--md", str(out / "claims.md")]) == 0
    return root, out, inputs


def simulation_jobs() -> list[dict]:
    """What each simulation job was given: its identity and its --settings."""
    settings = simulate_settings(SECTION, "torch")
    return [{"command": "simulate-forgetting", **job, **settings} for job in plan.jobs(SECTION)]


def key(job: dict) -> tuple:
    return job["cell"], job["n_in"], job["units"]


def test_run_files_record_their_jobs_settings(results):
    _, _, inputs = results
    expected = {key(job): job for job in simulation_jobs()}
    for path in inputs:
        _, meta = load_arrays(path)
        config = meta["provenance"]["config"]
        assert config == expected[key(config)]


def test_every_table_figure_and_claims_file_lists_the_simulation_jobs(results):
    _, out, _ = results
    expected = sorted(simulation_jobs(), key=key)
    outputs = ["runs.csv", "summary.csv", "decay_medians.npz", "claims.csv", "decay.png"]
    outputs += [f"heatmap_{m}.png" for m in SECTION["figures"]["metrics"]]
    for name in outputs:
        assert sorted(read_record(out / name)["jobs"], key=key) == expected, name
    figure = read_record(out / "decay.png")
    assert figure["config"] == figure_settings(SECTION, "torch", "test")
    assert sidecar_path(out / "decay.png").is_file()
    assert not sidecar_path(out / "decay.pdf").exists()  # the PDF shares the PNG's record


def test_the_runs_table_holds_no_record_column(results):
    _, out, _ = results
    header = (out / "runs.csv").read_text().splitlines()[0].split(",")
    assert "provenance" not in header and "K_exact" in header
