"""Get one data file of the long-memory study into place, checked by sha256.

Source: the pinned raw URL of the authors' repository (MANIFEST, from
shared/data/long-memory/MANIFEST.md), or a local mirror folder holding a copy.

    fetch(name, dest, url, sha256, mirror=None)
        bytes --stream--> temp file beside dest (sha256 and byte count as they arrive)
        size != expected or != Content-Length  -> FetchError (file, source, reason)
        sha256 != expected                     -> FetchError (file, expected and got hashes)
        otherwise rename temp -> dest

A failed fetch never leaves a file at dest, and never touches a dest that was already there.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from rnnmem.core.io import atomic_path

_COMMIT = "aa0f80c8ce4815b1f072500be6906f56fc76a91a"
_RAW = f"https://raw.githubusercontent.com/huawei-noah/noah-research/{_COMMIT}/mRNN-mLSTM/data"
_CHUNK = 1 << 16


@dataclass(frozen=True)
class DataFile:
    url: str
    sha256: str
    size: int


# The five files, pinned to a commit (MANIFEST.md: "Files" and "Download URLs").
MANIFEST: dict[str, DataFile] = {
    "arfima.csv": DataFile(
        f"{_RAW}/time_series_prediction/arfima.csv",
        "8646e614ab4defedf5c9d239a20013c5dfd7bba512d786bbe6f7e9d208e08735",
        76043,
    ),
    "DJI.csv": DataFile(
        f"{_RAW}/time_series_prediction/DJI.csv",
        "011fea06b5daf1ad322d0997b1a51d32dc3bd720450dd965c659b05969b66881",
        68129,
    ),
    "traffic.csv": DataFile(
        f"{_RAW}/time_series_prediction/traffic.csv",
        "3b145a40bf2152028557079f8270ed538dce79b86b827a959090a65428cdcdac",
        53483,
    ),
    "tree7.csv": DataFile(
        f"{_RAW}/time_series_prediction/tree7.csv",
        "44d55af6320aa692e9e97b9c49f235eaabf377012e4ff72b61cd05a38c252df7",
        30005,
    ),
    "reviews.json": DataFile(
        f"{_RAW}/review_classification/reviews.json",
        "5ea7a36d2655b89db2b73c999f086a3df607089ebd11ebeeb122105d7f0de888",
        593600,
    ),
}


class FetchError(RuntimeError):
    """A download or copy that failed or did not verify; the message is one line."""


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


def fetch(
    name: str,
    dest,
    url: str | None = None,
    sha256: str | None = None,
    mirror=None,
    timeout: float = 60,
    size: int | None = None,
) -> Path:
    """Put file `name` at `dest`, from `mirror`/name if given, else from `url`; verify it.

    url and sha256 default to MANIFEST[name]. The byte size is checked when known: `size`,
    or MANIFEST's size when `sha256` is MANIFEST's hash for `name`.
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
    source = str(Path(mirror) / name) if mirror is not None else url

    with atomic_path(dest) as tmp:
        with open(tmp, "wb") as out:
            if mirror is not None:
                try:
                    src = open(source, "rb")
                except OSError as err:
                    raise FetchError(f"{name}: cannot read mirror copy {source} ({err})") from err
                with src:
                    total, got = _copy_stream(src, out, name, source)
            else:
                total, got = _download(name, url, out, timeout)
        if size is not None and total != size:
            reason = "truncated" if total < size else "too long"
            raise FetchError(f"{name}: {reason} from {source} (got {total} bytes, expected {size})")
        if got != sha256:
            raise FetchError(
                f"{name}: sha256 mismatch from {source} (expected {sha256}, got {got})"
            )
    return dest


def fetch_main(argv: list[str] | None = None) -> int:
    """CLI: fetch one file; 0 on success, else a one-line error on stderr and 1."""
    parser = argparse.ArgumentParser(prog="fetch-long-memory", description=__doc__.split("\n")[0])
    parser.add_argument("--name", required=True, help="file name, e.g. DJI.csv")
    parser.add_argument("--url", default=None, help="download URL (default: MANIFEST)")
    parser.add_argument("--sha256", default=None, help="expected sha256 (default: MANIFEST)")
    parser.add_argument("--out", required=True, help="destination path")
    parser.add_argument("--mirror", default=None, help="folder with a local copy to use instead")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per network read")
    args = parser.parse_args(argv)
    try:
        fetch(args.name, args.out, args.url, args.sha256, mirror=args.mirror, timeout=args.timeout)
    except (FetchError, OSError) as err:  # OSError: e.g. dest folder not writable
        message = str(err) if isinstance(err, FetchError) else f"{args.name}: {err}"
        print("fetch: " + " ".join(message.split()), file=sys.stderr)
        return 1
    return 0
