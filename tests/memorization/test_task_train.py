"""The memorization study's science: task data, seeds, training jobs, resume, bad input.

Settings come from the schema's defaults (schema_defaults), as the pipeline's do.
"""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnmem.core.ensemble import Ensemble
from rnnmem.core.io import load_arrays, save_arrays
from rnnmem.core.settings import ConfigError, from_settings, schema_defaults, settings_json
from rnnmem.memorization.aggregate import first_hit_epoch
from rnnmem.memorization.capacity import CapacitySettings
from rnnmem.memorization.cost import train_work
from rnnmem.memorization.job import IDENTITY, TrainJob
from rnnmem.memorization.probe import probe_states, window_states
from rnnmem.memorization.task import TaskSpec, eval_set, task_sequences
from rnnmem.memorization.train import seed_file_arrays, train

ROOT = Path(__file__).resolve().parents[2]
DEFAULTS = schema_defaults("memorization")
JOB_FIELDS = [f for f in TrainJob.__dataclass_fields__ if f not in (*IDENTITY, "models")]


def job_settings(**given):
    """A job's --settings: the study's defaults for every field, then `given`."""
    return {**{k: DEFAULTS[k] for k in JOB_FIELDS if k in DEFAULTS}, **given}


def make_job(experiment, cell, task, layers, units, **settings) -> TrainJob:
    identity = dict(experiment=experiment, cell=cell, task=task, layers=layers, units=units)
    return TrainJob.of(identity, job_settings(**settings))


def task_spec(task, **given):
    return TaskSpec.of(task, {**DEFAULTS, **given})


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def run_cli(*args, **kwargs):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "rnnmem", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=kwargs.get("cwd", ROOT),
    )


# ------------------------------------------------------------------------------- task
def test_length_rules():
    variable = task_spec("variable")
    assert variable.length_bounds(1) == (10, 15)
    assert variable.length_bounds(10) == (10, 15)
    assert variable.length_bounds(12) == (12, 17)  # shifted so the target exists
    assert task_spec("variable", long_positions="offset").length_bounds(3) == (3, 8)
    assert task_spec("fixed").length_bounds(7) == (10, 10)


def test_fixed_task_rejects_positions_beyond_its_length():
    with pytest.raises(ValueError, match="p=11"):
        task_spec("fixed").length_bounds(11)
    with pytest.raises(ValueError, match="p=12"):
        make_job("fig9", "rnn", "fixed", 1, 2, positions=[1, 12], seeds=1, epochs=1)


def test_a_job_needs_every_setting_and_no_other():
    """No field of TrainJob has a default: a missing or unknown setting is an error."""
    settings = job_settings(positions=[1], seeds=1, epochs=1)
    identity = dict(experiment="t", cell="rnn", task="variable", layers=1, units=2)
    del settings["lr"]
    with pytest.raises(ConfigError, match="missing.*lr"):
        TrainJob.of(identity, settings)
    with pytest.raises(ConfigError, match="unknown.*learning_rate"):
        TrainJob.of(identity, {**settings, "lr": 0.1, "learning_rate": 0.1})
    with pytest.raises(ValueError, match="identity"):
        TrainJob.of(identity, {**settings, "lr": 0.1, "cell": "gru"})


@pytest.mark.parametrize("position", [1, 4, 10, 14])
def test_targets_are_the_pth_element_from_the_end(position):
    rng = np.random.default_rng(0)
    x, lengths, targets = task_spec("variable").sample(rng, position, (500,))
    assert x.dtype == np.float32 and x.shape[1] == max(10, position) + 5
    assert lengths.min() >= max(10, position) and lengths.max() <= max(10, position) + 5
    for b in range(500):
        assert targets[b] == x[b, lengths[b] - position]
    assert 0.2 < np.abs(targets - 0.5).mean() < 0.3  # Uniform[0, 1]: E|U - 0.5| = 0.25


def test_eval_set_is_fixed_and_shared():
    task = task_spec("variable")
    a, b = eval_set(task, 3, 64, 1), eval_set(task, 3, 64, 1)
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    assert not np.array_equal(a[0], eval_set(task, 3, 64, 2)[0])


# ------------------------------------------------------------------------- training
def small_job(**overrides):
    settings = dict(
        experiment="t",
        cell="rnn",
        task="variable",
        layers=1,
        units=3,
        positions=[1, 2],
        seeds=3,
        epochs=6,
        eval_every=3,
        eval_sequences=64,
    )
    settings.update(overrides)
    return make_job(**settings)


def seed_bytes(job, result, seed, tmp_path, name):
    arrays, meta = seed_file_arrays(job, result, seed)
    save_arrays(tmp_path / name, arrays, meta | {"job": None})
    return sha256(tmp_path / name)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_a_seed_does_not_depend_on_its_companions(tmp_path, cell):
    """Seed 1's file is the same whether its job trains 3 seeds or 2, and p=2 alone or not."""
    full = small_job(cell=cell)
    fewer = small_job(cell=cell, seeds=2)
    r_full, r_fewer = train(full, log=lambda _: None), train(fewer, log=lambda _: None)
    assert seed_bytes(full, r_full, 1, tmp_path, "a.npz") == seed_bytes(
        fewer, r_fewer, 1, tmp_path, "b.npz"
    )
    alone = small_job(cell=cell, positions=[2], seeds=2)
    r_alone = train(alone, log=lambda _: None)
    i_full = full.models.index((1, 2))
    assert np.array_equal(
        r_full["final"]["weight_hh_l0"][i_full], r_alone["final"]["weight_hh_l0"][1]
    )
    # different seeds really are different runs
    assert not np.array_equal(
        r_full["final"]["weight_hh_l0"][0], r_full["final"]["weight_hh_l0"][2]
    )


def test_training_learns_the_last_element():
    """p = 1 with 5 RNN units is easy: the loss falls well below the fixed guess (0.25)."""
    job = small_job(positions=[1], seeds=2, units=5, epochs=150, eval_every=50, eval_sequences=256)
    result = train(job, log=lambda _: None)
    assert np.all(result["final_loss"] < 0.1), result["final_loss"]
    assert np.all(result["train_curve"][:, -1] < result["train_curve"][:, 0])


def test_diverged_run_is_recorded_and_others_kept(monkeypatch):
    original = Ensemble.init_uniform_

    def poisoned(self, generators):
        original(self, generators)
        with torch.no_grad():
            self.weight_hh_l0[0].fill_(float("nan"))  # model 0 (seed 0, p=1) diverges

    job = small_job()
    clean = train(job, log=lambda _: None)
    monkeypatch.setattr(Ensemble, "init_uniform_", poisoned)
    result = train(job, log=lambda _: None)
    assert result["diverged"].tolist() == [True] + [False] * (len(job.models) - 1)
    assert np.isnan(result["final_loss"][0])
    # the other runs are untouched, bit for bit
    np.testing.assert_array_equal(result["final_loss"][1:], clean["final_loss"][1:])


# ------------------------------------------------------------------------------ CLI
IDENTITY_ARGS = [
    "--experiment",
    "t",
    "--cell",
    "lstm",
    "--task",
    "variable",
    "--layers",
    "1",
    "--units",
    "2",
    "--tier",
    "custom",
]


JOB_GIVEN = dict(positions=[1, 3], seeds=2, eval_every=10, eval_sequences=64)


def job_args(**settings):
    """A train job's command line: identity, tier and --settings (two seeds, p = 1 and 3)."""
    given = JOB_GIVEN | settings
    return IDENTITY_ARGS + ["--settings", settings_json(job_settings(**given))]


def test_resume_after_sigkill_gives_the_same_bytes(tmp_path):
    straight = [tmp_path / "a0.npz", tmp_path / "a1.npz"]
    args = job_args(epochs=200, checkpoint_every=10)
    done = run_cli("train-memorization", *args, "--out", *straight)
    assert done.returncode == 0, done.stderr

    resumed = [tmp_path / "b0.npz", tmp_path / "b1.npz"]
    ckpt = tmp_path / "ckpt.npz"
    cmd = [
        sys.executable,
        "-m",
        "rnnmem",
        "train-memorization",
        *args,
        "--checkpoint",
        str(ckpt),
        "--out",
        *map(str, resumed),
    ]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 120
    while not ckpt.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert ckpt.exists(), "no checkpoint appeared"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not any(p.exists() for p in resumed), "a killed job left outputs"
    _, meta = load_arrays(ckpt)
    assert 0 < meta["epoch"] < 200
    again = subprocess.run(
        cmd, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr
    assert f"resumed from checkpoint at epoch {meta['epoch']}" in again.stderr
    assert [sha256(p) for p in resumed] == [sha256(p) for p in straight]
    assert not ckpt.exists()  # removed once the outputs are complete


def test_gpu_requested_but_absent_falls_back_to_cpu(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("a GPU is visible here")
    record = tmp_path / "device.json"
    out = run_cli(
        "train-memorization",
        *job_args(epochs=2),
        "--gpus",
        "1",
        "--device-record",
        record,
        "--out",
        tmp_path / "s0.npz",
        tmp_path / "s1.npz",
    )
    assert out.returncode == 0, out.stderr
    assert "no CUDA device is visible" in out.stderr and "falling back to the CPU" in out.stderr
    logged = json.loads(record.read_text())
    assert logged["device"] == "cpu" and logged["engine"] == "kernels"
    # what the cost planner calibrates on: the job's seconds and its work
    assert logged["seconds"] > 0 and logged["work_unit"] == "flop"
    job = make_job("t", "lstm", "variable", 1, 2, **JOB_GIVEN, epochs=2)
    assert logged["work"] == train_work(job)
    meta = load_arrays(tmp_path / "s0.npz")[1]
    assert meta["device"] == "cpu" and meta["engine"] == "kernels"


def test_the_kernels_run_on_the_cpu_only():
    with pytest.raises(ValueError, match="the kernels run on the CPU"):
        train(small_job(), device=torch.device("cuda"), engine="kernels")


def test_missing_input_file_is_named(tmp_path):
    missing = tmp_path / "runs" / "seed0.npz"
    settings = settings_json({k: DEFAULTS[k] for k in ("theta", "curve_experiments")})
    outputs = [
        (f"--out-{name}", tmp_path / "agg" / f"{name}.csv")
        for name in ("runs", "curves", "summary", "capacity", "capacity-curves")
    ]
    out = run_cli(
        "aggregate-memorization",
        "--settings",
        settings,
        "--tier",
        "custom",
        "--runs",
        missing,
        *[a for pair in outputs for a in pair],
    )
    assert out.returncode != 0
    assert str(missing) in out.stderr
    assert not (tmp_path / "agg" / "runs.csv").exists()


def test_out_count_must_match_seeds(tmp_path):
    out = run_cli("train-memorization", *job_args(epochs=1), "--out", tmp_path / "only.npz")
    assert out.returncode != 0 and "1 files for 2 seeds" in out.stderr


def test_first_hit_epoch_uses_a_moving_average():
    curve = np.array([0.3] * 20 + [0.01] * 20)
    # the 10-epoch average first drops below 0.05 when 9 of its 10 epochs are 0.01
    assert first_hit_epoch(curve, 0.05) == 29
    assert np.isnan(first_hit_epoch(np.full(30, 0.2), 0.05))


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_probe_states_do_not_depend_on_companions(cell):
    """A network's stream states and task-aligned states are bit-identical whether it is
    probed alone or beside others (float32; see rnnmem.core.ensemble.VECTOR_ALIGN)."""
    job = make_job("t", cell, "variable", 2, 3, positions=[1, 2, 3], seeds=1, epochs=1)
    model = Ensemble(cell, 3, 2, 3)
    model.init_uniform_([torch.Generator().manual_seed(7 + m) for m in range(3)])
    arrays = {k: v.numpy() for k, v in model.state_arrays().items()}
    alone = {k: v[1:2] for k, v in arrays.items()}
    u = np.random.default_rng(0).random(300)
    cpu = torch.device("cpu")
    together, single = probe_states(job, arrays, u, cpu), probe_states(job, alone, u, cpu)
    assert set(together) == ({"all", "top", "hc"} if cell == "lstm" else {"all", "top"})
    for name in together:
        assert np.array_equal(together[name][1], single[name][0])
    settings = from_settings(CapacitySettings, DEFAULTS["capacity"] | {"task_sequences": 300})
    x, windows = task_sequences(job.task_spec, settings, list(range(1, 14)))
    assert [w[1] for w in windows] == [list(range(1, 11)), [11], [12], [13]]
    one = Ensemble(cell, 1, 2, 3)
    one.load_arrays(alone)
    pairs = zip(
        window_states(model, x, windows, chunk=64),
        window_states(one, x, windows, chunk=64),
        strict=True,
    )
    for a, b in pairs:
        assert a.shape == (3, 300, 6) and np.array_equal(a[1], b[0])
    # the states are the ones at each sequence's own last step
    lengths, _, _ = windows[1]
    _, (h_last, _) = model.infer(
        torch.from_numpy(x).expand(3, -1, -1).contiguous(),
        torch.from_numpy(lengths).expand(3, -1).contiguous(),
        states="last",
    )
    np.testing.assert_array_equal(
        window_states(model, x, windows)[1], torch.cat(h_last, -1).numpy()
    )
