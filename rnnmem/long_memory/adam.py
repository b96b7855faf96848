"""Seed-batched Adam: torch.optim.Adam's update on parameter dicts of shape [S, ...].

For every seed s and parameter tensor (no weight decay, no amsgrad), with k = step[s] + 1:

    m <- lerp(m, g, 1 - beta1)            = m + (1 - beta1) * (g - m)      (torch's lerp_)
    v <- v * beta2 + (1 - beta2) * g * g                                    (mul_, addcmul_)
    denom = sqrt(v) / sqrt(1 - beta2**k) + eps
    p <- p + (-lr / (1 - beta1**k)) * m / denom                             (addcdiv_)

This is torch's single-tensor path (`_single_tensor_adam`, the CPU default) operation by
operation: the bias corrections and the step size are Python floats (float64), cast to the
parameters' dtype where they meet an array, exactly as torch casts a Scalar. The one known
difference: torch's CPU lerp_ kernel may use a fused multiply-add (it does on the development
machine for tensors of more than one element), which numpy cannot, so m can differ by one
rounding per step (measured over 50 random steps: parameters within 9e-16 in float64 and
2.4e-7 in float32; one-element tensors, as in the H = 1 models, matched bit for bit).

Per-seed mask: only active seeds are updated (np.where, so a NaN in a masked seed stays
there). A masked seed's parameters, moments and step count are frozen, not updated with a
zero gradient: a stopped seed is only ever evaluated through its snapshot, freezing keeps
its state a function of its own history up to its stop, it lets the kernels skip it (their
gradient for it is 0 and its losses NaN), and Adam's momentum cannot drive its parameters
into overflow after it stopped. The step count is per seed for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class AdamState:
    """Moments m, v (dicts like the parameters) and the number of steps taken, step [S]."""

    m: dict[str, np.ndarray]
    v: dict[str, np.ndarray]
    step: np.ndarray  # [S] int64


def adam_init(params: dict[str, np.ndarray]) -> AdamState:
    """Zero moments and step counts, as torch creates them on the first step."""
    n_seeds = _n_seeds(params)
    return AdamState(
        m={name: np.zeros_like(p) for name, p in params.items()},
        v={name: np.zeros_like(p) for name, p in params.items()},
        step=np.zeros(n_seeds, dtype=np.int64),
    )


def _n_seeds(params: dict[str, np.ndarray]) -> int:
    sizes = {p.shape[0] for p in params.values()}
    if len(sizes) != 1:
        raise ValueError(f"parameters disagree on the seed axis: {sorted(sizes)}")
    return sizes.pop()


def _per_seed(values: np.ndarray, like: np.ndarray) -> np.ndarray:
    """[S] -> [S, 1, ..., 1] broadcastable against `like`, in like's dtype (torch's Scalar cast)."""
    return values.astype(like.dtype).reshape((-1,) + (1,) * (like.ndim - 1))


def adam_step(
    params: dict[str, np.ndarray],
    grads: dict[str, np.ndarray],
    state: AdamState,
    active: np.ndarray,
    *,
    lr: float,
    betas: tuple[float, float],
    eps: float,
) -> tuple[dict[str, np.ndarray], AdamState]:
    """One Adam step for the active seeds. Returns new parameters and state (inputs untouched)."""
    beta1, beta2 = float(betas[0]), float(betas[1])
    lr, eps = float(lr), float(eps)
    active = np.asarray(active, dtype=bool)
    step = np.where(active, state.step + 1, state.step)

    # Bias corrections per seed as torch computes them: Python float powers of the step count.
    # A seed that has never stepped gets a placeholder (its update is masked out anyway).
    bc1 = np.ones(step.shape[0])
    bc2_sqrt = np.ones(step.shape[0])
    for s, k in enumerate(step.tolist()):
        if k > 0:
            bc1[s] = 1 - beta1 ** float(k)
            bc2_sqrt[s] = (1 - beta2 ** float(k)) ** 0.5
    neg_step_size = -(lr / bc1)
    weight1 = 1 - beta1
    weight2 = 1 - beta2

    new_params, new_m, new_v = {}, {}, {}
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        for name, p in params.items():
            g, m, v = grads[name], state.m[name], state.v[name]
            if g.shape != p.shape or g.dtype != p.dtype:
                raise ValueError(
                    f"gradient {name}: {g.dtype}{g.shape}, parameter {p.dtype}{p.shape}"
                )
            dt = p.dtype.type
            # torch lerp_: w < 0.5: self + w * (end - self), else end - (end - self) * (1 - w)
            w1 = dt(weight1)
            if abs(w1) < dt(0.5):
                m_new = m + w1 * (g - m)
            else:
                m_new = g - (g - m) * (dt(1) - w1)
            v_new = v * dt(beta2)
            v_new = v_new + dt(weight2) * g * g
            denom = np.sqrt(v_new) / _per_seed(bc2_sqrt, p) + dt(eps)
            p_new = p + _per_seed(neg_step_size, p) * m_new / denom
            mask = active.reshape((-1,) + (1,) * (p.ndim - 1))
            new_params[name] = np.where(mask, p_new, p)
            new_m[name] = np.where(mask, m_new, m)
            new_v[name] = np.where(mask, v_new, v)
    return new_params, AdamState(m=new_m, v=new_v, step=step)


def adam_to_arrays(state: AdamState, prefix: str = "adam_") -> dict[str, np.ndarray]:
    """Flat arrays for a checkpoint; exact (no conversion)."""
    out = {f"{prefix}step": state.step.copy()}
    for name in state.m:
        out[f"{prefix}m_{name}"] = state.m[name].copy()
        out[f"{prefix}v_{name}"] = state.v[name].copy()
    return out


def adam_from_arrays(arrays: dict[str, np.ndarray], names, prefix: str = "adam_") -> AdamState:
    """Inverse of adam_to_arrays; `names` gives the parameter order."""
    return AdamState(
        m={name: np.array(arrays[f"{prefix}m_{name}"]) for name in names},
        v={name: np.array(arrays[f"{prefix}v_{name}"]) for name in names},
        step=np.array(arrays[f"{prefix}step"], dtype=np.int64),
    )
