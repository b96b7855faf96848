"""The echo state network baseline (memorization.md §9.4): memory capacity, task-aligned capacity
and the task MAE of random tanh reservoirs, per reservoir size N.

    python -m rnnmem esn-capacity --settings JSON --tier smoke --out esn.csv --out-task esn_task.csv

--settings holds three sections of the study's config: "esn" (memorization.esn),
"capacity" (memorization.capacity) and "task" (the task's length keys, TASK_KEYS).
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from rnnmem.core.io import write_csv
from rnnmem.core.provenance import provenance
from rnnmem.core.seeds import mt19937, seed_sequence
from rnnmem.core.settings import ConfigError, add_settings_argument, from_settings
from rnnmem.memorization import capacity as mc
from rnnmem.memorization.task import TaskSpec, capacity_stream, task_sequences

ESN_TASK = "variable"  # the baseline is scored on Def. 1, the task of Figs. 6-8
DENSE_BELOW = 10  # reservoirs smaller than this are dense (memorization.md §9.4)


@dataclass
class EsnSettings:
    """The ESN baseline's settings (config memorization.esn)."""

    units: list[int]
    reservoirs: int
    density: float
    spectral_radius: float
    input_scaling: float
    seed: int

    def __post_init__(self):
        self.units = [int(n) for n in self.units]
        self.density = float(self.density)
        self.spectral_radius = float(self.spectral_radius)
        self.input_scaling = float(self.input_scaling)


# ------------------------------------------------------------------------------ reservoirs


def _cyclic_nodes_blocks(mask: np.ndarray) -> list[np.ndarray]:
    """Strongly connected components of the graph of `mask` (N, N) that contain a cycle.

    The eigenvalues of W are exactly the union of the eigenvalues of these diagonal blocks
    (block-triangular form); nodes on no cycle contribute exact zeros. Computing eigenvalues
    per block avoids the spurious eps^(1/k) eigenvalues that a nilpotent part (common for
    sparse W with N ~ 10-20) shows when the whole matrix goes to eig.
    """
    n = mask.shape[0]
    # reach[i, j] = 1: a path of length >= 1 from i to j. Transitive closure by squaring; 0/1
    # sums are exact in float32 for any realistic N, and the loop stops once nothing changes.
    reach = mask.astype(np.float32)
    for _ in range(max(1, int(np.ceil(np.log2(n))) + 1)):
        grown = ((reach + reach @ reach) > 0).astype(np.float32)
        if np.array_equal(grown, reach):
            break
        reach = grown
    both = (reach > 0) & (reach > 0).T  # same SCC (for nodes on a cycle)
    blocks, seen = [], np.zeros(n, dtype=bool)
    for i in range(n):
        if reach[i, i] > 0 and not seen[i]:
            members = np.flatnonzero(both[i])
            seen[members] = True
            blocks.append(members)
    return blocks


def spectral_radius_of(W: np.ndarray) -> float:
    """Largest |eigenvalue| of W, exact 0 for a nilpotent sparsity pattern (see above)."""
    W = np.asarray(W, dtype=np.float64)
    radius = 0.0
    for members in _cyclic_nodes_blocks(W != 0):
        block = W[np.ix_(members, members)]
        radius = max(radius, float(np.max(np.abs(np.linalg.eigvals(block)))))
    return radius


def esn_reservoir(
    n_units, rng, *, density, spectral_radius, input_scaling, dense_below=DENSE_BELOW
):
    """Random ESN (memorization.md §9.4): returns W (N, N) and w_in (N,).

    W: i.i.d. N(0, 1) entries kept with probability `density` (all kept when
    n_units < dense_below), rescaled to the given spectral radius. A sparse draw whose
    spectral radius is 0 (all zero, or nilpotent: no cycle in its sparsity graph) cannot be
    rescaled and is redrawn from the same rng, so the result is still a function of the seed.
    w_in: Uniform[-1, 1] * input_scaling. No bias.
    """
    n_units = int(n_units)
    if n_units < 1:
        raise ValueError(f"n_units must be >= 1, got {n_units}")
    target = float(spectral_radius)
    for _ in range(10_000):
        W = rng.standard_normal((n_units, n_units))
        if n_units >= dense_below:
            W = W * (rng.random((n_units, n_units)) < density)
        radius = spectral_radius_of(W)
        if radius > 0.0:
            break
    else:  # pragma: no cover - probability ~0 for any sensible density
        raise RuntimeError(
            f"could not draw a non-nilpotent reservoir (N={n_units}, density={density})"
        )
    W = W * (target / radius)
    w_in = rng.uniform(-1.0, 1.0, size=n_units) * input_scaling
    return W, w_in


_ACTIVATIONS = {"tanh": np.tanh, "linear": lambda z: z}


def esn_run(W, w_in, inputs, activation="tanh", lengths=None) -> np.ndarray:
    """Drive s(t) = f(W s(t-1) + w_in u(t)) from s(-1) = 0; f = tanh or 'linear' (identity).

    W (N, N) and w_in (N,), or a stack W (M, N, N), w_in (M, N) of M reservoirs.
    * Stream (lengths=None): inputs (T,) -> all states (T, N) [or (M, T, N)].
    * Sequences: inputs (S, L) right-padded, lengths (S,) -> the state at each sequence's own
      last step (S, N) [or (M, S, N)]; every sequence starts from the zero state. Padding
      after a sequence's end cannot affect its earlier states, so this is exact.
      lengths (K, S) reads K sets of last steps from the one pass: (K, S, N) [or (K, M, S, N)].
    """
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be 'tanh' or 'linear', got {activation!r}")
    f = _ACTIVATIONS[activation]
    W = np.asarray(W, dtype=np.float64)
    w_in = np.asarray(w_in, dtype=np.float64)
    single = W.ndim == 2
    if single:
        W, w_in = W[None], w_in[None]
    n_models, n_units = W.shape[0], W.shape[-1]
    if W.shape != (n_models, n_units, n_units) or w_in.shape != (n_models, n_units):
        raise ValueError(f"W {W.shape} and w_in {w_in.shape} do not describe N-unit reservoirs")
    w_t = np.swapaxes(W, 1, 2)  # (M, N, N): row-vector update s @ W^T
    u = np.asarray(inputs, dtype=np.float64)

    if lengths is None:
        if u.ndim != 1:
            raise ValueError(
                f"stream inputs must be (T,), got {u.shape}; pass lengths for sequences"
            )
        out = np.empty((n_models, u.shape[0], n_units))  # (M, T, N)
        s = np.zeros((n_models, 1, n_units))
        w_in_row = w_in[:, None, :]  # (M, 1, N)
        for t in range(u.shape[0]):
            s = f(np.matmul(s, w_t) + u[t] * w_in_row)
            out[:, t] = s[:, 0]
        return out[0] if single else out

    if u.ndim != 2:
        raise ValueError(f"sequence inputs must be (S, L), got {u.shape}")
    n_seq, max_len = u.shape
    lengths = np.asarray(lengths, dtype=np.int64)
    several = lengths.ndim == 2  # (K, S): K length draws over the same inputs, one pass
    lengths = lengths if several else lengths[None]
    if lengths.shape[1:] != (n_seq,) or lengths.min() < 1 or lengths.max() > max_len:
        raise ValueError(f"lengths must be (S,) or (K, S) with values in [1, {max_len}]")
    out = np.empty((len(lengths), n_models, n_seq, n_units))  # (K, M, S, N)
    s = np.zeros((n_models, n_seq, n_units))
    w_in_row = w_in[:, None, :]  # (M, 1, N)
    for t in range(int(lengths.max())):  # steps after the longest sequence are never read
        s = f(np.matmul(s, w_t) + u[None, :, t, None] * w_in_row)
        for k, lk in enumerate(lengths):
            done = lk == t + 1
            out[k][:, done] = s[:, done]
    out = out[:, 0] if single else out
    return out if several else out[0]


# ------------------------------------------------------------------------------- the job
def esn_capacity(esn: EsnSettings, settings: mc.CapacitySettings, spec: TaskSpec):
    """MC per reservoir (one row each) and MC_task / MAE per (reservoir, delay): two tables."""
    u = capacity_stream(settings)
    rows, task_rows = [], []
    positions = [p for p in range(1, settings.task_positions + 1) if spec.position_possible(p)]
    x_task, windows = task_sequences(spec, settings, positions)
    all_lengths = np.stack([lengths for lengths, _, _ in windows])  # (K, S): one pass for all
    n_fit = settings.task_sequences // 2
    for n in esn.units:
        max_delay = mc.max_delays(n, settings.min_delays)
        for r in range(esn.reservoirs):
            rng = mt19937(seed_sequence("memorization-esn", esn.seed, n, r))
            W, w_in = esn_reservoir(
                n,
                rng,
                density=esn.density,
                spectral_radius=esn.spectral_radius,
                input_scaling=esn.input_scaling,
            )
            states = esn_run(W, w_in, u)
            res = mc.memory_capacity(
                states,
                u,
                settings.washout,
                settings.train_steps,
                settings.test_steps,
                max_delay,
                settings.ridge,
            )
            rows.append(
                {
                    "units": n,
                    "reservoir": r,
                    "mc": res["mc"],
                    "mc_eq3": res["mc_eq3"],
                    "bias_estimate": res["bias_estimate"],
                }
            )
            finals = esn_run(W, w_in, x_task.astype(np.float64), lengths=all_lengths)
            for final, (_, group, targets) in zip(finals, windows, strict=True):
                mc_task = mc.task_capacity(final, targets, n_fit, settings.ridge)
                mae = mc.task_mae(final, targets, n_fit, settings.ridge)
                task_rows += [
                    {"units": n, "reservoir": r, "delay": p, "mc_task": float(a), "mae": float(b)}
                    for p, a, b in zip(group, mc_task, mae, strict=True)
                ]
    return pd.DataFrame(rows), pd.DataFrame(task_rows)


SECTIONS = ("esn", "capacity", "task")


def main(argv) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnmem esn-capacity", description=__doc__)
    add_settings_argument(parser)
    parser.add_argument("--tier", required=True, help="tier name, recorded with the results")
    parser.add_argument("--out", required=True, help="MC per reservoir (CSV)")
    parser.add_argument("--out-task", required=True, help="MC_task and MAE per delay (CSV)")
    args = parser.parse_args(argv)
    if sorted(args.settings) != sorted(SECTIONS):
        raise ConfigError(f"--settings: expected the sections {list(SECTIONS)}")
    esn = from_settings(EsnSettings, args.settings["esn"], "--settings esn")
    settings = from_settings(mc.CapacitySettings, args.settings["capacity"], "--settings capacity")
    spec = TaskSpec.of(ESN_TASK, args.settings["task"])
    table, task_table = esn_capacity(esn, settings, spec)
    # both tables record the job's full effective settings (the tables made from them list it)
    record = provenance(
        config={"command": "esn-capacity", **args.settings},
        task=asdict(spec),
        tier=args.tier,
    )
    write_csv(args.out, table, record)
    write_csv(args.out_task, task_table, record)
    return 0
