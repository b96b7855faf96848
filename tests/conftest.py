"""The one test harness: thread settings, a repository copy, a Snakemake runner, a job planner
and tree hashing. Test modules import the helpers with `from conftest import ...`.
"""

import functools
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import pytest  # noqa: E402
import torch  # noqa: E402

from rnnmem.long_memory.fetch import FetchError, fetch_all  # noqa: E402

torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SHARED = ROOT.parent / "shared"
# The long-memory data files, as the pipeline's local mirror: the shared folder, or where it
# is missing, a cache that data_mirror() fills once from the pinned URLs (sha256-checked).
SHARED_DATA = Path(os.environ.get("RNNMEM_DATA_MIRROR", SHARED / "data" / "long-memory"))
DATA_CACHE = Path(
    os.environ.get("RNNMEM_DATA_CACHE", Path.home() / ".cache" / "rnnmem" / "long-memory")
)
MIRROR = SHARED_DATA if SHARED_DATA.is_dir() else DATA_CACHE
os.environ["RNNMEM_DATA_MIRROR"] = str(MIRROR)  # the same folder for every test module
DATA_TIMEOUT_S = 10  # per network read when filling the cache


def fill_data_cache(shared: Path, cache: Path, base_url: str | None = None) -> str | None:
    """None when `shared` is a folder or `cache` holds the pinned files (fetched now from
    their pinned URLs, or from base_url, when missing); else why not, as a skip reason."""
    if shared.is_dir():
        return None
    try:
        fetch_all(cache, base_url=base_url, timeout=DATA_TIMEOUT_S)
    except (FetchError, OSError) as err:
        return (
            f"no data mirror at {shared}, and the pinned files could not be fetched "
            f"into {cache} (offline?): {err}"
        )
    return None


@functools.cache
def _missing_data_reason() -> str | None:
    return fill_data_cache(SHARED_DATA, MIRROR)  # once per session, when a test needs data


def data_mirror() -> Path:
    """MIRROR, holding the five pinned data files; skips the calling test when it cannot."""
    reason = _missing_data_reason()
    if reason is not None:
        pytest.skip(reason)
    return MIRROR


def mirror_section() -> dict:
    """The long_memory config keys that point the fetch rules at the local mirror."""
    return {"source": {"mirror": str(data_mirror())}}


def copy_repo(dest: Path) -> Path:
    """The checkout's tracked and untracked-but-not-ignored files (what a clone would hold)."""
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, files.split("\0")):
        src = ROOT / name
        if src.is_symlink():  # e.g. profiles -> workflow/profiles
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            (dest / name).symlink_to(os.readlink(src))
        elif src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


def snakemake(workdir: Path, *args, check: bool = True, timeout: int = 900):
    """Run the venv's snakemake in `workdir`; on failure (with check) show the output's tail."""
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    out = subprocess.run(
        [str(BIN / "snakemake"), *map(str, args)],
        cwd=workdir,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    if check and out.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(map(str, args))} failed:\n"
            f"{out.stdout[-4000:]}\n{out.stderr[-4000:]}"
        )
    return out


def planned_jobs(workdir: Path, *args) -> dict[str, int]:
    """Jobs a dry run would execute, by rule ({} when nothing is to be done)."""
    out = snakemake(workdir, "-n", "--cores", "2", *args)
    counts, in_table = {}, False
    for line in (out.stdout + out.stderr).splitlines():
        if line.startswith("job") and "count" in line:
            in_table = True
            continue
        if in_table:
            match = re.match(r"^(\S+)\s+(\d+)$", line.strip())
            if match and match.group(1) != "total":
                counts[match.group(1)] = int(match.group(2))
            elif line.strip().startswith("total"):
                break
    return counts


def tree_hashes(folder: Path) -> dict[str, str]:
    """sha256 of every file under `folder`, by relative path."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
