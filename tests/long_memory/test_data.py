"""data, generate: the four series, preprocessing (long-memory.md §4.2), Experiment 2's series."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import data_mirror

from rnnmem.core.settings import schema_defaults
from rnnmem.long_memory.data import SPLITS, prepare, read_series, split_for, window_matrix
from rnnmem.long_memory.fetch import MANIFEST, DataFileError
from rnnmem.long_memory.generate import (
    generate_main,
    generate_rnn_series,
    rnn_process,
    write_series_csv,
)
from rnnmem.long_memory.jobs import main as train_main

# The generator's settings come from the workflow schema, their one source.
DEFAULTS = schema_defaults("long_memory")["experiment2"]["generator"]
PROCESS = {k: DEFAULTS[k] for k in ("w_hh", "w_hy", "b_h", "w_zh", "b_z", "noise_sd")}


def generate(**changes):
    return generate_rnn_series(**{**DEFAULTS, **changes})


FILES = {"arfima": "arfima.csv", "DJI": "DJI.csv", "traffic": "traffic.csv", "tree7": "tree7.csv"}
ROWS = {"arfima": 4001, "DJI": 5029, "traffic": 1860, "tree7": 4351}  # MANIFEST.md, "Files"
# MANIFEST.md "Quick statistics": (min, max, mean or None for "approximately 0", population std),
# with the absolute tolerance that the printed digits allow.
STATS = {
    "arfima": ((-7.19615, 5.21577, -0.430289, 1.627151), 5e-6),
    "DJI": ((-0.003273762, 0.042363406, None, 0.0036122), 5e-8),
    "traffic": ((-3113.924455, 2174.44403, None, 443.4492), 5e-5),
    "tree7": ((0.0, 2.373, 0.995616, 0.304141), 5e-7),
}


@pytest.fixture(scope="module")
def series():
    folder = data_mirror()
    return {key: read_series(folder / name) for key, name in FILES.items()}


# ---- the real files ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", FILES)
def test_row_counts_and_column_x(series, key):
    x = series[key]
    assert x.dtype == np.float64 and x.shape == (ROWS[key],)
    # An independent parser agrees value for value (traffic: column x, not day or temp).
    expected = pd.read_csv(data_mirror() / FILES[key])["x"].to_numpy(dtype=np.float64)
    np.testing.assert_array_equal(x, expected)


@pytest.mark.parametrize("key", FILES)
def test_quick_statistics(series, key):
    (lo, hi, mean, std), tol = STATS[key]
    x = series[key]
    assert abs(x.min() - lo) <= tol and abs(x.max() - hi) <= tol
    assert abs(x.std(ddof=0) - std) <= tol
    if mean is None:
        assert abs(x.mean()) < 1e-6 * x.std()
    else:
        assert abs(x.mean() - mean) <= tol


@pytest.mark.parametrize("key", FILES)
def test_every_split_adds_up(series, key):
    for variant, split in SPLITS[key].items():
        assert sum(split) == ROWS[key] - 1, (key, variant)
        p = prepare(series[key], split, name=key)
        assert (p.n_train, p.n_val, p.n_test) == split
        np.testing.assert_array_equal(p.test_true, series[key][-split[2] :])


def test_split_table():
    assert split_for("traffic") == (1400, 200, 259) and split_for("traffic", "code") == (
        1200,
        200,
        459,
    )
    assert sum(split_for("rnn_generated")) == DEFAULTS["length"] - 1
    with pytest.raises(KeyError, match="dji"):
        split_for("dji")
    with pytest.raises(KeyError, match="code"):
        split_for("tree7", "code")


def test_scaling_and_unscale(series):
    x = series["traffic"]
    p = prepare(x, split_for("traffic"), name="traffic")
    assert p.s.min() == 0.0 and p.s.max() == 1.0
    assert np.all((p.s >= 0) & (p.s <= 1))
    assert (p.lo, p.hi) == (x.min(), x.max())  # fitted on the whole series (long-memory.md A3)
    np.testing.assert_allclose(p.unscale(p.s), x, rtol=0, atol=1e-12 * (p.hi - p.lo))
    assert p.x.shape == p.y.shape == (x.size - 1, 1) and p.x.dtype == np.float64
    np.testing.assert_array_equal(p.x[:, 0], p.s[:-1])
    np.testing.assert_array_equal(p.y[:, 0], p.s[1:])
    p32 = p.astype(np.float32)
    assert p32.x.dtype == p32.y.dtype == np.float32 and p32.x.flags.c_contiguous
    assert p32.lo == p.lo and p32.n_test == p.n_test and p.x.dtype == np.float64


def test_prepare_tiny_series():
    p = prepare([2.0, 4.0, 3.0, 6.0], (1, 1, 1), name="tiny")
    np.testing.assert_array_equal(p.s, [0.0, 0.5, 0.25, 1.0])
    np.testing.assert_array_equal(p.y[:, 0], [0.5, 0.25, 1.0])
    np.testing.assert_array_equal(p.unscale([0.0, 0.75]), [2.0, 5.0])
    assert p.test_start == 2 and list(p.test_true) == [6.0]


def test_bad_split_names_dataset_and_numbers():
    with pytest.raises(ValueError) as info:
        prepare(np.arange(4001.0), (1400, 200, 259), name="arfima")
    message = str(info.value)
    for part in ("arfima", "1400/200/259", "1859", "4000"):
        assert part in message
    with pytest.raises(ValueError, match="constant"):
        prepare(np.ones(4), (1, 1, 1), name="flat")
    with pytest.raises(ValueError, match="0/2/1"):
        prepare(np.arange(4.0), (0, 2, 1))


def test_read_series_formats(tmp_path):
    crlf = tmp_path / "crlf.csv"
    crlf.write_bytes(b'"x"\r\n1.5\r\n-2e-3\r\n7\r\n')
    np.testing.assert_array_equal(read_series(crlf), [1.5, -0.002, 7.0])
    multi = tmp_path / "multi.csv"
    multi.write_bytes(b"day,x,temp\r\n1,10.5,290\r\n2,-3.25,291\r\n")
    np.testing.assert_array_equal(read_series(multi), [10.5, -3.25])


@pytest.mark.parametrize(
    "content, pattern",
    [
        (b"y\r\n1\r\n2\r\n", "no column 'x'"),
        (b"x\r\n1\r\nabc\r\n", "line 3: x='abc' is not a number"),
        (b"day,x\r\n1,2\r\n2\r\n", "line 3: x='<missing>'"),
        (b"x\r\n1\r\nnan\r\n", "not finite"),
        (b"", "empty file"),
        (b"x\r\n", "no values"),
    ],
)
def test_read_series_bad_files(tmp_path, content, pattern):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=pattern) as info:
        read_series(path)
    assert str(path) in str(info.value)


def test_pinned_name_with_other_bytes_fails_naming_file_and_fix(tmp_path, capsys):
    # A series file under a pinned name, changed after its fetch: one line, the file, the fix.
    path = tmp_path / "traffic.csv"
    path.write_bytes(b"x\r\n1\r\n2\r\n")
    with pytest.raises(DataFileError) as info:
        read_series(path)
    message = str(info.value)
    assert len(message.splitlines()) == 1 and str(path) in message
    assert MANIFEST["traffic.csv"].sha256 in message and "delete it and rerun" in message
    # The job command says the same in one line, without a traceback.
    settings = {
        **schema_defaults("long_memory")["training"],
        **dict(dataset="traffic", split="paper", model="rnn", K=5, H=1, seeds=[0]),
        **dict(dtype="float64", tier="smoke"),
    }
    argv = ["--settings", json.dumps(settings), "--series", str(path)]
    with pytest.raises(SystemExit) as exit_info:
        train_main([*argv, "--out", str(tmp_path / "seed0.npz")])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.endswith(message)
    assert not (tmp_path / "seed0.npz").exists()


def test_read_series_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        read_series(tmp_path / "nope.csv")


# ---- window matrix ----------------------------------------------------------------------------


def test_window_matrix_tiny():
    W = window_matrix(np.array([1.0, 2.0, 3.0, 4.0]), 3)
    expected = [[1, 0, 0], [2, 1, 0], [3, 2, 1], [4, 3, 2]]
    np.testing.assert_array_equal(W, expected)
    # K longer than the series, a [T, 1] input, and the dtype kept.
    W = window_matrix(np.array([[1.0], [2.0]], dtype=np.float32), 4)
    assert W.dtype == np.float32
    np.testing.assert_array_equal(W, [[1, 0, 0, 0], [2, 1, 0, 0]])
    with pytest.raises(ValueError):
        window_matrix(np.zeros((3, 2)), 2)


def test_window_matrix_gives_the_input_filter():
    """W[t] . (w_1..w_K) = sum_j w_j s_{t+1-j}, the input filter of long-memory.md §2.3."""
    rng = np.random.default_rng(0)
    s, w = rng.random(30), rng.standard_normal(7)
    direct = [
        sum(w[j - 1] * s[t + 1 - j] for j in range(1, 8) if t + 1 - j >= 0) for t in range(30)
    ]
    np.testing.assert_allclose(window_matrix(s, 7) @ w, direct, rtol=1e-13, atol=1e-15)


# ---- Experiment 2's generator -----------------------------------------------------------------


def test_recursion_by_hand():
    eps = [0.1, -0.2, 0.3]
    h0 = 0.0  # tanh(0.5 * 0 + 0.5 * 0 + 0)
    y0 = h0 + 0.1
    h1 = math.tanh(0.5 * h0 + 0.5 * y0)
    y1 = h1 - 0.2
    h2 = math.tanh(0.5 * h1 + 0.5 * y1)
    y2 = h2 + 0.3
    np.testing.assert_allclose(rnn_process(eps, **PROCESS), [y0, y1, y2], rtol=1e-15, atol=0)
    # Every setting enters where the equations say.
    w_hh, w_hy, b_h, w_zh, b_z, sd = 0.3, -0.7, 0.2, 2.0, 0.1, 0.5
    h, y, out = 0.0, 0.0, []
    for e in eps:
        h = math.tanh(w_hh * h + w_hy * y + b_h)
        y = w_zh * h + b_z + sd * e
        out.append(y)
    got = rnn_process(eps, w_hh=w_hh, w_hy=w_hy, b_h=b_h, w_zh=w_zh, b_z=b_z, noise_sd=sd)
    np.testing.assert_allclose(got, out, rtol=1e-15, atol=0)
    assert abs(got[0] - (2.0 * math.tanh(0.2) + 0.1 + 0.05)) < 1e-15


def test_generator_uses_the_seeded_draws_and_drops_the_burn_in():
    y = generate(burn_in=5, length=20, seed=7)
    eps = np.random.default_rng(7).standard_normal(25)
    np.testing.assert_array_equal(y, rnn_process(eps, **PROCESS)[5:])
    assert not np.array_equal(y, generate(burn_in=5, length=20, seed=8))
    assert DEFAULTS == {
        "w_hh": 0.5,
        "w_hy": 0.5,
        "b_h": 0.0,
        "w_zh": 1.0,
        "b_z": 0.0,
        "noise_sd": 1.0,
        "burn_in": 1000,
        "length": 4001,
        "seed": 2020,
    }  # long-memory.md §9


def test_default_series_is_reproducible_to_the_byte(tmp_path):
    a, b = generate(), generate()
    assert a.shape == (4001,) and a.dtype == np.float64
    sha_a = write_series_csv(tmp_path / "a.csv", a)
    sha_b = write_series_csv(tmp_path / "b.csv", b)
    blob = (tmp_path / "a.csv").read_bytes()
    assert blob == (tmp_path / "b.csv").read_bytes() and sha_a == sha_b
    assert sha_a == hashlib.sha256(blob).hexdigest()
    assert blob.startswith(b"x\n") and b"\r" not in blob and blob.count(b"\n") == 4002
    np.testing.assert_array_equal(read_series(tmp_path / "a.csv"), a)  # 17 digits round-trip
    # The kept values are values 1000..5000 of one run from the zero state.
    np.testing.assert_array_equal(generate(burn_in=0, length=5001)[1000:], a)


def test_generate_cli_writes_csv_and_sidecar(tmp_path):
    out = tmp_path / "gen" / "rnn_generated.csv"
    settings = {**DEFAULTS, "length": 50, "burn_in": 10, "w_hy": 0.25}
    argv = ["--out", str(out), "--settings", json.dumps(settings)]
    assert generate_main(argv) == 0
    first = out.read_bytes()
    side = json.loads(Path(str(out) + ".sha256.json").read_text())
    assert side["sha256"] == hashlib.sha256(first).hexdigest() and side["rows"] == 50
    assert side["settings"] == settings
    assert side["file"] == "rnn_generated.csv"
    np.testing.assert_array_equal(read_series(out), generate(length=50, burn_in=10, w_hy=0.25))
    assert generate_main(argv) == 0 and out.read_bytes() == first
