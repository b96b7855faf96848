"""Training checkpoints: a killed job resumes where it stopped, with the same bytes.

A checkpoint holds the weights, every model's data stream state and the curves so far,
stamped with the job's signature: a checkpoint of other settings is ignored.
"""

from __future__ import annotations

import numpy as np

from rnnmem.core.io import load_arrays, save_arrays


def save_checkpoint(path, job, params: dict, rngs, train_curve, eval_curve, epoch):
    """params: {name: (M, *shape)} numpy arrays, as the engines give them (`arrays()`)."""
    states = [rng.bit_generator.state["state"] for rng in rngs]
    arrays = {f"param/{k}": v for k, v in params.items()}
    arrays["rng_key"] = np.stack([s["key"] for s in states])
    arrays["rng_pos"] = np.array([s["pos"] for s in states])
    arrays["train_curve"] = train_curve
    arrays["eval_curve"] = eval_curve
    save_arrays(path, arrays, {"epoch": epoch, "signature": job.signature()})


def load_checkpoint(path, job, rngs, train_curve, eval_curve) -> tuple[int, dict | None]:
    """Restore the streams and curves in place; returns (the epoch to resume from, the
    parameters {name: (M, *shape)}), or (0, None) for a checkpoint of other settings."""
    arrays, meta = load_arrays(path)
    if meta.get("signature") != job.signature():
        return 0, None  # a checkpoint of other settings: start afresh
    params = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("param/")}
    for rng, key, pos in zip(rngs, arrays["rng_key"], arrays["rng_pos"], strict=True):
        state = {"key": key, "pos": int(pos)}
        rng.bit_generator.state = {"bit_generator": "MT19937", "state": state}
    train_curve[:] = arrays["train_curve"]
    eval_curve[:] = arrays["eval_curve"]
    return int(meta["epoch"]), params
