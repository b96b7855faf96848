"""Claim checks (forgetting.md §9) on synthetic run tables with known effects."""

from __future__ import annotations

import numpy as np

from rnnmem.core.io import write_json
from rnnmem.core.provenance import read_record, sidecar_path
from rnnmem.core.seeds import seed_sequence
from rnnmem.core.settings import from_settings, schema_defaults, settings_json
from rnnmem.forgetting import claims as fc
from rnnmem.forgetting.settings import ClaimSettings, claim_settings
from tests.forgetting.test_aggregate import synthetic_runs


def claim_args(**claims) -> ClaimSettings:
    """The schema's claim settings, with 300 bootstrap replicates unless told otherwise."""
    section = schema_defaults("forgetting", experiment="t", claims={"bootstrap": 300, **claims})
    return from_settings(ClaimSettings, claim_settings(section, "torch", "test"))


def test_bootstrap_recovers_known_slopes():
    runs = synthetic_runs()
    frame = runs[runs["cell"] == "lstm"]
    point, boot = fc.bootstrap_slopes(frame, "K_exact", 300, np.random.default_rng(0))
    assert abs(point[1] - 0.5) < 0.02 and abs(point[2] + 0.3) < 0.02
    low, high = fc.interval(boot[:, 1], 0.95)
    assert low < point[1] < high and high - low < 0.05


def test_claim_verdicts_follow_the_data():
    claims = fc.claims_for_metric(synthetic_runs(), "K_exact", claim_args())
    verdicts = {c.claim: c.verdict for c in claims}
    assert verdicts["L1/K_exact"] == "holds" and verdicts["G1/K_exact"] == "holds"
    assert verdicts["L2/K_exact"] == "holds"
    assert verdicts["G2/K_exact"] == "fails"  # the synthetic GRU has a clear input effect
    flat = synthetic_runs(effect_units=-0.4, effect_in=0.0)
    verdicts = {c.claim: c.verdict for c in fc.claims_for_metric(flat, "K_exact", claim_args())}
    assert verdicts["L1/K_exact"] == "fails" and verdicts["G1/K_exact"] == "fails"
    assert verdicts["G2/K_exact"] == "holds" and verdicts["L2/K_exact"] == "fails"


def test_bootstrap_streams_keep_the_upper_case_cell_names():
    """The bootstrap key names the cell as the seed keys do ("LSTM"), not by its id."""
    runs = synthetic_runs()
    settings = claim_args()
    l1 = next(c for c in fc.claims_for_metric(runs, "K_exact", settings) if c.claim == "L1/K_exact")
    key = ("t", "bootstrap", "torch", "K_exact", "LSTM")
    frame = runs[runs["cell"] == "lstm"]
    _, boot = fc.bootstrap_slopes(frame, "K_exact", 300, np.random.default_rng(seed_sequence(*key)))
    assert l1.numbers["b_u_ci"] == [round(v, 6) for v in fc.interval(boot[:, 1], 0.95)]


def test_claims_are_inconclusive_without_two_sizes():
    runs = synthetic_runs(grid=(4,))
    claims = fc.claims_for_metric(runs, "K_exact", claim_args())
    assert {c.verdict for c in claims if not c.claim.startswith("O1")} == {"inconclusive"}


def test_claims_command_writes_both_files_and_names_a_bad_metric(tmp_path, capsys):
    runs = tmp_path / "runs.csv"
    synthetic_runs(runs=3, grid=(1, 2)).to_csv(runs, index=False)
    jobs = [{"command": "simulate-forgetting", "cell": "lstm"}]  # as aggregation records them
    write_json(sidecar_path(runs), {"jobs": jobs})
    settings = claim_settings(
        schema_defaults("forgetting", experiment="t", claims={"metrics": ["K_exact"]}),
        "torch",
        "test",
    )
    out = ["--runs", str(runs), "--csv", str(tmp_path / "c.csv"), "--md", str(tmp_path / "c.md")]
    assert fc.main(["--settings", settings_json(settings), *out]) == 0
    assert "Tier: **test**" in (tmp_path / "c.md").read_text()
    assert read_record(tmp_path / "c.csv")["jobs"] == jobs  # the jobs behind runs.csv
    bad = {**settings, "metrics": ["K_tol_1e-07"]}
    assert fc.main(["--settings", settings_json(bad), *out]) == 2
    assert "forgetting.claims.metrics" in capsys.readouterr().err
    assert fc.main(["--settings", settings_json({**settings, "levels": 0.9}), *out]) == 2
    assert "levels" in capsys.readouterr().err
