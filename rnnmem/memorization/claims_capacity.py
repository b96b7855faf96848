"""Memory capacity checks (memorization.md §9.3-9.4, a proposal): Jaeger's bound MC <= N, and the
capacity of the trained networks against their memory distance D.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rnnmem.core.claims import (
    Claim,
    capped,
    not_run,
    num,
    parts_numbers,
    verdict_from_parts,
)
from rnnmem.memorization.claims_common import (
    MC_SLACK,
    MEMORISED_CORR2,
    experiment_config,
    untested_note,
)
from rnnmem.memorization.tables import (
    RUN_KEYS,
    Tables,
    distance_table,
    memory_distance,
)


def claim_capacity_bound(t: Tables, theta: float) -> Claim:
    """MC <= N + 0.05 for every measured network and ESN (sanity of the MC estimates)."""
    statement = (
        "PROPOSAL (memorization.md §9.3/9.4): Jaeger's bound MC <= N holds for every trained "
        "and initial network and every ESN (sanity check of the capacity measurement)."
    )
    rule = (
        f"MC <= n_state + {MC_SLACK} for every row of capacity.csv (every state: all, top, hc) and "
        f"MC <= N + {MC_SLACK} for every ESN reservoir."
    )
    if t.capacity.empty and t.esn.empty:
        return not_run("C12-capacity-bound", statement, rule, "memory-capacity measurements")
    nets = t.capacity.assign(excess=t.capacity["mc"] - t.capacity["n_state"])
    esn = t.esn.assign(excess=t.esn["mc"] - t.esn["units"])
    bad_nets, bad_esn = nets[nets["excess"] > MC_SLACK], esn[esn["excess"] > MC_SLACK]
    numbers = {
        "networks": len(nets),
        "esn_reservoirs": len(esn),
        "violations_networks": len(bad_nets),
        "violations_esn": len(bad_esn),
        "max_MC_minus_N_networks": num(nets["excess"].max()),
        "max_MC_minus_N_esn": num(esn["excess"].max()),
        "max_bias_estimate": num(
            pd.to_numeric(pd.concat([nets["bias_estimate"], esn["bias_estimate"]])).max()
        ),
        "violations_at": capped(
            [
                f"{r.experiment} {r.cell} l={r.layers} c={r.units} p={r.position} seed={r.seed} "
                f"{r.weights} "
                f"{r.state}: MC={r.mc:.3f} > N={r.n_state}"
                for r in bad_nets.itertuples()
            ]
            + [
                f"ESN N={r.units} reservoir={r.reservoir}: MC={r.mc:.3f}"
                for r in bad_esn.itertuples()
            ]
        ),
    }
    ok = bad_nets.empty and bad_esn.empty
    return Claim("C12-capacity-bound", statement, rule, verdict_from_parts({"bound": ok}), numbers)


def _task_capacity_of_memorised(t: Tables, theta: float) -> tuple[int, int]:
    """Trained networks whose own run memorised its p: how many reach MC_task(p) >= 0.9.

    Their summed output is one linear readout of the state, so the best ridge readout
    (MC_task) must do at least as well."""
    curves = t.capacity_curves
    task = curves[
        (curves["measure"] == "task")
        & (curves["weights"] == "trained")
        & (curves["delay"] == curves["position"])
    ]
    if task.empty:
        return 0, 0
    merged = task.merge(t.runs[RUN_KEYS + ["final_loss"]], on=RUN_KEYS)
    memorised = merged[merged["final_loss"] < theta]
    return len(memorised), int((memorised["value"] >= MEMORISED_CORR2).sum())


def esn_task_comparison(t: Tables, theta: float) -> dict:
    """Spec 9.4: the ESN's ridge-readout distance next to the trained one-layer RNN's D.

    ESN D(N) = largest delay p such that the mean MAE over reservoirs is below theta for
    every p' <= p, read like the heat maps' D; compared with D(RNN, Def. 1, l=1, c=N)."""
    if t.esn_task.empty:
        return {}
    mae = t.esn_task.groupby(["units", "delay"], sort=True)["mae"].mean().reset_index()
    as_cfg = mae.rename(columns={"delay": "position", "mae": "L"}).assign(
        experiment="esn", cell="esn", task="variable", layers=1
    )
    esn_d = memory_distance(as_cfg, theta).set_index("units")["D"]
    rnn = memory_distance(experiment_config(t, "fig6", "rnn"), theta)
    rnn_d = rnn[rnn["layers"] == 1].set_index("units")["D"]
    return {
        "esn_ridge_D_by_N": {int(n): int(d) for n, d in esn_d.items()},
        "rnn_l1_D_by_c": {int(c): int(d) for c, d in rnn_d.items()},
    }


def claim_capacity_vs_distance(t: Tables, theta: float) -> Claim:
    """Compare per (type, task, l, c): Jaeger MC, memorisation distance D and the layer bound."""
    statement = (
        "PROPOSAL (memorization.md §9.3): the paper links its limit c*l - (l-1) to Jaeger's "
        "MC <= N. Per (type, l, c): the trained networks' MC should account for the delays "
        "they memorise."
    )
    rule = (
        "(a) stream MC (state = all layers, best trained network of the shape) >= "
        f"{MEMORISED_CORR2} * D - "
        f"{MC_SLACK} for every measured shape (each memorised delay needs corr^2 >= "
        f"~{MEMORISED_CORR2}); "
        f"(b) every trained network whose run memorised its p has task-aligned MC_task(p) >= "
        f"{MEMORISED_CORR2}. Reported: shares with MC trained > initial, D <= bound, D <= N; "
        f"correlation of MC and D; ESN MC by N. Theta = {theta:g}."
    )
    table = distance_table(t, theta)
    table = table[table["mc_max_trained"].notna()]
    if table.empty:
        return not_run(
            "C13-capacity-vs-distance", statement, rule, "capacity measurements of trained networks"
        )
    accounted = table["mc_max_trained"] >= MEMORISED_CORR2 * table["D"] - MC_SLACK
    n_memorised, n_task_ok = _task_capacity_of_memorised(t, theta)
    parts = {
        "a_stream_mc_accounts_for_D": bool(accounted.all()),
        "b_task_mc_of_memorised": (n_task_ok == n_memorised) if n_memorised else None,
    }
    with_initial = table[table["mc_mean_initial"].notna()]

    def label(r):
        return (
            f"{r.experiment} {r.cell} l={r.layers} c={r.units}: MC={r.mc_max_trained:.2f}, "
            f"D={r.D}, bound={r.bound}"
        )

    numbers = {
        "shapes": len(table),
        "shapes_not_accounted": capped(label(r) for r in table[~accounted].itertuples()),
        "share_mc_trained_above_initial": (
            num((with_initial["mc_mean_trained"] > with_initial["mc_mean_initial"]).mean())
            if len(with_initial)
            else None
        ),
        "share_D_within_bound": num((table["D"] <= table["bound"]).mean()),
        "share_D_within_N": num((table["D"] <= table["N"]).mean()),
        "mean_mc_trained_minus_D": num((table["mc_mean_trained"] - table["D"]).mean()),
        "memorised_networks_with_task_capacity": n_memorised,
        "of_which_MC_task_at_least_0.9": n_task_ok,
    }
    if len(table) >= 3 and table["D"].std() > 0 and table["mc_mean_trained"].std() > 0:
        numbers["correlation_mc_trained_D"] = num(
            np.corrcoef(table["mc_mean_trained"], table["D"])[0, 1]
        )
    if not t.esn.empty:
        numbers["esn_mean_mc_by_N"] = {
            int(n): num(v, 3) for n, v in t.esn.groupby("units")["mc"].mean().items()
        }
    numbers.update(esn_task_comparison(t, theta))
    numbers.update(parts_numbers(parts))
    note = (
        "Stream MC and task-aligned MC can disagree for trained networks (their state may drift on "
        "a long "
        "stream, memorization.md §9.2.7); both are reported, neither corrects the other. "
    )
    note += untested_note(parts, "task-aligned capacity of memorised runs")
    return Claim(
        "C13-capacity-vs-distance",
        statement,
        rule,
        verdict_from_parts(parts),
        numbers,
        note.strip(),
    )
