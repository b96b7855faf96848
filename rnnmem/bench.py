"""Benchmarks, one per study.

usage: python -m rnnmem bench <study> [options]      (python -m rnnmem bench <study> --help)

    python -m rnnmem bench memorization --runs 100 --epochs 20
    python -m rnnmem bench long-memory --seeds 100
    python -m rnnmem bench reviews --seeds 16 --loop-seeds 2 --epochs 1

Each prints ratios measured side by side in one process (see the study's bench module);
only ratios are meant to be compared across machines.
"""

from __future__ import annotations

import importlib
import sys

BENCHES = {
    "memorization": "rnnmem.memorization.bench",
    "long-memory": "rnnmem.long_memory.bench",
    "reviews": "rnnmem.long_memory.reviews.bench",
}


def usage() -> str:
    return __doc__.strip() + "\n\nstudies: " + ", ".join(BENCHES)


def main(argv) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    if not argv or argv[0] not in BENCHES:
        print(usage(), file=sys.stderr)
        what = f"unknown study {argv[0]!r}" if argv else "no study given"
        print(f"\nrnnmem bench: {what}; known: {', '.join(BENCHES)}", file=sys.stderr)
        return 2
    return int(importlib.import_module(BENCHES[argv[0]]).main(argv[1:]) or 0)
