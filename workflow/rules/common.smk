# Shared helpers: study switches, code versions, resources and the list of final targets.
import hashlib
from pathlib import Path

# Every study appends its final outputs (tables, figures, claims) here; `rule all` asks
# for them.
ALL_TARGETS = []

TIER = config["tier"]
PYTHON = "python -m rnnmem"


def study_enabled(name):
    """A study runs when its config section says enabled: true."""
    return config[name]["enabled"]


def code_version(*modules):
    """Hash of the rnnmem source files a rule runs.

    Passed as a param, so a code change reruns exactly the rules that run that code
    (file modification times would also fire on a fresh clone).
    """
    digest = hashlib.sha256()
    for module in sorted(modules):
        path = Path(workflow.basedir) / "rnnmem" / f"{module}.py"
        digest.update(module.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


# Modules every rule depends on (I/O, seeds, provenance, device choice).
CORE_MODULES = ("io", "seeds", "provenance", "device")
