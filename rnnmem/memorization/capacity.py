"""Jaeger memory capacity (MC) estimators (memorization.md §9, PROPOSAL).

Everything works on arrays (states and inputs), not on networks, so the same code scores
trained RNNs, untrained ones and ESNs (rnnmem.memorization.probe, .esn). Pure numpy,
float64, deterministic. The ridge and the delay count are the study's settings
(CapacitySettings, config key memorization.capacity): no estimator has a default for them.

Conventions (memorization.md §9.1):
* states[t] is the state s(t) AFTER the system consumed inputs[t];
* delay p = 1 is the current input u(t), p = 2 is u(t - 1), ... (p <-> task position p);
* MC_p = squared Pearson correlation, on a held-out window, between u(t + 1 - p) and a ridge
  readout of [s(t); 1] fitted on a training window; clipped to [0, 1]; MC = sum over p >= 1,
  MC_eq3 = sum over p >= 2 (the paper's Eq. 3 read literally).

Ridge (memorization.md §9.2 step 4): lambda = ridge * trace(S^T S) / N, S the raw
(uncentred) training state matrix (n, N). The intercept (the "1" in [s; 1]) is not penalised:
it is fitted by centring, which is the usual ridge-with-intercept and keeps the fit invariant
to a constant offset of the targets. All delays / task positions are solved at once
(multi-target ridge).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Upper bound on the temporary float64 memory of one vectorised chunk of models.
_CHUNK_BYTES = 1 << 28  # 256 MiB


@dataclass
class CapacitySettings:
    """Jaeger memory capacity measurement (memorization.md §9.2; config memorization.capacity)."""

    washout: int
    train_steps: int
    test_steps: int
    min_delays: int  # K = max(2N, min_delays)
    ridge: float
    task_sequences: int
    task_positions: int
    stream_seed: int

    def __post_init__(self):
        self.ridge = float(self.ridge)  # a config may write ridge: 0


# ---------------------------------------------------------------------------------------
# Linear algebra core (shared by the stream MC and the task-aligned capacity)
# ---------------------------------------------------------------------------------------


def _ridge_lambda(x: np.ndarray, ridge: float) -> np.ndarray:
    """lambda = ridge * trace(X^T X) / N per model; x: (M, n, N) -> (M,)."""
    n_units = x.shape[-1]
    return ridge * np.einsum("mtn,mtn->m", x, x) / n_units


def _psd_solve(gram: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve gram @ w = rhs for symmetric PSD gram (M, N, N), rhs (M, N, K).

    Eigendecomposition with a pseudo-inverse cut-off instead of a plain solve: it stays
    defined when the Gram matrix is singular (a state that never moves, ridge = 0), where
    it returns the minimum-norm least-squares solution (memorization.md §9.2's pseudo-inverse).
    """
    evals, evecs = np.linalg.eigh(gram)  # (M, N), (M, N, N), ascending
    n_units = gram.shape[-1]
    cutoff = n_units * np.finfo(np.float64).eps * np.maximum(evals[:, -1:], 0.0)
    keep = evals > np.maximum(cutoff, np.finfo(np.float64).tiny)
    inv = np.where(keep, 1.0 / np.where(keep, evals, 1.0), 0.0)  # (M, N)
    proj = np.matmul(np.swapaxes(evecs, -1, -2), rhs)  # (M, N, K)
    return np.matmul(evecs, inv[:, :, None] * proj)


def _ridge_fit(x: np.ndarray, y: np.ndarray, ridge: float):
    """Multi-target ridge with unpenalised intercept.

    x: (M, n, N) float64, y: (M, n, K) or (n, K) float64 (shared targets).
    Returns weights (M, N, K) and intercepts (M, K).
    """
    if x.shape[-1] == 0:  # no state at all: the readout is a constant
        m, k = x.shape[0], y.shape[-1]
        return np.zeros((m, 0, k)), np.broadcast_to(y.mean(axis=-2), (m, k)).copy()
    lam = _ridge_lambda(x, ridge)  # (M,)
    x_mean = x.mean(axis=1, keepdims=True)  # (M, 1, N)
    xc = x - x_mean  # (M, n, N)
    gram = np.matmul(np.swapaxes(xc, 1, 2), xc)  # (M, N, N)
    gram += lam[:, None, None] * np.eye(x.shape[-1])
    # xc has zero column means, so xc^T y == xc^T (y - mean(y)): no need to centre y.
    cross = np.matmul(np.swapaxes(xc, 1, 2), y)  # (M, N, K)
    w = _psd_solve(gram, cross)
    b = y.mean(axis=-2) - np.matmul(x_mean, w)[:, 0, :]  # (M, K)
    return w, b


def _test_corr2(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Squared Pearson correlation between x @ w and y per target, clipped to [0, 1].

    x: (M, n, N), y: (M, n, K) or (n, K), w: (M, N, K) -> (M, K).
    Uses second moments instead of materialising the predictions (M, n, K):
    cov(pred_k, y_k) = w_k . C_xy[:, k] and var(pred_k) = w_k^T C_xx w_k.
    A constant prediction or a constant target has no correlation: 0.
    """
    xc = x - x.mean(axis=1, keepdims=True)  # (M, n, N)
    yc = y - y.mean(axis=-2, keepdims=True)  # (M, n, K) or (n, K)
    c_xx = np.matmul(np.swapaxes(xc, 1, 2), xc)  # (M, N, N)
    c_xy = np.matmul(np.swapaxes(xc, 1, 2), yc)  # (M, N, K)
    cov = np.einsum("mnk,mnk->mk", w, c_xy)  # (M, K)
    var_pred = np.einsum("mnk,mnk->mk", w, np.matmul(c_xx, w))  # (M, K)
    var_y = np.broadcast_to(np.einsum("...tk,...tk->...k", yc, yc), cov.shape)  # (M, K)
    den = var_pred * var_y
    ok = den > 0
    r2 = np.where(ok, cov**2 / np.where(ok, den, 1.0), 0.0)
    return np.clip(r2, 0.0, 1.0)


def _model_chunks(n_models: int, bytes_per_model: int):
    """Slices over the model axis so that one chunk stays under _CHUNK_BYTES."""
    step = max(1, _CHUNK_BYTES // max(1, bytes_per_model))
    for start in range(0, n_models, step):
        yield slice(start, min(n_models, start + step))


# ---------------------------------------------------------------------------------------
# Stream memory capacity (memorization.md §9.2 steps 1-5)
# ---------------------------------------------------------------------------------------


def _check_stream_args(n_steps, washout, n_train, n_test, max_delay):
    if max_delay < 1:
        raise ValueError(f"max_delay must be >= 1, got {max_delay}")
    if washout < max_delay - 1:
        raise ValueError(
            f"washout must be >= max_delay - 1 so that every target u(t+1-p) exists; "
            f"got washout={washout}, max_delay={max_delay}"
        )
    if n_train < 2 or n_test < 2:
        raise ValueError(f"n_train and n_test must be >= 2, got {n_train}, {n_test}")
    if n_steps < washout + n_train + n_test:
        raise ValueError(
            f"need T >= washout + n_train + n_test = {washout + n_train + n_test} steps, "
            f"got T={n_steps}"
        )


def _delay_targets(inputs: np.ndarray, start: int, stop: int, max_delay: int) -> np.ndarray:
    """Targets for t in [start, stop): out[..., t - start, p - 1] = inputs[..., t + 1 - p].

    inputs: (..., T) -> (..., stop - start, max_delay), contiguous float64 (BLAS wants
    unit strides; the reversed sliding window is only a view).
    """
    seg = inputs[..., start + 1 - max_delay : stop]  # (..., stop - start + max_delay - 1)
    win = np.lib.stride_tricks.sliding_window_view(seg, max_delay, axis=-1)
    return np.ascontiguousarray(win[..., ::-1], dtype=np.float64)


def batched_delay_capacity(
    states, inputs, washout, n_train, n_test, max_delay, ridge
) -> np.ndarray:
    """MC_p for many models at once.

    states: (M, T, N); inputs: (T,) shared by all models, or (M, T).
    Returns (M, max_delay) with column p - 1 = MC_p. Identical to looping delay_capacity;
    vectorised over chunks of models (memory per chunk bounded by _CHUNK_BYTES).
    """
    states = np.asarray(states)
    inputs = np.asarray(inputs)
    if states.ndim != 3:
        raise ValueError(f"states must be (M, T, N), got shape {states.shape}")
    n_models, n_steps, n_units = states.shape
    if inputs.shape not in ((n_steps,), (n_models, n_steps)):
        raise ValueError(
            f"inputs must be (T,) or (M, T) = ({n_models}, {n_steps}), got {inputs.shape}"
        )
    _check_stream_args(n_steps, washout, n_train, n_test, max_delay)

    a, b, c = washout, washout + n_train, washout + n_train + n_test  # window edges
    shared = inputs.ndim == 1
    if shared:  # built once, broadcast over models
        y_train = _delay_targets(inputs, a, b, max_delay)  # (n_train, K)
        y_test = _delay_targets(inputs, b, c, max_delay)  # (n_test, K)

    out = np.empty((n_models, max_delay))
    # per model: states of both windows plus their centred copies (+ targets if not shared)
    per_model = 8 * (n_train + n_test) * (2 * n_units + (0 if shared else 2 * max_delay))
    for sl in _model_chunks(n_models, per_model):
        x_train = np.asarray(states[sl, a:b], dtype=np.float64)  # (m, n_train, N)
        x_test = np.asarray(states[sl, b:c], dtype=np.float64)  # (m, n_test, N)
        if not shared:
            y_train = _delay_targets(inputs[sl], a, b, max_delay)  # (m, n_train, K)
            y_test = _delay_targets(inputs[sl], b, c, max_delay)  # (m, n_test, K)
        w, _ = _ridge_fit(x_train, y_train, ridge)
        # correlation is blind to the intercept, so only the weights matter here
        out[sl] = _test_corr2(x_test, y_test, w)
    return out


def delay_capacity(states, inputs, washout, n_train, n_test, max_delay, ridge) -> np.ndarray:
    """MC_p for p = 1..max_delay of one driven system.

    states: (T, N) with states[t] = s(t) after consuming inputs[t]; inputs: (T,).
    Fit on t in [washout, washout + n_train), score on the next n_test steps.
    Raises ValueError (naming `washout`) unless washout >= max_delay - 1.
    """
    states = np.asarray(states)
    if states.ndim == 1:  # a scalar state given as (T,)
        states = states[:, None]
    if states.ndim != 2:
        raise ValueError(f"states must be (T, N), got shape {states.shape}")
    inputs = np.asarray(inputs)
    if inputs.ndim != 1:
        raise ValueError(f"inputs must be (T,), got shape {inputs.shape}")
    return batched_delay_capacity(states[None], inputs, washout, n_train, n_test, max_delay, ridge)[
        0
    ]


def memory_capacity(states, inputs, washout, n_train, n_test, max_delay, ridge) -> dict:
    """Summary of delay_capacity: {'mc', 'mc_eq3', 'curve', 'bias_estimate'}.

    mc = sum_{p>=1} MC_p (the study page's convention), mc_eq3 = sum_{p>=2} MC_p (Eq. 3 literal),
    bias_estimate = max_delay / n_test (an unrelated target scores corr^2 ~ 1/n_test per
    delay, memorization.md §9.2 step 5).
    """
    curve = delay_capacity(states, inputs, washout, n_train, n_test, max_delay, ridge)
    return {**capacity_summary(curve, n_test), "curve": curve}


def capacity_summary(curve: np.ndarray, n_test: int) -> dict:
    """{'mc', 'mc_eq3', 'bias_estimate'} of one curve MC_p, p = 1..K (see memory_capacity)."""
    return {
        "mc": float(curve.sum()),
        "mc_eq3": float(curve[1:].sum()),
        "bias_estimate": len(curve) / n_test,
    }


def max_delays(n_units: int, min_delays: int) -> int:
    """K = max(2N, min_delays) delays (memorization.md §9.2 step 4) for an N-unit state."""
    return max(2 * int(n_units), int(min_delays))


def linear_scalar_capacity_theory(a, max_delay) -> np.ndarray:
    """Closed form MC_p = a^(2(p-1)) (1 - a^2), p = 1..max_delay, for s(t) = a s(t-1) + u(t)."""
    p = np.arange(1, max_delay + 1)
    return float(a) ** (2 * (p - 1)) * (1.0 - float(a) ** 2)


# ---------------------------------------------------------------------------------------
# Task-aligned capacity (memorization.md §9.2 step 6) and the ridge readout's MAE on the task
# ---------------------------------------------------------------------------------------


def _task_split(final_states, targets, n_fit):
    """Common argument handling; returns (M, S, N), (M, S, P) or (S, P), batched flag."""
    x = np.asarray(final_states, dtype=np.float64)
    y = np.asarray(targets, dtype=np.float64)
    batched = x.ndim == 3
    if not batched:
        if x.ndim == 1:
            x = x[:, None]
        x = x[None]
    if x.ndim != 3:
        raise ValueError(f"final_states must be (S, N) or (M, S, N), got shape {x.shape}")
    if y.ndim == 1:
        y = y[:, None]
    if y.shape[-2] != x.shape[1] or (y.ndim == 3 and y.shape[0] != x.shape[0]) or y.ndim > 3:
        raise ValueError(f"targets {y.shape} do not match final_states {x.shape}")
    if not 2 <= n_fit <= x.shape[1] - 2:
        raise ValueError(
            f"n_fit must leave >= 2 sequences on each side, got {n_fit} of {x.shape[1]}"
        )
    return x, y, batched


def task_capacity(final_states, targets, n_fit, ridge) -> np.ndarray:
    """MC_task(p): held-out squared correlation of a ridge readout, per target column.

    final_states: (S, N) state at each sequence's last real step, or (M, S, N) for M models;
    targets: (S, P) with targets[:, p-1] = x_{q+1-p} (shared), or (M, S, P).
    Fit on the first n_fit sequences, score on the rest. Returns (P,) or (M, P), in [0, 1].
    """
    x, y, batched = _task_split(final_states, targets, n_fit)
    w, _ = _ridge_fit(x[:, :n_fit], y[..., :n_fit, :], ridge)
    r2 = _test_corr2(x[:, n_fit:], y[..., n_fit:, :], w)
    return r2 if batched else r2[0]


def task_mae(final_states, targets, n_fit, ridge) -> np.ndarray:
    """Mean absolute error of the same ridge readout (with intercept, unclipped output) on the
    held-out sequences, per target column: (P,) or (M, P). The ESN's loss on the Def. 1 task."""
    x, y, batched = _task_split(final_states, targets, n_fit)
    w, b = _ridge_fit(x[:, :n_fit], y[..., :n_fit, :], ridge)
    pred = np.matmul(x[:, n_fit:], w) + b[:, None, :]  # (M, S - n_fit, P)
    mae = np.abs(pred - y[..., n_fit:, :]).mean(axis=-2)
    return mae if batched else mae[0]


def sequence_targets(inputs, lengths, n_back) -> np.ndarray:
    """Task targets from right-padded sequences: out[:, p-1] = x_{q+1-p}, p = 1..n_back.

    inputs: (S, L), lengths: (S,) (q of each sequence) -> (S, n_back).
    Raises ValueError if a sequence is shorter than n_back (the target would not exist).
    """
    inputs = np.asarray(inputs)
    lengths = np.asarray(lengths, dtype=np.int64)
    if lengths.min() < n_back:
        raise ValueError(f"a sequence of length {lengths.min()} has no target at p = {n_back}")
    idx = lengths[:, None] - np.arange(1, n_back + 1)[None, :]  # 0-based index of x_{q+1-p}
    return np.take_along_axis(inputs, idx, axis=1).astype(np.float64)
