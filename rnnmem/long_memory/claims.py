"""Claim checks of the long-memory study (long-memory.md §8-10), pre-stated rules on the runs table
(the review claims of long-memory.md §11: rnnmem/long_memory/reviews/claims.py).

Every check returns a rnnmem.core.claims.Claim (holds / partly / fails / inconclusive) with
the numbers behind the verdict. Rules are stated on per-seed test RMSE in original units,
on one split (the primary, "paper"), over the seeds whose RMSE is finite; a (dataset, model)
with fewer than `min_seeds` such seeds is untested. Most rules count "units" (a dataset, or
a (dataset, model) pair) that agree with the paper:

    holds   = every tested unit agrees,  fails = none does,  partly = some do,
    inconclusive = no unit is testable (e.g. the experiment was not run).

Significance: Welch one-sided p (H1: the first model has the lower mean RMSE), long-memory.md §6.5.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from rnnmem.core.claims import Claim, count_verdict, not_run, sig, write_claims
from rnnmem.core.io import read_csv
from rnnmem.core.provenance import jobs_behind, provenance
from rnnmem.core.settings import add_settings_argument, schema_defaults
from rnnmem.long_memory.reviews.claims import evaluate_review_claims
from rnnmem.long_memory.stats import ttests
from rnnmem.long_memory.study import (
    LONG_MEMORY_DATASETS,
    MODEL_ORDER,
    PRIMARY_SPLIT,
    REVIEW_RUN_COLUMNS,
    RUN_COLUMNS,
    VANILLA_PAIRS,
    rank,
)

# ---------------------------------------------------------------------------------------
# Thresholds
# ---------------------------------------------------------------------------------------
# The rules' thresholds: their values live in workflow/schemas/long_memory.schema.yaml
# (claims.*; the Experiment 2 noise level is the generator's noise_sd), read once here; the
# workflow passes the configured values to evaluate_claims.
_SCHEMA = schema_defaults("long_memory")
ALPHA = _SCHEMA["claims"]["alpha"]  # significance level of the one-sided Welch tests
MIN_SEEDS = _SCHEMA["claims"]["min_seeds"]  # finite-RMSE seeds a (dataset, model) needs
NOISE_LEVEL = _SCHEMA["experiment2"]["generator"]["noise_sd"]  # Experiment 2, original units
NOISE_TOLERANCE = _SCHEMA["claims"]["noise_tolerance"]  # "close" = within this fraction
MIN_K_VALUES = _SCHEMA["claims"]["min_k_values"]  # Experiment 3: K values for a rank correlation
MIN_CONCORDANT = _SCHEMA["claims"]["min_concordant"]  # Exp. 1 ordering: concordant pairs of 6

# "MRNN/MRNNF > LSTM > MLSTM/MLSTMF > RNN", best first (long-memory.md §8)
ORDER_GROUPS = (
    ("MRNN/MRNNF", ("mrnn", "mrnnf")),
    ("LSTM", ("lstm",)),
    ("MLSTM/MLSTMF", ("mlstm", "mlstmf")),
    ("RNN", ("rnn",)),
)


def view(runs: pd.DataFrame, experiment: str, split: str) -> pd.DataFrame:
    """Rows of one experiment and split with a finite RMSE."""
    rows = runs[(runs["experiment"] == experiment) & (runs["split"] == split)]
    return rows[np.isfinite(rows["rmse"].to_numpy(dtype=np.float64))]


def model_stats(rows: pd.DataFrame, min_seeds: int) -> pd.DataFrame:
    """Per (dataset, model, K): n, mean and sd (ddof 0) of RMSE, for n >= min_seeds."""
    grouped = rows.groupby(["dataset", "model", "K"])["rmse"]
    table = grouped.agg(n="size", mean="mean", sd=lambda v: float(np.std(v, ddof=0)))
    return table[table["n"] >= min_seeds].reset_index()


def split_note(runs: pd.DataFrame, experiment: str, split: str) -> str:
    other = sorted(set(runs.loc[runs["experiment"] == experiment, "split"]) - {split})
    return f" Split {split} only; also run but not used here: {', '.join(other)}." if other else ""


def untested_note(untested: list) -> str:
    return (
        f" Untested (not run, too few seeds or K values): {', '.join(untested)}."
        if untested
        else ""
    )


# ---------------------------------------------------------------------------------------
# Experiment 1 (long-memory.md §8)
# ---------------------------------------------------------------------------------------
def _pair_tests(runs, pairs, alpha, min_seeds, split):
    """Welch tests of the given (model, baseline) pairs per dataset of Experiment 1.

    Returns (per-pair numbers, number tested, number 'significantly lower', untested labels)."""
    rows = view(runs, "exp1", split)
    table = ttests(rows)
    table = table[table["comparison"] == "vs_vanilla"].set_index(["dataset", "model"])
    if table.index.has_duplicates:
        raise ValueError("Experiment 1 holds several (K, H) for one dataset and model")
    numbers, tested, better, untested = {}, 0, 0, []
    datasets = set(LONG_MEMORY_DATASETS) | set(rows["dataset"])
    for dataset in sorted(datasets, key=lambda d: rank(LONG_MEMORY_DATASETS, d)):
        for model, baseline in pairs:
            name = f"{dataset}: {model} vs {baseline}"
            r = table.loc[(dataset, model)] if (dataset, model) in table.index else None
            if r is None or min(r["n_model"], r["n_baseline"]) < min_seeds:
                untested.append(name)
                continue
            lower = bool(r["mean_model"] < r["mean_baseline"] and r["welch_p_less"] < alpha)
            tested, better = tested + 1, better + lower
            numbers[name] = {
                "mean": sig(r["mean_model"]),
                f"mean_{baseline}": sig(r["mean_baseline"]),
                "welch_t": sig(r["welch_t"]),
                "p_less": sig(r["welch_p_less"], 3),
                "n": int(r["n_model"]),
                f"n_{baseline}": int(r["n_baseline"]),
                "significantly_lower": lower,
            }
    return numbers, tested, better, untested


def claim_mrnn_beats_rnn(runs, alpha=ALPHA, min_seeds=MIN_SEEDS, split=PRIMARY_SPLIT) -> Claim:
    cid = "E1-mrnn-beats-rnn"
    statement = "MRNNF and MRNN improve on the vanilla RNN on every dataset (long-memory.md §8)."
    rule = (
        f"Experiment 1, split {split}: for each dataset and model in {{MRNNF, MRNN}} with >= "
        f"{min_seeds} finite-RMSE seeds (and RNN too), 'improves' = mean RMSE below RNN's and "
        f"Welch one-sided p (H1: lower mean) < {alpha}. Holds if every tested pair improves, "
        "partly if some do, fails if none; inconclusive if no pair is testable."
    )
    pairs = VANILLA_PAIRS[:2]
    numbers, tested, better, untested = _pair_tests(runs, pairs, alpha, min_seeds, split)
    if tested == 0:
        return not_run(cid, statement, rule, f"Experiment 1 pairs ({'; '.join(untested)})")
    numbers |= {"pairs_tested": tested, "pairs_improving": better}
    note = untested_note(untested) + split_note(runs, "exp1", split)
    return Claim(cid, statement, rule, count_verdict(better, tested), numbers, note.strip())


def claim_mlstm_not_better(runs, alpha=ALPHA, min_seeds=MIN_SEEDS, split=PRIMARY_SPLIT) -> Claim:
    cid = "E1-mlstm-not-better"
    statement = "The MLSTM variants are not clearly better than LSTM (long-memory.md §8)."
    rule = (
        f"Experiment 1, split {split}: for each dataset and model in {{MLSTMF, MLSTM}} with >= "
        f"{min_seeds} finite-RMSE seeds (and LSTM too), 'clearly better' = mean RMSE below "
        f"LSTM's and Welch one-sided p < {alpha}. Holds if no tested pair is clearly better, "
        "fails if every one is, partly otherwise; inconclusive if no pair is testable."
    )
    pairs = VANILLA_PAIRS[2:]
    numbers, tested, better, untested = _pair_tests(runs, pairs, alpha, min_seeds, split)
    if tested == 0:
        return not_run(cid, statement, rule, f"Experiment 1 pairs ({'; '.join(untested)})")
    numbers |= {"pairs_tested": tested, "pairs_clearly_better": better}
    note = untested_note(untested) + split_note(runs, "exp1", split)
    verdict = count_verdict(tested - better, tested)
    return Claim(cid, statement, rule, verdict, numbers, note.strip())


def claim_ordering(
    runs, min_seeds=MIN_SEEDS, min_concordant=MIN_CONCORDANT, split=PRIMARY_SPLIT
) -> Claim:
    cid = "E1-ordering"
    statement = (
        "The ordering is roughly MRNN/MRNNF > LSTM > MLSTM/MLSTMF > RNN "
        "(docs/studies/long-memory.md §8)."
    )
    names = [g for g, _ in ORDER_GROUPS]
    rule = (
        f"Experiment 1, split {split}, per dataset: group value = mean over its models of the "
        f"mean RMSE (models with >= {min_seeds} finite seeds), groups {' > '.join(names)} "
        "(better = lower). Of the 6 group pairs, a pair is concordant if the group ranked "
        f"better has the strictly lower value. A dataset agrees if >= {min_concordant} of 6 "
        "pairs are concordant (Kendall tau >= "
        f"{(2 * min_concordant - 6) / 6:.2f}). Holds if every dataset with all four groups "
        "agrees, partly if some do, fails if none; inconclusive if no dataset has all groups."
    )
    stats = model_stats(view(runs, "exp1", split), min_seeds)
    if stats.empty:
        return not_run(cid, statement, rule, "Experiment 1")
    numbers, tested, agree, untested = {}, 0, 0, []
    for dataset in sorted(set(stats["dataset"]), key=lambda d: rank(LONG_MEMORY_DATASETS, d)):
        means = stats[stats["dataset"] == dataset].set_index("model")["mean"]
        values = {g: means.reindex(list(ms)).dropna().mean() for g, ms in ORDER_GROUPS}
        if any(not np.isfinite(v) for v in values.values()):
            lacking = [g for g, v in values.items() if not np.isfinite(v)]
            untested.append(f"{dataset} (no {', '.join(lacking)})")
            continue
        pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
        concordant = sum(values[a] < values[b] for a, b in pairs)
        tested, agree = tested + 1, agree + (concordant >= min_concordant)
        numbers[dataset] = {g: sig(v) for g, v in values.items()} | {
            "concordant_of_6": int(concordant),
            "kendall_tau": sig((2 * concordant - 6) / 6, 3),
            "observed_order": " < ".join(sorted(names, key=lambda g: values[g])),
        }
    if tested == 0:
        return not_run(cid, statement, rule, f"all four groups on one dataset ({untested})")
    numbers |= {"datasets_tested": tested, "datasets_agreeing": agree}
    note = untested_note(untested) + split_note(runs, "exp1", split)
    return Claim(cid, statement, rule, count_verdict(agree, tested), numbers, note.strip())


# ---------------------------------------------------------------------------------------
# Experiment 2 (long-memory.md §9)
# ---------------------------------------------------------------------------------------
def claim_noise_level(
    runs,
    noise_level=NOISE_LEVEL,
    tolerance=NOISE_TOLERANCE,
    min_seeds=MIN_SEEDS,
    split=PRIMARY_SPLIT,
) -> Claim:
    cid = "E2-noise-level"
    statement = "On RNN-generated short-memory data every model's test RMSE is close to the noise."
    rule = (
        f"Experiment 2, split {split}: per model with >= {min_seeds} finite seeds, 'close' = "
        f"|mean test RMSE - {noise_level:g}| <= {tolerance:g} x {noise_level:g}, RMSE in original "
        f"units (the series is min-max scaled for training; the noise sd is {noise_level:g} "
        "before scaling). Holds if every model is close, partly if some, fails if none."
    )
    stats = model_stats(view(runs, "exp2", split), min_seeds)
    if stats.empty:
        return not_run(cid, statement, rule, "Experiment 2")
    numbers, close = {}, 0
    for r in sorted(stats.itertuples(), key=lambda r: rank(MODEL_ORDER, r.model)):
        ok = bool(abs(r.mean - noise_level) <= tolerance * noise_level)
        close += ok
        numbers[r.model] = {"mean_rmse": sig(r.mean), "sd": sig(r.sd), "n": int(r.n), "close": ok}
    numbers |= {"models_tested": len(stats), "models_close": close}
    note = (
        "The best one-step predictor has an expected test RMSE of about the noise sd (sampling "
        "error about sd / sqrt(2 n_test)); a mean well above it is a poor fit."
    ) + split_note(runs, "exp2", split)
    return Claim(cid, statement, rule, count_verdict(close, len(stats)), numbers, note)


def claim_augmented_spread(runs, min_seeds=MIN_SEEDS, split=PRIMARY_SPLIT) -> Claim:
    cid = "E2-augmented-spread"
    statement = "On RNN-generated data the augmented models have a slightly larger RMSE spread."
    rule = (
        f"Experiment 2, split {split}: for MRNNF and MRNN against RNN, MLSTMF and MLSTM against "
        f"LSTM (both with >= {min_seeds} finite seeds): larger spread = sd (ddof 0) of test RMSE "
        "over seeds above the vanilla model's. Holds if every tested pair has the larger "
        "spread, partly if some do, fails if none. 'Slightly' is not tested (ratios reported)."
    )
    stats = model_stats(view(runs, "exp2", split), min_seeds).set_index("model")
    if stats.empty:
        return not_run(cid, statement, rule, "Experiment 2")
    numbers, tested, larger, untested = {}, 0, 0, []
    for model, vanilla in VANILLA_PAIRS:
        if model not in stats.index or vanilla not in stats.index:
            untested.append(f"{model} vs {vanilla}")
            continue
        sd, sd_v = stats.loc[model, "sd"], stats.loc[vanilla, "sd"]
        tested, larger = tested + 1, larger + bool(sd > sd_v)
        ratio = sd / sd_v if sd_v > 0 else np.inf
        numbers[f"{model} vs {vanilla}"] = {"sd": sig(sd), f"sd_{vanilla}": sig(sd_v)} | {
            "ratio": sig(ratio, 3) if np.isfinite(ratio) else "inf",
            "larger": bool(sd > sd_v),
        }
    if tested == 0:
        return not_run(cid, statement, rule, f"Experiment 2 pairs ({'; '.join(untested)})")
    numbers |= {"pairs_tested": tested, "pairs_larger_spread": larger}
    note = untested_note(untested) + split_note(runs, "exp2", split)
    return Claim(cid, statement, rule, count_verdict(larger, tested), numbers, note.strip())


# ---------------------------------------------------------------------------------------
# Experiment 3 (long-memory.md §10)
# ---------------------------------------------------------------------------------------
def _k_trend(runs, cid, statement, models, sign, min_seeds, min_k_values, split) -> Claim:
    """Spearman rho of mean RMSE against K per (dataset, model); agree if sign(rho) = sign."""
    word = "negative (larger K, lower RMSE)" if sign < 0 else "positive (smaller K, lower RMSE)"
    rule = (
        f"Experiment 3, split {split}: per dataset and model in {{{', '.join(models)}}} with >= "
        f"{min_k_values} K values of >= {min_seeds} finite seeds each, Spearman rho between K "
        f"and mean test RMSE; agrees if rho is {word} (rho = 0 or undefined: disagrees). Holds "
        "if every tested (dataset, model) agrees, partly if some do, fails if none."
    )
    stats = model_stats(view(runs, "exp3", split), min_seeds)
    stats = stats[stats["model"].isin(models)]
    if stats.empty:
        return not_run(cid, statement, rule, f"Experiment 3 runs of {', '.join(models)}")
    numbers, tested, agree, untested = {}, 0, 0, []
    keys = sorted(
        {(d, m) for d, m in zip(stats["dataset"], stats["model"], strict=True)},
        key=lambda k: (rank(LONG_MEMORY_DATASETS, k[0]), rank(MODEL_ORDER, k[1])),
    )
    for dataset, model in keys:
        line = stats[(stats["dataset"] == dataset) & (stats["model"] == model)].sort_values("K")
        name = f"{dataset}: {model}"
        if len(line) < min_k_values:
            untested.append(f"{name} ({len(line)} K values)")
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # constant means: rho undefined (NaN)
            rho = float(spearmanr(line["K"], line["mean"]).statistic)
        ok = bool(np.isfinite(rho) and np.sign(rho) == sign)
        tested, agree = tested + 1, agree + ok
        numbers[name] = {"spearman_rho": sig(rho, 3), "agrees": ok} | {
            f"K{int(k)}": sig(v) for k, v in zip(line["K"], line["mean"], strict=True)
        }
    if tested == 0:
        return not_run(cid, statement, rule, f"enough K values ({'; '.join(untested)})")
    numbers |= {"tested": tested, "agreeing": agree}
    note = untested_note(untested) + split_note(runs, "exp3", split)
    return Claim(cid, statement, rule, count_verdict(agree, tested), numbers, note.strip())


def claim_mrnn_larger_k(runs, min_seeds=MIN_SEEDS, min_k_values=MIN_K_VALUES, split=PRIMARY_SPLIT):
    statement = (
        "For MRNN(F), a larger K is better; the authors recommend K = 100 "
        "(docs/studies/long-memory.md §10)."
    )
    args = (("mrnnf", "mrnn"), -1, min_seeds, min_k_values, split)
    return _k_trend(runs, "E3-mrnn-larger-K", statement, *args)


def claim_mlstm_smaller_k(
    runs, min_seeds=MIN_SEEDS, min_k_values=MIN_K_VALUES, split=PRIMARY_SPLIT
):
    statement = (
        "For MLSTM(F), a smaller K is better; the authors recommend K = 25 "
        "(docs/studies/long-memory.md §10)."
    )
    args = (("mlstmf", "mlstm"), 1, min_seeds, min_k_values, split)
    return _k_trend(runs, "E3-mlstm-smaller-K", statement, *args)


def evaluate_claims(
    runs: pd.DataFrame,
    alpha: float = ALPHA,
    min_seeds: int = MIN_SEEDS,
    noise_level: float = NOISE_LEVEL,
    noise_tolerance: float = NOISE_TOLERANCE,
    min_k_values: int = MIN_K_VALUES,
    min_concordant: int = MIN_CONCORDANT,
    split: str = PRIMARY_SPLIT,
) -> list[Claim]:
    """The claims of long-memory.md §8-10 in order, on the runs table of aggregate.load_runs."""
    if min_seeds < 2:
        raise ValueError("min_seeds must be at least 2 (a t-test needs two seeds per model)")
    return [
        claim_mrnn_beats_rnn(runs, alpha, min_seeds, split),
        claim_mlstm_not_better(runs, alpha, min_seeds, split),
        claim_ordering(runs, min_seeds, min_concordant, split),
        claim_noise_level(runs, noise_level, noise_tolerance, min_seeds, split),
        claim_augmented_spread(runs, min_seeds, split),
        claim_mrnn_larger_k(runs, min_seeds, min_k_values, split),
        claim_mlstm_smaller_k(runs, min_seeds, min_k_values, split),
    ]


def main(argv=None) -> int:
    """`python -m rnnmem claims-long-memory`: claims.csv and claims.md of the study (the
    time-series claims from --runs, the review claims from --reviews-runs; either may be
    absent when that part was not run: its claims are then inconclusive). The claims
    record holds the settings and the jobs behind the runs tables it read."""
    parser = argparse.ArgumentParser(prog="python -m rnnmem claims-long-memory")
    parser.add_argument("--runs", help="runs.csv of the time-series aggregation")
    parser.add_argument("--reviews-runs", help="runs.csv of the review aggregation")
    parser.add_argument("--csv", required=True)
    parser.add_argument("--md", required=True)
    parser.add_argument("--tier", required=True)
    add_settings_argument(parser)  # alpha, noise_tolerance, min_seeds, ... and noise_level
    args = parser.parse_args(argv)
    s = args.settings
    runs = read_csv(args.runs) if args.runs else pd.DataFrame(columns=RUN_COLUMNS)
    reviews = (
        read_csv(args.reviews_runs)
        if args.reviews_runs
        else pd.DataFrame(columns=REVIEW_RUN_COLUMNS)
    )
    claims = evaluate_claims(
        runs,
        alpha=s["alpha"],
        min_seeds=s["min_seeds"],
        noise_level=s["noise_level"],
        noise_tolerance=s["noise_tolerance"],
        min_k_values=s["min_k_values"],
        min_concordant=s["min_concordant"],
    )
    claims += evaluate_review_claims(
        reviews, alpha=s["alpha"], min_seeds=s["min_seeds"], chance_margin=s["chance_margin"]
    )
    tables = [path for path in (args.runs, args.reviews_runs) if path]
    record = provenance(settings=s, jobs=jobs_behind(tables))
    title = "Claims of the long-memory study (Zhao et al., ICML 2020)"
    write_claims(claims, args.csv, args.md, title, args.tier, record)
    return 0
