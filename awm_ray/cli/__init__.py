"""The `awm-ray` command line: one module per command, found by name.

Every module of this package that defines a module-level `command` (a `click.Command` or
`click.Group`) is a subcommand of `awm-ray`: a new command costs one file. Shared option groups
(data, farm, model) are in `options.py`, the console and progress in `output.py`. Commands import
their heavy modules (Ray, the farm, the evaluator) inside their body, so `awm-ray --help` stays fast.

Exit codes: 0 done, 1 nothing to report (e.g. no scenario validated), 2 bad input (a usage error,
an unreadable dataset or config, a refused value), printed as one `error: ...` line, 130 interrupted.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import sys

import click

from awm_ray.cli.options import CONTEXT
from awm_ray.cli.output import console, print_error
from awm_ray.loading import DatasetUnavailable
from awm_ray.scenario import ScenarioError

__all__ = ["cli", "console", "main"]

BAD_INPUT = (DatasetUnavailable, ScenarioError, ValueError, OSError)
"""Errors a command reports as `error: <message>` with exit code 2 instead of a traceback."""


@click.group("awm-ray", context_settings=CONTEXT)
@click.option("-v", "--verbose", count=True, help="more logging (-v info, -vv debug)")
def cli(verbose: int) -> None:
    """Ray rollout farm for Agent World Model environments."""
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        _command = getattr(importlib.import_module(f"{__name__}.{_module.name}"), "command", None)
        if isinstance(_command, click.Command):
            cli.add_command(_command)


def main(argv: list[str] | None = None) -> int:
    """Run `awm-ray` with `argv` (default `sys.argv[1:]`) and return its exit code (see the module docstring)."""
    try:
        result = cli.main(args=argv, prog_name="awm-ray", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:  # Ctrl-C or end of input; what the command started was shut down on the way out
        console.print("aborted")
        return 130
    except BAD_INPUT as exc:
        print_error(exc)
        return 2
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
