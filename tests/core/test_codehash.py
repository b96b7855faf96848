"""Code versions by construction (rnnmem/core/codehash.py): a rule's code param is the hash of
the import closure of its command; the closure misses no module the command really loads."""

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import ROOT, copy_repo

from rnnmem.commands import COMMANDS
from rnnmem.core.codehash import (
    PACKAGE_ROOT,
    command_code,
    command_files,
    files_digest,
    imported_modules,
)


def module_names(files) -> set[str]:
    names = set()
    for f in files:
        parts = list(f.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts)
        names.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_imports_anywhere_in_a_file_count(tmp_path):
    source = tmp_path / "x.py"
    source.write_text(
        "import numpy\n"
        "from rnnmem.core import io, settings\n"
        "from . import stats\n"
        "from ..core.seeds import x\n"
        "def f():\n"
        "    from rnnmem.long_memory.reviews import metrics  # runs when f does\n"
        "    import rnnmem.core.plotting\n"
        "if TYPE_CHECKING:\n"
        "    from rnnmem.memorization.capacity import CapacitySettings  # never runs\n"
    )
    found = imported_modules(source, "rnnmem.long_memory.aggregate")
    assert found == {
        "rnnmem.core",
        "rnnmem.core.io",
        "rnnmem.core.settings",
        "rnnmem.long_memory",
        "rnnmem.long_memory.stats",
        "rnnmem.core.seeds",
        "rnnmem.long_memory.reviews",
        "rnnmem.long_memory.reviews.metrics",
        "rnnmem.core.plotting",
    }


def test_closure_holds_the_command_module_its_packages_and_the_entry_point():
    names = module_names(command_files("aggregate-reviews"))
    assert {
        "rnnmem",
        "rnnmem.__main__",
        "rnnmem.commands",
        "rnnmem.long_memory",
        "rnnmem.long_memory.reviews",
        "rnnmem.long_memory.reviews.aggregate",
    } <= names
    assert "rnnmem.memorization.train" not in names


def test_unknown_command_is_named():
    with pytest.raises(KeyError, match="no-such-command"):
        command_files("no-such-command")


def test_digest_follows_the_bytes_and_the_names(tmp_path):
    a = PACKAGE_ROOT / "core" / "io.py"
    assert files_digest([a]) == files_digest([a])
    assert files_digest([a]) != files_digest([a, PACKAGE_ROOT / "core" / "seeds.py"])
    assert len(command_code("claims-summary")) == 16


LOADED = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(m for m in sys.modules if m == "rnnmem" or m.startswith("rnnmem."))))
"""


def loaded_modules(module: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", LOADED, module],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_closure_holds_every_module_a_command_loads():
    """Ground truth: what importing each command's module really loads (in a fresh
    interpreter) is inside its static closure."""
    commands = list(COMMANDS)
    with ThreadPoolExecutor(max_workers=2) as pool:
        found = pool.map(lambda c: loaded_modules(COMMANDS[c].module), commands)
        loaded = dict(zip(commands, found, strict=True))
    for command in commands:
        missing = loaded[command] - module_names(command_files(command))
        assert not missing, f"{command}: loads {sorted(missing)} outside its closure"


RULE_TABLE = """
import json
from pathlib import Path
from rnnmem.core.codehash import command_code
from snakemake.api import SnakemakeApi
from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings
with SnakemakeApi(OutputSettings()) as api:
    workflow = api.workflow(
        resource_settings=ResourceSettings(),
        config_settings=ConfigSettings(configfiles=[Path("config/{tier}.yaml")]),
        snakefile=Path("Snakefile"),
        workdir=Path("."),
    )._workflow
    table = {}
    for rule in workflow.rules:
        if rule.shellcmd:  # every rule but `all` runs one rnnmem command
            command = rule.shellcmd.split("python -m rnnmem ")[1].split()[0]
            table[rule.name] = [getattr(rule.params, "code", None), command_code(command)]
    print(json.dumps(table))
"""


@pytest.mark.parametrize("tier", ["smoke", "paper"])
def test_every_rule_hashes_the_closure_of_the_command_it_runs(tmp_path, tier):
    work = copy_repo(tmp_path)
    out = subprocess.run(
        [sys.executable, "-c", RULE_TABLE.replace("{tier}", tier)],
        capture_output=True,
        text=True,
        cwd=work,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    rules = json.loads(out.stdout.strip().splitlines()[-1])
    checked = 0
    for name, (code, closure_code) in rules.items():
        assert code == closure_code, f"rule {name} does not hash its command's closure"
        checked += 1
    assert checked >= 20  # every rule with a command (rule all has none)
