"""Claims: each statement of a paper, checked against our numbers.

A study's claim checks return `Claim` records; `write_claims` renders them to
claims.csv (machine-readable) and claims.md (readable), both stating the tier.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rnnmem.core.io import read_csv, write_csv, write_text
from rnnmem.core.provenance import jobs_behind, provenance, read_record

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


def sig(value, digits: int = 4):
    """A number for the claims table to `digits` significant digits (where `num` rounds to
    decimals, which would flatten errors of order 1e-3), NaN and inf -> None."""
    if value is None or not np.isfinite(value):
        return None
    return float(f"{float(value):.{digits}g}")


def count_verdict(agree: int, tested: int) -> str:
    """A claim tested on several units: holds if every tested unit agrees, fails if none
    does, partly if some do; inconclusive if no unit was testable."""
    if tested == 0:
        return INCONCLUSIVE
    return HOLDS if agree == tested else FAILS if agree == 0 else PARTLY


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
    if isinstance(value, bool) or value is None:
        return {True: "yes", False: "no", None: "-"}[value]
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value):
        return ", ".join(_fmt(v) for v in value)
    return " ".join(str(value).split()).replace("|", "/")


def readable_numbers(numbers: dict, prefix: str = "") -> list[tuple[str, str]]:
    """A claim's numbers as (quantity, value) rows: nested records become dotted names
    ("E1.mean_rnn"), lists of records get their position ("cells[2].z"), numbers 4 digits."""
    rows = []
    for key, value in numbers.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows += readable_numbers(value, f"{name}.")
        elif isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
            for i, item in enumerate(value):
                item = item if isinstance(item, dict) else {"": item}
                rows += readable_numbers(item, f"{name}[{i}].")
        else:
            rows.append((name.rstrip("."), _fmt(value)))
    return rows


def key_numbers(numbers: dict, limit: int = 3) -> str:
    """The first few of a claim's numbers, for one table cell ("mean = 1.12; sd = 0.2")."""
    rows = readable_numbers(numbers)
    text = "; ".join(f"{k} = {v}" for k, v in rows[:limit])
    return text + (f"; ... (+{len(rows) - limit})" if len(rows) > limit else "")


def write_claims(claims: list[Claim], csv_path, md_path, title: str, tier: str, provenance=None):
    rows = [
        {
            "claim": c.claim,
            "statement": c.statement,
            "rule": c.rule,
            "verdict": c.verdict,
            # the claim's own order (not sorted): its key numbers come first
            "numbers": json.dumps(c.numbers, default=str),
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
            lines += [f"| {k} | {v} |" for k, v in readable_numbers(c.numbers)]
            lines.append("")
        if c.note:
            lines += [c.note, ""]
    write_text(md_path, "\n".join(lines))


def summary_main(argv) -> int:
    """`python -m rnnmem claims-summary`: every study's claims in one table and one page.

    The table's sidecar holds each study's claims record and the jobs behind all of them."""
    parser = argparse.ArgumentParser(description="every study's claims in one table")
    parser.add_argument("--claims", nargs="+", required=True, help="claims.csv of each study")
    parser.add_argument("--studies", nargs="+", required=True, help="study name of each file")
    parser.add_argument("--csv", required=True)
    parser.add_argument("--md", required=True)
    parser.add_argument("--tier", required=True)
    args = parser.parse_args(argv)
    if len(args.claims) != len(args.studies):
        parser.error("--claims and --studies must have the same length")
    frames, studies = [], {}
    for study, path in zip(args.studies, args.claims, strict=True):
        frame = read_csv(path)
        frame.insert(0, "study", study)
        frames.append(frame)
        studies[study] = read_record(path)
    record = provenance(tier=args.tier, studies=studies, jobs=jobs_behind(args.claims))
    table = pd.concat(frames, ignore_index=True)
    write_csv(args.csv, table, provenance=record)
    lines = [
        f"# Claims of every study (tier: {args.tier})",
        "",
        "| study | claim | verdict | key numbers | test |",
        "|---|---|---|---|---|",
    ]
    for row in table.itertuples():
        numbers = key_numbers(json.loads(row.numbers)) if isinstance(row.numbers, str) else ""
        rule = " ".join(str(row.rule).split())
        lines.append(f"| {row.study} | {row.claim} | **{row.verdict}** | {numbers} | {rule} |")
    counts = table.groupby(["study", "verdict"]).size()
    lines += ["", "| study | verdict | claims |", "|---|---|---|"]
    lines += [f"| {s} | {v} | {n} |" for (s, v), n in counts.items()]
    lines += ["", "Details and numbers: `results/<study>/claims.md`."]
    write_text(args.md, "\n".join(lines) + "\n")
    return 0
