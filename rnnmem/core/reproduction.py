"""The reproduction report: every study's published numbers beside the reproduced ones, its
claims with their numbers, the tier and settings, and where every number comes from.

    python -m rnnmem reproduction-report --tier T --out results/reproduction.md \\
        --study long-memory results/long_memory/comparison.csv results/long_memory/claims.csv \\
        --study ...

Each study's compare stage writes comparison.csv (one row per published number, the columns
of rnnmem/core/compare.py plus table, cell, quantity, rule, note, source), its record, and
comparison.md (summary lines, tables, figures). This page stitches them together, per study:

    summary lines (one per published table)  <- comparison.csv
    the comparison tables and figures         <- comparison.md (links re-based)
    the claims, with their key numbers        <- claims.csv
    tier and the effective settings           <- comparison.csv's record (jobs behind it)
    where each number comes from              <- comparison.csv's source column
"""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path

import pandas as pd

from rnnmem.core.claims import key_numbers
from rnnmem.core.compare import summary_line
from rnnmem.core.io import read_csv, write_json, write_text
from rnnmem.core.provenance import jobs_behind, provenance, read_record, sidecar_path

_LINK = re.compile(r"(!?\[[^\]]*\]\()([^)#:]+)(\))")


def summary_lines(comparison: pd.DataFrame) -> list[str]:
    """One line per published table, in the order the tables first appear."""
    lines = []
    for table in dict.fromkeys(comparison["table"]):
        rows = comparison[comparison["table"] == table]
        agree_word = str(rows["rule"].iloc[0]) if "rule" in rows else "agree"
        what = "means" if rows["published_sd"].notna().all() else "values"
        lines.append(summary_line(table, rows, what, agree_word))
    return lines


def rebase_links(markdown: str, source: Path, page: Path) -> str:
    """Relative links of a page in `source`'s folder, made relative to `page`'s folder."""
    offset = os.path.relpath(source.parent, page.parent)

    def move(match):
        target = match.group(2)
        return match.group(1) + (Path(offset) / target).as_posix() + match.group(3)

    return _LINK.sub(move, markdown)


def demote(markdown: str, levels: int = 2) -> str:
    """Headings one or more levels down, so a study's page sits under the study's heading;
    a page's own title (its first level-1 heading) is dropped."""
    lines = markdown.splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    return "\n".join("#" * levels + line if line.startswith("#") else line for line in lines)


def settings_table(jobs: list[dict]) -> list[str]:
    """The effective settings of the jobs behind a study's numbers: what every job shares,
    then each key that varies with the values it takes."""
    flat = [_flatten(job) for job in jobs]
    keys = sorted({k for job in flat for k in job})
    lines = [f"{len(jobs)} jobs. Settings shared by every job, then the ones that vary:", ""]
    lines += ["| setting | value |", "|---|---|"]
    varying = []
    for key in keys:
        values = {json.dumps(job.get(key), sort_keys=True) for job in flat}
        if len(values) == 1:
            lines.append(f"| {key} | {values.pop()} |")
        else:
            varying.append((key, sorted(values)))
    for key, values in varying:
        shown = ", ".join(values[:12]) + (
            f", ... ({len(values)} values)" if len(values) > 12 else ""
        )
        lines.append(f"| {key} (varies) | {shown} |")
    return lines


def _flatten(record: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in record.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def study_section(label: str, comparison_csv: Path, claims_csv: Path, page: Path) -> list[str]:
    comparison = read_csv(comparison_csv)
    lines = [f"## {label}", ""]
    md = comparison_csv.with_suffix(".md")
    if md.is_file():  # the study's comparison page opens with its summary lines
        lines += [rebase_links(demote(md.read_text(encoding="utf-8")), md, page), ""]
    else:
        lines += [f"- {line}" for line in summary_lines(comparison)] + [""]
    claims = read_csv(claims_csv)
    lines += ["### Claims", "", "| claim | verdict | key numbers | test |", "|---|---|---|---|"]
    for row in claims.itertuples():
        numbers = key_numbers(json.loads(row.numbers)) if isinstance(row.numbers, str) else ""
        lines.append(
            f"| {row.claim} | **{row.verdict}** | {numbers} | {' '.join(str(row.rule).split())} |"
        )
    claims_md = Path(os.path.relpath(claims_csv.with_suffix(".md"), page.parent)).as_posix()
    lines += ["", f"Every claim with all its numbers: [{claims_md}]({claims_md}).", ""]
    record = read_record(comparison_csv)
    lines += ["### Tier and settings", "", f"Tier: **{record.get('tier', '?')}**.", ""]
    lines += settings_table(record.get("jobs", [])) + [""]
    lines += ["### Where each number comes from", "", "| numbers | rule: file |", "|---|---|"]
    for source, rows in comparison.groupby("source", sort=False):
        tables = ", ".join(dict.fromkeys(rows["table"]))
        lines.append(f"| {tables} (reproduced) | {source} |")
    lines.append(f"| claims | claims: {claims_csv.as_posix()} |")
    lines.append(
        "| published | data/published/ (source and reading error: data/published/README.md) |"
    )
    return lines + [""]


def main(argv) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--study",
        nargs=3,
        action="append",
        required=True,
        metavar=("LABEL", "COMPARISON_CSV", "CLAIMS_CSV"),
        help="a study's label, comparison table and claims table (repeat per study)",
    )
    parser.add_argument("--tier", required=True)
    parser.add_argument("--out", required=True, help="the report (Markdown, + its record)")
    args = parser.parse_args(argv)
    page = Path(args.out)
    lines = [
        "# Reproduction report",
        "",
        f"Tier: **{args.tier}**. Every published number that this tier reproduces, beside",
        "the reproduced one (mean, sd, seeds and 95% interval over seeds, difference, z",
        "against the published sd where there is one, and a verdict), then each study's",
        "claims. A published number the tier did not run is marked *not run*, never a zero.",
        "",
    ]
    for label, comparison_csv, claims_csv in args.study:
        lines += study_section(label, Path(comparison_csv), Path(claims_csv), page)
    write_text(page, "\n".join(lines))
    comparisons = [comparison for _, comparison, _ in args.study]
    write_json(sidecar_path(page), provenance(tier=args.tier, jobs=jobs_behind(comparisons)))
    return 0
