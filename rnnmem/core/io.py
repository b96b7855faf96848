"""Deterministic, atomic file output.

Every file rnnmem writes goes through here, so that
  * a rerun of the same job writes the same bytes (no timestamps, no absolute paths), and
  * a job that dies part-way leaves no file that looks complete (write to a temporary
    file in the same folder, then rename).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

# Fixed zip member timestamp: np.savez stamps the wall clock, which breaks byte equality.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside `path`; rename it onto `path` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes files private; results are for everyone to read
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path, obj) -> None:
    write_text(path, json.dumps(obj, indent=1, sort_keys=True, default=_jsonable) + "\n")


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def save_arrays(path, arrays: dict[str, np.ndarray], meta: dict | None = None) -> None:
    """Write arrays (and a JSON `meta` record) to an .npz file, byte-for-byte reproducibly.

    Readable with `np.load`; `load_arrays` returns the meta record too.
    """
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            members = dict(sorted(arrays.items()))
            if meta is not None:
                blob = json.dumps(meta, sort_keys=True, default=_jsonable).encode("utf-8")
                members["__meta__"] = np.frombuffer(blob, dtype=np.uint8)
            for name, array in members.items():
                buffer = io.BytesIO()
                np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
                info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_EPOCH)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, buffer.getvalue())


def load_arrays(path) -> tuple[dict[str, np.ndarray], dict]:
    """Read a file written by `save_arrays`: (arrays, meta)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"missing input file: {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as err:
        raise ValueError(f"corrupt or truncated file: {path} ({err})") from err
    blob = arrays.pop("__meta__", None)
    meta = json.loads(blob.tobytes().decode("utf-8")) if blob is not None else {}
    return arrays, meta


def write_csv(path, frame: pd.DataFrame, provenance: dict | None = None) -> None:
    """Write a table as CSV; with `provenance`, a JSON sidecar `<path>.provenance.json`.

    Floats are written with repr precision so that the CSV round-trips exactly.
    """
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.17g", lineterminator="\n")
    if provenance is not None:
        write_json(str(path) + ".provenance.json", provenance)


def read_csv(path) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"missing input file: {path}")
    return pd.read_csv(path)
