"""The bench runs on the study's default settings (from the schema, not its own copy)."""

from rnnmem.core.settings import schema_defaults
from rnnmem.memorization.bench import bench_job, bench_memorization


def test_bench_job_takes_the_schema_defaults():
    job = bench_job("gru", 2, 3, seeds=1, epochs=4)
    defaults = schema_defaults("memorization")
    for key in ("lr", "batch_size", "steps_per_epoch", "tbptt_k", "eval_seed", "min_length"):
        assert getattr(job, key) == defaults[key], key
    assert (job.cell, job.layers, job.units, job.epochs, job.eval_every) == ("gru", 2, 3, 4, 4)


def test_bench_runs(capsys):
    rows = bench_memorization(10, 1, ["rnn:1:1"])
    assert rows[0]["runs"] == 10 and rows[0]["speedup"] > 0
    assert "rnn:1:1" in capsys.readouterr().out
