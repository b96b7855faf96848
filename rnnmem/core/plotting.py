"""Figure output shared by all studies: PNG + PDF, byte-for-byte reproducible."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from rnnmem.core.io import atomic_path  # noqa: E402

# No creation dates, producer strings or random ids in the files.
_PNG_METADATA = {"Software": None}
_PDF_METADATA = {"Creator": None, "Producer": None, "CreationDate": None}

plt.rcParams.update(
    {
        "svg.hashsalt": "rnnmem",
        "figure.dpi": 100,
        "savefig.dpi": 120,
        "font.size": 9,
    }
)


def tier_note(tier: str) -> str:
    """The line every figure carries: which tier produced it."""
    return f"rnnmem tier: {tier}"


def save_figure(fig, png_path, tier: str | None = None) -> list[Path]:
    """Save `fig` as `png_path` and the same stem with .pdf; stamp the tier in a corner."""
    png_path = Path(png_path)
    if tier is not None:
        fig.text(0.995, 0.005, tier_note(tier), ha="right", va="bottom", fontsize=7, alpha=0.7)
    os.environ.setdefault("SOURCE_DATE_EPOCH", "0")
    written = []
    for path, metadata in (
        (png_path, _PNG_METADATA),
        (png_path.with_suffix(".pdf"), _PDF_METADATA),
    ):
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=path.suffix[1:], metadata=metadata)
        written.append(path)
    plt.close(fig)
    return written
