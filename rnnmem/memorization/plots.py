"""Drawing helpers shared by the study's figures (rnnmem.memorization.figures, .heatmaps)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from rnnmem.core.plotting import save_figure  # noqa: E402
from rnnmem.memorization.tables import CONFIG_KEYS  # noqa: E402

FIXED_GUESS = 0.25  # E|U - 0.5| for U ~ Uniform[0, 1]: the loss of the best constant guess

CELL_LABEL = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}
TASK_LABEL = {"variable": "Def. 1", "fixed": "Def. 2"}


def seed_count(runs: pd.DataFrame) -> str:
    """'5 seeds', or '3-5 seeds' when configurations differ."""
    if runs.empty:
        return "0 seeds"
    counts = runs.groupby(CONFIG_KEYS)["seed"].nunique()
    low, high = int(counts.min()), int(counts.max())
    return f"{low} seeds" if low == high else f"{low}-{high} seeds"


STAMP_STRIP = 0.2  # inches kept free at the bottom for save_figure's tier stamp


def new_figure(width: float, height: float, rows: int = 1, cols: int = 1):
    """Constrained-layout subplots (always a 2-D axes array) that leave the tier stamp room."""
    fig, axes = plt.subplots(
        rows, cols, figsize=(width, height), layout="constrained", squeeze=False
    )
    strip = STAMP_STRIP / height
    fig.get_layout_engine().set(rect=(0.0, strip, 1.0, 1.0 - strip))
    return fig, axes


def diverged_note(runs: pd.DataFrame) -> str:
    """Heat-map means skip diverged runs; say so when there are any."""
    n = int(runs["diverged"].sum()) if not runs.empty else 0
    return f"\n{n} diverged runs left out of the means" if n else ""


def note_figure(path, title: str, message: str, tier: str) -> None:
    """A figure that says why it has no data (experiment not run in this tier)."""
    fig = plt.figure(figsize=(7, 2.4))
    fig.suptitle(title)
    fig.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    save_figure(fig, path, tier)
