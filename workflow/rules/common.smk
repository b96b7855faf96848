# Helpers every study uses: the tier, validated study sections, code versions (command_code),
# job settings and the registry of final targets. Nothing here names a study.
from pathlib import Path

from snakemake.common.configfile import load_configfile
from snakemake.utils import update_config

# command_code(command): a rule's code version (see rnnmem/core/codehash.py)
from rnnmem.core.codehash import command_code
from rnnmem.core.settings import run_label, settings_json, validate


def tier_files_config():
    """The config of the tier files alone (--configfile, else the default tier)."""
    files = workflow.config_settings.configfiles or [
        Path(workflow.basedir) / "config/config.yaml"
    ]
    merged = {}
    for path in files:
        update_config(merged, load_configfile(path))
    return merged


# Tables, figures and claims carry TIER: the tier's name and which keys --config changed
# ("default+config:long_memory.training.lr"). Training jobs record only TIER_NAME, so an
# override reruns the jobs whose settings it changes, not every job that records a tier.
TIER_NAME = config["tier"]
TIER = run_label(tier_files_config(), config, workflow.config_settings.config)

# Filled by register_study(); `rule all` asks for ALL_TARGETS, claims_summary reads CLAIMS,
# reproduction_report reads COMPARISONS.
ALL_TARGETS = []
CLAIMS = {}
COMPARISONS = {}


def study_config(name):
    """config[name], checked against workflow/schemas/<name>.schema.yaml, defaults filled in.

    A bad value stops the run before any job, naming the key by its full path.
    """
    return validate(config.setdefault(name, {}), name, prefix=name)


def study_enabled(name):
    """A study runs when its config section says enabled: true."""
    return config[name]["enabled"]


def register_study(label, targets, claims=None, comparison=None):
    """Add a study's (or variant's) final outputs to `rule all`, its claims.csv to the summary
    of every study's claims, and its comparison.csv (published beside reproduced, with the
    claims) to the reproduction report. `label` names it there.
    """
    ALL_TARGETS.extend(targets)
    if claims is not None:
        CLAIMS[label] = claims
        if comparison is not None:
            COMPARISONS[label] = (comparison, claims)
