"""The schemas are the one source of every setting: well formed, described, and documented."""

import re

import pytest

from rnnmem import config_docs
from rnnmem.core.settings import SCHEMA_DIR, ConfigError, load_schema, schema_defaults, validate

SCHEMAS = sorted(p.name.removesuffix(".schema.yaml") for p in SCHEMA_DIR.glob("*.schema.yaml"))


def properties(schema: dict, path: str = ""):
    """(key path, subschema) of every property, depth first."""
    for name, sub in schema.get("properties", {}).items():
        key = f"{path}.{name}" if path else name
        yield key, sub
        yield from properties(sub, key)
        if isinstance(sub.get("items"), dict):
            yield from properties(sub["items"], f"{key}[]")


@pytest.mark.parametrize("name", SCHEMAS)
def test_every_key_is_a_name_with_a_description(name):
    # A YAML flow mapping splits an unquoted description at its first comma and makes the
    # rest a stray key: this catches that, and any key left undescribed.
    for path, sub in properties(load_schema(name)):
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", path.split(".")[-1].removesuffix("[]")), path
        if "properties" not in sub or path.count(".") < 2:
            assert sub.get("description"), f"{name}: {path} has no description"


def test_config_readme_is_generated_from_the_schemas():
    assert config_docs.README.read_text(encoding="utf-8") == config_docs.render(), (
        "config/README.md is stale: run `python -m rnnmem config-docs`"
    )


def test_validation_names_the_full_key_path_and_fills_defaults():
    section = {"training": {"lr": -1}}
    with pytest.raises(ConfigError, match=r"config key long_memory\.training\.lr"):
        validate(section, "long_memory", prefix="long_memory")
    ok = validate({}, "long_memory", prefix="long_memory")
    assert ok["training"]["max_epochs"] == schema_defaults("long_memory")["training"]["max_epochs"]


def test_string_overrides_from_the_command_line_take_the_schema_type():
    # Snakemake hands `--config long_memory='{"experiment1": {"seeds": "3"}}'` over as strings
    section = validate({"enabled": "false", "experiment1": {"seeds": "3"}}, "long_memory")
    assert section["enabled"] is False and section["experiment1"]["seeds"] == 3
