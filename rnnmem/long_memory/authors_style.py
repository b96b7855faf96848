"""The nine models written the way the authors' code runs them (long-memory.md §12.1): the cost
baseline of the speed benchmark, not a training engine.

One seed at a time, batch 1, tensors shaped [time, batch = 1, features]. A Python loop over
time steps calls small torch cells (nn.Linear, nn.LSTMCell) with autograd; the vanilla RNN
runs nn.RNN over the whole sequence, as the authors' RNN does. The fractional filter weights
are built by a Python loop of scalar autograd operations, one per lag and channel,

    pi_j = pi_{j-1} * (j - 1 - d) / j,   j = 1..K,

once per pass for the fixed-d models (mrnnf, mlstmf) and at every step for the dynamic-d
models (mrnn, mlstm). Windows and cell buffers are kept oldest first, as the authors keep
them, so the weight vector runs pi_K .. pi_1. RNN2, RWA and MIST have no authors' code; they
are written in the same style. The equations are those of reference.py; authors_epoch
computes the same training loss.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from rnnmem.long_memory.cells import MIST_DELAYS


def scalar_pi(d: torch.Tensor, K: int) -> torch.Tensor:
    """pi_K .. pi_1 of a one-element tensor d, built one scalar autograd op at a time."""
    coeffs = [None] * K
    prev = 1.0
    for j in range(1, K + 1):
        prev = prev * (j - 1 - d) / j
        coeffs[K - j] = prev  # oldest lag first
    return torch.cat(coeffs)


def filter_weights(d: torch.Tensor, K: int) -> torch.Tensor:
    """[K, C] weights (oldest lag first) for d [1, C]: a Python loop over channels."""
    weights = torch.ones(K, d.shape[1], dtype=d.dtype)
    for c in range(d.shape[1]):
        weights[:, c] = scalar_pi(d[0, c].view(1), K)
    return weights


def _linear(i, o, bias=True):
    return nn.Linear(i, o, bias=bias)


class RNNNet(nn.Module):
    def __init__(self, p, q, H, K):
        super().__init__()
        self.rnn = nn.RNN(p, H)
        self.out = _linear(H, q)

    def forward(self, x):
        seq, _ = self.rnn(x)
        return self.out(seq)


class LSTMNet(nn.Module):
    def __init__(self, p, q, H, K):
        super().__init__()
        self.H, self.q = H, q
        self.cell = nn.LSTMCell(p, H)
        self.out = _linear(H, q)

    def forward(self, x):
        h = torch.zeros(1, self.H, dtype=x.dtype)
        c = torch.zeros(1, self.H, dtype=x.dtype)
        outputs = torch.zeros(x.shape[0], 1, self.q, dtype=x.dtype)
        for t in range(x.shape[0]):
            h, c = self.cell(x[t], (h, c))
            outputs[t] = self.out(h)
        return outputs


class DualTrackCell(nn.Module):
    """One step of the MRNN family: filtered input -> memory track m, raw input -> track h."""

    def __init__(self, p, q, H, dynamic):
        super().__init__()
        self.dynamic = dynamic
        if dynamic:
            self.d_d = _linear(p, p)
            self.h_d = _linear(H, p, bias=False)
            self.m_d = _linear(H, p, bias=False)
            self.x_d = _linear(p, p, bias=False)
        self.m_m = _linear(H, H)
        self.f_m = _linear(p, H, bias=False)
        self.h_h = _linear(H, H)
        self.x_h = _linear(p, H, bias=False)
        self.h_z = _linear(H, q)
        self.m_z = _linear(H, q, bias=False)

    def forward(self, x_t, h, m, d, window, weights, K):
        if self.dynamic:
            d = 0.5 * torch.sigmoid(self.d_d(d) + self.h_d(h) + self.m_d(m) + self.x_d(x_t))
            weights = filter_weights(d, K)  # K scalar ops per channel, every step
        combined = torch.cat([window, x_t.view(1, 1, -1)], 0)  # [K, 1, p], oldest first
        filtered = (combined * weights[:, None, :]).sum(dim=0)
        m = torch.tanh(self.m_m(m) + self.f_m(filtered))
        h = torch.tanh(self.h_h(h) + self.x_h(x_t))
        z = self.h_z(h) + self.m_z(m)
        return (z if self.dynamic else torch.tanh(z)), h, m, d, combined[1:]


class DualTrackNet(nn.Module):
    """mrnnf (fixed d = 0.5 sigmoid(a)), rnn2 (free filter weights) and mrnn (dynamic d)."""

    def __init__(self, p, q, H, K, kind):
        super().__init__()
        self.p, self.q, self.H, self.K, self.kind = p, q, H, K, kind
        if kind == "mrnnf":
            self.a = nn.Parameter(torch.zeros(1, p))
        if kind == "rnn2":
            self.w_filter = nn.Parameter(torch.zeros(K, p))
        self.cell = DualTrackCell(p, q, H, dynamic=kind == "mrnn")

    def forward(self, x):
        p, H, K = self.p, self.H, self.K
        weights = None
        if self.kind == "mrnnf":
            weights = filter_weights(0.5 * torch.sigmoid(self.a), K)  # once per pass
        if self.kind == "rnn2":
            weights = self.w_filter.flip(0)  # newest-first parameters, oldest-first window
        h = torch.zeros(1, H, dtype=x.dtype)
        m = torch.zeros(1, H, dtype=x.dtype)
        d = torch.zeros(1, p, dtype=x.dtype)
        window = torch.zeros(K - 1, 1, p, dtype=x.dtype)
        outputs = torch.zeros(x.shape[0], 1, self.q, dtype=x.dtype)
        for t in range(x.shape[0]):
            outputs[t], h, m, d, window = self.cell(x[t], h, m, d, window, weights, K)
        return outputs


class MemoryLSTMNet(nn.Module):
    """mlstmf (fixed d = 0.5 sigmoid(a)) and mlstm (d from a gate on [x_t, h_{t-1}, d_{t-1}])."""

    def __init__(self, p, q, H, K, dynamic):
        super().__init__()
        self.q, self.H, self.K, self.dynamic = q, H, K, dynamic
        if not dynamic:
            self.a = nn.Parameter(torch.zeros(1, H))
        self.c_gate = _linear(p + H, H)
        self.i_gate = _linear(p + H, H)
        if dynamic:
            self.f_gate = _linear(p + 2 * H, H)
        self.o_gate = _linear(p + H, H)
        self.out = _linear(H, q)

    def forward(self, x):
        H, K = self.H, self.K
        if not self.dynamic:
            weights = filter_weights(0.5 * torch.sigmoid(self.a), K)  # once per pass
        h = torch.zeros(1, H, dtype=x.dtype)
        d = torch.zeros(1, H, dtype=x.dtype)
        cells = torch.zeros(K, 1, H, dtype=x.dtype)  # c_{t-K} .. c_{t-1}, oldest first
        outputs = torch.zeros(x.shape[0], 1, self.q, dtype=x.dtype)
        for t in range(x.shape[0]):
            combined = torch.cat([x[t], h], 1)
            if self.dynamic:
                d = 0.5 * torch.sigmoid(self.f_gate(torch.cat([x[t], h, d], 1)))
                weights = filter_weights(d, K)  # K scalar ops per hidden unit, every step
            first = (-cells * weights[:, None, :]).sum(dim=0)
            i = torch.sigmoid(self.i_gate(combined))
            o = torch.sigmoid(self.o_gate(combined))
            c_tilde = torch.tanh(self.c_gate(combined))
            cell = first + c_tilde * i
            cells = torch.cat([cells, cell.view(1, 1, H)], 0)[1:]
            h = torch.tanh(cell) * o
            outputs[t] = self.out(h)
        return outputs


class RWANet(nn.Module):
    def __init__(self, p, q, H, K):
        super().__init__()
        self.q, self.H = q, H
        self.s = nn.Parameter(torch.zeros(H))
        self.u = _linear(p, H)
        self.g = _linear(p + H, H)
        self.a = _linear(p + H, H, bias=False)
        self.out = _linear(H, q)

    def forward(self, x):
        h = torch.tanh(self.s).view(1, self.H)
        num = torch.zeros(1, self.H, dtype=x.dtype)
        den = torch.zeros(1, self.H, dtype=x.dtype)
        top = torch.full((1, self.H), -float("inf"), dtype=x.dtype)
        outputs = torch.zeros(x.shape[0], 1, self.q, dtype=x.dtype)
        for t in range(x.shape[0]):
            combined = torch.cat([x[t], h], 1)
            z = self.u(x[t]) * torch.tanh(self.g(combined))
            a = self.a(combined)
            new_top = torch.maximum(top, a.detach())  # the ratio does not depend on it
            rescale, weight = torch.exp(top - new_top), torch.exp(a - new_top)
            num = num * rescale + z * weight
            den = den * rescale + weight
            top = new_top
            h = torch.tanh(num / den)
            outputs[t] = self.out(h)
        return outputs


class MISTNet(nn.Module):
    def __init__(self, p, q, H, K):
        super().__init__()
        self.q, self.H = q, H
        self.alpha = _linear(p + H, len(MIST_DELAYS))
        self.r = _linear(p + H, H)
        self.w_h = _linear(H, H, bias=False)
        self.w_x = _linear(p, H)
        self.out = _linear(H, q)

    def forward(self, x):
        zeros = torch.zeros(1, self.H, dtype=x.dtype)
        past = []  # h_1 .. h_{t-1}, oldest first
        outputs = torch.zeros(x.shape[0], 1, self.q, dtype=x.dtype)
        for t in range(x.shape[0]):
            h_prev = past[-1] if past else zeros
            combined = torch.cat([x[t], h_prev], 1)
            alpha = torch.softmax(self.alpha(combined), dim=1)
            r = torch.sigmoid(self.r(combined))
            mixed = zeros
            for i, tau in enumerate(MIST_DELAYS):
                if tau <= len(past):
                    mixed = mixed + alpha[:, i : i + 1] * past[-tau]
            h = torch.tanh(self.w_h(r * mixed) + self.w_x(x[t]))
            past.append(h)
            outputs[t] = self.out(h)
        return outputs


_TRACKS = {
    "w_mm": "cell.m_m.weight", "b_m": "cell.m_m.bias", "w_fm": "cell.f_m.weight",
    "w_hh": "cell.h_h.weight", "b_h": "cell.h_h.bias", "w_xh": "cell.x_h.weight",
    "w_hz": "cell.h_z.weight", "b_z": "cell.h_z.bias", "w_mz": "cell.m_z.weight",
}  # fmt: skip
_GATES = {
    "w_c": "c_gate.weight", "b_c": "c_gate.bias", "w_i": "i_gate.weight", "b_i": "i_gate.bias",
    "w_o": "o_gate.weight", "b_o": "o_gate.bias", "w_out": "out.weight", "b_out": "out.bias",
}  # fmt: skip
_OUT = {"w_out": "out.weight", "b_out": "out.bias"}

# model id -> (builder, contract name -> parameter path in the module); unused names absent
_NETS = {
    "rnn": (RNNNet, {"w_ih": "rnn.weight_ih_l0", "w_hh": "rnn.weight_hh_l0",
                     "b_ih": "rnn.bias_ih_l0", "b_hh": "rnn.bias_hh_l0", **_OUT}),
    "lstm": (LSTMNet, {"w_ih": "cell.weight_ih", "w_hh": "cell.weight_hh",
                       "b_ih": "cell.bias_ih", "b_hh": "cell.bias_hh", **_OUT}),
    "mrnnf": (lambda *a: DualTrackNet(*a, kind="mrnnf"), {"a": "a", **_TRACKS}),
    "rnn2": (lambda *a: DualTrackNet(*a, kind="rnn2"), {"w_filter": "w_filter", **_TRACKS}),
    "mrnn": (lambda *a: DualTrackNet(*a, kind="mrnn"),
             {"w_dd": "cell.d_d.weight", "b_d": "cell.d_d.bias", "w_hd": "cell.h_d.weight",
              "w_md": "cell.m_d.weight", "w_xd": "cell.x_d.weight", **_TRACKS}),
    "mlstmf": (lambda *a: MemoryLSTMNet(*a, dynamic=False), {"a": "a", **_GATES}),
    "mlstm": (lambda *a: MemoryLSTMNet(*a, dynamic=True),
              {"w_f": "f_gate.weight", "b_f": "f_gate.bias", **_GATES}),
    "rwa": (RWANet, {"s": "s", "w_u": "u.weight", "b_u": "u.bias", "w_g": "g.weight",
                     "b_g": "g.bias", "w_a": "a.weight", **_OUT}),
    "mist": (MISTNet, {"w_alpha": "alpha.weight", "b_alpha": "alpha.bias", "w_r": "r.weight",
                       "b_r": "r.bias", "w_h": "w_h.weight", "w_x": "w_x.weight",
                       "b_x": "w_x.bias", **_OUT}),
}  # fmt: skip


def _sizes(model, params):
    """(p, q, H) of one seed's parameters: q, H from the output weight, p from an input weight."""
    q, H = np.shape(params["w_hz" if model in ("mrnnf", "rnn2", "mrnn") else "w_out"])
    key = {"rnn": "w_ih", "lstm": "w_ih", "rwa": "w_u", "mist": "w_x"}.get(model, "w_xh")
    if model in ("mlstmf", "mlstm"):
        return np.shape(params["w_i"])[1] - H, q, H  # w_i acts on [x_t, h_{t-1}]
    return np.shape(params[key])[1], q, H


def build_net(model: str, params_one_seed: dict, K: int):
    """An authors-style module holding one seed's parameters (in their dtype)."""
    builder, paths = _NETS[model]
    p, q, H = _sizes(model, params_one_seed)
    with torch.random.fork_rng(devices=[]):  # the throw-away init must not move the caller's RNG
        net = builder(p, q, H, K)
    dtype = torch.as_tensor(params_one_seed[next(iter(paths))]).dtype
    net = net.to(dtype)
    with torch.no_grad():
        for name, path in paths.items():
            target = net.get_parameter(path)
            target.copy_(torch.as_tensor(params_one_seed[name]).reshape(target.shape))
    return net, paths


def authors_loss_grad(model: str, params_one_seed: dict, x, y, n_train: int, K: int):
    """One training epoch's forward and backward: (loss, grads name -> array)."""
    net, paths = build_net(model, params_one_seed, K)
    dtype = next(net.parameters()).dtype
    xs = torch.as_tensor(np.asarray(x)[:n_train], dtype=dtype).reshape(n_train, 1, -1)
    target = torch.as_tensor(np.asarray(y)[:n_train], dtype=dtype).reshape(n_train, 1, -1)
    net.zero_grad()
    loss = nn.MSELoss()(net(xs), target)
    loss.backward()
    grads = {}
    for name in params_one_seed:
        param = net.get_parameter(paths[name]) if name in paths else None
        if param is None or param.grad is None:
            grads[name] = np.zeros(np.shape(params_one_seed[name]))
        else:
            grads[name] = param.grad.detach().numpy().reshape(np.shape(params_one_seed[name]))
    return loss.item(), grads


def authors_epoch(model: str, params_one_seed: dict, x, y, n_train: int, K: int) -> float:
    """Forward and backward of the training loss over the first n_train steps; the loss."""
    return authors_loss_grad(model, params_one_seed, x, y, n_train, K)[0]
