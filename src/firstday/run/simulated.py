"""``sim-oracle``: a simulated model agent, for benchmarks and tests of the runner.

It answers with the oracle's calls, each after a fixed latency spent waiting on the event loop (like a
model API call: no CPU while waiting), so its scores are the oracle's and its wall time is that of a
model with that latency. Options (``-O KEY=VALUE``):

* ``latency_s`` (default 0.05): seconds per agent step;
* ``hang_at_step`` (default none): at this step (1-based) it never answers, like a hung model API
  (to exercise ``act_timeout_s``);
* ``exit_at_step`` (default none): at this step the whole process exits at once (``os._exit(3)``), like
  a process killed by the out-of-memory killer (to exercise the process executor's recovery); with
  ``exit_flag=PATH`` only the first episode to create that file does so.

It implements the optional usage protocol (``usage()``), reporting one request per step.

The latency is waited for on a :class:`LatencyQueue`, not with one ``asyncio.sleep`` per call: a model
API's wait costs its client no CPU, and with hundreds of episodes in flight one timer per call (a heap
push and pop of the loop's timers, each comparison a Python call) is a measurable share of a step.
Calls with the same latency end in the order they started, so a queue with one timer serves them all.
"""

from __future__ import annotations

import asyncio
import collections
import os
import weakref
from typing import Any, ClassVar

from firstday.agents.base import AgentContext
from firstday.agents.builtin import OracleAgent
from firstday.env.episode import Briefing, Observation
from firstday.world.tools import ToolCall


class LatencyQueue:
    """Waits of one fixed length on one event loop: first in, first out, with one timer for the oldest.

    Equivalent to ``await asyncio.sleep(latency_s)`` for each waiter (never earlier; a waiter whose task
    is cancelled simply leaves), at the cost of a future and a queue entry per wait.
    """

    _queues: ClassVar[weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[float, LatencyQueue]]] = (
        weakref.WeakKeyDictionary())

    def __init__(self, latency_s: float) -> None:
        # no reference to the loop itself: it is the key of ``_queues``, which must not keep it alive
        self.latency_s = latency_s
        self._waiting: collections.deque[tuple[float, asyncio.Future[None]]] = collections.deque()
        self._timer: asyncio.TimerHandle | None = None

    @classmethod
    def of(cls, latency_s: float) -> LatencyQueue:
        """The queue for ``latency_s`` on the running loop (made on first use)."""
        loop = asyncio.get_running_loop()
        by_latency = cls._queues.setdefault(loop, {})
        queue = by_latency.get(latency_s)
        if queue is None:
            queue = by_latency[latency_s] = cls(latency_s)
        return queue

    async def wait(self) -> None:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        due = loop.time() + self.latency_s
        self._waiting.append((due, fut))
        if self._timer is None:
            self._timer = loop.call_at(due, self._release, loop)
        await fut

    def _release(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        now, waiting = loop.time(), self._waiting
        while waiting and waiting[0][0] <= now:
            fut = waiting.popleft()[1]
            if not fut.done():  # done: its task was cancelled (a timeout), nobody waits for it
                fut.set_result(None)
        if waiting:
            self._timer = loop.call_at(waiting[0][0], self._release, loop)


class SimulatedModelAgent:
    name = "sim-oracle"
    privileged = True  # it replays the oracle's plans: built from the full AgentContext

    def __init__(self, ctx: AgentContext) -> None:
        self.inner = OracleAgent(ctx)
        self.latency_s = float(ctx.options.get("latency_s", 0.05))
        hang = ctx.options.get("hang_at_step")
        self.hang_at_step = None if hang is None else int(hang)
        crash = ctx.options.get("exit_at_step")
        self.exit_at_step = None if crash is None else int(crash)
        self.exit_flag = ctx.options.get("exit_flag")
        self.requests = 0

    async def reset(self, briefing: Briefing) -> None:
        await self.inner.reset(briefing)

    async def act(self, observation: Observation) -> list[ToolCall]:
        self.requests += 1
        if self.hang_at_step is not None and self.requests >= self.hang_at_step:
            await asyncio.Event().wait()  # never set: a model call that never returns
        if self.exit_at_step is not None and self.requests >= self.exit_at_step and self._claim_exit():
            os._exit(3)
        if self.latency_s > 0:
            await LatencyQueue.of(self.latency_s).wait()
        return await self.inner.act(observation)

    def _claim_exit(self) -> bool:
        if self.exit_flag is None:
            return True
        try:
            open(str(self.exit_flag), "x").close()
        except FileExistsError:
            return False
        return True

    def usage(self) -> dict[str, Any]:
        return {"requests": self.requests}
