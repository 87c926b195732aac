"""`awm-ray` keeps every flag it had: the names in `--help`, and their defaults, choices and arity.

`tests/data/cli_flags.json` was recorded from the argparse CLI before it became a click package
(one entry per command path, one per option string). New flags may be added freely (the check is
a superset); removing or renaming one, or changing its default, breaks this test on purpose.
"""

from __future__ import annotations

import json
import re
import types
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from awm_ray.cli import cli, main
from awm_ray.cli.options import JsonObject

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


def _json_command(default):
    @click.command()
    @click.option("--args", type=JsonObject(), default=default, show_default=True)
    def command(args):
        click.echo(json.dumps(args))

    return command


@pytest.mark.parametrize("default", [{"a": 1}, types.MappingProxyType({"a": 1}), '{"a": 1}'])
def test_a_json_object_default_may_be_a_mapping(default):
    result = CliRunner().invoke(_json_command(default), [])
    assert result.exit_code == 0 and json.loads(result.output) == {"a": 1}


@pytest.mark.parametrize("default", [[1], 5, True, 1.5])
def test_a_json_object_default_of_another_type_is_a_usage_error(default):
    result = CliRunner().invoke(_json_command(default), [])
    assert result.exit_code == 2 and "must be a JSON object" in result.output, repr(result.exception)


@pytest.mark.parametrize("value", [
    "\U000e0041" * 1000,  # tag characters: repr writes each as 10 characters
    '"' + "\U000e0041" * 1000 + '"', "[" + "\x00," * 1000 + "1]", "\ud800" * 1000, "\x1b[31m" * 1000,
    '{"t": ' + "NaN" + ', "' + "\U000e0041" * 1000 + '": 1}',
])  # fmt: skip
def test_json_object_errors_stay_short_whatever_the_text(value):
    with pytest.raises(click.BadParameter) as info:
        JsonObject().convert(value, None, None)
    assert len(info.value.format_message()) <= 300, info.value.format_message()


@pytest.mark.parametrize("value", ['{"temperature": NaN}', '{"x": [Infinity]}', '{"x": -Infinity}', '{"x": 1e999}'])
def test_json_object_refuses_nan_and_infinity(value):
    """JSON has no such numbers: a request holding them is refused by strict servers (and by
    `json.dumps(allow_nan=False)`), so the flag is refused before the run starts."""
    with pytest.raises(click.BadParameter, match="NaN/Infinity is not a JSON number"):
        JsonObject().convert(value, None, None)
