"""Provenance record attached to every table: what produced it, with which software."""

from __future__ import annotations

import json
import platform
import subprocess
from pathlib import Path

import numpy as np

import rnnmem
from rnnmem.core.io import load_arrays


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


# ------------------------------------------------------------------ records behind a table
# Every table, figure and claims file records the full effective settings of the jobs behind
# it under "jobs": the distinct settings records of its inputs, read from the inputs
# themselves (an .npz file's meta "provenance", else the `<file>.provenance.json` sidecar).
# A record that already carries "jobs" (an aggregated table) hands them on, so a figure
# made from a table names the same jobs as the table.


def sidecar_path(path) -> Path:
    """`<path>.provenance.json`: where the record of a table or figure lies."""
    return Path(f"{path}.provenance.json")


def read_record(path) -> dict:
    """The provenance record of an output file: an .npz's own meta, else its sidecar.

    Raises FileNotFoundError naming the file when it has no record.
    """
    path = Path(path)
    if path.suffix == ".npz":
        _, meta = load_arrays(path)
        if "provenance" in meta:
            return meta["provenance"]
    side = sidecar_path(path)
    if not side.is_file():
        raise FileNotFoundError(f"{path}: no provenance record (expected {side})")
    return json.loads(side.read_text(encoding="utf-8"))


def jobs_of(record: dict) -> list[dict]:
    """A record's jobs: its "jobs" list, else its own settings (a job's file), else none."""
    if "jobs" in record:
        return list(record["jobs"])
    for key in ("config", "settings"):
        if key in record:
            return [record[key]]
    return []


def distinct_jobs(jobs) -> list[dict]:
    """Each job's settings once, in a fixed order."""
    unique = {}
    for settings in jobs:
        unique.setdefault(json.dumps(settings, sort_keys=True), settings)
    return [unique[key] for key in sorted(unique)]


def jobs_behind(paths) -> list[dict]:
    """The distinct job settings behind `paths` (sorted, each once)."""
    return distinct_jobs(job for path in paths for job in jobs_of(read_record(path)))
