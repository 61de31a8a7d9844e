"""``firstday run SUITE --agent-cmd "python my_agent.py"``: an external agent as a process, one per episode.

The agent ``agent-cmd`` (:class:`CommandAgent`) is a bridge (:class:`~firstday.serve.bridge.EpisodeBridge`)
with its own MCP endpoint: for its episode it starts streamable HTTP on 127.0.0.1 (a free port) and the
command, with ``FIRSTDAY_MCP_URL`` (and the run's model settings: ``FIRSTDAY_MODEL``, ``OPENAI_BASE_URL``) in
its environment. The command's first MCP session plays the episode; the rest is an ordinary episode of the
runner (any executor: the agent is built inside the worker that runs the episode). The command's stdout and
stderr (their last :data:`OUTPUT_TAIL` characters each) are kept in the episode's trace (``agent`` of the end
event), so they are in the run folder with the episode. The process exiting before the end of the day ends
the episode as an agent error, like a client closing its session.

The command runs **sealed by the kernel** (:func:`firstday.sandbox.agent_process.start_sealed_process`,
docs/agent-sandbox.md): it reads the system and Python directories, the folders of its own files (see
:func:`command_folders`) and the ``agent_paths`` option; it connects only to the episode's MCP port, the port of
the model endpoint (``base_url``, else ``$OPENAI_BASE_URL``) and the ``allow_ports`` option; the suite and run
folders are out of its reach. The backend really used (``agent-process``, or ``none`` where the kernel cannot
seal) is recorded in the trace (``sandbox`` of the end event's ``agent``); with ``--require-sandbox`` a kernel
that cannot seal refuses the run up front. The process group is killed at the end of the episode.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shlex
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from firstday.agents.base import COMMAND_AGENT, PublicContext
from firstday.env.episode import Briefing, Observation
from firstday.errors import ConfigError
from firstday.sandbox.agent_process import (
    AgentProcessPolicy,
    check_policy,
    kill_process_group,
    start_sealed_process,
    stop_process_group,
)
from firstday.serve.bridge import ClientClosed, EpisodeBridge
from firstday.world.tools import ToolCall

OUTPUT_TAIL = 20_000
#: after the end of the day, how long the command may take to exit before it is killed
EXIT_GRACE_S = 10.0


#: the environment variables through which ``firstday run`` hands the agent (in whichever worker builds it) the
#: folders the command must not reach (a JSON list) and whether an unsealed command is refused ("1"); kept out
#: of the agent options so that run.json compares the same on resume, and out of the command's environment
PROTECTED_ENV, REQUIRE_ENV = "FIRSTDAY_AGENT_PROTECTED", "FIRSTDAY_AGENT_REQUIRE_SEAL"
#: the backend names recorded in the trace: sealed by the kernel, or not
SEALED_BACKEND, UNSEALED_BACKEND = "agent-process", "none"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def url_port(url: str, what: str) -> int:
    """The TCP port ``url`` connects to (the scheme's default when it names none); a ConfigError otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"{what} {url!r} is not a URL ({exc})") from None
    if port is None:
        port = _DEFAULT_PORTS.get(parts.scheme.lower())
    if port is None:
        raise ConfigError(f"{what} {url!r} names no port and its scheme is not http or https")
    return port


def command_folders(argv: Sequence[str], cwd: Path) -> tuple[Path, ...]:
    """The folders of the command's own files, which the sealed command may read: each argument that names an
    existing file (resolved against ``cwd``) gives its folder, one that names a folder gives itself. A bare
    program name (``python``, looked up on PATH) gives nothing: the system and Python folders are readable."""
    folders: list[Path] = []
    for arg in argv:
        if not arg or arg.startswith("-"):
            continue
        if arg == argv[0] and os.sep not in arg:
            continue
        path = cwd / arg
        try:
            if path.is_file() and arg == argv[0] and _sealed_readable(path.resolve()):
                continue  # e.g. /usr/bin/python3 or the virtual environment's interpreter: readable already
            if path.is_file():
                found = path.resolve().parent
            elif path.is_dir() and os.sep in arg:
                found = path.resolve()
            else:
                continue
        except OSError:
            continue
        if found not in folders:
            folders.append(found)
    return tuple(folders)


def _sealed_readable(path: Path) -> bool:
    """``path`` is readable under every seal: a system or Python folder, or the interpreter itself."""
    from firstday.sandbox.agent_process import SYSTEM_EXEC_ROOTS, _python_roots

    roots = [Path(r).resolve() for r in SYSTEM_EXEC_ROOTS if os.path.exists(r)] + [Path(r) for r in _python_roots()]
    return any(path == r or path.is_relative_to(r) for r in roots)


def _paths_option(value: Any, what: str) -> tuple[Path, ...]:
    items = [value] if isinstance(value, str) else value if isinstance(value, list) else None
    if items is None or not all(isinstance(v, str) and v for v in items):
        raise ConfigError(f"the agent-cmd option {what} must be a path or a list of paths, got {value!r}")
    return tuple(Path(v).expanduser().resolve() for v in items)


def _ports_option(value: Any) -> tuple[int, ...]:
    items = [value] if isinstance(value, int) else value if isinstance(value, list) else None
    if items is None or not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 65535 for v in items):
        raise ConfigError(f"the agent-cmd option allow_ports must be a TCP port or a list of them (1..65535), "
                          f"got {value!r}")
    return tuple(items)


def agent_policy(options: Mapping[str, Any], cwd: Path, environ: Mapping[str, str] | None = None,
                 protected: Sequence[Path] = ()) -> AgentProcessPolicy:
    """The seal of the command of ``options`` without the MCP port (known once the episode's endpoint runs):
    the model endpoint's port (``base_url``, else ``$OPENAI_BASE_URL``) and ``allow_ports``; the folders of the
    command's files and ``agent_paths``, read-only. Raises ConfigError (one line) for a bad option or a readable
    path that is, or contains, one of ``protected`` (the suite and run folders)."""
    environ = os.environ if environ is None else environ
    command = options.get("command")
    if not isinstance(command, str) or not command.strip():
        raise ConfigError("the agent-cmd agent needs option command (firstday run --agent-cmd \"python a.py\")")
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise ConfigError(f"--agent-cmd {command!r}: {exc}") from None
    ports: list[int] = []
    base_url = options.get("base_url")
    if isinstance(base_url, str) and base_url:
        ports.append(url_port(base_url, "--base-url"))
    elif environ.get("OPENAI_BASE_URL"):
        ports.append(url_port(environ["OPENAI_BASE_URL"], "$OPENAI_BASE_URL"))
    if "allow_ports" in options:
        ports.extend(_ports_option(options["allow_ports"]))
    readable = list(command_folders(argv, cwd))
    if "agent_paths" in options:
        readable.extend(p for p in _paths_option(options["agent_paths"], "agent_paths") if p not in readable)
    policy = AgentProcessPolicy(connect_ports=tuple(dict.fromkeys(ports)), readable=tuple(readable))
    check_policy(policy, protected=protected)  # a readable path that is, or holds, a protected folder
    guarded = [Path(p).resolve() for p in protected]
    for path in policy.readable:  # one inside a protected folder (a file of the suite named in the command)
        if any(path.resolve().is_relative_to(g) for g in guarded):
            raise ConfigError(f"agent sandbox: readable path {path} is inside the suite or run folder, which the "
                              "agent must not reach; keep the agent's files elsewhere")
    return policy


async def _start_agent_process(argv: list[str], *, env: Mapping[str, str], cwd: Path, policy: AgentProcessPolicy,
                               stdout: IO[bytes], stderr: IO[bytes],
                               require: bool) -> tuple[asyncio.subprocess.Process, str]:
    """Start the agent's command sealed (its own session and process group); returns it with the backend
    recorded: :data:`SEALED_BACKEND`, or :data:`UNSEALED_BACKEND` where the kernel cannot seal and not
    ``require``."""
    proc, backend = await start_sealed_process(argv, env=env, cwd=cwd, policy=policy, stdout=stdout, stderr=stderr,
                                               require=require)
    return proc, UNSEALED_BACKEND if backend == "none" else SEALED_BACKEND


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


def _protected_from_env() -> list[str]:
    """The folders ``firstday run`` protects (:data:`PROTECTED_ENV`); none when the agent is built elsewhere."""
    raw = os.environ.get(PROTECTED_ENV)
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        return []
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


class CommandAgent:
    """An episode played by an external command over MCP (see the module docstring)."""

    name = COMMAND_AGENT

    def __init__(self, ctx: PublicContext) -> None:
        self.cwd = Path.cwd()
        protected = [Path(p) for p in _protected_from_env()]
        self.policy = agent_policy(ctx.options, self.cwd, protected=protected)
        self.command = str(ctx.options["command"])
        self.argv = shlex.split(self.command)
        self.require = os.environ.get(REQUIRE_ENV) == "1"
        # the harness's own channel stays out of the command's environment
        self.env = {k: v for k, v in os.environ.items() if k not in (PROTECTED_ENV, REQUIRE_ENV)}
        self.env.update(model_env(ctx.options))
        self.backend: str | None = None
        idle = ctx.options.get("idle_timeout_s", 600.0)
        self.bridge = EpisodeBridge("", float(idle) if isinstance(idle, int | float) else 600.0,
                                    {"transport": "http", "command": self.command})
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
        policy = AgentProcessPolicy(connect_ports=(url_port(url, "the MCP endpoint"), *self.policy.connect_ports),
                                    readable=self.policy.readable)
        try:
            self.proc, self.backend = await _start_agent_process(
                self.argv, env={**self.env, "FIRSTDAY_MCP_URL": url}, cwd=self.cwd, policy=policy, stdout=self.out,
                stderr=self.err, require=self.require)
        except OSError as exc:
            await self.endpoint.stop()
            raise ClientClosed(f"the agent command could not start: {exc.strerror or exc}") from None
        except BaseException:  # the seal failed or is required and unavailable: not the agent's doing
            await self.endpoint.stop()
            raise
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
        if self.proc is not None:
            if self.proc.returncode is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(self.proc.wait()), EXIT_GRACE_S)
            # whatever is left of the command's process group (helpers it started) ends with the episode
            await stop_process_group(self.proc, grace_s=0)
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
        info: dict[str, Any] = {"served": "mcp", "command": self.command, "client": self.bridge.client,
                                "sandbox": self.backend,
                                "seal": {"connect_ports": sorted(self.policy.connect_ports),
                                         "readable": [str(p) for p in self.policy.readable]}}
        if self.bridge.ready.is_set() and not self.stopped:  # the episode ended another way: stop now
            self.stopped = True
            if self.proc is not None:
                kill_process_group(self.proc)
            if self.endpoint is not None:
                self.endpoint.stop_now()
        if self.stopped:
            info.update(exit_code=self.exit_code, stdout=self._tail(self.out), stderr=self._tail(self.err))
            self.out.close()
            self.err.close()
        return info
