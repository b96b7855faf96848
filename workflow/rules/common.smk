# Helpers every study uses: the tier, validated study sections, code versions (command_code),
# job settings and the registry of final targets. Nothing here names a study.
from rnnmem.core.codehash import (
    command_code,
)  # a rule's code version: see its docstring
from rnnmem.core.settings import settings_json, validate

TIER = config["tier"]

# Filled by register_study(); `rule all` asks for ALL_TARGETS, claims_summary reads CLAIMS.
ALL_TARGETS = []
CLAIMS = {}


def study_config(name):
    """config[name], checked against workflow/schemas/<name>.schema.yaml, defaults filled in.

    A bad value stops the run before any job, naming the key by its full path.
    """
    return validate(config.setdefault(name, {}), name, prefix=name)


def study_enabled(name):
    """A study runs when its config section says enabled: true."""
    return config[name]["enabled"]


def register_study(label, targets, claims=None):
    """Add a study's (or variant's) final outputs to `rule all`, and its claims.csv to the
    summary of every study's claims, when that study is enabled. `label` names it there.
    """
    ALL_TARGETS.extend(targets)
    if claims is not None:
        CLAIMS[label] = claims
