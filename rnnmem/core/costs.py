"""The cost model of the planner (`python -m rnnmem plan`): a job's seconds from its work.

Jobs fall into cost families: a rule's command, with a qualifier where one command's jobs
differ in kind ("train-long-memory:mrnn", "simulate-forgetting:torch-gru"). Per family

    seconds = start-up of the command + a + b * work        a, b >= 0

with a and b fitted by non-negative least squares on measured jobs, and `work` in the
family's unit (each study's cost module, rnnmem/<study>/cost.py, defines its work and
unit; a work of several components has a b each: see Work). The small
rules (aggregate, figures, claims, compare, report, fetch) have no work measure: their
family's unit is CONSTANT and they count their command's start-up only.

A family's a and b come from the first of these sources that has it, in the job's unit:

    records      JSON log records of finished jobs ("seconds", "work", "work_unit")
    calibration  a file written by `python -m rnnmem plan --calibrate` (logs/cost_calibration.json)
    defaults     rnnmem/core/cost_defaults.json: the same, measured on the machine it names

The start-up (a fresh interpreter importing the command; no record holds it) comes from the
calibration file, else the defaults. The wall time of a set of jobs on N cores is a
longest-processing-time-first schedule. Imports no study package.
"""

from __future__ import annotations

import heapq
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.optimize import nnls

DEFAULTS = Path(__file__).with_name("cost_defaults.json")
CONSTANT = ""  # the unit of a family without a work measure: seconds = a

# A job's work: one number, or several components where one measure cannot stand for its
# time (the memorization probe: model-steps and flops, "model-step+flop"); then
# seconds = a + b_1 w_1 + b_2 w_2 + ...
Work = float | tuple[float, ...]


def as_vector(work) -> tuple[float, ...]:
    """A work value (a number, or a list or tuple of components) as a tuple of floats."""
    if isinstance(work, list | tuple):
        return tuple(float(w) for w in work)
    return (float(work),)


@dataclass(frozen=True)
class PlannedJob:
    """One job the workflow would run: its rule, name, cost family, work and threads."""

    rule: str
    name: str
    family: str
    work: Work = 0.0
    unit: str = CONSTANT
    threads: int = 1


@dataclass(frozen=True)
class Fit:
    """seconds = a + sum(b_i work_i), fitted on n measured jobs (unit CONSTANT: b = 0)."""

    a: float
    b: tuple[float, ...]
    unit: str
    n: int

    def seconds(self, work: Work) -> float:
        w = as_vector(work)
        if len(w) != len(self.b):
            raise ValueError(f"work {w} has {len(w)} components, the fit {len(self.b)}")
        return self.a + float(np.dot(self.b, w))

    def as_dict(self) -> dict:
        return {"a": self.a, "b": list(self.b), "unit": self.unit, "n": self.n}


def fit_linear(work, seconds) -> tuple[float, tuple[float, ...]]:
    """(a, b) >= 0 minimising sum((a + W b - s)^2) over the points (rows of W, s): the
    non-negative least-squares fit (scipy's nnls, on columns scaled to at most 1).

    Points that all have the same work cannot tell a from b: then a = 0 (one job
    calibrates a rate); points without work fit the mean (a constant).
    """
    s = np.asarray(seconds, dtype=float)
    w = np.asarray(work, dtype=float).reshape(len(s), -1)
    if s.size == 0:
        raise ValueError("no points to fit")
    if not np.any(w > 0):
        return float(max(s.mean(), 0.0)), (0.0,) * w.shape[1]
    scale = np.where(w.max(axis=0) > 0, w.max(axis=0), 1.0)
    x = w / scale
    intercept = bool(np.any(np.ptp(x, axis=0) > 0))
    design = np.column_stack([np.ones(len(s)), x]) if intercept else x
    coef, _ = nnls(design, s)
    a, b = (coef[0], coef[1:]) if intercept else (0.0, coef)
    return float(a), tuple(float(v) for v in b / scale)


def fit_line(work, seconds) -> tuple[float, float]:
    """fit_linear of one work component: (a, b)."""
    a, (b,) = fit_linear(np.asarray(work, dtype=float).reshape(-1, 1), seconds)
    return a, b


def fit_points(points: list[tuple[Work, float]], unit: str) -> Fit:
    """A Fit of (work, seconds) points in `unit` (CONSTANT: the mean seconds)."""
    work = [(0.0,) if unit == CONSTANT else as_vector(p[0]) for p in points]
    a, b = fit_linear(work, [p[1] for p in points])
    return Fit(a, b, unit, len(points))


# -------------------------------------------------------------------------------- sources
@dataclass
class Source:
    """Coefficients of one origin: `kind` (records, calibration, defaults), a label saying
    where they come from (file, date, machine, commit), the fits by family and the start-up
    seconds of each command (a fresh interpreter importing it; records do not hold it)."""

    kind: str
    label: str
    fits: dict[str, Fit] = field(default_factory=dict)
    startup: dict[str, float] = field(default_factory=dict)


def read_record(path: Path) -> tuple[tuple[float, ...], float, str] | None:
    """(work, seconds, unit) of a job's JSON log record; None when it holds no seconds
    (a record written before the job finished) or is not JSON. A record without "work"
    counts as a constant-cost job."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
        seconds = float(record["seconds"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    work = as_vector(record.get("work", 0.0))
    return work, seconds, str(record.get("work_unit", CONSTANT))


def records_source(found: list[tuple[str, Path]], units: dict[str, str], where: str) -> Source:
    """Fits from the records `found` ((family, path) pairs). A record counts for its family
    when its unit is the one the family's work is planned in (`units`): a record of another
    unit would mix two scales."""
    points: dict[str, list[tuple[float, float]]] = {}
    for family, path in found:
        record = read_record(path)
        if record is not None and family in units and record[2] == units[family]:
            points.setdefault(family, []).append(record[:2])
    fits = {family: fit_points(p, units[family]) for family, p in points.items()}
    return Source("records", f"records of finished jobs under {where}", fits)


def file_source(path: Path, kind: str) -> Source | None:
    """The coefficients of a calibration file (or the shipped defaults); None if absent."""
    path = Path(path)
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    shown = path.resolve()
    shown = shown.relative_to(Path.cwd()) if shown.is_relative_to(Path.cwd()) else shown
    label = f"{shown} (measured {data['date']} on {data['machine']}, commit {data['commit']})"
    fits = {
        name: Fit(f["a"], as_vector(f["b"]), f["unit"], f["n"])
        for name, f in data["families"].items()
    }
    return Source(kind, label, fits, dict(data.get("startup", {})))


def write_calibration(path: Path, points: dict, units: dict, startup: dict, about: dict) -> dict:
    """Fit each family's measured (work, seconds) points (in its unit) and write a
    calibration file: `about` (date, machine, commit, command), the fits with their points,
    the start-up seconds per command. Returns the fits."""
    fits = {name: fit_points(points[name], units[name]) for name in sorted(points)}
    families = {
        name: {
            **fit.as_dict(),
            "points": [[list(as_vector(w)), round(s, 4)] for w, s in points[name]],
        }
        for name, fit in fits.items()
    }
    data = {**about, "families": families, "startup": dict(sorted(startup.items()))}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n", "utf-8")
    return fits


class CostModel:
    """The seconds of planned jobs: its command's start-up, plus its family's fit from the
    first source (in order) that has it in the job's unit (a constant-cost job: start-up
    only, unless a source fits its family)."""

    def __init__(self, sources: list[Source | None]):
        self.sources = [s for s in sources if s is not None]

    def lookup(self, family: str, unit: str) -> tuple[Fit, Source] | None:
        for source in self.sources:
            fit = source.fits.get(family)
            if fit is not None and fit.unit == unit:
                return fit, source
        return None

    def startup(self, family: str) -> float:
        """Start-up seconds of the family's command (the family up to its ':')."""
        command = family.split(":")[0]
        return next((s.startup[command] for s in self.sources if command in s.startup), 0.0)

    def seconds(self, job: PlannedJob) -> float | None:
        """The job's estimated seconds; None when no source fits its family's work."""
        found = self.lookup(job.family, job.unit)
        if found is None:
            return self.startup(job.family) if job.unit == CONSTANT else None
        return self.startup(job.family) + found[0].seconds(job.work)

    def source_of(self, job: PlannedJob) -> str:
        """Where the job's coefficients come from: a source's kind, "start-up only" or "none"."""
        found = self.lookup(job.family, job.unit)
        if found is not None:
            return found[1].kind
        return "start-up only" if job.unit == CONSTANT else "none: start-up only"


# ------------------------------------------------------------------------------ schedule
def lpt_wall(jobs: list[tuple[float, int]], cores: int) -> float:
    """Wall seconds of (seconds, threads) jobs on `cores` cores, longest first: each job in
    turn starts as soon as min(threads, cores) cores are free and holds them to its end.
    Dependencies between jobs are not modelled (a lower bound where they bind)."""
    if cores < 1:
        raise ValueError("cores must be at least 1")
    now, free, running = 0.0, cores, []  # running: heap of (end time, cores held)
    for seconds, threads in sorted(jobs, key=lambda j: -j[0]):
        need = min(max(int(threads), 1), cores)
        while free < need:
            end, held = heapq.heappop(running)
            now, free = max(now, end), free + held
        heapq.heappush(running, (now + seconds, need))
        free -= need
    return max([now, *(end for end, _ in running)])
