"""Claims: each statement of a paper, checked against our numbers.

A study's claim checks return `Claim` records; `write_claims` renders them to
claims.csv (machine-readable) and claims.md (readable), both stating the tier.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rnnmem.core.io import write_csv, write_text

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


def num(value, digits: int = 4):
    """A number for the claims table: rounded, NaN -> None, inf -> 'never'."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    value = float(value)
    if np.isnan(value):
        return None
    if np.isinf(value):
        return "never"
    return round(value, digits)


def capped(items: list, limit: int = 25) -> list:
    """Long lists in the claims table stay readable: the first `limit`, then a count."""
    items = list(items)
    return items if len(items) <= limit else items[:limit] + [f"... (+{len(items) - limit} more)"]


def verdict_from_parts(parts: dict) -> str:
    """One part: holds / fails / inconclusive (None). Several parts: any untestable part ->
    inconclusive; all hold -> holds; none hold -> fails; otherwise partly."""
    values = list(parts.values())
    if len(values) == 1:
        return verdict_from(values[0])
    if not values or any(v is None for v in values):
        return INCONCLUSIVE
    if all(values):
        return HOLDS
    return FAILS if not any(values) else PARTLY


def parts_numbers(parts: dict) -> dict:
    return {
        f"part_{k}": ("untestable" if v is None else ("holds" if v else "fails"))
        for k, v in parts.items()
    }


def not_run(claim_id, statement, rule, what) -> Claim:
    """The claim's experiment is absent from this tier (disabled or not aggregated)."""
    return Claim(
        claim_id,
        statement,
        rule,
        INCONCLUSIVE,
        {},
        f"Not in this tier's results: {what}. Nothing to test.",
    )


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


def summary_main(argv) -> int:
    """`rnnmem claims-summary`: every study's claims in one table and one page."""
    import argparse

    from rnnmem.core.io import read_csv

    parser = argparse.ArgumentParser(prog="rnnmem claims-summary")
    parser.add_argument("--claims", nargs="+", required=True, help="claims.csv of each study")
    parser.add_argument("--studies", nargs="+", required=True, help="study name of each file")
    parser.add_argument("--csv", required=True)
    parser.add_argument("--md", required=True)
    parser.add_argument("--tier", required=True)
    args = parser.parse_args(argv)
    if len(args.claims) != len(args.studies):
        parser.error("--claims and --studies must have the same length")
    frames = []
    for study, path in zip(args.studies, args.claims, strict=True):
        frame = read_csv(path)
        frame.insert(0, "study", study)
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    write_csv(args.csv, table)
    lines = [
        f"# Claims of every study (tier: {args.tier})",
        "",
        "| study | claim | verdict | test |",
        "|---|---|---|---|",
    ]
    for row in table.itertuples():
        lines.append(
            f"| {row.study} | {row.claim} | **{row.verdict}** | {' '.join(str(row.rule).split())} |"
        )
    counts = table.groupby(["study", "verdict"]).size()
    lines += ["", "| study | verdict | claims |", "|---|---|---|"]
    lines += [f"| {s} | {v} | {n} |" for (s, v), n in counts.items()]
    lines += ["", "Details and numbers: `results/<study>/claims.md`."]
    write_text(args.md, "\n".join(lines) + "\n")
    return 0
