"""A dataset row parsed into a `Scenario`: pure data, no processes, no network.

Accepts the arcee layout (`scenario`, `env`, `db`, `sample`, `spec`, `val_report`, and when present
`tasks`, `verifiers`, `solutions`: AWM's own tasks and their generated verifiers, see
`awm_ray.scenario.native`) and the upstream AWM-1K field names (`full_code`, `db_schema`,
`sample_data`, `api_spec`). Each part may be a JSON string or already nested, with or without its
wrapper key. A malformed part raises one `ScenarioError` that names the scenario and the field.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from awm_ray.scenario.native import NativeTask, TaskFormatError, parse_native_tasks, tasks_to_row

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")

# part -> (arcee column, upstream AWM-1K column, wrapper key, key of the unwrapped object)
_PARTS = {
    "env": ("env", "full_code", None, None),
    "db": ("db", "db_schema", "db_schema", "tables"),
    "sample": ("sample", "sample_data", "sample_data", "tables"),
    "spec": ("spec", "api_spec", "api_spec", "api_groups"),
}


class ScenarioError(ValueError):
    """A dataset row (or one of its parts) that cannot be used; names the scenario and field."""

    def __init__(self, scenario: str | None, field: str, message: str):
        self.scenario = scenario
        self.field = field
        self.message = message
        super().__init__(f"scenario {scenario or '<unnamed>'!r}, field {field!r}: {message}")


@dataclass(frozen=True, eq=False)
class Scenario:
    """One AWM environment: server code, schema, sample data, API spec, validation report, and its
    own tasks with their verifiers (`tasks`, possibly empty).

    Any part may be missing (`missing` lists which); what can be done with the rest is up to the
    caller: no `env` means it cannot be hosted, no `spec` means tools come from the app's OpenAPI.
    """

    name: str
    code: str | None = None
    db_schema: Mapping[str, Any] | None = None
    sample_data: Mapping[str, Any] | None = None
    spec: Mapping[str, Any] | None = None
    val_report: Any = None
    tasks: tuple[NativeTask, ...] = field(default=())

    @property
    def upstream_tasks(self) -> tuple[str, ...]:
        """The texts of the scenario's own tasks, in index order."""
        return tuple(t.task for t in self.tasks)

    def task(self, index: int) -> NativeTask:
        """The scenario's own task with this index; `KeyError` when it has none."""
        for task in self.tasks:
            if task.index == index:
                return task
        raise KeyError(f"scenario {self.name!r} has no task {index} (it has {len(self.tasks)})")

    @property
    def missing(self) -> tuple[str, ...]:
        """The absent parts, by arcee column name (`env`, `db`, `sample`, `spec`)."""
        present = {"env": self.code, "db": self.db_schema, "sample": self.sample_data, "spec": self.spec}
        return tuple(part for part, value in present.items() if value is None)

    @cached_property
    def data_hash(self) -> str:
        """Content hash of schema + sample data: the key of its template database."""
        payload = json.dumps([self.db_schema, self.sample_data], sort_keys=True, default=str)
        return hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()

    @cached_property
    def code_hash(self) -> str:
        return hashlib.blake2b((self.code or "").encode(), digest_size=16).hexdigest()

    def to_row(self) -> dict[str, Any]:
        """The scenario as one arcee-layout row (JSON strings for the structured parts)."""

        def dump(value: Any) -> str | None:
            return None if value is None else json.dumps(value, ensure_ascii=False)

        return {
            "scenario": self.name,
            "env": self.code,
            "db": dump(self.db_schema),
            "sample": dump(self.sample_data),
            "spec": dump(self.spec),
            "val_report": dump(self.val_report),
            **tasks_to_row(self.tasks),
        }


def parse_scenario(row: Mapping[str, Any]) -> Scenario:
    """Parse one dataset row (either layout) into a `Scenario`, or raise `ScenarioError`."""
    if not isinstance(row, Mapping):
        raise ScenarioError(None, "<row>", f"expected a mapping, got {type(row).__name__}")
    name = row.get("scenario", row.get("name"))
    if not isinstance(name, str) or not name.strip():
        raise ScenarioError(None, "scenario", f"missing or not a non-empty string: {name!r}")
    name = name.strip()

    parts: dict[str, Any] = {}
    for part, (column, upstream, wrapper, key) in _PARTS.items():
        source = column if row.get(column) is not None else upstream
        value = row.get(source)
        if part == "env":
            parts[part] = _parse_code(name, source, value)
        else:
            parts[part] = _parse_json_part(name, source, value, wrapper, key)
    if parts["db"] is not None:
        _check_db_schema(name, parts["db"])
    if parts["sample"] is not None:
        _check_sample(name, parts["sample"])
    if parts["spec"] is not None:
        _check_spec(name, parts["spec"])

    val_report = row.get("val_report")
    if isinstance(val_report, str):
        val_report = _loads(name, "val_report", val_report) if val_report.strip() else None
    verifiers = row.get("verifiers", row.get("verifier"))
    try:
        tasks = parse_native_tasks(row.get("tasks"), verifiers, row.get("solutions"))
    except TaskFormatError as exc:
        raise ScenarioError(name, exc.field, str(exc)) from None
    return Scenario(
        name=name,
        code=parts["env"],
        db_schema=parts["db"],
        sample_data=parts["sample"],
        spec=parts["spec"],
        val_report=val_report,
        tasks=tasks,
    )


def _parse_code(name: str, field_name: str, value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ScenarioError(name, field_name, f"server code must be a string, got {type(value).__name__}")
    return value


def _loads(name: str, field_name: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(name, field_name, f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None


def _parse_json_part(name: str, field_name: str, value: Any, wrapper: str | None, key: str | None) -> dict | None:
    if value is None:
        return None
    if isinstance(value, str):
        if not value.strip():
            return None
        value = _loads(name, field_name, value)
        if value is None:
            return None
    if not isinstance(value, Mapping):
        raise ScenarioError(name, field_name, f"expected a JSON object, got {type(value).__name__}")
    if wrapper and wrapper in value and key not in value:
        inner = value[wrapper]
        if isinstance(inner, str):
            inner = _loads(name, f"{field_name}.{wrapper}", inner)
        if not isinstance(inner, Mapping):
            raise ScenarioError(name, f"{field_name}.{wrapper}", f"expected a JSON object, got {type(inner).__name__}")
        value = inner
    return dict(value)


def _require_list(name: str, where: str, value: Any) -> list:
    if not isinstance(value, list):
        raise ScenarioError(name, where, f"expected a list, got {type(value).__name__}")
    return value


def _require_str(name: str, where: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ScenarioError(name, where, f"expected a non-empty string, got {value!r:.80}")
    return value


def _check_db_schema(name: str, schema: Mapping[str, Any]) -> None:
    for i, table in enumerate(_require_list(name, "db.tables", schema.get("tables"))):
        where = f"db.tables[{i}]"
        if not isinstance(table, Mapping):
            raise ScenarioError(name, where, "expected an object with 'name' and 'ddl'")
        _require_str(name, f"{where}.ddl", table.get("ddl"))
        for j, index in enumerate(_require_list(name, f"{where}.indexes", table.get("indexes", []))):
            _require_str(name, f"{where}.indexes[{j}]", index)


def _check_sample(name: str, sample: Mapping[str, Any]) -> None:
    for i, table in enumerate(_require_list(name, "sample.tables", sample.get("tables"))):
        where = f"sample.tables[{i}]"
        if not isinstance(table, Mapping):
            raise ScenarioError(name, where, "expected an object with 'table_name' and 'insert_statements'")
        statements = _require_list(name, f"{where}.insert_statements", table.get("insert_statements"))
        for j, statement in enumerate(statements):
            _require_str(name, f"{where}.insert_statements[{j}]", statement)


def _check_spec(name: str, spec: Mapping[str, Any]) -> None:
    for i, group in enumerate(_require_list(name, "spec.api_groups", spec.get("api_groups"))):
        if not isinstance(group, Mapping):
            raise ScenarioError(name, f"spec.api_groups[{i}]", "expected an object with 'endpoints'")
        for j, endpoint in enumerate(_require_list(name, f"spec.api_groups[{i}].endpoints", group.get("endpoints"))):
            where = f"spec.api_groups[{i}].endpoints[{j}]"
            if not isinstance(endpoint, Mapping):
                raise ScenarioError(name, where, "expected an endpoint object")
            path = _require_str(name, f"{where}.path", endpoint.get("path"))
            if not path.startswith("/"):
                raise ScenarioError(name, f"{where}.path", f"must start with '/': {path!r}")
            method = _require_str(name, f"{where}.method", endpoint.get("method"))
            if method.upper() not in HTTP_METHODS:
                raise ScenarioError(name, f"{where}.method", f"unknown HTTP method {method!r}")
            params = endpoint.get("request_params") or {}
            if not isinstance(params, Mapping):
                raise ScenarioError(name, f"{where}.request_params", "expected an object of parameters")
            for pname, param in params.items():
                if not isinstance(param, Mapping):
                    raise ScenarioError(name, f"{where}.request_params.{pname}", "expected a parameter object")
                location = param.get("param_type", "query")
                if location not in ("path", "query", "body"):
                    raise ScenarioError(
                        name, f"{where}.request_params.{pname}.param_type", f"must be path, query or body, got {location!r}"
                    )
