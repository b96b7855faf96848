"""Training and evaluation of a review model (long-memory.md §11.3, 12.3).

The S seeds' parameters are stacked, theta [S, ...] (params.py); every seed sees the same
mini-batches. On CUDA all seeds train together, as one computation (models.py); on the CPU
each seed trains alone, one after the other, on packed steps (packed.py): there a seed's
products are small, and batching the seeds bought nothing but memory traffic (the reviews
bench, docs/performance.md). Either way, for epoch e = 0 .. epochs-1:

    for each mini-batch k (columns [k*b, (k+1)*b) of the training split, in the fixed order,
    no shuffling: 64, 64, 64, 64, 26 at b = 64):
        L_s = mean NLL of seed s on the batch          (models.losses, packed.losses) [S]
        theta <- Adam(theta, grad of sum_s L_s)                  each seed its own gradient
    V_s(e) = mean NLL on the validation split, one batch, at the post-epoch parameters
    if V_s(e) < best_s (strict, in the parameters' dtype; +inf at the start):
        best_s = V_s(e); best_epoch_s = e; snapshot_s = theta_s     (ties: the earlier epoch)

Adam is torch.optim.Adam on the stacked tensors: its update is elementwise, and every seed
steps on every batch, so the stacked update is each seed's own Adam. Weight decay is torch's
(L2 added to the gradient: g + weight_decay * theta, not AdamW). The unused tensors stay out of
the optimiser: the reference's never get a gradient, so its Adam skips them.

The test metrics (metrics.py) are those of each seed's snapshot on the test split, one batch.
Each batch's inputs are cut to max(idx) + 1 steps (exact: the models are causal).

The recorded training loss of an epoch is the unweighted mean of its mini-batch losses, each at
the pre-step parameters of that batch; the per-batch values are kept too.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields

import numpy as np
import torch

from rnnmem.core.device import device_label, select_device
from rnnmem.long_memory.reviews import models, packed
from rnnmem.long_memory.reviews.metrics import classification_metrics, predictions
from rnnmem.long_memory.reviews.params import (
    init_params,
    model_label,
    n_params,
    unused_params,
)


@dataclass(frozen=True)
class ReviewTrainSettings:
    """Spec 11.3. No defaults here: the workflow schema is the one source of the values."""

    lr: float
    weight_decay: float
    betas: tuple[float, float]  # torch's Adam defaults (0.9, 0.999) in the reference
    eps: float  # torch's default 1e-8 in the reference
    batch_size: int
    epochs: int
    dtype: str  # "float32" | "float64"

    def __post_init__(self):
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype {self.dtype!r}, expected float32 or float64")
        if len(self.betas) != 2:
            raise ValueError(f"betas {self.betas!r}, expected two numbers")
        if self.batch_size < 1 or self.epochs < 1:
            raise ValueError("batch_size and epochs must be at least 1")

    @classmethod
    def from_config(cls, config: dict) -> ReviewTrainSettings:
        """From a mapping with exactly the fields (e.g. the workflow config's block)."""
        names = {f.name for f in fields(cls)}
        if set(config) != names:
            raise ValueError(
                f"review training settings: missing {sorted(names - set(config))}, "
                f"unknown {sorted(set(config) - names)}"
            )
        return cls(**{**config, "betas": tuple(float(b) for b in config["betas"])})

    @property
    def torch_dtype(self) -> torch.dtype:
        return getattr(torch, self.dtype)


def batch_bounds(n: int, batch_size: int) -> list[tuple[int, int]]:
    """(start, stop) of the mini-batches of n columns in order: 282, 64 -> 4 x 64 and 26."""
    return [(a, min(a + batch_size, n)) for a in range(0, n, batch_size)]


@dataclass(frozen=True)
class Batch:
    """Model inputs on the device: x [T', B, p] with T' = max(idx) + 1, idx [B], y [B]."""

    x: torch.Tensor
    idx: torch.Tensor
    y: torch.Tensor


def make_batch(split, start: int, stop: int, dtype, device) -> Batch:
    """Columns start..stop-1 of a data.ReviewSplit, cut to the steps that matter."""
    idx = np.asarray(split.idx[start:stop], dtype=np.int64)
    steps = int(idx.max()) + 1
    x = np.ascontiguousarray(split.x[:steps, start:stop])
    return Batch(
        x=torch.as_tensor(x, device=device).to(dtype),
        idx=torch.as_tensor(idx, device=device),
        y=torch.as_tensor(np.asarray(split.y[start:stop], dtype=np.int64), device=device),
    )


def select(V, epoch: int, params: dict, best_val, best_epoch, snapshot: dict):
    """Model selection after an epoch, per seed: where V < best_val (strict; NaN never
    improves, ties keep the earlier epoch) take V, epoch and the parameters. Returns the new
    (best_val, best_epoch, snapshot); the inputs are not modified."""
    improved = V < best_val
    best_val = torch.where(improved, V, best_val)
    best_epoch = torch.where(improved, torch.full_like(best_epoch, epoch), best_epoch)
    snapshot = {
        name: torch.where(
            improved.reshape((-1,) + (1,) * (t.dim() - 1)), t.detach(), snapshot[name]
        )
        for name, t in params.items()
    }
    return best_val, best_epoch, snapshot


@dataclass
class FitResult:
    """Per-seed curves and selection; tensors on the training device."""

    batch_loss: np.ndarray  # [S, E, n_batches] float64 (values of the training dtype)
    val_loss: np.ndarray  # [S, E]
    best_epoch: np.ndarray  # [S] int64, -1 if the validation loss was never finite
    best_val: np.ndarray  # [S]
    snapshot: dict[str, torch.Tensor]  # the selected parameters [S, ...]
    params: dict[str, torch.Tensor]  # the parameters after the last epoch [S, ...]


def engine_for(device: torch.device | str):
    """The forward pass for a device: seed-batched on CUDA (models.py), seed by seed on packed
    steps elsewhere (packed.py). Both modules have forward and losses, of the same signatures."""
    return models if torch.device(device).type == "cuda" else packed


def fit(
    model: str,
    params0: dict[str, torch.Tensor],
    splits: dict,
    *,
    K: int,
    settings: ReviewTrainSettings,
    device: torch.device,
) -> FitResult:
    """Train all seeds of params0 (name -> [S, ...]) for settings.epochs epochs.

    On CUDA all seeds train as one computation; on the CPU each seed trains alone (S = 1
    shapes all through, Adam included): there batching buys nothing (packed.py).
    """
    S = next(iter(params0.values())).shape[0]
    if engine_for(device) is models or S == 1:
        return _fit(model, params0, splits, K=K, settings=settings, device=device)
    parts = [
        _fit(model, {n: t[s : s + 1] for n, t in params0.items()}, splits, K=K,
             settings=settings, device=device)
        for s in range(S)
    ]  # fmt: skip
    return FitResult(
        batch_loss=np.concatenate([r.batch_loss for r in parts]),
        val_loss=np.concatenate([r.val_loss for r in parts]),
        best_epoch=np.concatenate([r.best_epoch for r in parts]),
        best_val=np.concatenate([r.best_val for r in parts]),
        snapshot={n: torch.cat([r.snapshot[n] for r in parts]) for n in params0},
        params={n: torch.cat([r.params[n] for r in parts]) for n in params0},
    )


def _fit(model, params0, splits, *, K, settings, device) -> FitResult:
    """fit, all seeds of params0 as one computation."""
    forward = engine_for(device)
    dtype = settings.torch_dtype
    unused = set(unused_params(model))
    P = {}
    for name, value in params0.items():
        t = value.detach().to(device=device, dtype=dtype).clone().contiguous()
        P[name] = t if name in unused else t.requires_grad_(True)
    opt = torch.optim.Adam(
        [t for name, t in P.items() if name not in unused],
        lr=settings.lr,
        betas=tuple(settings.betas),
        eps=settings.eps,
        weight_decay=settings.weight_decay,
    )
    train = [
        make_batch(splits["train"], a, b, dtype, device)
        for a, b in batch_bounds(len(splits["train"]), settings.batch_size)
    ]
    val = make_batch(splits["val"], 0, len(splits["val"]), dtype, device)
    S = next(iter(P.values())).shape[0]
    E = settings.epochs
    batch_loss = torch.zeros(S, E, len(train), dtype=dtype, device=device)
    val_loss = torch.zeros(S, E, dtype=dtype, device=device)
    best_val = torch.full((S,), float("inf"), dtype=dtype, device=device)
    best_epoch = torch.full((S,), -1, dtype=torch.int64, device=device)
    snapshot = {name: t.detach().clone() for name, t in P.items()}
    for epoch in range(E):
        for k, batch in enumerate(train):
            opt.zero_grad(set_to_none=True)
            L = forward.losses(model, P, batch.x, batch.idx, batch.y, K)
            L.sum().backward()
            opt.step()
            batch_loss[:, epoch, k] = L.detach()
        with torch.no_grad():
            V = forward.losses(model, P, val.x, val.idx, val.y, K)
            val_loss[:, epoch] = V
            best_val, best_epoch, snapshot = select(V, epoch, P, best_val, best_epoch, snapshot)
    return FitResult(
        batch_loss=batch_loss.double().cpu().numpy(),
        val_loss=val_loss.double().cpu().numpy(),
        best_epoch=best_epoch.cpu().numpy(),
        best_val=best_val.double().cpu().numpy(),
        snapshot=snapshot,
        params={name: t.detach() for name, t in P.items()},
    )


@torch.no_grad()
def evaluate(model: str, params: dict, split, *, K: int, dtype, device) -> np.ndarray:
    """Log-probabilities [S, M, C] (float64 copies) of a whole split, as one batch."""
    batch = make_batch(split, 0, len(split), dtype, device)
    logp = engine_for(device).forward(model, params, batch.x, batch.idx, K)
    return logp.double().cpu().numpy()


@dataclass
class SeedResult:
    """One seed's outcome, ready for rnnmem.core.io.save_arrays(path, arrays, meta)."""

    seed: int
    arrays: dict[str, np.ndarray]
    meta: dict


def train_reviews(
    model: str,
    seeds,
    splits: dict,
    *,
    p: int,
    H: int,
    n_classes: int,
    K: int,
    settings: ReviewTrainSettings,
    gpus: int,
    extra_meta: dict,
) -> list[SeedResult]:
    """Initialise (reference-identical), train, select and test every seed; one result each.

    gpus: CUDA when >= 1 and visible, else the CPU (rnnmem.core.device.select_device).
    extra_meta: recorded in every seed's meta (e.g. the layout and the embedding's sha256).
    """
    seeds = [int(s) for s in seeds]
    device = select_device(gpus)
    dtype = settings.torch_dtype
    params0 = init_params(model, seeds, p=p, H=H, n_classes=n_classes, dtype=dtype, device=device)
    result = fit(model, params0, splits, K=K, settings=settings, device=device)
    logp = evaluate(model, result.snapshot, splits["test"], K=K, dtype=dtype, device=device)
    y_test = np.asarray(splits["test"].y, dtype=np.int64)
    out = []
    for s, seed in enumerate(seeds):
        metrics = classification_metrics(y_test, logp[s])
        arrays = {
            "batch_loss": result.batch_loss[s],
            "train_loss": result.batch_loss[s].mean(axis=1),
            "val_loss": result.val_loss[s],
            "test_logp": logp[s],
            "test_pred": predictions(logp[s]),
            "test_true": y_test,
            "test_review": np.asarray(splits["test"].review, dtype=np.int64),
        }
        meta = {
            **extra_meta,
            "model": model,
            "label": model_label(model, K),
            "seed": seed,
            "p": p,
            "H": H,
            "K": K,
            "n_classes": n_classes,
            "n_params": n_params(model, p, H, n_classes),
            "settings": dataclasses.asdict(settings),
            "device": device_label(device),
            "torch_version": torch.__version__,
            "best_epoch": int(result.best_epoch[s]),
            "best_val_loss": float(result.best_val[s]),
            "test": metrics,
        }
        out.append(SeedResult(seed=seed, arrays=arrays, meta=meta))
    return out
