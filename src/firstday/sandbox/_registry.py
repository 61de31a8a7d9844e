"""Backends by name, and the fallback policy: ``auto`` uses the kernel backend where the kernel allows it,
else the audit runner with one warning per process; ``require_sandbox`` makes that fallback an error."""

from __future__ import annotations

import threading
import warnings
from typing import Literal, get_args

from firstday.errors import ConfigError
from firstday.sandbox._agent_backend import AgentProcessBackend
from firstday.sandbox._audit import AuditBackend
from firstday.sandbox._base import RunResult, SandboxBackend
from firstday.sandbox._landlock import LandlockBackend
from firstday.sandbox._limits import Limits

SandboxName = Literal["auto", "landlock", "audit"]
SANDBOX_NAMES: tuple[str, ...] = get_args(SandboxName)

#: every backend the conformance suite checks (``firstday sandbox check``): the two ``run_python`` runners, and
#: the seal of external agent processes (not a ``run_python`` runner: ``--sandbox`` takes SANDBOX_NAMES only)
BACKENDS: dict[str, SandboxBackend] = {"landlock": LandlockBackend(), "audit": AuditBackend(),
                                       "agent-process": AgentProcessBackend()}

_warned = False
_warn_lock = threading.Lock()


class SandboxUnavailable(ConfigError):
    """The requested sandbox cannot run here; the message says why and what to do."""


class SandboxFallbackWarning(UserWarning):
    """``auto`` fell back to the audit runner (not a security boundary)."""


def _fallback_warning(reason: str) -> None:
    global _warned
    with _warn_lock:
        if _warned:
            return
        _warned = True
    message = (f"run_python falls back to the audit-hook runner, which is not a security boundary: {reason}. "
               "Use --require-sandbox to refuse running without the kernel sandbox.")
    # one channel only: a warning (logging users see it with logging.captureWarnings); it used to be logged
    # too, which printed it twice on a terminal
    warnings.warn(message, SandboxFallbackWarning, stacklevel=3)


def resolve_backend(name: str = "auto", require_sandbox: bool = False) -> SandboxBackend:
    """The backend that runs code for ``name``; raises :class:`SandboxUnavailable` when that cannot be the
    kernel backend although it must be (``landlock`` named, or ``require_sandbox``)."""
    if name not in SANDBOX_NAMES:
        raise SandboxUnavailable(f"unknown sandbox {name!r}; choose one of {', '.join(SANDBOX_NAMES)}")
    if name == "audit":
        if require_sandbox:
            raise SandboxUnavailable("--require-sandbox needs the kernel sandbox, but --sandbox audit was chosen; "
                                     "use --sandbox auto or landlock")
        return BACKENDS["audit"]
    kernel = BACKENDS["landlock"]
    reason = kernel.available()
    if reason is None:
        return kernel
    if name == "landlock" or require_sandbox:
        raise SandboxUnavailable(f"the kernel sandbox (landlock) is not available: {reason}; run on Linux >= 5.13 "
                                 "with Landlock enabled, or drop --require-sandbox/--sandbox landlock to accept "
                                 "the audit runner (not a security boundary)")
    _fallback_warning(reason)
    return BACKENDS["audit"]


def run_code(code: str, workspace: dict[str, str], shared: dict[str, tuple[str, bool]], *,
             sandbox: str = "auto", require_sandbox: bool = False, timeout_s: float = 10.0,
             limits: Limits | None = None) -> RunResult:
    """Run ``code`` with the backend named ``sandbox`` (see :func:`resolve_backend`); ``limits`` default to
    :class:`Limits` with ``timeout_s``."""
    backend = resolve_backend(sandbox, require_sandbox)
    return backend.run(code, workspace, shared, limits or Limits(timeout_s=timeout_s))
