"""Figures of the long-memory study: written as PNG + PDF, byte-identical on a second call,
and drawn from whatever is there (few seeds, missing models, nothing at all)."""

from __future__ import annotations

import pytest

from rnnmem.core.provenance import read_record, sidecar_path
from rnnmem.long_memory import aggregate as agg
from rnnmem.long_memory import figures
from tests.long_memory.test_aggregate import aggregate_main, write_grid, write_seed

# Two datasets, some models (no rwa, no mist), a K sweep on arfima, Experiment 2 data.
GRID = {
    **{("arfima", m, 100): e for m, e in [("rnn", 1.2), ("rnn2", 1.1), ("mrnnf", 1.0)]},
    **{("arfima", m, 100): e for m, e in [("mrnn", 0.95), ("lstm", 1.1), ("mlstm", 1.15)]},
    **{("tree7", m, 100): e for m, e in [("rnn", 0.3), ("mrnn", 0.25), ("lstm", 0.28)]},
    **{("arfima", m, k): 1.0 + k / 1000 for m in ("mrnnf", "mlstm") for k in (25, 50)},
    **{("rnn_generated", m, 100): 1.0 for m in ("rnn", "mrnn", "lstm", "mlstm")},
}


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    files = write_grid(root, GRID, seeds=(0, 1, 2))
    files.append(write_seed(root, "arfima", "rnn", 3, 1.3, epochs=3))  # stops early
    runs = agg.load_runs(files)
    return {
        "runs": runs,
        "summary": agg.summary_table(runs),
        "curves": agg.learning_curves(files),
        "pred": agg.best_seed_predictions(runs, files, "exp1"),
    }


@pytest.fixture
def titles(monkeypatch):
    """Record every text of each figure before it is saved."""
    seen = []
    real = figures.save_figure

    def record(fig, path, tier=None):
        texts = [t.get_text() for t in fig.texts]  # the suptitle is one of them
        texts += [ax.get_title() for ax in fig.axes if ax.get_visible()]
        seen.append(" | ".join(texts))
        return real(fig, path, tier)

    monkeypatch.setattr(figures, "save_figure", record)
    return seen


def draw_all(t, folder):
    """Every figure of the module into `folder`; returns the written paths."""
    return [
        *figures.rmse_boxplot(t["runs"], folder / "box.png", "test"),
        *figures.exp2_boxplot(t["runs"], folder / "box_exp2.png", "test"),
        *figures.learning_curve_figure(t["curves"], "arfima", folder / "curves.png", "test"),
        *figures.prediction_figure(t["pred"], "arfima", folder / "pred.png", "test"),
        *figures.k_sweep_figure(t["summary"], folder / "ksweep.png", "test"),
    ]


def test_figures_are_written_and_byte_reproducible(tables, tmp_path):
    first = draw_all(tables, tmp_path / "a")
    second = draw_all(tables, tmp_path / "b")
    assert len(first) == 2 * 5  # PNG + PDF of five figures
    for a, b in zip(first, second, strict=True):
        data = a.read_bytes()
        assert data[:4] in (b"\x89PNG", b"%PDF")
        assert len(data) > 1000
        assert data == b.read_bytes(), a.name
    # overwriting in place gives the same bytes too
    again = figures.rmse_boxplot(tables["runs"], tmp_path / "a" / "box.png", "test")
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in second[:2]]


def test_missing_models_and_datasets_are_named(tables, tmp_path, titles):
    figures.rmse_boxplot(tables["runs"], tmp_path / "box.png", "test")
    box = titles[-1]
    assert "arfima" in box and "tree7" in box
    assert "missing: RWA, MIST" in box  # arfima panel
    assert "missing: RNN2, RWA, MIST, MRNNF, MLSTMF, MLSTM" in box  # tree7 panel
    assert "3-4 seeds" in box  # arfima: rnn has a fourth seed
    figures.prediction_figure(tables["pred"], "tree7", tmp_path / "p.png", "test")
    assert "other baselines (missing: RWA, MIST)" in titles[-1]
    figures.learning_curve_figure(tables["curves"], "arfima", tmp_path / "c.png", "test")
    assert "RNN (seeds 4 at epoch 0, 3 at 5)" in titles[-1]  # the early-stopped seed left
    figures.k_sweep_figure(tables["summary"], tmp_path / "k.png", "test")
    assert "arfima\nmissing: MLSTMF" in titles[-1]  # mrnn runs at K = 100 only


def test_one_seed_and_empty_inputs(tmp_path, titles):
    path = write_seed(tmp_path / "runs", "DJI", "mrnn", 0, 0.003)
    runs = agg.load_runs([path])
    figures.rmse_boxplot(runs, tmp_path / "one.png", "test")
    assert "DJI (1 seed)" in titles[-1]
    figures.learning_curve_figure(agg.learning_curves([path]), "DJI", tmp_path / "c.png", "test")
    empty = runs.iloc[:0]
    for name, call in [
        ("exp2", lambda p: figures.exp2_boxplot(empty, p, "test")),
        ("exp3", lambda p: figures.k_sweep_figure(agg.summary_table(empty), p, "test")),
        ("curves", lambda p: figures.learning_curve_figure(agg.learning_curves([]), "x", p, "t")),
        ("pred", lambda p: figures.prediction_figure(
            agg.best_seed_predictions(empty, [], "exp1"), "DJI", p, "test")),
    ]:  # fmt: skip
        written = call(tmp_path / f"{name}.png")
        assert all(p.exists() for p in written)
        assert "No " in titles[-1]


def test_main_writes_a_record_beside_every_png_naming_its_tables_jobs(tmp_path):
    root = tmp_path / "runs"
    write_grid(root, GRID, seeds=(0, 1))
    views = {
        "exp1": {f"arfima-paper/{m}-K100-H1": 2 for m in ("rnn", "mrnnf", "lstm")},
        "exp2": {"rnn_generated-paper/rnn-K100-H1": 2},
        "exp3": {f"arfima-paper/mrnnf-K{k}-H1": 2 for k in (25, 50, 100)},
    }
    tables = aggregate_main(root, views, tmp_path / "tables")
    out = tmp_path / "figures"
    drawn_from = {  # figure -> the table it is drawn from
        out / "box.png": "runs",
        out / "exp2.png": "runs",
        out / "curves.png": "curves",
        out / "segment.png": "predictions",
        out / "k.png": "summary",
    }
    args = [f"--{n}={tables[n]}" for n in ("runs", "curves", "summary", "predictions")]
    args += ["--tier", "test", "--K", "100", "--H", "1", "--noise-level", "1.0"]
    args += ["--boxplots", f"paper={out / 'box.png'}", "--exp2-boxplot", str(out / "exp2.png")]
    args += ["--learning-curves", f"arfima-paper={out / 'curves.png'}"]
    args += ["--test-segments", f"arfima-paper={out / 'segment.png'}"]
    args += ["--k-sweep", str(out / "k.png")]
    assert figures.main(args) == 0
    for png, table in drawn_from.items():
        assert png.is_file() and png.with_suffix(".pdf").is_file()
        record = read_record(png)  # the sidecar <png>.provenance.json
        assert sidecar_path(png).is_file()
        assert record["jobs"] == read_record(tables[table])["jobs"], png.name
        assert record["tables"] == [f"{table}.csv"] and record["tier"] == "test"
    # curves and test segments come from Experiments 1 and 2 only: 4 jobs, not 6
    assert len(read_record(out / "curves.png")["jobs"]) == 4
    assert len(read_record(out / "k.png")["jobs"]) == 6
