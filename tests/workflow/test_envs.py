"""Pins agree everywhere: requirements.txt (pip), workflow/envs/*.yaml (conda), pyproject.toml."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def pip_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"requirements.txt: {line!r} is not pinned exactly"
            pins[name.lower()] = version
    return pins


def test_requirements_are_exact_pins():
    pins = pip_pins()
    assert pins["torch"] == "2.13.0"
    assert pins["snakemake"].startswith("9.")


def test_conda_envs_pin_the_same_versions_as_pip():
    pins = pip_pins()
    envs = sorted((ROOT / "workflow" / "envs").glob("*.yaml"))
    assert envs
    for path in envs:
        env = yaml.safe_load(path.read_text())
        deps = env["dependencies"]
        conda = [d for d in deps if isinstance(d, str)]
        assert any(re.fullmatch(r"python=3\.11\.\d+", d) for d in conda), (
            f"{path.name}: python not pinned"
        )
        for d in conda:
            assert re.fullmatch(r"[\w.-]+=[\w.]+", d), f"{path.name}: {d!r} is not an exact pin"
        pip = next(d["pip"] for d in deps if isinstance(d, dict))
        for spec in pip:
            name, _, version = spec.partition("==")
            assert version, f"{path.name}: {spec!r} is not an exact pin"
            assert pins.get(name.lower()) == version, (
                f"{path.name}: {spec} but requirements.txt has {pins.get(name.lower())}"
            )


def test_pyproject_pins_match():
    pins = pip_pins()
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for spec in deps:
        name, _, version = spec.partition("==")
        assert pins.get(name.lower()) == version, spec


def test_every_rule_names_a_pinned_env():
    envs = set((ROOT / "workflow" / "envs").glob("*.yaml"))
    for smk in (ROOT / "workflow/rules").rglob("*.smk"):
        text = smk.read_text()
        rules = len(re.findall(r"^\s*rule(?: \w+)?:", text, flags=re.M))
        named = re.findall(r'conda:\s*\n\s*"([^"]+)"', text)
        assert len(named) == rules, f"{smk.name}: {rules} rules, {len(named)} conda envs"
        # conda: paths are relative to the rule file
        unknown = {n for n in named if (smk.parent / n).resolve() not in envs}
        assert not unknown, f"{smk.name}: unknown env {unknown}"
