"""Verification of AWM's own tasks: generated verifiers run in a sandbox, and the sql-mode judge.

`VerifierRunner` (runner) runs one verifier on an initial and a final database and returns a
`Verification`; `job` is what runs inside the sandbox; `judge` turns sql-mode evidence into a
verdict with an LLM; `validation` checks every verifier of a scenario on its untouched database.

The names below are imported on first use: the sandbox imports `awm_ray.verification.job` into a
process it forks once per verification, and that process stays small (and its forks cheap) only if
importing the package imports nothing else.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CODE_RESULTS", "VERIFIER_ERRORS", "Verification", "VerifierRunner", "code_result"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from awm_ray.verification import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'awm_ray.verification' has no attribute {name!r}")
