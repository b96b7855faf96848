"""Benchmark: the fused seed-batched kernels against a per-seed reference in the authors' style.

    python -m rnnmem bench long-memory [--seeds 100] [--train-steps 2500] [--val-steps 1000]
                                       [--ref-steps 200] [--models rnn mrnn ...]

Both sides run in this one process, on the same series (the tree7 file when --series is
given, else a synthetic long-memory-like series), float32, one thread:

* reference (rnnmem.long_memory.authors_style): one seed at a time, batch 1, a Python loop
  over steps calling small torch cells with autograd, the dynamic-d filter weights rebuilt
  at every step from scalar operations. It runs on a shorter segment (--ref-steps) and is
  compared per seed-step: seconds per seed-epoch = seconds per step x train steps. It does
  the training forward and backward only (the authors' validation pass would add more).
* engine (rnnmem.long_memory.kernels): all seeds at once, one `loss_grad` call = the forward
  over training and validation steps and the backward over the training steps.

Printed per model: seconds per seed-epoch of each and their ratio. Only ratios are meant to
be compared across machines.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from rnnmem.core.device import configure_torch
from rnnmem.long_memory.authors_style import authors_epoch
from rnnmem.long_memory.cells import MODELS, init_params
from rnnmem.long_memory.data import prepare, read_series
from rnnmem.long_memory.kernels import KERNELS


def bench_series(path, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Scaled inputs and targets [steps, 1] (float32): a file's first values, or synthetic."""
    if path is not None:
        values = read_series(path)
    else:  # a fractionally integrated random walk, roughly the character of the data sets
        rng = np.random.default_rng(0)
        values = np.cumsum(rng.standard_normal(steps + 2)) * 0.1 + rng.standard_normal(steps + 2)
    values = values[: steps + 2]
    n = values.shape[0] - 1
    data = prepare(values, (n - 2, 1, 1), name="bench")
    return data.x[:steps].astype(np.float32), data.y[:steps].astype(np.float32)


def _best_of(repeats: int, run) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_model(model, seeds, x, y, n_train, n_val, ref_steps, K, repeats) -> dict:
    kernel = KERNELS[model]
    params = init_params(model, range(seeds), K=K, dtype=np.float32)
    active = np.ones(seeds, dtype=bool)
    kernel.loss_grad(params, x, y, n_train, n_val, K, active)  # compile / warm up

    def engine():
        kernel.loss_grad(params, x, y, n_train, n_val, K, active)

    engine_s = _best_of(repeats, engine) / seeds
    one = {name: torch.from_numpy(p[0].copy()) for name, p in params.items()}
    xr, yr = torch.from_numpy(x[:ref_steps].copy()), torch.from_numpy(y[:ref_steps].copy())
    ref_step_s = _best_of(repeats, lambda: authors_epoch(model, one, xr, yr, ref_steps, K))
    reference_s = ref_step_s / ref_steps * n_train
    return dict(
        model=model,
        reference_s_per_seed_epoch=reference_s,
        engine_s_per_seed_epoch=engine_s,
        engine_ms_per_epoch=engine_s * seeds * 1e3,
        speedup=reference_s / engine_s,
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rnnmem bench long-memory",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seeds", type=int, default=100, help="seeds trained as one")
    parser.add_argument("--train-steps", type=int, default=2500, help="tree7's training segment")
    parser.add_argument("--val-steps", type=int, default=1000, help="tree7's validation segment")
    parser.add_argument("--ref-steps", type=int, default=200, help="the reference's segment")
    parser.add_argument("--K", type=int, default=100, help="filter length")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs")
    parser.add_argument("--series", help="a data file (column x) instead of synthetic data")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    args = parser.parse_args(argv)
    configure_torch(threads=1)
    x, y = bench_series(args.series, args.train_steps + args.val_steps)
    print(
        f"long-memory training epoch, {args.seeds} seeds, {args.train_steps} + {args.val_steps} "
        f"steps, K = {args.K}, H = 1, float32, 1 thread; reference = authors' style, one seed "
        f"at a time ({args.ref_steps}-step segment, per seed-step)"
    )
    for model in args.models:
        r = bench_model(
            model,
            args.seeds,
            x,
            y,
            args.train_steps,
            args.val_steps,
            args.ref_steps,
            args.K,
            args.repeats,
        )
        print(
            f"{model:>7}  reference {r['reference_s_per_seed_epoch']:9.4f} s/seed-epoch  "
            f"engine {r['engine_s_per_seed_epoch'] * 1e3:8.4f} ms/seed-epoch "
            f"({r['engine_ms_per_epoch']:7.1f} ms per {args.seeds}-seed epoch)  "
            f"speedup {r['speedup']:8.0f}x",
            flush=True,
        )
    return 0
