"""Claim checks of the review classification (long-memory.md §11), on the per-seed runs table of
rnnmem/long_memory/reviews/aggregate.py; they join the study's claims files (claims.py).

Rules are on per-seed test accuracy (50 test reviews), a model being testable when it has
>= `min_seeds` seeds. Verdicts count the tested units, as the time-series claims do:
holds = every tested unit agrees, fails = none, partly = some, inconclusive = none testable.

* R-memory-beats-baselines (the paper's Tables 5 and 6): MRNNF50 beats RNN and MLSTMF50
  beats LSTM, in the primary `authors` layout: mean accuracy higher and Welch one-sided
  p (H1: higher mean) < alpha.
* R-authors-near-chance (long-memory.md A10's reading of the published numbers): in the `authors`
  layout every model's mean accuracy is within `chance_margin` of the majority class's.
* R-transpose-better (our extra, not the paper's): each model does better in the
  `transpose` layout (time-major sequences) than in `authors`, by the same Welch rule.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rnnmem.core.claims import Claim, count_verdict, not_run, sig
from rnnmem.long_memory.stats import compare
from rnnmem.long_memory.study import REVIEW_MODEL_ORDER, REVIEW_PAIRS, REVIEW_PRIMARY_LAYOUT


def _accuracy(runs: pd.DataFrame, layout: str, model: str) -> np.ndarray:
    rows = runs[(runs["layout"] == layout) & (runs["model"] == model)]
    return rows["accuracy"].to_numpy(dtype=np.float64)


def _greater(a: np.ndarray, b: np.ndarray, alpha: float) -> dict:
    """Welch test of "mean(a) > mean(b)": numbers and the verdict of one unit."""
    # compare() tests H1 "first mean is lower": swap the samples for "higher".
    test = compare(b, a)
    higher = bool(a.mean() > b.mean() and test["welch_p_less"] < alpha)
    return {
        "mean": sig(a.mean()),
        "mean_other": sig(b.mean()),
        "p_greater": sig(test["welch_p_less"], 3),
        "n": len(a),
        "n_other": len(b),
        "significantly_higher": higher,
    }


def _welch_units(runs, units: dict, alpha: float, min_seeds: int) -> tuple[dict, int, int]:
    """units: {name: ((layout, model), (layout, model))}, each tested as "first > second".

    Returns (numbers per tested unit, units tested, units significantly higher); a unit
    with fewer than min_seeds seeds on either side is left out."""
    numbers, tested, better = {}, 0, 0
    for name, (first, second) in units.items():
        a, b = _accuracy(runs, *first), _accuracy(runs, *second)
        if min(len(a), len(b)) < min_seeds:
            continue
        numbers[name] = _greater(a, b, alpha)
        tested, better = tested + 1, better + numbers[name]["significantly_higher"]
    return numbers, tested, better


def claim_memory_beats_baselines(runs, *, alpha: float, min_seeds: int) -> Claim:
    cid = "R-memory-beats-baselines"
    statement = (
        "MRNNF50 and MLSTMF50 classify the reviews better than RNN and LSTM "
        "(docs/studies/long-memory.md §11)."
    )
    rule = (
        f"Layout {REVIEW_PRIMARY_LAYOUT}, per pair (MRNNF50 vs RNN, MLSTMF50 vs LSTM) with >= "
        f"{min_seeds} seeds each: 'better' = higher mean test accuracy and Welch one-sided p "
        f"(H1: higher mean) < {alpha}. Holds if both tested pairs are better, partly if one, "
        "fails if none; inconclusive if no pair is testable."
    )
    units = {
        f"{model} vs {baseline}": (
            (REVIEW_PRIMARY_LAYOUT, model),
            (REVIEW_PRIMARY_LAYOUT, baseline),
        )
        for model, baseline in REVIEW_PAIRS
    }
    numbers, tested, better = _welch_units(runs, units, alpha, min_seeds)
    if tested == 0:
        return not_run(cid, statement, rule, f"{REVIEW_PRIMARY_LAYOUT}-layout review runs")
    numbers |= {"pairs_tested": tested, "pairs_better": better}
    return Claim(cid, statement, rule, count_verdict(better, tested), numbers)


def claim_authors_near_chance(runs, *, min_seeds: int, chance_margin: float) -> Claim:
    cid = "R-authors-near-chance"
    statement = (
        "In the reference's data layout the classifiers are close to chance: their "
        "accuracies are near the majority class's (long-memory.md A10)."
    )
    rule = (
        f"Layout {REVIEW_PRIMARY_LAYOUT}, per model with >= {min_seeds} seeds: 'near chance' = "
        f"|mean test accuracy - majority-class accuracy| <= {chance_margin}. Holds if every "
        "tested model is, partly if some are, fails if none; inconclusive if none is testable."
    )
    rows = runs[runs["layout"] == REVIEW_PRIMARY_LAYOUT]
    numbers, tested, near = {}, 0, 0
    for model in REVIEW_MODEL_ORDER:
        accuracy = _accuracy(runs, REVIEW_PRIMARY_LAYOUT, model)
        if len(accuracy) < min_seeds:
            continue
        majority = float(rows.loc[rows["model"] == model, "majority_accuracy"].iloc[0])
        gap = float(accuracy.mean() - majority)
        close = abs(gap) <= chance_margin
        numbers[model] = {"mean": sig(accuracy.mean()), "majority": sig(majority)}
        numbers[model] |= {"gap": sig(gap, 3), "near_chance": close, "n": len(accuracy)}
        tested, near = tested + 1, near + close
    if tested == 0:
        return not_run(cid, statement, rule, f"{REVIEW_PRIMARY_LAYOUT}-layout review runs")
    numbers |= {"models_tested": tested, "models_near_chance": near}
    return Claim(cid, statement, rule, count_verdict(near, tested), numbers)


def claim_transpose_better(runs, *, alpha: float, min_seeds: int) -> Claim:
    cid = "R-transpose-better"
    statement = (
        "Not the paper's claim: fed time-major sequences (layout transpose) each model does "
        "better than in the reference's reshape (authors)."
    )
    rule = (
        f"Per model with >= {min_seeds} seeds in both layouts: 'better' = higher mean test "
        f"accuracy in transpose and Welch one-sided p (H1: higher mean) < {alpha}. Holds if "
        "every tested model is better, partly if some, fails if none; inconclusive if none."
    )
    units = {
        model: (("transpose", model), (REVIEW_PRIMARY_LAYOUT, model))
        for model in REVIEW_MODEL_ORDER
    }
    numbers, tested, better = _welch_units(runs, units, alpha, min_seeds)
    if tested == 0:
        return not_run(cid, statement, rule, "review runs in both layouts")
    numbers |= {"models_tested": tested, "models_better": better}
    return Claim(cid, statement, rule, count_verdict(better, tested), numbers)


def evaluate_review_claims(
    runs: pd.DataFrame, *, alpha: float, min_seeds: int, chance_margin: float
) -> list[Claim]:
    """The review claims, in a fixed order; each inconclusive when its runs are absent."""
    return [
        claim_memory_beats_baselines(runs, alpha=alpha, min_seeds=min_seeds),
        claim_authors_near_chance(runs, min_seeds=min_seeds, chance_margin=chance_margin),
        claim_transpose_better(runs, alpha=alpha, min_seeds=min_seeds),
    ]
