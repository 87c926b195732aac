"""Reference solutions the oracle plays for a scenario's own tasks (never shown to a model).

A task's solution (`awm_ray.scenario.native.Solution`: tool calls in order, then an answer for a
question) is looked up by the task's text, as the model sees it in the first user message, and by
the tools the request offers (two scenarios may share a task text: the one whose solution uses only
tools on offer wins).

```python
book = SolutionBook.from_scenarios(load_scenarios("bundled"))
PolicyServer("oracle", solutions=book)     # or build_app("oracle", solutions=book)
```
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from awm_ray.scenario.model import Scenario
from awm_ray.scenario.native import Solution, parse_native_tasks


def task_key(text: str) -> str:
    """A task text as the book files it: whitespace runs as one space, no surrounding space."""
    return re.sub(r"\s+", " ", text).strip()


class SolutionBook:
    """Solutions by task text; `lookup(text, tool_names)` finds one the offered tools can play."""

    def __init__(self) -> None:
        self._by_text: dict[str, list[Solution]] = {}

    def add(self, task_text: str, solution: Solution) -> None:
        entries = self._by_text.setdefault(task_key(task_text), [])
        if not any(s.to_dict() == solution.to_dict() for s in entries):
            entries.append(solution)

    def lookup(self, task_text: str, tool_names: Iterable[str]) -> Solution | None:
        offered = set(tool_names)
        for solution in self._by_text.get(task_key(task_text), []):
            if set(solution.tools) <= offered:
                return solution
        return None

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_text.values())

    @classmethod
    def from_scenarios(cls, scenarios: Iterable[Scenario]) -> SolutionBook:
        book = cls()
        for scenario in scenarios:
            for task in scenario.tasks:
                if task.solution is not None:
                    book.add(task.task, task.solution)
        return book

    # ---- as JSON (to hand a book to a policy server in another process) -----------------------

    def to_json(self) -> list[dict[str, Any]]:
        return [{"task": text, **s.to_dict()} for text, entries in self._by_text.items() for s in entries]

    @classmethod
    def from_json(cls, entries: list[Mapping[str, Any]]) -> SolutionBook:
        book = cls()
        for entry in entries:
            (task,) = parse_native_tasks([entry["task"]], None, [{"calls": entry.get("calls", []),
                                                                  "answer": entry.get("answer")}])  # fmt: skip
            assert task.solution is not None
            book.add(task.task, task.solution)
        return book

    def write(self, path: str | Path) -> Path:
        Path(path).write_text(json.dumps(self.to_json(), ensure_ascii=False))
        return Path(path)

    @classmethod
    def read(cls, path: str | Path) -> SolutionBook:
        return cls.from_json(json.loads(Path(path).read_text()))
