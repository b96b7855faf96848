"""The work of a long-memory time-series training job (the cost planner's unit, in its record).

A job's runtime is proportional to seeds x epochs x steps x the model's multiply-adds per
step. Steps per epoch count the forward pass over the training and validation steps and the
backward pass over the training steps as twice the forward (3 n_train + n_val). The
multiply-adds per step are the model's products (long-memory.md §3; cells.py lists the
shapes), plus K per filtered input or cell for the filtered models (rnn2, mrnnf, mrnn,
mlstmf, mlstm; twice for mrnn and mlstm, whose filter weights change every step). Biases,
gates and transcendental functions are not counted: models differ in them, so the planner
fits each model apart (cost family "train-long-memory:<model>").

Time-series jobs (Experiments 1-3, the sensitivity grid) count their epochs at max_epochs:
early stopping ends seeds sooner, which the planner's fit on finished jobs absorbs.

The review jobs' work is rnnmem/long_memory/reviews/cost.py's (their records use it).

Imports neither torch nor numba: the planner and the jobs both read it.
"""

from __future__ import annotations

from rnnmem.long_memory.data import split_for

WORK_UNIT = "madd"  # multiply-adds


def step_madds(model: str, K: int, H: int) -> int:
    """Multiply-adds of one forward step of a time-series model (p = q = 1)."""
    dense = {
        "rnn": H * (1 + H) + H,
        "lstm": 4 * H * (1 + H) + H,
        "rwa": H + 2 * H * (1 + H) + H,
        "mist": 8 * (1 + H) + H * (1 + H) + H * H + H + 8 * H + H,
        "rnn2": 2 * H * H + 4 * H,
        "mrnnf": 2 * H * H + 4 * H,
        "mrnn": 2 * H * H + 6 * H + 2,
        "mlstmf": 3 * H * (1 + H) + H,
        "mlstm": 3 * H * (1 + H) + H * (1 + 2 * H) + H,
    }
    filtered = {"rnn2": K, "mrnnf": K, "mrnn": 2 * K, "mlstmf": K * H, "mlstm": 2 * K * H}
    if model not in dense:
        raise ValueError(f"unknown model {model!r}; expected one of {sorted(dense)}")
    return dense[model] + filtered.get(model, 0)


def train_work(settings: dict) -> float:
    """Work of a time-series training job from its --settings (dataset, split, model, K, H,
    seeds, max_epochs): seeds x max_epochs x (3 n_train + n_val) x step_madds."""
    n_train, n_val, _ = split_for(settings["dataset"], settings["split"])
    steps = 3 * n_train + n_val
    per_step = step_madds(settings["model"], settings["K"], settings["H"])
    return float(len(settings["seeds"]) * settings["max_epochs"] * steps * per_step)


def train_family(model: str) -> str:
    return f"train-long-memory:{model}"
