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
@click.option(
    "--solutions-from", "solutions_from", metavar="DATASET", default="bundled",
    help="the oracle plays the reference solutions of these scenarios' own tasks ('bundled', a path; 'none' for none)",
)  # fmt: skip
def serve(mode: str, host: str, port: int, seed: int, solutions_from: str) -> int:
    """Serve the reference policy as an OpenAI-compatible /v1/chat/completions endpoint."""
    from awm_ray.loading import load_scenarios
    from awm_ray.policy import SolutionBook, banner
    from awm_ray.policy import serve as serve_policy

    solutions = None
    if mode == "oracle" and solutions_from.lower() != "none":
        solutions = SolutionBook.from_scenarios(load_scenarios(solutions_from))
    serve_policy(mode, host, port, seed, on_ready=lambda url: print(banner(mode, url), flush=True), solutions=solutions)
    return 0
