"""Agents: the protocol, the registry and the built-in agents."""

from firstday.agents.base import (
    AgentContext,
    AgentSpec,
    PublicContext,
    agent_names,
    agent_privileges,
    make_agent,
    register_agent,
    resolve_agent,
)
from firstday.env.loop import Agent

__all__ = ["Agent", "AgentContext", "AgentSpec", "PublicContext", "agent_names", "agent_privileges", "make_agent",
           "register_agent", "resolve_agent"]
