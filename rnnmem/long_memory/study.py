"""The long-memory study's shared vocabulary: the names its tables, statistics, claims and
figures agree on, so that those modules import this one instead of each other.

Time series: models and datasets in the paper's order, the three experiments (their datasets,
models and filter lengths), the baselines and the pairs the paper compares, the columns of
the per-seed runs table, and the sort key that puts rows in the paper's order. Review
classification: its layouts, models, metrics, pairs and runs-table columns. The study itself:
docs/studies/long-memory.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# ---------------------------------------------------------------------------------------
# Time series: models, datasets, experiments
# ---------------------------------------------------------------------------------------
MODEL_ORDER = ("rnn", "rnn2", "rwa", "mist", "mrnnf", "mrnn", "lstm", "mlstmf", "mlstm")
MODEL_LABEL = {
    "rnn": "RNN",
    "rnn2": "RNN2",
    "rwa": "RWA",
    "mist": "MIST",
    "mrnnf": "MRNNF",
    "mrnn": "MRNN",
    "lstm": "LSTM",
    "mlstmf": "MLSTMF",
    "mlstm": "MLSTM",
}
DATASET_ORDER = ("arfima", "DJI", "traffic", "tree7", "rnn_generated")
SPLIT_ORDER = ("paper", "code")
PRIMARY_SPLIT = "paper"  # the split the claims test and the figures show by default
LONG_MEMORY_DATASETS = ("arfima", "DJI", "traffic", "tree7")  # Experiments 1 and 3
GENERATED_DATASET = "rnn_generated"  # Experiment 2
EXP2_MODELS = tuple(m for m in MODEL_ORDER if m != "mist")  # the paper ran no MIST on it
SWEEP_MODELS = ("mrnnf", "mrnn", "mlstmf", "mlstm")  # Experiment 3
SWEEP_K = (25, 50, 75, 100)
MAIN_K, MAIN_H = 100, 1  # Experiments 1 and 2
BASELINES = ("rnn", "lstm", "rnn2", "rwa", "mist")
# Each memory-augmented model against the vanilla model it extends.
VANILLA_PAIRS = (("mrnnf", "rnn"), ("mrnn", "rnn"), ("mlstmf", "lstm"), ("mlstm", "lstm"))

# ---------------------------------------------------------------------------------------
# Time series: the per-seed runs table (one row per experiment and seed file)
# ---------------------------------------------------------------------------------------
METRICS = ("rmse", "mae", "mape")
JOB_KEYS = ["dataset", "split", "model", "K", "H"]
GROUP_KEYS = ["experiment"] + JOB_KEYS
RUN_COLUMNS = GROUP_KEYS + ["seed", *METRICS, "best_epoch", "stop_epoch", "epochs_run"]
RUN_COLUMNS += ["diverged", "snapshot_rule"]

# ---------------------------------------------------------------------------------------
# Review classification
# ---------------------------------------------------------------------------------------
REVIEW_LAYOUT_ORDER = ("authors", "transpose")
REVIEW_PRIMARY_LAYOUT = "authors"  # the reference's reshape; `transpose` is our extra
REVIEW_MODEL_ORDER = ("rnn", "lstm", "mrnnf", "mlstmf")
REVIEW_PAIRS = (("mrnnf", "rnn"), ("mlstmf", "lstm"))  # memory model vs its baseline
REVIEW_METRICS = ("accuracy", "precision", "recall", "f1", "loss")
REVIEW_KEYS = ["layout", "model", "label", "K", "H"]
REVIEW_RUN_COLUMNS = REVIEW_KEYS + ["seed", *REVIEW_METRICS, "best_epoch", "best_val_loss"]
REVIEW_RUN_COLUMNS += ["majority_accuracy", "n_params", "device"]


# ---------------------------------------------------------------------------------------
# Order and the seeds a statistic uses
# ---------------------------------------------------------------------------------------
def rank(order, value) -> tuple:
    """Sort key: known values in the paper's order, unknown ones after them, alphabetically."""
    return (order.index(value), "") if value in order else (len(order), str(value))


ORDERS = {"dataset": DATASET_ORDER, "model": MODEL_ORDER, "split": SPLIT_ORDER}


def _sort_key(column: pd.Series) -> pd.Series:
    order = ORDERS.get(column.name)
    if order is None:
        return column
    ranks = {v: i for i, v in enumerate(sorted(column.unique(), key=lambda v: rank(order, v)))}
    return column.map(ranks)


def sort_table(frame: pd.DataFrame, extra=()) -> pd.DataFrame:
    """Rows in the paper's order: experiment, dataset, split, model, K, H, then `extra`."""
    keys = [k for k in GROUP_KEYS + list(extra) if k in frame.columns]
    if frame.empty or not keys:
        return frame.reset_index(drop=True)
    return frame.sort_values(keys, key=_sort_key, kind="stable").reset_index(drop=True)


def finite(values) -> np.ndarray:
    """The finite values, as float64: statistics leave out a diverged seed's NaN or inf."""
    values = np.asarray(values, dtype=np.float64)
    return values[np.isfinite(values)]
