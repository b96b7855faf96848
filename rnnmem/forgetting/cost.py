"""The work of a forgetting simulation job (the cost planner's unit, recorded by each job).

A job runs `runs` runs; each feeds two sequences (A and B) of `steps` steps through one
layer of `units` units with `n_in` inputs: G gate blocks (LSTM 4, GRU 3) of products
W_ih x + W_hh h per step, 2 G u (n_in + u) floating-point operations (a multiply-add = 2).

Counted at the full `steps`: the early stop at bitwise state equality (forgetting.md §4) ends
most runs of small layers long before, which no plan can know; the planner's fit on finished
jobs absorbs it on average, and a per-job constant covers the per-chunk overhead of small
layers. The variants differ in kind (keras22 steps one time step per call), so each is its
own cost family, "simulate-forgetting:<variant>".

Imports neither torch nor matplotlib: the planner and the jobs both read it.
"""

from __future__ import annotations

WORK_UNIT = "flop"
GATES = {"lstm": 4, "gru": 3}


def simulate_work(cell: str, n_in: int, units: int, runs: int, steps: int) -> float:
    """runs x 2 sequences x steps x 2 G u (n_in + u) floating-point operations."""
    if cell not in GATES:
        raise ValueError(f"unknown cell {cell!r}; expected one of {sorted(GATES)}")
    return float(runs * 2 * steps * 2 * GATES[cell] * units * (n_in + units))


def simulate_family(variant: str, cell: str) -> str:
    return f"simulate-forgetting:{variant}-{cell}"
