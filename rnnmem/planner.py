"""The cost planner: what a tier costs before it runs.

    python -m rnnmem plan [--configfile F ...] [--cores N] [--json]
    python -m rnnmem plan --calibrate [--calibration PATH]

The jobs are the studies' plans for the tier's validated config (rnnmem/planned_jobs.py),
exactly as the workflow builds it: config/config.yaml unless --configfile names tier files,
schema defaults filled in, every cross-key check made. A job's estimate is

    seconds = start-up of its command + a + b * work     (rnnmem/core/costs.py)

per cost family, with coefficients from records of finished jobs under logs/, else the
calibration file, else the shipped defaults (the header says which, per family). Printed
per study and rule: jobs, core-hours, the longest job; per study and in all: the wall time
of a longest-first schedule on --cores cores, honouring each job's threads.

--calibrate times tiny real jobs of every training family in this process (and each
command's start-up in a fresh one), fits the families and writes the calibration file
(rnnmem/calibration.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import yaml

from rnnmem.core.costs import CONSTANT, DEFAULTS, CostModel, file_source, lpt_wall
from rnnmem.core.costs import records_source as fit_records
from rnnmem.core.settings import ConfigError, validated_copy
from rnnmem.planned_jobs import config_problems, planned_jobs, records

DEFAULT_TIER = "config/config.yaml"
CALIBRATION = "logs/cost_calibration.json"


class PlanError(ValueError):
    """A config the planner cannot plan: the message names the file or key."""


def merge(base: dict, extra: dict) -> dict:
    """Nested dict update, later files winning key by key (as Snakemake merges config files)."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base


def load_config(files: list[str] | None) -> dict:
    """The validated config of the tier files (the default tier when none): defaults filled
    in, every study's cross-key checks made. Raises PlanError naming the file or the key."""
    raw: dict = {}
    for name in files or [DEFAULT_TIER]:
        path = Path(name)
        if not path.is_file():
            raise PlanError(f"config file {name} not found")
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as err:
            raise PlanError(f"config file {name}: not YAML ({err})") from None
        if not isinstance(loaded, dict):
            raise PlanError(f"config file {name}: not a mapping of config keys")
        merge(raw, loaded)
    try:
        config = validated_copy(raw)
    except ConfigError as err:
        raise PlanError(str(err)) from None
    problems = config_problems(config)
    if problems:
        raise PlanError("\n".join(problems))
    return config


def cost_model(root: Path, calibration: Path, units: dict[str, str]) -> CostModel:
    """Records under root/logs, then the calibration file, then the shipped defaults."""
    return CostModel(
        [
            fit_records(records(root), units, f"{root / 'logs'}"),
            file_source(calibration, "calibration"),
            file_source(DEFAULTS, "defaults"),
        ]
    )


def clock(seconds: float) -> str:
    """h:mm:ss."""
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def estimate(jobs: dict, model: CostModel, cores: int) -> dict:
    """Per study and rule: jobs, core-hours, longest job and where the coefficients came
    from; per study and in all: core-hours and the wall time on `cores` cores."""
    studies, every, missing = {}, [], set()
    for study, planned in jobs.items():
        rules: dict[str, dict] = {}
        timed = []
        for job in planned:
            seconds = model.seconds(job)
            if seconds is None:
                missing.add(job.family)
                seconds = model.startup(job.family)
            row = rules.setdefault(
                job.rule,
                {"rule": job.rule, "jobs": 0, "core_hours": 0.0, "longest_s": 0.0, "source": []},
            )
            row["jobs"] += 1
            row["core_hours"] += seconds * job.threads / 3600
            row["longest_s"] = max(row["longest_s"], seconds)
            if model.source_of(job) not in row["source"]:  # a rule's jobs may differ in family
                row["source"].append(model.source_of(job))
            timed.append((seconds, job.threads))
        every += timed
        studies[study] = summary(list(rules.values()), timed, cores)
    return {
        "cores": cores,
        "studies": studies,
        "total": summary([], every, cores),
        "unestimated": sorted(missing),
    }


def summary(rules: list[dict], timed: list[tuple[float, int]], cores: int) -> dict:
    """A study's (or every study's) rules, jobs, core-hours, wall time and longest job."""
    return {
        "rules": [{**r, "source": ", ".join(r["source"])} for r in rules],
        "jobs": len(timed),
        "core_hours": sum(s * t for s, t in timed) / 3600,
        "wall_s": lpt_wall(timed, cores),
        "longest_s": max((s for s, _ in timed), default=0.0),
    }


def render(plan: dict, header: list[str]) -> str:
    """The plan as text: the header, one table per study, the total."""
    lines = [*header, ""]
    cores = plan["cores"]
    for study, part in plan["studies"].items():
        width = max([len(r["rule"]) for r in part["rules"]] + [20])
        lines.append(f"{study}")
        lines.append(f"  {'rule':<{width}} {'jobs':>5} {'core-hours':>11} {'longest':>9}  source")
        for r in part["rules"]:
            lines.append(
                f"  {r['rule']:<{width}} {r['jobs']:>5} {r['core_hours']:>11.3f} "
                f"{clock(r['longest_s']):>9}  {r['source']}"
            )
        lines.append(
            f"  {'total':<{width}} {part['jobs']:>5} {part['core_hours']:>11.3f} "
            f"{clock(part['longest_s']):>9}  wall on {cores} cores: {clock(part['wall_s'])}"
        )
        lines.append("")
    total = plan["total"]
    lines.append(
        f"all studies: {total['jobs']} jobs, {total['core_hours']:.3f} core-hours, longest job "
        f"{clock(total['longest_s'])}, wall on {cores} cores: {clock(total['wall_s'])}"
    )
    if plan["unestimated"]:
        lines.append("no coefficients (start-up only) for: " + ", ".join(plan["unestimated"]))
    return "\n".join(lines)


def header_lines(config: dict, files: list[str], model: CostModel, calibration: Path) -> list[str]:
    """What was planned and where each family's coefficients may come from, in order."""
    lines = [
        f"rnnmem plan: tier {config['tier']} ({', '.join(files)})",
        "seconds per job = its command's start-up + a + b * work, a and b per cost family "
        "from the first of:",
    ]
    for source in model.sources:
        lines.append(f"  {source.kind}: {source.label}: {len(source.fits)} families")
        if source.kind == "records" and not calibration.is_file():
            lines.append(f"  calibration: {calibration}: absent (plan --calibrate writes it)")
    lines.append(
        "small rules count their command's start-up only; the schedule ignores dependencies "
        "(a lower bound where they bind)"
    )
    return lines


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m rnnmem plan", description=__doc__.split("\n")[0])
    p.add_argument(
        "--configfile", nargs="+", help=f"tier files, merged in order (default {DEFAULT_TIER})"
    )
    p.add_argument("--cores", type=int, default=os.cpu_count(), help="cores of the schedule")
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    p.add_argument(
        "--directory",
        type=Path,
        default=Path("."),
        help="the run's working directory, whose logs/ holds the records of finished jobs",
    )
    p.add_argument(
        "--calibrate", action="store_true", help="time tiny jobs here, fit, write --calibration"
    )
    p.add_argument("--calibration", type=Path, default=Path(CALIBRATION), help="calibration file")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.cores is None or args.cores < 1:
        print("python -m rnnmem plan: --cores must be at least 1", file=sys.stderr)
        return 2
    if args.calibrate:
        from rnnmem import calibration

        return calibration.run(args.calibration)
    try:
        config = load_config(args.configfile)
    except PlanError as err:
        print(f"python -m rnnmem plan: {err}", file=sys.stderr)
        return 2
    jobs = planned_jobs(config)
    units = {job.family: job.unit for part in jobs.values() for job in part}
    units = {family: unit for family, unit in units.items() if unit != CONSTANT}
    model = cost_model(args.directory, args.calibration, units)
    plan = estimate(jobs, model, args.cores)
    files = args.configfile or [DEFAULT_TIER]
    if args.json:
        sources = [
            {"kind": s.kind, "label": s.label, "fits": {k: f.as_dict() for k, f in s.fits.items()}}
            for s in model.sources
        ]
        print(
            json.dumps(
                {"tier": config["tier"], "configfiles": files, "sources": sources, **plan},
                indent=1,
            )
        )
        return 0
    print(render(plan, header_lines(config, files, model, args.calibration)))
    return 0
