"""The agent protocol and the loop that runs one agent through one episode."""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel

from firstday.env.episode import Briefing, DayEnv, Observation
from firstday.env.trace import TraceEvent
from firstday.jsonsafe import exception_text, safe_text, traceback_text, type_name
from firstday.scoring.cards import DayScore
from firstday.world.tools import ToolCall


@runtime_checkable
class Agent(Protocol):
    """What an agent implements. Notifications and tool results come in; tool calls go out.

    ``act`` returning an empty list means "nothing to do now": the environment lets time pass until
    the next event. Raising an exception ends the episode as an *error* (not a zero score), and so
    does returning anything but a list of :class:`ToolCall` (``AgentOutputError``). Each call is
    admitted where it enters (``DayEnv.step``): strings are made safe for UTF-8 JSON and arguments
    that are not plain JSON are refused as a tool error (docs/invariants.md, "Robust at the boundary").
    An agent may also define ``trace_info() -> dict`` (e.g. its model and system prompt): it is
    recorded under ``"agent"`` in the trace's briefing event, and again (usage) in its end event.
    For continual learning it may define ``reflect(feedback: MentorFeedback) -> list[Lesson | str]``
    (plain or async), called after each day of a run with memory (docs/learning.md).
    """

    name: str

    async def reset(self, briefing: Briefing) -> None: ...

    async def act(self, observation: Observation) -> list[ToolCall]: ...


class EpisodeResult(BaseModel):
    scenario_id: str
    day_index: int
    agent: str
    status: Literal["ok", "error"]
    error: str | None = None
    turns: int
    score: DayScore
    trace: list[TraceEvent]


def agent_name(agent: object, fallback: str) -> str:
    """The agent's own ``name``, safe to save; ``fallback`` if it has none or it is not a string."""
    try:
        name = agent.name  # type: ignore[attr-defined]
    except Exception:
        return fallback
    return safe_text(name) if isinstance(name, str) else fallback


def record_agent_info(env: DayEnv, agent: Agent, index: int) -> None:
    """Put ``agent.trace_info()`` (if the agent has it) into the trace event at ``index`` (0: briefing, -1: end)."""
    try:
        info = getattr(agent, "trace_info", None)
        if callable(info) and env.trace:
            env.record_agent_info(index, info())
    except Exception as exc:  # describing the agent must never cost the episode
        if env.trace:
            env.record_agent_info(index, {"error": exception_text(exc)})


async def run_episode(env: DayEnv, agent: Agent) -> EpisodeResult:
    status: Literal["ok", "error"] = "ok"
    error = None
    try:
        await agent.reset(env.briefing())
        obs = env.reset()
        record_agent_info(env, agent, 0)
        while not obs.done:
            calls = await agent.act(await env.settle(obs))
            obs = env.step(calls)  # anything but a list of tool calls raises AgentOutputError
        await agent.act(await env.settle(obs))  # let the agent see the final observation (end of day)
    except Exception as exc:
        status, error = "error", exception_text(exc)
        env.record_agent_error(error + "\n" + traceback_text())
    await env.aclose()
    card = env.score()
    record_agent_info(env, agent, -1)
    return EpisodeResult(scenario_id=env.scenario.scenario_id, day_index=env.day.day_index,
                         agent=agent_name(agent, type_name(agent)),
                         status=status, error=error, turns=env.turns, score=card, trace=env.trace)
