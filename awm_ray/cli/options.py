"""Option groups shared by the commands, defined once, and the config they override.

A group is a list of `click.option`s applied as one decorator (`@DATA_OPTIONS`); adding a flag to
every command that takes the group is one line here. An option made with `config_option(...,
key="section.field")` overrides that field of the YAML config when it is given (`None` = keep the
file's value); `load_command_config()` collects them, so a new config-backed flag needs no code in
the command. Range checks are declarative: give the option a `click.IntRange` / `click.FloatRange`
(`PORT`, `POSITIVE`, `NON_NEGATIVE` below) and click refuses a value outside it with a usage error
(exit code 2) before the command runs.

Every command takes `-h/--help`, shows defaults in its help, and receives its options as keyword
arguments named by their `dest` (`--max-scenarios` -> `max_scenarios`, `--filter` -> `scenario_filter`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from awm_ray.config import Config, load_config
from awm_ray.loading import BUNDLED
from awm_ray.text import loads, non_finite, one_line

F = TypeVar("F", bound=Callable[..., Any])

CONTEXT = {"help_option_names": ["-h", "--help"], "show_default": True, "max_content_width": 110}
"""click context settings of every awm-ray command."""

PATH = click.Path(path_type=Path)
PORT = click.IntRange(0, 65535)
POSITIVE = click.IntRange(min=1)
NON_NEGATIVE = click.IntRange(min=0)
BACKENDS = click.Choice(["subprocess", "inprocess"])


def check_writable(path: Path, directory: bool) -> Path:
    """`path` if it can be written (a file, or a directory to create files in); else `click.BadParameter` saying why.

    Checked without side effects, before any work: the nearest existing ancestor must be a directory
    in which a file can be created (a probe file, created and removed: `os.access` says yes to root
    on read-only and virtual file systems).
    """
    path = Path(path).expanduser()
    target = path if directory else path.parent
    if directory and path.exists() and not path.is_dir():
        raise click.BadParameter(f"{path} exists and is not a directory")
    if not directory and path.is_dir():
        raise click.BadParameter(f"{path} is a directory; give a file name")
    ancestor = target.absolute()
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise click.BadParameter(f"cannot create {target}: {ancestor} is not a directory")
    if not directory and path.exists() and not os.access(path, os.W_OK):
        raise click.BadParameter(f"{path} is not writable")
    try:
        handle, probe = tempfile.mkstemp(dir=ancestor, prefix=".awm-ray-probe-")
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise click.BadParameter(f"cannot create {path}: {ancestor} is not writable ({exc.strerror or exc})") from None
    return path


class WritablePath(click.ParamType):
    """A file (`directory=False`) or directory the command will write, checked before it starts (`check_writable`)."""

    name = "path"

    def __init__(self, directory: bool = False):
        self.directory = directory

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        return check_writable(Path(value), self.directory)


OUT_FILE = WritablePath(directory=False)
OUT_DIR = WritablePath(directory=True)
POLICIES = click.Choice(["oracle", "random", "noop", "spray"])


class ConfigOption(click.Option):
    """A click option that, when given, overrides the config field `config_key` (dotted, e.g. `hosting.backend`).

    `to_config` converts the flag's value into the field's value (e.g. a comma-separated list into a list).
    """

    def __init__(self, *decls: Any, config_key: str, to_config: Callable[[Any], Any] | None = None, **kwargs: Any):
        super().__init__(*decls, **kwargs)
        self.config_key = config_key
        self.to_config = to_config

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        record = super().get_help_record(ctx)
        return None if record is None else (record[0], f"{record[1]}  [overrides {self.config_key}]".lstrip())


def config_option(*decls: str, key: str, to_config: Callable[[Any], Any] | None = None, **kwargs: Any) -> Callable[[F], F]:
    """`click.option(*decls, **kwargs)` that overrides config field `key` when given (see `load_command_config`)."""
    return click.option(*decls, cls=ConfigOption, config_key=key, to_config=to_config, **kwargs)


def option_group(*options: Callable[[F], F]) -> Callable[[F], F]:
    """Apply several `click.option` decorators as one; the options appear in `--help` in the order given."""

    def apply(function: F) -> F:
        for option in reversed(options):
            function = option(function)
        return function

    return apply


def load_command_config(config_path: Path | None = None) -> Config:
    """The config of the running command: `config_path` (or the defaults), overridden by every given `ConfigOption`.

    Raises `OSError` (unreadable file), `awm_ray.config.ConfigError` (invalid config or flag value: one line).
    """
    context = click.get_current_context()
    overrides: dict[str, Any] = {}
    for param in context.command.params:
        if isinstance(param, ConfigOption):
            value = context.params.get(param.name or "")
            if value is not None and param.to_config is not None:
                value = param.to_config(value)
            overrides[param.config_key] = value
    return load_config(config_path, overrides)


def _comma_list(value: str) -> list[str]:
    return value.split(",")


DATA_OPTIONS = option_group(
    click.option("--config", type=PATH, help="a configs/*.yaml file (flags override it)"),
    config_option("--dataset", key="data.dataset",
                  help=f"'{BUNDLED}' (default), a hub dataset name, a .jsonl/.parquet file, or a directory"),
    config_option("--split", key="data.split", help="dataset split (default train)"),
    config_option("--max-scenarios", key="data.max_scenarios", type=POSITIVE, help="load at most this many scenarios"),
    config_option("--filter", "scenario_filter", key="data.scenario_filter", to_config=_comma_list,
                  help="comma-separated scenario names or glob patterns"),
)  # fmt: skip
"""Where the scenarios come from: `--config --dataset --split --max-scenarios --filter`."""

BACKEND_OPTION = config_option("--backend", key="hosting.backend", type=BACKENDS, help="how slots are hosted")
"""How slots are hosted (`--backend`): validate takes it alone, farm commands with `FARM_OPTIONS`."""

FARM_OPTIONS = option_group(
    BACKEND_OPTION,
    config_option("--address", key="farm.address", help="Ray address to join (default: farm.address, else a new local Ray)"),
    config_option("--farm-name", key="farm.name",
                  help="name of the farm's scheduler actor (default farm.name); two farms on one cluster need two names"),
)  # fmt: skip
"""Which farm runs the episodes: `--backend --address --farm-name`."""

MODEL_OPTIONS = option_group(
    click.option("--model", help="model name at --base-url (default: the reference --policy)"),
    click.option("--base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1"),
    click.option("--api-key-var", help="environment variable holding the endpoint's API key"),
    click.option("--policy", type=POLICIES, default="oracle",
                 help="reference policy used when no --model is given (a harness check, not a model)"),
)  # fmt: skip
"""Who plays the episodes: `--model --base-url --api-key-var`, or the reference `--policy`."""


TASK_OPTIONS = option_group(
    config_option("--tasks", key="data.tasks", type=click.Choice(["endpoint", "native"]),
                  help="endpoint: tasks sampled from passed endpoints, reward endpoint_hit (default); native: the "
                  "scenarios' own tasks, reward task_complete from their verifiers"),
    config_option("--verifier", key="verification.mode", type=click.Choice(["code", "sql"]),
                  help="native tasks: code = the verifier's own verdict (default); sql = its evidence + an LLM judge"),
    config_option("--include-degenerate", key="verification.include_degenerate", is_flag=True, default=None,
                  help="native tasks: also play tasks `awm-ray validate` marked degenerate or broken"),
    config_option("--judge-model", key="verification.judge.model", help="sql mode: the judge model"),
    config_option("--judge-base-url", key="verification.judge.base_url",
                  help="sql mode: the judge's OpenAI-compatible endpoint (default: the openai default)"),
    config_option("--judge-api-key-var", key="verification.judge.api_key_var",
                  help="sql mode: environment variable holding the judge's API key (default OPENAI_API_KEY)"),
)  # fmt: skip
"""Which tasks, verified how: `--tasks --verifier --include-degenerate --judge-model --judge-base-url --judge-api-key-var`."""


class JsonObject(click.ParamType):
    """A JSON object given on the command line (`'{"temperature": 0.7}'`), as a dict.

    A default given in code may already be a mapping (taken as it is) or another value (refused like a
    bad flag value). Errors quote at most `_EXCERPT` characters of the value: `repr` writes a character
    it cannot print as `\\U000e0041` (10 characters), so the quote is capped after `repr`, not before."""

    name = "JSON"
    _EXCERPT = 80

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dict[str, Any]:
        if isinstance(value, Mapping):
            parsed: Any = dict(value)
        elif not isinstance(value, (str, bytes, bytearray)):
            self.fail(f"must be a JSON object such as '{{\"temperature\": 0.7}}', got {self._quote(value)}", param, ctx)
        else:
            try:
                parsed = loads(value)  # nested too deep or a number too long: invalid JSON too, not a traceback
            except json.JSONDecodeError as exc:
                self.fail(f"not JSON ({one_line(exc.msg, 100)} at position {exc.pos}): {self._quote(value)}", param, ctx)
        if not isinstance(parsed, dict):
            self.fail(f"must be a JSON object such as '{{\"temperature\": 0.7}}', got {self._quote(value)}", param, ctx)
        where = non_finite(parsed)
        if where:  # a request holding it is refused (strict servers, `json.dumps(allow_nan=False)`)
            self.fail(f"not JSON (NaN/Infinity is not a JSON number: {one_line(where, 100)}): {self._quote(value)}", param, ctx)
        return parsed

    def _quote(self, value: Any) -> str:
        return one_line(repr(one_line(value, self._EXCERPT)), self._EXCERPT + 2)


SAMPLING_OPTIONS = option_group(
    click.option("--sampling-args", type=JsonObject(), help="JSON object sent with every model request, e.g. "
                 "'{\"temperature\": 0.7, \"top_p\": 0.95}'; keys the openai client does not know (top_k, ...) go "
                 "into the request body as they are"),
    click.option("--temperature", type=click.FloatRange(min=0), help="sampling temperature (over --sampling-args)"),
    click.option("--max-tokens", type=POSITIVE, help="tokens one model reply may have (over --sampling-args)"),
    click.option("--request-timeout", type=click.FloatRange(min=0, min_open=True), default=600.0,
                 help="seconds one model request may take (the openai client retries twice)"),
    click.option("--max-concurrent-requests", type=POSITIVE,
                 help="model requests in flight at once over the run (default: one per episode in flight)"),
)  # fmt: skip
"""How the model is asked: `--sampling-args --temperature --max-tokens --request-timeout --max-concurrent-requests`."""


def sampling_args(given: dict[str, Any] | None, temperature: float | None, max_tokens: int | None) -> dict[str, Any]:
    """The sampling arguments of every model request: `--sampling-args`, then the flags that name one."""
    sampling = dict(given or {})
    if temperature is not None:
        sampling["temperature"] = temperature
    if max_tokens is not None:
        sampling["max_tokens"] = max_tokens
    return sampling
