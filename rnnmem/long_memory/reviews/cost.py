"""The work of a review training job (long-memory.md §11): what its runtime is proportional
to, in multiply-adds of the products (the cost planner's unit, in every job's device record).

Per seed and epoch a job runs the forward pass over the n_train training reviews and their
backward pass (counted as twice the forward: 3 n_train), and the forward pass over the n_val
validation reviews; once at the end, the forward pass over the n_test test reviews. Each
review counts seq_len steps (the engine runs only the steps up to a review's length index:
on the study's reviews about three quarters of them, a constant a planner's fit absorbs).

A step's multiply-adds (review_step_madds, one column) are the model's products (params.py
lists the shapes; p the embedding size, H the hidden size): the first layer, its input
filter or cell history for MRNNF and MLSTMF (K per filtered input or cell), and the second
layer, an LSTM cell H -> H. Biases, gates, activations and the classifier (read once per
review) are not counted: models differ in them, so a planner fits each model apart.

Imports neither torch nor numba: a planner reads it without them.
"""

from __future__ import annotations

WORK_UNIT = "madd"  # multiply-adds


def review_step_madds(model: str, p: int, H: int, K: int) -> int:
    """Multiply-adds of one column's forward step of a review model."""
    first = {
        "rnn": H * (p + H),  # W_ih x + W_hh h
        "lstm": 4 * H * (p + H),
        "mrnnf": 2 * H * (p + H) + 2 * H * H + K * p,  # m and h, W_hz h + W_mz m, the filter
        "mlstmf": 3 * H * (p + H) + H * H + K * H,  # i, o, c~; W_y h; the cell history
    }
    if model not in first:
        raise ValueError(f"unknown review model {model!r}; expected one of {sorted(first)}")
    return first[model] + 4 * H * (H + H)


def review_work(settings: dict, p: int) -> float:
    """Work of a review training job from its --settings (reviews/jobs.py ReviewJob: model, K,
    hidden, seq_len, split_sizes, seeds, training.epochs) and the embedding size p:
    seeds x (epochs x (3 n_train + n_val) + n_test) x seq_len x review_step_madds."""
    n_train, n_val, n_test = (int(n) for n in settings["split_sizes"])
    reviews = settings["training"]["epochs"] * (3 * n_train + n_val) + n_test
    per_step = review_step_madds(settings["model"], p, settings["hidden"], settings["K"])
    return float(len(settings["seeds"]) * reviews * settings["seq_len"] * per_step)
