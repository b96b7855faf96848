"""The forgetting plan without Snakemake: folders per variant, jobs, run files, targets."""

from __future__ import annotations

import re

from rnnmem.core.settings import schema_defaults
from rnnmem.forgetting import plan

SECTION = schema_defaults(
    "forgetting",
    variants=["torch", "keras22"],
    cells=["lstm", "gru"],
    n_in=[1, 2],
    units=[1, 4],
    runs=3,
)


def test_the_primary_variant_owns_the_study_folder():
    assert plan.out_dir("torch") == "results/forgetting"
    assert plan.out_dir("keras22") == "results/forgetting/keras22"
    assert plan.log_dir("keras22") == "logs/forgetting/keras22"


def test_jobs_and_their_run_files():
    assert plan.run_ids(SECTION) == ["00", "01", "02"]
    assert plan.jobs(SECTION)[:2] == [
        {"cell": "lstm", "n_in": 1, "units": 1},
        {"cell": "lstm", "n_in": 1, "units": 4},
    ]
    assert plan.run_files(SECTION, "keras22")[0] == (
        "results/forgetting/keras22/runs/{cell}-in{n_in}-u{units}/run00.npz"
    )
    files = plan.all_run_files(SECTION, "torch")
    assert len(files) == len(set(files)) == 2 * 2 * 2 * 3
    assert "results/forgetting/runs/gru-in2-u4/run02.npz" in files


def test_wildcard_constraints_accept_exactly_the_planned_values():
    pattern = {k: re.compile(f"^(?:{v})$") for k, v in plan.WILDCARD_CONSTRAINTS.items()}
    for job in plan.jobs(SECTION):
        assert all(pattern[k].match(str(v)) for k, v in job.items())
    assert not pattern["cell"].match("rnn") and not pattern["units"].match("0")


def test_targets_hold_every_figure_with_its_record():
    targets = plan.targets(SECTION, "keras22")
    metrics = SECTION["figures"]["metrics"]
    for metric in metrics:
        for ext in ("png", "pdf", "png.provenance.json"):
            assert f"results/forgetting/keras22/heatmap_{metric}.{ext}" in targets
    assert "results/forgetting/keras22/decay.png.provenance.json" in targets
    assert plan.heatmap_files(SECTION, "torch", "pdf") == [
        f"results/forgetting/heatmap_{m}.pdf" for m in metrics
    ]
    assert len(targets) == len(set(targets)) == 2 + 3 * len(metrics) + 3 + 2
