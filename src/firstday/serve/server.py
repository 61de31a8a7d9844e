"""``firstday serve``: a working day as an MCP server (docs/mcp.md).

One MCP session is one episode. :class:`ServeExecutor` is an ordinary
:class:`~firstday.run.runner.EpisodeExecutor`: ``run_suite`` plans the episodes still to run in the run folder
(resume, trials), and the executor hands the next one to each new MCP session; the session's agent is an
:class:`~firstday.serve.bridge.EpisodeBridge`, and the episode runs through ``run_job`` like any other, so it is
guarded, scored, traced and saved exactly like an in-process one.

Transports (the official ``mcp`` SDK): stdio (one session, then the command ends) and streamable HTTP
(sessions at once, until every episode is done). Sessions use the initialize handshake (protocol versions up
to 2025-11-25): an episode needs a session, and the SDK's 2026-07-28 era is sessionless, so ``server/discover``
is refused and clients fall back to the handshake.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import json
import os
import secrets
import socket
import stat
import sys
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol

from firstday.errors import ConfigError
from firstday.run.episode import ScenarioCache
from firstday.run.runner import EpisodeExecutor, EpisodeJob, EpisodeOutcome, RunEvents, default_tool_slots, run_job
from firstday.serve.bridge import (
    NOTIFICATIONS_DESCRIPTION,
    NOTIFICATIONS_TOOL,
    ClientClosed,
    ClientGarbage,
    EpisodeBridge,
    Reply,
    current_bridge,
)
from firstday.suites.store import Suite

if TYPE_CHECKING:
    import mcp.types as mcp_types
    from mcp.server.context import ServerRequestContext
    from mcp.server.lowlevel import Server

Transport = Literal["stdio", "http"]
TRANSPORTS: tuple[Transport, ...] = ("stdio", "http")
MCP_PATH = "/mcp"
_STATE_KEY = "firstday_bridge"  # where a connection keeps its episode's bridge (Connection.state)
#: HTTP: once every episode is done, how long the server waits for the sessions still open to close (so each
#: client gets its last replies and closes cleanly) before it stops
LINGER_S = 10.0


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _connection(ctx: ServerRequestContext[Any, Any]) -> Any:
    """The per-connection state of a request (``mcp.server.connection.Connection``: ``state``, ``exit_stack``,
    ``session_id``, ``client_params``). The SDK's handlers get it only through the session it builds per request."""
    return ctx.session._connection


class EpisodeSource(Protocol):
    """Where the server's sessions get their episodes (:class:`EpisodeDispatcher`, or one episode of
    ``--agent-cmd``)."""

    total: int

    async def bridge_for(self, ctx: ServerRequestContext[Any, Any]) -> EpisodeBridge | None: ...

    def fail_session(self, session_id: str | None, error: Exception) -> None: ...


class EpisodeDispatcher:
    """Assigns episodes to MCP sessions (one each, in plan order) and runs them."""

    def __init__(self, suite: Suite, jobs: Sequence[EpisodeJob], events: RunEvents, idle_timeout_s: float | None,
                 transport: Transport) -> None:
        self.jobs = deque(jobs)
        self.total = len(self.jobs)
        self.events = events
        self.idle_timeout_s = idle_timeout_s
        self.transport = transport
        self.cache = ScenarioCache(suite)
        self.slots = asyncio.Semaphore(default_tool_slots())
        self.tasks: set[asyncio.Task[None]] = set()
        self.by_session: dict[str, EpisodeBridge] = {}  # HTTP session id -> its episode
        self.bridges: list[EpisodeBridge] = []  # every episode started, in order
        self.all_done = asyncio.Event()
        self.open_sessions = 0  # connections that have an episode and are still open
        self.sessions_closed = asyncio.Event()
        self.failure: BaseException | None = None  # saving failed (e.g. the disk is full): the run stops
        self.stdio_error: Exception | None = None  # stdio: why the connection is being closed (garbage)
        if not self.jobs:
            self.all_done.set()

    async def bridge_for(self, ctx: ServerRequestContext[Any, Any]) -> EpisodeBridge | None:
        """The episode of the request's session, started on its first request that needs one; None when every
        episode of the run is taken."""
        conn = _connection(ctx)
        bridge: EpisodeBridge | None = conn.state.get(_STATE_KEY)
        if bridge is None:
            if not self.jobs:
                return None
            job = self.jobs.popleft()
            params = conn.client_params
            info = params.client_info.model_dump(mode="json", exclude_none=True) if params is not None else {}
            bridge = EpisodeBridge(job.key, self.idle_timeout_s, {**info, "transport": self.transport})
            conn.state[_STATE_KEY] = bridge
            if conn.session_id:
                self.by_session[conn.session_id] = bridge

            self.open_sessions += 1
            self.sessions_closed.clear()

            async def closed() -> None:  # the connection ended (EOF, DELETE, the server stopping)
                self.open_sessions -= 1
                if not self.open_sessions:
                    self.sessions_closed.set()
                bridge.close(self.stdio_error if conn.session_id is None and self.stdio_error is not None
                             else ClientClosed("the MCP client closed the connection before the end of the day"))

            conn.exit_stack.push_async_callback(closed)
            self.bridges.append(bridge)
            task = asyncio.get_running_loop().create_task(self._episode(job, bridge), name=f"firstday-mcp-{job.key}")
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        await bridge.ready.wait()
        return bridge

    async def _episode(self, job: EpisodeJob, bridge: EpisodeBridge) -> None:
        self.events.started(job)
        current_bridge.set(bridge)  # this task's context: the agent factory hands this bridge to run_job
        outcome: EpisodeOutcome | None = None
        try:
            outcome = await run_job(job, self.cache, self.slots)
            await self.events.finished(outcome)
        except BaseException as exc:  # saving failed: nothing more can be recorded, stop serving
            self.failure = exc
            self.all_done.set()
            raise
        finally:
            s = outcome.summary if outcome is not None else None
            if s is None or s.status == "ok":
                bridge.finish("the day is over: this episode is scored and saved")
            else:
                bridge.finish(f"the episode ended in an error: {s.error}", failed=True)
            this = asyncio.current_task()
            if not self.jobs and all(t is this or t.done() for t in self.tasks):
                self.all_done.set()

    def fail_session(self, session_id: str | None, error: Exception) -> None:
        """End the episode of an HTTP session (or, on stdio, the only one) as an agent error."""
        if session_id is None:  # stdio: the connection closes now; an episode its last request starts ends so too
            self.stdio_error = error
        targets = [self.by_session[session_id]] if session_id in self.by_session else (
            self.bridges if session_id is None else [])
        for bridge in targets:
            bridge.close(error)

    async def wait_episodes(self) -> None:
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)
        if self.failure is not None:
            raise self.failure


def build_server(dispatcher: EpisodeSource) -> Server[Any]:
    """The MCP server: the day's tools (as the briefing lists them) plus ``notifications``."""
    import mcp.types as types
    from mcp.server.lowlevel import Server
    from mcp.shared.exceptions import MCPError

    from firstday._version import __version__

    async def list_tools(ctx: ServerRequestContext[Any, Any],
                         params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        bridge = await dispatcher.bridge_for(ctx)
        tools = [types.Tool(name=NOTIFICATIONS_TOOL, description=NOTIFICATIONS_DESCRIPTION,
                            input_schema={"type": "object", "properties": {}, "additionalProperties": False},
                            annotations=types.ToolAnnotations(read_only_hint=True),
                            meta={"firstday/cost_minutes": 0})]
        if bridge is not None and bridge.briefing is not None:
            tools += [types.Tool(name=t.name, description=t.description, input_schema=t.parameters,
                                 annotations=types.ToolAnnotations(read_only_hint=t.read_only),
                                 meta={"firstday/cost_minutes": t.cost_minutes}) for t in bridge.briefing.tools]
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx: ServerRequestContext[Any, Any],
                        params: types.CallToolRequestParams) -> types.CallToolResult:
        bridge = await dispatcher.bridge_for(ctx)
        if bridge is None:
            return _result(types, Reply(f"error: every episode of this run is taken ({dispatcher.total}); "
                                        "nothing is left to play on this server", is_error=True, done=True))
        if params.name == NOTIFICATIONS_TOOL:
            return _result(types, bridge.notifications())
        return _result(types, await bridge.call(params.name, dict(params.arguments or {})))

    async def refuse_discover(ctx: ServerRequestContext[Any, Any], params: types.RequestParams) -> None:
        # no 2026-07-28 (sessionless) era: an episode is a session; clients fall back to the handshake
        raise MCPError(types.METHOD_NOT_FOUND, "firstday serves sessions: use the initialize handshake")

    server: Server[Any] = Server(
        "firstday", version=__version__,
        instructions="A working day of a new trainee as MCP tools. Call 'notifications' first for your briefing and "
                     "the day's first tasks; every tool call takes virtual minutes and its result carries the clock "
                     "and new notifications. The episode ends at the end of the day (the result says so).",
        on_list_tools=list_tools, on_call_tool=call_tool)
    server.add_request_handler("server/discover", types.RequestParams, refuse_discover)
    # the SDK's default OpenTelemetry middleware spans every message even with no exporter: about half the
    # server's CPU per tool call (docs/performance.md); firstday does not use it
    server.middleware = []
    return server


def _result(types: Any, reply: Reply) -> mcp_types.CallToolResult:
    content: list[Any] = [types.TextContent(type="text", text=reply.text)]
    content += [types.ImageContent(type="image", data=img.data_b64, mime_type=img.media_type) for img in reply.images]
    result: mcp_types.CallToolResult = types.CallToolResult(
        content=content, is_error=reply.is_error, meta={"firstday/clock": reply.clock, "firstday/done": reply.done})
    return result


def _garbage(what: str) -> ClientGarbage:
    return ClientGarbage(f"the MCP client sent a message that is not JSON-RPC: {what[:200]}")


class _PipeLines:
    """stdin as the SDK's stdio transport reads it (``async for line``), from the event loop: the SDK's own
    reader and writer hop to a worker thread for every line read and for every write and flush."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader

    def __aiter__(self) -> _PipeLines:
        return self

    async def __anext__(self) -> str:
        line = await self.reader.readline()
        if not line:
            raise StopAsyncIteration
        return line.decode("utf-8", errors="replace")


class _FdWriter:
    """stdout for the SDK's stdio transport: one blocking ``os.write`` per message (a line to a pipe the client
    reads all the time), no thread."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    async def write(self, text: str) -> None:
        data = memoryview(text.encode("utf-8"))
        while data:
            data = data[os.write(self.fd, data):]

    async def flush(self) -> None:
        pass


@contextlib.asynccontextmanager
async def _stdio_streams() -> AsyncIterator[tuple[Any, Any] | None]:
    """stdin and stdout for :func:`mcp.server.stdio.stdio_server`, read and written on the event loop; None when
    stdin is not a pipe or a socket (a file or a terminal: the SDK's own threaded reader serves it). Like the
    SDK, while serving fd 0 reads EOF and fd 1 goes to stderr, so stray output cannot corrupt the protocol."""
    mode = os.fstat(0).st_mode
    if sys.platform == "win32" or not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
        yield None
        return
    import fcntl

    sys.stdout.flush()
    wire_in, wire_out = (fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3) for fd in (0, 1))
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    pipe = os.fdopen(wire_in, "rb", buffering=0, closefd=False)
    transport: asyncio.BaseTransport | None = None
    try:
        reader = asyncio.StreamReader(limit=_STDIO_LINE_LIMIT)
        loop = asyncio.get_running_loop()
        transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
        yield _PipeLines(reader), _FdWriter(wire_out)
    finally:
        if transport is not None:
            transport.close()
        os.set_blocking(wire_in, True)  # the pipe is shared with whoever gave it: leave it as it was
        os.dup2(wire_out, 1)
        os.dup2(wire_in, 0)
        os.close(wire_out)
        os.close(wire_in)


#: the longest line the stdio transport reads (a JSON-RPC message from the client; tool arguments are small)
_STDIO_LINE_LIMIT = 64 * 1024 * 1024


async def serve_stdio(server: Server[Any], dispatcher: EpisodeDispatcher) -> None:
    """One session over this process's stdin/stdout (stdout carries only the protocol while serving)."""
    import anyio
    from mcp.server.runner import serve_loop
    from mcp.server.stdio import stdio_server

    async with _stdio_streams() as streams, stdio_server(*(streams or ())) as (read, write), \
            server.lifespan(server) as state:
        send, receive = anyio.create_memory_object_stream[Any](0)

        async def guard() -> None:
            # the SDK skips a line that is not JSON-RPC; here it ends the episode and the session
            async with send:
                async for item in read:
                    if isinstance(item, Exception):
                        dispatcher.fail_session(None, _garbage(str(item)))
                        return
                    await send.send(item)

        async with anyio.create_task_group() as group:
            group.start_soon(guard)
            await serve_loop(server, receive, write, lifespan_state=state,
                             init_options=server.create_initialization_options())
            group.cancel_scope.cancel()


class _Guard:
    """ASGI middleware in front of the MCP endpoint: the bearer token (when set), and a POST body that is not
    JSON-RPC ends its session's episode (the SDK answers it with HTTP 400 and keeps the session)."""

    def __init__(self, app: Any, dispatcher: EpisodeSource, token: str | None) -> None:
        self.app, self.dispatcher, self.token = app, dispatcher, token

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if self.token is not None:
            given = headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {self.token}".encode()):
                await _plain(send, 401, "a bearer token is required (Authorization: Bearer TOKEN)")
                return
        session = headers.get("mcp-session-id")
        if scope.get("method") != "POST" or session is None:
            await self.app(scope, receive, send)
            return
        body = b""
        while True:  # read the whole body, then hand it on unchanged
            message = await receive()
            body += message.get("body", b"")
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        problem = _not_jsonrpc(body)
        if problem is not None:
            self.dispatcher.fail_session(session, _garbage(problem))
        sent = False

        async def replay() -> Any:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _not_jsonrpc(body: bytes) -> str | None:
    """Why ``body`` is not a JSON-RPC message (or a batch of them), or None. A cheap shape check (the SDK validates
    the message fully after it): JSON, and objects with ``"jsonrpc": "2.0"`` and a method or an id."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        return f"invalid JSON ({exc})"
    for item in data if isinstance(data, list) else [data]:
        if not isinstance(item, dict) or item.get("jsonrpc") != "2.0" or not ("method" in item or "id" in item):
            return f"not a JSON-RPC message ({body[:100]!r})"
    return None


async def _plain(send: Any, status: int, text: str) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"www-authenticate", b"Bearer")]})
    await send({"type": "http.response.body", "body": text.encode()})


class HttpEndpoint:
    """The MCP server on streamable HTTP at ``host:port`` (0: a free port), in this event loop."""

    def __init__(self, server: Server[Any], source: EpisodeSource, host: str, port: int, token: str | None) -> None:
        self.server, self.source, self.host, self.port, self.token = server, source, host, port, token
        self._web: Any = None
        self._serving: asyncio.Task[None] | None = None
        self._sock: socket.socket | None = None

    async def start(self) -> str:
        """Listen; returns the endpoint's URL."""
        import uvicorn

        # json_response: each POST is answered with one JSON body, not an SSE stream (firstday sends no message of
        # its own during a request, so nothing is lost); it saves the SSE machinery per call (docs/performance.md)
        app = self.server.streamable_http_app(streamable_http_path=MCP_PATH, host=self.host, session_idle_timeout=None,
                                              json_response=True)
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # proto IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say so, and without it Nagle holds
        # a response's body (sent after its headers) until the client's delayed ACK, about 40 ms per call
        self._sock = sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise ConfigError(f"cannot listen on {self.host}:{self.port}: {exc.strerror or exc}") from None
        bound = sock.getsockname()[1]
        config = uvicorn.Config(_Guard(app, self.source, self.token), log_level="warning", access_log=False,
                                lifespan="on", timeout_graceful_shutdown=2)
        self._web = web = uvicorn.Server(config)
        # Ctrl-C stays the command's (a KeyboardInterrupt: finished episodes are saved), not uvicorn's
        web.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
        self._serving = serving = asyncio.get_running_loop().create_task(web.serve(sockets=[sock]))
        while not web.started:
            if serving.done():
                await serving
                raise ConfigError(f"the MCP HTTP server on {self.host}:{bound} did not start")
            await asyncio.sleep(0.01)
        name = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{name}:{bound}{MCP_PATH}"

    async def stop(self) -> None:
        if self._web is not None:
            self._web.should_exit = True
        if self._serving is not None:
            with contextlib.suppress(Exception):
                await self._serving
        if self._sock is not None:
            self._sock.close()

    def stop_now(self) -> None:
        """Ask the server to stop without waiting (from synchronous code)."""
        if self._web is not None:
            self._web.should_exit = True


async def serve_http(server: Server[Any], dispatcher: EpisodeDispatcher, host: str, port: int, token: str | None,
                     on_ready: Callable[[str], None] | None) -> None:
    """Streamable HTTP on ``host:port`` (0: a free port) until every episode is done."""
    endpoint = HttpEndpoint(server, dispatcher, host, port, token)
    try:
        url = await endpoint.start()
        if on_ready is not None:
            on_ready(url)
        await dispatcher.all_done.wait()
        await dispatcher.wait_episodes()
        if dispatcher.open_sessions:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(dispatcher.sessions_closed.wait(), LINGER_S)
    finally:
        await endpoint.stop()


class ServeExecutor(EpisodeExecutor):
    """Runs the planned episodes as MCP sessions connect (see the module docstring)."""

    builds_agent_up_front = False  # the agent is the MCP client of a session: it exists once a session connects

    def __init__(self, transport: Transport = "stdio", host: str = "127.0.0.1", port: int = 0,
                 token: str | None = None, idle_timeout_s: float | None = 600.0,
                 on_ready: Callable[[str], None] | None = None) -> None:
        if transport not in TRANSPORTS:
            raise ConfigError(f"unknown transport {transport!r}; use stdio or http")
        if transport == "http" and not is_loopback(host) and not token:
            raise ConfigError(f"serving on {host} (not a loopback address) needs a bearer token (--token)")
        if not 0 <= port <= 65535:
            raise ConfigError(f"--port must be between 0 and 65535, got {port}")
        self.transport, self.host, self.port, self.token = transport, host, port, token
        self.idle_timeout_s = idle_timeout_s
        self.on_ready = on_ready
        self.dispatcher: EpisodeDispatcher | None = None

    async def run(self, suite: Suite, chains: Sequence[Sequence[EpisodeJob]], events: RunEvents) -> None:
        jobs = [job for chain in chains for job in chain]
        if any(job.env_config.memory for job in jobs):
            raise ConfigError("firstday serve runs days one session each: memory across days is not served")
        self.dispatcher = dispatcher = EpisodeDispatcher(suite, jobs, events, self.idle_timeout_s, self.transport)
        if not jobs:
            return
        server = build_server(dispatcher)
        if self.transport == "stdio":
            await serve_stdio(server, dispatcher)
            await dispatcher.wait_episodes()
        else:
            await serve_http(server, dispatcher, self.host, self.port, self.token, self.on_ready)


def new_token() -> str:
    return secrets.token_urlsafe(24)
