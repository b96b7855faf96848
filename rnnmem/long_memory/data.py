"""Reading and preprocessing the long-memory series (long-memory.md §4.2).

Pure functions, no file output. For a series x of N values:

    s_t = (x_t - lo) / (hi - lo),  lo = min x, hi = max x   (whole series: long-memory.md A3)
    inputs  x_pairs[t] = s_t,      targets y_pairs[t] = s_{t+1},   t = 0..N-2     -> [N-1, 1]
    pairs split contiguously in time order: n_train | n_val | n_test, summing to N-1
    unscale(v) = v * (hi - lo) + lo

Window matrix for the input filter (long-memory.md §2.3), T = len(s):

    W[t, j-1] = s_{t+1-j}   for j = 1..K  (0 where t+1-j < 0)     -> [T, K]

so row t is (s_t, s_{t-1}, ..., s_{t-K+1}) and W[t] @ (pi_1..pi_K) = F_t.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from rnnmem.long_memory.fetch import DataFileError, check_pinned

# (train, validation, test) pairs per dataset key and split variant (long-memory.md §4.2 and 9).
SPLITS: dict[str, dict[str, tuple[int, int, int]]] = {
    "arfima": {"paper": (2000, 1200, 800)},
    "DJI": {"paper": (2500, 1500, 1028)},
    "traffic": {"paper": (1400, 200, 259), "code": (1200, 200, 459)},
    "tree7": {"paper": (2500, 1000, 850)},
    "rnn_generated": {"paper": (2000, 1200, 800)},
}


def split_for(dataset: str, variant: str = "paper") -> tuple[int, int, int]:
    """The (n_train, n_val, n_test) of a dataset key and split variant, with a clear error."""
    if dataset not in SPLITS:
        raise KeyError(f"unknown dataset {dataset!r}; known: {', '.join(SPLITS)}")
    if variant not in SPLITS[dataset]:
        known = ", ".join(SPLITS[dataset])
        raise KeyError(f"dataset {dataset!r} has no split {variant!r}; known: {known}")
    return SPLITS[dataset][variant]


def read_series(path: str | Path, column: str = "x") -> np.ndarray:
    """Column `column` of a CSV file as float64 [N]. CRLF or LF, quoted header allowed.

    A file of a pinned name (fetch.MANIFEST) must hold the pinned bytes; a bad file is a
    DataFileError (a ValueError) of one line naming the file.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"missing input file: {path}")
    check_pinned(path)
    try:
        # newline="" lets the csv module handle CRLF itself.
        with open(path, newline="", encoding="utf-8") as fh:
            values = _column_values(csv.reader(fh), path, column)
    except (csv.Error, UnicodeDecodeError) as err:
        raise DataFileError(f"{path}: not a UTF-8 CSV file ({err})") from None
    if not values:
        raise DataFileError(f"{path}: no values in column {column!r}")
    return np.asarray(values, dtype=np.float64)


def _column_values(reader, path: Path, column: str) -> list[float]:
    header = next(reader, None)
    if header is None:
        raise DataFileError(f"{path}: empty file, expected a header with column {column!r}")
    header = [name.strip() for name in header]
    if column not in header:
        raise DataFileError(f"{path}: no column {column!r} (columns: {', '.join(header)})")
    col = header.index(column)
    values = []
    for line, row in enumerate(reader, start=2):
        if not row:
            continue  # a trailing blank line
        try:
            value = float(row[col])
        except (IndexError, ValueError):
            cell = row[col] if col < len(row) else "<missing>"
            raise DataFileError(f"{path}, line {line}: {column}={cell!r} is not a number") from None
        if not math.isfinite(value):
            raise DataFileError(f"{path}, line {line}: {column}={row[col]!r} is not finite")
        values.append(value)
    return values


@dataclass(frozen=True)
class Prepared:
    """A scaled series and its one-step-ahead pairs, split into train | val | test.

    s [N] scaled series; x [N-1, 1] inputs s_0..s_{N-2}; y [N-1, 1] targets s_1..s_{N-1};
    raw [N] the series in original units. lo, hi: the scaling range (original units).
    """

    s: np.ndarray
    x: np.ndarray
    y: np.ndarray
    raw: np.ndarray
    lo: float
    hi: float
    n_train: int
    n_val: int
    n_test: int

    @property
    def test_start(self) -> int:
        """Index of the first test pair."""
        return self.n_train + self.n_val

    @property
    def test_true(self) -> np.ndarray:
        """The test targets in original units, read from the raw series (no rounding trip)."""
        return self.raw[self.test_start + 1 :]

    def unscale(self, v) -> np.ndarray:
        """Map scaled values back to original units (float64)."""
        return np.asarray(v, dtype=np.float64) * (self.hi - self.lo) + self.lo

    def astype(self, dtype) -> Prepared:
        """A copy with s, x, y cast to `dtype` (raw, lo, hi stay float64)."""
        dtype = np.dtype(dtype)
        return replace(
            self,
            s=self.s.astype(dtype),
            x=np.ascontiguousarray(self.x, dtype=dtype),
            y=np.ascontiguousarray(self.y, dtype=dtype),
        )


def prepare(series, split: tuple[int, int, int], name: str = "series") -> Prepared:
    """Min-max scale on the whole series, build pairs, check the split (long-memory.md §4.2)."""
    raw = np.asarray(series, dtype=np.float64)
    if raw.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D series, got shape {raw.shape}")
    if not np.all(np.isfinite(raw)):
        raise ValueError(f"{name}: the series holds non-finite values")
    n_train, n_val, n_test = (int(n) for n in split)
    pairs = raw.shape[0] - 1
    if min(n_train, n_val, n_test) < 1 or n_train + n_val + n_test != pairs:
        raise ValueError(
            f"{name}: split {n_train}/{n_val}/{n_test} (sum {n_train + n_val + n_test}) "
            f"does not match the {pairs} pairs of a series of {raw.shape[0]} values"
        )
    lo, hi = float(raw.min()), float(raw.max())
    if not hi > lo:
        raise ValueError(f"{name}: constant series (min = max = {lo}), cannot min-max scale")
    s = (raw - lo) / (hi - lo)
    return Prepared(
        s=s,
        x=s[:-1].reshape(-1, 1).copy(),
        y=s[1:].reshape(-1, 1).copy(),
        raw=raw,
        lo=lo,
        hi=hi,
        n_train=n_train,
        n_val=n_val,
        n_test=n_test,
    )


def window_matrix(s, K: int) -> np.ndarray:
    """W [T, K] with W[t, j-1] = s_{t+1-j} (zeros before the start); s is [T] or [T, 1]."""
    s = np.asarray(s)
    if s.ndim == 2 and s.shape[1] == 1:
        s = s[:, 0]
    if s.ndim != 1:
        raise ValueError(f"window_matrix: expected a series of shape [T] or [T, 1], got {s.shape}")
    if K < 1:
        raise ValueError(f"window_matrix: K must be >= 1, got {K}")
    T = s.shape[0]
    W = np.zeros((T, K), dtype=s.dtype)
    # Column j-1 is the series delayed by j-1 steps.
    for lag in range(min(K, T)):
        W[lag:, lag] = s[: T - lag]
    return W
