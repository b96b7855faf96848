"""The forgetting study's vocabulary and the settings of each of its jobs.

Every default lives in workflow/schemas/forgetting.schema.yaml. For each stage, a function
here picks from the validated config section exactly what one job of that stage depends on;
the rule passes it as `--settings JSON` (so Snakemake reruns exactly the jobs whose settings
changed) and the stage's command builds its dataclass with `from_settings`. No field of any
dataclass here has a default.

Imports neither torch nor matplotlib: workflow/rules/forgetting.smk reads it while parsing.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from rnnmem.core.settings import from_settings
from rnnmem.forgetting.metrics import metric_names

CELLS = ("lstm", "gru")  # cell ids (config, wildcards, paths, tables); also the table order
# The cell's name in every run's seed key (and in the claims' bootstrap keys). The experiment
# was defined with upper-case names, so the keys keep them: the same run draws the same
# weights and inputs under the lower-case ids. The one place the key text is chosen.
SEED_KEY_CELL = {"lstm": "LSTM", "gru": "GRU"}
CELL_LABEL = {"lstm": "LSTM", "gru": "GRU"}  # for display: figure titles, claim statements
VARIANTS = ("torch", "keras22")
VARIANT_LABEL = {
    "torch": "torch nn.LSTM/nn.GRU (primary)",
    "keras22": "Keras 2.2 hard-sigmoid (sensitivity)",
}


def fail(command: str, message: str) -> int:
    """Print a command's error and return its exit status."""
    print(f"{command}: {message}", file=sys.stderr)
    return 2


def config_problems(section: dict) -> list[str]:
    """Cross-key checks of the validated `forgetting` section that the schema cannot express;
    each message names its key (the workflow stops on any)."""
    f, problems = section, []
    if f["prefix"] >= f["steps"]:
        problems.append(
            f"config key forgetting.prefix={f['prefix']} must be below "
            f"forgetting.steps={f['steps']} (the shared part would be empty)"
        )
    known = metric_names(f["eps"])
    for key in ("figures.metrics", "figures.log_scale", "claims.metrics"):
        part, name = key.split(".")
        bad = [m for m in f[part][name] if m not in known]
        if bad:
            problems.append(
                f"config key forgetting.{key}: {bad} not among the metrics {known} "
                "(K_tol_/F_tol_ names need their tolerance in forgetting.eps)"
            )
    decay_n_in = f["figures"]["decay_n_in"]
    if decay_n_in not in f["n_in"]:
        problems.append(
            f"config key forgetting.figures.decay_n_in={decay_n_in} "
            f"is not in forgetting.n_in={f['n_in']}"
        )
    missing = [u for u in f["figures"]["decay_units"] if u not in f["units"]]
    if missing:
        problems.append(
            f"config key forgetting.figures.decay_units: {missing} "
            f"not in forgetting.units={f['units']}"
        )
    return problems


# --------------------------------------------------------------------------------------
# Simulation


@dataclass(frozen=True)
class Settings:
    """Everything a run depends on besides its key; one job passes one Settings to all runs.

    Every run file records these fields by name (meta "settings"), so the names stay.
    """

    variant: str  # layer semantics: torch (primary) or keras22 (sensitivity)
    steps: int  # T, total sequence length
    prefix: int  # D, divergent prefix length
    chunk: int  # steps per fused call; state equality is checked at chunk ends
    eps: tuple  # tolerances of K_tol / F_tol
    gaps_stored: int  # first shared gaps d_t written per run
    early_stop: bool  # stop at bitwise full-state equality (exact, forgetting.md §4)
    fast_mode: bool  # PROPOSAL: stop on a long run of tiny gaps (inexact)
    fast_window: int
    fast_factor: float  # threshold = fast_factor * min(eps)
    allclose_rtol: float
    allclose_atol: float
    dtype: str
    flush_denormal: bool

    def __post_init__(self):
        # JSON gives lists and, for a value written without a dot, ints: keep the types
        # the run files record
        object.__setattr__(self, "eps", tuple(float(e) for e in self.eps))
        for name in ("fast_factor", "allclose_rtol", "allclose_atol"):
            object.__setattr__(self, name, float(getattr(self, name)))
        if self.variant not in VARIANTS:
            raise ValueError(f"variant {self.variant!r} not in {VARIANTS}")
        if not 0 < self.prefix < self.steps:
            raise ValueError(
                f"need 0 < prefix < steps, got prefix={self.prefix}, steps={self.steps}"
            )
        if self.chunk < 1 or self.gaps_stored < 0:
            raise ValueError("chunk must be >= 1 and gaps_stored >= 0")
        if not self.eps or any(not 0 < e for e in self.eps):
            raise ValueError(f"eps must be a non-empty list of positive numbers, got {self.eps}")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype {self.dtype!r} not in ('float32', 'float64')")

    @property
    def shared(self) -> int:
        """Shared steps T - D; censored metrics take this value."""
        return self.steps - self.prefix

    @property
    def torch_dtype(self):
        import torch  # here, not at the top: the workflow imports this module

        return getattr(torch, self.dtype)


@dataclass(frozen=True)
class SimulateJob:
    """One simulation job: the seed key base, torch threads, and the runs' Settings."""

    experiment: str  # first part of every run's seed key
    threads: int
    run: Settings

    def __post_init__(self):
        object.__setattr__(self, "experiment", str(self.experiment))
        if isinstance(self.run, dict):
            object.__setattr__(self, "run", from_settings(Settings, self.run, "--settings run"))


def run_settings(section: dict, variant: str) -> dict:
    """The Settings fields of one variant, from the validated `forgetting` config section."""
    return {
        "variant": variant,
        "steps": section["steps"],
        "prefix": section["prefix"],
        "chunk": section["chunk"],
        "eps": section["eps"],
        "gaps_stored": section["gaps_stored"],
        "early_stop": section["early_stop"],
        "fast_mode": section["fast_mode"]["enabled"],
        "fast_window": section["fast_mode"]["window"],
        "fast_factor": section["fast_mode"]["factor"],
        "allclose_rtol": section["allclose"]["rtol"],
        "allclose_atol": section["allclose"]["atol"],
        "dtype": section["dtype"],
        "flush_denormal": section["flush_denormal"],
    }


def simulate_settings(section: dict, variant: str) -> dict:
    """The `--settings` of a simulation job (SimulateJob)."""
    return {
        "experiment": section["experiment"],
        "threads": section["threads"],
        "run": run_settings(section, variant),
    }


# --------------------------------------------------------------------------------------
# Tables, figures, claims


@dataclass(frozen=True)
class TableSettings:
    """The aggregation job: which variant its inputs must hold, and the tier it records."""

    variant: str
    tier: str


@dataclass(frozen=True)
class FigureSettings:
    variant: str
    tier: str
    metrics: list  # one heat-map figure per metric
    log_scale: list  # metrics drawn on a log colour scale
    decay_n_in: int  # input size of the decay plot
    decay_units: list  # widths drawn in the decay plot
    censor_at: int  # T - D, the value censored runs take


@dataclass(frozen=True)
class ClaimSettings:
    variant: str
    tier: str
    experiment: str  # seed key base of the bootstrap streams
    metrics: list
    bootstrap: int  # replicates
    level: float  # level of the bootstrap intervals
    row_fraction: float  # share of n_in rows with Spearman(u, mean) > 0 (L1, G1)
    col_fraction: float  # share of u >= 2 columns with Spearman(n_in, mean) < 0 (L2)
    g2_ratio: float  # G2: |b_in| < g2_ratio |b_u|

    def __post_init__(self):
        object.__setattr__(self, "experiment", str(self.experiment))
        for name in ("level", "row_fraction", "col_fraction", "g2_ratio"):
            object.__setattr__(self, name, float(getattr(self, name)))


def table_settings(section: dict, variant: str, tier: str) -> dict:
    """The `--settings` of an aggregation job (TableSettings)."""
    return {"variant": variant, "tier": tier}


def figure_settings(section: dict, variant: str, tier: str) -> dict:
    """The `--settings` of a figures job (FigureSettings)."""
    return {
        "variant": variant,
        "tier": tier,
        **section["figures"],
        "censor_at": section["steps"] - section["prefix"],
    }


def claim_settings(section: dict, variant: str, tier: str) -> dict:
    """The `--settings` of a claims job (ClaimSettings)."""
    return {
        "variant": variant,
        "tier": tier,
        "experiment": section["experiment"],
        **section["claims"],
    }
