"""Claims about training (memorization.md §8 claims 1-3): the fixed-guess level, the shape of the
RNN learning curves (Fig. 4) and the slower LSTM (Fig. 5).
"""

from __future__ import annotations

import numpy as np

from rnnmem.core.claims import (
    Claim,
    capped,
    not_run,
    num,
    parts_numbers,
    verdict_from_parts,
)
from rnnmem.memorization.claims_common import (
    FIXED_GUESS_CONFIG_MAX,
    FIXED_GUESS_RUN_MAX,
    STILL_DECREASING,
    hit_spread,
    median_hit,
    untested_note,
)
from rnnmem.memorization.tables import (
    MOVING_AVERAGE,
    NEAR_GUESS,
    Tables,
    config_losses,
    experiment_rows,
    hits_for,
)


def claim_fixed_guess(t: Tables, theta: float) -> Claim:
    """Claim 1: every configuration ends at or below the fixed-guess level."""
    statement = "Every configuration ends at or below the fixed-guess level 0.25 (Figs. 4-9)."
    rule = (
        f"L <= {FIXED_GUESS_CONFIG_MAX} for every configuration of every experiment; runs with "
        f"final loss > {FIXED_GUESS_RUN_MAX} or diverged are counted and listed (failed training)."
    )
    if t.runs.empty:
        return not_run("C1-fixed-guess", statement, rule, "no runs at all")
    cfg = config_losses(t.runs)
    above = cfg[~(cfg["L"] <= FIXED_GUESS_CONFIG_MAX)]  # NaN L (all runs diverged) also fails
    bad_runs = t.runs[(t.runs["final_loss"] > FIXED_GUESS_RUN_MAX) | t.runs["diverged"]]
    worst = cfg.loc[cfg["L"].idxmax()] if cfg["L"].notna().any() else None

    def label(r):
        return f"{r.experiment} {r.cell} {r.task} l={r.layers} c={r.units} p={r.position}"

    numbers = {
        "configurations": len(cfg),
        "configurations_above_0.26": len(above),
        "max_L": num(cfg["L"].max()),
        "max_L_at": label(worst) if worst is not None else None,
        "runs": len(t.runs),
        "runs_above_0.27_or_diverged": len(bad_runs),
        "runs_diverged": int(t.runs["diverged"].sum()),
        "failed_runs": capped(
            f"{label(r)} seed={r.seed}: " + ("diverged" if r.diverged else f"{r.final_loss:.3f}")
            for r in bad_runs.itertuples()
        ),
        "configurations_above": capped(f"{label(r)}: {r.L:.3f}" for r in above.itertuples()),
    }
    return Claim(
        "C1-fixed-guess", statement, rule, verdict_from_parts({"all": above.empty}), numbers
    )


def claim_fig4_shape(t: Tables, theta: float, curve_epochs: int) -> Claim:
    """Claim 2: the shape of the RNN learning curves (l = 1, c = 5)."""
    statement = (
        "RNN, l=1, c=5: p=1..4 are learned quickly; p=5 also ends memorised but later and with "
        "more spread; p=6..8 plateau below 0.25 (around 0.15); p=9, 10 end near 0.25."
    )
    rule = (
        f"(a) p=1..4: in most seeds the {MOVING_AVERAGE}-epoch moving average first drops below "
        "theta "
        f"within {curve_epochs} epochs, and L < theta; (b) p=5: L < theta, median first-hit epoch "
        "larger "
        f"and first-hit IQR larger than for every p=1..4; (c) p=6..8: theta <= L <= {NEAR_GUESS}; "
        f"(d) p=9, 10: final loss > {NEAR_GUESS} in most seeds. Theta = {theta:g}."
    )
    runs = experiment_rows(t.runs, "fig4", "rnn")
    if runs.empty:
        return not_run("C2-fig4-shape", statement, rule, "fig4")
    cfg = config_losses(runs).set_index("position")
    hits, hit_note = hits_for(t, "fig4", theta)
    tested = set(cfg.index)
    L = lambda p: cfg.loc[p, "L"]  # noqa: E731
    numbers = {f"L_p{p}": num(L(p)) for p in sorted(tested)}
    numbers.update({f"median_first_hit_p{p}": num(median_hit(hits, p)) for p in sorted(tested)})

    def has(ps):
        return set(ps) <= tested

    parts = {}
    if has(range(1, 5)):
        quick = {
            p: float((hits.loc[hits["position"] == p, "first_hit"] <= curve_epochs).mean())
            for p in range(1, 5)
        }
        numbers.update({f"share_hit_within_window_p{p}": num(s) for p, s in quick.items()})
        parts["a_p1to4_quick"] = all(quick[p] > 0.5 and L(p) < theta for p in range(1, 5))
    else:
        parts["a_p1to4_quick"] = None
    if has(range(1, 6)):
        spreads = {p: hit_spread(hits, p) for p in range(1, 6)}
        numbers.update({f"first_hit_iqr_p{p}": num(s) for p, s in spreads.items()})
        later = median_hit(hits, 5) > max(median_hit(hits, p) for p in range(1, 5))
        wider = spreads[5] > max(spreads[p] for p in range(1, 5))
        parts["b_p5_later"] = bool(L(5) < theta and later and wider)
    else:
        parts["b_p5_later"] = None
    parts["c_p6to8_plateau"] = (
        all(theta <= L(p) <= NEAR_GUESS for p in range(6, 9)) if has(range(6, 9)) else None
    )
    if has((9, 10)):
        near = {
            p: float((runs.loc[runs["position"] == p, "final_loss"] > NEAR_GUESS).mean())
            for p in (9, 10)
        }
        numbers.update({f"share_seeds_above_0.2_p{p}": num(s) for p, s in near.items()})
        parts["d_p9to10_near_guess"] = all(s > 0.5 for s in near.values())
    else:
        parts["d_p9to10_near_guess"] = None
    numbers.update(parts_numbers(parts))
    note = untested_note(parts, "positions") + hit_note
    return Claim("C2-fig4-shape", statement, rule, verdict_from_parts(parts), numbers, note.strip())


def claim_lstm_slower(t: Tables, theta: float, curve_epochs: int) -> Claim:
    """Claim 3: the LSTM learns p = 1..5 later than the RNN and is still improving at epoch 500."""
    statement = (
        "Fig. 5: for p=1..5 the LSTM first reaches theta later than the RNN, and its curves are "
        "still decreasing at epoch 500 for some p >= 4."
    )
    rule = (
        "(a) median first-hit epoch (10-epoch moving average < theta, never = infinity) of fig5 "
        "LSTM > "
        f"that of fig4 RNN for every p=1..5 (a p where neither reaches theta is untestable); "
        "(b) for some p >= 4 the seed-mean LSTM loss over epochs "
        f"{curve_epochs - 49}-{curve_epochs} is at "
        f"least {STILL_DECREASING} below its mean over epochs "
        f"{curve_epochs - 99}-{curve_epochs - 50}. "
        f"Theta = {theta:g}."
    )
    if (
        experiment_rows(t.runs, "fig5", "lstm").empty
        and experiment_rows(t.curves, "fig5", "lstm").empty
    ):
        return not_run("C3-lstm-slower", statement, rule, "fig5")
    lstm, note_l = hits_for(t, "fig5", theta)
    rnn, note_r = hits_for(t, "fig4", theta)
    numbers, parts = {}, {}
    later = []
    for p in range(1, 6):
        m_lstm, m_rnn = median_hit(lstm, p), median_hit(rnn, p)
        numbers[f"median_first_hit_p{p}_lstm"] = "not run" if np.isnan(m_lstm) else num(m_lstm)
        numbers[f"median_first_hit_p{p}_rnn"] = "not run" if np.isnan(m_rnn) else num(m_rnn)
        if np.isnan(m_lstm) or np.isnan(m_rnn) or (np.isinf(m_lstm) and np.isinf(m_rnn)):
            later.append(None)
        else:
            later.append(bool(m_lstm > m_rnn))
    # One p where the LSTM is not later already fails "every p"; otherwise any untestable p
    # leaves the part open.
    parts["a_lstm_later_p1to5"] = False if False in later else (None if None in later else True)

    curves = experiment_rows(t.curves, "fig5", "lstm")
    decreasing = {}
    if not curves.empty and curves["epoch"].max() >= curve_epochs >= 100:
        mean = curves.groupby(["position", "epoch"], sort=True)["train_loss"].mean()
        for p in sorted(p for p in curves["position"].unique() if p >= 4):
            curve = mean.loc[p]
            recent = curve.loc[curve_epochs - 49 : curve_epochs].mean()
            before = curve.loc[curve_epochs - 99 : curve_epochs - 50].mean()
            decreasing[p] = bool(before - recent >= STILL_DECREASING)
            numbers[f"lstm_drop_over_last_50_epochs_p{p}"] = num(before - recent)
        parts["b_still_decreasing"] = any(decreasing.values()) if decreasing else None
    else:
        parts["b_still_decreasing"] = None
    numbers.update(parts_numbers(parts))
    note = " ".join(s for s in (note_l, note_r) if s)
    if parts["b_still_decreasing"] is None:
        note += f" Curves do not reach epoch {curve_epochs} (or no p >= 4): part b untestable."
    if parts["a_lstm_later_p1to5"] is None:
        note += " Part a needs p=1..5 in fig4 and fig5 with at least one of the two reaching theta."
    return Claim(
        "C3-lstm-slower", statement, rule, verdict_from_parts(parts), numbers, note.strip()
    )
