"""The app's own OpenAPI document, read as an AWM spec; and where the two disagree.

A scenario without `spec` takes its tools from `spec_from_openapi(app.openapi())`. When both
exist, `spec_mismatches` lists spec routes the app lacks and parameters that sit elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from awm_ray.scenario.schemas import normalize
from awm_ray.scenario.tools import iter_endpoints

_JSON_TO_SPEC = {"string": "string", "integer": "integer", "number": "float", "boolean": "boolean",
                 "array": "array", "object": "object"}  # fmt: skip
_PLACEHOLDER_RE = re.compile(r"{[^{}]+}")


def spec_from_openapi(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Convert an OpenAPI 3 document (as FastAPI emits it) into AWM's `api_spec` shape."""
    endpoints: list[dict[str, Any]] = []
    for path, item in (doc.get("paths") or {}).items():
        for method, op in item.items():
            if method.upper() not in ("GET", "POST", "PUT", "PATCH", "DELETE") or not isinstance(op, Mapping):
                continue
            params: dict[str, dict[str, Any]] = {}
            for p in op.get("parameters") or []:
                p = _resolve(doc, p)
                if p.get("in") not in ("path", "query"):
                    continue
                params[p["name"]] = _param(doc, p.get("schema") or {}, p["in"], bool(p.get("required")), p)
            body = ((op.get("requestBody") or {}).get("content") or {}).get("application/json")
            if body:
                schema = _resolve(doc, body.get("schema") or {})
                required = set(schema.get("required") or [])
                for name, prop in (schema.get("properties") or {}).items():
                    params[name] = _param(doc, prop, "body", name in required, prop)
            endpoints.append(
                {
                    "path": path,
                    "method": method.upper(),
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "operation_id": op.get("operationId") or f"{method}_{path}",
                    "tags": list(op.get("tags") or []),
                    "request_params": params,
                }
            )
    return {"api_groups": [{"group_name": "openapi", "endpoints": endpoints}]}


def spec_mismatches(spec: Mapping[str, Any], app_spec: Mapping[str, Any]) -> list[str]:
    """Human-readable disagreements between a scenario's spec and its app's routes."""
    app_routes = {_route_key(e): e for e in iter_endpoints(app_spec)}
    problems: list[str] = []
    for endpoint in iter_endpoints(spec):
        key = _route_key(endpoint)
        label = f"{key[0]} {endpoint['path']} ({endpoint.get('operation_id', '?')})"
        app = app_routes.get(key)
        if app is None:
            problems.append(f"{label}: route in spec, missing from the app")
            continue
        spec_params = endpoint.get("request_params") or {}
        app_params = app.get("request_params") or {}
        path_names = _placeholders(endpoint["path"])
        for name, pdef in spec_params.items():
            where = pdef.get("param_type", "query")
            if where == "path" and name in path_names:
                continue  # routing already matched; placeholder names may differ
            if name not in app_params:
                problems.append(f"{label}: parameter '{name}' ({where}) in spec, unknown to the app")
            elif app_params[name].get("param_type") != where:
                problems.append(
                    f"{label}: parameter '{name}' is {where} in spec, {app_params[name].get('param_type')} in the app"
                )
        for name, pdef in app_params.items():
            if pdef.get("param_type") != "path" and pdef.get("required") and name not in spec_params:
                problems.append(f"{label}: the app requires parameter '{name}' ({pdef.get('param_type')}), not in spec")
    return problems


def _route_key(endpoint: Mapping[str, Any]) -> tuple[str, str]:
    return str(endpoint["method"]).upper(), _PLACEHOLDER_RE.sub("{}", endpoint["path"].rstrip("/") or "/")


def _placeholders(path: str) -> set[str]:
    return {m[1:-1] for m in _PLACEHOLDER_RE.findall(path)}


def _resolve(doc: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    seen = 0
    while isinstance(node, Mapping) and "$ref" in node and seen < 32:
        target: Any = doc
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, Mapping) else {}
        node, seen = target, seen + 1
    return node if isinstance(node, Mapping) else {}


def _param(doc: Mapping[str, Any], schema: Mapping[str, Any], where: str, required: bool, meta: Mapping[str, Any]) -> dict:
    schema = _non_null(doc, schema)
    out: dict[str, Any] = {
        "type": _JSON_TO_SPEC.get(schema.get("type", ""), "any"),
        "param_type": where,
        "required": required,
        "description": meta.get("description") or schema.get("description") or schema.get("title") or "",
    }
    items = _non_null(doc, schema.get("items") or {})
    if out["type"] == "array" and items.get("type"):
        out["items"] = {"type": items["type"]}
    out["schema"] = normalize(schema, doc, depth=1)  # the whole shape, `$ref`s resolved (nested arrays, objects)
    out["schema"].pop("examples", None)
    if schema.get("enum"):
        out["enum"] = list(schema["enum"])
    for source in (meta, schema):
        if source.get("example") is not None:
            out["example"] = source["example"]
            break
        if source.get("examples"):
            examples = source["examples"]
            out["example"] = examples[0] if isinstance(examples, list) else next(iter(examples.values()), {}).get("value")
            break
    return out


def _non_null(doc: Mapping[str, Any], schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """`Optional[X]` appears as `anyOf: [X, null]`: keep X."""
    schema = _resolve(doc, schema)
    for key in ("anyOf", "oneOf"):
        options = [_resolve(doc, s) for s in schema.get(key) or []]
        options = [s for s in options if s.get("type") != "null"]
        if options:
            merged = dict(options[0])
            for k in ("description", "title", "example", "examples"):
                if k in schema and k not in merged:
                    merged[k] = schema[k]
            return merged
    return schema
