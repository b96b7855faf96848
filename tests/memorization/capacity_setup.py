"""What the capacity and ESN tests share: the schema's capacity settings, seeded streams
and the stream MC of a driven system (the input stream fixture `u` is in conftest.py)."""

from __future__ import annotations

import numpy as np

from rnnmem.core.settings import schema_defaults
from rnnmem.memorization import capacity as mc

DEFAULTS = schema_defaults("memorization")
CAPACITY = DEFAULTS["capacity"]
WASHOUT, N_TRAIN, N_TEST = CAPACITY["washout"], CAPACITY["train_steps"], CAPACITY["test_steps"]
RIDGE, MIN_DELAYS = CAPACITY["ridge"], CAPACITY["min_delays"]
ESN = {k: DEFAULTS["esn"][k] for k in ("density", "spectral_radius", "input_scaling")}
T = WASHOUT + N_TRAIN + N_TEST


def mt(seed: int) -> np.random.Generator:
    return np.random.Generator(np.random.MT19937(seed))


def stream_mc(states, inputs, n_units):
    return mc.memory_capacity(
        states, inputs, WASHOUT, N_TRAIN, N_TEST, mc.max_delays(n_units, MIN_DELAYS), RIDGE
    )


def naive_delay_capacity(states, inputs, washout, n_train, n_test, max_delay):
    """Reference: one delay at a time, explicit [s; 1] design, plain least squares, np.corrcoef."""
    tr = np.arange(washout, washout + n_train)
    te = np.arange(washout + n_train, washout + n_train + n_test)
    design = lambda t: np.column_stack([states[t], np.ones(len(t))])  # noqa: E731
    out = []
    for p in range(1, max_delay + 1):
        w = np.linalg.lstsq(design(tr), inputs[tr + 1 - p], rcond=None)[0]
        out.append(np.corrcoef(design(te) @ w, inputs[te + 1 - p])[0, 1] ** 2)
    return np.array(out)
