"""Parameters of the four review models: names, shapes, counts, reference-identical init (11.2).

Symbols: p input size (16, the embedding size), H hidden size (128), C classes (5),
S seeds (the leading axis of every stacked parameter). A model's parameters are an ordered dict
name -> [S, *shape] in CREATION ORDER, the order of the reference's random draws after
torch.manual_seed(seed) (long-memory.md §7: build throw-away modules, copy them into the seed's
slice):

    rnn     nn.RNN(p, H):         w_ih [H,p] w_hh [H,H] b_ih [H] b_hh [H]
    lstm    nn.LSTMCell(p, H):    w_ih [4H,p] w_hh [4H,H] b_ih [4H] b_hh [4H]
    mrnnf   a [p] (zeros), the four unused RNNCellBase tensors unused_w_ih [H,p]
            unused_w_hh [H,H] unused_b_ih [H] unused_b_hh [H], then the MRNNF Linears of
            long-memory.md §3.3, output size H: w_mm [H,H] b_m [H], w_fm [H,p], w_hh [H,H] b_h [H],
            w_xh [H,p], w_hz [H,H] b_z [H], w_mz [H,H]
    mlstmf  a [H] (zeros), w_c [H,p+H] b_c [H], w_i [H,p+H] b_i [H],
            unused_w_f [H,p+2H] unused_b_f [H], w_o [H,p+H] b_o [H], w_y [H,H] b_y [H]

then, for every model, the second layer and the classifier:

    rnn     nn.LSTM(H, H):        l2_w_ih [4H,H] l2_w_hh [4H,H] l2_b_ih [4H] l2_b_hh [4H]
    others  nn.LSTMCell(H, H):    the same four tensors
    all     Linear(H -> C):       fc_w [C,H] fc_b [C]

Counts at p = 16, H = 128, C = 5 (unused tensors included): rnn 151,429; lstm 207,493;
mrnnf 221,461; mlstmf 240,005. nn.RNN / nn.LSTM / nn.LSTMCell / RNNCellBase draw every tensor
from U(-1/sqrt(H), 1/sqrt(H)) in the order listed; nn.Linear(i, o) draws its weight, then its
bias, from U(-1/sqrt(i), 1/sqrt(i)) (its kaiming-uniform init has the same bound).

The modules are built in float32 (the reference's dtype: the draws depend on it) on the CPU
generator, then cast, so float64 parameters hold exactly the float32 values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import nn

MODELS = ("rnn", "lstm", "mrnnf", "mlstmf")

_F32 = torch.float32


def model_label(model: str, K: int) -> str:
    """The published name: RNN, LSTM, MRNNF50, MLSTMF50 (K = 50)."""
    return {"rnn": "RNN", "lstm": "LSTM", "mrnnf": f"MRNNF{K}", "mlstmf": f"MLSTMF{K}"}[model]


def _lstm(prefix: str, i: int, H: int):
    G = 4 * H
    return [
        (prefix + "w_ih", (G, i)),
        (prefix + "w_hh", (G, H)),
        (prefix + "b_ih", (G,)),
        (prefix + "b_hh", (G,)),
    ]


def _first_layer(model: str, p: int, H: int) -> list[tuple[str, tuple[int, ...]]]:
    u = p + H  # size of [x_t, h_{t-1}]
    if model == "rnn":
        return [("w_ih", (H, p)), ("w_hh", (H, H)), ("b_ih", (H,)), ("b_hh", (H,))]
    if model == "lstm":
        return _lstm("", p, H)
    if model == "mrnnf":
        return [
            ("a", (p,)),
            ("unused_w_ih", (H, p)),
            ("unused_w_hh", (H, H)),
            ("unused_b_ih", (H,)),
            ("unused_b_hh", (H,)),
            ("w_mm", (H, H)),
            ("b_m", (H,)),
            ("w_fm", (H, p)),
            ("w_hh", (H, H)),
            ("b_h", (H,)),
            ("w_xh", (H, p)),
            ("w_hz", (H, H)),
            ("b_z", (H,)),
            ("w_mz", (H, H)),
        ]
    if model == "mlstmf":
        return [
            ("a", (H,)),
            ("w_c", (H, u)),
            ("b_c", (H,)),
            ("w_i", (H, u)),
            ("b_i", (H,)),
            ("unused_w_f", (H, u + H)),
            ("unused_b_f", (H,)),
            ("w_o", (H, u)),
            ("b_o", (H,)),
            ("w_y", (H, H)),
            ("b_y", (H,)),
        ]
    raise ValueError(f"unknown review model {model!r}; expected one of {MODELS}")


def param_shapes(model: str, p: int, H: int, n_classes: int) -> dict[str, tuple[int, ...]]:
    """Ordered dict name -> single-seed shape, in creation order."""
    spec = _first_layer(model, p, H) + _lstm("l2_", H, H)
    return dict(spec + [("fc_w", (n_classes, H)), ("fc_b", (n_classes,))])


def n_params(model: str, p: int, H: int, n_classes: int) -> int:
    """Scalar parameters of one seed, unused tensors included."""
    return sum(math.prod(s) for s in param_shapes(model, p, H, n_classes).values())


def unused_params(model: str) -> tuple[str, ...]:
    """Tensors that only consume random numbers: never in the graph, never updated by Adam."""
    return tuple(n for n in param_shapes(model, 1, 1, 1) if n.startswith("unused_"))


def _linear(i: int, o: int, bias: bool = True) -> list[torch.Tensor]:
    lin = nn.Linear(i, o, bias=bias, dtype=_F32)
    return [lin.weight, lin.bias] if bias else [lin.weight]


def _lstm_cell(i: int, H: int) -> list[torch.Tensor]:
    cell = nn.LSTMCell(i, H, dtype=_F32)
    return [cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh]


def _build(model: str, p: int, H: int, n_classes: int) -> list[torch.Tensor]:
    """One seed's tensors in the reference's creation order (the caller has seeded torch).

    Each layer is created in its own statement, in order: creation order is draw order.
    """
    out: list[torch.Tensor] = []
    if model == "rnn":
        rnn = nn.RNN(p, H, dtype=_F32)
        out += [rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0]
        lstm = nn.LSTM(H, H, dtype=_F32)
        out += [lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0]
    elif model == "lstm":
        out += _lstm_cell(p, H)
        out += _lstm_cell(H, H)
    elif model == "mrnnf":
        out.append(torch.zeros(p, dtype=_F32))
        # RNNCellBase.__init__ creates weight_ih, weight_hh, bias_ih, bias_hh and draws them
        # U(-1/sqrt(H), 1/sqrt(H)) in that order, as the reference cell's base class does.
        base = nn.RNNCellBase(p, H, bias=True, num_chunks=1, dtype=_F32)
        out += [base.weight_ih, base.weight_hh, base.bias_ih, base.bias_hh]
        out += _linear(H, H)  # w_mm, b_m
        out += _linear(p, H, bias=False)  # w_fm
        out += _linear(H, H)  # w_hh, b_h
        out += _linear(p, H, bias=False)  # w_xh
        out += _linear(H, H)  # w_hz, b_z
        out += _linear(H, H, bias=False)  # w_mz
        out += _lstm_cell(H, H)
    elif model == "mlstmf":
        u = p + H
        out.append(torch.zeros(H, dtype=_F32))
        out += _linear(u, H)  # c~
        out += _linear(u, H)  # i
        out += _linear(u + H, H)  # unused forget gate
        out += _linear(u, H)  # o
        out += _linear(H, H)  # output Linear, no activation
        out += _lstm_cell(H, H)
    else:
        raise ValueError(f"unknown review model {model!r}; expected one of {MODELS}")
    out += _linear(H, n_classes)
    return out


def init_params(
    model: str,
    seeds: Iterable[int],
    *,
    p: int,
    H: int,
    n_classes: int,
    dtype: torch.dtype,
    device: torch.device | str,
) -> dict[str, torch.Tensor]:
    """Reference-identical initial parameters, name -> [S, *shape] (long-memory.md §7, 11.2).

    Per seed: torch.manual_seed(seed) (CPU generator), build the throw-away modules in creation
    order, copy into the seed's slice. The caller's CPU RNG state is restored afterwards.
    """
    seeds = [int(s) for s in seeds]
    shapes = param_shapes(model, p, H, n_classes)
    stacked: dict[str, list[torch.Tensor]] = {name: [] for name in shapes}
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        for seed in seeds:
            torch.manual_seed(seed)
            tensors = _build(model, p, H, n_classes)
            if len(tensors) != len(shapes):
                raise AssertionError(f"{model}: built {len(tensors)} tensors, {len(shapes)} named")
            for (name, shape), t in zip(shapes.items(), tensors, strict=True):
                if tuple(t.shape) != shape:
                    raise AssertionError(f"{model}.{name}: built {tuple(t.shape)}, spec {shape}")
                stacked[name].append(t.detach().clone())
    return {
        name: torch.stack(ts).to(device=device, dtype=dtype).contiguous()
        for name, ts in stacked.items()
    }
