"""A training job of the long-memory study: one (dataset, split, model, K, H), all its seeds.

    python -m rnnmem train-long-memory --settings JSON --series CSV [--checkpoint NPZ]
                                       [--device-record JSON] --out F...

series -> prepare (min-max on the whole series, contiguous split, long-memory.md §4.2)
       -> init_params (reference-identical, one throw-away module tree per seed, long-memory.md §7)
       -> train_seeds on the model's fused kernel (long-memory.md §5: all seeds as one computation)
       -> test predictions from the zero state over train, validation and test (long-memory.md §6)
       -> one .npz per seed (arrays and meta of the per-seed contract, plus provenance)
       -> the job's log record (--device-record): its seconds and work (rnnmem/long_memory/
          cost.py), which the cost planner (python -m rnnmem plan) fits its estimates on.

The job checkpoints its whole training state every `checkpoint_every` epochs; a job that is
killed and run again resumes from it and writes the same bytes as one that ran through.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from rnnmem.core.device import device_record
from rnnmem.core.io import load_arrays, save_arrays, write_json
from rnnmem.core.provenance import provenance
from rnnmem.core.settings import add_settings_argument, from_settings, settings_json
from rnnmem.long_memory import cost
from rnnmem.long_memory.cells import init_params
from rnnmem.long_memory.data import prepare, read_series, split_for
from rnnmem.long_memory.evaluate import metrics, predict_test, seed_arrays
from rnnmem.long_memory.fetch import DataFileError
from rnnmem.long_memory.kernels import KERNELS
from rnnmem.long_memory.train import TrainSettings, state_from_arrays, state_to_arrays, train_seeds


@dataclass(frozen=True)
class JobSettings:
    """Everything a job's numbers depend on (built by its rule from the config)."""

    dataset: str
    split: str
    model: str
    K: int
    H: int
    seeds: list
    dtype: str
    tier: str
    lr: float
    betas: list
    eps: float
    max_epochs: int
    patience: int
    min_delta: float
    snapshot_rule: str
    checkpoint_every: int

    def training(self) -> TrainSettings:
        return TrainSettings(
            lr=self.lr,
            betas=(float(self.betas[0]), float(self.betas[1])),
            eps=self.eps,
            max_epochs=self.max_epochs,
            patience=self.patience,
            min_delta=self.min_delta,
            snapshot_rule=self.snapshot_rule,
            dtype=self.dtype,
        )

    def signature(self) -> str:
        """What a checkpoint must match to be resumed (not the checkpoint interval)."""
        return settings_json({k: v for k, v in asdict(self).items() if k != "checkpoint_every"})


def _load_checkpoint(path: Path | None, job: JobSettings):
    if path is None or not path.exists():
        return None
    arrays, meta = load_arrays(path)
    if meta.get("signature") != job.signature():
        print(f"rnnmem: checkpoint {path} is for other settings; starting afresh", file=sys.stderr)
        return None
    return state_from_arrays(arrays, job.training())


def run_job(job: JobSettings, series_path, checkpoint: Path | None = None, log=print):
    """Train and evaluate every seed of `job`: a list of (arrays, meta) per seed, in seed order."""
    if job.model not in KERNELS:
        raise ValueError(f"unknown model {job.model!r}; expected one of {sorted(KERNELS)}")
    kernel = KERNELS[job.model]
    data = prepare(read_series(series_path), split_for(job.dataset, job.split), name=job.dataset)
    dtype = np.dtype(job.dtype)
    x, y = data.x.astype(dtype), data.y.astype(dtype)
    params0 = init_params(job.model, job.seeds, H=job.H, K=job.K, dtype=dtype)
    settings = job.training()
    state = _load_checkpoint(checkpoint, job)
    if state is not None:
        log(f"resuming from {checkpoint} after epoch {state.epoch}")
    start = time.perf_counter()

    def on_epoch(epoch, state):
        done = epoch + 1
        if checkpoint is not None and done % job.checkpoint_every == 0 and state.active.any():
            save_arrays(
                checkpoint, state_to_arrays(state, settings), {"signature": job.signature()}
            )
        if done % 100 == 0:
            log(
                f"epoch {done}: {int(state.active.sum())} of {len(job.seeds)} seeds active, "
                f"{time.perf_counter() - start:.1f} s"
            )

    result = train_seeds(
        kernel.loss_grad, params0, x, y, data.n_train, data.n_val, job.K, settings, state, on_epoch
    )
    # Test predictions one step ahead from the true history; scored against the raw series.
    pred = data.unscale(
        predict_test(kernel.forward, result.snapshot, x, job.K, data.n_train, data.n_val)
    )
    records = seed_arrays(
        result,
        pred,
        data.test_true,
        job.seeds,
        dataset=job.dataset,
        split=job.split,
        model=job.model,
        K=job.K,
        H=job.H,
        snapshot_rule=job.snapshot_rule,
        n_train=data.n_train,
        n_val=data.n_val,
        tier=job.tier,
    )
    scores = metrics(pred, data.test_true)
    log(
        f"{job.model} on {job.dataset}-{job.split}: {len(job.seeds)} seeds, "
        f"epochs run {int(result.epochs_run.min())}..{int(result.epochs_run.max())}, "
        f"test RMSE mean {np.nanmean(scores['rmse']):.6g}, diverged {int(result.diverged.sum())}, "
        f"{time.perf_counter() - start:.1f} s"
    )
    return records


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnmem train-long-memory", description=__doc__)
    add_settings_argument(parser)
    parser.add_argument("--series", required=True, help="the data set's CSV (column x)")
    parser.add_argument("--checkpoint", type=Path, help="training state, resumed when present")
    parser.add_argument("--out", nargs="+", required=True, help="one .npz per seed, seed order")
    parser.add_argument(
        "--device-record", help="JSON file: what the job ran on, its seconds and work (a log)"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    job = from_settings(JobSettings, args.settings)
    if len(args.out) != len(job.seeds):
        parser.error(f"{len(args.out)} output files for {len(job.seeds)} seeds")
    try:
        records = run_job(job, args.series, args.checkpoint)
    except DataFileError as err:  # a bad data file: one line naming it and the fix
        parser.exit(1, f"{parser.prog}: {err}\n")
    record = provenance(config=asdict(job))
    for path, (arrays, meta) in zip(args.out, records, strict=True):
        save_arrays(path, arrays, {**meta, "provenance": record})
    if args.checkpoint is not None and args.checkpoint.exists():
        args.checkpoint.unlink()  # the results are complete: the state is no longer needed
        for folder in args.checkpoint.parents:  # and its empty folders, up to checkpoints/
            if "checkpoints" not in folder.parts:
                break
            try:
                folder.rmdir()
            except OSError:  # not empty (another job's checkpoint), or already gone
                break
    if args.device_record:
        write_json(args.device_record, job_log_record(job, records, time.perf_counter() - started))
    return 0


def job_log_record(job: JobSettings, records: list, seconds: float) -> dict:
    """The job's log record (not a result: the seconds differ between runs): the device,
    wall seconds, the planned work (at max_epochs, as the planner counts it) and the epochs
    the seeds ran."""
    epochs = [int(meta["epochs_run"]) for _, meta in records]
    return {
        **device_record(torch.device("cpu"), 0),  # the kernels run on the CPU; common fields
        "seconds": round(seconds, 3),
        "work": cost.train_work(asdict(job)),
        "work_unit": cost.WORK_UNIT,
        "epochs_run": {"min": min(epochs), "max": max(epochs), "max_epochs": job.max_epochs},
    }
