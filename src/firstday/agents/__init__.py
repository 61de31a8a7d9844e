"""Agents: the protocol, the registry and the built-in agents."""

from firstday.agents.base import AgentContext, agent_names, make_agent, register_agent
from firstday.env.loop import Agent

__all__ = ["Agent", "AgentContext", "agent_names", "make_agent", "register_agent"]
