"""Figures of the memory-distance study on synthetic aggregated tables (tests/memorization/
synthetic.py), the quantities they share with the claims, and the report captions."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from rnnmem.core.provenance import read_record, sidecar_path
from rnnmem.memorization import figures as mem_figures
from rnnmem.memorization import heatmaps
from rnnmem.memorization import tables as mem_tables
from rnnmem.memorization.aggregate import first_hit_epoch
from rnnmem.memorization.figure_list import FIGURES
from tests.memorization.synthetic import (
    THETA,
    figures_args,
    make_tables,
    sha,
    table_jobs,
    write_tables,
)


# ---------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------
def expected_files(folder):
    return [folder / f"{stem}.png" for stem in FIGURES] + [
        folder / f"{stem}.pdf" for stem in FIGURES
    ]


def test_figures_smoke_grid_written_and_byte_identical(tmp_path):
    results = write_tables(tmp_path / "results", make_tables("smoke"))
    for out in ("a", "b"):
        assert (
            mem_figures.main(figures_args(results, tmp_path / out, "smoke", curve_epochs=10)) == 0
        )
    first, second = expected_files(tmp_path / "a"), expected_files(tmp_path / "b")
    for a, b in zip(first, second, strict=True):
        assert a.exists() and a.stat().st_size > 1000, a.name
        assert sha(a) == sha(b), f"{a.name} differs between two runs"


def test_each_figure_records_its_settings_and_the_jobs_behind_its_tables(tmp_path):
    results = write_tables(tmp_path / "results", make_tables("smoke"))
    args = figures_args(results, tmp_path / "fig", "smoke", curve_epochs=10)
    assert mem_figures.main(args) == 0
    expected = sorted(
        {json.dumps(j, sort_keys=True) for name in mem_tables.COLUMNS for j in table_jobs(name)}
    )
    for stem in FIGURES:
        record = read_record(tmp_path / "fig" / f"{stem}.png")
        assert [json.dumps(j, sort_keys=True) for j in record["jobs"]] == expected, stem
        assert record["settings"] == {"theta": THETA, "curve_epochs": 10}
        assert record["tier"] == "smoke"
    assert not list((tmp_path / "fig").glob("*.pdf.provenance.json"))  # the PDF shares it


def test_a_table_without_its_record_is_named(tmp_path):
    results = write_tables(tmp_path / "results", make_tables("smoke"))
    sidecar_path(results / "esn.csv").unlink()
    with pytest.raises(FileNotFoundError, match="esn.csv: no provenance record"):
        mem_figures.main(figures_args(results, tmp_path / "fig", "smoke"))


def test_figures_default_grid(tmp_path, default_frames):
    results = write_tables(tmp_path / "results", default_frames)
    mem_figures.main(figures_args(results, tmp_path / "fig", "default"))
    for path in expected_files(tmp_path / "fig"):
        assert path.exists() and path.stat().st_size > 1000, path.name
    # The heat map grows with the grid: the default grid is far larger than a note figure.
    assert (tmp_path / "fig" / "fig6_rnn_mean_loss.png").stat().st_size > 50_000


def test_figures_without_data_do_not_crash(tmp_path):
    """An empty results folder (every experiment disabled) still gives every file."""
    (tmp_path / "empty").mkdir()
    mem_figures.main(figures_args(tmp_path / "empty", tmp_path / "fig", "custom"))
    for path in expected_files(tmp_path / "fig"):
        assert path.exists(), path.name


def test_heatmap_layout(default_tables):
    """Spec 7.3: one panel per layer count, p on x, c on y with 1 at the bottom, range [0, 0.25]."""
    cfg = mem_tables.experiment_rows(mem_tables.config_losses(default_tables.runs), "fig6")
    row = heatmaps.mean_loss_row(cfg, ["rnn"], prefix_cell=False)
    assert [title for title, _, _ in row.panels] == ["Layers: 1", "Layers: 2", "Layers: 3"]
    assert (row.norm.vmin, row.norm.vmax) == (0.0, 0.25) and row.extend == "max"
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    units, positions = [1, 2, 3, 4, 5, 6, 8, 10], list(range(1, 13))
    heatmaps.draw_heatmap(ax, row.panels[0][1], "L", units, positions, row.cmap, row.norm)
    assert [t.get_text() for t in ax.get_yticklabels()] == [str(c) for c in units]
    assert ax.get_ylim()[0] < ax.get_ylim()[1]  # origin lower: c = 1 at the bottom
    assert len(ax.texts) == len(units) * len(positions)
    assert all(len(t.get_text().split(".")[1]) == 3 for t in ax.texts)
    plt.close(fig)


# ---------------------------------------------------------------------------------------
# Derived quantities
# ---------------------------------------------------------------------------------------
def test_memory_distance_definition():
    cfg = pd.DataFrame(
        {k: v for k, v in dict(experiment="fig6", cell="rnn", task="variable", layers=1).items()},
        index=range(4),
    )
    cfg["units"] = 1
    cfg["position"] = [1, 2, 3, 4]
    cfg["L"] = [0.01, 0.02, 0.2, 0.01]  # p=4 memorised again: D still stops at 2
    d = mem_tables.memory_distance(cfg, 0.05).iloc[0]
    assert (d.D, d.censored, d.contiguous) == (2, False, True)
    cfg["L"] = [0.1, 0.01, 0.01, 0.01]
    assert mem_tables.memory_distance(cfg, 0.05).iloc[0].D == 0
    cfg["L"] = 0.01
    d = mem_tables.memory_distance(cfg, 0.05).iloc[0]
    assert (d.D, d.censored) == (4, True)


def test_first_hit_uses_ten_epoch_moving_average():
    loss = [0.3] * 5 + [0.01] * 20
    curves = pd.DataFrame(
        dict(
            experiment="fig4",
            cell="rnn",
            task="variable",
            layers=1,
            units=5,
            position=1,
            seed=0,
            epoch=range(1, 26),
            train_loss=loss,
        )
    )
    hit = mem_tables.first_hit_epochs(curves, 0.05).iloc[0]
    # The mean of epochs k-9..k drops below 0.05 once at most one 0.3 remains in the window: k = 14.
    assert hit.first_hit == 14 and hit.epochs == 25


# ---------------------------------------------------------------------------------------
# Report captions: rendered as `snakemake --report` does (Jinja2, then reStructuredText)
# ---------------------------------------------------------------------------------------
CAPTIONS = [
    "fig4",
    "fig5",
    "fig6",
    "fig7",
    "fig8",
    "fig9",
    "histogram",
    "capacity",
    "claims",
    "tables",
]


@pytest.mark.parametrize("drop_fig9", [False, True])
def test_captions_render(drop_fig9):
    jinja2 = pytest.importorskip("jinja2")
    core = pytest.importorskip("docutils.core")
    yaml = pytest.importorskip("yaml")
    from pathlib import Path
    from types import SimpleNamespace

    root = Path(__file__).resolve().parents[2]
    config = yaml.safe_load((root / "config" / "smoke.yaml").read_text())
    if drop_fig9:
        del config["memorization"]["experiments"]["fig9"]
    # Snakemake renders captions with these Environment options and a `snakemake` object
    # whose .config is the workflow config.
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
    for name in CAPTIONS:
        text = (root / "workflow" / "report" / "memorization" / f"{name}.rst").read_text()
        rendered = env.from_string(text).render(snakemake=SimpleNamespace(config=config))
        assert "{{" not in rendered and "{%" not in rendered
        assert "smoke" in rendered, name
        core.publish_parts(
            rendered, writer="html", settings_overrides={"halt_level": 2, "report_level": 5}
        )  # warnings raise
        if name == "fig9":
            assert ("not in this tier's configuration" in rendered) == drop_fig9


def test_first_hit_matches_the_aggregation_step():
    """Same definition as runs.csv's first_hit_epoch (rnnmem.memorization.aggregate)."""
    rng = np.random.default_rng(7)
    for length in (5, 10, 40):
        loss = np.clip(
            0.3 * np.exp(-np.arange(length) / rng.uniform(2, 15)) + rng.normal(0, 0.01, length),
            0,
            1,
        )
        curves = pd.DataFrame(
            dict(
                experiment="fig4",
                cell="rnn",
                task="variable",
                layers=1,
                units=5,
                position=1,
                seed=0,
                epoch=np.arange(1, length + 1),
                train_loss=loss,
            )
        )
        for theta in (0.03, 0.05, 0.1):
            ours = mem_tables.first_hit_epochs(curves, theta).iloc[0].first_hit
            theirs = first_hit_epoch(loss, theta)
            assert (np.isnan(ours) and np.isnan(theirs)) or ours == theirs, (length, theta)
