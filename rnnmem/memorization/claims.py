"""Claim checks of the memory-distance study (docs/studies/memorization.md §8-9).

    python -m rnnmem claims-memorization --settings JSON --tier smoke \\
        --runs runs.csv ... --esn-task esn_task.csv --csv claims.csv --md claims.md

Checks memorization.md §8 claims 1-11 (claims_training, claims_heatmaps, claims_variants) and
the §9.3-9.4 capacity checks (claims_capacity) and writes them as claims.csv (with its
provenance sidecar: the settings of the jobs behind the tables) and claims.md. A claim
whose experiment is absent from a tier is "inconclusive", never a crash. --settings: theta,
theta_sensitivity and curve_epochs of the study's config.
"""

from __future__ import annotations

import argparse

from rnnmem.core.claims import INCONCLUSIVE, Claim, write_claims
from rnnmem.core.io import write_csv
from rnnmem.core.provenance import provenance
from rnnmem.core.settings import ConfigError, add_settings_argument
from rnnmem.memorization.claims_capacity import claim_capacity_bound, claim_capacity_vs_distance
from rnnmem.memorization.claims_heatmaps import (
    claim_bimodality,
    claim_diagonal,
    claim_identity,
    claim_layer_bound,
    claim_monotone_in_p,
    claim_more_units_layers,
)
from rnnmem.memorization.claims_training import (
    claim_fig4_shape,
    claim_fixed_guess,
    claim_lstm_slower,
)
from rnnmem.memorization.claims_variants import claim_fixed_length_easier, claim_lstm_gru_worse
from rnnmem.memorization.tables import (
    Tables,
    add_table_arguments,
    distance_table,
    jobs_behind_tables,
    tables_from,
)

SETTINGS = ("curve_epochs", "theta", "theta_sensitivity")


def with_sensitivity(check, t: Tables, theta: float, thetas) -> Claim:
    """Evaluate at theta, then at each sensitivity theta; record those verdicts too."""
    claim = check(t, theta)
    outcomes = {th: check(t, th).verdict for th in thetas if th != theta}
    if claim.verdict == INCONCLUSIVE and set(outcomes.values()) <= {INCONCLUSIVE}:
        return claim  # nothing testable at any threshold: no sensitivity to report
    for th, verdict in outcomes.items():
        claim.numbers[f"verdict_at_theta_{th:g}"] = verdict
    if outcomes:
        text = "; ".join(f"theta={th:g}: {v}" for th, v in outcomes.items())
        claim.note = f"{claim.note.strip()} Sensitivity: {text}.".strip()
    return claim


def evaluate_claims(t: Tables, theta: float, thetas, curve_epochs: int) -> list[Claim]:
    """Claims 1-11 of memorization.md §8 in order, then the two capacity checks of §9."""

    # Claims 2 and 3 also need the plotted window of the learning curves.
    def fig4_shape(tables, th):
        return claim_fig4_shape(tables, th, curve_epochs)

    def lstm_slower(tables, th):
        return claim_lstm_slower(tables, th, curve_epochs)

    # Claims 1, 5, 10 and 12 do not use theta; all others are re-evaluated at each
    # sensitivity theta.
    claims = [
        claim_fixed_guess(t, theta),
        with_sensitivity(fig4_shape, t, theta, thetas),
        with_sensitivity(lstm_slower, t, theta, thetas),
        with_sensitivity(claim_identity, t, theta, thetas),
        claim_monotone_in_p(t, theta),
        with_sensitivity(claim_more_units_layers, t, theta, thetas),
        with_sensitivity(claim_diagonal, t, theta, thetas),
        with_sensitivity(claim_bimodality, t, theta, thetas),
        with_sensitivity(claim_layer_bound, t, theta, thetas),
        claim_lstm_gru_worse(t, theta),
        with_sensitivity(claim_fixed_length_easier, t, theta, thetas),
        claim_capacity_bound(t, theta),
        with_sensitivity(claim_capacity_vs_distance, t, theta, thetas),
    ]
    for claim in claims:
        claim.note = claim.note.strip()
    if t.missing:
        for claim in claims:
            if claim.verdict == INCONCLUSIVE:
                missing = f" Empty or missing inputs: {', '.join(t.missing)}."
                claim.note = (claim.note + missing).strip()
    return claims


def main(argv) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rnnmem claims-memorization",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_settings_argument(parser)
    parser.add_argument("--tier", required=True, help="tier name written into both outputs")
    add_table_arguments(parser)
    parser.add_argument("--csv", required=True, help="claims table (CSV, + provenance sidecar)")
    parser.add_argument("--md", required=True, help="claims report (Markdown)")
    parser.add_argument(
        "--distance-table",
        default=None,
        help="optional CSV: per heat-map shape D, bound, N and MC (trained/initial)",
    )
    args = parser.parse_args(argv)
    if sorted(args.settings) != sorted(SETTINGS):
        raise ConfigError(f"--settings: expected exactly {list(SETTINGS)}")
    theta, thetas = args.settings["theta"], args.settings["theta_sensitivity"]
    curve_epochs = args.settings["curve_epochs"]
    tables = tables_from(args)
    claims = evaluate_claims(tables, theta, thetas, curve_epochs)
    record = provenance(
        tier=args.tier,
        theta=theta,
        theta_sensitivity=thetas,
        curve_epochs=curve_epochs,
        missing_inputs=tables.missing,
        jobs=jobs_behind_tables(args),
    )
    title = "Memory distance (Illium et al. 2022): claim checks"
    write_claims(claims, args.csv, args.md, title, args.tier, record)
    if args.distance_table:
        write_csv(args.distance_table, distance_table(tables, theta), provenance=record)
    return 0
