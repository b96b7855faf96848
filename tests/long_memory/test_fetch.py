"""fetch: downloads from a real HTTP server on 127.0.0.1, mirror copies, and every failure path."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from conftest import data_mirror, fill_data_cache

from rnnmem.long_memory.fetch import (
    _COMMIT,
    MANIFEST,
    DataFile,
    DataFileError,
    FetchError,
    check_pinned,
    fetch,
    fetch_all,
    fetch_main,
    file_sha256,
)

SLOW_S = 1.5  # the /slow/ handler's delay; the client's timeout is far below it


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files, plus /lying/<f> (announces the full length, sends half) and /slow/<f>."""

    def do_GET(self):
        if self.path.startswith("/lying/"):
            blob = (Path(self.directory) / self.path[len("/lying/") :]).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(blob)))
            self.end_headers()
            self.wfile.write(blob[: len(blob) // 2])
            self.close_connection = True
            return
        if self.path.startswith("/slow/"):
            time.sleep(SLOW_S)
            self.path = self.path[len("/slow") :]
        super().do_GET()

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(base URL, served folder) of an HTTP server on 127.0.0.1, an OS-chosen port."""
    root = tmp_path_factory.mktemp("served")
    handler = functools.partial(_Handler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    httpd.shutdown()
    httpd.server_close()


def _publish(root: Path, name: str, blob: bytes) -> str:
    (root / name).write_bytes(blob)
    return hashlib.sha256(blob).hexdigest()


BLOB = b"x\r\n" + b"".join(f"{i * 0.125}\r\n".encode() for i in range(2000))


def test_good_download_verifies(server, tmp_path):
    base, root = server
    digest = _publish(root, "good.csv", BLOB)
    dest = tmp_path / "out" / "good.csv"
    assert fetch("good.csv", dest, f"{base}/good.csv", digest) == dest
    assert dest.read_bytes() == BLOB
    assert sorted(p.name for p in dest.parent.iterdir()) == ["good.csv"]  # no temp file left


def test_corrupted_download_fails_with_both_hashes(server, tmp_path):
    base, root = server
    good = hashlib.sha256(BLOB).hexdigest()
    bad = bytearray(BLOB)
    bad[100] ^= 0x01  # one byte changed, same length
    got = _publish(root, "corrupt.csv", bytes(bad))
    dest = tmp_path / "out" / "corrupt.csv"
    with pytest.raises(FetchError) as info:
        fetch("corrupt.csv", dest, f"{base}/corrupt.csv", good, size=len(BLOB))
    message = str(info.value)
    assert "corrupt.csv" in message and good in message and got in message
    assert list(dest.parent.iterdir()) == []  # neither dest nor a temp file


def test_short_file_fails_on_size(server, tmp_path):
    base, root = server
    _publish(root, "short.csv", BLOB[:-7])
    dest = tmp_path / "out" / "short.csv"
    url = f"{base}/short.csv"
    with pytest.raises(FetchError, match="truncated") as info:
        fetch("short.csv", dest, url, hashlib.sha256(BLOB).hexdigest(), size=len(BLOB))
    assert url in str(info.value) and str(len(BLOB) - 7) in str(info.value)
    assert list(dest.parent.iterdir()) == []


def test_connection_closed_early_fails(server, tmp_path):
    base, root = server
    digest = _publish(root, "cut.csv", BLOB)
    dest = tmp_path / "out" / "cut.csv"
    url = f"{base}/lying/cut.csv"
    # No size given: only the announced Content-Length can reveal the truncation.
    with pytest.raises(FetchError, match="truncated") as info:
        fetch("cut.csv", dest, url, digest)
    assert url in str(info.value)
    assert list(dest.parent.iterdir()) == []


def test_missing_file_404_names_url(server, tmp_path):
    base, _ = server
    url = f"{base}/nothing-here.csv"
    with pytest.raises(FetchError) as info:
        fetch("nothing-here.csv", tmp_path / "x.csv", url, "0" * 64)
    assert url in str(info.value) and "404" in str(info.value)
    assert not (tmp_path / "x.csv").exists()


def test_connection_refused_names_url(tmp_path):
    # A port that was just free on 127.0.0.1 and has no listener.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/DJI.csv"
    with pytest.raises(FetchError) as info:
        fetch("DJI.csv", tmp_path / "DJI.csv", url, MANIFEST["DJI.csv"].sha256, timeout=5)
    assert url in str(info.value) and "refused" in str(info.value).lower()
    assert list(tmp_path.iterdir()) == []


def test_timeout_fails(server, tmp_path):
    base, root = server
    digest = _publish(root, "slow.csv", BLOB)
    url = f"{base}/slow/slow.csv"
    with pytest.raises(FetchError, match="timed out") as info:
        fetch("slow.csv", tmp_path / "slow.csv", url, digest, timeout=0.2)
    assert url in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_existing_dest_survives_failed_fetch(server, tmp_path):
    base, root = server
    good = hashlib.sha256(BLOB).hexdigest()
    _publish(root, "flaky.csv", BLOB[::-1])  # wrong content
    dest = tmp_path / "flaky.csv"
    dest.write_bytes(BLOB[:-1])  # an earlier file that does not verify: replaced only by good bytes
    before = dest.stat()
    for url in (f"{base}/flaky.csv", f"{base}/gone.csv", f"{base}/lying/flaky.csv"):
        with pytest.raises(FetchError):
            fetch("flaky.csv", dest, url, good)
    assert dest.read_bytes() == BLOB[:-1]
    assert dest.stat().st_ino == before.st_ino and dest.stat().st_mtime_ns == before.st_mtime_ns
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flaky.csv"]


def test_existing_good_dest_is_kept_without_reading_the_source(server, tmp_path):
    base, _ = server
    dest = tmp_path / "kept.csv"
    dest.write_bytes(BLOB)
    before = dest.stat()
    for url in (f"{base}/gone.csv", f"{base}/lying/kept.csv", "http://127.0.0.1:9/never"):
        assert fetch("kept.csv", dest, url, hashlib.sha256(BLOB).hexdigest()) == dest
    assert dest.stat().st_ino == before.st_ino and dest.stat().st_mtime_ns == before.st_mtime_ns


def test_mirror_copies_and_verifies(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    digest = _publish(mirror, "m.csv", BLOB)
    dest = tmp_path / "out" / "m.csv"
    # The URL is never contacted when a mirror is given.
    fetch("m.csv", dest, "http://127.0.0.1:9/never", digest, mirror=mirror)
    assert dest.read_bytes() == BLOB
    with pytest.raises(FetchError) as info:
        fetch("m.csv", tmp_path / "out" / "m2.csv", None, "f" * 64, mirror=mirror)
    assert "f" * 64 in str(info.value) and digest in str(info.value)
    with pytest.raises(FetchError, match="mirror"):
        fetch("absent.csv", tmp_path / "out" / "a.csv", None, digest, mirror=mirror)
    assert sorted(p.name for p in dest.parent.iterdir()) == ["m.csv"]


def test_manifest_matches_the_shared_copies(tmp_path):
    """Every MANIFEST entry (sha256 and size) verifies against the data mirror."""
    folder = data_mirror()
    assert set(MANIFEST) == {"arfima.csv", "DJI.csv", "traffic.csv", "tree7.csv", "reviews.json"}
    for name, entry in MANIFEST.items():
        assert (folder / name).stat().st_size == entry.size
        fetch(name, tmp_path / name, entry.url, entry.sha256, mirror=folder)
        assert hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() == entry.sha256
        assert entry.url.startswith("https://raw.githubusercontent.com/huawei-noah/noah-research/")
        assert f"/{_COMMIT}/mRNN-mLSTM/data/" in entry.url and entry.url.endswith("/" + name)
        assert entry.url.endswith("/" + entry.path)


def test_manifest_size_catches_a_truncated_real_file(tmp_path):
    """With MANIFEST's hash the size check is on without an explicit size."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "tree7.csv").write_bytes(b"x\r\n0.682\r\n")
    with pytest.raises(FetchError, match="truncated") as info:
        fetch("tree7.csv", tmp_path / "tree7.csv", None, None, mirror=mirror)
    assert str(MANIFEST["tree7.csv"].size) in str(info.value)


# ---- the store: verified bytes that no rerun deletes ------------------------------------------
def _refused_url(name: str) -> str:
    """A URL on a port of 127.0.0.1 that was just free and has no listener."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/{name}"


def test_store_keeps_a_copy_and_restores_it_without_any_source(server, tmp_path):
    base, root = server
    digest = _publish(root, "kept.csv", BLOB)
    store, dest = tmp_path / "store", tmp_path / "out" / "kept.csv"
    fetch("kept.csv", dest, f"{base}/kept.csv", digest, store=store)
    assert (store / digest).read_bytes() == BLOB
    dest.unlink()  # what Snakemake does before it reruns the fetch
    said = []
    fetch("kept.csv", dest, _refused_url("kept.csv"), digest, store=store, log=said.append)
    assert dest.read_bytes() == BLOB and "restored" in said[0]
    # Independent copies: an edit in place of dest leaves the store's copy good.
    dest.write_bytes(BLOB[:10])
    fetch("kept.csv", dest, _refused_url("kept.csv"), digest, store=store)
    assert dest.read_bytes() == BLOB


def test_failed_fetch_leaves_the_store_and_a_good_dest(server, tmp_path):
    base, root = server
    good = hashlib.sha256(BLOB).hexdigest()
    _publish(root, "bad.csv", BLOB[::-1])
    store = tmp_path / "store"
    dest = tmp_path / "bad.csv"
    with pytest.raises(FetchError) as info:  # nothing stored yet: the source is read, and fails
        fetch("bad.csv", dest, f"{base}/bad.csv", good, store=store)
    assert "bad.csv" in str(info.value) and f"{base}/bad.csv" in str(info.value)
    assert not dest.exists() and not store.exists()
    # A good dest is kept as it is, whatever the source, and its copy goes to the store.
    dest.write_bytes(BLOB)
    before = dest.stat()
    fetch("bad.csv", dest, _refused_url("bad.csv"), good, store=store)
    assert dest.stat().st_ino == before.st_ino and dest.stat().st_mtime_ns == before.st_mtime_ns
    assert (store / good).read_bytes() == BLOB
    # A store copy that does not verify is not used, and a failed source leaves it alone.
    (store / good).write_bytes(b"damaged")
    dest.unlink()
    with pytest.raises(FetchError, match="refused"):
        fetch("bad.csv", dest, _refused_url("bad.csv"), good, store=store)
    assert (store / good).read_bytes() == b"damaged" and not dest.exists()


# ---- consumers' check --------------------------------------------------------------------------
def test_check_pinned_by_name(tmp_path):
    other = tmp_path / "mine.csv"
    other.write_bytes(b"x\n1\n")
    assert check_pinned(other) == other  # not a pinned name: unchecked
    cut = tmp_path / "reviews.json"
    cut.write_bytes(b'{"paper": [')
    with pytest.raises(DataFileError) as info:
        check_pinned(cut)
    message = str(info.value)
    assert len(message.splitlines()) == 1 and str(cut) in message
    assert MANIFEST["reviews.json"].sha256 in message
    assert hashlib.sha256(b'{"paper": [').hexdigest() in message
    assert "delete it and rerun" in message


def test_check_pinned_passes_the_real_files():
    folder = data_mirror()
    for name in MANIFEST:
        assert check_pinned(folder / name) == folder / name


# ---- fetch_all: the test suite's data cache ----------------------------------------------------
def _manifest(root: Path, blobs: dict[str, bytes]) -> dict[str, DataFile]:
    """A manifest of synthetic files, each published in `root` under its own name."""
    return {
        name: DataFile(name, _publish(root, name, blob), len(blob)) for name, blob in blobs.items()
    }


def test_fetch_all_fills_a_folder_once(server, tmp_path):
    base, root = server
    manifest = _manifest(root, {"a.csv": BLOB, "b.json": b'{"paper": []}'})
    cache = tmp_path / "cache" / "long-memory"
    assert fetch_all(cache, manifest, base_url=base, timeout=5) == cache
    assert (cache / "a.csv").read_bytes() == BLOB
    assert sorted(p.name for p in cache.parent.iterdir()) == ["long-memory"]  # no staging left
    # A second call reads no source: the files verify where they are.
    (root / "a.csv").unlink()
    (root / "b.json").unlink()
    mtimes = {p.name: p.stat().st_mtime_ns for p in cache.iterdir()}
    fetch_all(cache, manifest, base_url=base, timeout=5)
    assert {p.name: p.stat().st_mtime_ns for p in cache.iterdir()} == mtimes


def test_fetch_all_offline_leaves_no_folder(server, tmp_path):
    base, root = server
    manifest = _manifest(root, {"a.csv": BLOB, "gone.csv": b"x\n1\n"})
    (root / "gone.csv").unlink()  # the second file cannot be had
    cache = tmp_path / "cache" / "long-memory"
    with pytest.raises(FetchError, match="gone.csv"):
        fetch_all(cache, manifest, base_url=base, timeout=5)
    assert list((tmp_path / "cache").iterdir()) == []  # neither the folder nor a partial one


def test_test_suite_cache_from_a_server_and_offline(server, tmp_path):
    """The harness's fallback when there is no shared data folder: the five pinned files,
    served here by 127.0.0.1 in the authors' layout; offline, a skip reason that says so."""
    base, root = server
    for name, entry in MANIFEST.items():
        (root / entry.path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(data_mirror() / name, root / entry.path)
    cache = tmp_path / "cache"
    assert fill_data_cache(tmp_path / "no-shared", cache, base_url=base) is None
    assert {p.name: file_sha256(p) for p in cache.iterdir()} == {
        name: entry.sha256 for name, entry in MANIFEST.items()
    }
    offline = fill_data_cache(tmp_path / "no-shared", tmp_path / "c2", _refused_url("data"))
    assert offline is not None and "offline" in offline and str(tmp_path / "c2") in offline
    assert not (tmp_path / "c2").exists()
    assert fill_data_cache(tmp_path, tmp_path / "c3", _refused_url("data")) is None  # shared
    assert not (tmp_path / "c3").exists()


# ---- the command ------------------------------------------------------------------------------
def _source(base: str, **changes) -> str:
    return json.dumps({"base_url": base, "mirror": None, "timeout": 5, **changes})


def test_cli_success_and_one_line_error(server, tmp_path, capsys):
    base, root = server
    (root / "time_series_prediction").mkdir(exist_ok=True)
    digest = _publish(root / "time_series_prediction", "tree7.csv", BLOB)
    out = tmp_path / "res" / "tree7.csv"
    argv = ["--name", "tree7.csv", "--sha256", digest, "--out", str(out)]
    # The root spelled with a trailing slash is the same root.
    assert fetch_main([*argv, "--settings", _source(base + "/")]) == 0
    assert out.read_bytes() == BLOB
    assert (tmp_path / "res" / ".sha256" / digest).read_bytes() == BLOB  # the default store
    assert "fetched from" in capsys.readouterr().out
    bad = ["--name", "tree7.csv", "--sha256", "0" * 64, "--settings", _source(base)]
    assert fetch_main([*bad, "--out", str(tmp_path / "bad" / "tree7.csv")]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("fetch: tree7.csv:") and "0" * 64 in err and digest in err
    assert not (tmp_path / "bad" / "tree7.csv").exists()


@pytest.mark.parametrize(
    "settings, pattern",
    [
        ("{not json", "not JSON"),
        ('{"mirror": null}', "needs base_url"),
        ('{"base_url": "http://127.0.0.1:9", "colour": 1}', "colour"),
    ],
)
def test_cli_bad_settings_one_line(tmp_path, capsys, settings, pattern):
    argv = ["--name", "DJI.csv", "--sha256", "0" * 64, "--settings", settings]
    assert fetch_main([*argv, "--out", str(tmp_path / "DJI.csv")]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and pattern in err
    assert list(tmp_path.iterdir()) == []


def test_cli_unknown_name(tmp_path, capsys):
    argv = ["--name", "other.csv", "--sha256", "0" * 64, "--settings", _source("http://x")]
    assert fetch_main([*argv, "--out", str(tmp_path / "o.csv")]) == 1
    assert "not in MANIFEST" in capsys.readouterr().err
