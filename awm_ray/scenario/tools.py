"""Tools from an API spec, and tool calls turned into HTTP requests.

One tool per endpoint, named by its `operation_id` (made a valid, unique OpenAI function name).
A tool call (name + JSON arguments) becomes an `HttpRequest`; anything wrong with the call raises
`ToolCallError`, whose text is meant for the model. Nothing here does I/O.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import jsonschema

from awm_ray.scenario.schemas import normalize, strict_form
from awm_ray.text import lone_surrogate, loads, non_finite, one_line

_JSON_TYPE_OF = {str: "string", bool: "boolean", int: "integer", float: "number", list: "array", dict: "object"}
_NAME_RE = re.compile(r"[^a-zA-Z0-9_-]+")
_PATH_PARAM_RE = re.compile(r"{([^{}]+)}")
MAX_TOOL_NAME = 64


class ToolCallError(ValueError):
    """A tool call that cannot be sent; `str(err)` is the text the model gets back."""


@dataclass(frozen=True)
class HttpRequest:
    """What a tool call becomes: plain primitives, ready for any backend."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    json: Any = None


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: str
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def as_text(self, max_chars: int) -> str:
        """Status line + body, truncated to `max_chars` characters of body."""
        try:
            reason = HTTPStatus(self.status).phrase
        except ValueError:
            reason = ""
        body = self.body
        if len(body) > max_chars:
            body = f"{body[:max_chars]}\n... [truncated: {len(body) - max_chars} more characters]"
        return f"HTTP {self.status} {reason}".rstrip() + "\n" + body


@dataclass(frozen=True)
class Param:
    name: str
    location: str  # "path" | "query" | "body"
    schema: Mapping[str, Any]
    required: bool

    @property
    def json_type(self) -> str | None:
        return self.schema.get("type")


@dataclass(frozen=True)
class Tool:
    """One endpoint as a callable tool."""

    name: str
    operation_id: str
    method: str
    path: str
    description: str
    params: tuple[Param, ...] = field(default=())
    purpose: str = ""  # what the endpoint does, in one sentence (its description, else its summary)

    @cached_property
    def parameters(self) -> dict[str, Any]:
        """JSON Schema of the arguments object."""
        return {
            "type": "object",
            "properties": {p.name: dict(p.schema) for p in self.params},
            "required": [p.name for p in self.params if p.required],
            "additionalProperties": False,
        }

    @cached_property
    def strict_parameters(self) -> dict[str, Any] | None:
        """`parameters` in the Structured Outputs form (`strict: true`: every property required, the
        optional ones nullable, every object closed), or None when the schema has none (a free-form
        object or an untyped value among the arguments). See `awm_ray.scenario.schemas`."""
        return strict_form(self.parameters)

    def definition(self, strict: bool = False) -> dict[str, Any]:
        """The tool as `{"name", "description", "parameters"}` (verifiers' `tool_defs` format).

        With `strict`, the `strict_parameters` and `"strict": true` when the tool has them (else the
        plain definition: such a tool cannot be called in strict mode)."""
        if strict and self.strict_parameters is not None:
            return {"name": self.name, "description": self.description, "parameters": self.strict_parameters,
                    "strict": True}  # fmt: skip
        return {"name": self.name, "description": self.description, "parameters": self.parameters}

    def example_arguments(self) -> dict[str, Any]:
        """Arguments from the schema examples; required params without one get a typed placeholder."""
        args: dict[str, Any] = {}
        for p in self.params:
            examples = p.schema.get("examples")
            if examples:
                args[p.name] = examples[0]
            elif p.required:
                args[p.name] = _PLACEHOLDERS.get(p.json_type, "example")
        return args

    def request(self, arguments: str | Mapping[str, Any] | None) -> HttpRequest:
        """Build the HTTP request for a call, or raise `ToolCallError` with a message for the model."""
        args = _parse_arguments(self.name, arguments)
        args = {k: v for k, v in args.items() if v is not None or k not in self._by_name or self._by_name[k].required}
        unknown = sorted(set(args) - set(self._by_name))
        if unknown:
            raise ToolCallError(
                f"Error: tool '{self.name}' got unknown argument(s) {', '.join(map(repr, unknown))}. "
                f"It takes: {self._signature()}."
            )
        args = {k: _coerce(v, self._by_name[k].schema) for k, v in args.items()}
        problems = [_describe(e) for e in sorted(self._validator.iter_errors(args), key=lambda e: list(e.path))]
        if problems:
            raise ToolCallError(
                f"Error: invalid arguments for tool '{self.name}': " + "; ".join(problems) + f". It takes: {self._signature()}."
            )
        return self._to_request(args)

    @cached_property
    def _by_name(self) -> dict[str, Param]:
        return {p.name: p for p in self.params}

    @cached_property
    def _validator(self) -> jsonschema.protocols.Validator:
        return jsonschema.Draft202012Validator(self.parameters)

    def _signature(self) -> str:
        if not self.params:
            return "no arguments"
        return ", ".join(
            f"{p.name}: {p.json_type or 'any'}{'' if p.required else ' (optional)'}" for p in self.params
        )

    def _to_request(self, args: Mapping[str, Any]) -> HttpRequest:
        def fill(match: re.Match[str]) -> str:
            value = args.get(match.group(1))
            if value is None:
                raise ToolCallError(f"Error: tool '{self.name}' needs path argument '{match.group(1)}'.")
            text = _scalar_text(value)
            if "/" in text or "\\" in text or text in (".", "..") or not text:
                raise ToolCallError(
                    f"Error: argument '{match.group(1)}' of tool '{self.name}' is part of the URL path "
                    f"and cannot be empty, '.', '..' or contain '/' or '\\' (got {text!r:.80})."
                )
            return quote(text, safe="")

        path = _PATH_PARAM_RE.sub(fill, self.path)
        query: list[tuple[str, str]] = []
        body: dict[str, Any] = {}
        for p in self.params:
            if p.name not in args:
                continue
            value = args[p.name]
            if p.location == "query":
                values = value if isinstance(value, list) else [value]
                query.extend((p.name, _scalar_text(v)) for v in values)
            elif p.location == "body":
                body[p.name] = value
        has_body = any(p.location == "body" for p in self.params)
        return HttpRequest(self.method, path, tuple(query), body if has_body else None)


_PLACEHOLDERS: dict[str | None, Any] = {
    "string": "example", "integer": 1, "number": 1.0, "boolean": True, "array": [], "object": {},
}  # fmt: skip


class Toolset(Mapping[str, Tool]):
    """The tools of one scenario, by name, in spec order."""

    def __init__(self, tools: Iterable[Tool]):
        self._tools = {t.name: t for t in tools}
        self._by_operation = {t.operation_id: t for t in self._tools.values()}

    def __getitem__(self, name: str) -> Tool:
        return self._tools[name]

    def __iter__(self):
        return iter(self._tools)

    def __len__(self) -> int:
        return len(self._tools)

    def by_operation_id(self, operation_id: str) -> Tool:
        return self._by_operation[operation_id]

    def definitions(self) -> list[dict[str, Any]]:
        return [t.definition() for t in self._tools.values()]

    def request(self, name: str, arguments: str | Mapping[str, Any] | None) -> HttpRequest:
        """The request for a call of tool `name`; unknown tools raise `ToolCallError`."""
        tool = self._tools.get(name)
        if tool is None:
            raise ToolCallError(
                f"Error: unknown tool '{name}'. Available tools: {', '.join(self._tools) or 'none'}."
            )
        return tool.request(arguments)


def tools_from_spec(spec: Mapping[str, Any]) -> Toolset:
    """One tool per endpoint of an AWM `api_spec` (`{"api_groups": [{"endpoints": [...]}]}`)."""
    tools: list[Tool] = []
    taken: set[str] = set()
    for endpoint in iter_endpoints(spec):
        method = str(endpoint["method"]).upper()
        path = endpoint["path"]
        operation_id = str(endpoint.get("operation_id") or f"{method.lower()}_{path}")
        name = _unique_name(operation_id, taken)
        summary = (endpoint.get("summary") or "").strip()
        description = (endpoint.get("description") or "").strip()
        text = ". ".join(s.rstrip(".") for s in (summary, description) if s) + "." if (summary or description) else ""
        params = tuple(
            _param(pname, pdef, path) for pname, pdef in (endpoint.get("request_params") or {}).items()
        )
        declared = {p.name for p in params}
        params += tuple(  # a `{placeholder}` the spec forgot to list is still a required path argument
            Param(n, "path", {"type": "string"}, True) for n in _PATH_PARAM_RE.findall(path) if n not in declared
        )
        tools.append(Tool(name, operation_id, method, path, text or f"{method} {path}", params, description or summary))
    return Toolset(tools)


def iter_endpoints(spec: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    for group in spec.get("api_groups") or []:
        yield from group.get("endpoints") or []


def _unique_name(operation_id: str, taken: set[str]) -> str:
    base = _NAME_RE.sub("_", operation_id).strip("_") or "tool"
    base = base[:MAX_TOOL_NAME]
    name, n = base, 2
    while name in taken:
        suffix = f"_{n}"
        name, n = base[: MAX_TOOL_NAME - len(suffix)] + suffix, n + 1
    taken.add(name)
    return name


def _param(name: str, pdef: Mapping[str, Any], path: str) -> Param:
    """One parameter of a spec endpoint; its schema as `schemas.normalize` writes it (a `schema` key,
    as `spec_from_openapi` adds, gives the full shape; the spec's own description and example win)."""
    location = pdef.get("param_type") or ("path" if f"{{{name}}}" in path else "query")
    example = pdef.get("example")
    raw = pdef["schema"] if isinstance(pdef.get("schema"), Mapping) else {k: v for k, v in pdef.items() if k != "required"}
    schema = normalize(raw, example=example)
    if pdef.get("description"):
        schema["description"] = str(pdef["description"])
    if example is not None:
        schema["examples"] = [example]
    required = bool(pdef.get("required", False)) or location == "path"
    return Param(name, location, schema, required)


def _parse_arguments(tool: str, arguments: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """The arguments object of a call. No arguments, `""` and `null` all mean `{}`; arguments that
    are not JSON (nested too deeply or holding a number too long to read included), JSON but not an object, or hold text that is not valid Unicode (a lone surrogate,
    sent raw or as a `\\udXXX` escape) or a number JSON has none for (NaN, Infinity, 1e999: `json.loads`
    reads them, and the app's HTTP client refuses to send them) raise `ToolCallError`, naming JSON types (`got array`)."""
    if arguments is None:
        return {}
    if isinstance(arguments, Mapping):
        return _valid_numbers(tool, _valid_text(tool, dict(arguments)))
    if not isinstance(arguments, str):
        raise ToolCallError(f"Error: arguments for tool '{tool}' must be a JSON object, got {json_type(arguments)}.")
    _valid_text(tool, arguments)
    if not arguments.strip():
        return {}
    try:
        parsed = loads(arguments)
    except json.JSONDecodeError as exc:  # also nested too deeply, a number too long (`awm_ray.text.loads`)
        raise ToolCallError(
            f"Error: arguments for tool '{tool}' are not valid JSON ({exc.msg} at position {exc.pos}). "
            "Send a JSON object such as {\"name\": \"value\"}."
        ) from None
    if parsed is None:
        return {}
    if not isinstance(parsed, dict):
        raise ToolCallError(f"Error: arguments for tool '{tool}' must be a JSON object, got {json_type(parsed)}.")
    return _valid_numbers(tool, _valid_text(tool, parsed))


def _valid_numbers(tool: str, value: Any) -> Any:
    found = non_finite(value)
    if found:
        raise ToolCallError(
            f"Error: arguments for tool '{tool}' are not valid JSON (NaN/Infinity is not a JSON number, and a number "
            f"too large for one, such as 1e999, reads as Infinity: {one_line(found, 100)}). Send finite numbers."
        )
    return value


def _valid_text(tool: str, value: Any) -> Any:
    found = lone_surrogate(value)
    if found:
        raise ToolCallError(
            f"Error: arguments for tool '{tool}' contain text that is not valid Unicode (a lone surrogate, "
            f"{found}). Send the arguments as UTF-8 text."
        )
    return value


def json_type(value: Any) -> str:
    """The JSON type name of a Python value (`null`, `boolean`, `integer`, `number`, `string`, `array`,
    `object`); a value JSON cannot hold is named as such."""
    if value is None:
        return "null"
    for kind, name in _JSON_TYPE_OF.items():
        if isinstance(value, kind):
            return name
    if isinstance(value, tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return f"a value that is not JSON ({type(value).__name__})"


def _coerce(value: Any, schema: Mapping[str, Any]) -> Any:
    """Forgive what models commonly send: numbers and booleans as strings, a list as a JSON string."""
    kind = schema.get("type")
    if kind == "integer":
        if isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                return value
            return int(number) if number.is_integer() else value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif kind == "number" and isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return value
        return number if math.isfinite(number) else value  # "nan", "inf", "1e999": no JSON number
    elif kind == "boolean" and isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    elif kind == "array" and isinstance(value, str) and value.strip().startswith("["):
        try:
            parsed = loads(value)
        except json.JSONDecodeError:
            return value
        return parsed if isinstance(parsed, list) and non_finite(parsed) is None else value
    elif kind == "array" and isinstance(value, list) and schema.get("items"):
        return [_coerce(v, schema["items"]) for v in value]
    return value


def _describe(error: jsonschema.ValidationError) -> str:
    where = ".".join(str(p) for p in error.path)
    if error.validator == "required":
        return error.message.replace("is a required property", "is required (missing)")
    if error.validator == "type":
        return f"'{where}' must be of type {error.validator_value}, got {json.dumps(error.instance)[:80]}"
    return f"'{where}': {error.message[:200]}" if where else error.message[:200]


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)
