"""The bridge: an :class:`~firstday.env.loop.Agent` whose moves come from an MCP client.

An episode served over MCP is an ordinary episode (``run_job`` → ``guarded_episode``: same trace, score,
saving and resume as in-process) whose agent is an :class:`EpisodeBridge`. ``act(observation)`` hands the
observation to the MCP side and waits for the client's next tool call; the MCP ``tools/call`` handler
(:meth:`EpisodeBridge.call`) queues that call and waits for the observation that answers it. One call per
turn: calls a client sends at once are taken one after the other (each is its own turn, as in-process).

The client's misbehaviour ends the episode as an *agent* error with a reason (docs/mcp.md): it closed the
connection (:class:`ClientClosed`), sent nothing for ``idle_timeout_s`` (:class:`ClientIdle`) or sent
something that is not JSON-RPC (:class:`ClientGarbage`).
"""

from __future__ import annotations

import asyncio
import contextvars
from dataclasses import dataclass, field
from typing import Any

from firstday.env.episode import Briefing, Observation
from firstday.timefmt import fmt
from firstday.world.tools import ImagePart, ToolCall, ToolResult

#: the name of the served agent in the run folder (``run.json``, episodes)
SERVED_AGENT = "mcp"

#: the tool that shows the briefing and the notifications without a turn (no virtual time)
NOTIFICATIONS_TOOL = "notifications"
NOTIFICATIONS_DESCRIPTION = (
    "Your briefing (on the first call), the clock, and the notifications you have not seen yet. Free: it takes "
    "no virtual time. Every other tool's result carries the clock and new notifications too.")

DAY_OVER = "The day is over: this episode is scored and saved. Close the session to start another."


class ClientClosed(Exception):
    """The MCP client closed the connection before the end of the day."""


class ClientIdle(Exception):
    """The MCP client sent no tool call for longer than the idle timeout."""


class ClientGarbage(Exception):
    """The MCP client sent something that is not a JSON-RPC message."""


@dataclass
class _Closed:
    error: Exception


@dataclass
class Reply:
    """What a ``tools/call`` gets back (turned into an MCP ``CallToolResult`` by the server)."""

    text: str
    images: list[ImagePart] = field(default_factory=list)
    is_error: bool = False
    clock: str = ""
    done: bool = False


#: the bridge of the episode running in this task (set by the server before ``run_job``)
current_bridge: contextvars.ContextVar[EpisodeBridge] = contextvars.ContextVar("firstday_mcp_bridge")


class EpisodeBridge:
    """One MCP session's agent. ``idle_timeout_s``: how long ``act`` waits for the client's next call."""

    name = SERVED_AGENT

    def __init__(self, episode: str, idle_timeout_s: float | None, client: dict[str, Any] | None = None) -> None:
        self.episode = episode  # the episode key, e.g. s000/d0/t0
        self.idle_timeout_s = idle_timeout_s
        self.client = client or {}
        self.briefing: Briefing | None = None
        self.ready = asyncio.Event()  # the first observation (or the end) has arrived: the session may play
        self.clock = ""
        self.done = False
        self.ended: str | None = None  # the episode is over: what a further call is told
        self.failed = False  # it ended in an error (not at the end of the day)
        self._briefing_shown = False
        self._unseen: list[str] = []  # notification lines the client has not been shown yet
        self._calls: asyncio.Queue[ToolCall | _Closed] = asyncio.Queue()
        self._waiter: asyncio.Future[Observation | None] | None = None
        self._lock = asyncio.Lock()
        self._n = 0

    # ---- the Agent side (the episode's task) ------------------------------------------------------
    async def reset(self, briefing: Briefing) -> None:
        self.briefing = briefing

    async def act(self, observation: Observation) -> list[ToolCall]:
        self._absorb(observation)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(observation)
        self.ready.set()
        if observation.done:
            return []
        try:
            async with asyncio.timeout(self.idle_timeout_s):
                item = await self._calls.get()
        except TimeoutError:
            raise ClientIdle(f"the MCP client sent no tool call for {self.idle_timeout_s:g} s (--idle-timeout)") \
                from None
        if isinstance(item, _Closed):
            raise item.error
        return [item]

    def trace_info(self) -> dict[str, Any]:
        return {"served": "mcp", "client": self.client}

    def _absorb(self, obs: Observation) -> None:
        self.clock, self.done = obs.clock, obs.done
        self._unseen += [f"- [{fmt(n.time)}] {n.text}" for n in obs.notifications]
        for lesson in obs.lessons:
            self._unseen.append(f"- lesson from an earlier day: {lesson.text}")
        for h in obs.hints:
            self._unseen.append(f"- hint for task {h.task_id} ({h.tier}): {h.text}")

    # ---- the MCP side (the session's request handlers) ---------------------------------------------
    async def call(self, name: str, arguments: dict[str, Any]) -> Reply:
        """One tool call of the client: a turn of the episode. Calls wait for each other (one per turn)."""
        async with self._lock:
            if self.ended is not None:
                return Reply(f"error: not executed: {self.ended}", is_error=True, clock=self.clock, done=True)
            self._n += 1
            call = ToolCall(name=name, arguments=arguments, id=f"mcp-{self._n}")
            loop = asyncio.get_running_loop()
            self._waiter = waiter = loop.create_future()
            self._calls.put_nowait(call)
            obs = await waiter
            self._waiter = None
            if obs is None:  # the episode ended before answering (its error is in self.ended)
                return Reply(f"error: not executed: {self.ended}", is_error=True, clock=self.clock, done=True)
            result = next((r for r in obs.results if r.call_id == call.id), None)
            return self._reply(result)

    def notifications(self) -> Reply:
        """The ``notifications`` tool: what the client has not seen yet, no turn."""
        return self._reply(None)

    def _reply(self, result: ToolResult | None) -> Reply:
        parts: list[str] = []
        if not self._briefing_shown and self.briefing is not None:
            self._briefing_shown = True
            parts.append("Briefing:\n" + self.briefing.instructions)
        if result is not None:
            parts.append(result.content)
        footer = [f"Clock: {self.clock}."]
        if self._unseen:
            footer += ["New notifications:", *self._unseen]
            self._unseen = []
        if self.failed:
            footer.append(f"The episode is over: {self.ended}.")
        elif self.done:
            footer.append(DAY_OVER)
        parts.append("\n".join(footer))
        return Reply("\n\n".join(parts), images=list(result.images) if result is not None else [],
                     is_error=result is not None and not result.ok, clock=self.clock, done=self.done)

    def close(self, error: Exception) -> None:
        """The client went away or misbehaved: the episode's ``act`` raises ``error`` (an agent error)."""
        if self.ended is None:
            self._calls.put_nowait(_Closed(error))

    def finish(self, message: str, failed: bool = False) -> None:
        """The episode is over (scored and saved, or ended in an error): answer whatever still waits."""
        self.ended, self.failed, self.done = message, failed, True
        self.ready.set()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
