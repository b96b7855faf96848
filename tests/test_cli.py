"""`python -m rnnmem`: usage, bad commands named, each command's help under its own name."""

import subprocess
import sys

import pytest

from rnnmem.commands import COMMANDS


def rnnmem(*args):
    return subprocess.run(
        [sys.executable, "-m", "rnnmem", *args], capture_output=True, text=True, timeout=120
    )


def test_no_command_is_an_error_with_usage():
    out = rnnmem()
    assert out.returncode == 2
    assert "usage: python -m rnnmem <command>" in out.stderr and "no command" in out.stderr


def test_help_lists_every_command_with_a_line():
    out = rnnmem("--help")
    assert out.returncode == 0
    for name, command in COMMANDS.items():
        assert f"{name}" in out.stdout and command.summary in out.stdout


def test_unknown_command_is_named():
    out = rnnmem("tarin-memorization")
    assert out.returncode == 2 and "'tarin-memorization'" in out.stderr


def test_bench_help_and_bad_study():
    out = rnnmem("bench", "--help")
    assert out.returncode == 0 and "usage: python -m rnnmem bench <study>" in out.stdout
    out = rnnmem("bench", "nope")
    assert out.returncode == 2 and "unknown study 'nope'" in out.stderr


@pytest.mark.parametrize("name", [n for n in COMMANDS if n != "bench"])
def test_each_command_helps_under_its_own_name(name, capsys):
    from rnnmem.__main__ import main  # in this process: one interpreter for every command

    with pytest.raises(SystemExit) as done:
        main([name, "--help"])
    assert done.value.code == 0
    assert f"usage: python -m rnnmem {name}" in capsys.readouterr().out
