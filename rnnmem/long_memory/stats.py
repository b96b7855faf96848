"""Significance tests (docs/studies/long-memory.md §6.5, A8): two-sample t-tests of test RMSE.

Per (experiment, dataset, split, K, H), with the 100 (or n) per-seed RMSEs of each model:

* `vs_vanilla`: MRNNF and MRNN against RNN, MLSTMF and MLSTM against LSTM;
* `vs_best_baseline`: every other model against the baseline (rnn, lstm, rnn2, rwa, mist)
  with the lowest mean RMSE.

Each row: Welch's t with its two-sided p and the one-sided p for H1 "the model's mean RMSE
is lower" (the primary test of long-memory.md A8), and the pooled-variance t with its
two-sided p (scipy).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from rnnmem.long_memory.study import (
    BASELINES,
    GROUP_KEYS,
    MODEL_ORDER,
    VANILLA_PAIRS,
    finite,
    rank,
    sort_table,
)

TTEST_COLUMNS = GROUP_KEYS[:3] + ["K", "H", "comparison", "model", "baseline"]
TTEST_COLUMNS += ["n_model", "n_baseline", "mean_model", "mean_baseline", "diff"]
TTEST_COLUMNS += ["welch_t", "welch_p", "welch_p_less", "pooled_t", "pooled_p"]


def compare(model_rmse, baseline_rmse) -> dict:
    """Two-sample t-tests of model vs baseline RMSE (finite values; NaN if n < 2 in either)."""
    a, b = finite(model_rmse), finite(baseline_rmse)
    row = {"n_model": len(a), "n_baseline": len(b)}
    row["mean_model"] = float(a.mean()) if len(a) else np.nan
    row["mean_baseline"] = float(b.mean()) if len(b) else np.nan
    row["diff"] = row["mean_model"] - row["mean_baseline"]
    nan = {k: np.nan for k in ("welch_t", "welch_p", "welch_p_less", "pooled_t", "pooled_p")}
    if len(a) < 2 or len(b) < 2:
        return row | nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # zero variance in both: NaN
        welch = stats.ttest_ind(a, b, equal_var=False)
        less = stats.ttest_ind(a, b, equal_var=False, alternative="less")
        pooled = stats.ttest_ind(a, b, equal_var=True)
    return row | {
        "welch_t": float(welch.statistic),
        "welch_p": float(welch.pvalue),
        "welch_p_less": float(less.pvalue),
        "pooled_t": float(pooled.statistic),
        "pooled_p": float(pooled.pvalue),
    }


def best_baseline(group: pd.DataFrame) -> str | None:
    """The baseline (rnn, lstm, rnn2, rwa, mist) with the lowest mean finite RMSE."""
    means = {
        m: finite(group.loc[group["model"] == m, "rmse"]).mean()
        for m in BASELINES
        if len(finite(group.loc[group["model"] == m, "rmse"]))
    }
    return min(means, key=lambda m: (means[m], MODEL_ORDER.index(m))) if means else None


def ttests(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (experiment, dataset, split, K, H): rows `vs_vanilla` (mrnnf, mrnn vs rnn; mlstmf,
    mlstm vs lstm) and `vs_best_baseline` (every other model vs the best baseline)."""
    rows = []
    keys = ["experiment", "dataset", "split", "K", "H"]
    for key, group in sort_table(runs).groupby(keys, sort=False):
        models = set(group["model"])
        rmse = {m: group.loc[group["model"] == m, "rmse"] for m in models}
        head = dict(zip(keys, key, strict=True))
        for model, baseline in VANILLA_PAIRS:
            if model in models and baseline in models:
                pair = {"comparison": "vs_vanilla", "model": model, "baseline": baseline}
                rows.append(head | pair | compare(rmse[model], rmse[baseline]))
        best = best_baseline(group)
        others = sorted(models - {best}, key=lambda m: rank(MODEL_ORDER, m)) if best else []
        for model in others:
            pair = {"comparison": "vs_best_baseline", "model": model, "baseline": best}
            rows.append(head | pair | compare(rmse[model], rmse[best]))
    return pd.DataFrame(rows, columns=TTEST_COLUMNS)  # in the order of the paper's groups
