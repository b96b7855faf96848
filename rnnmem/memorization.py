"""The random memorization task (spec/memory-distance.md): data, training jobs, probes.

A network reads x_1..x_q, i.i.d. Uniform[0, 1], and must output x_{q+1-p}, the p-th
element from the end (p = 1 is the last). One training job trains one configuration
(experiment, cell, task, layers, units) for all its positions p and seeds at once on the
ensemble engine and writes one file per seed.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from rnnmem import memory_capacity as mc
from rnnmem.core.device import configure_torch, device_label, device_record, select_device
from rnnmem.ensemble import (
    VECTOR_ALIGN,
    Ensemble,
    l1_loss_and_grads,
    n_params,
    param_names,
    sgd_apply,
)
from rnnmem.core.io import load_arrays, read_csv, save_arrays, write_csv, write_json
from rnnmem.core.provenance import provenance
from rnnmem.core.seeds import mt19937, seed_sequence, torch_seed

# Fixed-guess level: E|U - 0.5| for U ~ Uniform[0, 1], the loss of "no information".
FIXED_GUESS_LOSS = 0.25


# ------------------------------------------------------------------------------- task
@dataclass(frozen=True)
class TaskSpec:
    """Sequence lengths of the two task variants (spec section 2).

    variable (Def. 1): q ~ Uniform{L_p .. L_p + window - 1} with L_p = max(min_length, p)
    (long_positions 'shift', the spec's DECISION: Def. 1 exactly for p <= min_length), or
    L_p = p for every p (long_positions 'offset': q ~ p - 1 + Uniform{1..window}).
    fixed (Def. 2): q = fixed_length; positions p > fixed_length are impossible.
    """

    task: str
    min_length: int = 10
    window: int = 6
    fixed_length: int = 10
    long_positions: str = "shift"

    def length_bounds(self, position: int) -> tuple[int, int]:
        """Inclusive (lowest, highest) sequence length for target position p."""
        if self.task == "fixed":
            if position > self.fixed_length:
                raise ValueError(
                    f"position p={position} is impossible on the fixed-length task "
                    f"(q = fixed_length = {self.fixed_length})"
                )
            return self.fixed_length, self.fixed_length
        if self.task != "variable":
            raise ValueError(f"unknown task {self.task!r}; expected 'variable' or 'fixed'")
        if self.long_positions == "offset":
            return position, position + self.window - 1
        low = max(self.min_length, position)
        return low, low + self.window - 1

    def position_possible(self, position: int) -> bool:
        return self.task == "variable" or position <= self.fixed_length

    def sample(self, rng: np.random.Generator, position: int, shape: tuple[int, ...]):
        """Draw sequences: x (*shape, q_max) float32, lengths (*shape,), targets (*shape,).

        Draw order (lengths, then values) is part of the seed contract: do not change it.
        """
        low, high = self.length_bounds(position)
        lengths = rng.integers(low, high + 1, size=shape)
        x = rng.random((*shape, high)).astype(np.float32)
        rows = x.reshape(-1, high)
        targets = rows[np.arange(len(rows)), (lengths - position).ravel()].reshape(shape)
        return x, lengths, targets


def pad_time(x: np.ndarray, t_max: int) -> np.ndarray:
    """Right-pad the last axis with zeros to t_max (padding is never read)."""
    return np.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, t_max - x.shape[-1])])


def eval_set(task: TaskSpec, position: int, n: int, eval_seed: int):
    """The fixed evaluation set of one (task, p), shared by all runs (spec section 3)."""
    rng = mt19937(seed_sequence("memorization-eval", eval_seed, task.task, position))
    return task.sample(rng, position, (n,))


# ---------------------------------------------------------------------------- the job
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
    lr: float = 0.03
    batch_size: int = 32
    steps_per_epoch: int = 10
    tbptt_k: int | None = None
    eval_sequences: int = 4096
    eval_every: int = 100
    eval_seed: int = 20221
    seed: int = 0  # base seed: part of every run's seed key
    min_length: int = 10
    window: int = 6
    fixed_length: int = 10
    long_positions: str = "shift"
    checkpoint_every: int = 100
    models: list = field(init=False)

    def __post_init__(self):
        self.positions = [int(p) for p in self.positions]
        # model axis: seed-major, then position
        self.models = [(s, p) for s in range(self.seeds) for p in self.positions]
        for p in self.positions:
            self.task_spec.length_bounds(p)  # raises on an impossible grid

    @property
    def task_spec(self) -> TaskSpec:
        return TaskSpec(self.task, self.min_length, self.window, self.fixed_length, self.long_positions)

    @property
    def name(self) -> str:
        return f"{self.cell}-{self.task}-l{self.layers}-c{self.units}"

    def run_key(self, seed: int, position: int) -> tuple:
        """The seed key of one run (spec section 3: figure, cell, task, l, c, p, run)."""
        return ("memorization", self.seed, self.experiment, self.cell, self.task,
                self.layers, self.units, position, seed)

    def eval_epochs(self) -> list[int]:
        """Epochs (1-based) after which the eval loss is stored: every eval_every, and the last."""
        marks = list(range(self.eval_every, self.epochs + 1, self.eval_every))
        return marks if marks and marks[-1] == self.epochs else marks + [self.epochs]

    def signature(self) -> str:
        """Everything that determines the job's numbers (checkpoints must match it)."""
        d = asdict(self)
        d.pop("models", None)
        d.pop("checkpoint_every", None)
        return json.dumps(d, sort_keys=True)


def _streams(job: TrainJob):
    """Per model: (torch init generator, numpy data generator), from its own seed key."""
    inits, data, entropy = [], [], []
    for seed, position in job.models:
        seq = seed_sequence(*job.run_key(seed, position))
        weights_seq, data_seq, _ = seq.spawn(3)  # children: weights, data, (unused)
        inits.append(torch.Generator().manual_seed(torch_seed(weights_seq)))
        data.append(mt19937(data_seq))
        entropy.append(list(map(int, seq.entropy)))
    return inits, data, entropy


def _epoch_batches(job: TrainJob, rngs, t_max: int):
    """One epoch of fresh data for every model: x (S, M, B, T), lengths, targets (S, M, B)."""
    S, M, B = job.steps_per_epoch, len(job.models), job.batch_size
    xs = np.zeros((S, M, B, t_max), dtype=np.float32)  # right padding is never read
    ls, ys = np.empty((S, M, B), dtype=np.int64), np.empty((S, M, B), dtype=np.float32)
    for m, ((_, position), rng) in enumerate(zip(job.models, rngs)):
        x, ls[:, m], ys[:, m] = job.task_spec.sample(rng, position, (S, B))
        xs[:, m, :, : x.shape[-1]] = x
    return xs, ls, ys


def _evaluate(model: Ensemble, job: TrainJob, eval_data, device) -> np.ndarray:
    """MAE of every model on its position's fixed evaluation set: (M,)."""
    x, lengths, targets = eval_data
    out, _ = model.infer(x.to(device), lengths.to(device))
    return (out - targets.to(device)).abs().mean(-1).double().cpu().numpy()


def _eval_tensors(job: TrainJob, t_max: int):
    cache = {p: eval_set(job.task_spec, p, job.eval_sequences, job.eval_seed) for p in job.positions}
    x = np.stack([pad_time(cache[p][0], t_max) for _, p in job.models])
    lengths = np.stack([cache[p][1] for _, p in job.models])
    targets = np.stack([cache[p][2] for _, p in job.models])
    return torch.from_numpy(x), torch.from_numpy(lengths), torch.from_numpy(targets)


def train(job: TrainJob, device=torch.device("cpu"), checkpoint: Path | None = None, log=print):
    """Train every model of the job. Returns a dict of per-model arrays (model axis first)."""
    t_max = max(job.task_spec.length_bounds(p)[1] for p in job.positions)
    inits, rngs, entropy = _streams(job)
    M = len(job.models)
    model = Ensemble(job.cell, M, job.layers, job.units)
    model.init_uniform_(inits)
    initial = {k: v.numpy() for k, v in model.state_arrays().items()}
    model.to(device)
    eval_data = _eval_tensors(job, t_max)
    eval_marks = job.eval_epochs()

    train_curve = np.full((M, job.epochs), np.nan, dtype=np.float32)
    eval_curve = np.full((M, len(eval_marks)), np.nan)
    start = 0
    if checkpoint is not None and checkpoint.exists():
        start = _load_checkpoint(checkpoint, job, model, rngs, train_curve, eval_curve)
        log(f"resumed from checkpoint at epoch {start}")

    for epoch in range(start, job.epochs):
        x, lengths, targets = (torch.from_numpy(a).to(device) for a in _epoch_batches(job, rngs, t_max))
        epoch_loss = torch.zeros(M, dtype=torch.float64, device=device)
        for s in range(job.steps_per_epoch):
            # each model's gradient is exactly its own (the engine sums losses over models)
            per_model, grads = l1_loss_and_grads(model, x[s], lengths[s], targets[s], job.tbptt_k)
            sgd_apply(model, grads, job.lr)
            epoch_loss += per_model.double()
        train_curve[:, epoch] = (epoch_loss / job.steps_per_epoch).cpu().numpy()
        if epoch + 1 in eval_marks:
            eval_curve[:, eval_marks.index(epoch + 1)] = _evaluate(model, job, eval_data, device)
        if checkpoint is not None and (epoch + 1) % job.checkpoint_every == 0 and epoch + 1 < job.epochs:
            _save_checkpoint(checkpoint, job, model, rngs, train_curve, eval_curve, epoch + 1)
        if (epoch + 1) % max(1, job.epochs // 10) == 0:
            log(f"epoch {epoch + 1}/{job.epochs}: mean train loss {np.nanmean(train_curve[:, epoch]):.4f}")

    final = {k: v.cpu().numpy() for k, v in model.state_arrays().items()}
    final_loss = eval_curve[:, -1]
    diverged = ~np.isfinite(final_loss) | ~np.all(
        np.stack([np.isfinite(v).reshape(M, -1).all(1) for v in final.values()]), axis=0
    )
    return {
        "train_curve": train_curve,
        "eval_curve": eval_curve,
        "eval_epochs": np.array(eval_marks),
        "final_loss": np.where(diverged, np.nan, final_loss),
        "best_loss": np.array([np.nanmin(r) if np.isfinite(r).any() else np.nan for r in eval_curve]),
        "diverged": diverged,
        "initial": initial,
        "final": final,
        "entropy": entropy,
    }


def _save_checkpoint(path, job, model, rngs, train_curve, eval_curve, epoch):
    states = [rng.bit_generator.state["state"] for rng in rngs]
    arrays = {f"param/{k}": v.cpu().numpy() for k, v in model.state_arrays().items()}
    arrays["rng_key"] = np.stack([s["key"] for s in states])
    arrays["rng_pos"] = np.array([s["pos"] for s in states])
    arrays["train_curve"] = train_curve
    arrays["eval_curve"] = eval_curve
    save_arrays(path, arrays, {"epoch": epoch, "signature": job.signature()})


def _load_checkpoint(path, job, model, rngs, train_curve, eval_curve) -> int:
    arrays, meta = load_arrays(path)
    if meta.get("signature") != job.signature():
        return 0  # a checkpoint of other settings: start afresh
    model.load_arrays({k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("param/")})
    for rng, key, pos in zip(rngs, arrays["rng_key"], arrays["rng_pos"]):
        rng.bit_generator.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": int(pos)}}
    train_curve[:] = arrays["train_curve"]
    eval_curve[:] = arrays["eval_curve"]
    return int(meta["epoch"])


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
        "job": {k: v for k, v in asdict(job).items() if k not in ("models", "checkpoint_every")},
        "seed": seed,
        "seed_entropy": [result["entropy"][i] for i in idx],
        "n_params": n_params(job.cell, job.layers, job.units),
    }
    return arrays, meta


# ------------------------------------------------------------------------------ CLIs
def _job_arguments(parser: argparse.ArgumentParser) -> None:
    a = parser.add_argument
    a("--experiment", required=True)
    a("--cell", required=True, choices=["rnn", "lstm", "gru"])
    a("--task", required=True, choices=["variable", "fixed"])
    a("--layers", type=int, required=True)
    a("--units", type=int, required=True)
    a("--positions", type=int, nargs="+", required=True)
    a("--seeds", type=int, required=True)
    a("--epochs", type=int, required=True)
    a("--lr", type=float, default=0.03)
    a("--batch-size", type=int, default=32)
    a("--steps-per-epoch", type=int, default=10)
    a("--tbptt-k", type=int, default=None)
    a("--eval-sequences", type=int, default=4096)
    a("--eval-every", type=int, default=100)
    a("--eval-seed", type=int, default=20221)
    a("--seed", type=int, default=0)
    a("--min-length", type=int, default=10)
    a("--window", type=int, default=6)
    a("--fixed-length", type=int, default=10)
    a("--long-positions", default="shift", choices=["shift", "offset"])
    a("--checkpoint-every", type=int, default=100)
    a("--gpus", type=int, default=0)
    a("--tier", default="custom")
    a("--device-record", default=None, help="JSON file for the job's device record (a log)")


def _job_from(args) -> TrainJob:
    return TrainJob(
        experiment=args.experiment, cell=args.cell, task=args.task, layers=args.layers,
        units=args.units, positions=args.positions, seeds=args.seeds, epochs=args.epochs,
        lr=args.lr, batch_size=args.batch_size, steps_per_epoch=args.steps_per_epoch,
        tbptt_k=args.tbptt_k, eval_sequences=args.eval_sequences, eval_every=args.eval_every,
        eval_seed=args.eval_seed, seed=args.seed, min_length=args.min_length,
        window=args.window, fixed_length=args.fixed_length,
        long_positions=args.long_positions, checkpoint_every=args.checkpoint_every,
    )


def train_main(argv) -> int:
    parser = argparse.ArgumentParser(prog="rnnmem train-memorization")
    _job_arguments(parser)
    parser.add_argument("--checkpoint", type=Path, default=None)
    parser.add_argument("--out", nargs="+", required=True, help="one output file per seed")
    args = parser.parse_args(argv)
    job = _job_from(args)
    if len(args.out) != job.seeds:
        parser.error(f"--out names {len(args.out)} files for {job.seeds} seeds")
    configure_torch(threads=1)
    device = select_device(args.gpus)
    started = time.perf_counter()
    result = train(job, device, args.checkpoint, log=lambda m: print(m, file=sys.stderr))
    n_div = int(result["diverged"].sum())
    if n_div:
        print(f"warning: {n_div} of {len(job.models)} runs diverged (non-finite loss or weights); "
              "recorded as diverged, other runs kept", file=sys.stderr)
    for seed, path in enumerate(args.out):
        arrays, meta = seed_file_arrays(job, result, seed)
        meta["device"] = device_label(device)
        meta["tier"] = args.tier
        meta["provenance"] = provenance()
        save_arrays(path, arrays, meta)
    if args.checkpoint is not None and args.checkpoint.exists():
        args.checkpoint.unlink()
    if args.device_record:
        record = device_record(device, args.gpus)
        record["seconds"] = round(time.perf_counter() - started, 3)  # log only: not a result
        write_json(args.device_record, record)
    return 0


# ------------------------------------------------------------------- memory capacity
@dataclass
class CapacitySettings:
    """Jaeger memory capacity measurement (spec section 9.2)."""

    washout: int = 500
    train_steps: int = 20000
    test_steps: int = 20000
    min_delays: int = 40  # K = max(2N, min_delays)
    ridge: float = 1e-8
    task_sequences: int = 20000
    task_positions: int = 20
    stream_seed: int = 90210


def _stream(settings: CapacitySettings) -> np.ndarray:
    """The input stream u(t), i.i.d. Uniform[0, 1], shared by every probed network."""
    n = settings.washout + settings.train_steps + settings.test_steps
    return mt19937(seed_sequence("memorization-mc-stream", settings.stream_seed)).random(n)


def _probe_states(job: TrainJob, arrays: dict, u: np.ndarray, device):
    """Run every network (weights `arrays`, model axis first) over the stream u.

    Returns {state name: (M, T, N) float32 numpy}. The model axis is padded to a multiple
    of VECTOR_ALIGN with copies of model 0 (one sequence per model: see VECTOR_ALIGN).
    """
    M = len(next(iter(arrays.values())))
    pad = -M % VECTOR_ALIGN
    model = Ensemble(job.cell, M + pad, job.layers, job.units)
    model.load_arrays({k: np.concatenate([v, np.repeat(v[:1], pad, axis=0)]) for k, v in arrays.items()})
    model.to(device)
    x = torch.from_numpy(u.astype(np.float32)).to(device).view(1, 1, -1).expand(M + pad, 1, -1)
    with torch.no_grad():
        _, (hs, cs) = model.run(x.contiguous(), states="all")
    states = {
        "all": torch.cat([h[:M, 0] for h in hs], dim=-1),  # (M, T, c*l), the paper's N
        "top": hs[-1][:M, 0],  # (M, T, c)
    }
    if cs:
        states["hc"] = torch.cat([h[:M, 0] for h in hs] + [c[:M, 0] for c in cs], dim=-1)
    return {k: v.cpu().numpy() for k, v in states.items()}


def task_sequences(task: TaskSpec, settings: CapacitySettings, positions: list[int]):
    """Sequences for the task-aligned capacity (spec 9.2 step 6), one input set for all p.

    One set of S input rows x (S, q_max) serves every position; positions with the same
    length window share one draw of lengths q ~ Uniform{low..high} (S,). Within a window,
    (x, q) follow the task's law exactly; windows are correlated with each other through x,
    which lets one forward pass serve all of them. Returns x and a list of
    (lengths (S,), positions, targets (S, P)) per window, targets[:, k] = x_{q+1-p_k}.
    """
    groups: dict[tuple[int, int], list[int]] = {}
    for p in positions:
        groups.setdefault(task.length_bounds(p), []).append(p)
    rng = mt19937(seed_sequence("memorization-mc-task", settings.stream_seed, task.task))
    q_max = max(high for _, high in groups)
    x = rng.random((settings.task_sequences, q_max)).astype(np.float32)
    windows = []
    for (low, high), group in sorted(groups.items()):
        lengths = rng.integers(low, high + 1, size=settings.task_sequences)
        targets = np.stack([x[np.arange(len(x)), lengths - p] for p in group], axis=1)
        windows.append((lengths, group, targets))
    return x, windows


def _window_states(model: Ensemble, x: np.ndarray, windows, chunk: int = 256) -> list[np.ndarray]:
    """Every model's state (all layers' h) at each sequence's last step, per window.

    One forward pass over x for all windows, `chunk` sequences at a time (zero initial
    state); returns per window a float32 array (M, S, c*l).
    """
    device = next(model.parameters()).device
    M = model.n_models
    out = [[] for _ in windows]
    for s in range(0, len(x), chunk):
        xt = torch.from_numpy(x[s : s + chunk]).to(device).expand(M, -1, -1).contiguous()
        _, (hs, _) = model.infer(xt, states="all", chunk=chunk)
        hs = [h.permute(2, 0, 1, 3) for h in hs]  # (T, M, b, c): the engine's own layout
        seq = torch.arange(xt.shape[1], device=device)
        for w, (lengths, _, _) in enumerate(windows):
            idx = torch.from_numpy(lengths[s : s + chunk] - 1).to(device)
            # h[q_i - 1, :, i] for every sequence i: (b, M, c) per layer -> (M, b, c*l)
            out[w].append(torch.cat([h[idx, :, seq] for h in hs], dim=-1).transpose(0, 1))
    return [torch.cat(parts, dim=1).cpu().numpy() for parts in out]


def probe(job: TrainJob, seed_files: list[Path], settings: CapacitySettings, device):
    """Memory capacity of every trained (and initial) network of a job: two tables."""
    weights = {"initial": {}, "final": {}}
    for path in seed_files:
        arrays, _ = load_arrays(path)
        for stage in weights:
            for name in param_names(job.layers):
                weights[stage].setdefault(name, []).append(arrays[f"{stage}/{name}"])
    u = _stream(settings)
    n_state = job.units * job.layers
    max_delay = max(2 * n_state, settings.min_delays)
    rows, curves = [], []
    labels = [(s, p) for s in range(job.seeds) for p in job.positions]
    task_positions = [p for p in range(1, settings.task_positions + 1) if job.task_spec.position_possible(p)]
    x_task, windows = task_sequences(job.task_spec, settings, task_positions)
    n_fit = settings.task_sequences // 2
    for stage, label in (("final", "trained"), ("initial", "initial")):
        arrays = {k: np.concatenate(v) for k, v in weights[stage].items()}
        finite = np.all([np.isfinite(v).reshape(len(labels), -1).all(1) for v in arrays.values()], axis=0)
        kept = [labels[m] for m in np.flatnonzero(finite)]  # diverged networks are not probed
        model = Ensemble(job.cell, len(labels), job.layers, job.units)
        model.load_arrays(arrays)
        model.to(device)

        def ident(seed, position, label=label):
            return dict(experiment=job.experiment, cell=job.cell, task=job.task, layers=job.layers,
                        units=job.units, position=position, seed=seed, weights=label)

        for state_name, states in _probe_states(job, arrays, u, device).items():
            mc_p = mc.batched_delay_capacity(states[finite], u, settings.washout, settings.train_steps,
                                             settings.test_steps, max_delay, settings.ridge)  # (M', K)
            for curve, (seed, position) in zip(mc_p, kept):
                rows.append({**ident(seed, position), "state": state_name, "n_state": states.shape[-1],
                             **mc.capacity_summary(curve, settings.test_steps)})
                if state_name == "all":
                    curves += [{**ident(seed, position), "measure": "stream", "delay": d + 1, "value": v}
                               for d, v in enumerate(curve)]
        for (_, group, targets), states in zip(windows, _window_states(model, x_task, windows)):
            values = mc.task_capacity(states[finite], targets, n_fit, settings.ridge)  # (M', P)
            for row, (seed, position) in zip(values, kept):
                curves += [{**ident(seed, position), "measure": "task", "delay": tp, "value": float(v)}
                           for tp, v in zip(group, row)]
    return pd.DataFrame(rows), pd.DataFrame(curves)


def _capacity_arguments(parser):
    s = CapacitySettings()
    for name, value in asdict(s).items():
        parser.add_argument("--mc-" + name.replace("_", "-"), type=type(value), default=value)


def _capacity_from(args) -> CapacitySettings:
    return CapacitySettings(**{k: getattr(args, "mc_" + k) for k in asdict(CapacitySettings())})


def probe_main(argv) -> int:
    parser = argparse.ArgumentParser(prog="rnnmem probe-memorization")
    _job_arguments(parser)
    _capacity_arguments(parser)
    parser.add_argument("--runs", nargs="+", type=Path, required=True, help="the job's seed files")
    parser.add_argument("--out", type=Path, required=True, help="capacity table (CSV)")
    parser.add_argument("--out-curves", type=Path, required=True, help="MC_p curves (CSV)")
    args = parser.parse_args(argv)
    job, settings = _job_from(args), _capacity_from(args)
    configure_torch(threads=1)
    device = select_device(args.gpus)
    started = time.perf_counter()
    table, curves = probe(job, args.runs, settings, device)
    prov = provenance(settings=asdict(settings), device=device_label(device), tier=args.tier)
    write_csv(args.out, table, prov)
    write_csv(args.out_curves, curves)
    if args.device_record:
        record = device_record(device, args.gpus)
        record["seconds"] = round(time.perf_counter() - started, 3)
        write_json(args.device_record, record)
    return 0


# --------------------------------------------------------------------- ESN baseline
def esn_main(argv) -> int:
    """Echo state network baseline (spec 9.4): MC, task capacity and task MAE per N."""
    parser = argparse.ArgumentParser(prog="rnnmem esn-capacity")
    _capacity_arguments(parser)
    parser.add_argument("--units", type=int, nargs="+", required=True)
    parser.add_argument("--reservoirs", type=int, default=10)
    parser.add_argument("--density", type=float, default=0.1)
    parser.add_argument("--spectral-radius", type=float, default=0.9)
    parser.add_argument("--input-scaling", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--task", default="variable", choices=["variable", "fixed"])
    parser.add_argument("--tier", default="custom")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--out-task", type=Path, required=True)
    args = parser.parse_args(argv)
    settings = _capacity_from(args)
    u = _stream(settings)
    spec = TaskSpec(args.task)
    rows, task_rows = [], []
    positions = [p for p in range(1, settings.task_positions + 1) if spec.position_possible(p)]
    x_task, windows = task_sequences(spec, settings, positions)
    all_lengths = np.stack([lengths for lengths, _, _ in windows])  # (K, S): one pass for all
    n_fit = settings.task_sequences // 2
    for n in args.units:
        max_delay = max(2 * n, settings.min_delays)
        for r in range(args.reservoirs):
            rng = mt19937(seed_sequence("memorization-esn", args.seed, n, r))
            W, w_in = mc.esn_reservoir(n, rng, density=args.density,
                                       spectral_radius=args.spectral_radius,
                                       input_scaling=args.input_scaling)
            states = mc.esn_run(W, w_in, u)
            res = mc.memory_capacity(states, u, settings.washout, settings.train_steps,
                                     settings.test_steps, max_delay, settings.ridge)
            rows.append({"units": n, "reservoir": r, "mc": res["mc"], "mc_eq3": res["mc_eq3"],
                         "bias_estimate": res["bias_estimate"]})
            finals = mc.esn_run(W, w_in, x_task.astype(np.float64), lengths=all_lengths)
            for final, (_, group, targets) in zip(finals, windows):
                mc_task = mc.task_capacity(final, targets, n_fit, settings.ridge)
                mae = mc.task_mae(final, targets, n_fit, settings.ridge)
                task_rows += [{"units": n, "reservoir": r, "delay": p, "mc_task": float(a), "mae": float(b)}
                              for p, a, b in zip(group, mc_task, mae)]
    prov = provenance(settings=asdict(settings), esn=vars(args) | {"out": None, "out_task": None})
    write_csv(args.out, pd.DataFrame(rows), prov)
    write_csv(args.out_task, pd.DataFrame(task_rows))
    return 0


# ----------------------------------------------------------------------- aggregation
def first_hit_epoch(curve: np.ndarray, theta: float, window: int = 10) -> float:
    """1-based first epoch where the `window`-epoch moving average drops below theta."""
    if len(curve) < window:
        window = max(1, len(curve))
    ma = np.convolve(curve, np.ones(window) / window, mode="valid")
    hits = np.flatnonzero(ma < theta)
    return float(hits[0] + window) if hits.size else math.nan


def aggregate(run_files: list[Path], curve_experiments: set[str], theta: float):
    """Per-seed files -> runs table (one row per run) and long curves table."""
    runs, curves = [], []
    for path in sorted(run_files, key=str):
        arrays, meta = load_arrays(path)
        job = meta["job"]
        ident = {k: job[k] for k in ("experiment", "cell", "task", "layers", "units")}
        for i, position in enumerate(arrays["positions"]):
            curve = arrays["train_curve"][i].astype(np.float64)
            runs.append({
                **ident, "position": int(position), "seed": meta["seed"],
                "final_loss": float(arrays["final_loss"][i]),
                "best_loss": float(arrays["best_loss"][i]),
                "diverged": bool(arrays["diverged"][i]),
                "first_hit_epoch": first_hit_epoch(curve, theta),
                "epochs": job["epochs"], "n_params": meta["n_params"], "device": meta["device"],
            })
            if job["experiment"] in curve_experiments:
                curves.append(pd.DataFrame({**ident, "position": int(position), "seed": meta["seed"],
                                            "epoch": np.arange(1, len(curve) + 1),
                                            "train_loss": curve}))
    runs = pd.DataFrame(runs)
    curves = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(
        columns=["experiment", "cell", "task", "layers", "units", "position", "seed", "epoch", "train_loss"])
    return runs, curves


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """Per configuration and position: mean, sd (ddof=1), min, max, n, diverged count."""
    keys = ["experiment", "cell", "task", "layers", "units", "position"]
    g = runs.groupby(keys, sort=True)
    out = g["final_loss"].agg(["mean", "std", "min", "max", "count"]).reset_index()
    out = out.rename(columns={"mean": "mean_loss", "std": "sd_loss", "min": "min_loss",
                              "max": "max_loss", "count": "n_runs"})
    out["n_diverged"] = g["diverged"].sum().values
    return out


def aggregate_main(argv) -> int:
    parser = argparse.ArgumentParser(prog="rnnmem aggregate-memorization")
    parser.add_argument("--runs", nargs="+", type=Path, required=True)
    parser.add_argument("--capacity", nargs="*", type=Path, default=[])
    parser.add_argument("--capacity-curves", nargs="*", type=Path, default=[])
    parser.add_argument("--curve-experiments", nargs="*", default=["fig4", "fig5"])
    parser.add_argument("--theta", type=float, default=0.05)
    parser.add_argument("--tier", default="custom")
    parser.add_argument("--config", type=Path, default=None, help="JSON of the study's config")
    parser.add_argument("--outdir", type=Path, required=True)
    args = parser.parse_args(argv)
    runs, curves = aggregate(args.runs, set(args.curve_experiments), args.theta)
    config = json.loads(args.config.read_text()) if args.config else None
    prov = provenance(config=config, tier=args.tier, devices=sorted(runs["device"].unique().tolist()))
    runs["tier"] = args.tier
    write_csv(args.outdir / "runs.csv", runs, prov)
    write_csv(args.outdir / "curves.csv", curves, prov)
    write_csv(args.outdir / "summary.csv", summarize(runs), prov)
    for name, files in (("capacity.csv", args.capacity), ("capacity_curves.csv", args.capacity_curves)):
        frames = [read_csv(f) for f in sorted(files, key=str)]
        write_csv(args.outdir / name, pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(), prov)
    return 0
