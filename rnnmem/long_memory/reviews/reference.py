"""The review models per seed, unbatched, with torch modules (the exactness reference).

The same equations as models.py, written the straightforward way the reference code runs
them: one seed at a time, torch modules (nn.RNN, nn.LSTM, nn.LSTMCell, nn.Linear), a Python
loop over the time steps with both layers advanced at each step, the filter coefficients by the
scalar recurrence pi_j = pi_{j-1} (j - 1 - d) / j, the input window and the cell history as
Python lists, every step over all T inputs (no truncation at max(idx)), and training with
torch.optim.Adam(weight_decay=...) on the module's parameters. It shares no code with
models.py, packed.py, recurrences.py or train.py beyond the metrics, so the tests compare
independent implementations. Slow: for tests and the timing comparison only.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rnnmem.long_memory.reviews.metrics import classification_metrics


def _pi(a: torch.Tensor, K: int) -> list[torch.Tensor]:
    """[pi_1(d), ..., pi_K(d)] with d = 0.5 sigmoid(a), by the scalar-style recurrence."""
    d = 0.5 * torch.sigmoid(a)
    out, prev = [], torch.ones_like(d)
    for j in range(1, K + 1):
        prev = prev * ((j - 1 - d) / j)
        out.append(prev)
    return out


class MRNNFCell(nn.Module):
    """MRNNF (long-memory.md §3.3): p inputs, H hidden units, H outputs, a d per input channel."""

    def __init__(self, p: int, H: int, K: int):
        super().__init__()
        self.K = K
        self.a = nn.Parameter(torch.zeros(p))
        self.unused = nn.RNNCellBase(p, H, bias=True, num_chunks=1)
        self.lin_mm = nn.Linear(H, H)
        self.lin_fm = nn.Linear(p, H, bias=False)
        self.lin_hh = nn.Linear(H, H)
        self.lin_xh = nn.Linear(p, H, bias=False)
        self.lin_hz = nn.Linear(H, H)
        self.lin_mz = nn.Linear(H, H, bias=False)

    def ordered(self):
        u = self.unused
        return (
            [self.a, u.weight_ih, u.weight_hh, u.bias_ih, u.bias_hh]
            + [
                t
                for lin in (self.lin_mm, self.lin_fm, self.lin_hh, self.lin_xh, self.lin_hz)
                for t in (lin.weight, lin.bias)
                if t is not None
            ]
            + [self.lin_mz.weight]
        )

    def start(self, B: int, like: torch.Tensor):
        H = self.lin_mm.weight.shape[0]
        self.pi = _pi(self.a, self.K)
        return {"m": like.new_zeros(B, H), "h": like.new_zeros(B, H), "window": []}

    def step(self, x_t: torch.Tensor, state: dict) -> torch.Tensor:
        state["window"].insert(0, x_t)  # window[j - 1] = x_{t+1-j}
        del state["window"][self.K :]
        F_t = sum(pi_j * x for pi_j, x in zip(self.pi, state["window"], strict=False))
        state["m"] = torch.tanh(self.lin_mm(state["m"]) + self.lin_fm(F_t))
        state["h"] = torch.tanh(self.lin_hh(state["h"]) + self.lin_xh(x_t))
        return torch.tanh(self.lin_hz(state["h"]) + self.lin_mz(state["m"]))


class MLSTMFCell(nn.Module):
    """MLSTMF (long-memory.md §3.5): p inputs, H hidden units, a d per hidden unit, H outputs."""

    def __init__(self, p: int, H: int, K: int):
        super().__init__()
        self.K = K
        self.a = nn.Parameter(torch.zeros(H))
        self.lin_c = nn.Linear(p + H, H)
        self.lin_i = nn.Linear(p + H, H)
        self.lin_f = nn.Linear(p + 2 * H, H)  # unused: the fixed-d cell has no forget gate
        self.lin_o = nn.Linear(p + H, H)
        self.lin_y = nn.Linear(H, H)

    def ordered(self):
        lins = (self.lin_c, self.lin_i, self.lin_f, self.lin_o, self.lin_y)
        return [self.a] + [t for lin in lins for t in (lin.weight, lin.bias)]

    def start(self, B: int, like: torch.Tensor):
        H = self.lin_c.weight.shape[0]
        self.weights = [-pi_j for pi_j in _pi(self.a, self.K)]
        return {"h": like.new_zeros(B, H), "cells": []}

    def step(self, x_t: torch.Tensor, state: dict) -> torch.Tensor:
        u = torch.cat([x_t, state["h"]], dim=1)
        c_tilde = torch.tanh(self.lin_c(u))
        i = torch.sigmoid(self.lin_i(u))
        o = torch.sigmoid(self.lin_o(u))
        cells = state["cells"]  # cells[j - 1] = c_{t-j}
        c = sum(w_j * c_old for w_j, c_old in zip(self.weights, cells, strict=False)) + i * c_tilde
        cells.insert(0, c)
        del cells[self.K :]
        state["h"] = o * torch.tanh(c)
        return self.lin_y(state["h"])


class ReviewNet(nn.Module):
    """One seed's review model. Built in the reference's creation order (params.py)."""

    def __init__(self, model: str, p: int, H: int, n_classes: int, K: int):
        super().__init__()
        self.model = model
        if model == "rnn":
            self.rnn = nn.RNN(p, H)
            self.lstm = nn.LSTM(H, H)
        elif model == "lstm":
            self.cell1 = nn.LSTMCell(p, H)
            self.cell2 = nn.LSTMCell(H, H)
        elif model in ("mrnnf", "mlstmf"):
            self.layer1 = (MRNNFCell if model == "mrnnf" else MLSTMFCell)(p, H, K)
            self.cell2 = nn.LSTMCell(H, H)
        else:
            raise ValueError(f"unknown review model {model!r}")
        self.fc = nn.Linear(H, n_classes)

    def ordered(self) -> list[torch.Tensor]:
        """The parameters in creation order (the order of params.param_shapes)."""
        if self.model == "rnn":
            first = [self.rnn.weight_ih_l0, self.rnn.weight_hh_l0]
            first += [self.rnn.bias_ih_l0, self.rnn.bias_hh_l0]
            lstm = self.lstm
            second = [lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0]
        else:
            if self.model == "lstm":
                c = self.cell1
                first = [c.weight_ih, c.weight_hh, c.bias_ih, c.bias_hh]
            else:
                first = self.layer1.ordered()
            c = self.cell2
            second = [c.weight_ih, c.weight_hh, c.bias_ih, c.bias_hh]
        return first + second + [self.fc.weight, self.fc.bias]

    @torch.no_grad()
    def load(self, params: dict, s: int) -> ReviewNet:
        """Copy seed s's slice of stacked parameters name -> [S, ...] into the modules."""
        tensors = self.ordered()
        if len(tensors) != len(params):
            raise ValueError(f"{len(params)} parameters given, the module has {len(tensors)}")
        for t, value in zip(tensors, params.values(), strict=True):
            t.copy_(value[s])
        return self

    def forward(self, x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        """x [T, B, p], idx [B] -> log-probabilities [B, C]."""
        T, B, _ = x.shape
        if self.model == "rnn":
            out, _ = self.rnn(x)
            out, _ = self.lstm(torch.tanh(out))
            top = torch.tanh(out)  # [T, B, H]
        else:
            H = self.cell2.hidden_size
            h2, c2 = x.new_zeros(B, H), x.new_zeros(B, H)
            if self.model == "lstm":
                h1, c1 = x.new_zeros(B, H), x.new_zeros(B, H)
            else:
                state = self.layer1.start(B, x)
            outs = []
            for t in range(T):
                if self.model == "lstm":
                    h1, c1 = self.cell1(x[t], (h1, c1))
                    h1 = torch.tanh(h1)  # the tanh-ed h is fed back
                    y1 = h1
                else:
                    y1 = self.layer1.step(x[t], state)
                h2, c2 = self.cell2(y1, (h2, c2))
                h2 = torch.tanh(h2)
                outs.append(h2)
            top = torch.stack(outs)
        z = top[idx, torch.arange(B, device=x.device)]
        return F.log_softmax(self.fc(z), dim=-1)


def _tensors(split, dtype, device):
    x = torch.as_tensor(np.asarray(split.x), dtype=dtype, device=device)
    idx = torch.as_tensor(split.idx, device=device)
    y = torch.as_tensor(split.y, device=device)
    return x, idx, y


def reference_train(
    model: str,
    params0: dict,
    splits: dict,
    *,
    K: int,
    p: int,
    H: int,
    n_classes: int,
    settings,
    device: torch.device | str,
) -> list[dict]:
    """Train each seed of params0 (name -> [S, ...]) on its own, as the reference does.

    settings: a train.ReviewTrainSettings. Per seed, per epoch: the mini-batches in order,
    each zero_grad / nll_loss / backward / Adam step; then the validation loss, and a deepcopy
    of the modules on strict improvement; at the end the test metrics of the kept copy.
    Returns per seed a dict of batch_loss [E, nb], val_loss [E], best_epoch, params (final,
    name -> array), and the test metrics.
    """
    dtype = getattr(torch, settings.dtype)
    train, val, test = (_tensors(splits[k], dtype, device) for k in ("train", "val", "test"))
    n_train = train[0].shape[1]
    starts = list(range(0, n_train, settings.batch_size))
    results = []
    for s in range(next(iter(params0.values())).shape[0]):
        net = ReviewNet(model, p, H, n_classes, K).to(device=device, dtype=dtype).load(params0, s)
        opt = torch.optim.Adam(
            net.parameters(),
            lr=settings.lr,
            betas=tuple(settings.betas),
            eps=settings.eps,
            weight_decay=settings.weight_decay,
            foreach=False,
        )
        batch_loss = np.zeros((settings.epochs, len(starts)))
        val_loss = np.zeros(settings.epochs)
        best, best_epoch, kept = float("inf"), -1, copy.deepcopy(net)
        for epoch in range(settings.epochs):
            for k, a in enumerate(starts):
                b = a + settings.batch_size
                opt.zero_grad()
                loss = F.nll_loss(net(train[0][:, a:b], train[1][a:b]), train[2][a:b])
                loss.backward()
                opt.step()
                batch_loss[epoch, k] = loss.item()
            with torch.no_grad():
                v = F.nll_loss(net(val[0], val[1]), val[2]).item()
            val_loss[epoch] = v
            if v < best:
                best, best_epoch, kept = v, epoch, copy.deepcopy(net)
        with torch.no_grad():
            logp = kept(test[0], test[1]).double().cpu().numpy()
        final = {n: t.detach().cpu().numpy() for n, t in zip(params0, net.ordered(), strict=True)}
        results.append(
            {
                "batch_loss": batch_loss,
                "val_loss": val_loss,
                "best_epoch": best_epoch,
                "params": final,
                "test_logp": logp,
                **classification_metrics(np.asarray(splits["test"].y), logp),
            }
        )
    return results
