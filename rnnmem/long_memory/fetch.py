"""Get one data file of the long-memory study into place, checked by sha256; check it on use.

Source: the pinned raw URL of the authors' repository (MANIFEST, from
shared/data/long-memory/MANIFEST.md), or a local mirror folder holding a copy.

    fetch(name, dest, url, sha256, mirror=None, store=None)
        dest verifies already                  -> kept as it is (no source is read)
        store/<sha256> verifies                -> copied to dest (no source is read)
        else bytes --stream--> temp file beside dest (sha256 and byte count as they arrive)
        size != expected or != Content-Length  -> FetchError (file, source, reason)
        sha256 != expected                     -> FetchError (file, expected and got hashes)
        otherwise rename temp -> dest, and keep a copy at store/<sha256>

A failed fetch never leaves a file at dest, never touches a dest that was already there, and
never touches the store. The store (`<dest folder>/.sha256/` for the CLI) is content-addressed
and no rule declares it, so Snakemake, which deletes a job's outputs before it reruns the job,
never deletes it: a rerun fetch restores verified bytes without any network.

Consumers check a file by its name (check_pinned): a pinned file whose bytes are not the
pinned ones (truncated or edited after its fetch) is a DataFileError naming the file and fix.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import shutil
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from rnnmem.core.io import atomic_path

_COMMIT = "aa0f80c8ce4815b1f072500be6906f56fc76a91a"
_RAW = f"https://raw.githubusercontent.com/huawei-noah/noah-research/{_COMMIT}/mRNN-mLSTM/data"
_CHUNK = 1 << 16
STORE = ".sha256"  # the content-addressed store's folder name, beside the fetched files


@dataclass(frozen=True)
class DataFile:
    path: str  # under the data root (config long_memory.source.base_url)
    sha256: str
    size: int

    @property
    def url(self) -> str:
        """The pinned download URL."""
        return f"{_RAW}/{self.path}"


# The five files, pinned to a commit (MANIFEST.md: "Files" and "Download URLs").
MANIFEST: dict[str, DataFile] = {
    "arfima.csv": DataFile(
        "time_series_prediction/arfima.csv",
        "8646e614ab4defedf5c9d239a20013c5dfd7bba512d786bbe6f7e9d208e08735",
        76043,
    ),
    "DJI.csv": DataFile(
        "time_series_prediction/DJI.csv",
        "011fea06b5daf1ad322d0997b1a51d32dc3bd720450dd965c659b05969b66881",
        68129,
    ),
    "traffic.csv": DataFile(
        "time_series_prediction/traffic.csv",
        "3b145a40bf2152028557079f8270ed538dce79b86b827a959090a65428cdcdac",
        53483,
    ),
    "tree7.csv": DataFile(
        "time_series_prediction/tree7.csv",
        "44d55af6320aa692e9e97b9c49f235eaabf377012e4ff72b61cd05a38c252df7",
        30005,
    ),
    "reviews.json": DataFile(
        "review_classification/reviews.json",
        "5ea7a36d2655b89db2b73c999f086a3df607089ebd11ebeeb122105d7f0de888",
        593600,
    ),
}


class FetchError(RuntimeError):
    """A download or copy that failed or did not verify; the message is one line."""


class DataFileError(ValueError):
    """An input data file that is not what a job can use; the message is one line that names
    the file and the fix."""


def file_sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _verifies(path: Path, sha256: str) -> bool:
    return path.is_file() and file_sha256(path) == sha256


def check_pinned(path) -> Path:
    """`path` itself, after checking its bytes against MANIFEST when its name is pinned there.

    Files of other names (Experiment 2's generated series, a test's file) pass unchecked.
    """
    path = Path(path)
    known = MANIFEST.get(path.name)
    if known is None or not path.is_file():
        return path  # the loader reports a missing file itself
    got = file_sha256(path)
    if got != known.sha256:
        raise DataFileError(
            f"{path}: sha256 {got} is not the pinned {known.sha256} of {path.name} (truncated "
            "or edited after its fetch); delete it and rerun snakemake to fetch it again"
        )
    return path


def _copy_stream(src, out, name: str, source: str) -> tuple[int, str]:
    """Copy a binary stream into the open file `out`; return (bytes, sha256 hex)."""
    digest = hashlib.sha256()
    total = 0
    while True:
        try:
            chunk = src.read(_CHUNK)
        except TimeoutError as err:
            raise FetchError(f"{name}: reading from {source} timed out ({err})") from err
        except (OSError, http.client.HTTPException) as err:
            raise FetchError(f"{name}: reading from {source} failed ({err!r})") from err
        if not chunk:
            return total, digest.hexdigest()
        digest.update(chunk)
        out.write(chunk)
        total += len(chunk)


def _download(name: str, url: str, out, timeout: float) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"User-Agent": "rnnmem-fetch"})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        raise FetchError(
            f"{name}: download from {url} failed (HTTP {err.code} {err.reason})"
        ) from err
    except urllib.error.URLError as err:
        raise FetchError(f"{name}: download from {url} failed ({err.reason})") from err
    except TimeoutError as err:
        raise FetchError(f"{name}: download from {url} timed out after {timeout} s") from err
    except (OSError, http.client.HTTPException, ValueError) as err:
        raise FetchError(f"{name}: download from {url} failed ({err!r})") from err
    with response:
        announced = response.headers.get("Content-Length")
        total, digest = _copy_stream(response, out, name, url)
    # http.client returns a short body silently when the connection closes early.
    if announced is not None and announced.isdigit() and total != int(announced):
        raise FetchError(
            f"{name}: download from {url} truncated ({total} of {announced} announced bytes)"
        )
    return total, digest


def _read_local(name: str, source: str, out) -> tuple[int, str]:
    try:
        src = open(source, "rb")
    except OSError as err:
        raise FetchError(f"{name}: cannot read mirror copy {source} ({err})") from err
    with src:
        return _copy_stream(src, out, name, source)


def fetch(
    name: str,
    dest,
    url: str | None = None,
    sha256: str | None = None,
    mirror=None,
    timeout: float = 60,
    size: int | None = None,
    store=None,
    log=lambda message: None,
) -> Path:
    """Put file `name` at `dest`, from `mirror`/name if given, else from `url`; verify it.

    url and sha256 default to MANIFEST[name]. The byte size is checked when known: `size`,
    or MANIFEST's size when `sha256` is MANIFEST's hash for `name`. With `store` (a folder),
    a verified copy kept there is used before any source, and each fetched file is kept there.
    """
    dest = Path(dest)
    known = MANIFEST.get(name)
    url = url if url is not None else (known.url if known else None)
    sha256 = sha256 if sha256 is not None else (known.sha256 if known else None)
    if sha256 is None or (mirror is None and url is None):
        raise FetchError(f"{name}: not in MANIFEST; give its url and sha256")
    sha256 = sha256.lower()
    if size is None and known is not None and known.sha256 == sha256:
        size = known.size
    stored = Path(store) / sha256 if store is not None else None

    if _verifies(dest, sha256):
        log(f"{name}: {dest} verifies (sha256 {sha256}); kept")
    elif stored is not None and _verifies(stored, sha256):
        log(f"{name}: restored from {stored} (sha256 {sha256}); no source read")
        return _place(stored, dest, sha256)
    else:
        source = str(Path(mirror) / name) if mirror is not None else url
        with atomic_path(dest) as tmp:
            with open(tmp, "wb") as out:
                if mirror is not None:
                    total, got = _read_local(name, source, out)
                else:
                    total, got = _download(name, url, out, timeout)
            if size is not None and total != size:
                reason = "truncated" if total < size else "too long"
                raise FetchError(
                    f"{name}: {reason} from {source} (got {total} bytes, expected {size})"
                )
            if got != sha256:
                raise FetchError(
                    f"{name}: sha256 mismatch from {source} (expected {sha256}, got {got})"
                )
        log(f"{name}: fetched from {source} (sha256 {sha256})")
    if stored is not None and not _verifies(stored, sha256):
        _place(dest, stored, sha256)
    return dest


def _place(src: Path, dest: Path, sha256: str) -> Path:
    """Copy verified bytes from src to dest atomically, checking them on the way."""
    with atomic_path(dest) as tmp:
        shutil.copyfile(src, tmp)
        if file_sha256(tmp) != sha256:  # src changed while we copied it
            raise FetchError(f"{dest.name}: {src} changed while it was copied; run again")
    return dest


def fetch_all(
    folder, manifest: dict[str, DataFile] = MANIFEST, base_url: str | None = None, timeout=60
) -> Path:
    """Every file of `manifest` in `folder`, sha256-checked, each from its pinned URL (or
    from <base_url>/<its path> when base_url is given).

    Files already there that verify are kept (no network). A folder that does not exist yet
    appears only complete: the files are gathered beside it and the folder renamed into place,
    so a failed fetch (FetchError) leaves no partial folder behind.
    """
    folder = Path(folder)
    target = folder
    if not folder.is_dir():
        folder.parent.mkdir(parents=True, exist_ok=True)
        target = folder.with_name(f".{folder.name}.part-{os.getpid()}")
    try:
        for name, entry in manifest.items():
            url = entry.url if base_url is None else f"{base_url.rstrip('/')}/{entry.path}"
            fetch(name, target / name, url, entry.sha256, timeout=timeout, size=entry.size)
        if target != folder:
            try:
                os.rename(target, folder)
            except OSError:  # another process completed the folder first
                if not folder.is_dir():
                    raise
    finally:
        if target != folder and target.exists():
            shutil.rmtree(target)
    return folder


def _source(settings: dict, name: str) -> tuple[str, str | None, float]:
    """(url, mirror, timeout) of `name` from the config's long_memory.source object."""
    keys = set(settings) if isinstance(settings, dict) else {"<not an object>"}
    if keys - {"base_url", "mirror", "timeout"} or "base_url" not in keys:
        raise FetchError(
            f"{name}: --settings needs base_url (mirror, timeout optional), got {sorted(keys)}"
        )
    if name not in MANIFEST:
        raise FetchError(f"{name}: not in MANIFEST (known: {', '.join(MANIFEST)})")
    # Any spelling of the root works: a trailing slash is not a second one.
    url = f"{settings['base_url'].rstrip('/')}/{MANIFEST[name].path}"
    return url, settings.get("mirror") or None, float(settings.get("timeout", 60))


def fetch_main(argv: list[str] | None = None) -> int:
    """CLI: fetch one file; 0 on success, else a one-line error on stderr and 1."""
    parser = argparse.ArgumentParser(
        prog="python -m rnnmem fetch-long-memory", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--name", required=True, help="file name, a MANIFEST key: DJI.csv, ...")
    parser.add_argument("--sha256", required=True, help="its pinned sha256 (the rule's key)")
    parser.add_argument(
        "--settings",
        required=True,
        help='where it comes from, JSON: {"base_url": URL, "mirror": DIR or null, '
        '"timeout": s} (the config\'s long_memory.source)',
    )
    parser.add_argument("--out", required=True, help="destination path")
    parser.add_argument(
        "--store", help=f"verified copies by sha256 (default: <out folder>/{STORE})"
    )
    args = parser.parse_args(argv)
    store = args.store if args.store is not None else Path(args.out).parent / STORE
    try:
        try:
            settings = json.loads(args.settings)
        except ValueError as err:
            raise FetchError(f"{args.name}: --settings is not JSON ({err})") from err
        url, mirror, timeout = _source(settings, args.name)
        fetch(
            args.name,
            args.out,
            url,
            args.sha256,
            mirror=mirror,
            timeout=timeout,
            store=store,
            log=print,
        )
    except (FetchError, OSError) as err:  # OSError: e.g. dest folder not writable
        message = str(err) if isinstance(err, FetchError) else f"{args.name}: {err}"
        print("fetch: " + " ".join(message.split()), file=sys.stderr)
        return 1
    return 0
