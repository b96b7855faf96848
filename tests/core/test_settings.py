"""Config values as a user writes them, and the label that says which keys `--config` changed."""

import pytest
import yaml

from rnnmem.core.settings import ConfigError, changed_keys, run_label, tier_label, validate

SMOKE = yaml.safe_load(open("config/smoke.yaml", encoding="utf-8"))


@pytest.mark.parametrize("written", ["1e-3", "1E-3", "1.0e-3", "0.001"])
def test_scientific_notation_is_a_number_in_tier_files_and_on_the_command_line(written):
    # PyYAML (so Snakemake's config loader) reads "lr: 1e-3" as the string '1e-3'
    raw = yaml.safe_load(f"training: {{lr: {written}}}")
    assert validate(raw, "long_memory")["training"]["lr"] == pytest.approx(1e-3)


def test_a_string_that_is_no_number_is_still_named():
    with pytest.raises(ConfigError, match=r"long_memory\.training\.lr"):
        validate({"training": {"lr": "fast"}}, "long_memory", prefix="long_memory")


def test_changed_keys_are_the_leaves_that_differ():
    tier = {"a": {"b": 1, "c": 2}, "t": "x"}
    final = {"a": {"b": 5, "c": 2}, "t": "x"}
    assert changed_keys(tier, final, {"a": {"b": 5, "c": 2}}) == ["a.b"]
    assert changed_keys(tier, tier, {"a": {"b": 1}}) == []  # restating the tier's value


def test_tier_label_names_changed_keys_but_not_where_data_comes_from():
    assert tier_label("default", []) == "default"
    assert tier_label("default", ["long_memory.source.mirror"]) == "default"
    label = tier_label("smoke", ["long_memory.training.lr", "long_memory.source.base_url"])
    assert label == "smoke+config:long_memory.training.lr"
    assert " " not in label  # it travels on command lines unquoted


def test_run_label_from_tier_files_and_overrides():
    final = yaml.safe_load(yaml.safe_dump(SMOKE))
    final["long_memory"]["training"] = {"lr": "1e-3"}
    label = run_label(SMOKE, final, {"long_memory": {"training": {"lr": "1e-3"}}})
    assert label == "smoke+config:long_memory.training.lr"
    assert run_label(SMOKE, SMOKE, {}) == "smoke"
