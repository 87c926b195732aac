"""A scripted reference policy behind an OpenAI-compatible chat-completions endpoint.

A harness check, not a model: it lets the whole rollout path (farm, tools, tool results, final
answer) run offline with no real model. It sees exactly what a model sees - the request's `tools`
and `messages` - and keeps no state between requests.

The scripted agents (`agents`: `next_message` and its modes, reading task prompts in `prompts`,
matching steps to tools in `matching`, reading and writing messages in `conversation`, reference
solutions of scenarios' own tasks in `solutions`) stand apart from the server that serves them
(`server`: `build_app`, `PolicyServer`, `serve`).
"""

from __future__ import annotations

from .agents import HARNESS_NOTE, MODEL_PREFIX, MODES, model_id, next_message
from .matching import rank_tools
from .prompts import Step, parse_steps
from .server import ChatRequest, PolicyServer, banner, build_app, serve
from .solutions import SolutionBook

__all__ = [
    "HARNESS_NOTE",
    "MODEL_PREFIX",
    "MODES",
    "ChatRequest",
    "PolicyServer",
    "SolutionBook",
    "Step",
    "banner",
    "build_app",
    "model_id",
    "next_message",
    "parse_steps",
    "rank_tools",
    "serve",
]
