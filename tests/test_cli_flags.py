"""`awm-ray` keeps every flag it had: the names in `--help`, and their defaults, choices and arity.

`tests/data/cli_flags.json` was recorded from the argparse CLI before it became a click package
(one entry per command path, one per option string). New flags may be added freely (the check is
a superset); removing or renaming one, or changing its default, breaks this test on purpose.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest

from awm_ray.cli import cli, main

SNAPSHOT = json.loads((Path(__file__).parent / "data" / "cli_flags.json").read_text())
FLAG = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")


def command_at(path: str) -> click.Command:
    command: click.Command = cli
    for name in path.split()[1:]:
        assert isinstance(command, click.Group), f"{path}: {command.name} has no subcommands"
        command = command.commands[name]
    return command


@pytest.mark.parametrize("path", list(SNAPSHOT))
def test_help_lists_every_recorded_flag(path, capsys):
    assert main([*path.split()[1:], "--help"]) == 0
    listed = set(FLAG.findall(capsys.readouterr().out))
    missing = sorted(set(SNAPSHOT[path]) - listed)
    assert not missing, f"`{path} --help` no longer lists {missing}"


@pytest.mark.parametrize("path", list(SNAPSHOT))
def test_every_recorded_flag_keeps_its_default_choices_and_arity(path):
    command = command_at(path)
    defaults = command.make_context(path, [], resilient_parsing=True).params  # what the command gets for an unset flag
    options = {name: param for param in command.get_params(click.Context(command)) for name in param.opts + param.secondary_opts}
    for flag, recorded in SNAPSHOT[path].items():
        if flag in ("-h", "--help"):
            continue
        param = options[flag]
        assert isinstance(param, click.Option)
        takes_value = not (param.is_flag or param.count)
        assert takes_value == recorded["takes_value"], f"{path} {flag}: takes a value {takes_value}"
        assert param.required == recorded["required"], f"{path} {flag}: required {param.required}"
        assert defaults[param.name] == recorded["default"], f"{path} {flag}: default {defaults[param.name]!r}"
        choices = list(param.type.choices) if isinstance(param.type, click.Choice) else None
        assert choices == recorded.get("choices"), f"{path} {flag}: choices {choices}"


def test_a_bad_value_is_a_usage_error_not_a_traceback(capsys):
    assert main(["policy", "serve", "--mode", "oracle", "--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err
    assert main(["eval", "--policy", "smart"]) == 2
    assert main(["no-such-command"]) == 2
