"""One training job: one configuration (experiment, cell, task, layers, units) for all its
target positions p and seeds, as one ensemble on the model axis.

A job's settings come from its rule (`--settings`, built from the validated config) and
its identity from the rule's wildcards; `from_settings` joins the two. No field has a
default: the schema (workflow/schemas/memorization.schema.yaml) holds them all.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from rnnmem.core.seeds import mt19937, seed_sequence, torch_seed
from rnnmem.core.settings import add_settings_argument, from_settings
from rnnmem.memorization.task import TaskSpec

# What names a job (the rule's wildcards and experiment), not part of --settings.
IDENTITY = ("experiment", "cell", "task", "layers", "units")


@dataclass
class TrainJob:
    """One training job: one configuration, all its positions and seeds."""

    experiment: str
    cell: str
    task: str
    layers: int
    units: int
    positions: list[int]
    seeds: int
    epochs: int
    lr: float
    batch_size: int
    steps_per_epoch: int
    tbptt_k: int | None
    eval_sequences: int
    eval_every: int
    eval_seed: int
    seed: int  # base seed: part of every run's seed key
    min_length: int
    window: int
    fixed_length: int
    long_positions: str
    checkpoint_every: int
    models: list = field(init=False)

    def __post_init__(self):
        self.positions = [int(p) for p in self.positions]
        self.lr = float(self.lr)  # a config may write lr: 1; the job's record says 1.0
        # model axis: seed-major, then position
        self.models = [(s, p) for s in range(self.seeds) for p in self.positions]
        for p in self.positions:
            self.task_spec.length_bounds(p)  # raises on an impossible grid

    @classmethod
    def of(cls, identity: dict, settings: dict) -> TrainJob:
        """The job named by `identity` (IDENTITY keys) with `settings` (every other field)."""
        clash = sorted(set(identity) & set(settings))
        if clash:
            raise ValueError(f"--settings must not name the job's identity: {clash}")
        return from_settings(cls, {**identity, **settings})

    @property
    def task_spec(self) -> TaskSpec:
        return TaskSpec(
            self.task, self.min_length, self.window, self.fixed_length, self.long_positions
        )

    @property
    def name(self) -> str:
        return f"{self.cell}-{self.task}-l{self.layers}-c{self.units}"

    def run_key(self, seed: int, position: int) -> tuple:
        """The seed key of one run (memorization.md §3: figure, cell, task, l, c, p, run)."""
        return (
            "memorization",
            self.seed,
            self.experiment,
            self.cell,
            self.task,
            self.layers,
            self.units,
            position,
            seed,
        )

    def eval_epochs(self) -> list[int]:
        """Epochs (1-based) after which the eval loss is stored: every eval_every, and the last."""
        marks = list(range(self.eval_every, self.epochs + 1, self.eval_every))
        return marks if marks and marks[-1] == self.epochs else marks + [self.epochs]

    def record(self) -> dict:
        """The job's settings as its seed files record them (no model list, no checkpointing)."""
        return {k: v for k, v in asdict(self).items() if k not in ("models", "checkpoint_every")}

    def signature(self) -> str:
        """Everything that determines the job's numbers (checkpoints must match it)."""
        d = asdict(self)
        d.pop("models", None)
        d.pop("checkpoint_every", None)
        return json.dumps(d, sort_keys=True)


def add_job_arguments(parser: argparse.ArgumentParser) -> None:
    """A job's command line: its identity (the rule's wildcards) and `--settings`."""
    a = parser.add_argument
    a("--experiment", required=True)
    a("--cell", required=True, choices=["rnn", "lstm", "gru"])
    a("--task", required=True, choices=["variable", "fixed"])
    a("--layers", type=int, required=True)
    a("--units", type=int, required=True)
    add_settings_argument(parser)
    a("--tier", required=True, help="tier name, recorded with the results")
    a("--gpus", type=int, default=0, help="GPUs the job was given (0: run on the CPU)")
    a("--device-record", default=None, help="JSON file for the job's device record (a log)")


def identity_of(args: argparse.Namespace) -> dict:
    return {k: getattr(args, k) for k in IDENTITY}


def job_record(command: str, identity: dict, settings: dict) -> dict:
    """A job's full effective settings as the provenance of its outputs holds them: the
    command it ran, its identity (the rule's wildcards) and its --settings as given."""
    return {"command": command, **identity, **settings}


def model_streams(job: TrainJob):
    """Per model: (torch init generator, numpy data generator), from its own seed key."""
    inits, data, entropy = [], [], []
    for seed, position in job.models:
        seq = seed_sequence(*job.run_key(seed, position))
        weights_seq, data_seq, _ = seq.spawn(3)  # children: weights, data, (unused)
        inits.append(torch.Generator().manual_seed(torch_seed(weights_seq)))
        data.append(mt19937(data_seq))
        entropy.append(list(map(int, seq.entropy)))
    return inits, data, entropy


def epoch_batches(job: TrainJob, rngs, t_max: int):
    """One epoch of fresh data for every model: x (S, M, B, T), lengths, targets (S, M, B)."""
    S, M, B = job.steps_per_epoch, len(job.models), job.batch_size
    xs = np.zeros((S, M, B, t_max), dtype=np.float32)  # right padding is never read
    ls, ys = np.empty((S, M, B), dtype=np.int64), np.empty((S, M, B), dtype=np.float32)
    for m, ((_, position), rng) in enumerate(zip(job.models, rngs, strict=True)):
        x, ls[:, m], ys[:, m] = job.task_spec.sample(rng, position, (S, B))
        xs[:, m, :, : x.shape[-1]] = x
    return xs, ls, ys


def longest_sequence(job: TrainJob) -> int:
    """T of the job's batches: the longest sequence any of its positions can draw."""
    return max(job.task_spec.length_bounds(p)[1] for p in job.positions)
