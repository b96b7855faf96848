"""Runs and the simulate command (forgetting.md §7, tests 1, 2 and 4; the relations of §4).

Settings start from the schema's defaults (schema_defaults), changed where a test needs it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from rnnmem.core.io import load_arrays
from rnnmem.core.seeds import seed_sequence
from rnnmem.core.settings import from_settings, schema_defaults, settings_json
from rnnmem.forgetting import cost
from rnnmem.forgetting import simulate as sim
from rnnmem.forgetting.metrics import eps_label, metric_names
from rnnmem.forgetting.settings import (
    CELLS,
    SEED_KEY_CELL,
    VARIANTS,
    SimulateJob,
    simulate_settings,
)

# T = 100,000, D = 1,000 as in the spec
DEFAULT = from_settings(SimulateJob, simulate_settings(schema_defaults("forgetting"), "torch")).run
SHORT = replace(DEFAULT, steps=3_000, prefix=500, chunk=256)
TOL_NAMES = [f"K_tol_{eps_label(e)}" for e in SHORT.eps] + [
    f"F_tol_{eps_label(e)}" for e in SHORT.eps
]


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread; restore the process-wide torch flags the commands set."""
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(deterministic)


def metrics_of(record, eps=SHORT.eps):
    names = metric_names(eps)
    return {k: record[k] for k in names + [f"{n}_censored" for n in names]}


# --------------------------------------------------------------------------------------
# Test 1: control P_B := P_A


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("n_in,units", [(2, 3), (8, 64)])
def test_control_identical_sequences_give_all_zeros(cell, variant, n_in, units):
    steps = SHORT.steps if variant == "torch" else 1_200  # the per-step loop is slow
    s = replace(SHORT, variant=variant, steps=steps, early_stop=False)
    out = sim.run_one("test", cell, n_in, units, 0, s, control=True)
    r = out["record"]
    assert all(r[name] == 0 for name in metric_names(s.eps)), metrics_of(r)
    assert not any(r[f"{name}_censored"] for name in metric_names(s.eps))
    assert r["shared_steps_simulated"] == s.shared  # simulated to the end: all d_t = 0
    assert np.all(out["gaps"] == 0)


def test_control_is_not_vacuous():
    """The same run without the control has nonzero gaps (the test above can fail)."""
    r = sim.run_one("test", "lstm", 2, 3, 0, SHORT)["record"]
    assert r["K_exact"] > 0 and r["F_exact"] > 0


# --------------------------------------------------------------------------------------
# Test 2: determinism, and seeds that name the run


@pytest.mark.parametrize("variant", VARIANTS)
def test_rerun_gives_identical_metrics_and_gaps(variant):
    s = replace(SHORT, variant=variant, steps=SHORT.steps if variant == "torch" else 1_500)
    a = sim.run_one("test", "gru", 4, 8, 1, s)
    b = sim.run_one("test", "gru", 4, 8, 1, s)
    assert a["record"] == b["record"]
    digest_a = hashlib.sha256(a["gaps"].tobytes()).digest()
    assert digest_a == hashlib.sha256(b["gaps"].tobytes()).digest()


def test_seeds_depend_on_the_key_only():
    a = sim.run_one("test", "lstm", 2, 2, 3, SHORT)["record"]
    b = sim.run_one("test", "lstm", 2, 2, 4, SHORT)["record"]
    c = sim.run_one("other", "lstm", 2, 2, 3, SHORT)["record"]
    assert len({a["seed_entropy"], b["seed_entropy"], c["seed_entropy"]}) == 3
    seq, _ = sim.run_streams("test", "lstm", 2, 2, 3)
    assert sim.seed_record(seq)["seed_entropy"] == a["seed_entropy"]
    # the inputs of a shorter sequence are a prefix of a longer one's (row-major draws)
    _, s1 = sim.run_streams("test", "lstm", 2, 2, 3)
    _, s2 = sim.run_streams("test", "lstm", 2, 2, 3)
    short = sim.draw_inputs(s1, 2, SHORT)[2]
    long = sim.draw_inputs(s2, 2, replace(SHORT, steps=10_000))[2]
    np.testing.assert_array_equal(short, long[: SHORT.shared])


@pytest.mark.parametrize(
    "cell,n_in,units,run,entropy",
    [
        ("lstm", 1, 1, 0, "4a8a98cf0b089fb52742dc8c0134fd8f"),
        ("gru", 2, 2, 1, "3878f4225e109165f86941878ea55177"),
    ],
)
def test_seed_keys_keep_the_upper_case_cell_names(cell, n_in, units, run, entropy):
    """Lower-case cell ids, the experiment's keys: ("forgetting-v1", "LSTM", ...) as written
    by the runs made before the ids changed (entropies copied from their runs.csv)."""
    seq, _ = sim.run_streams("forgetting-v1", cell, n_in, units, run)
    assert sim.seed_record(seq)["seed_entropy"] == entropy
    key = ("forgetting-v1", SEED_KEY_CELL[cell], n_in, units, run)
    assert SEED_KEY_CELL[cell] == cell.upper() and seq.entropy == seed_sequence(*key).entropy


def test_written_seed_rebuilds_the_run_streams():
    seq, streams = sim.run_streams("test", "gru", 4, 8, 2)
    entropy = int(sim.seed_record(seq)["seed_entropy"], 16)
    children = np.random.SeedSequence(entropy).spawn(len(sim.STREAMS))
    for name, child in zip(sim.STREAMS, children, strict=True):
        rebuilt = np.random.default_rng(child).standard_normal(5)
        np.testing.assert_array_equal(rebuilt, streams[name].standard_normal(5))


# --------------------------------------------------------------------------------------
# Test 4: early-stop consistency over the full 100,000 steps


@pytest.mark.parametrize(
    "cell,n_in,units",
    [("lstm", 1, 1), ("lstm", 8, 8), ("gru", 1, 2), ("gru", 4, 4)],
)
def test_early_stop_gives_the_metrics_of_a_full_simulation(cell, n_in, units):
    stop = DEFAULT
    full = replace(stop, early_stop=False)
    a = sim.run_one("test", cell, n_in, units, 0, stop)
    b = sim.run_one("test", cell, n_in, units, 0, full)
    assert a["record"]["stop_reason"] == "state_equal"  # the early stop was really taken
    assert a["record"]["shared_steps_simulated"] < stop.shared
    assert b["record"]["shared_steps_simulated"] == full.shared
    assert metrics_of(a["record"]) == metrics_of(b["record"])
    np.testing.assert_array_equal(a["gaps"], b["gaps"])


def test_early_stop_consistency_keras22():
    stop = replace(DEFAULT, variant="keras22", steps=4_000, prefix=1_000)
    a = sim.run_one("test", "gru", 2, 2, 0, stop)
    b = sim.run_one("test", "gru", 2, 2, 0, replace(stop, early_stop=False))
    assert a["record"]["stop_reason"] == "state_equal"
    assert metrics_of(a["record"]) == metrics_of(b["record"])


# --------------------------------------------------------------------------------------
# Relations between the metrics (forgetting.md §4 "facts")


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("cell", CELLS)
def test_k_exact_at_most_s_and_equal_for_per_step_states(cell, variant):
    s = replace(SHORT, variant=variant, steps=SHORT.steps if variant == "torch" else 2_000)
    for run in range(3):
        r = sim.run_one("test", cell, 2, 4, run, s)["record"]
        assert r["K_exact"] <= r["S"]
        assert r["K_tol_1e-06"] <= r["K_exact"]
        assert r["F_tol_1e-04"] <= r["F_exact"] <= r["K_exact"]
        if r["S_resolution"] == "step" and not r["S_censored"]:
            # GRU state = output, Keras loop sees c_t: S is exact; for the GRU it equals K_exact
            if cell == "gru":
                assert r["K_exact"] == r["S"]
        elif not r["S_censored"]:  # fused LSTM: S is the last step of a chunk
            assert r["S_resolution"] == "chunk"
            assert (r["S"] + 1) % s.chunk == 0 or r["S"] == s.shared - 1


def test_fast_mode_stops_early_and_censors_k_exact():
    exact_settings = replace(DEFAULT, steps=20_000, prefix=1_000)
    exact = sim.run_one("test", "lstm", 8, 64, 0, exact_settings)["record"]
    # the lingering float32 gap here is ~6e-8 (an ulp of 0.5), above the default threshold
    # 0.01 * 1e-6, so use threshold = min(eps) itself
    fast_settings = replace(exact_settings, fast_mode=True, fast_factor=1.0)
    fast = sim.run_one("test", "lstm", 8, 64, 0, fast_settings)["record"]
    assert exact["K_exact_censored"], "this configuration is expected never to coalesce"
    assert fast["stop_reason"] == "fast_mode" and fast["early_stopped_nonzero"]
    assert fast["shared_steps_simulated"] < exact["shared_steps_simulated"]
    assert fast["K_exact_censored"] and fast["S_censored"]
    for name in TOL_NAMES:  # tolerance metrics are unchanged: the gap stayed far below eps
        assert fast[name] == exact[name], name


# --------------------------------------------------------------------------------------
# Command line: files, byte-identical reruns


def simulate_argv(folder, outs, **changes):
    section = schema_defaults("forgetting", experiment="t", **changes)
    return [
        "--settings",
        settings_json(simulate_settings(section, "torch")),
        "--cell",
        "gru",
        "--n-in",
        "2",
        "--units",
        "2",
        "--device-log",
        str(folder / "dev.json"),
        "--outputs",
        *outs,
    ]


def test_simulate_command_writes_one_reproducible_file_per_run(tmp_path):
    def run(folder):
        outs = [str(tmp_path / folder / f"run{r:02d}.npz") for r in range(2)]
        assert sim.main(simulate_argv(tmp_path / folder, outs, steps=2000, prefix=500)) == 0
        return [hashlib.sha256(open(o, "rb").read()).hexdigest() for o in outs]

    first, second = run("a"), run("b")
    assert first == second and first[0] != first[1]
    assert torch.are_deterministic_algorithms_enabled() and torch.get_num_threads() == 1
    arrays, meta = load_arrays(tmp_path / "a" / "run01.npz")
    assert meta["run"] == 1 and meta["device"] == "cpu" and meta["flush_denormal"] is False
    assert arrays["gaps"].shape == (1500,) and arrays["gaps"].dtype == np.float64
    assert set(metric_names(DEFAULT.eps)) <= set(meta)


def test_simulate_command_rejects_bad_settings(tmp_path, capsys):
    out = str(tmp_path / "x.npz")
    assert sim.main(simulate_argv(tmp_path, [out], steps=500, prefix=500)) == 2
    assert "prefix" in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()
    argv = simulate_argv(tmp_path, [out])
    argv[1] = argv[1].replace('"threads"', '"thread"')
    assert sim.main(argv) == 2
    assert "thread" in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()


def test_device_log_gains_the_jobs_seconds_and_work_when_done(tmp_path):
    """The record the cost planner fits on: written at the start (the device), completed
    with the job's seconds and its work at the full steps (forgetting/cost.py)."""
    outs = [str(tmp_path / f"run{r:02d}.npz") for r in range(2)]
    assert sim.main(simulate_argv(tmp_path, outs, steps=2000, prefix=500)) == 0
    logged = json.loads((tmp_path / "dev.json").read_text())
    assert logged["device"] == "cpu" and logged["seconds"] > 0
    assert logged["work_unit"] == cost.WORK_UNIT == "flop"
    # 2 runs x 2 sequences x 2000 steps x 2 x 3 gates x 2 units x (2 inputs + 2 units)
    assert (
        logged["work"] == cost.simulate_work("gru", 2, 2, runs=2, steps=2000) == 2 * 2 * 2000 * 48
    )
