"""The review bench (python -m rnnmem bench reviews) on tiny settings: its header and table."""

from __future__ import annotations

import math

import pytest
import torch

from rnnmem.bench import main as bench_main
from rnnmem.long_memory.reviews.bench import main


@pytest.fixture(autouse=True)
def _needs_reviews(reviews_json):
    """Every test here skips when reviews.json is absent (conftest.reviews_json)."""


def _table(out: str) -> dict[str, list[str]]:
    lines = out.splitlines()
    head = next(i for i, line in enumerate(lines) if line.split()[:2] == ["model", "params"])
    rows = {}
    for line in lines[head + 1 :]:
        cells = line.split()
        if cells and cells[-3].endswith("x"):
            rows[cells[0]] = cells
    return rows


def test_bench_prints_header_and_a_ratio_per_model(reviews_json, capsys):
    argv = ["--seeds", "2", "--loop-seeds", "1", "--epochs", "1", "--seq-len", "20"]
    argv += ["--models", "rnn", "mrnnf", "--device", "cpu", "--reviews", str(reviews_json)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    for part in ("device cpu", f"torch {torch.__version__}", "threads 1", "S = 2", "epochs 1"):
        assert part in first, (part, first)
    assert "seq_len 20" in first
    assert "extrapolated" in out
    rows = _table(out)
    assert sorted(rows) == ["mrnnf", "rnn"]
    for model, cells in rows.items():
        n_params, engine, loop = int(cells[1]), float(cells[2]), float(cells[3])
        ratio = float(cells[4].rstrip("x"))
        assert n_params > 0, model
        for value in (engine, loop, ratio):
            assert math.isfinite(value) and value > 0, (model, cells)
        assert ratio == pytest.approx(loop / engine, rel=0.02), (model, cells)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is visible")
def test_bench_cuda_without_cuda_fails_clearly(capsys):
    assert bench_main(["reviews", "--device", "cuda"]) == 2
    err = capsys.readouterr().err
    assert "--device cuda" in err and "no CUDA device is visible" in err
