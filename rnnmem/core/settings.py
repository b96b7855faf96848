"""Settings: the workflow schemas are the one source of every default.

    workflow/schemas/<study>.schema.yaml   every key, its type, range, default and description
        -> validate(config)                 (Snakefile: fills the defaults, names a bad key by path)
        -> the rule's params                (one JSON object per job: exactly its settings)
        -> `--settings JSON`                (the job's command line)
        -> from_settings(Dataclass, ...)    (the job's dataclass: no field has a default)

Nothing in rnnmem repeats a default: tests and benchmarks take theirs from
`schema_defaults(study)`, and config/README.md is generated from the schemas
(`python -m rnnmem config-docs`).
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator, validators

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "workflow" / "schemas"


class ConfigError(ValueError):
    """A bad config value; the message names the key by its full path."""


def load_schema(name: str) -> dict:
    """The schema `workflow/schemas/<name>.schema.yaml` as a dict."""
    path = SCHEMA_DIR / f"{name}.schema.yaml"
    with open(path, encoding="utf-8") as handle:
        schema = yaml.safe_load(handle)
    return _inline_refs(schema, schema)


def _inline_refs(node, root):
    """Replace every local `$ref` ("#/$defs/...") by what it points to, merged with its
    siblings (a default or description beside the $ref), so each property carries its type."""
    if isinstance(node, list):
        return [_inline_refs(item, root) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _inline_refs(value, root) for key, value in node.items()}
    ref = node.pop("$ref", None)
    if ref is None:
        return node
    target = root
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return {**_inline_refs(target, root), **node}


def _with_defaults(validator_class):
    """A validator that writes each property's default into the instance as it descends.

    A default stands beside its property (also beside a `$ref`), never inside `$defs`.
    """
    check_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
                elif name in instance:
                    instance[name] = _typed(instance[name], sub)
        yield from check_properties(validator, properties, instance, schema)

    return validators.extend(validator_class, {"properties": set_defaults})


def _typed(value, schema: dict):
    """A `--config` value as its schema's type: Snakemake hands nested values over as strings
    (`--config forgetting='{"enabled": false}'` gives "false"), config files never do."""
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    if isinstance(value, str) and types and "string" not in types:
        parsed = yaml.safe_load(value)
        if isinstance(parsed, str) and "number" in types:
            return _scientific(value)
        return value if isinstance(parsed, str) else parsed
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_typed(item, schema["items"]) for item in value]
    return value


def _scientific(text: str):
    """'1e-3' as the number 0.001: YAML 1.1 (PyYAML, so Snakemake's config files and
    `--config`) reads a float only with a dot ('1.0e-3'), and hands '1e-3' over as a string.
    Anything that is not a number stays the string, for the schema to name."""
    try:
        return float(text)
    except ValueError:
        return text


_DefaultsValidator = _with_defaults(Draft202012Validator)


def key_path(prefix: str, path) -> str:
    """'memorization' + ['experiments', 'fig4', 'seeds'] -> 'memorization.experiments.fig4.seeds'
    (list positions as [i])."""
    parts = [prefix] if prefix else []
    parts += [f"[{p}]" if isinstance(p, int) else str(p) for p in path]
    return ".".join(parts).replace(".[", "[")


def validate(instance: dict, schema: dict | str, prefix: str = "") -> dict:
    """Check `instance` against `schema` (a dict or a schema name), filling defaults in place.

    Raises ConfigError naming the offending key by its full path, e.g.
    "config key memorization.lr: -1 is less than or equal to the minimum of 0".
    """
    if isinstance(schema, str):
        schema = load_schema(schema)
    errors = sorted(_DefaultsValidator(schema).iter_errors(instance), key=lambda e: list(e.path))
    if errors:
        lines = []
        for err in errors:
            where = key_path(prefix, err.path)
            if err.validator == "required":  # the missing key, not its parent, is the bad key
                missing = err.message.split("'")[1]
                where = key_path(where, [missing]) if where else missing
            elif err.validator == "additionalProperties":
                lines.append(f"config key {where or '(top level)'}: {err.message}")
                continue
            lines.append(f"config key {where}: {err.message}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines))
    return instance


def schema_defaults(name: str, **given) -> dict:
    """Every default of schema `name`, plus `given` keys (for tests and benchmarks)."""
    instance = copy.deepcopy(given)
    for _ in _DefaultsValidator(load_schema(name)).iter_errors(instance):
        pass  # a missing required key is the caller's business here
    return instance


def from_settings(cls, settings: dict, where: str = "--settings"):
    """Build dataclass `cls` from exactly its fields; a missing or unknown key is an error."""
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    missing = [n for n in names if n not in settings]
    unknown = sorted(set(settings) - set(names))
    if missing or unknown:
        raise ConfigError(
            f"{where} for {cls.__name__}: "
            + "; ".join(
                part
                for part in (
                    f"missing {missing}" if missing else "",
                    f"unknown {unknown}" if unknown else "",
                )
                if part
            )
        )
    return cls(**{n: settings[n] for n in names})


def settings_json(settings: dict) -> str:
    """The JSON a rule passes to its job (sorted keys: the same settings, the same string)."""
    return json.dumps(settings, sort_keys=True, separators=(",", ":"))


def add_settings_argument(parser: argparse.ArgumentParser) -> None:
    """`--settings JSON`: the job's settings as one JSON object, built by its rule."""
    parser.add_argument(
        "--settings",
        type=json.loads,
        required=True,
        help="the job's settings as one JSON object (built by its rule from the config)",
    )


def validated_copy(raw: dict) -> dict:
    """A copy of a whole config (tier files, with or without `--config`), checked and with
    every default filled: the top level and each study section that has a schema."""
    config = validate(copy.deepcopy(raw), "config")
    for name in config:
        if (SCHEMA_DIR / f"{name}.schema.yaml").is_file() and isinstance(config[name], dict):
            validate(config[name], name, prefix=name)
    return config


def changed_keys(tier: dict, final: dict, overrides: dict, prefix: str = "") -> list[str]:
    """Key paths that `--config` (`overrides`) set to another value than the tier files had.

    `tier` and `final` are validated configs (tier files alone; with `--config`);
    `overrides` may hold nested sections (`--config long_memory='{"training": {...}}'`):
    each leaf counts on its own, so restating a value the tier already has changes nothing.
    """
    keys = []
    for key, value in overrides.items():
        path = f"{prefix}{key}"
        before = tier.get(key) if isinstance(tier, dict) else None
        after = final.get(key) if isinstance(final, dict) else None
        if isinstance(value, dict) and isinstance(after, dict):
            keys += changed_keys(before or {}, after, value, f"{path}.")
        elif before != after:
            keys.append(path)
    return sorted(keys)


# Keys that say where inputs come from, not what is computed: no result depends on them
# (fetched files are keyed by their sha256), so they leave the tier label alone.
LOCATION_KEYS = ("long_memory.source",)


def tier_label(tier: str, keys: list[str]) -> str:
    """The label every output carries: the tier, and which keys `--config` changed.

    tier_label("default", ["long_memory.training.lr"]) -> "default+config:long_memory.training.lr"
    (no spaces: it travels on command lines).
    """
    shown = [k for k in keys if not any(k == p or k.startswith(p + ".") for p in LOCATION_KEYS)]
    return f"{tier}+config:{','.join(shown)}" if shown else tier


def run_label(tier_files_config: dict, config: dict, overrides: dict) -> str:
    """tier_label of a run: its tier files' merged config, its final config, its `--config`."""
    tier, final = validated_copy(tier_files_config), validated_copy(config)
    return tier_label(final["tier"], changed_keys(tier, final, dict(overrides)))
