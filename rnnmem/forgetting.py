"""Forgetting time of randomly initialised LSTM/GRU layers (spec/forgetting-time.md).

Two input sequences A = [P_A; S] and B = [P_B; S] differ only in their first D steps.
Both go through the same untrained single recurrent layer from the zero state; we measure
how many shared steps the two output streams need to become (and stay) identical.

Layout of this module:
  * seeds and initialisation (Keras defaults on torch parameters, spec 3.1),
  * two steppers: the fused torch module on chunks (primary) and a per-step Keras-2.2
    cell with hard-sigmoid gates (sensitivity variant, spec 3.2),
  * the run driver with the early stop on bitwise full-state equality (spec 4),
  * the metrics of spec 4 from a gap sequence d_t,
  * the `simulate-forgetting` command (one job = all runs of one (cell, n_in, units)).

Randomness: every run's key (experiment, cell, n_in, units, run) hashes to a numpy
SeedSequence (rnnmem.core.seeds); its four spawned children feed four PCG64 Generators
(`np.random.default_rng(child)`): weights, P_A, P_B, S, in that order.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from rnnmem.core.device import configure_torch, device_label, device_record, select_device
from rnnmem.core.io import save_arrays, write_json
from rnnmem.core.seeds import seed_sequence

CELLS = ("LSTM", "GRU")
GATES = {"LSTM": 4, "GRU": 3}  # blocks stacked in weight_ih / weight_hh
VARIANTS = ("torch", "keras22")
STREAMS = ("weights", "P_A", "P_B", "S")  # spawn order of the child seed sequences
_INT_VIEW = {torch.float32: torch.int32, torch.float64: torch.int64}


# --------------------------------------------------------------------------------------
# Settings and metric names


@dataclass(frozen=True)
class Settings:
    """Everything a run depends on besides its key; one job passes one Settings to all runs."""

    variant: str = "torch"
    steps: int = 100_000  # T, total sequence length
    prefix: int = 1_000  # D, divergent prefix length
    chunk: int = 512  # steps per fused call; state equality is checked at chunk ends
    eps: tuple = (1e-3, 1e-4, 1e-5, 1e-6)
    gaps_stored: int = 2_000  # first shared gaps d_t written per run
    early_stop: bool = True  # stop at bitwise full-state equality (exact, spec 4)
    fast_mode: bool = False  # PROPOSAL: stop on a long run of tiny gaps (inexact)
    fast_window: int = 2_000
    fast_factor: float = 0.01  # threshold = fast_factor * min(eps)
    allclose_rtol: float = 1e-5  # numpy.allclose defaults
    allclose_atol: float = 1e-8
    dtype: str = "float32"
    flush_denormal: bool = False

    def __post_init__(self):
        if self.variant not in VARIANTS:
            raise ValueError(f"variant {self.variant!r} not in {VARIANTS}")
        if not 0 < self.prefix < self.steps:
            raise ValueError(f"need 0 < prefix < steps, got prefix={self.prefix}, steps={self.steps}")
        if self.chunk < 1 or self.gaps_stored < 0:
            raise ValueError("chunk must be >= 1 and gaps_stored >= 0")
        if not self.eps or any(not 0 < e for e in self.eps):
            raise ValueError(f"eps must be a non-empty list of positive numbers, got {self.eps}")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype {self.dtype!r} not in ('float32', 'float64')")

    @property
    def shared(self) -> int:
        """Shared steps T - D; censored metrics take this value."""
        return self.steps - self.prefix

    @property
    def torch_dtype(self) -> torch.dtype:
        return getattr(torch, self.dtype)


def eps_label(eps: float) -> str:
    """1e-06 -> '1e-06': the suffix of the K_tol / F_tol column names."""
    return np.format_float_scientific(eps, trim="-", exp_digits=2)


def metric_names(eps) -> list[str]:
    """Every per-run metric of spec 4, in table order."""
    labels = [eps_label(e) for e in eps]
    return (
        ["K_exact", "S"]
        + [f"K_tol_{lab}" for lab in labels]
        + ["K_allclose", "F_exact"]
        + [f"F_tol_{lab}" for lab in labels]
    )


# --------------------------------------------------------------------------------------
# Seeds and initialisation


def run_streams(experiment, cell: str, n_in: int, units: int, run: int):
    """The run's SeedSequence and one Generator per stream (weights, P_A, P_B, S)."""
    seq = seed_sequence(experiment, cell, n_in, units, run)
    children = seq.spawn(len(STREAMS))
    return seq, {name: np.random.default_rng(child) for name, child in zip(STREAMS, children)}


def seed_record(seq: np.random.SeedSequence) -> dict:
    """Enough to rebuild every stream: the entropy and the children's spawn keys."""
    entropy = seq.entropy
    if not isinstance(entropy, int):  # rnnmem.core.seeds passes four 32-bit words
        entropy = sum(int(w) << (32 * i) for i, w in enumerate(entropy))
    return {
        "seed_entropy": f"{entropy:032x}",
        "seed_streams": ",".join(f"{name}={i}" for i, name in enumerate(STREAMS)),
    }


def glorot_bound(cell: str, n_in: int, units: int) -> float:
    """Keras glorot_uniform on the stacked (n_in, G*u) kernel: sqrt(6 / (fan_in + fan_out))."""
    return math.sqrt(6.0 / (n_in + GATES[cell] * units))


def orthogonal(rows: int, cols: int, rng: np.random.Generator) -> np.ndarray:
    """Haar-random (rows, cols) matrix with orthonormal columns (rows >= cols), gain 1.

    QR of a Gaussian matrix with the sign fix Q <- Q * sign(diag(R)), as
    torch.nn.init.orthogonal_ does, but from the run's own generator.
    """
    gauss = torch.from_numpy(rng.standard_normal((rows, cols)))
    # torch's LAPACK honours torch.set_num_threads (numpy's OpenBLAS would spawn threads)
    q, r = (m.numpy() for m in torch.linalg.qr(gauss))
    return q * np.where(np.diag(r) >= 0, 1.0, -1.0)


def init_weights(cell: str, n_in: int, units: int, rng: np.random.Generator, dtype="float32"):
    """Keras-default initial parameters in torch layout (spec 3.1).

    weight_ih: (G*u, n_in) Glorot uniform over the whole stacked matrix
    weight_hh: (G*u, u)    orthogonal columns
    bias_ih:   (G*u,)      zero, LSTM forget block [u:2u] = 1 (Keras unit_forget_bias)
    bias_hh:   (G*u,)      zero (so the effective forget bias is exactly 1)
    """
    if cell not in CELLS:
        raise ValueError(f"cell {cell!r} not in {CELLS}")
    gu = GATES[cell] * units
    bound = glorot_bound(cell, n_in, units)
    weight_ih = rng.uniform(-bound, bound, size=(gu, n_in))
    weight_hh = orthogonal(gu, units, rng)
    bias_ih = np.zeros(gu)
    if cell == "LSTM":
        bias_ih[units : 2 * units] = 1.0  # torch gate order i, f, g, o: forget is block 2
    bias_hh = np.zeros(gu)
    return {
        name: np.ascontiguousarray(value, dtype=dtype)
        for name, value in (
            ("weight_ih", weight_ih),
            ("weight_hh", weight_hh),
            ("bias_ih", bias_ih),
            ("bias_hh", bias_hh),
        )
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
# Steppers: (inputs (L, n_in), state) -> (outputs h (L, u), state, per-step state equality)


class TorchStepper:
    """Primary variant: fused nn.LSTM / nn.GRU (= CuDNNLSTM/CuDNNGRU semantics), batch 1."""

    def __init__(self, cell: str, weights: dict, device, dtype):
        units = weights["weight_hh"].shape[1]
        n_in = weights["weight_ih"].shape[1]
        self.cell, self.units, self.device, self.dtype = cell, units, device, dtype
        self.module = getattr(torch.nn, cell)(n_in, units, batch_first=True)
        # cast before copying, so float64 weights are not rounded through float32
        self.module.to(device=device, dtype=dtype).requires_grad_(False)  # forward pass only
        with torch.no_grad():
            for name, value in weights.items():
                getattr(self.module, f"{name}_l0").copy_(torch.from_numpy(value))
        # the state is visible per step only where it equals the output (GRU: h)
        self.state_per_step = cell == "GRU"

    def zero_state(self):
        h = torch.zeros(1, 1, self.units, device=self.device, dtype=self.dtype)  # (layers, batch, u)
        return (h, h.clone()) if self.cell == "LSTM" else (h,)

    def __call__(self, x: torch.Tensor, state):
        # x: (L, n_in) -> (1, L, n_in); y: (1, L, u)
        hx = state if self.cell == "LSTM" else state[0]
        y, new = self.module(x.unsqueeze(0), hx)
        return y[0], (new if self.cell == "LSTM" else (new,)), None


def hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Keras 2.2 hard_sigmoid: clip(0.2 x + 0.5, 0, 1); exactly 0 or 1 outside |x| < 2.5."""
    return torch.clamp(x * 0.2 + 0.5, 0.0, 1.0)


class Keras22Stepper:
    """Sensitivity variant (spec 3.2): Keras 2.2 CPU LSTM/GRU, one bias, per-step loop.

    LSTM: i, f, o = hard_sigmoid(...), g = tanh(...), c = f c + i g, h = o tanh(c).
    GRU (reset_after=False): r, z = hard_sigmoid(W x + U h + b),
        n = tanh(W_n x + U_n (r * h) + b_n), h = z h + (1 - z) n.
    The weight blocks keep torch's layout (LSTM i, f, g, o; GRU r, z, n); all blocks are
    i.i.d., so only the forget bias position matters, and that is block 2 in both.
    Because the loop sees every state, the state equality is known per step.
    """

    state_per_step = True

    def __init__(self, cell: str, weights: dict, device, dtype):
        self.cell, self.device, self.dtype = cell, device, dtype
        self.units = weights["weight_hh"].shape[1]

        def tensor(name):
            return torch.from_numpy(weights[name]).to(device=device, dtype=dtype)

        self.w_ih_t = tensor("weight_ih").T.contiguous()  # (n_in, G*u)
        self.w_hh = tensor("weight_hh")  # (G*u, u)
        self.bias = tensor("bias_ih")  # Keras has a single bias vector
        u = self.units
        if cell == "GRU":
            self.w_hh_rz, self.w_hh_n = self.w_hh[: 2 * u].contiguous(), self.w_hh[2 * u :].contiguous()

    def zero_state(self):
        h = torch.zeros(self.units, device=self.device, dtype=self.dtype)
        return (h, h.clone()) if self.cell == "LSTM" else (h,)

    def __call__(self, x: torch.Tensor, state):
        u, steps = self.units, x.shape[0]
        x_proj = torch.addmm(self.bias, x, self.w_ih_t)  # (L, G*u): W x + b for all steps
        out = torch.empty(steps, u, device=self.device, dtype=self.dtype)  # h_t per step
        if self.cell == "LSTM":
            h, c = state
            cells = torch.empty_like(out)  # c_t per step, for the per-step state equality
            for t in range(steps):
                z = torch.addmv(x_proj[t], self.w_hh, h)  # (4u,)
                i, f = hard_sigmoid(z[:u]), hard_sigmoid(z[u : 2 * u])
                g, o = torch.tanh(z[2 * u : 3 * u]), hard_sigmoid(z[3 * u :])
                c = f * c + i * g
                h = o * torch.tanh(c)
                out[t], cells[t] = h, c
            return out, (h, c), cells
        (h,) = state
        for t in range(steps):
            rz = hard_sigmoid(torch.addmv(x_proj[t, : 2 * u], self.w_hh_rz, h))  # (2u,)
            r, z = rz[:u], rz[u:]
            n = torch.tanh(torch.addmv(x_proj[t, 2 * u :], self.w_hh_n, r * h))  # reset before U_n
            h = z * h + (1 - z) * n
            out[t] = h
        return out, (h,), None


STEPPERS = {"torch": TorchStepper, "keras22": Keras22Stepper}


def bitwise_equal(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Bit-pattern equality (distinguishes -0.0 from 0.0, unlike ==)."""
    return torch.equal(a.view(_INT_VIEW[a.dtype]), b.view(_INT_VIEW[b.dtype]))


def rows_bitwise_equal(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(L, u) x (L, u) -> (L,) bool: row t bit-identical."""
    return (a.view(_INT_VIEW[a.dtype]) == b.view(_INT_VIEW[b.dtype])).all(dim=-1)


# --------------------------------------------------------------------------------------
# Metrics (spec 4)


def _stay(exceeds: np.ndarray) -> int:
    """Steps after which `exceeds` is False for good: last True index + 1 (0 if none)."""
    hits = np.flatnonzero(exceeds)
    return int(hits[-1]) + 1 if hits.size else 0


def _first(hit: np.ndarray) -> int | None:
    hits = np.flatnonzero(hit)
    return int(hits[0]) if hits.size else None


def gap_metrics(gaps: np.ndarray, close: np.ndarray, eps, censor_at: int | None = None) -> dict:
    """Every metric of spec 4 except S, from the whole shared-part gap sequence.

    gaps:  d_k = max_i |y^A - y^B| for k = 0 .. n-1 (float64)
    close: allclose test of step k on every unit (bool)
    A "stay" metric whose last exceedance is the final step, and a first-hit metric that
    never hits, are censored at `censor_at` (default n = T - D) and flagged.
    """
    gaps = np.asarray(gaps, dtype=np.float64)
    close = np.asarray(close, dtype=bool)
    n = gaps.shape[0]
    censor_at = n if censor_at is None else censor_at
    out = {}

    def stay(name, exceeds):
        value = _stay(exceeds)
        censored = n > 0 and bool(exceeds[-1])
        out[name], out[f"{name}_censored"] = (censor_at if censored else value), censored

    def first(name, hit):
        value = _first(hit)
        out[name], out[f"{name}_censored"] = (censor_at, True) if value is None else (value, False)

    stay("K_exact", gaps > 0)
    for e in eps:
        stay(f"K_tol_{eps_label(e)}", gaps > e)
    stay("K_allclose", ~close)
    first("F_exact", gaps == 0)
    for e in eps:
        first(f"F_tol_{eps_label(e)}", gaps <= e)
    return out


# --------------------------------------------------------------------------------------
# One run


@dataclass
class RunResult:
    metrics: dict  # metric -> value, metric_censored -> bool (S included)
    gaps: np.ndarray  # first gaps_stored shared d_t (float64)
    info: dict = field(default_factory=dict)  # steps simulated, stop reason, S resolution


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
        if all(bitwise_equal(a, b) for a, b in zip(state_a, state_b)):
            coalesced = 0  # equal before the first shared step, hence after it too
        while done < n and not (coalesced is not None and settings.early_stop):
            x = tensor(shared[done : done + chunk])
            y_a, state_a, extra_a = stepper(x, state_a)
            y_b, state_b, extra_b = stepper(x, state_b)
            steps = x.shape[0]
            ya64, yb64 = y_a.double(), y_b.double()
            diff = (ya64 - yb64).abs()  # (L, u), float64 from the float32 values
            gap_chunks.append(diff.amax(dim=-1).cpu().numpy())
            close_chunks.append(
                (diff <= settings.allclose_atol + settings.allclose_rtol * yb64.abs()).all(dim=-1).cpu().numpy()
            )
            state_equal = all(bitwise_equal(a, b) for a, b in zip(state_a, state_b))
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
                state_gap = max(float((a.double() - b.double()).abs().max()) for a, b in zip(state_a, state_b))
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


def run_one(experiment, cell, n_in, units, run, settings: Settings, device=None, control=False) -> dict:
    """Draw run `run`'s weights and inputs from its key and simulate it.

    control=True sets P_B := P_A (spec 7 test 1): every gap must then be zero.
    Returns the per-run record (seeds, metrics, flags) and the stored gaps.
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


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {text!r}")


def simulate_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m rnnmem simulate-forgetting", description=__doc__.splitlines()[0])
    p.add_argument("--cell", required=True, choices=CELLS)
    p.add_argument("--n-in", type=int, required=True)
    p.add_argument("--units", type=int, required=True)
    p.add_argument("--experiment", required=True, help="seed key base (config forgetting.experiment)")
    p.add_argument("--variant", default="torch", choices=VARIANTS)
    p.add_argument("--steps", type=int, default=100_000)
    p.add_argument("--prefix", type=int, default=1_000)
    p.add_argument("--chunk", type=int, default=512)
    p.add_argument("--eps", type=float, nargs="+", default=[1e-3, 1e-4, 1e-5, 1e-6])
    p.add_argument("--gaps-stored", type=int, default=2_000)
    p.add_argument("--early-stop", type=_bool, default=True)
    p.add_argument("--fast-mode", type=_bool, default=False)
    p.add_argument("--fast-window", type=int, default=2_000)
    p.add_argument("--fast-factor", type=float, default=0.01)
    p.add_argument("--allclose-rtol", type=float, default=1e-5)
    p.add_argument("--allclose-atol", type=float, default=1e-8)
    p.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    p.add_argument("--flush-denormal", type=_bool, default=False)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--gpus", type=int, default=0)
    p.add_argument("--device-log", help="JSON file: what the job ran on")
    p.add_argument("--runtime-log", help="JSON file: wall time per run (kept out of results)")
    p.add_argument("--outputs", nargs="+", required=True, help="one .npz per run, run 0 first")
    return p


def settings_from_args(args) -> Settings:
    return Settings(
        variant=args.variant,
        steps=args.steps,
        prefix=args.prefix,
        chunk=args.chunk,
        eps=tuple(args.eps),
        gaps_stored=args.gaps_stored,
        early_stop=args.early_stop,
        fast_mode=args.fast_mode,
        fast_window=args.fast_window,
        fast_factor=args.fast_factor,
        allclose_rtol=args.allclose_rtol,
        allclose_atol=args.allclose_atol,
        dtype=args.dtype,
        flush_denormal=args.flush_denormal,
    )


def simulate_main(argv: list[str]) -> int:
    args = simulate_parser().parse_args(argv)
    try:
        settings = settings_from_args(args)
    except ValueError as err:
        print(f"simulate-forgetting: {err}", file=sys.stderr)
        return 2
    if args.n_in < 1 or args.units < 1:
        print("simulate-forgetting: --n-in and --units must be >= 1", file=sys.stderr)
        return 2
    configure_torch(threads=args.threads)
    # denormal handling changes exact-equality results (spec 11), so it is set explicitly
    # and recorded: False = whatever the hardware does by default
    flush_supported = torch.set_flush_denormal(settings.flush_denormal)
    if settings.flush_denormal and not flush_supported:
        print("simulate-forgetting: flush_denormal requested but not supported on this CPU", file=sys.stderr)
        return 2
    device = select_device(args.gpus)
    if args.device_log:
        write_json(args.device_log, device_record(device, args.gpus))
    job = {
        "device": device_label(device),
        "torch_threads": torch.get_num_threads(),
        "flush_denormal": settings.flush_denormal,
        "torch_version": torch.__version__,
    }
    runtimes = []
    for run, path in enumerate(args.outputs):
        start = time.perf_counter()
        out = run_one(args.experiment, args.cell, args.n_in, args.units, run, settings, device=device)
        runtimes.append(round(time.perf_counter() - start, 4))
        meta = {
            **out["record"],
            **job,
            "metrics": metric_names(settings.eps),
            "settings": {**asdict(settings), "eps": list(settings.eps)},
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
        write_json(args.runtime_log, {"seconds_per_run": runtimes, "total_seconds": round(sum(runtimes), 4)})
    return 0
