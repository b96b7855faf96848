"""Published beside reproduced for the review classification: Tables 5 and 6.

The paper's review numbers correspond to the `authors` layout (the reference's reshape,
docs/studies/long-memory.md A10), so only that layout's seeds are compared; `transpose` is
this pipeline's extra and has no published counterpart.

    Table 5   mean and sd (ddof 0) over seeds of accuracy, macro precision, recall and the
              cross-entropy loss: compare_mean against the published sd
    Table 6   the best over seeds (max; min for the loss): compare_point, agreeing when
              within one published sd of the same model and metric (Table 5's sd: how far
              seeds spread, so how far a best over other seeds can move)

Every row notes that the embeddings are retrained (A15: the authors' embedded file was not
published), and, where the tier's jobs differ from the paper's protocol, how (seeds, epochs,
sequence length). The rows go into the study's comparison table
(rnnmem/long_memory/compare.py writes it).
"""

from __future__ import annotations

import pandas as pd

from rnnmem.core.compare import NOT_RUN, compare_mean, compare_point, not_run
from rnnmem.long_memory.study import REVIEW_PRIMARY_LAYOUT

# Table 5/6 metric -> quantity; the published files' columns are <metric>_mean, _sd (Table 5)
# and <metric>_max, loss_min (Table 6).
QUANTITY = {
    "accuracy": "test accuracy",
    "precision": "test macro precision",
    "recall": "test macro recall",
    "loss": "test cross-entropy",
}
BEST = {"accuracy": "max", "precision": "max", "recall": "max", "loss": "min"}
TABLE5_COLUMNS = ["model"] + [f"{m}_{s}" for m in QUANTITY for s in ("mean", "sd")]
TABLE6_COLUMNS = ["model"] + [f"{m}_{BEST[m]}" for m in QUANTITY]
RULE5 = "within one published sd"
RULE6 = "within one published sd (Table 5's)"
# The paper's protocol (docs/studies/long-memory.md §11.3), for the notes only: never a
# default or a setting.
PAPER = {"seeds": 100, "epochs": 100, "seq_len": 150}
EMBEDDINGS = "word2vec retrained (A15: the authors' embeddings were not published)"


def _tier_note(n_seeds: int, settings: dict | None) -> str:
    """How this tier's job differs from the paper's protocol ('' when it does not)."""
    seen = {"seeds": n_seeds}
    if settings is not None:
        seen |= {"epochs": settings["training"]["epochs"], "seq_len": settings["seq_len"]}
    words = {"seeds": "seeds", "epochs": "epochs", "seq_len": "tokens per review"}
    parts = [f"{v} {words[k]} (the paper: {PAPER[k]})" for k, v in seen.items() if v != PAPER[k]]
    return "this tier runs " + ", ".join(parts) if parts else ""


def _job(jobs: list[dict], model: str) -> dict | None:
    """The settings of the authors-layout job of `model`, when its record names them."""
    for job in jobs:
        if job.get("layout") == REVIEW_PRIMARY_LAYOUT and job.get("model") == model:
            if "training" in job and "seq_len" in job:
                return job
    return None


def _cells(published: pd.DataFrame, runs: pd.DataFrame | None, jobs: list[dict]):
    """Per published model: its label, the authors-layout seed rows (empty: not run), the
    reason when not run, and the tier note."""
    for p in published.itertuples():
        label = str(p.model).upper()  # the published names: RNN, LSTM, MRNNF50, MLSTMF50
        if runs is None:
            yield p, label, None, "the review classification is not run by this tier", ""
            continue
        authors = runs[runs["layout"] == REVIEW_PRIMARY_LAYOUT]
        seeds = authors[authors["label"].str.upper() == label]
        if authors.empty:
            why = "this tier runs no `authors` layout, the one the paper's numbers are (A10)"
        elif seeds.empty:
            why = "this tier does not train the model (long_memory.reviews.models, K)"
        else:
            why = ""
        settings = _job(jobs, seeds["model"].iloc[0]) if len(seeds) else None
        yield p, label, (seeds if len(seeds) else None), why, _tier_note(len(seeds), settings)


def _note(verdict: str, why: str, tier_note: str) -> str:
    if verdict == NOT_RUN:
        return why
    return "; ".join(n for n in (EMBEDDINGS, tier_note) if n)


def table5_rows(published, runs, jobs, source: str) -> list[dict]:
    """Table 5 rows: mean and sd over the authors-layout seeds of each published model."""
    rows = []
    for p, label, seeds, why, tier_note in _cells(published, runs, jobs):
        for metric, quantity in QUANTITY.items():
            mean, sd = float(getattr(p, f"{metric}_mean")), float(getattr(p, f"{metric}_sd"))
            if seeds is None:
                result = not_run(mean, sd)
            else:
                result = compare_mean(mean, sd, seeds[metric].to_numpy(float), ddof=0)
            note = _note(result["verdict"], why, tier_note)
            head = {"table": "Table 5", "cell": label, "quantity": quantity}
            rows.append(head | result | {"rule": RULE5, "note": note, "source": source})
    return rows


def table6_rows(published6, published5, runs, jobs, source: str) -> list[dict]:
    """Table 6 rows: the best over the authors-layout seeds (max; min for the loss), against
    a tolerance of one published Table 5 sd of the same model and metric."""
    sds = published5.set_index(published5["model"].str.upper())
    rows = []
    for p, label, seeds, why, tier_note in _cells(published6, runs, jobs):
        if label not in sds.index:
            raise ValueError(f"{label} is in Table 6 but not in Table 5 of the published data")
        for metric, quantity in QUANTITY.items():
            best = BEST[metric]
            value = float(getattr(p, f"{metric}_{best}"))
            if seeds is None:
                result = not_run(value, None)
            else:
                values = seeds[metric].to_numpy(float)
                reproduced = values.max() if best == "max" else values.min()
                tolerance = float(sds.loc[label, f"{metric}_sd"])
                result = compare_point(value, reproduced, tolerance, seeds=len(values))
            note = _note(result["verdict"], why, tier_note)
            head = {"table": "Table 6", "cell": label, "quantity": f"{quantity} ({best})"}
            rows.append(head | result | {"rule": RULE6, "note": note, "source": source})
    return rows
