"""JSON Schemas of tool arguments that OpenAI's function calling accepts, at every depth.

A tool's parameters come from an AWM spec (`{"type": "float", "example": [[1, 2]]}`) or from an
app's OpenAPI document (`$ref`s, `anyOf: [X, null]`, `items: {}`); either way `normalize` turns them
into the schemas model servers accept (OpenAI function calling, "Structured Outputs: supported
schemas", https://platform.openai.com/docs/guides/structured-outputs#supported-schemas):

- every array has `items`, at every depth (OpenAI answers 400 "array schema missing items" for
  every request of a scenario otherwise): taken from the spec or the OpenAPI schema, else inferred
  from the example (`[[1, 2], [3]]` -> an array of arrays of integers; `[{"id": 1}]` -> an array of
  objects with an integer `id`), else any scalar (`anyOf` string, number, boolean);
- types are JSON Schema's (`float` -> `number`, `list` -> `array`, ...); enums keep the values of
  their type; nested nullable values (`Optional[X]` inside an object) become `["X", "null"]`;
- only the keywords listed in `_KEPT` pass (no `$ref`, `allOf`, `default`, `title`, ...).

`strict_form` is the Structured Outputs form of a schema (`strict: true`): every object closed
(`additionalProperties: false`) with every property required, optional ones nullable, no
`examples`; None when the schema cannot be written so (a free-form object, an untyped value).
Nothing here does I/O.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

SPEC_TYPES = {
    "string": "string", "str": "string", "text": "string", "date": "string", "datetime": "string",
    "integer": "integer", "int": "integer",
    "float": "number", "number": "number", "double": "number", "decimal": "number",
    "boolean": "boolean", "bool": "boolean",
    "array": "array", "list": "array",
    "object": "object", "dict": "object",
    "null": "null",
}  # fmt: skip
ANY_SCALAR: dict[str, Any] = {"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]}
MAX_DEPTH = 8  # OpenAI allows 10 levels of objects; deeper input becomes any scalar
_KEPT = ("type", "description", "enum", "items", "properties", "required", "anyOf", "examples")
_STRICT_DROP = ("examples",)  # "'examples' is not permitted" in strict mode
_PYTHON_TYPES = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"), (list, "array"),
                 (dict, "object"))  # fmt: skip


def normalize(schema: Any, doc: Mapping[str, Any] | None = None, example: Any = None, depth: int = 0) -> dict[str, Any]:
    """A schema in the form described in the module doc.

    `schema` is a JSON Schema or spec-style mapping (type names such as `float` allowed); `doc` is
    the OpenAPI document its `$ref`s point into; `example` fills in what the schema leaves open.
    """
    if depth > MAX_DEPTH:
        return dict(ANY_SCALAR)
    node = _resolve(doc, schema if isinstance(schema, Mapping) else {})
    for key in ("allOf", "oneOf"):  # one-option compositions are how pydantic wraps a described $ref
        options = node.get(key)
        if isinstance(options, list) and len(options) == 1 and isinstance(options[0], Mapping):
            node = {**_resolve(doc, options[0]), **{k: v for k, v in node.items() if k != key}}
    options = node.get("anyOf") if isinstance(node.get("anyOf"), list) else node.get("oneOf")
    if isinstance(options, list) and options:
        return _union(node, options, doc, example, depth)
    out: dict[str, Any] = {}
    kind = _type_of(node, example)
    if isinstance(kind, list):
        out["type"] = kind
        kind = next((k for k in kind if k != "null"), None)
    elif kind is not None:
        out["type"] = kind
    if isinstance(node.get("description"), str) and node["description"]:
        out["description"] = node["description"]
    enum = node.get("enum")
    if isinstance(enum, list):
        values = [v for v in enum if _fits(v, kind)]
        if values:
            out["enum"] = values
    if kind == "array":
        items = node.get("items")
        element = example[0] if isinstance(example, list) and example else None
        if isinstance(items, Mapping) and items:
            out["items"] = normalize(items, doc, element, depth + 1)
        elif isinstance(example, list) and example:
            out["items"] = _from_examples(example, depth + 1)
        else:
            out["items"] = dict(ANY_SCALAR)
    elif kind == "object":
        properties = node.get("properties")
        if isinstance(properties, Mapping) and properties:
            given = example if isinstance(example, Mapping) else {}
            out["properties"] = {str(k): normalize(v, doc, given.get(k), depth + 1) for k, v in properties.items()}
            listed = node.get("required") if isinstance(node.get("required"), list) else []  # a spec's is a bool
            required = [r for r in listed if r in out["properties"]]
            if required:
                out["required"] = required
        elif isinstance(example, Mapping) and example:
            out.update({k: v for k, v in _from_example(example, depth).items() if k == "properties"})
    examples = node.get("examples")
    if isinstance(examples, list) and examples:
        out["examples"] = list(examples)
    elif "example" in node and node["example"] is not None:
        out["examples"] = [node["example"]]
    return {k: out[k] for k in _KEPT if k in out}


def schema_of_example(value: Any, depth: int = 0) -> dict[str, Any]:
    """The schema a value shows (an example of a parameter without a declared shape)."""
    return _from_example(value, depth)


def strict_form(schema: Mapping[str, Any], required: bool = True) -> dict[str, Any] | None:
    """The Structured Outputs (`strict: true`) form of a normalized schema, or None when it has none.

    Objects are closed and list every property as required; a property that was optional becomes
    nullable (`["string", "null"]`, or an `anyOf` with `{"type": "null"}`). `examples` go.
    """
    out = {k: copy.deepcopy(v) for k, v in schema.items() if k not in _STRICT_DROP}
    if "anyOf" in out:
        options = [strict_form(o) for o in out["anyOf"]]
        if any(o is None for o in options):
            return None
        out["anyOf"] = options
    else:
        kinds = out.get("type")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if not kinds or any(k is None for k in kinds):
            return None  # untyped: strict mode wants a type
        if "object" in kinds:
            properties = out.get("properties")
            if properties is None or (not properties and out.get("additionalProperties") is not False):
                return None  # a free-form object: strict mode wants every key named
            was_required = set(out.get("required") or [])
            closed = {name: strict_form(s, name in was_required) for name, s in properties.items()}
            if any(s is None for s in closed.values()):
                return None
            out["properties"], out["required"], out["additionalProperties"] = closed, list(closed), False
        if "array" in kinds:
            items = strict_form(out.get("items") or {})
            if items is None:
                return None
            out["items"] = items
    return out if required else _nullable(out)


# ---- internals -------------------------------------------------------------------------------


def _union(node: Mapping[str, Any], options: list, doc: Mapping[str, Any] | None, example: Any, depth: int) -> dict:
    resolved = [_resolve(doc, o) for o in options if isinstance(o, Mapping)]
    nullable = any(o.get("type") == "null" for o in resolved)
    kept = [o for o in resolved if o.get("type") != "null"]
    described = {k: node[k] for k in ("description", "example", "examples") if k in node}
    if not kept:
        return normalize({**described, "type": "null"}, doc, example, depth)
    if len(kept) == 1:
        inner = normalize({**kept[0], **described}, doc, example, depth)
    else:
        inner = {"anyOf": [normalize(o, doc, None, depth + 1) for o in kept]}
        inner.update(normalize(described, doc, example, depth) if described else {})
        inner.pop("type", None)
    return _nullable(inner) if nullable and depth > 0 else inner


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return {**schema, "type": [kind, "null"]} if kind != "null" else schema
    if isinstance(kind, list):
        return schema if "null" in kind else {**schema, "type": [*kind, "null"]}
    if "anyOf" in schema:
        return schema if {"type": "null"} in schema["anyOf"] else {**schema, "anyOf": [*schema["anyOf"], {"type": "null"}]}
    return schema


def _type_of(node: Mapping[str, Any], example: Any) -> str | list[str] | None:
    raw = node.get("type")
    if isinstance(raw, list):
        kinds = [SPEC_TYPES.get(str(k).lower()) for k in raw]
        kinds = [k for k in dict.fromkeys(kinds) if k]
        return kinds[0] if len(kinds) == 1 else (kinds or None)
    if raw is not None:
        kind = SPEC_TYPES.get(str(raw).lower())
        if kind:
            return kind
    if isinstance(node.get("properties"), Mapping):
        return "object"
    if isinstance(node.get("items"), Mapping):
        return "array"
    enum = node.get("enum")
    if isinstance(enum, list) and enum:
        kinds = {_json_type(v) for v in enum}
        return kinds.pop() if len(kinds) == 1 else None
    sample = node.get("example", example)
    return _json_type(sample) if sample is not None else None


def _from_examples(values: list, depth: int) -> dict[str, Any]:
    """One schema for the elements of an example list."""
    if depth > MAX_DEPTH:
        return dict(ANY_SCALAR)
    schemas: list[dict[str, Any]] = []
    for value in values:
        schema = _from_example(value, depth)
        if schema.get("type") == "integer" and any(s.get("type") == "number" for s in schemas):
            continue
        if schema.get("type") == "number":
            schemas = [s for s in schemas if s.get("type") != "integer"]
        same = next((s for s in schemas if s.get("type") == schema.get("type")), None)
        if same is None:
            schemas.append(schema)
        elif schema.get("type") == "object":
            same.setdefault("properties", {}).update(
                {k: v for k, v in (schema.get("properties") or {}).items() if k not in same["properties"]}
            )
    if not schemas or any(not s for s in schemas):
        return dict(ANY_SCALAR)
    return schemas[0] if len(schemas) == 1 else {"anyOf": schemas}


def _from_example(value: Any, depth: int) -> dict[str, Any]:
    kind = _json_type(value)
    if kind is None or kind == "null" or depth > MAX_DEPTH:
        return {}
    if kind == "array":
        return {"type": "array", "items": _from_examples(value, depth + 1) if value else dict(ANY_SCALAR)}
    if kind == "object":
        properties = {str(k): s for k, v in value.items() if (s := _from_example(v, depth + 1))}
        return {"type": "object", "properties": properties} if properties else {"type": "object"}
    return {"type": kind}


def _json_type(value: Any) -> str | None:
    if value is None:
        return "null"
    for python_type, name in _PYTHON_TYPES:
        if isinstance(value, python_type):
            return name
    return None


def _fits(value: Any, kind: str | None) -> bool:
    found = _json_type(value)
    if found in (None, "array", "object"):
        return False
    return kind is None or found == kind or (kind == "number" and found == "integer")


def _resolve(doc: Mapping[str, Any] | None, node: Mapping[str, Any]) -> Mapping[str, Any]:
    seen = 0
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and seen < 32:
        target: Any = doc or {}
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, Mapping) else {}
        rest = {k: v for k, v in node.items() if k != "$ref"}
        node, seen = {**(target if isinstance(target, Mapping) else {}), **rest}, seen + 1
    return node if isinstance(node, Mapping) else {}
