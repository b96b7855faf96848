"""Seed-batched training of a time-series model (long-memory.md §5.2, 5.3, 13 A4).

The model enters only through the kernel interface's `loss_grad(params, x, y, n_train, n_val,
K, active) -> (train_loss [S], val_loss [S], grads)`. Epoch e (0-based), for every active seed s:

    L_e, V_e, g = loss_grad(theta_e)      one pass from the zero state, pre-step parameters
    theta_{e+1} = Adam(theta_e, g)        objective sum_s L_e[s]: each seed gets its own gradient
    if V_e < best_V:      best_V = V_e; snapshot = theta_{e+1} ("authors": the reference's
                          off-by-one, one step past the validated parameters) or theta_e
                          ("corrected")
    if best_L - L_e > min_delta:  best_L = L_e; counter = 0   else counter += 1
    stop after this epoch if counter == patience, or after max_epochs epochs.

Comparisons are made in the parameters' dtype, as the reference compares its float32 tensors
(`best_train_loss - loss` and `val_loss < best_loss` are float32 tensor operations there).

Per seed: an active mask, best values, a counter and a snapshot, all updated with np.where, so
that a seed's numbers never depend on the other seeds. A seed whose L_e, V_e or gradient is not
finite is marked diverged and stops at epoch e without taking the step or updating its
selection: its snapshot stays at its best epoch, or is the initial parameters (best_epoch = -1)
if it never improved. (The reference would instead go on for `patience` more epochs with NaN
parameters and keep the same snapshot; only stop_epoch and epochs_run differ.)

Resumable: the complete loop state round-trips through `state_to_arrays` / `state_from_arrays`
without conversion, so a run resumed from any checkpoint gives the same bits as one that ran
through.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from rnnmem.long_memory.adam import (
    AdamState,
    adam_from_arrays,
    adam_init,
    adam_step,
    adam_to_arrays,
)

SNAPSHOT_RULES = ("authors", "corrected")


@dataclass(frozen=True)
class TrainSettings:
    """Spec 5.1. No defaults here: the workflow schema is the one source of the values."""

    lr: float
    betas: tuple[float, float]
    eps: float
    max_epochs: int
    patience: int
    min_delta: float
    snapshot_rule: str  # "authors" | "corrected"
    dtype: str  # "float32" | "float64"

    def __post_init__(self):
        if self.snapshot_rule not in SNAPSHOT_RULES:
            raise ValueError(
                f"snapshot_rule {self.snapshot_rule!r}, expected one of {SNAPSHOT_RULES}"
            )
        if np.dtype(self.dtype) not in (np.float32, np.float64):
            raise ValueError(f"dtype {self.dtype!r}, expected float32 or float64")
        if len(self.betas) != 2:
            raise ValueError(f"betas {self.betas!r}, expected two numbers")
        if self.max_epochs < 1 or self.patience < 1:
            raise ValueError("max_epochs and patience must be at least 1")

    @classmethod
    def from_config(cls, config: dict) -> TrainSettings:
        """From a mapping with exactly the fields (e.g. the workflow config's training block)."""
        names = {f.name for f in fields(cls)}
        if set(config) != names:
            raise ValueError(
                f"training settings: missing {sorted(names - set(config))}, "
                f"unknown {sorted(set(config) - names)}"
            )
        return cls(**{**config, "betas": tuple(float(b) for b in config["betas"])})

    def as_array(self) -> np.ndarray:
        """The numeric settings, stored in a checkpoint to refuse resuming under other settings."""
        return np.array(
            [self.lr, *self.betas, self.eps, self.max_epochs, self.patience, self.min_delta],
            dtype=np.float64,
        )


@dataclass
class TrainState:
    """Everything the loop carries from one epoch to the next."""

    epoch: int  # epochs completed = the next epoch to run
    params: dict[str, np.ndarray]  # current parameters [S, ...]
    adam: AdamState
    best_val: np.ndarray  # [S] params dtype, +inf until the first improvement
    best_train: np.ndarray  # [S] params dtype, +inf until the first improvement
    counter: np.ndarray  # [S] int64, epochs since the training loss last improved
    active: np.ndarray  # [S] bool
    diverged: np.ndarray  # [S] bool
    best_epoch: np.ndarray  # [S] int64, -1 if validation never improved
    stop_epoch: np.ndarray  # [S] int64, -1 while running
    snapshot: dict[str, np.ndarray]  # selected parameters [S, ...]
    train_loss: np.ndarray  # [S, max_epochs], NaN where the seed did not run
    val_loss: np.ndarray  # [S, max_epochs]


@dataclass
class TrainResult:
    """Per-seed outcome. Curves are [S, E] with E = epochs the loop ran (the longest seed)."""

    train_loss: np.ndarray  # [S, E] scaled MSE at the pre-step parameters; NaN past stop_epoch
    val_loss: np.ndarray  # [S, E]
    best_epoch: np.ndarray  # [S] int64, epoch whose V_e was selected; -1 if never
    stop_epoch: np.ndarray  # [S] int64, the 0-based epoch after which the seed stopped
    epochs_run: np.ndarray  # [S] int64 = stop_epoch + 1
    diverged: np.ndarray  # [S] bool
    snapshot: dict[str, np.ndarray]  # [S, ...], the parameters to evaluate
    params: dict[str, np.ndarray]  # [S, ...], the parameters when each seed stopped


def init_state(params0: dict[str, np.ndarray], settings: TrainSettings) -> TrainState:
    """The state before epoch 0; copies params0 into settings.dtype."""
    dtype = np.dtype(settings.dtype)
    params = {name: np.array(p, dtype=dtype, order="C", copy=True) for name, p in params0.items()}
    sizes = {p.shape[0] for p in params.values()}
    if len(sizes) != 1:
        raise ValueError(f"parameters disagree on the seed axis: {sorted(sizes)}")
    n_seeds = sizes.pop()
    curve = np.full((n_seeds, settings.max_epochs), np.nan, dtype=dtype)
    return TrainState(
        epoch=0,
        params=params,
        adam=adam_init(params),
        best_val=np.full(n_seeds, np.inf, dtype=dtype),
        best_train=np.full(n_seeds, np.inf, dtype=dtype),
        counter=np.zeros(n_seeds, dtype=np.int64),
        active=np.ones(n_seeds, dtype=bool),
        diverged=np.zeros(n_seeds, dtype=bool),
        best_epoch=np.full(n_seeds, -1, dtype=np.int64),
        stop_epoch=np.full(n_seeds, -1, dtype=np.int64),
        snapshot={name: p.copy() for name, p in params.items()},
        train_loss=curve,
        val_loss=curve.copy(),
    )


def _seed_mask(mask: np.ndarray, like: np.ndarray) -> np.ndarray:
    return mask.reshape((-1,) + (1,) * (like.ndim - 1))


def _finite_per_seed(train_loss, val_loss, grads) -> np.ndarray:
    ok = np.isfinite(train_loss) & np.isfinite(val_loss)
    for g in grads.values():
        ok &= np.isfinite(g).reshape(g.shape[0], -1).all(axis=1)
    return ok


def train_epoch(loss_grad, state: TrainState, x, y, n_train, n_val, K, settings) -> TrainState:
    """Run epoch `state.epoch` for the active seeds; returns the next state."""
    e = state.epoch
    dtype = np.dtype(settings.dtype)
    active = state.active.copy()
    train_loss, val_loss, grads = loss_grad(state.params, x, y, n_train, n_val, K, active.copy())
    train_loss = np.asarray(train_loss, dtype=dtype)
    val_loss = np.asarray(val_loss, dtype=dtype)

    # Curves are copied, not written in place, so that a state handed out stays as it was.
    train_curve, val_curve = state.train_loss.copy(), state.val_loss.copy()
    train_curve[:, e] = np.where(active, train_loss, np.nan)
    val_curve[:, e] = np.where(active, val_loss, np.nan)
    finite = _finite_per_seed(train_loss, val_loss, grads)
    ok = active & finite  # seeds that take this epoch's step
    diverged_now = active & ~finite

    pre = state.params
    post, adam = adam_step(
        pre, grads, state.adam, ok, lr=settings.lr, betas=settings.betas, eps=settings.eps
    )

    # Model selection on strict validation improvement (NaN never improves).
    improved = ok & (val_loss < state.best_val)
    chosen = post if settings.snapshot_rule == "authors" else pre
    snapshot = {
        name: np.where(_seed_mask(improved, s), chosen[name], s)
        for name, s in state.snapshot.items()
    }
    best_val = np.where(improved, val_loss, state.best_val)
    best_epoch = np.where(improved, e, state.best_epoch)

    # Stopping counter on the training loss, in the params' dtype as the reference compares.
    with np.errstate(invalid="ignore"):
        better = ok & (state.best_train - train_loss > dtype.type(settings.min_delta))
    best_train = np.where(better, train_loss, state.best_train)
    counter = np.where(ok, np.where(better, 0, state.counter + 1), state.counter)

    stop = ok & (counter >= settings.patience)
    if e + 1 >= settings.max_epochs:
        stop = ok.copy()
    stop_epoch = np.where(stop | diverged_now, e, state.stop_epoch)

    return TrainState(
        epoch=e + 1,
        params=post,
        adam=adam,
        best_val=best_val,
        best_train=best_train,
        counter=counter,
        active=ok & ~stop,
        diverged=state.diverged | diverged_now,
        best_epoch=best_epoch,
        stop_epoch=stop_epoch,
        snapshot=snapshot,
        train_loss=train_curve,
        val_loss=val_curve,
    )


def train_seeds(
    loss_grad,
    params0: dict[str, np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    n_train: int,
    n_val: int,
    K: int,
    settings: TrainSettings,
    state: TrainState | None = None,
    on_epoch=None,
) -> TrainResult:
    """Train all seeds until every one has stopped (long-memory.md §5.2, 5.3).

    state: resume from a checkpointed state (then params0 only fixes names, shapes and dtype).
    on_epoch(epoch, state): called after each epoch with the 0-based epoch just run and the
    state after it (never modified afterwards; checkpoint it with state_to_arrays).
    """
    dtype = np.dtype(settings.dtype)
    fresh = init_state(params0, settings)
    if state is None:
        state = fresh
    else:
        _check_compatible(state, fresh)
        state = _copy_state(state)
    x = np.ascontiguousarray(x, dtype=dtype)
    y = np.ascontiguousarray(y, dtype=dtype)
    while state.epoch < settings.max_epochs and state.active.any():
        state = train_epoch(loss_grad, state, x, y, n_train, n_val, K, settings)
        if on_epoch is not None:
            on_epoch(state.epoch - 1, state)
    return result_from_state(state)


def result_from_state(state: TrainState) -> TrainResult:
    if state.active.any():
        raise ValueError("seeds are still active: the run has not finished")
    return TrainResult(
        train_loss=state.train_loss[:, : state.epoch].copy(),
        val_loss=state.val_loss[:, : state.epoch].copy(),
        best_epoch=state.best_epoch.copy(),
        stop_epoch=state.stop_epoch.copy(),
        epochs_run=state.stop_epoch + 1,
        diverged=state.diverged.copy(),
        snapshot={name: p.copy() for name, p in state.snapshot.items()},
        params={name: p.copy() for name, p in state.params.items()},
    )


# ------------------------------------------------------------------------------ checkpoints
_PER_SEED = (
    "best_val",
    "best_train",
    "counter",
    "active",
    "diverged",
    "best_epoch",
    "stop_epoch",
    "train_loss",
    "val_loss",
)


def state_to_arrays(state: TrainState, settings: TrainSettings) -> dict[str, np.ndarray]:
    """Flat dict of arrays (for rnnmem.core.io.save_arrays); exact copies, no conversion.

    Parameter names are stored in order, since save_arrays sorts its members.
    """
    names = list(state.params)
    out = {
        "names": np.array(names, dtype=str),
        "epoch": np.array([state.epoch], dtype=np.int64),  # [1]: save_arrays makes 0-d 1-d
        "settings": settings.as_array(),
        "settings_text": np.array([settings.snapshot_rule, np.dtype(settings.dtype).name]),
    }
    for key in _PER_SEED:
        out[key] = getattr(state, key).copy()
    for name in names:
        out[f"param_{name}"] = state.params[name].copy()
        out[f"snapshot_{name}"] = state.snapshot[name].copy()
    out.update(adam_to_arrays(state.adam))
    return out


def state_from_arrays(arrays: dict[str, np.ndarray], settings: TrainSettings) -> TrainState:
    """Inverse of state_to_arrays; refuses a checkpoint written under other settings."""
    stored = (arrays["settings"], [str(t) for t in arrays["settings_text"]])
    expected = (settings.as_array(), [settings.snapshot_rule, np.dtype(settings.dtype).name])
    if not np.array_equal(stored[0], expected[0]) or stored[1] != expected[1]:
        raise ValueError(f"checkpoint settings {stored} differ from the run's {expected}")
    names = [str(n) for n in arrays["names"]]
    return TrainState(
        epoch=int(np.asarray(arrays["epoch"]).reshape(-1)[0]),
        params={name: np.array(arrays[f"param_{name}"]) for name in names},
        adam=adam_from_arrays(arrays, names),
        snapshot={name: np.array(arrays[f"snapshot_{name}"]) for name in names},
        **{key: np.array(arrays[key]) for key in _PER_SEED},
    )


def _copy_state(state: TrainState) -> TrainState:
    """Deep copy, so that resuming never writes into the caller's arrays."""
    return TrainState(
        epoch=state.epoch,
        params={k: v.copy() for k, v in state.params.items()},
        adam=AdamState(
            m={k: v.copy() for k, v in state.adam.m.items()},
            v={k: v.copy() for k, v in state.adam.v.items()},
            step=state.adam.step.copy(),
        ),
        snapshot={k: v.copy() for k, v in state.snapshot.items()},
        **{key: getattr(state, key).copy() for key in _PER_SEED},
    )


def _check_compatible(state: TrainState, fresh: TrainState) -> None:
    """A resumed state must have the parameters (names, shapes, dtype) of params0."""
    want = [(k, v.shape, v.dtype) for k, v in fresh.params.items()]
    have = [(k, v.shape, v.dtype) for k, v in state.params.items()]
    if want != have:
        raise ValueError(f"checkpoint parameters {have} differ from params0 {want}")
    if state.train_loss.shape != fresh.train_loss.shape:
        raise ValueError("checkpoint curves do not match the seeds and max_epochs")
