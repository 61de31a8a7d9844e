"""A working day as an MCP server: ``firstday serve`` (docs/mcp.md).

:func:`serve_suite` is :func:`firstday.run.run_suite` with a :class:`ServeExecutor`: the episodes still to run
in the run folder are handed one per MCP session, each played by an external agent through an
:class:`EpisodeBridge`, and scored and saved exactly like an in-process run (same folder, resume, trials,
report). Needs the ``mcp`` package (``pip install 'firstday[serve]'``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from firstday.agents import register_agent
from firstday.agents.base import PublicContext
from firstday.env.loop import Agent
from firstday.errors import ConfigError
from firstday.serve.bridge import (
    NOTIFICATIONS_TOOL,
    SERVED_AGENT,
    ClientClosed,
    ClientGarbage,
    ClientIdle,
    EpisodeBridge,
    current_bridge,
)
from firstday.serve.server import TRANSPORTS, ServeExecutor, Transport, is_loopback, new_token

__all__ = [
    "NOTIFICATIONS_TOOL", "SERVED_AGENT", "TRANSPORTS", "ClientClosed", "ClientGarbage", "ClientIdle",
    "EpisodeBridge", "ServeExecutor", "Transport", "is_loopback", "new_token", "serve_suite",
]


@register_agent(SERVED_AGENT, "an external agent over MCP: the bridge of a 'firstday serve' session")
def _served_agent(ctx: PublicContext) -> Agent:
    bridge = current_bridge.get(None)
    if bridge is None:  # e.g. 'firstday run -a mcp' in a process that imported this module
        raise ConfigError("the mcp agent is played by an MCP client: use 'firstday serve SUITE --out DIR'")
    return bridge


def require_mcp() -> None:
    """A clear error when the MCP SDK is not installed."""
    try:
        import mcp.server.lowlevel  # noqa: F401
    except ImportError:
        raise ConfigError("firstday serve needs the MCP SDK: pip install 'firstday[serve]'") from None


def serve_suite(suite_path: Path | str, out_dir: Path | str, *, transport: Transport = "stdio",
                host: str = "127.0.0.1", port: int = 0, token: str | None = None,
                idle_timeout_s: float | None = 600.0, trials: int = 1, seed: int = 0, retry_errors: bool = False,
                on_ready: Callable[[str], None] | None = None, **run_kwargs: Any) -> Any:
    """Serve the episodes of the suite not yet done in ``out_dir`` over MCP; returns the ``RunSummary`` when the
    server stops (stdio: after its one session; HTTP: when every episode is done). ``run_kwargs`` go to
    :func:`firstday.run.run_suite` (``env_config``, ``progress``, ``notice``, ``limits``)."""
    from firstday.run import RunLimits, run_suite

    require_mcp()
    executor = ServeExecutor(transport, host, port, token, idle_timeout_s, on_ready)
    # the client's pauses are bounded by the idle timeout (a clearer reason than a model-step timeout)
    run_kwargs.setdefault("limits", RunLimits(act_timeout_s=None))
    return run_suite(suite_path, SERVED_AGENT, out_dir, executor=executor, trials=trials, seed=seed,
                     retry_errors=retry_errors, **run_kwargs)
