"""The bench runs on the study's default settings (from the schema, not its own copy) and
puts the naive loop, the torch engine and the fused kernels side by side on the same runs."""

import numpy as np
import pytest

from rnnmem.core.settings import schema_defaults
from rnnmem.memorization.bench import (
    bench_job,
    bench_memorization,
    data_seconds,
    main,
    tier_job,
)
from rnnmem.memorization.cost import flops_per_run_epoch, train_work
from rnnmem.memorization.train import train


def test_bench_job_takes_the_schema_defaults():
    job = bench_job("gru", 2, 3, seeds=1, epochs=4)
    defaults = schema_defaults("memorization")
    for key in ("lr", "batch_size", "steps_per_epoch", "tbptt_k", "eval_seed", "min_length"):
        assert getattr(job, key) == defaults[key], key
    assert (job.cell, job.layers, job.units, job.epochs, job.eval_every) == ("gru", 2, 3, 4, 4)


def test_kernels_train_the_runs_the_engine_trains():
    """Same initial weights, data and evaluation sets: float32 losses close to the torch
    engine's (not equal: float32 rounding differs), and trained (not the initial)."""
    job = bench_job("lstm", 2, 3, seeds=1, epochs=3)
    quiet = dict(log=lambda _: None)
    fused = train(job, engine="kernels", **quiet)
    engine = train(job, engine="torch", **quiet)
    assert (fused["engine"], engine["engine"]) == ("kernels", "torch")
    np.testing.assert_allclose(fused["eval_curve"], engine["eval_curve"], rtol=0, atol=1e-4)
    np.testing.assert_allclose(fused["train_curve"], engine["train_curve"], rtol=0, atol=1e-4)
    for name, value in engine["final"].items():
        np.testing.assert_allclose(fused["final"][name], value, rtol=0, atol=1e-4, err_msg=name)
    untrained = train(bench_job("lstm", 2, 3, seeds=1, epochs=1), **quiet)["eval_curve"]
    assert np.abs(fused["eval_curve"][:, -1] - untrained[:, -1]).max() > 1e-3
    assert data_seconds(job) > 0


def test_flop_count():
    job = bench_job("rnn", 2, 10, seeds=1, epochs=1)  # T = 15, B = 32, 10 steps
    per_step = (10 * 11 + 100 + 10 * 11) + (10 * 20 + 100 + 10 * 20 + 100)  # layer 0, layer 1
    assert flops_per_run_epoch(job) == 2 * per_step * 15 * 32 * 10
    assert train_work(bench_job("rnn", 2, 10, seeds=3, epochs=7)) == 30 * 7 * 2 * per_step * 4800


def test_bench_prints_all_three_side_by_side(capsys):
    rows = bench_memorization(10, 1, ["rnn:1:1", "gru:1:2"])
    assert [r["runs"] for r in rows] == [10, 10]
    for row in rows:
        assert row["naive_s_per_run"] > 0 and row["engine_s_per_run"] > 0
        assert row["kernel_s_per_run"] > 0 and 0 < row["data_share"] < 1
        assert row["final_loss_diff"] < 1e-3  # kernels and engine trained the same runs
    out = capsys.readouterr().out
    assert "kernels/engine" in out and "rnn:1:1" in out and "gru:1:2" in out


def test_default_configs_are_the_issue_rows(monkeypatch):
    seen = []
    monkeypatch.setattr(
        "rnnmem.memorization.bench.bench_memorization",
        lambda runs, epochs, configs: seen.append((runs, epochs, configs)),
    )
    assert main(["memorization", "--runs", "10", "--epochs", "2"]) == 0
    assert seen == [
        (10, 2, ["rnn:1:5", "lstm:1:5", "gru:1:5", "rnn:2:10", "lstm:3:10", "rnn:5:20"])
    ]


def test_a_slice_takes_the_tiers_job_at_its_full_settings():
    """--tier-jobs measures a planned job of a tier file with every setting but the epochs."""
    full, short = tier_job("config/paper.yaml", "fig6:rnn-variable-l5-c20", 7)
    assert (full.cell, full.layers, full.units, full.seeds, full.epochs) == ("rnn", 5, 20, 5, 5000)
    assert full.positions == list(range(1, 21)) and short.epochs == 7
    assert {k: v for k, v in vars(short).items() if k != "epochs"} == {
        k: v for k, v in vars(full).items() if k != "epochs"
    }
    with pytest.raises(SystemExit, match="has no job 'rnn-variable-l9-c20'"):
        tier_job("config/paper.yaml", "fig6:rnn-variable-l9-c20", 7)
    with pytest.raises(SystemExit, match="no memorization experiment 'fig66'"):
        tier_job("config/paper.yaml", "fig66:rnn-variable-l5-c20", 7)
