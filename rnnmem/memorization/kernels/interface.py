"""The Python side of the kernels: the flat parameter layout, input checks, the entry points.

Parameters travel as one flat vector per model, theta (M, P), torch.nn.RNN's parameters in
their order (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, weight_ih_l1, ...), each
row-major: `pack` builds it from the engine's arrays by name (model axis first) and `unpack`
gives them back. SGD updates theta in place.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import engine
from .common import CELLS, GATES, layer_sizes  # noqa: F401 (CELLS re-exported)


class Net(NamedTuple):
    """The shape every model of a job shares: cell type, layers l, units per layer c."""

    cell: str
    layers: int
    units: int

    def check(self) -> Net:
        if self.cell not in GATES:
            raise ValueError(f"unknown cell type {self.cell!r}; expected one of {sorted(GATES)}")
        if self.layers < 1 or self.units < 1:
            raise ValueError(f"layers and units must be >= 1, got {self.layers}, {self.units}")
        return self

    def shapes(self) -> dict:
        """{parameter name: one model's shape}, in the flat layout's order."""
        return {
            f"{kind}_l{j}": shape
            for j, layer in enumerate(layer_sizes(self.cell, self.layers, self.units))
            for kind, shape in layer.items()
        }

    @property
    def n_params(self) -> int:
        return sum(math.prod(s) for s in self.shapes().values())


def pack(net: Net, params: dict) -> np.ndarray:
    """theta (M, P): the named parameters (M, *shape) of every model, in the flat layout."""
    net.check()
    parts = []
    for name, shape in net.shapes().items():
        if name not in params:
            raise KeyError(f"parameter {name} missing (a {net.cell} of {net.layers} layers)")
        value = np.asarray(params[name])
        if value.shape[1:] != shape:
            raise ValueError(f"parameter {name} has shape {value.shape}, expected (M, *{shape})")
        parts.append(value.reshape(value.shape[0], -1))
    return np.ascontiguousarray(np.concatenate(parts, axis=1))


def unpack(net: Net, theta: np.ndarray) -> dict:
    """{name: (M, *shape)} views of theta (copy them to keep them past an update)."""
    out, pos = {}, 0
    for name, shape in net.shapes().items():
        size = math.prod(shape)
        out[name] = theta[:, pos : pos + size].reshape(theta.shape[0], *shape)
        pos += size
    return out


def _check_theta(net: Net, theta) -> np.ndarray:
    net.check()
    if not isinstance(theta, np.ndarray) or theta.dtype not in (np.float32, np.float64):
        raise TypeError("theta must be a float32 or float64 numpy array (see pack)")
    if theta.ndim != 2 or theta.shape[1] != net.n_params:
        raise ValueError(f"theta has shape {theta.shape}, expected (M, {net.n_params})")
    if not theta.flags.c_contiguous:
        raise ValueError("theta must be C-contiguous (it is updated in place)")
    return theta


def _check_batches(theta, x, lengths, targets, lead: int):
    """x (*lead, M, B, T) in theta's dtype; lengths (*lead, M, B) int64 in 1..T; targets."""
    x = np.ascontiguousarray(x, dtype=theta.dtype)
    if x.ndim != lead + 3 or x.shape[lead] != theta.shape[0]:
        raise ValueError(
            f"x has shape {x.shape}; expected {'(S, ' * lead}(M={theta.shape[0]}, B, T)"
        )
    lengths = np.ascontiguousarray(lengths, dtype=np.int64)
    if lengths.shape != x.shape[:-1]:
        raise ValueError(f"lengths has shape {lengths.shape}, expected {x.shape[:-1]}")
    if lengths.size and (lengths.min() < 1 or lengths.max() > x.shape[-1]):
        raise ValueError(
            f"lengths must lie in 1..{x.shape[-1]} (the padded length of x), "
            f"got {lengths.min()}..{lengths.max()}"
        )
    if targets is not None:
        targets = np.ascontiguousarray(targets, dtype=theta.dtype)
        if targets.shape != lengths.shape:
            raise ValueError(f"targets has shape {targets.shape}, expected {lengths.shape}")
    return x, lengths, targets


def _tbptt(tbptt_k) -> int:
    if tbptt_k is None:
        return 0
    if int(tbptt_k) < 1:
        raise ValueError(f"tbptt_k must be >= 1 or None (full BPTT), got {tbptt_k}")
    return int(tbptt_k)


def _run(net: Net, theta, x, lengths, targets, lr, tbptt_k, mode):
    """engine.run on checked arrays; returns (losses (S, M), grads (M, P), outputs (S, M, B))."""
    S, M, B = x.shape[:3]
    dtype = theta.dtype
    losses = np.empty((S, M) if mode != engine.FORWARD else (0, 0), dtype=dtype)
    grads = np.empty(theta.shape if mode == engine.GRADS else (0, 0), dtype=dtype)
    outputs = np.empty((S, M, B) if mode == engine.FORWARD else (0, 0, 0), dtype=dtype)
    if targets is None:
        targets = np.empty((0, 0, 0), dtype=dtype)
    code = engine.CELL_CODES[net.cell]
    engine.run(
        code, net.layers, net.units, theta, x, lengths, targets, float(lr), _tbptt(tbptt_k),
        mode, losses, grads, outputs,
    )  # fmt: skip
    return losses, grads, outputs


def train_epoch(net: Net, theta, x, lengths, targets, lr: float, tbptt_k) -> np.ndarray:
    """S SGD steps for every model, theta updated in place; returns losses (S, M), each step's
    per-model L1 loss before its update (in theta's dtype).

    x: (S, M, B, T) inputs, right-padded; lengths, targets: (S, M, B) (epoch_batches' arrays).
    """
    theta = _check_theta(net, theta)
    x, lengths, targets = _check_batches(theta, x, lengths, targets, lead=1)
    return _run(net, theta, x, lengths, targets, lr, tbptt_k, engine.TRAIN)[0]


def loss_and_grads(net: Net, theta, x, lengths, targets, tbptt_k):
    """One step's per-model L1 loss (M,) and gradients {name: (M, *shape)}, without an update.

    x: (M, B, T); lengths, targets: (M, B). What rnnmem.memorization.readout.l1_loss_and_grads
    computes with the torch engine.
    """
    theta = _check_theta(net, theta)
    x, lengths, targets = _check_batches(theta, x, lengths, targets, lead=0)
    losses, grads, _ = _run(
        net, theta, x[None], lengths[None], targets[None], 0.0, tbptt_k, engine.GRADS
    )
    return losses[0], unpack(net, grads)


def predict(net: Net, theta, x, lengths, chunk: int = 64) -> np.ndarray:
    """Every model's readout for every sequence (M, N): x (M, N, T), lengths (M, N).

    Sequences run `chunk` at a time, the last chunk padded with dummy sequences of length 1
    (a sequence's numbers do not depend on its chunk: every loop is elementwise over them).
    """
    theta = _check_theta(net, theta)
    x, lengths, _ = _check_batches(theta, x, lengths, None, lead=0)
    M, N, T = x.shape
    n_chunks = -(-N // chunk)
    pad = n_chunks * chunk - N
    xs = np.concatenate([x, np.zeros((M, pad, T), dtype=x.dtype)], axis=1)
    ls = np.concatenate([lengths, np.ones((M, pad), dtype=lengths.dtype)], axis=1)
    xs = np.ascontiguousarray(xs.reshape(M, n_chunks, chunk, T).transpose(1, 0, 2, 3))
    ls = np.ascontiguousarray(ls.reshape(M, n_chunks, chunk).transpose(1, 0, 2))
    out = _run(net, theta, xs, ls, None, 0.0, None, engine.FORWARD)[2]  # (n_chunks, M, chunk)
    return out.transpose(1, 0, 2).reshape(M, -1)[:, :N]
