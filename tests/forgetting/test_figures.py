"""Heat-map layout of the figures, on a synthetic summary."""

from __future__ import annotations

from rnnmem.forgetting.aggregate import summarise
from rnnmem.forgetting.figures import cell_grid, heatmap_figure
from tests.forgetting.test_aggregate import synthetic_runs


def test_heatmap_layout_puts_one_input_at_the_bottom():
    runs = synthetic_runs(runs=2, grid=(1, 2, 4))
    summary = summarise(runs, ["K_exact"])
    grid = cell_grid(summary, "lstm", "K_exact_mean", [1, 2, 4], [1, 2, 4])
    assert grid.shape == (3, 3)
    assert grid[0, 2] > grid[0, 0]  # row 0 = n_in 1, columns units ascending
    fig = heatmap_figure(summary, "K_exact", True, "torch", 99_000)
    ax = fig.axes[0]
    assert ax.get_title() == "LSTM" and fig.axes[1].get_title() == "GRU"  # display labels
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1", "2", "4"]
    assert ax.images[0].origin == "lower"
