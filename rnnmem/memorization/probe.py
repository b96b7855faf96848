"""Probing: the memory capacity of every trained (and initial) network of one job.

    python -m rnnmem probe-memorization --experiment fig6 --cell rnn --task variable \\
        --layers 1 --units 2 --settings JSON --tier smoke --runs seed0.npz seed1.npz \\
        --out capacity.csv --out-curves capacity_curves.csv

--settings holds two sections: "job" (the training job's settings, as the train rule
passes them) and "capacity" (config memorization.capacity).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from rnnmem.core.device import configure_torch, device_label, device_record, select_device
from rnnmem.core.ensemble import VECTOR_ALIGN, Ensemble, param_names
from rnnmem.core.io import load_arrays, write_csv, write_json
from rnnmem.core.provenance import provenance
from rnnmem.core.settings import ConfigError, from_settings
from rnnmem.memorization import capacity as mc
from rnnmem.memorization.capacity import CapacitySettings
from rnnmem.memorization.cost import PROBE_UNIT, TASK_CHUNK, probe_steps, probe_work
from rnnmem.memorization.job import TrainJob, add_job_arguments, identity_of, job_record
from rnnmem.memorization.task import capacity_stream, task_sequences


def probe_states(job: TrainJob, arrays: dict, u: np.ndarray, device):
    """Run every network (weights `arrays`, model axis first) over the stream u.

    Returns {state name: (M, T, N) float32 numpy}. The model axis is padded to a multiple
    of VECTOR_ALIGN with copies of model 0 (one sequence per model: see VECTOR_ALIGN).
    """
    M = len(next(iter(arrays.values())))
    pad = -M % VECTOR_ALIGN
    model = Ensemble(job.cell, M + pad, job.layers, job.units)
    model.load_arrays(
        {k: np.concatenate([v, np.repeat(v[:1], pad, axis=0)]) for k, v in arrays.items()}
    )
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


def window_states(
    model: Ensemble, x: np.ndarray, windows, chunk: int = TASK_CHUNK
) -> list[np.ndarray]:
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


def _weights(job: TrainJob, seed_files: list[Path]) -> dict:
    """{stage: {param name: (M, ...)}} of the job's seed files, initial and final."""
    weights = {"initial": {}, "final": {}}
    for path in seed_files:
        arrays, _ = load_arrays(path)
        for stage in weights:
            for name in param_names(job.layers):
                weights[stage].setdefault(name, []).append(arrays[f"{stage}/{name}"])
    return {stage: {k: np.concatenate(v) for k, v in w.items()} for stage, w in weights.items()}


def probe(job: TrainJob, seed_files: list[Path], settings: CapacitySettings, device):
    """Memory capacity of every trained (and initial) network of a job: two tables."""
    weights = _weights(job, seed_files)
    u = capacity_stream(settings)
    max_delay = mc.max_delays(job.units * job.layers, settings.min_delays)
    rows, curves = [], []
    labels = [(s, p) for s in range(job.seeds) for p in job.positions]
    task_positions = [
        p for p in range(1, settings.task_positions + 1) if job.task_spec.position_possible(p)
    ]
    x_task, windows = task_sequences(job.task_spec, settings, task_positions)
    n_fit = settings.task_sequences // 2
    for stage, label in (("final", "trained"), ("initial", "initial")):
        arrays = weights[stage]
        finite = np.all(
            [np.isfinite(v).reshape(len(labels), -1).all(1) for v in arrays.values()], axis=0
        )
        kept = [labels[m] for m in np.flatnonzero(finite)]  # diverged networks are not probed
        model = Ensemble(job.cell, len(labels), job.layers, job.units)
        model.load_arrays(arrays)
        model.to(device)

        def ident(seed, position, label=label):
            return dict(
                experiment=job.experiment,
                cell=job.cell,
                task=job.task,
                layers=job.layers,
                units=job.units,
                position=position,
                seed=seed,
                weights=label,
            )

        for state_name, states in probe_states(job, arrays, u, device).items():
            mc_p = mc.batched_delay_capacity(
                states[finite],
                u,
                settings.washout,
                settings.train_steps,
                settings.test_steps,
                max_delay,
                settings.ridge,
            )  # (M', K)
            for curve, (seed, position) in zip(mc_p, kept, strict=True):
                summary = mc.capacity_summary(curve, settings.test_steps)
                rows.append(
                    {
                        **ident(seed, position),
                        "state": state_name,
                        "n_state": states.shape[-1],
                        **summary,
                    }
                )
                if state_name == "all":
                    curves += [
                        {**ident(seed, position), "measure": "stream", "delay": d + 1, "value": v}
                        for d, v in enumerate(curve)
                    ]
        for (_, group, targets), states in zip(
            windows, window_states(model, x_task, windows), strict=True
        ):
            values = mc.task_capacity(states[finite], targets, n_fit, settings.ridge)  # (M', P)
            for row, (seed, position) in zip(values, kept, strict=True):
                curves += [
                    {**ident(seed, position), "measure": "task", "delay": tp, "value": float(v)}
                    for tp, v in zip(group, row, strict=True)
                ]
    return pd.DataFrame(rows), pd.DataFrame(curves)


def main(argv) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rnnmem probe-memorization", description=__doc__
    )
    add_job_arguments(parser)
    parser.add_argument("--runs", nargs="+", type=Path, required=True, help="the job's seed files")
    parser.add_argument("--out", type=Path, required=True, help="capacity table (CSV)")
    parser.add_argument("--out-curves", type=Path, required=True, help="MC_p curves (CSV)")
    args = parser.parse_args(argv)
    if sorted(args.settings) != ["capacity", "job"]:
        raise ConfigError("--settings: expected the sections ['job', 'capacity']")
    job = TrainJob.of(identity_of(args), args.settings["job"])
    settings = from_settings(CapacitySettings, args.settings["capacity"], "--settings capacity")
    configure_torch(threads=1)
    device = select_device(args.gpus)
    started = time.perf_counter()
    table, curves = probe(job, args.runs, settings, device)
    # both tables record the job's full effective settings (the tables made from them list it)
    config = job_record("probe-memorization", identity_of(args), args.settings)
    prov = provenance(config=config, device=device_label(device), tier=args.tier)
    write_csv(args.out, table, prov)
    write_csv(args.out_curves, curves, prov)
    if args.device_record:
        record = device_record(device, args.gpus)
        # log only, not a result: what the cost planner (rnnmem.core.costs) calibrates on
        record["seconds"] = round(time.perf_counter() - started, 3)
        capacity = args.settings["capacity"]
        work = [probe_steps(job, capacity), probe_work(job, capacity)]
        record.update(work=work, work_unit=PROBE_UNIT)
        write_json(args.device_record, record)
    return 0
