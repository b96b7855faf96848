"""The smoke tier through a real (single-node) Slurm cluster gives the same results as a
local run, and GPU-tagged jobs get GPUs from Slurm.

tests/slurm/slurm-up.sh starts slurmctld, slurmd and munged with 2 fake GPUs (GRES);
the pipeline then runs with `--workflow-profile workflow/profiles/slurm-ci` in one copy
of the repository and with `--cores 2` in another, and the test compares them.

Needs root and, on the first run, the Debian packages slurmctld, slurmd, slurm-client
and munge (slurm-up.sh installs them). It runs unless RNNMEM_SKIP_SLURM=1; when the
cluster cannot be brought up, it FAILS (it never skips silently).

Environment (all optional):
  RNNMEM_SKIP_SLURM=1       skip this module
  RNNMEM_SLURM_DIR          cluster state dir (default /tmp/rnnmem-slurm)
  RNNMEM_SLURM_GPUS         fake GPUs (default 2; the test needs >= 2)
  RNNMEM_SLURM_TIMEOUT      seconds allowed per pipeline run (default 1800)
  RNNMEM_SLURM_WORKFLOW     workflow tree to copy and run (default: this repository)
  RNNMEM_SLURM_CONFIGFILE   --configfile for both runs (default config/smoke.yaml;
                            empty: none)
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import mirror_section

REPO = Path(__file__).resolve().parents[2]
SLURM_SCRIPTS = REPO / "tests" / "slurm"

pytestmark = pytest.mark.skipif(
    os.environ.get("RNNMEM_SKIP_SLURM") == "1",
    reason="RNNMEM_SKIP_SLURM=1: Slurm integration test switched off",
)

SLURM_DIR = Path(os.environ.get("RNNMEM_SLURM_DIR", "/tmp/rnnmem-slurm"))
N_GPUS = int(os.environ.get("RNNMEM_SLURM_GPUS", "2"))
TIMEOUT = int(os.environ.get("RNNMEM_SLURM_TIMEOUT", "1800"))
WORKFLOW = Path(os.environ.get("RNNMEM_SLURM_WORKFLOW", str(REPO))).resolve()
CONFIGFILE = os.environ.get("RNNMEM_SLURM_CONFIGFILE", "config/smoke.yaml")
SLURM_LONG_MEMORY = {
    "experiment1": {"datasets": ["traffic"], "models": ["rnn", "mrnn"], "seeds": 2},
    "experiment2": {"models": ["mlstm"], "seeds": 2},
    "experiment3": {"enabled": False},
    "reviews": {"enabled": False},  # its rules run in tests/workflow (CI time)
}
# The venv running pytest also runs snakemake and the jobs (`python -m rnnmem`).
VENV = Path(sys.prefix)


def _env() -> dict[str, str]:
    """Environment for the scripts and both runs: the venv first on PATH, so that the
    jobs' `python` is the venv's (sbatch exports the submitting environment)."""
    env = dict(os.environ)
    env["PATH"] = f"{VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["RNNMEM_SLURM_DIR"] = str(SLURM_DIR)
    env["RNNMEM_SLURM_GPUS"] = str(N_GPUS)
    env["RNNMEM_SLURM_PARTITION"] = "main"  # the partition workflow/profiles/slurm-ci names
    # A CI job that itself runs under Slurm must not leak its job ids into ours.
    for key in [k for k in env if k.startswith("SLURM_")]:
        del env[key]
    return env


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError as err:
        return f"<{path}: {err}>"
    return f"--- {path} (last {lines} lines)\n" + "\n".join(text[-lines:])


def _cluster_diagnostics() -> str:
    parts = [_tail(SLURM_DIR / "log" / "slurmctld.log"), _tail(SLURM_DIR / "log" / "slurmd.log")]
    for cmd in (["sinfo", "-N", "-l"], ["squeue", "-l"]):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=10, env=_env())
            parts.append(f"--- {' '.join(cmd)}\n{out.stdout}{out.stderr}")
        except (OSError, subprocess.SubprocessError) as err:
            parts.append(f"--- {' '.join(cmd)}: {err}")
    return "\n".join(parts)


@pytest.fixture(scope="module")
def slurm_cluster():
    """A running single-node Slurm; its daemons are stopped (by pid) afterwards."""
    try:
        up = subprocess.run(
            [str(SLURM_SCRIPTS / "slurm-up.sh")],
            capture_output=True,
            text=True,
            timeout=600,
            env=_env(),
        )
        if up.returncode != 0:
            pytest.fail(
                "could not bring up the test Slurm cluster (set RNNMEM_SKIP_SLURM=1 to "
                f"skip this test on purpose)\n--- slurm-up.sh rc={up.returncode}\n"
                f"{up.stdout}\n{up.stderr}\n{_cluster_diagnostics()}",
                pytrace=False,
            )
        yield SLURM_DIR
    finally:
        down = subprocess.run(
            [str(SLURM_SCRIPTS / "slurm-down.sh")],
            capture_output=True,
            text=True,
            timeout=120,
            env=_env(),
        )
        print(down.stdout, down.stderr, sep="\n")


def _copy_tree(dest: Path) -> Path:
    """Tracked plus untracked-but-not-ignored files of WORKFLOW (no results/, logs/,
    .snakemake/ of a developer's checkout), and a link to the venv."""
    listing = subprocess.run(
        ["git", "-C", str(WORKFLOW), "ls-files", "-co", "--exclude-standard", "-z"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for rel in filter(None, listing.split("\0")):
        src = WORKFLOW / rel
        if src.is_file():  # the index may list files deleted in the work tree
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    (dest / ".venv").symlink_to(VENV, target_is_directory=True)
    # The long-memory data from the local mirror, and a smaller long-memory grid (every
    # rule family, few jobs: each Slurm job costs seconds of submission and polling).
    (dest / "test-long-memory.yaml").write_text(
        json.dumps({"long_memory": {**mirror_section(), **SLURM_LONG_MEMORY}})
    )
    return dest


@dataclass
class Run:
    name: str
    workdir: Path
    returncode: int | None = None
    output: str = ""

    def diagnostics(self) -> str:
        parts = [f"=== {self.name} run in {self.workdir}: rc={self.returncode}"]
        if self.returncode in (124, 137):
            parts.append(f"!!! timed out after {TIMEOUT} s (RNNMEM_SLURM_TIMEOUT)")
        parts.append("--- snakemake output (last 150 lines)")
        parts.append("\n".join(self.output.splitlines()[-150:]))
        slurm_logs = sorted((self.workdir / ".snakemake" / "slurm_logs").rglob("*.log"))
        failed = [p for p in slurm_logs if "Error" in p.read_text(errors="replace")]
        for log in (failed or slurm_logs)[-5:]:
            parts.append(_tail(log, 30))
        return "\n".join(parts)


def _snakemake(workdir: Path, *args: str) -> list[str]:
    cmd = [
        # SIGINT, not SIGTERM: on SIGTERM snakemake waits for its Slurm jobs to finish;
        # on SIGINT it cancels them and exits.
        "timeout",
        "-s",
        "INT",
        "-k",
        "30",
        str(TIMEOUT),
        ".venv/bin/snakemake",
        *args,
    ]
    if CONFIGFILE:
        cmd += ["--configfile", CONFIGFILE, "test-long-memory.yaml"]
    return cmd


def _execute(run: Run, cmd: list[str]) -> None:
    proc = subprocess.run(
        cmd,
        cwd=run.workdir,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    run.returncode, run.output = proc.returncode, proc.stdout
    (run.workdir.parent / f"{run.name}.snakemake.out").write_text(proc.stdout)


@pytest.fixture(scope="module")
def runs(slurm_cluster, tmp_path_factory):
    """The same workflow run through Slurm and locally, side by side (the local run
    fills the time Snakemake spends polling Slurm)."""
    slurm = Run("slurm", _copy_tree(tmp_path_factory.mktemp("slurm") / "repo"))
    local = Run("local", _copy_tree(tmp_path_factory.mktemp("local") / "repo"))
    profile = ["--workflow-profile", "workflow/profiles/slurm-ci"]
    thread = threading.Thread(target=_execute, args=(slurm, _snakemake(slurm.workdir, *profile)))
    thread.start()
    try:
        _execute(local, _snakemake(local.workdir, "--cores", "2"))
    finally:
        thread.join()
    print(f"slurm run: {slurm.workdir}\nlocal run: {local.workdir}")
    return {"slurm": slurm, "local": local}


def _assert_complete(run: Run) -> None:
    diag = lambda: f"{run.diagnostics()}\n{_cluster_diagnostics()}"  # noqa: E731
    assert run.returncode == 0, f"{run.name} run failed\n{diag()}"
    assert "(100%) done" in run.output, f"{run.name} run did not finish all steps\n{diag()}"
    # Nothing left to do: every job's outputs exist and are complete.
    dry = subprocess.run(
        _snakemake(run.workdir, "-n", "--cores", "1"),
        cwd=run.workdir,
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert dry.returncode == 0 and "Nothing to be done" in dry.stdout + dry.stderr, (
        f"{run.name} run left jobs to do:\n{dry.stdout}\n{dry.stderr}"
    )


def test_local_run_completes(runs):
    _assert_complete(runs["local"])


def test_slurm_run_completes(runs):
    run = runs["slurm"]
    _assert_complete(run)
    slurm_logs = list((run.workdir / ".snakemake" / "slurm_logs").rglob("*.log"))
    assert slurm_logs, (
        f"no job went through Slurm (.snakemake/slurm_logs empty)\n{run.diagnostics()}"
    )


def _device_records(run: Run) -> dict[str, dict]:
    return {
        str(p.relative_to(run.workdir)): json.loads(p.read_text())
        for p in sorted((run.workdir / "logs").glob("**/*.device.json"))
    }


def test_gpu_jobs_get_slurm_gpus(runs):
    assert N_GPUS >= 2, "RNNMEM_SLURM_GPUS must be >= 2 to check concurrent GPU jobs"
    slurm = runs["slurm"]
    every = _device_records(slurm)
    # Every job of the local run that writes a record has it in the Slurm run too.
    assert set(every) == set(_device_records(runs["local"])), "device records differ between runs"
    # The GPU-tagged jobs' records (CPU-only jobs, such as the long-memory training, record
    # their seconds and work for the cost planner, and ask for no GPU).
    records = {p: rec for p, rec in every.items() if rec.get("gpus_requested", 0) >= 1}
    assert records, f"no GPU-tagged job's device record under Slurm\n{slurm.diagnostics()}"
    fake_ids = {str(i) for i in range(N_GPUS)}
    for path, rec in records.items():
        assert rec.get("slurm_job_id"), f"{path}: not run as a Slurm job: {rec}"
        assert rec.get("cuda_visible_devices") in fake_ids, (
            f"{path}: Slurm gave no GPU (CUDA_VISIBLE_DEVICES not in {sorted(fake_ids)}): {rec}"
        )
    seen = {rec["cuda_visible_devices"] for rec in records.values()}
    print(f"CUDA_VISIBLE_DEVICES seen under Slurm: {sorted(seen)} in {len(records)} jobs")
    assert len(seen) >= 2, (
        f"all {len(records)} GPU jobs saw CUDA_VISIBLE_DEVICES={seen}; expected concurrent "
        "jobs on distinct fake GPUs"
    )


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_results_identical_to_local_run(runs):
    slurm = _hashes(runs["slurm"].workdir / "results")
    local = _hashes(runs["local"].workdir / "results")
    assert slurm, "the Slurm run wrote nothing under results/"
    assert sorted(slurm) == sorted(local), (
        f"different files: only under Slurm {sorted(set(slurm) - set(local))}, "
        f"only local {sorted(set(local) - set(slurm))}"
    )
    differ = [p for p in slurm if slurm[p] != local[p]]
    assert not differ, f"{len(differ)} of {len(slurm)} results differ (sha256): {differ}"
