"""Running agent code (the ``run_python`` tool): backends, limits, fallback policy and a conformance suite;
and sealing an external agent process (:mod:`firstday.sandbox.agent_process`).

``landlock`` (Linux >= 5.13) restricts the child with Landlock, a seccomp filter and dropped capabilities,
inside the fresh interpreter and before the agent's code is read; ``audit`` is the CPython audit-hook runner
(the friendly first line of both, and the fallback; not a security boundary). See docs/code-runner.md and
docs/agent-sandbox.md.

The names below are imported on first use: the launcher of a sealed agent process imports
``firstday.sandbox._launch``, and must not pay for the conformance suite (rich) and the backends.
"""

TYPE_CHECKING = False
if TYPE_CHECKING:  # the same names as _LAZY, for type checkers and editors
    from typing import Any

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
    from firstday.sandbox.agent_process import (
        AgentProcessPolicy,
        SealFailed,
        check_policy,
        kill_process_group,
        start_sealed_process,
        stop_process_group,
    )

#: public name -> module that defines it
_LAZY: dict[str, str] = {
    "RESTRICTION_FAILED_EXIT": "firstday.sandbox._base",
    "RunResult": "firstday.sandbox._base",
    "SandboxBackend": "firstday.sandbox._base",
    "Attempt": "firstday.sandbox._check",
    "AttemptResult": "firstday.sandbox._check",
    "CheckReport": "firstday.sandbox._check",
    "check_backend": "firstday.sandbox._check",
    "conformance_attempts": "firstday.sandbox._check",
    "render_check": "firstday.sandbox._check",
    "MAX_COPYBACK_BYTES": "firstday.sandbox._limits",
    "MAX_OUTPUT_CHARS": "firstday.sandbox._limits",
    "Limits": "firstday.sandbox._limits",
    "BACKENDS": "firstday.sandbox._registry",
    "SANDBOX_NAMES": "firstday.sandbox._registry",
    "SandboxFallbackWarning": "firstday.sandbox._registry",
    "SandboxName": "firstday.sandbox._registry",
    "SandboxUnavailable": "firstday.sandbox._registry",
    "resolve_backend": "firstday.sandbox._registry",
    "run_code": "firstday.sandbox._registry",
    "AgentProcessPolicy": "firstday.sandbox.agent_process",
    "SealFailed": "firstday.sandbox.agent_process",
    "check_policy": "firstday.sandbox.agent_process",
    "kill_process_group": "firstday.sandbox.agent_process",
    "start_sealed_process": "firstday.sandbox.agent_process",
    "stop_process_group": "firstday.sandbox.agent_process",
}

__all__ = [
    "BACKENDS",
    "MAX_COPYBACK_BYTES",
    "MAX_OUTPUT_CHARS",
    "RESTRICTION_FAILED_EXIT",
    "SANDBOX_NAMES",
    "AgentProcessPolicy",
    "Attempt",
    "AttemptResult",
    "CheckReport",
    "Limits",
    "RunResult",
    "SandboxBackend",
    "SandboxFallbackWarning",
    "SandboxName",
    "SandboxUnavailable",
    "SealFailed",
    "check_backend",
    "check_policy",
    "conformance_attempts",
    "kill_process_group",
    "render_check",
    "resolve_backend",
    "run_code",
    "start_sealed_process",
    "stop_process_group",
]


def __getattr__(name: str) -> "Any":
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'firstday.sandbox' has no attribute {name!r}")
    value = getattr(__import__(module, fromlist=[name]), name)
    globals()[name] = value  # imported once: later lookups do not come here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
