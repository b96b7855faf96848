"""Claim rules of the long-memory study on constructed runs tables, one per verdict.

Each model's seeds get RMSE = mean + spread * BASE (five seeds, fixed offsets), so means,
sds and Welch tests are known by construction: a gap of 0.5 with spread 0.05 is
significant, equal values are not.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from rnnmem.core.claims import FAILS, HOLDS, INCONCLUSIVE, PARTLY, write_claims
from rnnmem.core.provenance import read_record
from rnnmem.core.settings import schema_defaults
from rnnmem.long_memory import aggregate as agg
from rnnmem.long_memory import claims as lm
from rnnmem.long_memory.study import RUN_COLUMNS
from tests.long_memory.reviews.test_aggregate import aggregate_main as reviews_aggregate_main
from tests.long_memory.reviews.test_aggregate import make_runs
from tests.long_memory.test_aggregate import aggregate_main, write_grid, write_seed

BASE = np.array([-1.5, -0.5, 0.0, 0.5, 1.5])


def runs_table(cells, seeds=5, split="paper"):
    """cells: (experiment, dataset, model, K, mean, spread) -> a runs table as load_runs gives."""
    rows = []
    for experiment, dataset, model, K, mean, spread in cells:
        for seed, offset in enumerate(BASE[:seeds]):
            rows.append(
                {
                    "experiment": experiment,
                    "dataset": dataset,
                    "split": split,
                    "model": model,
                    "K": K,
                    "H": 1,
                    "seed": seed,
                    "rmse": mean + spread * offset,
                    "mae": mean,
                    "mape": mean,
                    "best_epoch": 3,
                    "stop_epoch": 4,
                    "epochs_run": 5,
                    "diverged": False,
                    "snapshot_rule": "authors",
                }
            )
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def exp1(means: dict, datasets=("arfima", "DJI"), spread=0.05, **kw):
    """means: model -> mean RMSE, or model -> {dataset: mean}."""
    cells = [
        ("exp1", d, m, 100, v[d] if isinstance(v, dict) else v, spread)
        for d in datasets
        for m, v in means.items()
    ]
    return runs_table(cells, **kw)


# ---------------------------------------------------------------------------------------
# Experiment 1
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "means, verdict",
    [
        ({"rnn": 1.5, "mrnnf": 1.0, "mrnn": 1.0}, HOLDS),
        ({"rnn": 1.5, "mrnnf": 1.0, "mrnn": 1.5}, PARTLY),  # MRNN equal to RNN
        ({"rnn": 1.5, "mrnnf": {"arfima": 1.0, "DJI": 1.6}, "mrnn": 1.0}, PARTLY),
        ({"rnn": 1.0, "mrnnf": 1.5, "mrnn": 1.0}, FAILS),  # equal is not an improvement
    ],
)
def test_mrnn_beats_rnn(means, verdict):
    claim = lm.claim_mrnn_beats_rnn(exp1(means))
    assert claim.verdict == verdict
    assert claim.numbers["pairs_tested"] == 4
    assert "traffic: mrnnf vs rnn" in claim.note  # datasets not run are named


def test_mrnn_beats_rnn_numbers_and_inconclusive():
    runs = exp1({"rnn": 1.5, "mrnnf": 1.4, "mrnn": 1.0}, spread=0.2)
    claim = lm.claim_mrnn_beats_rnn(runs)
    pair = claim.numbers["arfima: mrnnf vs rnn"]
    direct = stats.ttest_ind(
        1.4 + 0.2 * BASE, 1.5 + 0.2 * BASE, equal_var=False, alternative="less"
    )
    assert pair["p_less"] == pytest.approx(direct.pvalue, rel=1e-2)
    assert pair["p_less"] > 0.05 and not pair["significantly_lower"]  # lower but not significant
    assert claim.verdict == PARTLY
    # alpha is an argument: at alpha = 0.5 the small gap counts too
    assert lm.claim_mrnn_beats_rnn(runs, alpha=0.5).verdict == HOLDS
    assert lm.claim_mrnn_beats_rnn(exp1({"rnn": 1.5, "mrnn": 1.0}, seeds=1)).verdict == INCONCLUSIVE
    absent = lm.claim_mrnn_beats_rnn(runs_table([("exp2", "rnn_generated", "rnn", 100, 1, 0)]))
    assert absent.verdict == INCONCLUSIVE and "Not in this tier's results" in absent.note


@pytest.mark.parametrize(
    "means, verdict",
    [
        ({"lstm": 1.0, "mlstmf": 1.0, "mlstm": 1.2}, HOLDS),  # equal or worse: not better
        ({"lstm": 1.5, "mlstmf": 1.0, "mlstm": 1.5}, PARTLY),
        ({"lstm": 1.5, "mlstmf": 1.0, "mlstm": 1.0}, FAILS),  # clearly better everywhere
        ({"mlstmf": 1.0, "mlstm": 1.0}, INCONCLUSIVE),  # no LSTM run
    ],
)
def test_mlstm_not_better(means, verdict):
    assert lm.claim_mlstm_not_better(exp1(means)).verdict == verdict


PAPER_ORDER = {"mrnn": 1.0, "mrnnf": 1.0, "lstm": 1.1, "mlstm": 1.2, "mlstmf": 1.2, "rnn": 1.3}


@pytest.mark.parametrize(
    "means, verdict, concordant",
    [
        (PAPER_ORDER, HOLDS, 6),
        (PAPER_ORDER | {"lstm": 1.25}, HOLDS, 5),  # one swapped pair (LSTM/MLSTM)
        (PAPER_ORDER | {"rnn": {"arfima": 1.3, "DJI": 0.9}}, PARTLY, 6),  # DJI: RNN best
        ({m: 2.5 - v for m, v in PAPER_ORDER.items()}, FAILS, 0),  # reversed
        ({m: v for m, v in PAPER_ORDER.items() if m != "rnn"}, INCONCLUSIVE, None),
    ],
)
def test_ordering(means, verdict, concordant):
    claim = lm.claim_ordering(exp1(means, spread=0.0))
    assert claim.verdict == verdict
    if concordant is not None:
        assert claim.numbers["arfima"]["concordant_of_6"] == concordant
        assert claim.numbers["arfima"]["kendall_tau"] == pytest.approx(
            (2 * concordant - 6) / 6, abs=1e-3
        )
    if verdict == PARTLY:
        assert claim.numbers["DJI"]["concordant_of_6"] == 3  # RNN above all three groups


def test_ordering_group_value_is_mean_of_model_means():
    means = PAPER_ORDER | {"mrnn": 0.9, "mrnnf": 1.3}  # group mean 1.1 ties LSTM: discordant
    claim = lm.claim_ordering(exp1(means, spread=0.0))
    assert claim.numbers["arfima"]["MRNN/MRNNF"] == pytest.approx(1.1)
    assert claim.numbers["arfima"]["concordant_of_6"] == 5
    assert lm.claim_ordering(exp1(means, spread=0.0), min_concordant=6).verdict == FAILS


# ---------------------------------------------------------------------------------------
# Experiment 2
# ---------------------------------------------------------------------------------------
def exp2(cells: dict):
    """cells: model -> (mean, spread)."""
    return runs_table([("exp2", "rnn_generated", m, 100, mu, sd) for m, (mu, sd) in cells.items()])


@pytest.mark.parametrize(
    "means, verdict",
    [
        ({"rnn": 1.02, "mrnn": 0.98, "lstm": 1.09}, HOLDS),
        ({"rnn": 1.02, "mrnn": 1.5, "lstm": 1.09}, PARTLY),
        ({"rnn": 1.5, "mrnn": 0.5, "lstm": 1.11}, FAILS),
    ],
)
def test_noise_level(means, verdict):
    runs = exp2({m: (mu, 0.01) for m, mu in means.items()})
    claim = lm.claim_noise_level(runs)
    assert claim.verdict == verdict
    assert claim.numbers["rnn"]["mean_rmse"] == pytest.approx(means["rnn"])
    assert lm.claim_noise_level(exp1(PAPER_ORDER)).verdict == INCONCLUSIVE
    # the tolerance is an argument
    assert lm.claim_noise_level(runs, tolerance=1.0).verdict == HOLDS


@pytest.mark.parametrize(
    "spreads, verdict",
    [
        ({"rnn": 0.01, "lstm": 0.01, "mrnnf": 0.02, "mrnn": 0.02, "mlstm": 0.03}, HOLDS),
        ({"rnn": 0.01, "lstm": 0.05, "mrnnf": 0.02, "mrnn": 0.02, "mlstm": 0.03}, PARTLY),
        ({"rnn": 0.05, "lstm": 0.05, "mrnnf": 0.02, "mrnn": 0.05, "mlstm": 0.03}, FAILS),
        ({"mrnnf": 0.02, "mrnn": 0.02}, INCONCLUSIVE),  # no vanilla model run
    ],
)
def test_augmented_spread(spreads, verdict):
    claim = lm.claim_augmented_spread(exp2({m: (1.0, s) for m, s in spreads.items()}))
    assert claim.verdict == verdict
    if verdict == HOLDS:
        assert claim.numbers["pairs_tested"] == 3  # mlstmf not run
        assert claim.numbers["mrnn vs rnn"]["sd"] == pytest.approx(0.02 * np.std(BASE))
        assert "mlstmf vs lstm" in claim.note


# ---------------------------------------------------------------------------------------
# Experiment 3
# ---------------------------------------------------------------------------------------
def exp3(slopes: dict, ks=(25, 50, 75, 100)):
    """slopes: (dataset, model) -> change of mean RMSE per unit of K."""
    return runs_table(
        [("exp3", d, m, k, 1.0 + slope * k, 0.01) for (d, m), slope in slopes.items() for k in ks]
    )


@pytest.mark.parametrize(
    "slope_mrnn, slope_mlstm, verdict_mrnn, verdict_mlstm",
    [
        (-0.001, 0.001, HOLDS, HOLDS),  # the paper: MRNN better with larger K, MLSTM smaller
        (0.001, -0.001, FAILS, FAILS),
        (0.0, 0.0, FAILS, FAILS),  # flat: no trend in the claimed direction
    ],
)
def test_k_trends(slope_mrnn, slope_mlstm, verdict_mrnn, verdict_mlstm):
    slopes = {}
    for d in ("arfima", "tree7"):
        slopes |= {(d, "mrnnf"): slope_mrnn, (d, "mrnn"): slope_mrnn}
        slopes |= {(d, "mlstmf"): slope_mlstm, (d, "mlstm"): slope_mlstm}
    runs = exp3(slopes)
    larger, smaller = lm.claim_mrnn_larger_k(runs), lm.claim_mlstm_smaller_k(runs)
    assert (larger.verdict, smaller.verdict) == (verdict_mrnn, verdict_mlstm)
    assert larger.numbers["tested"] == 4 and smaller.numbers["tested"] == 4
    if slope_mrnn:
        assert larger.numbers["arfima: mrnn"]["spearman_rho"] == pytest.approx(np.sign(slope_mrnn))


def test_k_trends_partly_and_inconclusive():
    runs = exp3({("arfima", "mrnn"): -0.001, ("tree7", "mrnn"): 0.001, ("arfima", "mlstm"): 0.0})
    assert lm.claim_mrnn_larger_k(runs).verdict == PARTLY
    # a non-monotone but mostly increasing line: rho = 0.8 > 0 agrees
    bumpy = runs_table([("exp3", "DJI", "mlstm", k, v, 0.01) for k, v in
                        zip((25, 50, 75, 100), (1.0, 1.2, 1.1, 1.3), strict=True)])  # fmt: skip
    claim = lm.claim_mlstm_smaller_k(bumpy)
    assert claim.verdict == HOLDS and claim.numbers["DJI: mlstm"]["spearman_rho"] == 0.8
    two_k = exp3({("arfima", "mrnn"): -0.001}, ks=(25, 100))
    claim = lm.claim_mrnn_larger_k(two_k)
    assert claim.verdict == INCONCLUSIVE and "2 K values" in claim.note
    assert lm.claim_mrnn_larger_k(two_k, min_k_values=2).verdict == HOLDS
    assert lm.claim_mlstm_smaller_k(two_k).verdict == INCONCLUSIVE  # no MLSTM runs


# ---------------------------------------------------------------------------------------
# All claims, end to end from per-seed files
# ---------------------------------------------------------------------------------------
def test_evaluate_claims_from_files(tmp_path):
    files = []
    for d in ("arfima", "DJI"):
        for m, mean in PAPER_ORDER.items():
            files += [write_seed(tmp_path, d, m, s, mean * (1 + 0.01 * s)) for s in range(3)]
        for k, mean in ((25, 1.2), (50, 1.1)):  # with K = 100 from Exp. 1: lower with larger K
            files += [write_seed(tmp_path, d, "mrnn", s, mean, K=k) for s in range(3)]
    runs = agg.load_runs(files)
    claims = lm.evaluate_claims(runs)
    verdicts = {c.claim: c.verdict for c in claims}
    assert list(verdicts) == [
        "E1-mrnn-beats-rnn",
        "E1-mlstm-not-better",
        "E1-ordering",
        "E2-noise-level",
        "E2-augmented-spread",
        "E3-mrnn-larger-K",
        "E3-mlstm-smaller-K",
    ]
    assert verdicts["E1-mrnn-beats-rnn"] == HOLDS
    assert verdicts["E1-mlstm-not-better"] == HOLDS  # MLSTM worse than LSTM here
    assert verdicts["E1-ordering"] == HOLDS
    assert verdicts["E2-noise-level"] == INCONCLUSIVE  # Experiment 2 not run
    # the K = 100 MRNN jobs of Experiment 1 are the sweep's third K value
    larger = next(c for c in claims if c.claim == "E3-mrnn-larger-K")
    assert larger.verdict == HOLDS and larger.numbers["arfima: mrnn"]["K100"] == pytest.approx(1.01)
    assert "arfima: mrnnf (1 K values)" in larger.note
    write_claims(claims, tmp_path / "c.csv", tmp_path / "c.md", "long memory", "test")
    table = pd.read_csv(tmp_path / "c.csv")
    assert json.loads(table.loc[0, "numbers"])["pairs_tested"] == 4
    with pytest.raises(ValueError, match="min_seeds"):
        lm.evaluate_claims(runs, min_seeds=1)


def test_primary_split_only_and_empty_runs():
    paper = exp1({"rnn": 1.5, "mrnnf": 1.0, "mrnn": 1.0}, datasets=("traffic",))
    code = exp1({"rnn": 1.0, "mrnnf": 1.5, "mrnn": 1.5}, datasets=("traffic",), split="code")
    claim = lm.claim_mrnn_beats_rnn(pd.concat([paper, code], ignore_index=True))
    assert claim.verdict == HOLDS and "also run but not used here: code" in claim.note
    assert lm.claim_mrnn_beats_rnn(code, split="code").verdict == FAILS
    # a non-finite RMSE (diverged seed) is left out, not propagated into the means
    broken = paper.copy()
    broken.loc[(broken["model"] == "mrnn") & (broken["seed"] == 0), "rmse"] = np.inf
    pair = lm.claim_mrnn_beats_rnn(broken).numbers["traffic: mrnn vs rnn"]
    assert pair["n"] == 4 and pair["mean"] == pytest.approx(1.0 + 0.05 * BASE[1:].mean(), rel=1e-3)
    assert {c.verdict for c in lm.evaluate_claims(agg.load_runs([]))} == {INCONCLUSIVE}


# ---------------------------------------------------------------------------------------
# The command: claims.csv and its record
# ---------------------------------------------------------------------------------------
SETTINGS = schema_defaults("long_memory")["claims"] | {"noise_level": 1.0}


def settings_key(job: dict) -> str:
    return json.dumps(job, sort_keys=True)


def claims_main(tmp_path, **tables) -> dict:
    """Run `claims-long-memory` on the given runs tables; returns the claims record."""
    args = [f"--{k.replace('_', '-')}={v}" for k, v in tables.items()]
    args += ["--csv", str(tmp_path / "claims.csv"), "--md", str(tmp_path / "claims.md")]
    assert lm.main(args + ["--tier", "test", "--settings", json.dumps(SETTINGS)]) == 0
    return read_record(tmp_path / "claims.csv")


def test_claims_record_holds_the_settings_and_the_jobs_behind_its_inputs(tmp_path):
    write_grid(tmp_path / "runs", {("arfima", m, 100): 1.0 for m in ("rnn", "mrnn")})
    views = {"exp1": {f"arfima-paper/{m}-K100-H1": 3 for m in ("rnn", "mrnn")}}
    runs = aggregate_main(tmp_path / "runs", views, tmp_path / "tables")["runs"]
    review_files = make_runs(tmp_path, {("authors", "rnn"): [0.3, 0.4]})
    reviews = reviews_aggregate_main(tmp_path, review_files)["runs"]
    record = claims_main(tmp_path, runs=runs, reviews_runs=reviews)
    assert record["settings"] == SETTINGS
    behind = read_record(runs)["jobs"] + read_record(reviews)["jobs"]
    assert len(behind) == 3  # two time-series jobs and one review job
    assert sorted(map(settings_key, record["jobs"])) == sorted(map(settings_key, behind))
    # without the review runs the record names the time-series jobs only
    alone = claims_main(tmp_path, runs=runs)
    assert alone["jobs"] == read_record(runs)["jobs"]
    assert len(pd.read_csv(tmp_path / "claims.csv")) == 10
