"""Tests for rnnmem.memorization.capacity (memorization.md §9): the estimators against closed
forms and a naive reference, their API, the task-aligned capacity. Settings are the
schema's defaults. Run with -s to see the measured capacities."""

from __future__ import annotations

import numpy as np
import pytest

from rnnmem.memorization import capacity as mc
from rnnmem.memorization import esn
from tests.memorization.capacity_setup import (
    ESN,
    MIN_DELAYS,
    N_TEST,
    RIDGE,
    WASHOUT,
    T,
    mt,
    naive_delay_capacity,
    stream_mc,
)


@pytest.mark.parametrize("a", [0.5, 0.8])
def test_scalar_linear_matches_closed_form(u, a):
    states = esn.esn_run(np.array([[a]]), np.array([1.0]), u, activation="linear")  # s = a s + u
    res = stream_mc(states, u, 1)
    theory = mc.linear_scalar_capacity_theory(a, len(res["curve"]))
    print(
        f"\nlinear N=1 a={a}: MC={res['mc']:.4f} MC_eq3={res['mc_eq3']:.4f} (a^2={a * a:.4f}) "
        f"max|curve-theory|={np.abs(res['curve'] - theory).max():.4f}"
    )
    assert abs(res["mc"] - 1.0) < 0.05
    assert abs(res["mc_eq3"] - a * a) < 0.05
    assert np.abs(res["curve"] - theory).max() < 0.02
    assert res["curve"][0] == pytest.approx(1 - a * a, abs=0.02)  # p = 1 is the current input
    assert res["bias_estimate"] == pytest.approx(mc.max_delays(1, MIN_DELAYS) / N_TEST)


def test_closed_form_values():
    assert np.allclose(mc.linear_scalar_capacity_theory(0.5, 3), [0.75, 0.1875, 0.046875])
    assert mc.linear_scalar_capacity_theory(0.9, 2000).sum() == pytest.approx(1.0)


def test_state_ignoring_input_has_no_capacity(u):
    W, w_in = esn.esn_reservoir(10, mt(7), dense_below=11, **ESN)
    other = mt(999).random(T)  # an independent stream drives the "network"
    res = stream_mc(esn.esn_run(W, w_in, other), u, 10)
    print(
        f"\nstate driven by an unrelated stream: MC={res['mc']:.4f} "
        f"(bias estimate {res['bias_estimate']:.4f})"
    )
    assert res["mc"] < 0.05
    # a constant state: finite and ~0 (centring leaves rounding-level residue), no 0/0 NaN
    const = np.ones((T, 3)) * np.array([0.2, -1.0, 3.0])
    curve = mc.delay_capacity(const, u, WASHOUT, 1000, 1000, 40, RIDGE)
    assert np.all(np.isfinite(curve)) and curve.max() < 1e-20
    assert np.array_equal(
        mc.delay_capacity(np.zeros((T, 2)), u, WASHOUT, 1000, 1000, 5, RIDGE), np.zeros(5)
    )


def test_matches_naive_reference():
    rng = mt(3)
    inputs = rng.random(3000)
    W, w_in = esn.esn_reservoir(6, rng, **ESN)
    states = esn.esn_run(W, w_in, inputs)
    got = mc.delay_capacity(states, inputs, 30, 1500, 1400, 20, RIDGE)
    ref = naive_delay_capacity(states, inputs, 30, 1500, 1400, 20)
    assert got.shape == (20,)
    assert np.allclose(got, ref, atol=1e-6)  # ridge 1e-8 vs plain least squares


def test_batched_equals_loop(monkeypatch):
    rng = mt(4)
    n_models, n_steps, n_units = 5, 4000, 8
    inputs = rng.random((n_models, n_steps))
    shared = inputs[0]
    pairs = [esn.esn_reservoir(n_units, rng, **ESN) for _ in range(n_models)]
    W, w_in = np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])
    states_shared = esn.esn_run(W, w_in, shared)  # stacked reservoirs: (M, T, N)
    assert states_shared.shape == (n_models, n_steps, n_units)
    states_own = np.stack([esn.esn_run(W[i], w_in[i], inputs[i]) for i in range(n_models)])
    assert np.allclose(states_shared[2], esn.esn_run(W[2], w_in[2], shared), rtol=0, atol=1e-12)

    args = (100, 2000, 1800, 30, RIDGE)
    loop_shared = np.stack([mc.delay_capacity(s, shared, *args) for s in states_shared])
    loop_own = np.stack(
        [mc.delay_capacity(s, x, *args) for s, x in zip(states_own, inputs, strict=True)]
    )
    assert np.allclose(
        mc.batched_delay_capacity(states_shared, shared, *args), loop_shared, rtol=0, atol=1e-10
    )
    assert np.allclose(
        mc.batched_delay_capacity(states_own, inputs, *args), loop_own, rtol=0, atol=1e-10
    )
    # tiny chunks: models split over several vectorised blocks, same answer
    monkeypatch.setattr(mc, "_CHUNK_BYTES", 1)
    assert np.allclose(
        mc.batched_delay_capacity(states_own, inputs, *args), loop_own, rtol=0, atol=1e-10
    )
    # float32 states (as a torch engine would hand them over) are accepted and promoted
    b32 = mc.batched_delay_capacity(states_shared.astype(np.float32), shared, *args)
    assert np.allclose(b32, loop_shared, atol=1e-3)


def test_determinism():
    def once():
        rng = mt(2024)
        W, w_in = esn.esn_reservoir(12, rng, **ESN)
        inputs = rng.random(5000)
        states = esn.esn_run(W, w_in, inputs)
        return W, w_in, states, mc.delay_capacity(states, inputs, 100, 2400, 2400, 40, RIDGE)

    first, second = once(), once()
    for x, y in zip(first, second, strict=True):
        assert x.tobytes() == y.tobytes()


def test_washout_must_cover_max_delay():
    states, inputs = np.zeros((1000, 2)), np.zeros(1000)
    with pytest.raises(ValueError, match="washout"):
        mc.delay_capacity(
            states, inputs, washout=38, n_train=400, n_test=400, max_delay=40, ridge=RIDGE
        )
    mc.delay_capacity(
        states, inputs, washout=39, n_train=400, n_test=400, max_delay=40, ridge=RIDGE
    )  # just enough
    with pytest.raises(ValueError, match="T >="):
        mc.delay_capacity(
            states, inputs, washout=500, n_train=400, n_test=400, max_delay=40, ridge=RIDGE
        )


def test_task_capacity_exact_and_noise():
    rng = mt(5)
    n_seq, n_pos = 20_000, 20
    targets = rng.random((n_seq, n_pos))
    exact = np.column_stack([targets, rng.standard_normal((n_seq, 3))])  # contains the targets
    noise = rng.standard_normal((n_seq, 10))
    cap_exact = mc.task_capacity(exact, targets, 10_000, RIDGE)
    cap_noise = mc.task_capacity(noise, targets, 10_000, RIDGE)
    assert cap_exact.shape == (n_pos,)
    assert cap_exact.min() > 0.999
    assert cap_noise.max() < 0.01
    assert np.all(mc.task_mae(exact, targets, 10_000, RIDGE) < 1e-3)
    # no information: the readout falls back to the mean, MAE of U[0,1] about its mean = 0.25
    assert np.allclose(mc.task_mae(noise, targets, 10_000, RIDGE), 0.25, atol=0.01)
    # partial information: one target seen through noise, corr^2 = 1 / (1 + sigma^2 * 12)
    sigma = 0.2
    part = (targets[:, 0] + sigma * rng.standard_normal(n_seq))[:, None]
    assert mc.task_capacity(part, targets[:, :1], 10_000, RIDGE)[0] == pytest.approx(
        1 / (1 + 12 * sigma**2), abs=0.02
    )
    # leading model axis == loop
    stack = np.stack([noise[:, :3], exact[:, :3], noise[:, 5:8]])
    assert np.allclose(
        mc.task_capacity(stack, targets, 10_000, RIDGE),
        np.stack([mc.task_capacity(s, targets, 10_000, RIDGE) for s in stack]),
        rtol=0,
        atol=1e-10,
    )
    assert np.allclose(
        mc.task_mae(stack, targets, 10_000, RIDGE),
        np.stack([mc.task_mae(s, targets, 10_000, RIDGE) for s in stack]),
        rtol=0,
        atol=1e-10,
    )
