"""Initial weights (Keras defaults, forgetting.md §3.1) and the two layer steppers.

A stepper maps (inputs (L, n_in), state) -> (outputs h (L, u), state, per-step extra state):

* TorchStepper, the primary variant: the fused torch.nn.LSTM / nn.GRU module on chunks
  (= CuDNNLSTM / CuDNNGRU semantics), batch 1;
* Keras22Stepper, the sensitivity variant (forgetting.md §3.2): a per-step Keras 2.2 CPU cell with
  hard-sigmoid gates and one bias vector.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from rnnmem.forgetting.settings import CELLS

GATES = {"lstm": 4, "gru": 3}  # blocks stacked in weight_ih / weight_hh
TORCH_MODULES = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}


def glorot_bound(cell: str, n_in: int, units: int) -> float:
    """Keras glorot_uniform on the stacked (n_in, G*u) kernel: sqrt(6 / (fan_in + fan_out))."""
    return math.sqrt(6.0 / (n_in + GATES[cell] * units))


def orthogonal(rows: int, cols: int, rng: np.random.Generator) -> np.ndarray:
    """Haar-random (rows, cols) matrix with orthonormal columns (rows >= cols), gain 1.

    QR of a Gaussian matrix with the sign fix Q <- Q * sign(diag(R)), as
    torch.nn.init.orthogonal_ does, but from the run's own generator.
    """
    gauss = torch.from_numpy(rng.standard_normal((rows, cols)))
    # torch's LAPACK honours torch.set_num_threads (numpy's OpenBLAS would spawn threads)
    q, r = (m.numpy() for m in torch.linalg.qr(gauss))
    return q * np.where(np.diag(r) >= 0, 1.0, -1.0)


def init_weights(cell: str, n_in: int, units: int, rng: np.random.Generator, dtype="float32"):
    """Keras-default initial parameters in torch layout (forgetting.md §3.1).

    weight_ih: (G*u, n_in) Glorot uniform over the whole stacked matrix
    weight_hh: (G*u, u)    orthogonal columns
    bias_ih:   (G*u,)      zero, LSTM forget block [u:2u] = 1 (Keras unit_forget_bias)
    bias_hh:   (G*u,)      zero (so the effective forget bias is exactly 1)
    """
    if cell not in CELLS:
        raise ValueError(f"cell {cell!r} not in {CELLS}")
    gu = GATES[cell] * units
    bound = glorot_bound(cell, n_in, units)
    weight_ih = rng.uniform(-bound, bound, size=(gu, n_in))
    weight_hh = orthogonal(gu, units, rng)
    bias_ih = np.zeros(gu)
    if cell == "lstm":
        bias_ih[units : 2 * units] = 1.0  # torch gate order i, f, g, o: forget is block 2
    bias_hh = np.zeros(gu)
    return {
        name: np.ascontiguousarray(value, dtype=dtype)
        for name, value in (
            ("weight_ih", weight_ih),
            ("weight_hh", weight_hh),
            ("bias_ih", bias_ih),
            ("bias_hh", bias_hh),
        )
    }


class TorchStepper:
    """Primary variant: fused nn.LSTM / nn.GRU (= CuDNNLSTM/CuDNNGRU semantics), batch 1."""

    def __init__(self, cell: str, weights: dict, device, dtype):
        units = weights["weight_hh"].shape[1]
        n_in = weights["weight_ih"].shape[1]
        self.cell, self.units, self.device, self.dtype = cell, units, device, dtype
        self.module = TORCH_MODULES[cell](n_in, units, batch_first=True)
        # cast before copying, so float64 weights are not rounded through float32
        self.module.to(device=device, dtype=dtype).requires_grad_(False)  # forward pass only
        with torch.no_grad():
            for name, value in weights.items():
                getattr(self.module, f"{name}_l0").copy_(torch.from_numpy(value))
        # the state is visible per step only where it equals the output (GRU: h)
        self.state_per_step = cell == "gru"

    def zero_state(self):
        # (layers, batch, u)
        h = torch.zeros(1, 1, self.units, device=self.device, dtype=self.dtype)
        return (h, h.clone()) if self.cell == "lstm" else (h,)

    def __call__(self, x: torch.Tensor, state):
        # x: (L, n_in) -> (1, L, n_in); y: (1, L, u)
        hx = state if self.cell == "lstm" else state[0]
        y, new = self.module(x.unsqueeze(0), hx)
        return y[0], (new if self.cell == "lstm" else (new,)), None


def hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Keras 2.2 hard_sigmoid: clip(0.2 x + 0.5, 0, 1); exactly 0 or 1 outside |x| < 2.5."""
    return torch.clamp(x * 0.2 + 0.5, 0.0, 1.0)


class Keras22Stepper:
    """Sensitivity variant (forgetting.md §3.2): Keras 2.2 CPU LSTM/GRU, one bias, per-step loop.

    LSTM: i, f, o = hard_sigmoid(...), g = tanh(...), c = f c + i g, h = o tanh(c).
    GRU (reset_after=False): r, z = hard_sigmoid(W x + U h + b),
        n = tanh(W_n x + U_n (r * h) + b_n), h = z h + (1 - z) n.
    The weight blocks keep torch's layout (LSTM i, f, g, o; GRU r, z, n); all blocks are
    i.i.d., so only the forget bias position matters, and that is block 2 in both.
    Because the loop sees every state, the state equality is known per step.
    """

    state_per_step = True

    def __init__(self, cell: str, weights: dict, device, dtype):
        self.cell, self.device, self.dtype = cell, device, dtype
        self.units = weights["weight_hh"].shape[1]

        def tensor(name):
            return torch.from_numpy(weights[name]).to(device=device, dtype=dtype)

        self.w_ih_t = tensor("weight_ih").T.contiguous()  # (n_in, G*u)
        self.w_hh = tensor("weight_hh")  # (G*u, u)
        self.bias = tensor("bias_ih")  # Keras has a single bias vector
        u = self.units
        if cell == "gru":
            self.w_hh_rz = self.w_hh[: 2 * u].contiguous()
            self.w_hh_n = self.w_hh[2 * u :].contiguous()

    def zero_state(self):
        h = torch.zeros(self.units, device=self.device, dtype=self.dtype)
        return (h, h.clone()) if self.cell == "lstm" else (h,)

    def __call__(self, x: torch.Tensor, state):
        u, steps = self.units, x.shape[0]
        x_proj = torch.addmm(self.bias, x, self.w_ih_t)  # (L, G*u): W x + b for all steps
        out = torch.empty(steps, u, device=self.device, dtype=self.dtype)  # h_t per step
        if self.cell == "lstm":
            h, c = state
            cells = torch.empty_like(out)  # c_t per step, for the per-step state equality
            for t in range(steps):
                z = torch.addmv(x_proj[t], self.w_hh, h)  # (4u,)
                i, f = hard_sigmoid(z[:u]), hard_sigmoid(z[u : 2 * u])
                g, o = torch.tanh(z[2 * u : 3 * u]), hard_sigmoid(z[3 * u :])
                c = f * c + i * g
                h = o * torch.tanh(c)
                out[t], cells[t] = h, c
            return out, (h, c), cells
        (h,) = state
        for t in range(steps):
            rz = hard_sigmoid(torch.addmv(x_proj[t, : 2 * u], self.w_hh_rz, h))  # (2u,)
            r, z = rz[:u], rz[u:]
            # the reset gate acts before U_n
            n = torch.tanh(torch.addmv(x_proj[t, 2 * u :], self.w_hh_n, r * h))
            h = z * h + (1 - z) * n
            out[t] = h
        return out, (h,), None


STEPPERS = {"torch": TorchStepper, "keras22": Keras22Stepper}
