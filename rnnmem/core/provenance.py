"""Provenance record attached to every table: what produced it, with which software."""

from __future__ import annotations

import platform
import subprocess
from pathlib import Path

import numpy as np

import rnnmem


def git_commit() -> str | None:
    """The commit of the checkout rnnmem runs from, or None outside a git checkout."""
    root = Path(rnnmem.__file__).resolve().parent.parent
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def provenance(config: dict | None = None, **extra) -> dict:
    """rnnmem version, git commit, library versions, plus the caller's config and extras.

    Holds nothing machine-local beyond the software versions (no paths, no clock), so
    the same job rerun gives the same record.
    """
    import torch

    record = {
        "rnnmem_version": rnnmem.__version__,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
    }
    if config is not None:
        record["config"] = config
    record.update(extra)
    return record
