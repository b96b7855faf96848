"""Where a kernel package's numba cache lives: a folder named by its sources.

numba's on-disk cache checks only the source file of each cached function, not the helpers
it inlines from other files of its package: an edit there would run stale machine code. So
each kernel package caches in a folder named by the hash of every source file of the
package (under $RNNMEM_NUMBA_CACHE, default ~/.cache/rnnmem/numba): any edit gets a fresh
cache. Imports no numba: the package sets numba.config.CACHE_DIR itself.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def package_cache_dir(package_init: str) -> str:
    """The cache folder of the kernel package whose __init__.py is `package_init`."""
    digest = hashlib.sha256()
    for path in sorted(Path(package_init).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    root = os.environ.get("RNNMEM_NUMBA_CACHE") or Path.home() / ".cache" / "rnnmem" / "numba"
    return str(Path(root) / digest.hexdigest()[:16])
