"""`awm-ray policy serve`: the scripted reference policy as an OpenAI-compatible endpoint (a harness check, not a model)."""

from __future__ import annotations

import click

from awm_ray.cli.options import CONTEXT, POLICIES, PORT


@click.group("policy", context_settings=CONTEXT)
def command() -> None:
    """A scripted reference policy (a harness check, not a model)."""


@command.command("serve", context_settings=CONTEXT, short_help="Serve the reference policy as an OpenAI endpoint")
@click.option("--mode", type=POLICIES, required=True, help="which scripted agent")
@click.option("--host", default="127.0.0.1", help="address to listen on")
@click.option("--port", type=PORT, default=8000, help="port (0 = any free port)")
@click.option("--seed", type=int, default=0, help="seed of the random mode")
def serve(mode: str, host: str, port: int, seed: int) -> int:
    """Serve the reference policy as an OpenAI-compatible /v1/chat/completions endpoint."""
    from awm_ray.policy import banner
    from awm_ray.policy import serve as serve_policy

    serve_policy(mode, host, port, seed, on_ready=lambda url: print(banner(mode, url), flush=True))
    return 0
