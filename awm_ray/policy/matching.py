"""Matching a step of a task prompt to a tool: TF-IDF over names and descriptions, word runs, argument fit."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from .conversation import _tool_defs
from .prompts import Step

_STOPWORDS = frozenset(
    "a an the of to for and or by with in on at as is are be it its this that from into your my me "
    "i please use one all any each their them only".split()
)


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
