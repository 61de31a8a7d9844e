"""``firstday run SUITE --agent-cmd "python my_agent.py"``: an external agent as a process, one per episode.

The agent ``agent-cmd`` (:class:`CommandAgent`) is a bridge (:class:`~firstday.serve.bridge.EpisodeBridge`)
with its own MCP endpoint: for its episode it starts streamable HTTP on 127.0.0.1 (a free port) and the
command, with ``FIRSTDAY_MCP_URL`` (and the run's model settings: ``FIRSTDAY_MODEL``, ``OPENAI_BASE_URL``) in
its environment. The command's first MCP session plays the episode; the rest is an ordinary episode of the
runner (any executor: the agent is built inside the worker that runs the episode). The command's stdout and
stderr (their last :data:`OUTPUT_TAIL` characters each) are kept in the episode's trace (``agent`` of the end
event), so they are in the run folder with the episode. The process exiting before the end of the day ends
the episode as an agent error, like a client closing its session.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import tempfile
from collections.abc import Mapping
from typing import IO, Any

from firstday.agents.base import PublicContext
from firstday.env.episode import Briefing, Observation
from firstday.errors import ConfigError
from firstday.serve.bridge import ClientClosed, EpisodeBridge
from firstday.world.tools import ToolCall

COMMAND_AGENT = "agent-cmd"
OUTPUT_TAIL = 20_000
#: after the end of the day, how long the command may take to exit before it is killed
EXIT_GRACE_S = 10.0


async def _start_agent_process(argv: list[str], *, env: Mapping[str, str], stdout: IO[bytes],
                               stderr: IO[bytes]) -> asyncio.subprocess.Process:
    """Start the agent's command. One place, so a sandboxed starter (Landlock and seccomp, network to the MCP
    endpoint and the model endpoints only) can replace it."""
    return await asyncio.create_subprocess_exec(*argv, env=dict(env), stdin=asyncio.subprocess.DEVNULL,
                                                stdout=stdout, stderr=stderr, start_new_session=True)


class _OneEpisode:
    """The episode source of one command's endpoint: its first session plays the episode."""

    total = 1

    def __init__(self, bridge: EpisodeBridge) -> None:
        self.bridge = bridge
        self.taken = False

    async def bridge_for(self, ctx: Any) -> EpisodeBridge | None:
        from firstday.serve.server import _STATE_KEY, _connection

        conn = _connection(ctx)
        if conn.state.get(_STATE_KEY) is None:
            if self.taken:
                return None
            self.taken = True
            conn.state[_STATE_KEY] = self.bridge
            params = conn.client_params
            if params is not None:
                self.bridge.client.update(params.client_info.model_dump(mode="json", exclude_none=True))

            async def closed() -> None:
                self.bridge.close(ClientClosed("the MCP client closed the connection before the end of the day"))

            conn.exit_stack.push_async_callback(closed)
        bridge: EpisodeBridge = conn.state[_STATE_KEY]
        await bridge.ready.wait()
        return bridge

    def fail_session(self, session_id: str | None, error: Exception) -> None:
        self.bridge.close(error)


def model_env(options: Mapping[str, Any]) -> dict[str, str]:
    """The run's model settings for the agent's command: ``--model`` and ``--base-url``."""
    env: dict[str, str] = {}
    if isinstance(options.get("model"), str):
        env["FIRSTDAY_MODEL"] = options["model"]
    if isinstance(options.get("base_url"), str):
        env["OPENAI_BASE_URL"] = options["base_url"]
    return env


class CommandAgent:
    """An episode played by an external command over MCP (see the module docstring)."""

    name = COMMAND_AGENT

    def __init__(self, ctx: PublicContext) -> None:
        command = ctx.options.get("command")
        if not isinstance(command, str) or not command.strip():
            raise ConfigError("the agent-cmd agent needs option command (firstday run --agent-cmd \"python a.py\")")
        self.command = command
        self.argv = shlex.split(command)
        self.env = {**os.environ, **model_env(ctx.options)}
        idle = ctx.options.get("idle_timeout_s", 600.0)
        self.bridge = EpisodeBridge("", float(idle) if isinstance(idle, int | float) else 600.0,
                                    {"transport": "http", "command": command})
        self.proc: asyncio.subprocess.Process | None = None
        self.endpoint: Any = None
        self.watcher: asyncio.Task[None] | None = None
        # the command's output, until the end of the episode (read into the trace, then closed)
        self.out: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self.err: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self.exit_code: int | None = None
        self.stopped = False

    async def reset(self, briefing: Briefing) -> None:
        from firstday.serve.server import HttpEndpoint, build_server

        await self.bridge.reset(briefing)
        source = _OneEpisode(self.bridge)
        self.endpoint = HttpEndpoint(build_server(source), source, "127.0.0.1", 0, None)
        url = await self.endpoint.start()
        try:
            self.proc = await _start_agent_process(self.argv, env={**self.env, "FIRSTDAY_MCP_URL": url},
                                                   stdout=self.out, stderr=self.err)
        except OSError as exc:
            await self.endpoint.stop()
            raise ClientClosed(f"the agent command could not start: {exc.strerror or exc}") from None
        self.watcher = asyncio.get_running_loop().create_task(self._watch(self.proc))

    async def _watch(self, proc: asyncio.subprocess.Process) -> None:
        self.exit_code = await proc.wait()
        self.bridge.close(ClientClosed(f"the agent command exited (code {self.exit_code}) before the end of the day"))

    async def act(self, observation: Observation) -> list[ToolCall]:
        try:
            calls = await self.bridge.act(observation)
        except BaseException as exc:
            self.bridge.finish(f"the episode ended in an error: {exc}", failed=True)
            await self._stop()
            raise
        if observation.done:
            await self._stop()
        return calls

    async def _stop(self) -> None:
        """The episode is over: let the command exit (killed after EXIT_GRACE_S), stop the endpoint."""
        if self.stopped:
            return
        self.stopped = True
        if self.proc is not None and self.proc.returncode is None:
            try:
                await asyncio.wait_for(asyncio.shield(self.proc.wait()), EXIT_GRACE_S)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                await self.proc.wait()
        if self.proc is not None:
            self.exit_code = self.proc.returncode
        if self.watcher is not None:
            self.watcher.cancel()
        if self.endpoint is not None:
            await self.endpoint.stop()

    @staticmethod
    def _tail(f: IO[bytes]) -> str:
        with contextlib.suppress(OSError, ValueError):
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - OUTPUT_TAIL))
            return f.read().decode("utf-8", "replace")
        return ""

    def trace_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {"served": "mcp", "command": self.command, "client": self.bridge.client}
        if self.bridge.ready.is_set() and not self.stopped:  # the episode ended another way: stop now
            self.stopped = True
            if self.proc is not None and self.proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
            if self.endpoint is not None:
                self.endpoint.stop_now()
        if self.stopped:
            info.update(exit_code=self.exit_code, stdout=self._tail(self.out), stderr=self._tail(self.err))
            self.out.close()
            self.err.close()
        return info
