"""Tests for rnnmem.memory_capacity (spec section 9): the must-pass sanity tests of 9.4 and the
properties of the API. Run with -s to see the measured capacities."""

from __future__ import annotations

import numpy as np
import pytest

from rnnmem import memory_capacity as mc

WASHOUT, N_TRAIN, N_TEST = 500, 20_000, 20_000  # spec 9.2 step 2
T = WASHOUT + N_TRAIN + N_TEST


def mt(seed: int) -> np.random.Generator:
    return np.random.Generator(np.random.MT19937(seed))


@pytest.fixture(scope="module")
def u() -> np.ndarray:
    """One input stream, i.i.d. Uniform[0, 1] (spec 9.2 step 1)."""
    return mt(12345).random(T)


def stream_mc(states, inputs, n_units):
    return mc.memory_capacity(
        states, inputs, WASHOUT, N_TRAIN, N_TEST, mc.default_max_delay(n_units)
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


# --- (c) scalar linear system: closed form -----------------------------------------------


@pytest.mark.parametrize("a", [0.5, 0.8])
def test_scalar_linear_matches_closed_form(u, a):
    states = mc.esn_run(np.array([[a]]), np.array([1.0]), u, activation="linear")  # s = a s + u
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
    assert res["bias_estimate"] == pytest.approx(40 / N_TEST)


def test_closed_form_values():
    assert np.allclose(mc.linear_scalar_capacity_theory(0.5, 3), [0.75, 0.1875, 0.046875])
    assert mc.linear_scalar_capacity_theory(0.9, 2000).sum() == pytest.approx(1.0)


# --- (a) linear ESN reaches MC ~ N ---------------------------------------------------------


@pytest.mark.parametrize("n_units", [5, 10])
def test_linear_esn_reaches_n(u, n_units):
    # dense reservoir: at N = 10 the spec's sparse recipe (density 0.1) has ~10 nonzeros and a
    # rank-deficient controllability matrix, so its MC is < N (see the next test)
    for seed in range(3):
        W, w_in = mc.esn_reservoir(n_units, mt(seed), dense_below=n_units + 1)
        states = mc.esn_run(W, w_in, u, activation="linear")
        res = stream_mc(states, u, n_units)
        pinv = mc.memory_capacity(states, u, WASHOUT, N_TRAIN, N_TEST, 40, ridge=0.0)["mc"]
        print(
            f"\nlinear dense ESN N={n_units} seed {seed}: MC={res['mc']:.4f} (ridge 0: {pinv:.4f})"
        )
        assert 0.9 * n_units <= res["mc"] <= n_units + 0.05
        assert n_units - 0.1 <= pinv <= n_units + 0.05


def test_ill_conditioned_linear_esn_needs_pseudo_inverse(u):
    """Known limitation of the spec's ridge (1e-8 * trace/N): this dense linear N = 10
    reservoir (1 in 30 seeds) has a state covariance with condition number ~1e12, and the
    ridge hides about one unit of capacity; the pseudo-inverse (ridge=0) recovers MC = N."""
    W, w_in = mc.esn_reservoir(10, mt(7), dense_below=11)
    states = mc.esn_run(W, w_in, u, activation="linear")
    ridge = mc.memory_capacity(states, u, WASHOUT, N_TRAIN, N_TEST, 40)["mc"]
    pinv = mc.memory_capacity(states, u, WASHOUT, N_TRAIN, N_TEST, 40, ridge=0.0)["mc"]
    print(
        f"\nill-conditioned linear ESN N=10: MC={ridge:.4f} with ridge 1e-8, {pinv:.4f} with ridge 0"
    )
    assert 10 - 0.1 <= pinv <= 10 + 0.05
    assert ridge <= pinv + 1e-6  # shrinkage never adds capacity here


def test_linear_sparse_esn_mc_equals_controllability_rank(u):
    """Gonon et al. (2020): a linear network with independent input has MC = rank of the
    Kalman controllability matrix [w, W w, ..., W^{N-1} w]; a sparse N = 10 reservoir is
    typically rank-deficient, so this checks the estimator does not just return N."""
    n_units = 10
    for seed in range(50):
        W, w_in = mc.esn_reservoir(n_units, mt(seed))
        krylov = np.column_stack([np.linalg.matrix_power(W, k) @ w_in for k in range(n_units)])
        sv = np.linalg.svd(krylov, compute_uv=False)
        rank = int((sv > 1e-8 * sv[0]).sum())
        if 2 <= rank <= n_units - 2 and (sv[rank - 1] > 1e-3 * sv[0]):  # clear-cut numerical rank
            break
    res = stream_mc(mc.esn_run(W, w_in, u, activation="linear"), u, n_units)
    print(
        f"\nlinear sparse ESN N=10 (seed {seed}): controllability rank {rank}, MC={res['mc']:.4f}"
    )
    assert abs(res["mc"] - rank) < 0.1


# --- (b) a state that ignores the input has no capacity -----------------------------------


def test_state_ignoring_input_has_no_capacity(u):
    W, w_in = mc.esn_reservoir(10, mt(7), dense_below=11)
    other = mt(999).random(T)  # an independent stream drives the "network"
    res = stream_mc(mc.esn_run(W, w_in, other), u, 10)
    print(
        f"\nstate driven by an unrelated stream: MC={res['mc']:.4f} (bias estimate {res['bias_estimate']:.4f})"
    )
    assert res["mc"] < 0.05
    # a constant state: finite and ~0 (centring leaves rounding-level residue), no 0/0 NaN
    const = np.ones((T, 3)) * np.array([0.2, -1.0, 3.0])
    curve = mc.delay_capacity(const, u, WASHOUT, 1000, 1000, 40)
    assert np.all(np.isfinite(curve)) and curve.max() < 1e-20
    assert np.array_equal(
        mc.delay_capacity(np.zeros((T, 2)), u, WASHOUT, 1000, 1000, 5), np.zeros(5)
    )


# --- Jaeger's bound for nonlinear ESNs ----------------------------------------------------


def test_tanh_esn_respects_bound(u):
    for n_units in (5, 10, 20):
        W, w_in = mc.esn_reservoir(n_units, mt(100 + n_units))
        res = stream_mc(mc.esn_run(W, w_in, u), u, n_units)
        print(f"\ntanh ESN N={n_units}: MC={res['mc']:.4f} MC_eq3={res['mc_eq3']:.4f}")
        assert 1.0 < res["mc"] <= n_units + 0.05
        assert np.all((res["curve"] >= 0) & (res["curve"] <= 1))


# --- estimator correctness and API --------------------------------------------------------


def test_matches_naive_reference():
    rng = mt(3)
    inputs = rng.random(3000)
    W, w_in = mc.esn_reservoir(6, rng)
    states = mc.esn_run(W, w_in, inputs)
    got = mc.delay_capacity(states, inputs, 30, 1500, 1400, 20)
    ref = naive_delay_capacity(states, inputs, 30, 1500, 1400, 20)
    assert got.shape == (20,)
    assert np.allclose(got, ref, atol=1e-6)  # ridge 1e-8 vs plain least squares


def test_batched_equals_loop(monkeypatch):
    rng = mt(4)
    n_models, n_steps, n_units = 5, 4000, 8
    inputs = rng.random((n_models, n_steps))
    shared = inputs[0]
    pairs = [mc.esn_reservoir(n_units, rng) for _ in range(n_models)]
    W, w_in = np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])
    states_shared = mc.esn_run(W, w_in, shared)  # stacked reservoirs: (M, T, N)
    assert states_shared.shape == (n_models, n_steps, n_units)
    states_own = np.stack([mc.esn_run(W[i], w_in[i], inputs[i]) for i in range(n_models)])
    assert np.allclose(states_shared[2], mc.esn_run(W[2], w_in[2], shared), rtol=0, atol=1e-12)

    args = (100, 2000, 1800, 30)
    loop_shared = np.stack([mc.delay_capacity(s, shared, *args) for s in states_shared])
    loop_own = np.stack([mc.delay_capacity(s, x, *args) for s, x in zip(states_own, inputs)])
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
        W, w_in = mc.esn_reservoir(12, rng)
        inputs = rng.random(5000)
        states = mc.esn_run(W, w_in, inputs)
        return W, w_in, states, mc.delay_capacity(states, inputs, 100, 2400, 2400, 40)

    first, second = once(), once()
    for x, y in zip(first, second):
        assert x.tobytes() == y.tobytes()


def test_washout_must_cover_max_delay():
    states, inputs = np.zeros((1000, 2)), np.zeros(1000)
    with pytest.raises(ValueError, match="washout"):
        mc.delay_capacity(states, inputs, washout=38, n_train=400, n_test=400, max_delay=40)
    mc.delay_capacity(
        states, inputs, washout=39, n_train=400, n_test=400, max_delay=40
    )  # just enough
    with pytest.raises(ValueError, match="T >="):
        mc.delay_capacity(states, inputs, washout=500, n_train=400, n_test=400, max_delay=40)


# --- task-aligned capacity and MAE --------------------------------------------------------


def test_task_capacity_exact_and_noise():
    rng = mt(5)
    n_seq, n_pos = 20_000, 20
    targets = rng.random((n_seq, n_pos))
    exact = np.column_stack([targets, rng.standard_normal((n_seq, 3))])  # contains the targets
    noise = rng.standard_normal((n_seq, 10))
    cap_exact = mc.task_capacity(exact, targets, 10_000)
    cap_noise = mc.task_capacity(noise, targets, 10_000)
    assert cap_exact.shape == (n_pos,)
    assert cap_exact.min() > 0.999
    assert cap_noise.max() < 0.01
    assert np.all(mc.task_mae(exact, targets, 10_000) < 1e-3)
    # no information: the readout falls back to the mean, MAE of U[0,1] about its mean = 0.25
    assert np.allclose(mc.task_mae(noise, targets, 10_000), 0.25, atol=0.01)
    # partial information: one target seen through noise, corr^2 = 1 / (1 + sigma^2 * 12)
    sigma = 0.2
    part = (targets[:, 0] + sigma * rng.standard_normal(n_seq))[:, None]
    assert mc.task_capacity(part, targets[:, :1], 10_000)[0] == pytest.approx(
        1 / (1 + 12 * sigma**2), abs=0.02
    )
    # leading model axis == loop
    stack = np.stack([noise[:, :3], exact[:, :3], noise[:, 5:8]])
    assert np.allclose(
        mc.task_capacity(stack, targets, 10_000),
        np.stack([mc.task_capacity(s, targets, 10_000) for s in stack]),
        rtol=0,
        atol=1e-10,
    )
    assert np.allclose(
        mc.task_mae(stack, targets, 10_000),
        np.stack([mc.task_mae(s, targets, 10_000) for s in stack]),
        rtol=0,
        atol=1e-10,
    )


def test_esn_sequence_mode_and_def1_task():
    rng = mt(6)
    n_seq, n_units = 20_000, 5
    lengths = rng.integers(10, 16, size=n_seq)  # Def. 1: q ~ U{10..15}
    x = rng.random((n_seq, 15))
    x_padded = np.where(np.arange(15)[None, :] < lengths[:, None], x, 7.0)  # junk padding
    W, w_in = mc.esn_reservoir(n_units, rng)
    final = mc.esn_run(W, w_in, x_padded, lengths=lengths)
    assert final.shape == (n_seq, n_units)
    for i in range(5):  # same as running each sequence alone from the zero state
        alone = mc.esn_run(W, w_in, x[i, : lengths[i]])[-1]
        assert np.allclose(final[i], alone, rtol=0, atol=1e-13)
    targets = mc.sequence_targets(x_padded, lengths, 10)
    assert targets[0, 0] == x[0, lengths[0] - 1] and targets[0, 9] == x[0, lengths[0] - 10]
    with pytest.raises(ValueError):
        mc.sequence_targets(x_padded, lengths, 11)
    cap = mc.task_capacity(final, targets, 10_000)
    mae = mc.task_mae(final, targets, 10_000)
    print(
        f"\ntanh ESN N=5 on Def. 1: MC_task(p=1..10)={np.round(cap, 3)} sum={cap.sum():.3f}; "
        f"MAE={np.round(mae, 3)}"
    )
    assert cap.sum() <= n_units + 0.05
    assert cap[0] > 0.9 and np.all(mae <= 0.26)


# --- reservoirs ---------------------------------------------------------------------------


def test_reservoir_spectral_radius_and_density():
    for n_units in (1, 2, 5, 9, 10, 12, 15, 20, 50, 100):
        for seed in range(3):
            W, w_in = mc.esn_reservoir(n_units, mt(seed))
            assert W.shape == (n_units, n_units) and w_in.shape == (n_units,)
            assert abs(np.abs(np.linalg.eigvals(W)).max() - 0.9) < 1e-9
            assert np.all(np.abs(w_in) <= 0.5)
            if n_units < 10:
                assert np.all(W != 0)  # dense below 10 units
    W, w_in = mc.esn_reservoir(300, mt(1))
    assert abs((W != 0).mean() - 0.1) < 0.005  # 90,000 Bernoulli(0.1) draws: sd 0.001
    assert abs(np.abs(w_in).mean() - 0.25) < 0.03 and w_in.min() < -0.45 and w_in.max() > 0.45


def test_reservoir_degenerate_draws_are_redrawn():
    # density 0.005 at N = 12: most draws are all-zero or nilpotent (no cycle), radius 0
    W, w_in = mc.esn_reservoir(12, mt(8), density=0.005)
    assert mc.spectral_radius_of(W) == pytest.approx(0.9, abs=1e-12)
    W2, w_in2 = mc.esn_reservoir(12, mt(8), density=0.005)
    assert W.tobytes() == W2.tobytes() and w_in.tobytes() == w_in2.tobytes()
    assert mc.spectral_radius_of(np.triu(np.ones((6, 6)), 1)) == 0.0  # nilpotent
    assert mc.spectral_radius_of(np.zeros((4, 4))) == 0.0


def test_esn_run_checks_activation():
    with pytest.raises(ValueError, match="activation"):
        mc.esn_run(np.eye(2), np.ones(2), np.zeros(5), activation="relu")


def test_esn_run_reads_several_length_draws_from_one_pass():
    rng = np.random.default_rng(5)
    W, w_in = mc.esn_reservoir(6, rng)
    x = rng.random((40, 12))
    lengths = np.stack([rng.integers(1, 13, 40), rng.integers(6, 13, 40)])  # (K=2, S)
    both = mc.esn_run(W, w_in, x, lengths=lengths)
    assert both.shape == (2, 40, 6)
    for k in range(2):
        np.testing.assert_array_equal(both[k], mc.esn_run(W, w_in, x, lengths=lengths[k]))
