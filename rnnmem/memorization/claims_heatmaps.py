"""Claims about the RNN heat maps (memorization.md §8 claims 4-9, Figs. 6 and 7): the identity case,
monotonicity in p, c and l, the diagonal, bimodality and the layer bound.
"""

from __future__ import annotations

from rnnmem.core.claims import (
    INCONCLUSIVE,
    Claim,
    capped,
    not_run,
    num,
    parts_numbers,
    verdict_from_parts,
)
from rnnmem.memorization.claims_common import (
    NOISE_MARGIN,
    RARE_SHARE,
    adjacent_violations,
    experiment_config,
    gap_note,
    untested_note,
)
from rnnmem.memorization.tables import (
    HIST_WIDTH,
    NEAR_GUESS,
    Tables,
    band_shares,
    bound,
    config_losses,
    experiment_rows,
    memory_distance,
    two_modes,
)


def claim_identity(t: Tables, theta: float) -> Claim:
    """Claim 4: a single RNN unit in a single layer memorises only p = 1."""
    statement = "Fig. 6: with l=1, c=1 the RNN memorises only p=1 (the identity case)."
    rule = (
        "fig6 l=1, c=1: L(p=1) < theta and L(p) >= theta for every tested p >= 2. "
        f"Theta = {theta:g}."
    )
    cfg = experiment_config(t, "fig6", "rnn")
    cell = cfg[(cfg["layers"] == 1) & (cfg["units"] == 1)].set_index("position")["L"]
    if 1 not in cell.index or len(cell) < 2:
        return Claim(
            "C4-identity",
            statement,
            rule,
            INCONCLUSIVE,
            {f"L_p{p}": num(v) for p, v in cell.items()},
            "fig6 did not run l=1, c=1 with p=1 and some p >= 2 in this tier.",
        )
    memorised = [int(p) for p, v in cell.items() if v < theta]
    numbers = {f"L_p{p}": num(v) for p, v in cell.items()}
    numbers["memorised_positions"] = memorised
    return Claim(
        "C4-identity", statement, rule, verdict_from_parts({"only_p1": memorised == [1]}), numbers
    )


def claim_monotone_in_p(t: Tables, theta: float) -> Claim:
    """Claim 5: the loss grows with the distance p, up to noise."""
    statement = "Fig. 6: for fixed (l, c) the loss is non-decreasing in p (up to noise)."
    rule = (
        f"Count neighbouring tested p with L(p_next) < L(p) - {NOISE_MARGIN}; holds if violations "
        f"< {RARE_SHARE:.0%} of the pairs."
    )
    cfg = experiment_config(t, "fig6", "rnn")
    pairs, n_bad, bad = adjacent_violations(
        cfg, "position", ["layers", "units"], "L", lambda prev, nxt: nxt < prev - NOISE_MARGIN
    )
    if pairs == 0:
        return not_run("C5-monotone-p", statement, rule, "fig6 with two or more positions")
    numbers = {
        "pairs": pairs,
        "violations": n_bad,
        "share": num(n_bad / pairs),
        "violations_at": capped(bad),
    }
    return Claim(
        "C5-monotone-p",
        statement,
        rule,
        verdict_from_parts({"rare": n_bad / pairs < RARE_SHARE}),
        numbers,
    )


def claim_more_units_layers(t: Tables, theta: float) -> Claim:
    """Claim 6: more cells or more layers never make the task harder."""
    statement = (
        "Fig. 6: more cells and more layers help: L non-increasing in c and l; "
        "D non-decreasing in c and l."
    )
    rule = (
        "(a) c and (b) l: count neighbouring tested values with L(next) > L(prev) + "
        f"{NOISE_MARGIN}; holds "
        f"if < {RARE_SHARE:.0%} of the pairs; (c) c and (d) l: D(next) >= D(prev) for every "
        "neighbouring "
        f"pair (D with theta = {theta:g})."
    )
    cfg = experiment_config(t, "fig6", "rnn")
    if cfg.empty:
        return not_run("C6-more-units-layers", statement, rule, "fig6")
    distance = memory_distance(cfg, theta)
    higher = lambda prev, nxt: nxt > prev + NOISE_MARGIN  # noqa: E731
    lower = lambda prev, nxt: nxt < prev  # noqa: E731
    checks = {
        "a_L_in_c": (cfg, "units", ["layers", "position"], "L", higher, RARE_SHARE),
        "b_L_in_l": (cfg, "layers", ["units", "position"], "L", higher, RARE_SHARE),
        "c_D_in_c": (distance, "units", ["layers"], "D", lower, 0.0),
        "d_D_in_l": (distance, "layers", ["units"], "D", lower, 0.0),
    }
    numbers, parts = {}, {}
    for name, (table, along, within, value, worse, allowed) in checks.items():
        pairs, n_bad, bad = adjacent_violations(table, along, within, value, worse)
        numbers[f"{name}_pairs"], numbers[f"{name}_violations"] = pairs, n_bad
        if n_bad:
            numbers[f"{name}_violations_at"] = capped(bad, 10)
        # "Rare" for L (< 5%); none at all for D, as the paper words it.
        parts[name] = None if pairs == 0 else (n_bad / pairs < allowed if allowed else n_bad == 0)
    numbers.update(parts_numbers(parts))
    note = untested_note(parts, "with a single cell count or layer count") + gap_note(distance)
    return Claim(
        "C6-more-units-layers", statement, rule, verdict_from_parts(parts), numbers, note.strip()
    )


def claim_diagonal(t: Tables, theta: float) -> Claim:
    """Claim 7: one layer of c cells memorises p = c, i.e. D(RNN, Def. 1, 1, c) >= c."""
    statement = "Fig. 6 text: with one layer, n cells always memorise p = n (D >= c)."
    rule = (
        f"fig6 l=1: D(c) >= c for every tested c <= max tested p (D with theta = {theta:g}); "
        "report "
        f"the largest n such that this holds for every tested c <= n."
    )
    distance = memory_distance(experiment_config(t, "fig6", "rnn"), theta)
    rows = distance[distance["layers"] == 1].sort_values("units")
    testable = rows[rows["units"] <= rows["p_max"]]
    if testable.empty:
        return Claim(
            "C7-diagonal",
            statement,
            rule,
            INCONCLUSIVE,
            {},
            "fig6 with l=1 and some c <= max p was not run in this tier.",
        )
    ok = testable["D"] >= testable["units"]
    largest = 0
    for units, good in zip(testable["units"], ok, strict=True):
        if not good:
            break
        largest = int(units)
    numbers = {
        "D_by_c": {int(r.units): int(r.D) for r in rows.itertuples()},
        "largest_n_holding_for_all_smaller": largest,
        "failing_c": [int(c) for c in testable.loc[~ok, "units"]],
    }
    untestable = [int(c) for c in rows.loc[rows["units"] > rows["p_max"], "units"]]
    note = f"c larger than the largest tested p, untestable: {untestable}. " if untestable else ""
    note += gap_note(rows)
    return Claim(
        "C7-diagonal", statement, rule, verdict_from_parts({"all": bool(ok.all())}), numbers, note
    )


def claim_bimodality(t: Tables, theta: float) -> Claim:
    """Claim 8: few configurations land between memorised and the fixed guess."""
    statement = (
        "Figs. 6/7 text: few configurations land in the middle band; the outcome is bimodal."
    )
    rule = (
        f"fig6 configurations: share with theta <= L <= {NEAR_GUESS} smaller than both the share "
        "with "
        f"L < theta and the share with L > {NEAR_GUESS} (theta = {theta:g}). Reported too: whether "
        "the "
        f"run-level histogram (bins {HIST_WIDTH}) has two separated modes (the emptiest "
        "middle-band bin "
        f"below half of the smaller of the two peaks)."
    )
    runs = experiment_rows(t.runs, "fig6", "rnn")
    if runs.empty:
        return not_run("C8-bimodality", statement, rule, "fig6")
    shares = band_shares(config_losses(runs)["L"], theta)
    modes = two_modes(runs["final_loss"], theta)
    numbers = {
        "configurations": shares["n"],
        "share_below_theta": num(shares["low"]),
        "share_middle_band": num(shares["middle"]),
        "share_above_0.2": num(shares["high"]),
        "runs": int(runs["final_loss"].notna().sum()),
        "histogram_peak_low": modes["peak_low"],
        "histogram_peak_high": modes["peak_high"],
        "histogram_middle_valley": modes["valley"],
        "histogram_two_separated_modes": modes["separated"],
    }
    ok = shares["middle"] < shares["low"] and shares["middle"] < shares["high"]
    return Claim("C8-bimodality", statement, rule, verdict_from_parts({"shares": ok}), numbers)


def claim_layer_bound(t: Tables, theta: float) -> Claim:
    """Claim 9: D(RNN, Def. 1, l, c) <= c*l - (l - 1)."""
    statement = (
        "Text: the memory distance of l layers of c cells is at most c*l - (l - 1) (N = c*l units)."
    )
    rule = (
        f"fig6: D <= c*l - (l-1) for every (l, c) where the bound is below the largest tested p "
        f"(elsewhere untestable); list equality cases (D with theta = {theta:g})."
    )
    distance = memory_distance(experiment_config(t, "fig6", "rnn"), theta)
    if distance.empty:
        return not_run("C9-layer-bound", statement, rule, "fig6")
    distance["bound"] = bound(distance["layers"], distance["units"])
    testable = distance[distance["bound"] < distance["p_max"]]
    if testable.empty:
        return Claim(
            "C9-layer-bound",
            statement,
            rule,
            INCONCLUSIVE,
            {"shapes": len(distance), "testable": 0},
            "No (l, c) in this tier has c*l - (l-1) below the largest tested p: the bound is "
            "untestable.",
        )
    label = lambda r: f"l={r.layers},c={r.units}: D={r.D}, bound={r.bound}"  # noqa: E731
    violations = testable[testable["D"] > testable["bound"]]
    equal = testable[testable["D"] == testable["bound"]]
    one_layer = testable[testable["layers"] == 1]
    numbers = {
        "shapes": len(distance),
        "testable": len(testable),
        "violations": len(violations),
        "violations_at": capped(label(r) for r in violations.itertuples()),
        "equality": len(equal),
        "equality_at": capped(label(r) for r in equal.itertuples()),
        "l1_testable": len(one_layer),
        "l1_with_D_equal_c": int((one_layer["D"] == one_layer["units"]).sum()),
    }
    note = (
        "For l = 1, claims 7 and 9 together say D = c; l1_with_D_equal_c counts where that holds. "
    )
    note += gap_note(distance)
    return Claim(
        "C9-layer-bound",
        statement,
        rule,
        verdict_from_parts({"bound": violations.empty}),
        numbers,
        note,
    )
