"""Test metrics of the review classifiers (long-memory.md §11.3).

For true labels y [M] and log-probabilities log p [M, C] of one seed:

    prediction  yhat_m = argmax_c log p[m, c]        (ties: the lowest class, as torch.argmax)
    accuracy    = mean_m [yhat_m == y_m]
    precision, recall, F1: scikit-learn, average="macro", zero_division=0, over the classes
                that occur in y or yhat (scikit-learn's default `labels`, as the reference
                calls it); a class never predicted has precision 0; F1 is the mean of the
                per-class F1 values, not the F1 of the mean precision and recall
    loss        = -mean_m log p[m, y_m]               (the mean cross-entropy, in float64)
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, precision_recall_fscore_support


def predictions(logp: np.ndarray) -> np.ndarray:
    """argmax over the last axis (the first of equal maxima), int64."""
    return np.argmax(np.asarray(logp), axis=-1).astype(np.int64)


def classification_metrics(y_true: np.ndarray, logp: np.ndarray) -> dict[str, float]:
    """accuracy, macro precision / recall / F1 and mean cross-entropy of one seed (the keys
    are rnnmem.long_memory.study.REVIEW_METRICS, the columns of the runs table)."""
    y_true = np.asarray(y_true, dtype=np.int64)
    logp = np.asarray(logp, dtype=np.float64)
    if logp.ndim != 2 or logp.shape[0] != y_true.shape[0]:
        raise ValueError(f"logp {logp.shape} does not match {y_true.shape[0]} labels")
    y_pred = predictions(logp)
    precision, recall, f1, _ = precision_recall_fscore_support(
        y_true, y_pred, average="macro", zero_division=0
    )
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "loss": float(-np.mean(logp[np.arange(y_true.shape[0]), y_true])),
    }
