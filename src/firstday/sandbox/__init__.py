"""Running agent code (the ``run_python`` tool): backends, limits, fallback policy and a conformance suite.

``landlock`` (Linux >= 5.13) restricts the child with Landlock, a seccomp filter and dropped capabilities,
inside the fresh interpreter and before the agent's code is read; ``audit`` is the CPython audit-hook runner
(the friendly first line of both, and the fallback; not a security boundary). See docs/code-runner.md.
"""

from firstday.sandbox._base import RESTRICTION_FAILED_EXIT, RunResult, SandboxBackend
from firstday.sandbox._check import (
    Attempt,
    AttemptResult,
    CheckReport,
    check_backend,
    conformance_attempts,
    render_check,
)
from firstday.sandbox._limits import MAX_COPYBACK_BYTES, MAX_OUTPUT_CHARS, Limits
from firstday.sandbox._registry import (
    BACKENDS,
    SANDBOX_NAMES,
    SandboxFallbackWarning,
    SandboxName,
    SandboxUnavailable,
    resolve_backend,
    run_code,
)

__all__ = [
    "BACKENDS",
    "MAX_COPYBACK_BYTES",
    "MAX_OUTPUT_CHARS",
    "RESTRICTION_FAILED_EXIT",
    "SANDBOX_NAMES",
    "Attempt",
    "AttemptResult",
    "CheckReport",
    "Limits",
    "RunResult",
    "SandboxBackend",
    "SandboxFallbackWarning",
    "SandboxName",
    "SandboxUnavailable",
    "check_backend",
    "conformance_attempts",
    "render_check",
    "resolve_backend",
    "run_code",
]
