"""Fused numba kernels of the time-series models: forward and hand-written backward, all seeds
at once. `KERNELS[model]` gives the model's `forward(params, x, K)` and
`loss_grad(params, x, y, n_train, n_val, K, active)` (the interface is in each module's
docstring; shapes: params [S, ...], x and y [T, 1]).

Modules import lazily, so a job compiles (or loads from numba's cache) only its own model.

numba's cache lives in a folder named by the hash of this package's source files
(rnnmem/core/numba_cache.py says why).
"""

from __future__ import annotations

import importlib
from typing import NamedTuple

import numba

from rnnmem.core.numba_cache import package_cache_dir

# Before any kernel module is imported: each dispatcher finds its cache folder when decorated.
numba.config.CACHE_DIR = package_cache_dir(__file__)


class Kernel(NamedTuple):
    forward: object
    loss_grad: object


# model -> (module, forward function, loss_grad function)
_ENTRIES = {
    "rnn": ("rnn", "forward", "loss_grad"),
    "lstm": ("lstm", "forward", "loss_grad"),
    "mrnnf": ("mrnnf", "forward_mrnnf", "loss_grad_mrnnf"),
    "rnn2": ("mrnnf", "forward_rnn2", "loss_grad_rnn2"),
    "mlstmf": ("mlstmf", "forward", "loss_grad"),
    "mrnn": ("mrnn", "forward", "loss_grad"),
    "mlstm": ("mlstm", "forward", "loss_grad"),
    "rwa": ("rwa", "forward", "loss_grad"),
    "mist": ("mist", "forward", "loss_grad"),
}


class _Registry(dict):
    """model id -> Kernel, importing the model's module on first use."""

    def __missing__(self, model):
        if model not in _ENTRIES:
            raise KeyError(f"no kernel for model {model!r}; known: {sorted(_ENTRIES)}")
        module, forward, loss_grad = _ENTRIES[model]
        mod = importlib.import_module(f"{__name__}.{module}")
        self[model] = Kernel(getattr(mod, forward), getattr(mod, loss_grad))
        return self[model]

    def __contains__(self, model):
        return model in _ENTRIES

    def __iter__(self):
        return iter(_ENTRIES)


KERNELS = _Registry()
