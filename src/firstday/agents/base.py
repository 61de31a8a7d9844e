"""The agent registry. Agents are built per episode from an :class:`AgentContext`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from firstday.env.loop import Agent
from firstday.errors import UnknownNameError
from firstday.suites.spec import Day, Scenario


@dataclass
class AgentContext:
    """Handed to an agent factory. ``scenario`` and ``day`` hold hidden data: only the oracle may read them."""

    scenario: Scenario
    day: Day
    options: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    memory: bool = False  # the run carries memory across days: the agent's reflect() step will be called


AgentFactory = Callable[[AgentContext], Agent]
_AGENTS: dict[str, tuple[AgentFactory, str]] = {}


def register_agent(name: str, description: str) -> Callable[[AgentFactory], AgentFactory]:
    def deco(factory: AgentFactory) -> AgentFactory:
        _AGENTS[name] = (factory, description)
        return factory

    return deco


def agent_names() -> dict[str, str]:
    # imported to register: the test adversary (which imports the built-ins, not back) and the built-ins
    import firstday.agents.adversaries
    import firstday.agents.builtin  # noqa: F401

    return {k: v[1] for k, v in sorted(_AGENTS.items())}


def make_agent(name: str, ctx: AgentContext) -> Agent:
    agent_names()
    if name not in _AGENTS:
        raise UnknownNameError("agent", name, list(_AGENTS))
    return _AGENTS[name][0](ctx)
