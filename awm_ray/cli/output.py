"""What the commands print: one console, progress that suits a terminal or a log, and error lines.

The CLI's own output goes to stdout through `console` (rich, markup off: messages print literally);
logging goes to stderr. On a terminal progress is a live bar; in a pipe or a log it is a line every
few seconds and one at the end.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from rich.console import Console
from rich.progress import Progress, ProgressColumn
from rich.text import Text

from awm_ray.text import clean

console = Console(markup=False) if sys.stdout.isatty() else Console(width=120, markup=False)
"""Markup is off: every message is printed literally (a `[low, high]` in it is text); styles go through `Text`."""


def print_error(message: object) -> None:
    """`error: <message>` in red, the way every command reports bad input (exit code 2).

    The message is printed literally: brackets in it (`[low, high]`) are text, not rich markup.
    """
    console.print(Text.assemble(("error:", "red"), " ", clean(str(message))), highlight=False, soft_wrap=True)


def report_bad_rows(errors: list[Any]) -> None:
    """One `skipped: ...` line per unusable row or file of the dataset (printed literally)."""
    for exc in errors:
        console.print(Text.assemble(("skipped:", "yellow"), " ", clean(str(exc))), highlight=False, soft_wrap=True)


def nothing_loaded(data: Any, errors: list[Any]) -> str:
    """Why a dataset gave no scenario: the filter matched none, or every row was unusable, or it is empty."""
    where = f"dataset {data.dataset!r}" + (f" (split {data.split!r})" if data.split != "train" else "")
    if errors:
        return f"{where}: no usable scenario ({len(errors)} row(s) or file(s) skipped, listed above)"
    if data.scenario_filter:
        return f"{where}: no scenario matches the filter {','.join(data.scenario_filter)!r}"
    return f"{where}: no scenarios"


class LineProgress:
    """Progress for logs and pipes (no live bar there): a line every `every_s` seconds and at the end.

    It takes the subset of `rich.progress.Progress`'s API the commands use (`add_task`, `update`, context manager).
    """

    def __init__(self, noun: str, every_s: float = 10.0):
        self.noun, self.every_s, self._time = noun, every_s, time.monotonic
        self.started = self.last = self._time()
        self.total: float | None = None
        self.done = 0.0
        self.description = ""

    def add_task(self, description: str, total: float | None = None, **_: Any) -> int:
        self.total = total
        return 0

    def update(self, task: int, *, advance: float = 0, completed: float | None = None, total: float | None = None,
               description: str | None = None, **_: Any) -> None:  # fmt: skip
        self.done = completed if completed is not None else self.done + advance
        self.total = total if total is not None else self.total
        self.description = description if description is not None else self.description
        if self._time() - self.last >= self.every_s:
            self._print()

    def _print(self) -> None:
        self.last = self._time()
        elapsed = max(1e-9, self.last - self.started)
        rate = self.done / elapsed
        of = f"/{self.total:.0f}" if self.total else ""
        eta = f", ETA {(self.total - self.done) / rate:.0f} s" if self.total and rate > 0 else ""
        console.print(f"{self.noun} {self.done:.0f}{of} ({rate:.2f}/s{eta}) {self.description}", highlight=False)

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self._print()


def progress(columns: tuple[str | ProgressColumn, ...], noun: str) -> Progress | LineProgress:
    """A live bar with `columns` on a terminal, else a `LineProgress` counting `noun`s."""
    return Progress(*columns, console=console) if console.is_terminal else LineProgress(noun)
