"""reviews/metrics.py on hand-made predictions, against hand-worked values and scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score

from rnnmem.long_memory.reviews.metrics import classification_metrics, predictions
from rnnmem.long_memory.study import REVIEW_METRICS


def _logp(pred, n_classes=5, margin=2.0):
    """Log-probabilities whose argmax is `pred`."""
    z = np.zeros((len(pred), n_classes))
    z[np.arange(len(pred)), pred] = margin
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def test_hand_worked_example():
    y = np.array([0, 0, 1, 2, 2, 2])
    pred = np.array([0, 1, 1, 2, 2, 0])
    m = classification_metrics(y, _logp(pred, n_classes=3))
    assert m["accuracy"] == pytest.approx(4 / 6)
    # per class: precision 1/2, 1/2, 1; recall 1/2, 1, 2/3; F1 1/2, 2/3, 4/5
    assert m["precision"] == pytest.approx((0.5 + 0.5 + 1) / 3)
    assert m["recall"] == pytest.approx((0.5 + 1 + 2 / 3) / 3)
    assert m["f1"] == pytest.approx((0.5 + 2 / 3 + 0.8) / 3)
    logp = _logp(pred, n_classes=3)
    assert m["loss"] == pytest.approx(-np.mean(logp[np.arange(6), y]))


def test_class_never_predicted_counts_zero():
    y = np.array([0, 1, 2, 3, 4, 4])
    pred = np.array([4, 4, 4, 4, 4, 4])  # classes 0..3 never predicted: precision 0 there
    m = classification_metrics(y, _logp(pred))
    assert m["precision"] == pytest.approx((2 / 6) / 5)
    assert m["recall"] == pytest.approx(1 / 5)
    assert m["accuracy"] == pytest.approx(2 / 6)


@pytest.mark.parametrize("trial", range(5))
def test_against_sklearn(trial):
    rng = np.random.default_rng(trial)
    y = rng.integers(0, 5, 50)
    logits = rng.normal(size=(50, 5))
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    pred = logp.argmax(axis=1)
    m = classification_metrics(y, logp)
    kw = dict(average="macro", zero_division=0)
    assert m["precision"] == precision_score(y, pred, **kw)
    assert m["recall"] == recall_score(y, pred, **kw)
    assert m["f1"] == f1_score(y, pred, **kw)
    assert m["accuracy"] == np.mean(pred == y)
    assert m["accuracy"] * 50 == pytest.approx(round(m["accuracy"] * 50))  # steps of 0.02


def test_argmax_ties_take_the_lowest_class():
    np.testing.assert_array_equal(
        predictions(np.array([[0.0, 0.0, -1.0], [-1.0, 0.0, 0.0]])), [0, 1]
    )


def test_shape_mismatch():
    with pytest.raises(ValueError):
        classification_metrics(np.array([0, 1]), np.zeros((3, 5)))


def test_metric_names_are_the_runs_table_columns():
    y = np.array([0, 1, 1])
    assert tuple(classification_metrics(y, _logp(y, n_classes=2))) == REVIEW_METRICS
