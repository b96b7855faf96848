"""Claims about the other cells and the other task (memorization.md §8 claims 10-11): LSTM and GRU
against the RNN (Fig. 8), the fixed-length task against the variable one (Fig. 9).
"""

from __future__ import annotations

import numpy as np

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
    LSTM_P10_MIN,
    NOISE_MARGIN,
    RARE_SHARE,
    experiment_config,
    untested_note,
)
from rnnmem.memorization.tables import (
    Tables,
)


def claim_lstm_gru_worse(t: Tables, theta: float) -> Claim:
    """Claim 10: within the budget LSTM and GRU do worse than the RNN."""
    statement = (
        "Fig. 8 text: no LSTM configuration memorises p=10 satisfactorily; LSTM and GRU are worse "
        "than "
        "the RNN on most of the shared grid; GRU behaves like LSTM."
    )
    rule = (
        f"(a) every L(LSTM, l, c, p=10) >= {LSTM_P10_MIN}; (b) L(LSTM) >= L(RNN) and (c) L(GRU) >= "
        "L(RNN) "
        "on more than half of the (l, c, p) shared by fig8 and fig6. Reported: correlation and "
        "mean "
        f"absolute difference of the LSTM and GRU heat maps."
    )
    fig8 = experiment_config(t, "fig8")
    if fig8.empty:
        return not_run("C10-lstm-gru-worse", statement, rule, "fig8")
    keys = ["layers", "units", "position"]
    rnn = experiment_config(t, "fig6", "rnn")[keys + ["L"]]
    lstm = fig8[fig8["cell"] == "lstm"][keys + ["L"]]
    gru = fig8[fig8["cell"] == "gru"][keys + ["L"]]
    numbers, parts = {}, {}
    at10 = lstm[lstm["position"] == 10]
    if at10.empty:
        parts["a_lstm_p10_not_memorised"] = None
    else:
        numbers["min_L_lstm_p10"] = num(at10["L"].min())
        parts["a_lstm_p10_not_memorised"] = bool((at10["L"] >= LSTM_P10_MIN).all())
    for name, cell in (("b_lstm_worse", lstm), ("c_gru_worse", gru)):
        shared = cell.merge(rnn, on=keys, suffixes=("", "_rnn"))
        if shared.empty:
            parts[name] = None
            continue
        share = float((shared["L"] >= shared["L_rnn"]).mean())
        numbers[f"{name}_shared_cells"] = len(shared)
        numbers[f"{name}_share"] = num(share)
        numbers[f"{name}_share_within_0.02"] = num(
            float((shared["L"] >= shared["L_rnn"] - NOISE_MARGIN).mean())
        )
        parts[name] = share > 0.5
    pair = lstm.merge(gru, on=keys, suffixes=("_lstm", "_gru")).dropna()
    if len(pair) >= 3 and pair["L_lstm"].std() > 0 and pair["L_gru"].std() > 0:
        numbers["lstm_gru_correlation"] = num(np.corrcoef(pair["L_lstm"], pair["L_gru"])[0, 1])
    if len(pair):
        numbers["lstm_gru_mean_abs_difference"] = num((pair["L_lstm"] - pair["L_gru"]).abs().mean())
    numbers.update(parts_numbers(parts))
    note = untested_note(parts, "points, cell types or fig6") + (
        "fig6 (RNN) and fig8 may have different seed counts (paper: 5 and 10)."
    )
    return Claim("C10-lstm-gru-worse", statement, rule, verdict_from_parts(parts), numbers, note)


def claim_fixed_length_easier(t: Tables, theta: float) -> Claim:
    """Claim 11: the fixed-length task (Def. 2) is no harder than the variable one (Def. 1)."""
    statement = (
        "Fig. 9: fixed length is easier: L(Def. 2) <= L(Def. 1) almost everywhere, memorised "
        "instances "
        "stay memorised, new ones appear at large p (p=10 for l=1, c=2; p >= 8 for l=2, c=2)."
    )
    rule = (
        f"Shared (l, c, p) of fig9 and fig6: (a) L(Def. 2) > L(Def. 1) + {NOISE_MARGIN} in < "
        f"{RARE_SHARE:.0%} "
        "of them; (b) no configuration memorised under Def. 1 is not memorised under Def. 2; (c) "
        "the named "
        "cases (l=1, c=2, p=10; l=2, c=2, p=8..10) are memorised under Def. 2 and not under Def. "
        "1. "
        f"Theta = {theta:g}."
    )
    fixed, variable = experiment_config(t, "fig9", "rnn"), experiment_config(t, "fig6", "rnn")
    if fixed.empty or variable.empty:
        return not_run("C11-fixed-length-easier", statement, rule, "fig9 and fig6 (both needed)")
    keys = ["layers", "units", "position"]
    both = fixed[keys + ["L"]].merge(variable[keys + ["L"]], on=keys, suffixes=("_2", "_1"))
    if both.empty:
        return Claim(
            "C11-fixed-length-easier",
            statement,
            rule,
            INCONCLUSIVE,
            {"shared": 0},
            "fig9 and fig6 share no (l, c, p) in this tier.",
        )
    mem1, mem2 = both["L_1"] < theta, both["L_2"] < theta
    worse = both["L_2"] > both["L_1"] + NOISE_MARGIN
    lost, new = both[mem1 & ~mem2], both[mem2 & ~mem1]
    label = lambda r: f"l={r.layers},c={r.units},p={r.position}"  # noqa: E731
    index = both.set_index(keys)
    named = [(1, 2, 10)] + [(2, 2, p) for p in (8, 9, 10)]
    if all(k in index.index for k in named):
        named_new = [bool(index.loc[k, "L_2"] < theta <= index.loc[k, "L_1"]) for k in named]
        part_c = all(named_new)
    else:
        part_c = None
    parts = {
        "a_not_worse": float(worse.mean()) < RARE_SHARE,
        "b_memorised_stay": lost.empty,
        "c_named_new": part_c,
    }
    numbers = {
        "shared": len(both),
        "worse_by_more_than_0.02": int(worse.sum()),
        "share_worse": num(float(worse.mean())),
        "mean_difference_def2_minus_def1": num((both["L_2"] - both["L_1"]).mean()),
        "lost_memorised": capped(label(r) for r in lost.itertuples()),
        "new_memorised": capped(label(r) for r in new.itertuples()),
        "mean_p_of_new_memorised": num(new["position"].mean()) if len(new) else None,
        "mean_p_shared": num(both["position"].mean()),
    }
    numbers.update(parts_numbers(parts))
    note = untested_note(parts, "points of the named cases") + (
        "fig6 (Def. 1) and fig9 (Def. 2) may have different seed counts (paper: 5 and 10)."
    )
    return Claim(
        "C11-fixed-length-easier", statement, rule, verdict_from_parts(parts), numbers, note
    )
