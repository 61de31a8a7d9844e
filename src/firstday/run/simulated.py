"""``sim-oracle``: a simulated model agent, for benchmarks and tests of the runner.

It answers with the oracle's calls, each after a fixed latency spent in ``asyncio.sleep`` (like a
model API call: no CPU while waiting), so its scores are the oracle's and its wall time is that of a
model with that latency. Options (``-O KEY=VALUE``):

* ``latency_s`` (default 0.05): seconds per agent step;
* ``hang_at_step`` (default none): at this step (1-based) it never answers, like a hung model API
  (to exercise ``act_timeout_s``);
* ``exit_at_step`` (default none): at this step the whole process exits at once (``os._exit(3)``), like
  a process killed by the out-of-memory killer (to exercise the process executor's recovery); with
  ``exit_flag=PATH`` only the first episode to create that file does so.

It implements the optional usage protocol (``usage()``), reporting one request per step.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from firstday.agents.base import AgentContext, register_agent
from firstday.agents.builtin import OracleAgent
from firstday.env.episode import Briefing, Observation
from firstday.world.tools import ToolCall


class SimulatedModelAgent:
    name = "sim-oracle"

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
            await asyncio.sleep(self.latency_s)
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


@register_agent("sim-oracle", "the oracle's calls after a simulated model latency (option latency_s; benchmarks)")
def _sim_oracle(ctx: AgentContext) -> SimulatedModelAgent:
    return SimulatedModelAgent(ctx)
