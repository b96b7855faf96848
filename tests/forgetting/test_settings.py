"""Job settings: picked from the validated config section (the schema's defaults here), one
dataclass per stage with no defaults of its own, and the cross-key checks of the config."""

from __future__ import annotations

import json
from dataclasses import MISSING, fields, replace

import pytest

from rnnmem.core.settings import ConfigError, from_settings, schema_defaults, settings_json
from rnnmem.forgetting.settings import (
    ClaimSettings,
    FigureSettings,
    Settings,
    SimulateJob,
    TableSettings,
    claim_settings,
    config_problems,
    figure_settings,
    simulate_settings,
    table_settings,
)

SECTION = schema_defaults("forgetting")
DEFAULT = from_settings(SimulateJob, simulate_settings(SECTION, "torch")).run


def test_settings_reject_bad_values():
    with pytest.raises(ValueError, match="prefix"):
        replace(DEFAULT, steps=100, prefix=100)
    with pytest.raises(ValueError, match="variant"):
        replace(DEFAULT, variant="keras3")
    with pytest.raises(ValueError, match="eps"):
        replace(DEFAULT, eps=())


def test_settings_come_from_the_config_section_only():
    """Every Settings field is picked from the config; none is missing, none is extra."""
    given = simulate_settings(SECTION, "keras22")
    job = from_settings(SimulateJob, given)
    assert job.run.variant == "keras22" and job.experiment == "forgetting-v1"
    assert isinstance(job.run, Settings) and job.run.eps == (1e-3, 1e-4, 1e-5, 1e-6)
    bad = {**given, "run": {k: v for k, v in given["run"].items() if k != "chunk"}}
    with pytest.raises(ConfigError, match="missing.*chunk"):
        from_settings(SimulateJob, bad)
    with pytest.raises(ConfigError, match="unknown.*seeds"):
        from_settings(SimulateJob, {**given, "seeds": 3})


@pytest.mark.parametrize(
    "cls,pick",
    [
        (TableSettings, table_settings),
        (FigureSettings, figure_settings),
        (ClaimSettings, claim_settings),
    ],
)
def test_every_stage_gets_exactly_its_fields(cls, pick):
    given = json.loads(settings_json(pick(SECTION, "torch", "smoke")))  # as the job reads it
    built = from_settings(cls, given)
    assert sorted(given) == sorted(f.name for f in fields(cls))
    assert built.variant == "torch" and built.tier == "smoke"


def test_no_dataclass_repeats_a_default():
    for cls in (Settings, SimulateJob, TableSettings, FigureSettings, ClaimSettings):
        for f in fields(cls):
            assert f.default is MISSING and f.default_factory is MISSING, (cls, f.name)


def test_numbers_keep_the_types_the_results_record():
    """A value written without a dot (YAML int) still enters the results as a float."""
    section = schema_defaults("forgetting", fast_mode={"factor": 1}, claims={"g2_ratio": 1})
    run = from_settings(SimulateJob, simulate_settings(section, "torch")).run
    assert type(run.fast_factor) is float and run.fast_factor == 1.0
    claims = from_settings(ClaimSettings, claim_settings(section, "torch", "t"))
    assert type(claims.g2_ratio) is float


@pytest.mark.parametrize(
    "change,key",
    [
        ({"prefix": 100_000}, "forgetting.prefix"),
        ({"figures": {"metrics": ["K_tol_1e-07"]}}, "forgetting.figures.metrics"),
        ({"figures": {"log_scale": ["F_tol_2e-01"]}}, "forgetting.figures.log_scale"),
        ({"claims": {"metrics": ["K_tol_1e-07"]}}, "forgetting.claims.metrics"),
        ({"figures": {"decay_n_in": 3}}, "forgetting.figures.decay_n_in"),
        ({"figures": {"decay_units": [3]}}, "forgetting.figures.decay_units"),
    ],
)
def test_config_problems_name_the_key(change, key):
    assert config_problems(SECTION) == []
    problems = config_problems(schema_defaults("forgetting", **change))
    assert len(problems) == 1 and key in problems[0]
