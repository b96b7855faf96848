"""Device choice for GPU-tagged jobs, and the thread/determinism settings of every job."""

from __future__ import annotations

import os
import sys

import torch


def configure_torch(threads: int = 1, deterministic: bool = True) -> None:
    """Fixed thread count and deterministic kernels: same job, same machine, same bytes."""
    torch.set_num_threads(threads)
    # The flag torch.use_deterministic_algorithms sets, without its import of
    # torch._inductor (about 2 s per job; nothing here is compiled).
    torch._C._set_deterministic_algorithms(deterministic)
    # Deterministic mode would also NaN-fill every new tensor: pure cost, no effect on results.
    torch.utils.deterministic.fill_uninitialized_memory = False
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def select_device(gpus: int) -> torch.device:
    """CUDA when the job was given a GPU (gpus >= 1) and one is visible, else the CPU.

    A job given a GPU that cannot see one says so on stderr and runs on the CPU.
    """
    if gpus >= 1:
        if torch.cuda.is_available():
            return torch.device("cuda")
        print(
            f"rnnmem: job was given gpu={gpus} but no CUDA device is visible "
            f"(CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES')!r}); "
            "falling back to the CPU",
            file=sys.stderr,
        )
    return torch.device("cpu")


def device_record(device: torch.device, gpus: int) -> dict:
    """What a job ran on, for its log (not its results: results must match across hosts)."""
    record = {
        "device": str(device),
        "gpus_requested": gpus,
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
        "torch_threads": torch.get_num_threads(),
    }
    if device.type == "cuda":
        record["gpu_name"] = torch.cuda.get_device_name(device)
    return record


def device_label(device: torch.device) -> str:
    """The device as results record it: 'cpu' or the GPU model."""
    if device.type == "cuda":
        return "cuda:" + torch.cuda.get_device_name(device)
    return "cpu"
