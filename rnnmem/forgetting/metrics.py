"""The metrics of forgetting.md §4 from a gap sequence d_t, and bitwise state equality.

Imports no torch at the top: workflow/rules/forgetting.smk reads `metric_names` while parsing.
"""

from __future__ import annotations

import numpy as np


def eps_label(eps: float) -> str:
    """1e-06 -> '1e-06': the suffix of the K_tol / F_tol column names."""
    return np.format_float_scientific(eps, trim="-", exp_digits=2)


def metric_names(eps) -> list[str]:
    """Every per-run metric of forgetting.md §4, in table order."""
    labels = [eps_label(e) for e in eps]
    return (
        ["K_exact", "S"]
        + [f"K_tol_{lab}" for lab in labels]
        + ["K_allclose", "F_exact"]
        + [f"F_tol_{lab}" for lab in labels]
    )


def _stay(exceeds: np.ndarray) -> int:
    """Steps after which `exceeds` is False for good: last True index + 1 (0 if none)."""
    hits = np.flatnonzero(exceeds)
    return int(hits[-1]) + 1 if hits.size else 0


def _first(hit: np.ndarray) -> int | None:
    hits = np.flatnonzero(hit)
    return int(hits[0]) if hits.size else None


def gap_metrics(gaps: np.ndarray, close: np.ndarray, eps, censor_at: int | None = None) -> dict:
    """Every metric of forgetting.md §4 except S, from the whole shared-part gap sequence.

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


def _bits(a):
    """A float tensor's bit patterns, as integers of the same width."""
    import torch  # here, not at the top (see the module docstring); cached after the first call

    return a.view({4: torch.int32, 8: torch.int64}[a.element_size()])


def bitwise_equal(a, b) -> bool:
    """Bit-pattern equality of two tensors (distinguishes -0.0 from 0.0, unlike ==)."""
    import torch

    return torch.equal(_bits(a), _bits(b))


def rows_bitwise_equal(a, b):
    """(L, u) x (L, u) tensors -> (L,) bool tensor: row t bit-identical."""
    return (_bits(a) == _bits(b)).all(dim=-1)
