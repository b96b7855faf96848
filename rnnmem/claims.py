"""Claims: each statement of a paper, checked against our numbers.

A study's claim checks return `Claim` records; `write_claims` renders them to
claims.csv (machine-readable) and claims.md (readable), both stating the tier.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pandas as pd

from rnnmem.io import write_csv, write_text

HOLDS, PARTLY, FAILS, INCONCLUSIVE = "holds", "partly", "fails", "inconclusive"
VERDICTS = (HOLDS, PARTLY, FAILS, INCONCLUSIVE)


@dataclass
class Claim:
    claim: str  # short id, e.g. "C7-diagonal"
    statement: str  # what the paper says
    rule: str  # the operational test applied
    verdict: str  # one of VERDICTS
    numbers: dict = field(default_factory=dict)  # the numbers behind the verdict
    note: str = ""

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"claim {self.claim}: verdict {self.verdict!r} not in {VERDICTS}")


def verdict_from(ok: bool | None) -> str:
    """holds / fails from a boolean; None (not testable on this data) is inconclusive."""
    if ok is None:
        return INCONCLUSIVE
    return HOLDS if ok else FAILS


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def write_claims(claims: list[Claim], csv_path, md_path, title: str, tier: str, provenance=None):
    rows = [
        {
            "claim": c.claim,
            "statement": c.statement,
            "rule": c.rule,
            "verdict": c.verdict,
            "numbers": json.dumps(c.numbers, sort_keys=True, default=str),
            "note": c.note,
            "tier": tier,
        }
        for c in claims
    ]
    write_csv(csv_path, pd.DataFrame(rows), provenance=provenance)
    counts = {v: sum(c.verdict == v for c in claims) for v in VERDICTS}
    lines = [
        f"# {title}",
        "",
        f"Tier: **{tier}**. Verdicts: "
        + ", ".join(f"{n} {v}" for v, n in counts.items() if n)
        + ".",
        "",
        "Claims are checked on the runs of this tier; a reduced tier has fewer seeds, epochs",
        "and grid points than the paper, so a verdict here is about this tier's data.",
        "",
    ]
    for c in claims:
        lines += [f"## {c.claim}: {c.verdict.upper()}", "", f"*Paper:* {c.statement}", ""]
        lines += [f"*Test:* {c.rule}", ""]
        if c.numbers:
            lines += ["| quantity | value |", "|---|---|"]
            lines += [f"| {k} | {_fmt(v)} |" for k, v in c.numbers.items()]
            lines.append("")
        if c.note:
            lines += [c.note, ""]
    write_text(md_path, "\n".join(lines))
