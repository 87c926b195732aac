"""A scripted reference policy behind an OpenAI-compatible chat-completions endpoint.

A harness check, not a model: it lets the whole rollout path (farm, tools, tool results, final
answer) run offline with no real model. It sees exactly what a model sees - the request's `tools`
and `messages` - and keeps no state between requests.

Modes:
- `oracle`: parses the first user message as `awm_ray.scenario.tasks.task_prompt` phrases it
  ("Please ... Use a = 1, b = \"x\"." or "First, please ... Then, please ..."), matches each step to
  the tool whose description fits best, calls the tools in step order, then answers.
- `random`: calls 1-3 random tools with example arguments, deterministic for (seed, conversation).
- `noop`: answers at once, no tool calls.

`next_message` is the pure policy; `build_app` serves it; `PolicyServer` runs it in a background
thread (tests, notebooks); `serve` runs it in the foreground (`awm-ray policy serve`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import random
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

log = logging.getLogger(__name__)

MODES = ("oracle", "random", "noop")
MODEL_PREFIX = "awm-ray-reference-"
HARNESS_NOTE = "a harness check, not a model score"
_SUMMARY_CHARS = 240
_ROLES = {"system", "developer", "user", "assistant", "tool", "function"}
_PLACEHOLDERS: dict[str | None, Any] = {
    "string": "example", "integer": 1, "number": 1.0, "boolean": True, "array": [], "object": {},
}  # fmt: skip
_STOPWORDS = frozenset(
    "a an the of to for and or by with in on at as is are be it its this that from into your my me "
    "i please use one all any each their them only".split()
)


def model_id(mode: str) -> str:
    """The model id a policy serves, e.g. `awm-ray-reference-oracle`."""
    return f"{MODEL_PREFIX}{mode}"


# --------------------------------------------------------------------------------------------
# The policy (pure)
# --------------------------------------------------------------------------------------------


def next_message(
    messages: Sequence[Mapping[str, Any]],
    tools: Sequence[Mapping[str, Any]],
    mode: str,
    seed: int = 0,
    tool_choice: Any = None,
) -> dict[str, Any]:
    """The assistant's next message for this conversation: one tool call, or a final answer.

    `tools` are OpenAI tools (`{"type": "function", "function": {...}}`) or bare definitions
    (`{"name", "description", "parameters"}`). `tool_choice` "none" forces an answer; a named
    function restricts the choice to it. Pure: the same input gives the same message.
    """
    if mode not in MODES:
        raise ValueError(f"unknown policy mode {mode!r}; choose one of {', '.join(MODES)}")
    defs = _tool_defs(tools)
    forced = _forced_tool(tool_choice)
    if forced is not None:
        defs = [d for d in defs if d["name"] == forced] or defs
    calls = _calls_so_far(messages)
    if mode == "noop" or tool_choice == "none" or not defs:
        reason = "reference noop policy" if mode == "noop" else "no tool to call"
        return _answer(f"No action taken ({reason}; {HARNESS_NOTE}).") if not calls else _final(calls)
    if mode == "random":
        return _random_turn(messages, defs, calls, seed)
    return _oracle_turn(messages, defs, calls)


@dataclass(frozen=True)
class Step:
    """One request of a task prompt: its text (without "Please" and the Use clause) and arguments."""

    text: str
    arguments: dict[str, Any] = field(default_factory=dict)


def parse_steps(prompt: str) -> list[Step]:
    """Split a task prompt into steps and read each step's `Use name = value, ...` clause.

    Values are JSON literals (as `task_prompt` writes them); anything else is kept as a string.
    A prompt not in that shape becomes one step with no arguments.
    """
    text = prompt.strip()
    chained = re.match(r"first,\s*", text, re.IGNORECASE)
    if chained:
        text = text[chained.end() :]
    steps: list[Step] = []
    pos = 0
    while pos < len(text):
        use = _USE_RE.search(text, pos)
        then = _THEN_RE.search(text, pos) if chained else None
        if then is not None and (use is None or then.start() < use.start()):
            steps.append(Step(_clean_step(text[pos : then.start()])))
            pos = then.end()
            continue
        if use is None:
            steps.append(Step(_clean_step(text[pos:])))
            break
        request = _clean_step(text[pos : use.start()])
        arguments, pos = _parse_use_clause(text, use.end())
        steps.append(Step(request, arguments))
        following = _THEN_RE.match(text, pos) if chained else None
        if following is None:
            break
        pos = following.end()
    return [s for s in steps if s.text or s.arguments] or [Step(_clean_step(prompt))]


_USE_RE = re.compile(r"(?<=[.!?])\s+Use\s+(?=[^\s=,]+\s*=)")
_THEN_RE = re.compile(r"\s*\bThen,\s*")
_NAME_RE = re.compile(r"\s*([^\s=,]+)\s*=\s*")
_BARE_RE = re.compile(r"(.*?)(?=,\s*[^\s=,]+\s*=|\.(?:\s|$)|$)", re.DOTALL)  # an unquoted value
_COMMA_RE = re.compile(r"\s*,\s*(?=[^\s=,]+\s*=)")
_STOP_RE = re.compile(r"\s*\.")
_DECODER = json.JSONDecoder()


def _parse_use_clause(text: str, pos: int) -> tuple[dict[str, Any], int]:
    """Read `name = value, name = value.` from `pos`; returns the arguments and the end position."""
    arguments: dict[str, Any] = {}
    while True:
        name = _NAME_RE.match(text, pos)
        if name is None:
            break
        pos = name.end()
        try:
            value, pos = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError:
            bare = _BARE_RE.match(text, pos)
            assert bare is not None
            value, pos = bare.group(1).strip(), bare.end()
        arguments[name.group(1)] = value
        comma = _COMMA_RE.match(text, pos)
        if comma is None:
            break
        pos = comma.end()
    stop = _STOP_RE.match(text, pos)
    return arguments, stop.end() if stop else pos


def _clean_step(text: str) -> str:
    text = re.sub(r"^\s*please\s+", "", text.strip(), flags=re.IGNORECASE)
    return text.rstrip(" .").strip()


# --------------------------------------------------------------------------------------------
# Matching a step to a tool
# --------------------------------------------------------------------------------------------


def rank_tools(step: Step, tools: Sequence[Mapping[str, Any]]) -> list[tuple[float, str]]:
    """`(score, name)` of every tool for this step, best first (ties: the earlier tool).

    score = TF-IDF cosine(step text, tool name + description)
          + the longest run of the step's words found verbatim in the description (as a fraction)
          + how well the step's argument names fit the tool's parameters.
    """
    defs = _tool_defs(tools)
    docs = [_terms(f"{d['name']} {d['description']}") for d in defs]
    idf = _idf(docs)
    query = _tfidf(_terms(step.text), idf)
    words = _words(step.text)[1:]  # the first word (the verb) may have been made imperative
    scored: list[tuple[float, int, str]] = []
    for index, (d, doc) in enumerate(zip(defs, docs, strict=True)):
        score = _cosine(query, _tfidf(doc, idf))
        score += _longest_run(words, _words(d["description"])) / len(words) if words else 0.0
        score += _argument_fit(step.arguments, d["parameters"])
        scored.append((score, index, d["name"]))
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [(round(score, 6), name) for score, _, name in scored]


def _argument_fit(arguments: Mapping[str, Any], schema: Mapping[str, Any]) -> float:
    """Up to 1.0: mentioned names the tool takes, and the tool's parameters all mentioned."""
    props = set((schema.get("properties") or {}).keys())
    required = set(schema.get("required") or [])
    expected = {n for n, p in (schema.get("properties") or {}).items() if isinstance(p, Mapping) and p.get("examples")}
    expected |= required
    mentioned = set(arguments)
    if not mentioned:
        return 0.5 if not required else 0.0
    accepted = len(mentioned & props) / len(mentioned)
    covered = 1.0 if props and props <= mentioned else 0.0
    exact = 1.0 if mentioned == expected else 0.0
    return 0.4 * accepted + 0.3 * covered + 0.3 * exact


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _terms(text: str) -> Counter[str]:
    return Counter(_stem(w) for w in _words(text) if w not in _STOPWORDS)


def _idf(docs: Sequence[Counter[str]]) -> dict[str, float]:
    df: Counter[str] = Counter()
    for doc in docs:
        df.update(doc.keys())
    n = len(docs)
    return {term: math.log((1 + n) / (1 + count)) + 1.0 for term, count in df.items()}


def _tfidf(terms: Counter[str], idf: Mapping[str, float]) -> dict[str, float]:
    default = max(idf.values(), default=1.0)
    return {t: c * idf.get(t, default) for t, c in terms.items()}


def _cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    dot = sum(v * b.get(k, 0.0) for k, v in a.items())
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


def _longest_run(needle: Sequence[str], haystack: Sequence[str]) -> int:
    """Length of the longest run of consecutive words of `needle` found consecutively in `haystack`."""
    best = 0
    previous = [0] * (len(haystack) + 1)
    for word in needle:
        current = [0] * (len(haystack) + 1)
        for j, other in enumerate(haystack, start=1):
            if word == other:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


# --------------------------------------------------------------------------------------------
# Turns
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Call:
    name: str
    arguments: str
    result: str | None  # the tool message's text, None when there is none (yet)


def _oracle_turn(messages: Sequence[Mapping[str, Any]], defs: list[dict[str, Any]], calls: list[_Call]) -> dict[str, Any]:
    steps = parse_steps(_first_user_text(messages))
    by_name = {d["name"]: d for d in defs}
    plan = [rank_tools(step, defs)[0][1] for step in steps]
    step, tries = 0, 0
    for call in calls:  # replay the conversation: which step are we on, is a retry due?
        if step >= len(steps):
            break
        tries += 1
        retry = _example_arguments(by_name[plan[step]])
        failed = call.result is not None and call.result.lstrip().startswith("Error:")
        if failed and tries == 1 and not _same_json(call.arguments, retry):
            continue
        step, tries = step + 1, 0
    if step >= len(steps):
        return _final(calls)
    tool = by_name[plan[step]]
    if tries == 1:  # the first try of this step failed: retry once with the schema's examples
        log.debug("oracle: retrying step %d (%s) with schema examples", step + 1, tool["name"])
        return _tool_call(messages, tool["name"], _example_arguments(tool))
    arguments = _oracle_arguments(steps[step], tool, calls)
    log.debug("oracle: step %d/%d -> %s", step + 1, len(steps), tool["name"])
    return _tool_call(messages, tool["name"], arguments)


def _oracle_arguments(step: Step, tool: Mapping[str, Any], calls: Sequence[_Call]) -> dict[str, Any]:
    """The step's own arguments the tool takes; then examples, earlier ids, placeholders for required."""
    props: Mapping[str, Any] = tool["parameters"].get("properties") or {}
    arguments = {k: v for k, v in step.arguments.items() if k in props}
    for name in tool["parameters"].get("required") or []:
        if name in arguments:
            continue
        schema = props.get(name) or {}
        if schema.get("examples"):
            arguments[name] = schema["examples"][0]
        elif (seen := _id_from_results(name, calls)) is not None:
            arguments[name] = seen
        else:
            arguments[name] = _PLACEHOLDERS.get(schema.get("type"), "example")
    return arguments


def _id_from_results(name: str, calls: Sequence[_Call]) -> Any:
    """A value for `name` (or an `id`, for `..._id` names) from the latest tool result that has one."""
    keys = [name] + (["id"] if name == "id" or name.endswith("_id") else [])
    for call in reversed(calls):
        body = _json_body(call.result)
        if body is None:
            continue
        for key in keys:
            found = _find_key(body, key)
            if found is not None:
                return found
    return None


def _find_key(value: Any, key: str) -> Any:
    """Breadth-first: the first scalar under `key` in a JSON value."""
    layer = [value]
    for _ in range(6):
        nxt: list[Any] = []
        for item in layer:
            if isinstance(item, Mapping):
                found = item.get(key)
                if isinstance(found, (str, int, float)) and not isinstance(found, bool):
                    return found
                nxt.extend(v for v in item.values() if isinstance(v, (Mapping, list)))
            elif isinstance(item, list):
                nxt.extend(v for v in item if isinstance(v, (Mapping, list)))
        layer = nxt
    return None


def _json_body(result: str | None) -> Any:
    if not result or result.lstrip().startswith("Error:"):
        return None
    text = result.split("\n", 1)[1] if result.startswith("HTTP ") and "\n" in result else result
    try:
        return json.loads(text)
    except (json.JSONDecodeError, ValueError):
        return None


def _random_turn(
    messages: Sequence[Mapping[str, Any]], defs: list[dict[str, Any]], calls: list[_Call], seed: int
) -> dict[str, Any]:
    wanted = 1 + random.Random(f"awm-ray-policy:{seed}:{_first_user_text(messages)}").randrange(3)
    if len(calls) >= wanted:
        return _final(calls)
    rng = random.Random(_digest(seed, messages))
    tool = rng.choice(defs)
    required = set(tool["parameters"].get("required") or [])
    arguments = {
        k: v for k, v in _example_arguments(tool).items() if k in required or rng.random() < 0.5
    }
    return _tool_call(messages, tool["name"], arguments)


def _example_arguments(tool: Mapping[str, Any]) -> dict[str, Any]:
    """Each parameter's first schema example; required ones without an example get a typed placeholder."""
    props: Mapping[str, Any] = tool["parameters"].get("properties") or {}
    required = set(tool["parameters"].get("required") or [])
    arguments: dict[str, Any] = {}
    for name, schema in props.items():
        schema = schema if isinstance(schema, Mapping) else {}
        if schema.get("examples"):
            arguments[name] = schema["examples"][0]
        elif name in required:
            arguments[name] = _PLACEHOLDERS.get(schema.get("type"), "example")
    return arguments


def _tool_call(messages: Sequence[Mapping[str, Any]], name: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
    text = json.dumps(arguments, ensure_ascii=False)
    call_id = "call_" + _digest(name, text, messages)[:24]
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": call_id, "type": "function", "function": {"name": name, "arguments": text}}],
    }


def _final(calls: Sequence[_Call]) -> dict[str, Any]:
    if not calls:
        return _answer("I could not find a tool for this request.")
    last = calls[-1]
    result = " ".join((last.result or "(no result)").split())
    if len(result) > _SUMMARY_CHARS:
        result = result[: _SUMMARY_CHARS - 3] + "..."
    plural = "s" if len(calls) > 1 else ""
    return _answer(f"Done: {len(calls)} tool call{plural}; the last, {last.name}, returned: {result}")


def _answer(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": text}


# --------------------------------------------------------------------------------------------
# Reading requests
# --------------------------------------------------------------------------------------------


def _tool_defs(tools: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """Bare `{"name", "description", "parameters"}` from OpenAI tools or bare definitions."""
    defs: list[dict[str, Any]] = []
    for tool in tools or []:
        fn = tool.get("function") if isinstance(tool.get("function"), Mapping) else tool
        name = fn.get("name")
        if not isinstance(name, str) or not name:
            continue
        params = fn.get("parameters") if isinstance(fn.get("parameters"), Mapping) else {}
        defs.append({"name": name, "description": str(fn.get("description") or ""), "parameters": params})
    return defs


def _forced_tool(tool_choice: Any) -> str | None:
    if isinstance(tool_choice, Mapping):
        fn = tool_choice.get("function")
        if isinstance(fn, Mapping) and isinstance(fn.get("name"), str):
            return fn["name"]
    return None


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part.get("text", "") if isinstance(part, Mapping) else str(part) for part in content
        )
    return "" if content is None else str(content)


def _first_user_text(messages: Sequence[Mapping[str, Any]]) -> str:
    for message in messages:
        if message.get("role") == "user":
            return _content_text(message.get("content"))
    return ""


def _calls_so_far(messages: Sequence[Mapping[str, Any]]) -> list[_Call]:
    """Every assistant tool call in order, with the text of the tool message that answered it."""
    results = {
        m.get("tool_call_id"): _content_text(m.get("content")) for m in messages if m.get("role") == "tool"
    }
    calls: list[_Call] = []
    for message in messages:
        if message.get("role") != "assistant":
            continue
        for call in message.get("tool_calls") or []:
            fn = call.get("function") or {}
            arguments = fn.get("arguments")
            text = arguments if isinstance(arguments, str) else json.dumps(arguments or {})
            calls.append(_Call(str(fn.get("name", "")), text, results.get(call.get("id"))))
    return calls


def _same_json(text: str, value: Any) -> bool:
    try:
        return json.loads(text) == value
    except (json.JSONDecodeError, ValueError):
        return False


def _digest(*parts: Any) -> str:
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


# --------------------------------------------------------------------------------------------
# The OpenAI-compatible app
# --------------------------------------------------------------------------------------------


class ChatRequest(BaseModel):
    """The parts of an OpenAI chat-completions request the policy reads; other fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    model: str | None = None
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None = None
    tool_choice: Any = None
    temperature: float | None = None
    max_tokens: int | None = None
    n: int | None = None
    stream: bool | None = None


class _BadRequest(Exception):
    def __init__(self, message: str, param: str | None = None):
        super().__init__(message)
        self.param = param


def _error(status: int, message: str, param: str | None = None) -> JSONResponse:
    kind = "invalid_request_error" if status < 500 else "server_error"
    return JSONResponse({"error": {"message": message, "type": kind, "param": param, "code": None}}, status_code=status)


def build_app(mode: str, seed: int = 0) -> FastAPI:
    """The policy as `POST /v1/chat/completions` and `GET /v1/models` (served id `awm-ray-reference-<mode>`)."""
    if mode not in MODES:
        raise ValueError(f"unknown policy mode {mode!r}; choose one of {', '.join(MODES)}")
    served = model_id(mode)
    app = FastAPI(title=f"awm-ray reference policy ({mode}) - {HARNESS_NOTE}", docs_url=None, redoc_url=None)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body') or 'body'}: {e.get('msg')}" for e in exc.errors()
        )
        return _error(400, f"invalid request: {problems}")

    @app.exception_handler(_BadRequest)
    async def bad_request(_: Request, exc: _BadRequest) -> JSONResponse:
        return _error(400, str(exc), exc.param)

    model_card = {"id": served, "object": "model", "created": 0, "owned_by": "awm-ray (reference policy, not a model)"}

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [model_card]}

    @app.get("/v1/models/{name}")
    async def model(name: str) -> JSONResponse:
        if name != served:
            return _error(404, f"model {name!r} not found; this server serves {served!r}", "model")
        return JSONResponse(model_card)

    @app.post("/v1/chat/completions")
    async def chat(body: ChatRequest) -> dict[str, Any]:
        if body.stream:
            raise _BadRequest(
                f"stream=true is not supported by the awm-ray reference policy ({served}); send stream=false", "stream"
            )
        if body.n not in (None, 1):
            raise _BadRequest(f"n={body.n} is not supported by the awm-ray reference policy; only n=1", "n")
        if not body.messages:
            raise _BadRequest("messages must not be empty", "messages")
        for i, message in enumerate(body.messages):
            if message.get("role") not in _ROLES:
                raise _BadRequest(f"messages[{i}].role must be one of {sorted(_ROLES)}", f"messages[{i}].role")
        for i, tool in enumerate(body.tools or []):
            fn = tool.get("function")
            if not isinstance(fn, Mapping) or not isinstance(fn.get("name"), str):
                raise _BadRequest(f"tools[{i}] must be {{'type': 'function', 'function': {{'name': ...}}}}", f"tools[{i}]")
        message = next_message(body.messages, body.tools or [], mode, seed, body.tool_choice)
        calls = message.get("tool_calls") or []
        log.info("%s: %d message(s) -> %s", served, len(body.messages),
                 ", ".join(c["function"]["name"] for c in calls) or "answer")  # fmt: skip
        prompt_tokens = max(1, len(json.dumps(body.messages, default=str)) // 4 + len(json.dumps(body.tools or [])) // 4)
        completion_tokens = max(1, len(json.dumps(message, ensure_ascii=False)) // 4)
        return {
            "id": "chatcmpl-" + _digest(served, seed, body.messages)[:24],
            "object": "chat.completion",
            "created": int(time.time()),
            "model": served,
            "choices": [
                {"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop", "logprobs": None}
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    return app


# --------------------------------------------------------------------------------------------
# Serving
# --------------------------------------------------------------------------------------------


def _listening_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def _url(host: str, port: int) -> str:
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/v1"


def banner(mode: str, base_url: str) -> str:
    """The line printed when a policy server is up."""
    return f"reference policy ({mode}) — {HARNESS_NOTE} — listening on {base_url}"


def serve(
    mode: str,
    host: str = "127.0.0.1",
    port: int = 8000,
    seed: int = 0,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the policy in the foreground until SIGINT/SIGTERM, then return normally.

    `on_ready(base_url)` runs once the server accepts requests; port 0 picks a free port (the real
    one is in the base URL).
    """
    import signal

    import uvicorn

    if host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("the reference policy listens on %s: it is reachable from other machines", host)
    app = build_app(mode, seed)
    sock = _listening_socket(host, port)
    base_url = _url(host, sock.getsockname()[1])

    class _Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started and not self.should_exit and on_ready is not None:
                on_ready(base_url)

    server = _Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    in_main = threading.current_thread() is threading.main_thread()
    # uvicorn re-raises the signal that stopped it once its own handlers are gone; ending the
    # server here instead makes SIGTERM a clean exit (and covers a SIGTERM before uvicorn's handlers).
    previous = signal.signal(signal.SIGTERM, lambda *_: setattr(server, "should_exit", True)) if in_main else None
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        if in_main and previous is not None:
            signal.signal(signal.SIGTERM, previous)
        sock.close()
    log.info("reference policy (%s) stopped", mode)


class PolicyServer:
    """The policy under uvicorn on 127.0.0.1 (a free port) in a background thread; a context manager.

    >>> with PolicyServer("oracle") as server:
    ...     client = AsyncOpenAI(base_url=server.base_url, api_key="unused")
    """

    def __init__(self, mode: str = "oracle", seed: int = 0, host: str = "127.0.0.1", startup_timeout: float = 10.0):
        self.mode, self.seed, self.host = mode, seed, host
        self.startup_timeout = startup_timeout
        self.model = model_id(mode)
        self.port: int | None = None
        self._app = build_app(mode, seed)
        self._server: Any = None
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("PolicyServer is not running")
        return _url(self.host, self.port)

    def start(self) -> PolicyServer:
        import uvicorn

        if self._thread is not None:
            raise RuntimeError("PolicyServer already started")
        self._sock = _listening_socket(self.host, 0)
        self.port = self._sock.getsockname()[1]
        config = uvicorn.Config(self._app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"awm-ray-policy-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self.startup_timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                error = self._error
                self.stop()
                raise RuntimeError(f"the reference policy server did not start: {error!r}") from error
            time.sleep(0.01)
        log.info("%s", banner(self.mode, self.base_url))
        return self

    def _run(self) -> None:
        try:
            asyncio.run(self._server.serve(sockets=[self._sock]))
        except BaseException as exc:  # reported by start()
            self._error = exc
            log.exception("reference policy server crashed")

    def stop(self, timeout: float = 10.0) -> None:
        """Ask uvicorn to exit, join its thread and close the port."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("reference policy server thread did not stop within %.0f s", timeout)
        if self._sock is not None:
            self._sock.close()
        self._thread, self._server, self._sock, self.port = None, None, None, None

    def __enter__(self) -> PolicyServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
