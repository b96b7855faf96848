"""One run of the study and the `simulate-forgetting` command (forgetting.md §3, 4 and 6).

A run draws its weights and inputs from its key, feeds A = [P_A; S] and B = [P_B; S] through
one layer and records the gaps d_t of the shared part, with the early stop on bitwise
full-state equality. One job runs every run of one (variant, cell, n_in, units).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from rnnmem.core.device import configure_torch, device_label, device_record, select_device
from rnnmem.core.io import save_arrays, write_json
from rnnmem.core.provenance import provenance
from rnnmem.core.seeds import seed_sequence
from rnnmem.core.settings import add_settings_argument, from_settings
from rnnmem.forgetting import cost
from rnnmem.forgetting.metrics import bitwise_equal, gap_metrics, metric_names, rows_bitwise_equal
from rnnmem.forgetting.settings import CELLS, SEED_KEY_CELL, Settings, SimulateJob, fail
from rnnmem.forgetting.steppers import STEPPERS, init_weights

STREAMS = ("weights", "P_A", "P_B", "S")  # spawn order of the child seed sequences


# --------------------------------------------------------------------------------------
# Seeds and inputs


def run_streams(experiment, cell: str, n_in: int, units: int, run: int):
    """The run's SeedSequence and one Generator per stream (weights, P_A, P_B, S).

    The key names the cell as SEED_KEY_CELL does ("LSTM", "GRU"), whatever its id.
    """
    seq = seed_sequence(experiment, SEED_KEY_CELL[cell], n_in, units, run)
    children = seq.spawn(len(STREAMS))
    return seq, {
        name: np.random.default_rng(child) for name, child in zip(STREAMS, children, strict=True)
    }


def seed_record(seq: np.random.SeedSequence) -> dict:
    """Enough to rebuild every stream: the entropy and the children's spawn keys."""
    entropy = seq.entropy
    if not isinstance(entropy, int):  # rnnmem.core.seeds passes four 32-bit words
        entropy = sum(int(w) << (32 * i) for i, w in enumerate(entropy))
    return {
        "seed_entropy": f"{entropy:032x}",
        "seed_streams": ",".join(f"{name}={i}" for i, name in enumerate(STREAMS)),
    }


def draw_inputs(streams: dict, n_in: int, settings: Settings):
    """P_A, P_B: (D, n_in); S: (T - D, n_in); i.i.d. N(0, 1) drawn in float32."""
    np_dtype = np.dtype(settings.dtype)
    p_a = streams["P_A"].standard_normal((settings.prefix, n_in), dtype=np.float32)
    p_b = streams["P_B"].standard_normal((settings.prefix, n_in), dtype=np.float32)
    shared = streams["S"].standard_normal((settings.shared, n_in), dtype=np.float32)
    # float64 runs see the same float32 draws, so they differ only in arithmetic
    return p_a.astype(np_dtype), p_b.astype(np_dtype), shared.astype(np_dtype)


# --------------------------------------------------------------------------------------
# One run


@dataclass
class RunResult:
    metrics: dict  # metric -> value, metric_censored -> bool (S included)
    gaps: np.ndarray  # first gaps_stored shared d_t (float64)
    info: dict = field(default_factory=dict)  # steps simulated, stop reason, S resolution


def _states_equal(state_a, state_b) -> bool:
    return all(bitwise_equal(a, b) for a, b in zip(state_a, state_b, strict=True))


def simulate_pair(cell, weights, p_a, p_b, shared, settings: Settings, device=None) -> RunResult:
    """Run A = [p_a; shared] and B = [p_b; shared] through one layer; measure the gaps.

    Both runs take the identical code path: same module, same chunking, batch 1.
    The shared part is processed in chunks; after each chunk the full states (h, plus c
    for the LSTM) are compared bitwise. Once equal, every later state and output is equal
    (deterministic map), so with early_stop the remaining d_t are exactly 0 and the
    simulation stops (S reached).
    """
    device = torch.device("cpu") if device is None else device
    dtype = settings.torch_dtype
    stepper = STEPPERS[settings.variant](cell, weights, device, dtype)
    n, chunk = settings.shared, settings.chunk
    fast_threshold = settings.fast_factor * min(settings.eps)
    rtol, atol = settings.allclose_rtol, settings.allclose_atol

    def tensor(a):
        return torch.from_numpy(np.ascontiguousarray(a)).to(device=device, dtype=dtype)

    with torch.inference_mode():  # forward only; cheaper per call than no_grad
        state_a, state_b = stepper.zero_state(), stepper.zero_state()
        for start in range(0, settings.prefix, chunk):  # prefixes: same chunking for A and B
            _, state_a, _ = stepper(tensor(p_a[start : start + chunk]), state_a)
            _, state_b, _ = stepper(tensor(p_b[start : start + chunk]), state_b)

        gap_chunks, close_chunks = [], []
        coalesced = None  # S: first k with bitwise-equal full state
        s_resolution = "step" if stepper.state_per_step else "chunk"
        quiet_steps = 0  # fast mode: consecutive steps with gap below threshold
        stop_reason = "end"
        done = 0
        if _states_equal(state_a, state_b):
            coalesced = 0  # equal before the first shared step, hence after it too
        while done < n and not (coalesced is not None and settings.early_stop):
            x = tensor(shared[done : done + chunk])
            y_a, state_a, extra_a = stepper(x, state_a)
            y_b, state_b, extra_b = stepper(x, state_b)
            steps = x.shape[0]
            ya64, yb64 = y_a.double(), y_b.double()
            diff = (ya64 - yb64).abs()  # (L, u), float64 from the float32 values
            gap_chunks.append(diff.amax(dim=-1).cpu().numpy())
            close_chunks.append((diff <= atol + rtol * yb64.abs()).all(dim=-1).cpu().numpy())
            state_equal = _states_equal(state_a, state_b)
            if coalesced is None and state_equal:
                if stepper.state_per_step:
                    # per-step full state: GRU state is h; the Keras LSTM loop also returns c_t
                    same = rows_bitwise_equal(y_a, y_b)
                    if extra_a is not None:
                        same &= rows_bitwise_equal(extra_a, extra_b)
                    unequal = torch.nonzero(~same).flatten()
                    first_equal = int(unequal[-1]) + 1 if unequal.numel() else 0
                    coalesced = done + first_equal
                else:
                    coalesced = done + steps - 1  # last step of this chunk: upper bound
            done += steps
            if coalesced is not None and settings.early_stop:
                stop_reason = "state_equal"
                break
            if settings.fast_mode and coalesced is None:
                gaps_here = gap_chunks[-1]
                loud = np.flatnonzero(gaps_here >= fast_threshold)
                quiet_steps = steps - 1 - int(loud[-1]) if loud.size else quiet_steps + steps
                state_gap = max(
                    float((a.double() - b.double()).abs().max())
                    for a, b in zip(state_a, state_b, strict=True)
                )
                if quiet_steps >= settings.fast_window and state_gap < fast_threshold:
                    stop_reason = "fast_mode"
                    break

    simulated = done
    gaps = np.zeros(n)  # after an exact stop every remaining d_t is 0 and allclose holds
    close = np.ones(n, dtype=bool)
    if gap_chunks:
        gaps[:simulated] = np.concatenate(gap_chunks)
        close[:simulated] = np.concatenate(close_chunks)
    metrics = gap_metrics(gaps, close, settings.eps, censor_at=n)
    metrics["S"], metrics["S_censored"] = (n, True) if coalesced is None else (coalesced, False)
    if stop_reason == "fast_mode":
        # the gap never closed bitwise in the simulated part: K_exact is unknown
        metrics["K_exact"], metrics["K_exact_censored"] = n, True
        if metrics["F_exact"] >= simulated:
            metrics["F_exact"], metrics["F_exact_censored"] = n, True
    info = {
        "steps_simulated": settings.prefix + simulated,
        "shared_steps_simulated": simulated,
        "stop_reason": stop_reason,
        "early_stopped_nonzero": stop_reason == "fast_mode",
        "S_resolution": s_resolution,
    }
    return RunResult(metrics=metrics, gaps=gaps[: settings.gaps_stored].copy(), info=info)


def run_one(experiment, cell, n_in, units, run, settings: Settings, device=None, control=False):
    """Draw run `run`'s weights and inputs from its key and simulate it.

    control=True sets P_B := P_A (forgetting.md §7 test 1): every gap must then be zero.
    Returns {"record": the per-run record (seeds, metrics, flags), "gaps": stored gaps}.
    """
    seq, streams = run_streams(experiment, cell, n_in, units, run)
    weights = init_weights(cell, n_in, units, streams["weights"], dtype=settings.dtype)
    p_a, p_b, shared = draw_inputs(streams, n_in, settings)
    if control:
        p_b = p_a
    result = simulate_pair(cell, weights, p_a, p_b, shared, settings, device=device)
    record = {
        "variant": settings.variant,
        "cell": cell,
        "n_in": n_in,
        "units": units,
        "run": run,
        "experiment": str(experiment),
        **seed_record(seq),
        **result.metrics,
        **result.info,
    }
    return {"record": record, "gaps": result.gaps}


# --------------------------------------------------------------------------------------
# Command: simulate-forgetting (one job = every run of one model configuration)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m rnnmem simulate-forgetting",
        description="every run of one (variant, cell, n_in, units): one .npz per run",
    )
    add_settings_argument(p)  # SimulateJob: experiment, threads, run (Settings)
    p.add_argument("--cell", required=True, choices=CELLS)
    p.add_argument("--n-in", type=int, required=True)
    p.add_argument("--units", type=int, required=True)
    p.add_argument("--gpus", type=int, default=0, help="GPUs the job was given (0: CPU)")
    p.add_argument(
        "--device-log", help="JSON file: what the job ran on, and when done its seconds and work"
    )
    p.add_argument("--runtime-log", help="JSON file: wall time per run (kept out of results)")
    p.add_argument("--outputs", nargs="+", required=True, help="one .npz per run, run 0 first")
    return p


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    started = time.perf_counter()
    try:
        job = from_settings(SimulateJob, args.settings)
    except ValueError as err:  # ConfigError included
        return fail("simulate-forgetting", str(err))
    settings = job.run
    if args.n_in < 1 or args.units < 1:
        return fail("simulate-forgetting", "--n-in and --units must be >= 1")
    configure_torch(threads=job.threads)
    # denormal handling changes exact-equality results (forgetting.md §11), so it is set explicitly
    # and recorded: False = whatever the hardware does by default
    flush_supported = torch.set_flush_denormal(settings.flush_denormal)
    if settings.flush_denormal and not flush_supported:
        return fail("simulate-forgetting", "flush_denormal requested but not supported on this CPU")
    device = select_device(args.gpus)
    if args.device_log:
        device_log = device_record(device, args.gpus)
        write_json(args.device_log, device_log)
    shared = {
        "device": device_label(device),
        "torch_threads": torch.get_num_threads(),
        "flush_denormal": settings.flush_denormal,
        "torch_version": torch.__version__,
    }
    # the job's full effective settings, which every table made from its files lists
    record = provenance(
        config={
            "command": "simulate-forgetting",
            "cell": args.cell,
            "n_in": args.n_in,
            "units": args.units,
            **args.settings,
        }
    )
    runtimes = []
    for run, path in enumerate(args.outputs):
        start = time.perf_counter()
        out = run_one(job.experiment, args.cell, args.n_in, args.units, run, settings, device)
        runtimes.append(round(time.perf_counter() - start, 4))
        meta = {
            **out["record"],
            **shared,
            "metrics": metric_names(settings.eps),
            "settings": {**asdict(settings), "eps": list(settings.eps)},
            "provenance": record,
        }
        save_arrays(path, {"gaps": out["gaps"]}, meta=meta)
        r = out["record"]
        print(
            f"{args.cell} n_in={args.n_in} u={args.units} run {run}: K_exact={r['K_exact']}"
            f"{' (censored)' if r['K_exact_censored'] else ''} S={r['S']} "
            f"steps={r['steps_simulated']} {runtimes[-1]:.2f}s",
            flush=True,
        )
    if args.runtime_log:
        total = round(sum(runtimes), 4)
        write_json(args.runtime_log, {"seconds_per_run": runtimes, "total_seconds": total})
    if args.device_log:  # done: the job's seconds and work, for the cost planner
        work = cost.simulate_work(
            args.cell, args.n_in, args.units, len(args.outputs), settings.steps
        )
        seconds = round(time.perf_counter() - started, 3)
        device_log.update(seconds=seconds, work=work, work_unit=cost.WORK_UNIT)
        write_json(args.device_log, device_log)
    return 0
