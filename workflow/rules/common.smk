# Helpers every study uses: the tier, validated study sections, code versions, job settings
# and the registry of final targets. Nothing here names a study.
import hashlib
from pathlib import Path

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


def code_version(*paths):
    """Hash of the rnnmem source files a rule runs (paths relative to rnnmem/; a folder
    stands for every .py file in it).

    Passed as a param, so a code change reruns exactly the rules that run that code
    (file modification times would also fire on a fresh clone).
    """
    root = Path(workflow.basedir) / "rnnmem"
    files = []
    for path in paths:
        full = root / path
        files += sorted(full.rglob("*.py")) if full.is_dir() else [full]
    digest = hashlib.sha256()
    for file in sorted(set(files)):
        digest.update(str(file.relative_to(root)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


# Modules every rule depends on (I/O, seeds, provenance, device choice, settings).
CORE_CODE = (
    "core/io.py",
    "core/seeds.py",
    "core/provenance.py",
    "core/device.py",
    "core/settings.py",
)
