"""Initial weights (forgetting.md §7, test 3) and the layer semantics of both steppers against the
spec's equations, in a float64 numpy reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rnnmem.forgetting.settings import CELLS, VARIANTS
from rnnmem.forgetting.steppers import (
    GATES,
    STEPPERS,
    TorchStepper,
    hard_sigmoid,
    init_weights,
    orthogonal,
)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("n_in,units", [(1, 1), (8, 16), (128, 64)])
def test_init_matches_keras_defaults(cell, n_in, units):
    rng = np.random.default_rng(1)
    w = init_weights(cell, n_in, units, rng)
    g = GATES[cell]
    assert w["weight_ih"].shape == (g * units, n_in) and w["weight_hh"].shape == (g * units, units)
    assert all(v.dtype == np.float32 for v in w.values())
    bound = math.sqrt(6.0 / (n_in + g * units))
    assert np.abs(w["weight_ih"]).max() <= np.float32(bound)
    if w["weight_ih"].size >= 1000:  # a uniform law on (-a, a): reaches the edge, variance a^2 / 3
        assert np.abs(w["weight_ih"]).max() > 0.98 * bound
        assert abs(w["weight_ih"].var() / (bound**2 / 3) - 1) < 0.1
    gram = w["weight_hh"].astype(np.float64).T @ w["weight_hh"].astype(np.float64)
    assert np.abs(gram - np.eye(units)).max() < 1e-5
    expected_ih = np.zeros(g * units, np.float32)
    if cell == "lstm":  # Keras unit_forget_bias
        expected_ih[units : 2 * units] = 1.0
    np.testing.assert_array_equal(w["bias_ih"], expected_ih)
    np.testing.assert_array_equal(w["bias_hh"], 0.0)


def test_init_reaches_the_torch_module():
    rng = np.random.default_rng(2)
    w = init_weights("lstm", 3, 5, rng)
    stepper = TorchStepper("lstm", w, torch.device("cpu"), torch.float32)
    for name, value in w.items():
        np.testing.assert_array_equal(getattr(stepper.module, f"{name}_l0").detach().numpy(), value)
    assert stepper.module.batch_first


def test_orthogonal_is_sign_fixed_and_uses_the_run_generator():
    a = orthogonal(12, 4, np.random.default_rng(3))
    b = orthogonal(12, 4, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    torch.manual_seed(0)
    c = orthogonal(12, 4, np.random.default_rng(3))
    np.testing.assert_array_equal(a, c)  # torch's global RNG plays no part
    # QR of the run's Gaussian draw with the sign fix Q <- Q sign(diag R)
    q, r = np.linalg.qr(np.random.default_rng(3).standard_normal((12, 4)))
    np.testing.assert_allclose(a, q * np.sign(np.diag(r)), atol=1e-12)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_hard_sigmoid(x):
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)


def reference(cell, variant, w, xs):
    """Direct transcription of forgetting.md §3.1 / 3.2 in float64 numpy."""
    w = {k: v.astype(np.float64) for k, v in w.items()}
    u = w["weight_hh"].shape[1]
    h, c, out = np.zeros(u), np.zeros(u), []
    gate = sigmoid if variant == "torch" else np_hard_sigmoid
    for x in xs:
        if cell == "lstm":
            b = w["bias_ih"] + (w["bias_hh"] if variant == "torch" else 0)
            z = w["weight_ih"] @ x + w["weight_hh"] @ h + b
            i, f = gate(z[:u]), gate(z[u : 2 * u])
            g, o = np.tanh(z[2 * u : 3 * u]), gate(z[3 * u :])
            c = f * c + i * g
            h = o * np.tanh(c)
        elif variant == "torch":
            gi = w["weight_ih"] @ x + w["bias_ih"]
            gh = w["weight_hh"] @ h + w["bias_hh"]
            r, z = sigmoid(gi[:u] + gh[:u]), sigmoid(gi[u : 2 * u] + gh[u : 2 * u])
            n = np.tanh(gi[2 * u :] + r * gh[2 * u :])
            h = (1 - z) * n + z * h
        else:
            gi = w["weight_ih"] @ x + w["bias_ih"]
            r = np_hard_sigmoid(gi[:u] + w["weight_hh"][:u] @ h)
            z = np_hard_sigmoid(gi[u : 2 * u] + w["weight_hh"][u : 2 * u] @ h)
            n = np.tanh(gi[2 * u :] + w["weight_hh"][2 * u :] @ (r * h))
            h = z * h + (1 - z) * n
        out.append(h)
    return np.array(out)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("cell", CELLS)
def test_steppers_follow_the_spec_equations(cell, variant):
    rng = np.random.default_rng(4)
    w = init_weights(cell, 3, 4, rng, dtype="float64")
    w["bias_ih"] += rng.uniform(-1, 1, w["bias_ih"].shape)  # exercise every bias slot
    if variant == "torch":
        w["bias_hh"] += rng.uniform(-1, 1, w["bias_hh"].shape)
    xs = rng.standard_normal((40, 3)) * 3  # large inputs push hard sigmoids into saturation
    stepper = STEPPERS[variant](cell, w, torch.device("cpu"), torch.float64)
    state = stepper.zero_state()
    y1, state, _ = stepper(torch.from_numpy(xs[:25]), state)
    y2, state, _ = stepper(torch.from_numpy(xs[25:]), state)  # state carried across chunks
    got = torch.cat([y1, y2]).numpy()
    np.testing.assert_allclose(got, reference(cell, variant, w, xs), rtol=0, atol=1e-12)


def test_hard_sigmoid_saturates_exactly():
    x = torch.tensor([-3.0, -2.5, 0.0, 2.5, 3.0])
    assert hard_sigmoid(x).tolist() == [0.0, 0.0, 0.5, 1.0, 1.0]
