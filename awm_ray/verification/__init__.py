"""Verification of AWM's own tasks: generated verifiers run in a sandbox, and the sql-mode judge.

`VerifierRunner` (runner) runs one verifier on an initial and a final database and returns a
`Verification`; `job` is what runs inside the sandbox; `judge` turns sql-mode evidence into a
verdict with an LLM.
"""

from awm_ray.verification.runner import CODE_RESULTS, VERIFIER_ERRORS, Verification, VerifierRunner, code_result

__all__ = ["CODE_RESULTS", "VERIFIER_ERRORS", "Verification", "VerifierRunner", "code_result"]
