"""Fractional-difference filter coefficients (long-memory.md §2).

pi_j(d) = prod_{i=0}^{j-1} (i - d) / (i + 1), for j = 1..K (pi_0 = 1 is never used).

Recurrence: pi_j = pi_{j-1} * r_j with r_j = (j - 1 - d) / j, so the derivative
g_j = d pi_j / d d follows in the same sweep: g_j = g_{j-1} * r_j - pi_{j-1} / j.

All functions are numba kernels on one seed and one channel; callers loop over seeds
and channels. `out_pi[j - 1]` holds pi_j.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def fill_pi(d, out_pi):
    """out_pi[j - 1] = pi_j(d), j = 1..K (K = len(out_pi))."""
    prev = out_pi.dtype.type(1.0)
    for j in range(1, out_pi.shape[0] + 1):
        prev = prev * ((j - 1 - d) / j)
        out_pi[j - 1] = prev


@numba.njit(cache=True, nogil=True)
def fill_pi_and_grad(d, out_pi, out_grad):
    """pi_j(d) and d pi_j / d d, j = 1..K, in one sweep."""
    prev = out_pi.dtype.type(1.0)
    prev_grad = out_pi.dtype.type(0.0)
    for j in range(1, out_pi.shape[0] + 1):
        r = (j - 1 - d) / j
        grad = prev_grad * r - prev / j
        prev = prev * r
        out_pi[j - 1] = prev
        out_grad[j - 1] = grad
        prev_grad = grad


def pi_coefficients(d: float, K: int, dtype=np.float64) -> np.ndarray:
    """pi_1..pi_K of one d, as a numpy array (for tests, tables and initial RNN2 weights)."""
    out = np.empty(K, dtype=dtype)
    fill_pi(dtype(d), out)
    return out
