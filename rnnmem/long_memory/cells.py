"""Parameters of the nine time-series models: names, shapes, counts and the reference-identical
initialisation (long-memory.md §3 and 7; the equations: reference.py).

Symbols:

    p   input size (1 in the time-series experiments)
    q   output size (1)
    H   hidden size (1, long-memory.md A1)
    K   filter length (truncation lag, 100 by default)
    S   number of seeds (leading axis of every batched parameter)

A model's parameters are an ordered dict name -> np.ndarray [S, *shape], in CREATION ORDER,
which is the order in which the reference builds its layers after torch.manual_seed(seed):

    rnn     w_ih [H,p] w_hh [H,H] b_ih [H] b_hh [H] (nn.RNN(p,H)), w_out [q,H] b_out [q]
    lstm    w_ih [4H,p] w_hh [4H,H] b_ih [4H] b_hh [4H] (nn.LSTMCell(p,H)), w_out [q,H] b_out [q]
    mrnnf   a [p] (zeros), unused_w_ih [H,p] unused_w_hh [H,H] unused_b_ih [H] unused_b_hh [H]
            (RNNCellBase), w_mm [H,H] b_m [H], w_fm [H,p], w_hh [H,H] b_h [H], w_xh [H,p],
            w_hz [q,H] b_z [q], w_mz [q,H]
    rnn2    as mrnnf with `a` replaced by w_filter [K,p] = pi_j(0.25) (no random draws)
    mrnn    the four unused tensors, w_dd [p,p] b_d [p], w_hd [p,H], w_md [p,H], w_xd [p,p],
            then mrnnf's w_mm .. w_mz
    mlstmf  a [H] (zeros), w_c [H,p+H] b_c [H], w_i [H,p+H] b_i [H],
            unused_w_f [H,p+2H] unused_b_f [H], w_o [H,p+H] b_o [H], w_out [q,H] b_out [q]
    mlstm   as mlstmf without `a`, and the forget Linear used: w_f [H,p+2H] b_f [H]
    rwa     s [H] (torch.randn), w_u [H,p] b_u [H], w_g [H,p+H] b_g [H], w_a [H,p+H],
            w_out [q,H] b_out [q]
    mist    w_alpha [8,p+H] b_alpha [8], w_r [H,p+H] b_r [H], w_h [H,H], w_x [H,p] b_x [H],
            w_out [q,H] b_out [q]

Counts at p = q = H = 1 (n_params): rnn 6, lstm 18, mrnnf 14 (4 unused), mrnn 18 (4 unused),
mlstmf 16 (4 unused: the forget Linear's 3 weights and its bias), mlstm 15, rnn2 13 + K*p
(its K filter weights are parameters: 113 at K = 100), rwa 10, mist 32.

The layers are built as real torch modules in float32 (the reference's dtype; the number of
random draws per element depends on the dtype), then cast to the requested dtype, so float64
parameters hold exactly the float32 values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import torch
from torch import nn

from rnnmem.long_memory.kernels.filters import pi_coefficients

MODELS = ("rnn", "rnn2", "rwa", "mist", "mrnnf", "mrnn", "lstm", "mlstmf", "mlstm")
MIST_DELAYS = (1, 2, 4, 8, 16, 32, 64, 128)
RNN2_INIT_D = 0.25  # RNN2 starts as an initial MRNNF: d = 0.5 sigmoid(0)

_F32 = torch.float32


def _mrnn_tracks(p, q, H):
    """The two tracks and the output of the MRNN family (shared by rnn2, mrnnf, mrnn)."""
    return [
        ("w_mm", (H, H)),
        ("b_m", (H,)),
        ("w_fm", (H, p)),
        ("w_hh", (H, H)),
        ("b_h", (H,)),
        ("w_xh", (H, p)),
        ("w_hz", (q, H)),
        ("b_z", (q,)),
        ("w_mz", (q, H)),
    ]


def _cell_base(p, H):
    """The four tensors the reference cell inherits from RNNCellBase (never used)."""
    return [
        ("unused_w_ih", (H, p)),
        ("unused_w_hh", (H, H)),
        ("unused_b_ih", (H,)),
        ("unused_b_hh", (H,)),
    ]


def _spec(model: str, p: int, q: int, H: int, K: int) -> list[tuple[str, tuple[int, ...]]]:
    out = [("w_out", (q, H)), ("b_out", (q,))]
    u = p + H  # size of [x_t, h_{t-1}]
    if model == "rnn":
        return [("w_ih", (H, p)), ("w_hh", (H, H)), ("b_ih", (H,)), ("b_hh", (H,))] + out
    if model == "lstm":
        G = 4 * H
        return [("w_ih", (G, p)), ("w_hh", (G, H)), ("b_ih", (G,)), ("b_hh", (G,))] + out
    if model == "mrnnf":
        return [("a", (p,))] + _cell_base(p, H) + _mrnn_tracks(p, q, H)
    if model == "rnn2":
        return [("w_filter", (K, p))] + _cell_base(p, H) + _mrnn_tracks(p, q, H)
    if model == "mrnn":
        d_in = [
            ("w_dd", (p, p)),
            ("b_d", (p,)),
            ("w_hd", (p, H)),
            ("w_md", (p, H)),
            ("w_xd", (p, p)),
        ]
        return _cell_base(p, H) + d_in + _mrnn_tracks(p, q, H)
    if model in ("mlstmf", "mlstm"):
        f = "unused_" if model == "mlstmf" else ""
        gates = [
            ("w_c", (H, u)),
            ("b_c", (H,)),
            ("w_i", (H, u)),
            ("b_i", (H,)),
            (f + "w_f", (H, u + H)),
            (f + "b_f", (H,)),
            ("w_o", (H, u)),
            ("b_o", (H,)),
        ]
        return ([("a", (H,))] if model == "mlstmf" else []) + gates + out
    if model == "rwa":
        return [
            ("s", (H,)),
            ("w_u", (H, p)),
            ("b_u", (H,)),
            ("w_g", (H, u)),
            ("b_g", (H,)),
            ("w_a", (H, u)),
        ] + out
    if model == "mist":
        n = len(MIST_DELAYS)
        return [
            ("w_alpha", (n, u)),
            ("b_alpha", (n,)),
            ("w_r", (H, u)),
            ("b_r", (H,)),
            ("w_h", (H, H)),
            ("w_x", (H, p)),
            ("b_x", (H,)),
        ] + out
    raise ValueError(f"unknown model {model!r}; expected one of {MODELS}")


def param_shapes(model: str, H: int = 1, p: int = 1, q: int = 1, K: int = 100) -> dict:
    """Ordered dict name -> single-seed shape, in creation order."""
    return dict(_spec(model, p, q, H, K))


def unused_params(model: str) -> tuple[str, ...]:
    """Names of the tensors that only consume random numbers (their gradients are zero)."""
    return tuple(n for n, _ in _spec(model, 1, 1, 1, 1) if n.startswith("unused_"))


def n_params(model: str, H: int = 1, p: int = 1, q: int = 1, K: int = 100) -> int:
    """Number of scalar parameters of one seed, unused tensors included (rnn2: with K*p)."""
    return sum(math.prod(shape) for shape in param_shapes(model, H, p, q, K).values())


def _linear(i, o, bias=True):
    lin = nn.Linear(i, o, bias=bias, dtype=_F32)
    return [lin.weight, lin.bias] if bias else [lin.weight]


def _cell_base_tensors(p, H):
    # RNNCellBase.__init__ creates weight_ih, weight_hh, bias_ih, bias_hh and calls its own
    # reset_parameters (U(-1/sqrt(H), 1/sqrt(H)) in that order), as the reference cell does.
    base = nn.RNNCellBase(p, H, bias=True, num_chunks=1, dtype=_F32)
    return [base.weight_ih, base.weight_hh, base.bias_ih, base.bias_hh]


def _tracks_tensors(p, q, H):
    return (
        _linear(H, H)
        + _linear(p, H, bias=False)
        + _linear(H, H)
        + _linear(p, H, bias=False)
        + _linear(H, q)
        + _linear(H, q, bias=False)
    )


def _build(model: str, p: int, q: int, H: int, K: int) -> list[torch.Tensor]:
    """One seed's tensors, created in the reference's order (the caller has seeded torch).

    Every layer is created left to right in one expression or in consecutive statements:
    the order of creation is the order of the random draws.
    """
    if model == "rnn":
        rnn = nn.RNN(p, H, dtype=_F32)
        return [rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0] + _linear(H, q)
    if model == "lstm":
        cell = nn.LSTMCell(p, H, dtype=_F32)
        return [cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh] + _linear(H, q)
    if model == "mrnnf":
        return [torch.zeros(p, dtype=_F32)] + _cell_base_tensors(p, H) + _tracks_tensors(p, q, H)
    if model == "rnn2":
        # The filter weights are filled in by init_params in the target dtype; no draws.
        filt = torch.zeros(K, p, dtype=_F32)
        return [filt] + _cell_base_tensors(p, H) + _tracks_tensors(p, q, H)
    if model == "mrnn":
        base = _cell_base_tensors(p, H)  # first: creation order is the draw order
        d_in = _linear(p, p) + _linear(H, p, False) + _linear(H, p, False) + _linear(p, p, False)
        return base + d_in + _tracks_tensors(p, q, H)
    if model in ("mlstmf", "mlstm"):
        a = [torch.zeros(H, dtype=_F32)] if model == "mlstmf" else []
        u = p + H
        gates = _linear(u, H) + _linear(u, H) + _linear(u + H, H) + _linear(u, H)
        return a + gates + _linear(H, q)
    if model == "rwa":
        s = torch.randn(H, dtype=_F32)  # drawn before any Linear
        u = p + H
        return [s] + _linear(p, H) + _linear(u, H) + _linear(u, H, bias=False) + _linear(H, q)
    if model == "mist":
        u = p + H
        return (
            _linear(u, len(MIST_DELAYS))
            + _linear(u, H)
            + _linear(H, H, bias=False)
            + _linear(p, H)
            + _linear(H, q)
        )
    raise ValueError(f"unknown model {model!r}; expected one of {MODELS}")


def init_params(
    model: str,
    seeds: Iterable[int],
    H: int = 1,
    p: int = 1,
    q: int = 1,
    K: int = 100,
    dtype=np.float32,
) -> dict[str, np.ndarray]:
    """Reference-identical initial parameters, name -> [S, *shape] (long-memory.md §7).

    For each seed: torch.manual_seed(seed), build the throw-away layers in creation order,
    copy them into the seed's slice. The caller's torch RNG state is restored afterwards.
    """
    seeds = [int(s) for s in seeds]
    shapes = param_shapes(model, H, p, q, K)
    dtype = np.dtype(dtype)
    out = {n: np.zeros((len(seeds),) + shape, dtype=dtype) for n, shape in shapes.items()}
    with torch.random.fork_rng(devices=[]):
        for k, seed in enumerate(seeds):
            torch.manual_seed(seed)
            with torch.no_grad():
                tensors = _build(model, p, q, H, K)
            assert len(tensors) == len(shapes)
            for (name, shape), t in zip(shapes.items(), tensors, strict=True):
                assert tuple(t.shape) == shape, (model, name, tuple(t.shape), shape)
                out[name][k] = t.detach().numpy().astype(dtype)
    if model == "rnn2":
        # pi_j(0.25) by the same recurrence, in the same dtype, as the kernels' fill_pi
        pi = pi_coefficients(RNN2_INIT_D, K, dtype=dtype.type)
        out["w_filter"][:] = pi[None, :, None]
    return out
