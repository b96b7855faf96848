"""Workflow tests of the fetch rules: data keyed by content, real Snakemake runs in a copy of
the repository with only the fetch rules (and one consumer) as targets. The network is a
local HTTP server on 127.0.0.1; "unreachable" is a port of 127.0.0.1 with no listener.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import shutil
import socket
import threading
from pathlib import Path

import pytest
import yaml
from conftest import copy_repo, data_mirror, planned_jobs, snakemake

from rnnmem.long_memory.fetch import MANIFEST

pytestmark = pytest.mark.workflow

RES = "resources/long_memory"
STORE = f"{RES}/.sha256"
LOGS = "logs/long_memory"
COUNTS = "results/long_memory/reviews/data/counts.json"  # embed_reviews: reads reviews.json


def source_args(work: Path, source: dict | None) -> list[str]:
    """The smoke tier, plus a config file giving long_memory.source (None: left out).

    A file, not --config: Snakemake reads --config values as YAML strings (null -> "null").
    """
    if source is None:
        return ["--configfile", "config/smoke.yaml"]
    extra = work / "source.yaml"
    extra.write_text(yaml.safe_dump({"long_memory": {"source": source}}))
    return ["--configfile", "config/smoke.yaml", str(extra)]


def run(work: Path, targets, source: dict | None, *args, check=True):
    return snakemake(work, *targets, "--cores", "1", *args, *source_args(work, source), check=check)


def planned(work: Path, targets, source: dict | None) -> dict[str, int]:
    return planned_jobs(work, *targets, *source_args(work, source))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def unreachable() -> dict:
    """A source whose every download is refused: a port of 127.0.0.1 that was just free."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return {"mirror": None, "base_url": f"http://127.0.0.1:{port}", "timeout": 5}


@pytest.fixture
def mirrored(tmp_path) -> Path:
    """A repository copy with the pinned files in ./mirror-data (a relative mirror)."""
    work = copy_repo(tmp_path / "repo")
    shutil.copytree(data_mirror(), work / "mirror-data")
    return work


@pytest.fixture
def server(tmp_path):
    """A local HTTP server on 127.0.0.1 serving tmp_path/site as the authors' data folder."""
    site = tmp_path / "site" / "time_series_prediction"
    site.mkdir(parents=True)
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "site")
    )
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield site, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_download_good_corrupted_and_missing(tmp_path, server):
    site, url = server
    mirror = data_mirror()
    work = copy_repo(tmp_path / "repo")
    shutil.copy(mirror / "tree7.csv", site / "tree7.csv")
    corrupted = bytearray((mirror / "arfima.csv").read_bytes())
    corrupted[100] ^= 1
    (site / "arfima.csv").write_bytes(bytes(corrupted))
    source = {"mirror": None, "base_url": url, "timeout": 10}

    good = f"{RES}/tree7.csv"
    run(work, [good], source)
    assert (work / good).read_bytes() == (mirror / "tree7.csv").read_bytes()

    for name, reason in (("arfima.csv", "sha256"), ("DJI.csv", "404")):
        out = run(work, [f"{RES}/{name}"], source, check=False)
        assert out.returncode != 0
        log = (work / LOGS / f"fetch_{name.split('.')[0]}.log").read_text()
        assert name in log and reason in log, log
        if reason == "sha256":  # both hashes named
            assert MANIFEST[name].sha256 in log
        leftovers = sorted(p.name for p in (work / RES).iterdir())
        assert leftovers == [".sha256", "tree7.csv"], leftovers  # nothing that looks complete
        assert [p.name for p in (work / STORE).iterdir()] == [MANIFEST["tree7.csv"].sha256]


def test_source_spelled_another_way_plans_nothing(mirrored):
    files = [f"{RES}/{name}" for name in MANIFEST]
    run(mirrored, files, {"mirror": "mirror-data"})
    before = {name: (mirrored / RES / name).stat().st_mtime_ns for name in MANIFEST}
    absolute = str(mirrored / "mirror-data")
    for source in (
        {"mirror": absolute},
        {"mirror": "mirror-data/"},
        {"mirror": absolute + "/", "timeout": 5},
        {"mirror": None, "base_url": "https://example.invalid/data/"},
        None,  # left out: the schema's defaults
    ):
        assert planned(mirrored, files, source) == {}, source
    assert {name: (mirrored / RES / name).stat().st_mtime_ns for name in MANIFEST} == before
    # The planner is not blind: a missing file is a job.
    (mirrored / RES / "DJI.csv").unlink()
    assert planned(mirrored, files, None) == {"fetch_long_memory_DJI": 1}


def test_forced_rerun_offline_keeps_the_verified_bytes(mirrored):
    target = f"{RES}/arfima.csv"
    pinned = MANIFEST["arfima.csv"].sha256
    run(mirrored, [target], {"mirror": "mirror-data"})
    # Snakemake deletes the output before a forced rerun; the store brings the bytes back
    # without reading the (unreachable) source.
    run(mirrored, [target], unreachable(), "--forcerun", "fetch_long_memory_arfima")
    assert sha256(mirrored / target) == pinned
    assert "restored from" in (mirrored / LOGS / "fetch_arfima.log").read_text()
    # Without the stored copy a forced rerun needs the source: it fails naming the file and
    # the source, and leaves nothing that looks complete.
    (mirrored / STORE / pinned).unlink()
    source = unreachable()
    out = run(mirrored, [target], source, "--forcerun", "fetch_long_memory_arfima", check=False)
    assert out.returncode != 0
    log = (mirrored / LOGS / "fetch_arfima.log").read_text().strip()
    assert len(log.splitlines()) == 1 and log.startswith("fetch: arfima.csv:")
    assert source["base_url"] in log and "refused" in log.lower()
    assert not (mirrored / target).exists() and list((mirrored / STORE).iterdir()) == []


def test_consumer_verifies_and_a_restore_replans_no_consumer(mirrored):
    reviews = mirrored / RES / "reviews.json"
    run(mirrored, [COUNTS], {"mirror": "mirror-data"})
    # A forced fetch in a later call restores the same bytes: the consumer stays done.
    force = ["--forcerun", "fetch_long_memory_reviews"]
    run(mirrored, [f"{RES}/reviews.json"], unreachable(), *force)
    assert sha256(reviews) == MANIFEST["reviews.json"].sha256
    assert planned(mirrored, [COUNTS], None) == {}
    # reviews.json truncated after its fetch: the consumer fails in one line that names the
    # file and the fix, and the fetch is not rerun behind the user's back.
    reviews.write_bytes(reviews.read_bytes()[:5000])
    assert planned(mirrored, [COUNTS], None) == {"embed_reviews": 1}
    out = run(mirrored, [COUNTS], None, check=False)
    assert out.returncode != 0
    log = (mirrored / LOGS / "reviews" / "embed.log").read_text().strip()
    assert len(log.splitlines()) == 1, log
    assert f"{RES}/reviews.json" in log and "delete it and rerun" in log
    assert MANIFEST["reviews.json"].sha256 in log
    # The fix as it says: delete it and rerun; offline, the store has the bytes.
    reviews.unlink()
    run(mirrored, [f"{RES}/reviews.json"], unreachable())
    assert sha256(reviews) == MANIFEST["reviews.json"].sha256
