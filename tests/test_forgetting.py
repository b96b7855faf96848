"""Unit tests of the forgetting-time study (spec/forgetting-time.md, section 7 and more)."""

from __future__ import annotations

import hashlib
import math
from argparse import Namespace
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from rnnmem import forgetting as fg
from rnnmem import forgetting_report as fr
from rnnmem.core.io import load_arrays


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread; restore the process-wide torch flags the commands set."""
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(deterministic)


SHORT = fg.Settings(steps=3_000, prefix=500, chunk=256)
TOL_NAMES = [f"K_tol_{fg.eps_label(e)}" for e in SHORT.eps] + [f"F_tol_{fg.eps_label(e)}" for e in SHORT.eps]


def metrics_of(record, eps=SHORT.eps):
    names = fg.metric_names(eps)
    return {k: record[k] for k in names + [f"{n}_censored" for n in names]}


# --------------------------------------------------------------------------------------
# Test 5: metrics on synthetic gap sequences


def test_metric_names_follow_eps():
    assert fg.eps_label(1e-6) == "1e-06" and fg.eps_label(2.5e-4) == "2.5e-04"
    names = fg.metric_names([1e-3, 1e-6])
    assert names == ["K_exact", "S", "K_tol_1e-03", "K_tol_1e-06", "K_allclose", "F_exact", "F_tol_1e-03", "F_tol_1e-06"]


def test_spec_example_gap_sequence():
    d = np.zeros(100)
    d[:3] = [3.0, 0.0, 2.0]
    m = fg.gap_metrics(d, d == 0, eps=[1e-3])
    assert m["K_exact"] == 3 and m["F_exact"] == 1
    assert m["K_tol_1e-03"] == 3 and m["F_tol_1e-03"] == 1
    assert m["K_allclose"] == 3
    assert not any(m[f"{n}_censored"] for n in ("K_exact", "F_exact", "K_tol_1e-03", "F_tol_1e-03"))


def test_tolerance_metrics_use_strict_and_inclusive_thresholds():
    d = np.array([1.0, 1e-3, 5e-4, 2e-3, 1e-7, 0.0, 0.0])
    m = fg.gap_metrics(d, np.ones(7, bool), eps=[1e-3, 1e-6])
    assert m["K_tol_1e-03"] == 4  # last d > 1e-3 is at k = 3
    assert m["F_tol_1e-03"] == 1  # d = 1e-3 is "within" eps
    assert m["K_tol_1e-06"] == 4 and m["F_tol_1e-06"] == 4
    assert m["K_exact"] == 5 and m["F_exact"] == 5
    assert m["K_allclose"] == 0  # every step passed the allclose test given here


def test_censoring_at_the_end_of_the_sequence():
    d = np.full(50, 1e-9)
    d[10] = 0.0  # a first hit, but the gap reopens and is open at the last step
    m = fg.gap_metrics(d, np.zeros(50, bool), eps=[1e-6], censor_at=99_000)
    assert (m["K_exact"], m["K_exact_censored"]) == (99_000, True)
    assert (m["F_exact"], m["F_exact_censored"]) == (10, False)
    assert (m["K_tol_1e-06"], m["F_tol_1e-06"]) == (0, 0)
    assert (m["K_allclose"], m["K_allclose_censored"]) == (99_000, True)
    never = fg.gap_metrics(np.full(5, 1.0), np.zeros(5, bool), eps=[1e-6])
    assert (never["F_exact"], never["F_exact_censored"]) == (5, True)
    assert (never["F_tol_1e-06"], never["F_tol_1e-06_censored"]) == (5, True)


def test_all_zero_gaps_give_zero_metrics():
    m = fg.gap_metrics(np.zeros(20), np.ones(20, bool), eps=SHORT.eps)
    assert all(m[n] == 0 for n in fg.metric_names(SHORT.eps) if n != "S")
    assert not any(v for k, v in m.items() if k.endswith("_censored"))


# --------------------------------------------------------------------------------------
# Test 3: initialisation


@pytest.mark.parametrize("cell", fg.CELLS)
@pytest.mark.parametrize("n_in,units", [(1, 1), (8, 16), (128, 64)])
def test_init_matches_keras_defaults(cell, n_in, units):
    rng = np.random.default_rng(1)
    w = fg.init_weights(cell, n_in, units, rng)
    g = fg.GATES[cell]
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
    if cell == "LSTM":
        expected_ih[units : 2 * units] = 1.0
    np.testing.assert_array_equal(w["bias_ih"], expected_ih)
    np.testing.assert_array_equal(w["bias_hh"], 0.0)


def test_init_reaches_the_torch_module():
    rng = np.random.default_rng(2)
    w = fg.init_weights("LSTM", 3, 5, rng)
    stepper = fg.TorchStepper("LSTM", w, torch.device("cpu"), torch.float32)
    for name, value in w.items():
        np.testing.assert_array_equal(getattr(stepper.module, f"{name}_l0").detach().numpy(), value)
    assert stepper.module.batch_first


def test_orthogonal_is_sign_fixed_and_uses_the_run_generator():
    a = fg.orthogonal(12, 4, np.random.default_rng(3))
    b = fg.orthogonal(12, 4, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    torch.manual_seed(0)
    c = fg.orthogonal(12, 4, np.random.default_rng(3))
    np.testing.assert_array_equal(a, c)  # torch's global RNG plays no part
    # QR of the run's Gaussian draw with the sign fix Q <- Q sign(diag R)
    q, r = np.linalg.qr(np.random.default_rng(3).standard_normal((12, 4)))
    np.testing.assert_allclose(a, q * np.sign(np.diag(r)), atol=1e-12)


# --------------------------------------------------------------------------------------
# Layer semantics against the spec's equations (float64 reference)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def hard_sigmoid(x):
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)


def reference(cell, variant, w, xs):
    """Direct transcription of spec 3.1 / 3.2 in float64 numpy."""
    w = {k: v.astype(np.float64) for k, v in w.items()}
    u = w["weight_hh"].shape[1]
    h, c, out = np.zeros(u), np.zeros(u), []
    gate = sigmoid if variant == "torch" else hard_sigmoid
    for x in xs:
        if cell == "LSTM":
            b = w["bias_ih"] + (w["bias_hh"] if variant == "torch" else 0)
            z = w["weight_ih"] @ x + w["weight_hh"] @ h + b
            i, f, g, o = gate(z[:u]), gate(z[u : 2 * u]), np.tanh(z[2 * u : 3 * u]), gate(z[3 * u :])
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
            r = hard_sigmoid(gi[:u] + w["weight_hh"][:u] @ h)
            z = hard_sigmoid(gi[u : 2 * u] + w["weight_hh"][u : 2 * u] @ h)
            n = np.tanh(gi[2 * u :] + w["weight_hh"][2 * u :] @ (r * h))
            h = z * h + (1 - z) * n
        out.append(h)
    return np.array(out)


@pytest.mark.parametrize("variant", fg.VARIANTS)
@pytest.mark.parametrize("cell", fg.CELLS)
def test_steppers_follow_the_spec_equations(cell, variant):
    rng = np.random.default_rng(4)
    w = fg.init_weights(cell, 3, 4, rng, dtype="float64")
    w["bias_ih"] += rng.uniform(-1, 1, w["bias_ih"].shape)  # exercise every bias slot
    if variant == "torch":
        w["bias_hh"] += rng.uniform(-1, 1, w["bias_hh"].shape)
    xs = rng.standard_normal((40, 3)) * 3  # large inputs push hard sigmoids into saturation
    stepper = fg.STEPPERS[variant](cell, w, torch.device("cpu"), torch.float64)
    state = stepper.zero_state()
    y1, state, _ = stepper(torch.from_numpy(xs[:25]), state)
    y2, state, _ = stepper(torch.from_numpy(xs[25:]), state)  # state carried across chunks
    got = torch.cat([y1, y2]).numpy()
    np.testing.assert_allclose(got, reference(cell, variant, w, xs), rtol=0, atol=1e-12)


def test_hard_sigmoid_saturates_exactly():
    x = torch.tensor([-3.0, -2.5, 0.0, 2.5, 3.0])
    assert fg.hard_sigmoid(x).tolist() == [0.0, 0.0, 0.5, 1.0, 1.0]


# --------------------------------------------------------------------------------------
# Test 1: control P_B := P_A


@pytest.mark.parametrize("variant", fg.VARIANTS)
@pytest.mark.parametrize("cell", fg.CELLS)
@pytest.mark.parametrize("n_in,units", [(2, 3), (8, 64)])
def test_control_identical_sequences_give_all_zeros(cell, variant, n_in, units):
    steps = SHORT.steps if variant == "torch" else 1_200  # the per-step loop is slow
    s = replace(SHORT, variant=variant, steps=steps, early_stop=False)
    out = fg.run_one("test", cell, n_in, units, 0, s, control=True)
    r = out["record"]
    assert all(r[name] == 0 for name in fg.metric_names(s.eps)), metrics_of(r)
    assert not any(r[f"{name}_censored"] for name in fg.metric_names(s.eps))
    assert r["shared_steps_simulated"] == s.shared  # simulated to the end: all d_t = 0
    assert np.all(out["gaps"] == 0)


def test_control_is_not_vacuous():
    """The same run without the control has nonzero gaps (the test above can fail)."""
    r = fg.run_one("test", "LSTM", 2, 3, 0, SHORT)["record"]
    assert r["K_exact"] > 0 and r["F_exact"] > 0


# --------------------------------------------------------------------------------------
# Test 2: determinism, and seeds that name the run


@pytest.mark.parametrize("variant", fg.VARIANTS)
def test_rerun_gives_identical_metrics_and_gaps(variant):
    s = replace(SHORT, variant=variant, steps=SHORT.steps if variant == "torch" else 1_500)
    a = fg.run_one("test", "GRU", 4, 8, 1, s)
    b = fg.run_one("test", "GRU", 4, 8, 1, s)
    assert a["record"] == b["record"]
    assert hashlib.sha256(a["gaps"].tobytes()).digest() == hashlib.sha256(b["gaps"].tobytes()).digest()


def test_seeds_depend_on_the_key_only():
    a = fg.run_one("test", "LSTM", 2, 2, 3, SHORT)["record"]
    b = fg.run_one("test", "LSTM", 2, 2, 4, SHORT)["record"]
    c = fg.run_one("other", "LSTM", 2, 2, 3, SHORT)["record"]
    assert len({a["seed_entropy"], b["seed_entropy"], c["seed_entropy"]}) == 3
    seq, _ = fg.run_streams("test", "LSTM", 2, 2, 3)
    assert fg.seed_record(seq)["seed_entropy"] == a["seed_entropy"]
    # the inputs of a shorter sequence are a prefix of a longer one's (row-major draws)
    _, s1 = fg.run_streams("test", "LSTM", 2, 2, 3)
    _, s2 = fg.run_streams("test", "LSTM", 2, 2, 3)
    short = fg.draw_inputs(s1, 2, SHORT)[2]
    long = fg.draw_inputs(s2, 2, replace(SHORT, steps=10_000))[2]
    np.testing.assert_array_equal(short, long[: SHORT.shared])


def test_written_seed_rebuilds_the_run_streams():
    seq, streams = fg.run_streams("test", "GRU", 4, 8, 2)
    entropy = int(fg.seed_record(seq)["seed_entropy"], 16)
    children = np.random.SeedSequence(entropy).spawn(len(fg.STREAMS))
    for name, child in zip(fg.STREAMS, children):
        rebuilt = np.random.default_rng(child).standard_normal(5)
        np.testing.assert_array_equal(rebuilt, streams[name].standard_normal(5))


# --------------------------------------------------------------------------------------
# Test 4: early-stop consistency over the full 100,000 steps


@pytest.mark.parametrize(
    "cell,n_in,units",
    [("LSTM", 1, 1), ("LSTM", 8, 8), ("GRU", 1, 2), ("GRU", 4, 4)],
)
def test_early_stop_gives_the_metrics_of_a_full_simulation(cell, n_in, units):
    stop = fg.Settings()  # T = 100,000, D = 1,000 as in the spec
    full = replace(stop, early_stop=False)
    a = fg.run_one("test", cell, n_in, units, 0, stop)
    b = fg.run_one("test", cell, n_in, units, 0, full)
    assert a["record"]["stop_reason"] == "state_equal"  # the early stop was really taken
    assert a["record"]["shared_steps_simulated"] < stop.shared
    assert b["record"]["shared_steps_simulated"] == full.shared
    assert metrics_of(a["record"]) == metrics_of(b["record"])
    np.testing.assert_array_equal(a["gaps"], b["gaps"])


def test_early_stop_consistency_keras22():
    stop = fg.Settings(variant="keras22", steps=4_000, prefix=1_000)
    a = fg.run_one("test", "GRU", 2, 2, 0, stop)
    b = fg.run_one("test", "GRU", 2, 2, 0, replace(stop, early_stop=False))
    assert a["record"]["stop_reason"] == "state_equal"
    assert metrics_of(a["record"]) == metrics_of(b["record"])


# --------------------------------------------------------------------------------------
# Relations between the metrics (spec 4 "facts")


@pytest.mark.parametrize("variant", fg.VARIANTS)
@pytest.mark.parametrize("cell", fg.CELLS)
def test_k_exact_at_most_s_and_equal_for_per_step_states(cell, variant):
    s = replace(SHORT, variant=variant, steps=SHORT.steps if variant == "torch" else 2_000)
    for run in range(3):
        r = fg.run_one("test", cell, 2, 4, run, s)["record"]
        assert r["K_exact"] <= r["S"]
        assert r["K_tol_1e-06"] <= r["K_exact"] and r["F_tol_1e-04"] <= r["F_exact"] <= r["K_exact"]
        if r["S_resolution"] == "step" and not r["S_censored"]:
            # GRU state = output, Keras loop sees c_t: S is exact; for the GRU it equals K_exact
            if cell == "GRU":
                assert r["K_exact"] == r["S"]
        elif not r["S_censored"]:  # fused LSTM: S is the last step of a chunk
            assert r["S_resolution"] == "chunk"
            assert (r["S"] + 1) % s.chunk == 0 or r["S"] == s.shared - 1


def test_fast_mode_stops_early_and_censors_k_exact():
    cfg = dict(steps=20_000, prefix=1_000)
    exact = fg.run_one("test", "LSTM", 8, 64, 0, fg.Settings(**cfg))["record"]
    # the lingering float32 gap here is ~6e-8 (an ulp of 0.5), above the default threshold
    # 0.01 * 1e-6, so use threshold = min(eps) itself
    fast_settings = fg.Settings(**cfg, fast_mode=True, fast_factor=1.0)
    fast = fg.run_one("test", "LSTM", 8, 64, 0, fast_settings)["record"]
    assert exact["K_exact_censored"], "this configuration is expected never to coalesce"
    assert fast["stop_reason"] == "fast_mode" and fast["early_stopped_nonzero"]
    assert fast["shared_steps_simulated"] < exact["shared_steps_simulated"]
    assert fast["K_exact_censored"] and fast["S_censored"]
    for name in TOL_NAMES:  # tolerance metrics are unchanged: the gap stayed far below eps
        assert fast[name] == exact[name], name


def test_settings_reject_bad_values():
    with pytest.raises(ValueError, match="prefix"):
        fg.Settings(steps=100, prefix=100)
    with pytest.raises(ValueError, match="variant"):
        fg.Settings(variant="keras3")
    with pytest.raises(ValueError, match="eps"):
        fg.Settings(eps=())


# --------------------------------------------------------------------------------------
# Command line: files, byte-identical reruns


def test_simulate_command_writes_one_reproducible_file_per_run(tmp_path):
    def run(folder):
        outs = [str(tmp_path / folder / f"run{r:02d}.npz") for r in range(2)]
        argv = ["--cell", "GRU", "--n-in", "2", "--units", "2", "--experiment", "t", "--steps", "2000",
                "--prefix", "500", "--device-log", str(tmp_path / folder / "dev.json"), "--outputs", *outs]
        assert fg.simulate_main(argv) == 0
        return [hashlib.sha256(open(o, "rb").read()).hexdigest() for o in outs]

    first, second = run("a"), run("b")
    assert first == second and first[0] != first[1]
    assert torch.are_deterministic_algorithms_enabled() and torch.get_num_threads() == 1
    arrays, meta = load_arrays(tmp_path / "a" / "run01.npz")
    assert meta["run"] == 1 and meta["device"] == "cpu" and meta["flush_denormal"] is False
    assert arrays["gaps"].shape == (1500,) and arrays["gaps"].dtype == np.float64
    assert set(fg.metric_names(fg.Settings().eps)) <= set(meta)


def test_simulate_command_rejects_bad_settings(tmp_path, capsys):
    argv = ["--cell", "GRU", "--n-in", "2", "--units", "2", "--experiment", "t", "--steps", "500",
            "--prefix", "500", "--outputs", str(tmp_path / "x.npz")]
    assert fg.simulate_main(argv) == 2
    assert "prefix" in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()


# --------------------------------------------------------------------------------------
# Aggregation, figures and claims on synthetic run tables


def synthetic_runs(effect_units=0.5, effect_in=-0.3, noise=0.05, runs=6, grid=(1, 2, 4, 8), seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for cell in fr.CELL_ORDER:
        for n_in in grid:
            for units in grid:
                for run in range(runs):
                    log_k = 3 + effect_units * np.log2(units) + effect_in * np.log2(n_in) + noise * rng.standard_normal()
                    k = int(round(math.expm1(log_k)))
                    rows.append(dict(variant="torch", cell=cell, n_in=n_in, units=units, run=run, K_exact=k,
                                     K_exact_censored=False, steps=100_000, prefix=1_000))
    return pd.DataFrame(rows)


def claim_args(**kw):
    base = dict(bootstrap=300, level=0.95, row_fraction=0.875, col_fraction=0.71, g2_ratio=0.25,
                experiment="t", variant="torch")
    base.update(kw)
    return Namespace(**base)


def test_bootstrap_recovers_known_slopes():
    runs = synthetic_runs()
    frame = runs[runs["cell"] == "LSTM"]
    point, boot = fr.bootstrap_slopes(frame, "K_exact", 300, np.random.default_rng(0))
    assert abs(point[1] - 0.5) < 0.02 and abs(point[2] + 0.3) < 0.02
    low, high = fr.interval(boot[:, 1], 0.95)
    assert low < point[1] < high and high - low < 0.05


def test_claim_verdicts_follow_the_data():
    verdicts = {c.claim: c.verdict for c in fr.claims_for_metric(synthetic_runs(), "K_exact", claim_args())}
    assert verdicts["L1/K_exact"] == "holds" and verdicts["G1/K_exact"] == "holds"
    assert verdicts["L2/K_exact"] == "holds"
    assert verdicts["G2/K_exact"] == "fails"  # the synthetic GRU has a clear input effect
    flat = synthetic_runs(effect_units=-0.4, effect_in=0.0)
    verdicts = {c.claim: c.verdict for c in fr.claims_for_metric(flat, "K_exact", claim_args())}
    assert verdicts["L1/K_exact"] == "fails" and verdicts["G1/K_exact"] == "fails"
    assert verdicts["G2/K_exact"] == "holds" and verdicts["L2/K_exact"] == "fails"


def test_claims_are_inconclusive_without_two_sizes():
    runs = synthetic_runs(grid=(4,))
    claims = fr.claims_for_metric(runs, "K_exact", claim_args())
    assert {c.verdict for c in claims if not c.claim.startswith("O1")} == {"inconclusive"}


def test_summary_statistics_and_censoring_counts():
    runs = synthetic_runs(runs=4, grid=(1, 2))
    runs.loc[0, ["K_exact", "K_exact_censored"]] = [99_000, True]
    summary = fr.summarise(runs, ["K_exact"])
    first = summary.iloc[0]
    values = runs[(runs.cell == "LSTM") & (runs.n_in == 1) & (runs.units == 1)]["K_exact"].to_numpy(float)
    assert first["K_exact_n_censored"] == 1 and first["runs"] == 4
    assert first["K_exact_mean"] == values.mean() and first["K_exact_max"] == 99_000
    assert first["K_exact_sd"] == pytest.approx(values.std(ddof=1))
    assert first["K_exact_median"] == np.median(values)
    assert summary["K_exact_n_censored"].sum() == 1


def test_heatmap_layout_puts_one_input_at_the_bottom():
    runs = synthetic_runs(runs=2, grid=(1, 2, 4))
    summary = fr.summarise(runs, ["K_exact"])
    grid = fr.cell_grid(summary, "LSTM", "K_exact_mean", [1, 2, 4], [1, 2, 4])
    assert grid.shape == (3, 3)
    assert grid[0, 2] > grid[0, 0]  # row 0 = n_in 1, columns units ascending
    fig = fr.heatmap_figure(summary, "K_exact", True, "torch", 99_000)
    ax = fig.axes[0]
    assert ax.get_title() == "LSTM" and fig.axes[1].get_title() == "GRU"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1", "2", "4"]
    assert ax.images[0].origin == "lower"
