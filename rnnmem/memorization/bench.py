"""Benchmark: one torch.nn model per run, the torch ensemble engine and the fused CPU kernels.

    python -m rnnmem bench memorization [--runs 100] [--epochs 20] [--configs rnn:1:5 ...]

All three train the same runs (same seeds, same fresh data per mini-batch, same SGD settings:
the study's defaults from workflow/schemas/memorization.schema.yaml) in this one process, one
after the other, and the bench prints the seconds per run of each and their ratios per
(cell, layers, units). The engine and kernel columns are whole jobs of train.train (data
draws and the evaluation included; engine="torch" and engine="kernels"); `data` is the
share of the kernels' time spent drawing the data (timed apart), and GFLOP/s their rate on
the products' multiply-adds (a per-run-epoch count, printed beside it). Only ratios are
meant to be compared across machines.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from rnnmem.core.device import configure_torch
from rnnmem.core.settings import schema_defaults, validate
from rnnmem.memorization import plan as mem_plan
from rnnmem.memorization.cost import flops_per_run_epoch, train_work
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
CONFIGS = ["rnn:1:5", "lstm:1:5", "gru:1:5", "rnn:2:10", "lstm:3:10", "rnn:5:20"]


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


def data_seconds(job: TrainJob) -> float:
    """Seconds spent drawing the job's training data (every epoch's batches), as train.py
    draws them: the part of a job no engine can speed up."""
    t_max = longest_sequence(job)
    _, rngs, _ = model_streams(job)
    start = time.perf_counter()
    for _ in range(job.epochs):
        epoch_batches(job, rngs, t_max)
    return time.perf_counter() - start


def _timed(fn, job):
    start = time.perf_counter()
    result = fn(job)
    return time.perf_counter() - start, result


def bench_row(spec: str, runs: int, epochs: int) -> dict:
    """One configuration 'cell:layers:units': naive, engine and kernels on the same runs."""
    cell, layers, units = spec.split(":")
    seeds = max(1, runs // len(POSITIONS))
    job = bench_job(cell, int(layers), int(units), seeds, epochs)
    n = len(job.models)
    quiet = dict(log=lambda _: None)
    train(bench_job(cell, int(layers), int(units), 1, 1), engine="kernels", **quiet)  # compile
    naive, _ = _timed(naive_train, job)
    engine, result = _timed(lambda j: train(j, engine="torch", **quiet), job)
    kernel, fused = _timed(lambda j: train(j, engine="kernels", **quiet), job)
    data_s = data_seconds(job)
    flops = flops_per_run_epoch(job)
    return dict(
        config=spec,
        runs=n,
        naive_s_per_run=naive / n,
        engine_s_per_run=engine / n,
        kernel_s_per_run=kernel / n,
        engine_vs_naive=naive / engine,
        kernel_vs_engine=engine / kernel,
        kernel_vs_naive=naive / kernel,
        data_share=data_s / kernel,
        flops_per_run_epoch=flops,
        kernel_gflops=flops * n * epochs / (kernel - data_s) / 1e9,
        final_loss_diff=float(np.nanmax(np.abs(fused["eval_curve"] - result["eval_curve"]))),
    )


HEADER = (
    f"{'config':>10} {'runs':>5} {'naive s/run':>12} {'engine s/run':>13} {'kernels s/run':>14}"
    f" {'engine/naive':>13} {'kernels/engine':>15} {'kernels/naive':>14} {'data':>5}"
    f" {'MFLOP/run-epoch':>16} {'GFLOP/s':>8} {'max |d loss|':>13}"
)


def format_row(row: dict) -> str:
    return (
        f"{row['config']:>10} {row['runs']:5d} {row['naive_s_per_run']:12.4f}"
        f" {row['engine_s_per_run']:13.4f} {row['kernel_s_per_run']:14.5f}"
        f" {row['engine_vs_naive']:12.1f}x {row['kernel_vs_engine']:14.1f}x"
        f" {row['kernel_vs_naive']:13.0f}x {row['data_share']:5.0%}"
        f" {row['flops_per_run_epoch'] / 1e6:16.2f} {row['kernel_gflops']:8.1f}"
        f" {row['final_loss_diff']:13.1e}"
    )


def tier_job(configfile: str, spec: str, epochs: int) -> tuple[TrainJob, TrainJob]:
    """The planned job 'experiment:job name' of a tier file at its full settings, and the
    same job cut to `epochs` epochs (what a slice measures)."""
    experiment, _, name = spec.partition(":")
    raw = yaml.safe_load(Path(configfile).read_text()) or {}
    section = validate(dict(raw.get("memorization") or {}), "memorization", prefix="memorization")
    if experiment not in section["experiments"]:
        raise SystemExit(f"{configfile}: no memorization experiment {experiment!r} ({spec})")
    for job in mem_plan.jobs(section, experiment):
        if job.name == name:
            settings = mem_plan.train_settings(section, experiment, job.wildcards)
            identity = dict(experiment=experiment, **job.wildcards)
            full = TrainJob.of(identity, settings)
            return full, TrainJob.of(identity, {**settings, "epochs": epochs})
    names = ", ".join(j.name for j in mem_plan.jobs(section, experiment))
    raise SystemExit(f"{configfile}: {experiment} has no job {name!r}; its jobs: {names}")


def slice_row(configfile: str, spec: str, epochs: int) -> dict:
    """Train `epochs` epochs of a tier's job on the kernels, as its rule would (all its
    runs), and scale the time to the job's full epochs (evaluations: one, at the end)."""
    full, short = tier_job(configfile, spec, epochs)
    train(tier_job(configfile, spec, 1)[1], log=lambda _: None)  # compile or load outside
    seconds, _ = _timed(lambda j: train(j, engine="kernels", log=lambda _: None), short)
    return dict(
        job=spec,
        runs=len(full.models),
        epochs=epochs,
        seconds=seconds,
        full_epochs=full.epochs,
        full_hours=seconds * full.epochs / epochs / 3600,
        gflops=train_work(short) / seconds / 1e9,
    )


def bench_memorization(runs: int, epochs: int, configs: list[str]) -> list[dict]:
    rows = []
    print(HEADER, flush=True)
    for spec in configs:
        rows.append(bench_row(spec, runs, epochs))
        print(format_row(rows[-1]), flush=True)
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
    parser.add_argument("--configs", nargs="+", default=CONFIGS, help="cell:layers:units")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--tier-jobs",
        nargs="+",
        metavar="EXPERIMENT:JOB",
        help="instead: time these jobs of --configfile's tier at their full settings for "
        "--epochs epochs each (a slice), e.g. fig6:rnn-variable-l5-c20",
    )
    parser.add_argument("--configfile", default="config/paper.yaml", help="for --tier-jobs")
    args = parser.parse_args(argv)
    configure_torch(threads=args.threads)
    if args.tier_jobs:
        print(f"slice of {args.configfile}: {args.epochs} epochs per job on the kernels")
        for spec in args.tier_jobs:
            row = slice_row(args.configfile, spec, args.epochs)
            print(
                f"{row['job']}: {row['runs']} runs x {row['epochs']} epochs in "
                f"{row['seconds']:.1f} s ({row['gflops']:.1f} GFLOP/s); at its "
                f"{row['full_epochs']} epochs: {row['full_hours']:.2f} core-hours",
                flush=True,
            )
        return 0
    steps = schema_defaults("memorization")["steps_per_epoch"]
    print(
        f"memorization training, {args.runs} runs x {args.epochs} epochs x {steps} steps, "
        f"{args.threads} thread(s); naive = one torch.nn model per run, one after another; "
        "engine = the torch ensemble engine; kernels = the fused CPU kernels (float32)"
    )
    bench_memorization(args.runs, args.epochs, args.configs)
    return 0
