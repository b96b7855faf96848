"""Benchmark: the ensemble engine against training one torch.nn model per run.

    python -m rnnmem bench memorization [--runs 100] [--epochs 20] [--configs rnn:1:5 ...]

Both sides train the same runs (same seeds, same fresh data per mini-batch, same SGD
settings: the study's defaults from workflow/schemas/memorization.schema.yaml) in this
one process, one after the other, and the bench prints the seconds per run of each and
their ratio per (cell, layers, units). Only ratios are meant to be compared across
machines.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from rnnmem.core.device import configure_torch
from rnnmem.core.settings import schema_defaults
from rnnmem.memorization.job import (
    IDENTITY,
    TrainJob,
    epoch_batches,
    longest_sequence,
    model_streams,
)
from rnnmem.memorization.train import train

TORCH_MODULES = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
POSITIONS = list(range(1, 11))


def bench_job(cell: str, layers: int, units: int, seeds: int, epochs: int) -> TrainJob:
    """A job with the study's default settings, evaluated once at the end on 64 sequences."""
    defaults = schema_defaults("memorization")
    fields = [f for f in TrainJob.__dataclass_fields__ if f not in (*IDENTITY, "models")]
    settings = {k: defaults[k] for k in fields if k in defaults}
    settings.update(
        positions=POSITIONS, seeds=seeds, epochs=epochs, eval_every=epochs, eval_sequences=64
    )
    identity = dict(experiment="bench", cell=cell, task="variable", layers=layers, units=units)
    return TrainJob.of(identity, settings)


def naive_train(job: TrainJob) -> np.ndarray:
    """Train each run alone as a torch.nn module with autograd; returns last epoch's losses."""
    inits, rngs, _ = model_streams(job)
    t_max = longest_sequence(job)
    final = []
    for m in range(len(job.models)):
        net = TORCH_MODULES[job.cell](1, job.units, job.layers, batch_first=True)
        bound = 1.0 / np.sqrt(job.units)
        with torch.no_grad():
            for p in net.parameters():
                p.copy_(torch.empty(p.shape).uniform_(-bound, bound, generator=inits[m]))
        one = _single(job, m)
        for _ in range(job.epochs):
            batches = epoch_batches(one, [rngs[m]], t_max)
            x, lengths, targets = (torch.from_numpy(a[:, 0]) for a in batches)
            for s in range(job.steps_per_epoch):
                seq_out, _ = net(x[s].unsqueeze(-1))  # (B, T, c)
                readout = seq_out[torch.arange(job.batch_size), lengths[s] - 1].sum(-1)
                loss = (readout - targets[s]).abs().mean()
                net.zero_grad()
                loss.backward()
                with torch.no_grad():
                    for p in net.parameters():
                        p -= job.lr * p.grad
        final.append(loss.item())
    return np.array(final)


def _single(job: TrainJob, m: int) -> TrainJob:
    """A job view holding only model m (for the data sampler)."""
    one = TrainJob(**{k: v for k, v in vars(job).items() if k != "models"})
    one.models = [job.models[m]]
    return one


def bench_memorization(runs: int, epochs: int, configs: list[str]) -> list[dict]:
    rows = []
    for spec in configs:
        cell, layers, units = spec.split(":")
        seeds = max(1, runs // len(POSITIONS))
        job = bench_job(cell, int(layers), int(units), seeds, epochs)
        n = len(job.models)
        start = time.perf_counter()
        naive_train(job)
        naive = time.perf_counter() - start
        start = time.perf_counter()
        train(job, log=lambda _: None)
        engine = time.perf_counter() - start
        row = dict(
            config=spec,
            runs=n,
            naive_s_per_run=naive / n,
            engine_s_per_run=engine / n,
            speedup=naive / engine,
        )
        rows.append(row)
        print(
            f"{spec:>10}  runs={n:4d}  naive {row['naive_s_per_run']:.4f} s/run  "
            f"engine {row['engine_s_per_run']:.4f} s/run  speedup {row['speedup']:.1f}x",
            flush=True,
        )
    return rows


def main(argv) -> int:
    """`rnnmem bench memorization [options]`: argv holds the options (a leading study name,
    as `rnnmem bench` passes it through, is accepted)."""
    argv = list(argv)
    if argv[:1] == ["memorization"]:
        argv = argv[1:]
    parser = argparse.ArgumentParser(
        prog="rnnmem bench memorization",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--runs", type=int, default=100, help="runs per configuration")
    parser.add_argument(
        "--epochs", type=int, default=20, help="epochs per run (of steps_per_epoch SGD steps each)"
    )
    parser.add_argument(
        "--configs",
        nargs="+",
        default=["rnn:1:5", "lstm:1:5", "gru:1:5", "rnn:2:10"],
        help="cell:layers:units",
    )
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    configure_torch(threads=args.threads)
    steps = schema_defaults("memorization")["steps_per_epoch"]
    print(
        f"memorization training, {args.runs} runs x {args.epochs} epochs x {steps} steps, "
        f"{args.threads} thread(s); naive = one torch.nn model per run, one after another"
    )
    bench_memorization(args.runs, args.epochs, args.configs)
    return 0
