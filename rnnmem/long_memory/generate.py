"""Experiment 2's series: short-memory data from an RNN process (long-memory.md §9).

Hidden size 1, scalars throughout, y_{-1} = h_{-1} = 0:

    h_t = tanh(w_hh h_{t-1} + w_hy y_{t-1} + b_h)
    z_t = w_zh h_t + b_z
    y_t = z_t + noise_sd * eps_t,      eps_t ~ iid N(0, 1)

eps = numpy.random.default_rng(seed).standard_normal(burn_in + length), drawn in one call;
the first burn_in values of y are dropped and the next `length` kept (defaults: 1000 and 4001;
the defaults live in workflow/schemas/long_memory.schema.yaml, experiment2.generator).

The series is written as a CSV (header `x`, LF endings, 17 significant digits, so it reads
back exactly) with a sidecar `<csv>.sha256.json` holding its sha256 and the settings.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import math
from pathlib import Path

import numpy as np

from rnnmem.core.io import atomic_path, write_json
from rnnmem.core.settings import add_settings_argument


def rnn_process(eps, *, w_hh, w_hy, b_h, w_zh, b_z, noise_sd) -> np.ndarray:
    """y_0..y_{n-1} of the RNN process driven by the given standard-normal draws eps [n]."""
    eps = np.asarray(eps, dtype=np.float64)
    y = np.empty(eps.shape[0], dtype=np.float64)
    h_prev, y_prev = 0.0, 0.0
    # Python floats and math.tanh: a scalar recursion, same bits on every run.
    for t, e in enumerate(eps.tolist()):
        h_prev = math.tanh(w_hh * h_prev + w_hy * y_prev + b_h)
        y_prev = w_zh * h_prev + b_z + noise_sd * e
        y[t] = y_prev
    return y


def generate_rnn_series(
    *,
    w_hh: float,
    w_hy: float,
    b_h: float,
    w_zh: float,
    b_z: float,
    noise_sd: float,
    burn_in: int,
    length: int,
    seed: int,
) -> np.ndarray:
    """The kept `length` values [length] (float64) after a burn-in of `burn_in`."""
    if burn_in < 0 or length < 1:
        raise ValueError(f"need burn_in >= 0 and length >= 1, got {burn_in} and {length}")
    eps = np.random.default_rng(seed).standard_normal(burn_in + length)
    y = rnn_process(eps, w_hh=w_hh, w_hy=w_hy, b_h=b_h, w_zh=w_zh, b_z=b_z, noise_sd=noise_sd)
    return y[burn_in:]


# The generator settings; their defaults (long-memory.md §9) live in the workflow schema only.
SETTINGS = tuple(inspect.signature(generate_rnn_series).parameters)


def series_csv_bytes(values) -> bytes:
    """The CSV text of a series: header `x`, one value a line, '%.17g', LF endings."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"expected a 1-D series, got shape {values.shape}")
    lines = ["x"] + [f"{v:.17g}" for v in values.tolist()]
    return ("\n".join(lines) + "\n").encode("ascii")


def write_series_csv(path, values) -> str:
    """Write the series CSV atomically; return its sha256 (hex)."""
    blob = series_csv_bytes(values)
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(blob)
    return hashlib.sha256(blob).hexdigest()


def generate_main(argv: list[str] | None = None) -> int:
    """CLI: generate the series, write <out> and <out>.sha256.json."""
    parser = argparse.ArgumentParser(
        prog="python -m rnnmem generate-long-memory",
        description="Experiment 2's RNN-generated series.",
    )
    parser.add_argument("--out", required=True, help="CSV file to write")
    add_settings_argument(parser)
    args = parser.parse_args(argv)
    settings = args.settings
    if set(settings) != set(SETTINGS):
        parser.error(f"--settings needs exactly {sorted(SETTINGS)}, got {sorted(settings)}")
    values = generate_rnn_series(**settings)
    digest = write_series_csv(args.out, values)
    out = Path(args.out)
    record = {
        "file": out.name,
        "sha256": digest,
        "bytes": out.stat().st_size,
        "rows": int(values.shape[0]),
        "generator": "numpy.random.default_rng(seed).standard_normal(burn_in + length)",
        "settings": settings,
    }
    write_json(str(out) + ".sha256.json", record)
    return 0
