"""A long-memory training job end to end: settings -> per-seed files; companions; SIGKILL resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, data_mirror

from rnnmem.core.io import load_arrays
from rnnmem.core.settings import schema_defaults
from rnnmem.long_memory import cost
from rnnmem.long_memory.jobs import JobSettings, main, run_job

TRAINING = schema_defaults("long_memory")["training"]


def job(**changes) -> JobSettings:
    settings = dict(
        dataset="traffic",
        split="paper",
        model="mrnn",
        K=20,
        H=1,
        seeds=[0, 1, 2],
        dtype="float64",
        tier="smoke",
        **{**TRAINING, "max_epochs": 8, "patience": 3},
    )
    return JobSettings(**{**settings, **changes})


@pytest.fixture(scope="module")
def series():
    """traffic.csv from the test harness's data mirror (skips, saying why, when offline)."""
    return data_mirror() / "traffic.csv"


def test_job_writes_the_contract_for_every_seed(series):
    records = run_job(job(), series, log=lambda _: None)
    assert [meta["seed"] for _, meta in records] == [0, 1, 2]
    for arrays, meta in records:
        assert meta["n_train"] == 1400 and meta["n_val"] == 200 and meta["n_test"] == 259
        assert arrays["test_pred"].shape == arrays["test_true"].shape == (259,)
        assert len(arrays["train_loss"]) == meta["epochs_run"] <= 8
        assert 0 <= meta["best_epoch"] < meta["epochs_run"]
        err = arrays["test_pred"] - arrays["test_true"]
        assert meta["rmse"] == pytest.approx(np.sqrt(np.mean(err**2)), rel=1e-12)
        assert {f"param_{n}" for n in ("w_dd", "w_mm", "unused_w_ih")} <= set(arrays)
    # the test targets are the raw series' last 259 values, in original units
    raw = np.loadtxt(series, delimiter=",", skiprows=1, usecols=1)
    np.testing.assert_array_equal(records[0][0]["test_true"], raw[-259:])


def test_a_seed_does_not_depend_on_its_companions(series):
    alone = run_job(job(seeds=[1], dtype="float32"), series, log=lambda _: None)[0]
    among = run_job(job(seeds=[0, 1, 2], dtype="float32"), series, log=lambda _: None)[1]
    assert alone[1] == among[1]
    for name in alone[0]:
        np.testing.assert_array_equal(alone[0][name], among[0][name], err_msg=name)


def _cli(tmp_path: Path, name: str, settings: JobSettings, series: Path):
    out = [str(tmp_path / name / f"seed{s}.npz") for s in settings.seeds]
    cmd = [
        sys.executable,
        "-m",
        "rnnmem",
        "train-long-memory",
        "--series",
        str(series),
        "--checkpoint",
        str(tmp_path / name / "checkpoint.npz"),
        "--settings",
        json.dumps(settings.__dict__),
        "--out",
        *out,
    ]
    return cmd, out


def test_killed_job_resumes_to_the_same_bytes(tmp_path, series):
    """SIGKILL after the first checkpoint; the rerun resumes and writes identical files."""
    settings = job(
        model="mlstm", K=50, dtype="float32", max_epochs=1500, patience=2000, checkpoint_every=50
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd, straight = _cli(tmp_path, "straight", settings, series)
    subprocess.run(cmd, check=True, env=env, cwd=ROOT, capture_output=True)

    cmd, resumed = _cli(tmp_path, "killed", settings, series)
    checkpoint = tmp_path / "killed" / "checkpoint.npz"
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not checkpoint.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert proc.poll() is None, "the job finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not any(Path(p).exists() for p in resumed)  # nothing that looks complete
    epoch = int(load_arrays(checkpoint)[0]["epoch"][0])
    assert 0 < epoch < 600
    rerun = subprocess.run(cmd, check=True, env=env, cwd=ROOT, capture_output=True, text=True)
    assert "resuming" in rerun.stdout + rerun.stderr
    for a, b in zip(straight, resumed, strict=True):
        assert Path(a).read_bytes() == Path(b).read_bytes()
    assert not checkpoint.exists()


def test_job_log_record_holds_its_seconds_and_planned_work(tmp_path, series):
    """The record the cost planner fits on: seconds, and the work at max_epochs (early
    stopping included: the planner counts work the same way)."""
    settings = job(max_epochs=5, patience=2)
    record = tmp_path / "logs" / "job.device.json"
    out = [str(tmp_path / f"seed{s}.npz") for s in settings.seeds]
    argv = ["--series", str(series), "--settings", json.dumps(settings.__dict__)]
    assert main([*argv, "--device-record", str(record), "--out", *out]) == 0
    logged = json.loads(record.read_text())
    assert logged["work_unit"] == cost.WORK_UNIT == "madd" and logged["seconds"] > 0
    # 3 seeds x 5 epochs x (3 x 1400 + 200) steps x (2 H^2 + 6 H + 2 + 2 K) multiply-adds
    assert logged["work"] == cost.train_work(settings.__dict__) == 3 * 5 * 4400 * (10 + 40)
    assert 1 <= logged["epochs_run"]["min"] <= logged["epochs_run"]["max"] <= 5
    assert logged["epochs_run"]["max_epochs"] == 5
    # the fields of every job's device record (core/device.py), so that logs read alike
    assert logged["device"] == "cpu" and logged["gpus_requested"] == 0
