"""Provenance through the real commands: tiny training and probe jobs, the ESN baseline and
the aggregation, planned from one small config. Every output records the full settings of
the jobs behind it, and the tables made from the job files list exactly those jobs."""

from __future__ import annotations

import pytest

from rnnmem.core.io import load_arrays
from rnnmem.core.provenance import jobs_behind, read_record, sidecar_path
from rnnmem.core.settings import settings_json, validate
from rnnmem.memorization import aggregate, esn, plan, probe, train

CONFIG = {
    "eval_sequences": 16,
    "eval_every": 1,
    "steps_per_epoch": 1,
    "batch_size": 4,
    "capacity": {
        "washout": 40,
        "train_steps": 50,
        "test_steps": 50,
        "task_sequences": 40,
        "task_positions": 2,
    },
    "esn": {"units": [2], "reservoirs": 1},
    "experiments": {
        "fig6": {
            "cells": ["rnn"],
            "task": "variable",
            "layers": [1],
            "units": [1, 2],
            "positions": [1, 2],
            "seeds": 2,
            "epochs": 2,
        }
    },
    "overrides": [{"units": 2, "lr": 0.05}],
}


def identity_args(job: plan.Job) -> list[str]:
    return [
        "--experiment", job.experiment, "--cell", job.cell, "--task", job.task,
        "--layers", str(job.layers), "--units", str(job.units), "--tier", "test",
    ]  # fmt: skip


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Every job of CONFIG run by its command, as the rules call them, then aggregated."""
    mem = validate(dict(CONFIG), "memorization", prefix="memorization")
    out = tmp_path_factory.mktemp("results")
    seeds, tables, curves = [], [], []
    for job in plan.jobs(mem):
        wild = {k: str(v) for k, v in job.wildcards.items()}
        files = [str(out / p.format(**job.wildcards)) for p in plan.seed_files(mem, "fig6")]
        train_json = settings_json(plan.train_settings(mem, "fig6", wild))
        assert train.main([*identity_args(job), "--settings", train_json, "--out", *files]) == 0
        table = out / plan.capacity_file("fig6", "", job)
        curve = out / plan.capacity_file("fig6", "_curves", job)
        probe_json = settings_json(plan.probe_settings(mem, "fig6", wild))
        argv = [*identity_args(job), "--settings", probe_json, "--runs", *files]
        assert probe.main([*argv, "--out", str(table), "--out-curves", str(curve)]) == 0
        seeds += files
        tables.append(table)
        curves.append(curve)
    esn_json = settings_json(plan.esn_settings(mem))
    argv = ["--settings", esn_json, "--tier", "test"]
    argv += ["--out", str(out / "esn.csv"), "--out-task", str(out / "esn_task.csv")]
    assert esn.main(argv) == 0
    names = ("runs", "curves", "summary", "capacity", "capacity-curves")
    outs = [a for n in names for a in (f"--out-{n}", str(out / f"{n.replace('-', '_')}.csv"))]
    agg_json = settings_json(plan.aggregate_settings(mem))
    argv = ["--settings", agg_json, "--tier", "test", "--runs", *seeds]
    argv += ["--capacity", *map(str, tables), "--capacity-curves", *map(str, curves), *outs]
    assert aggregate.main(argv) == 0
    return mem, out, seeds, tables, curves


def test_seed_files_record_their_jobs_full_settings(results):
    mem, _, seeds, _, _ = results
    configs = []
    for path in seeds:
        _, meta = load_arrays(path)
        configs.append(meta["provenance"]["config"])
        job = {k: meta["job"][k] for k in plan.MATCH_KEYS}
        wild = {k: str(meta["job"][k]) for k in ("cell", "task", "layers", "units")}
        assert meta["provenance"]["config"] == {
            "command": "train-memorization",
            **job,
            "task": "variable",
            **plan.train_settings(mem, job["experiment"], wild),
        }
    assert {c["units"]: c["lr"] for c in configs} == {1: 0.03, 2: 0.05}  # the override


def test_probe_tables_and_their_curves_share_the_probe_jobs_record(results):
    mem, _, _, tables, curves = results
    for table, curve in zip(tables, curves, strict=True):
        record = read_record(table)
        assert read_record(curve) == record
        config = record["config"]
        assert config["command"] == "probe-memorization"
        assert config["capacity"] == mem["capacity"] and config["job"]["epochs"] == 2


def test_esn_tables_record_their_settings(results):
    mem, out, _, _, _ = results
    record = read_record(out / "esn_task.csv")
    assert record == read_record(out / "esn.csv")
    assert record["config"] == {"command": "esn-capacity", **plan.esn_settings(mem)}


def test_aggregated_tables_list_exactly_the_jobs_behind_them(results):
    _, out, seeds, tables, curves = results
    trained = jobs_behind(seeds)
    assert len(trained) == 2 and {j["command"] for j in trained} == {"train-memorization"}
    for name in ("runs", "curves", "summary"):
        record = read_record(out / f"{name}.csv")
        assert record["jobs"] == trained, name
        assert record["settings"] == plan.aggregate_settings(results[0])
    probed = jobs_behind(tables)
    assert len(probed) == 2 and {j["command"] for j in probed} == {"probe-memorization"}
    for name in ("capacity", "capacity_curves"):
        assert read_record(out / f"{name}.csv")["jobs"] == probed, name
    assert sidecar_path(out / "runs.csv").is_file()
