"""The Python side of the kernel interface, shared by every kernel module: input checks.

Kernels take parameters [S, ...] of one dtype (float32 or float64) and series [T, 1]
(p = q = 1 in the time-series experiments).
"""

from __future__ import annotations

import numpy as np


def param_dtype(params: dict, names: tuple[str, ...]):
    """The common dtype of the named parameters (float32 or float64), checked."""
    dtype = params[names[0]].dtype
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"parameters must be float32 or float64, got {dtype}")
    for name in names:
        if params[name].dtype != dtype:
            raise TypeError(f"parameter {name} has dtype {params[name].dtype}, expected {dtype}")
    return dtype.type


def series(x, dtype, name: str = "x") -> np.ndarray:
    """A [T, 1] (or [T]) series as a contiguous 1-D array of `dtype` (p = q = 1 only)."""
    x = np.asarray(x)
    if x.ndim == 2:
        assert x.shape[1] == 1, f"{name}: kernels assume one channel (p = q = 1), got {x.shape}"
        x = x[:, 0]
    assert x.ndim == 1, f"{name}: expected [T, 1], got shape {x.shape}"
    return np.ascontiguousarray(x, dtype=dtype)
