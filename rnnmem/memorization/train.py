"""Training: one job trains every model of one configuration, all at once, and writes one
output file per seed. CPU jobs run on the fused kernels (rnnmem.memorization.kernels), CUDA
jobs on the torch ensemble engine (rnnmem.core.ensemble); both behind one small interface
(epoch, evaluate, arrays, load).

    python -m rnnmem train-memorization --experiment fig6 --cell rnn --task variable \\
        --layers 1 --units 2 --settings JSON --tier smoke --out seed0.npz seed1.npz
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from rnnmem.core.device import configure_torch, device_label, device_record, select_device
from rnnmem.core.ensemble import Ensemble, n_params, sgd_apply
from rnnmem.core.io import save_arrays, write_json
from rnnmem.core.provenance import provenance
from rnnmem.memorization import kernels
from rnnmem.memorization.checkpoints import load_checkpoint, save_checkpoint
from rnnmem.memorization.cost import WORK_UNIT, train_work
from rnnmem.memorization.job import (
    TrainJob,
    add_job_arguments,
    epoch_batches,
    identity_of,
    job_record,
    longest_sequence,
    model_streams,
)
from rnnmem.memorization.readout import l1_loss_and_grads, predict
from rnnmem.memorization.task import eval_set, pad_time


class TorchEngine:
    """The torch ensemble engine (rnnmem.core.ensemble): the CUDA path of GPU-tagged jobs."""

    name = "torch"

    def __init__(self, job: TrainJob, model: Ensemble, eval_data, device):
        self.job, self.model, self.device = job, model.to(device), device
        self.eval_data = tuple(a.to(device) for a in map(torch.from_numpy, eval_data))

    def epoch(self, x, lengths, targets) -> np.ndarray:
        """steps_per_epoch SGD steps of every model; returns each step's losses (S, M)."""
        x, lengths, targets = (torch.from_numpy(a).to(self.device) for a in (x, lengths, targets))
        losses = []
        for s in range(self.job.steps_per_epoch):
            # each model's gradient is exactly its own (the engine sums losses over models)
            per_model, grads = l1_loss_and_grads(
                self.model, x[s], lengths[s], targets[s], self.job.tbptt_k
            )
            sgd_apply(self.model, grads, self.job.lr)
            losses.append(per_model)
        return torch.stack(losses).cpu().numpy()

    def evaluate(self) -> np.ndarray:
        """MAE of every model on its position's fixed evaluation set: (M,)."""
        x, lengths, targets = self.eval_data
        out = predict(self.model, x, lengths)
        return (out - targets).abs().mean(-1).double().cpu().numpy()

    def arrays(self) -> dict:
        return {k: v.cpu().numpy() for k, v in self.model.state_arrays().items()}

    def load(self, params: dict) -> None:
        self.model.load_arrays(params)


class KernelEngine:
    """The fused CPU kernels (rnnmem.memorization.kernels): the path of every CPU job.

    Same equations and float32 parameters as the torch engine; the two agree to float32
    rounding, not bit for bit (tests/memorization/test_task_train.py).
    """

    name = "kernels"

    def __init__(self, job: TrainJob, model: Ensemble, eval_data, device=None):
        self.job, self.eval_data = job, eval_data
        self.net = kernels.Net(job.cell, job.layers, job.units)
        self.theta = kernels.pack(self.net, {k: v.numpy() for k, v in model.state_arrays().items()})

    def epoch(self, x, lengths, targets) -> np.ndarray:
        """steps_per_epoch SGD steps of every model; returns each step's losses (S, M)."""
        job = self.job
        return kernels.train_epoch(self.net, self.theta, x, lengths, targets, job.lr, job.tbptt_k)

    def evaluate(self) -> np.ndarray:
        """MAE of every model on its position's fixed evaluation set: (M,)."""
        x, lengths, targets = self.eval_data
        out = kernels.predict(self.net, self.theta, x, lengths)
        return np.abs(out - targets).mean(-1).astype(np.float64)

    def arrays(self) -> dict:
        return {k: v.copy() for k, v in kernels.unpack(self.net, self.theta).items()}

    def load(self, params: dict) -> None:
        self.theta[:] = kernels.pack(self.net, params)


ENGINES = {"torch": TorchEngine, "kernels": KernelEngine}


def engine_for(device: torch.device) -> str:
    """The engine a job runs on: the kernels on the CPU, the torch engine on CUDA."""
    return "kernels" if device.type == "cpu" else "torch"


def _eval_arrays(job: TrainJob, t_max: int):
    """Every model's evaluation set: x (M, N, T) float32, lengths (M, N), targets (M, N)."""
    sets = {p: eval_set(job.task_spec, p, job.eval_sequences, job.eval_seed) for p in job.positions}
    x = np.stack([pad_time(sets[p][0], t_max) for _, p in job.models])
    lengths = np.stack([sets[p][1] for _, p in job.models])
    targets = np.stack([sets[p][2] for _, p in job.models])
    return x, lengths, targets


def train(job: TrainJob, device=None, checkpoint: Path | None = None, log=print, engine=None):
    """Train every model of the job (on `device`, default the CPU) with `engine` ("kernels"
    or "torch"; default: engine_for(device)). Returns a dict of per-model arrays (model axis
    first)."""
    device = torch.device("cpu") if device is None else device
    engine = engine_for(device) if engine is None else engine
    if engine == "kernels" and device.type != "cpu":
        raise ValueError(f"the kernels run on the CPU, not on {device}")
    t_max = longest_sequence(job)
    inits, rngs, entropy = model_streams(job)
    M = len(job.models)
    model = Ensemble(job.cell, M, job.layers, job.units)
    model.init_uniform_(inits)
    initial = {k: v.numpy() for k, v in model.state_arrays().items()}
    runner = ENGINES[engine](job, model, _eval_arrays(job, t_max), device)
    eval_marks = job.eval_epochs()

    train_curve = np.full((M, job.epochs), np.nan, dtype=np.float32)
    eval_curve = np.full((M, len(eval_marks)), np.nan)
    start = 0
    if checkpoint is not None and checkpoint.exists():
        start, params = load_checkpoint(checkpoint, job, rngs, train_curve, eval_curve)
        if params is not None:
            runner.load(params)
            log(f"resumed from checkpoint at epoch {start}")

    for epoch in range(start, job.epochs):
        losses = runner.epoch(*epoch_batches(job, rngs, t_max))  # (S, M)
        epoch_loss = np.zeros(M)
        for step_loss in losses:  # in step order, in float64
            epoch_loss += step_loss
        train_curve[:, epoch] = epoch_loss / job.steps_per_epoch
        if epoch + 1 in eval_marks:
            eval_curve[:, eval_marks.index(epoch + 1)] = runner.evaluate()
        done = epoch + 1
        if checkpoint is not None and done % job.checkpoint_every == 0 and done < job.epochs:
            save_checkpoint(checkpoint, job, runner.arrays(), rngs, train_curve, eval_curve, done)
        if done % max(1, job.epochs // 10) == 0:
            mean = np.nanmean(train_curve[:, epoch])
            log(f"epoch {done}/{job.epochs}: mean train loss {mean:.4f}")

    final = runner.arrays()
    final_loss = eval_curve[:, -1]
    finite_weights = np.stack([np.isfinite(v).reshape(M, -1).all(1) for v in final.values()])
    diverged = ~np.isfinite(final_loss) | ~np.all(finite_weights, axis=0)
    best = [np.nanmin(r) if np.isfinite(r).any() else np.nan for r in eval_curve]
    return {
        "train_curve": train_curve,
        "eval_curve": eval_curve,
        "eval_epochs": np.array(eval_marks),
        "final_loss": np.where(diverged, np.nan, final_loss),
        "best_loss": np.array(best),
        "diverged": diverged,
        "initial": initial,
        "final": final,
        "entropy": entropy,
        "engine": engine,
    }


def seed_file_arrays(job: TrainJob, result: dict, seed: int):
    """The arrays and meta record of one seed's output file."""
    idx = [i for i, (s, _) in enumerate(job.models) if s == seed]
    arrays = {
        "positions": np.array(job.positions),
        "final_loss": result["final_loss"][idx],
        "best_loss": result["best_loss"][idx],
        "diverged": result["diverged"][idx],
        "train_curve": result["train_curve"][idx],
        "eval_curve": result["eval_curve"][idx],
        "eval_epochs": result["eval_epochs"],
    }
    for stage in ("initial", "final"):
        for name, value in result[stage].items():
            arrays[f"{stage}/{name}"] = value[idx]
    meta = {
        "job": job.record(),
        "seed": seed,
        "seed_entropy": [result["entropy"][i] for i in idx],
        "n_params": n_params(job.cell, job.layers, job.units),
        "engine": result["engine"],
    }
    return arrays, meta


def main(argv) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rnnmem train-memorization", description=__doc__
    )
    add_job_arguments(parser)
    parser.add_argument("--checkpoint", type=Path, default=None, help="resume file (optional)")
    parser.add_argument("--out", nargs="+", required=True, help="one output file per seed")
    args = parser.parse_args(argv)
    job = TrainJob.of(identity_of(args), args.settings)
    if len(args.out) != job.seeds:
        parser.error(f"--out names {len(args.out)} files for {job.seeds} seeds")
    configure_torch(threads=1)
    device = select_device(args.gpus)
    started = time.perf_counter()
    result = train(job, device, args.checkpoint, log=lambda m: print(m, file=sys.stderr))
    n_div = int(result["diverged"].sum())
    if n_div:
        print(
            f"warning: {n_div} of {len(job.models)} runs diverged (non-finite loss or weights); "
            "recorded as diverged, other runs kept",
            file=sys.stderr,
        )
    # the job's full effective settings, which every table made from these files lists
    record = provenance(config=job_record("train-memorization", identity_of(args), args.settings))
    for seed, path in enumerate(args.out):
        arrays, meta = seed_file_arrays(job, result, seed)
        meta["device"] = device_label(device)
        meta["tier"] = args.tier
        meta["provenance"] = record
        save_arrays(path, arrays, meta)
    if args.checkpoint is not None and args.checkpoint.exists():
        args.checkpoint.unlink()
    if args.device_record:
        record = device_record(device, args.gpus)
        # log only, not a result: what the cost planner (rnnmem.core.costs) calibrates on
        record["seconds"] = round(time.perf_counter() - started, 3)
        record.update(work=train_work(job), work_unit=WORK_UNIT, engine=result["engine"])
        write_json(args.device_record, record)
    return 0
