"""fetch: downloads from a real HTTP server on 127.0.0.1, mirror copies, and every failure path."""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import socket
import threading
import time
from pathlib import Path

import pytest

from rnnmem.long_memory.fetch import _COMMIT, MANIFEST, FetchError, fetch, fetch_main

SLOW_S = 1.5  # the /slow/ handler's delay; the client's timeout is far below it


def data_dir() -> Path:
    env = os.environ.get("RNNMEM_DATA_MIRROR")
    return (
        Path(env)
        if env
        else Path(__file__).resolve().parents[3] / "shared" / "data" / "long-memory"
    )


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


def test_existing_good_dest_survives_failed_fetch(server, tmp_path):
    base, root = server
    good = hashlib.sha256(BLOB).hexdigest()
    _publish(root, "flaky.csv", BLOB[::-1])  # wrong content
    dest = tmp_path / "flaky.csv"
    dest.write_bytes(BLOB)
    before = dest.stat()
    for url in (f"{base}/flaky.csv", f"{base}/gone.csv", f"{base}/lying/flaky.csv"):
        with pytest.raises(FetchError):
            fetch("flaky.csv", dest, url, good)
    assert dest.read_bytes() == BLOB
    assert dest.stat().st_ino == before.st_ino and dest.stat().st_mtime_ns == before.st_mtime_ns
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flaky.csv"]


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
    """Every MANIFEST entry (sha256 and size) verifies against the shared data folder."""
    folder = data_dir()
    if not (folder / "DJI.csv").exists():
        pytest.skip(f"no shared data at {folder}")
    assert set(MANIFEST) == {"arfima.csv", "DJI.csv", "traffic.csv", "tree7.csv", "reviews.json"}
    for name, entry in MANIFEST.items():
        assert (folder / name).stat().st_size == entry.size
        fetch(name, tmp_path / name, entry.url, entry.sha256, mirror=folder)
        assert hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() == entry.sha256
        assert entry.url.startswith("https://raw.githubusercontent.com/huawei-noah/noah-research/")
        assert f"/{_COMMIT}/mRNN-mLSTM/data/" in entry.url and entry.url.endswith("/" + name)


def test_manifest_size_catches_a_truncated_real_file(tmp_path):
    """With MANIFEST's hash the size check is on without an explicit size."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "tree7.csv").write_bytes(b"x\r\n0.682\r\n")
    with pytest.raises(FetchError, match="truncated") as info:
        fetch("tree7.csv", tmp_path / "tree7.csv", None, None, mirror=mirror)
    assert str(MANIFEST["tree7.csv"].size) in str(info.value)


def test_cli_success_and_one_line_error(server, tmp_path, capsys):
    base, root = server
    digest = _publish(root, "cli.csv", BLOB)
    out = tmp_path / "cli.csv"
    argv = ["--name", "cli.csv", "--url", f"{base}/cli.csv", "--sha256", digest, "--out", str(out)]
    assert fetch_main(argv) == 0
    assert out.read_bytes() == BLOB
    bad = ["--name", "cli.csv", "--url", f"{base}/cli.csv", "--sha256", "0" * 64]
    assert fetch_main(bad + ["--out", str(tmp_path / "bad.csv")]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("fetch: cli.csv:") and "0" * 64 in err and digest in err
    assert not (tmp_path / "bad.csv").exists()
