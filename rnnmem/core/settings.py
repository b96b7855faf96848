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
        return value if isinstance(parsed, str) else parsed
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_typed(item, schema["items"]) for item in value]
    return value


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
