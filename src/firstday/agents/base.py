"""The agent registry. Agents are built per episode from an :class:`AgentContext`.

A name maps to a factory (``AgentContext -> Agent``) given as a ``"module:attribute"`` string, imported the
first time the agent is made, so listing the agents or importing this package imports none of them (and no
model SDK). Three sources, in this order of precedence: :func:`register_agent` in the running process, the
``firstday.agents`` entry point group of installed packages (``name = "package.module:factory"``), and the
agents that ship with firstday (:data:`BUILTIN_AGENTS`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from firstday._plugins import entry_point_targets, load_object
from firstday.env.loop import Agent
from firstday.errors import UnknownNameError, plugin_hint
from firstday.suites.spec import Day, Scenario

ENTRY_POINT_GROUP = "firstday.agents"


@dataclass
class AgentContext:
    """Handed to an agent factory. ``scenario`` and ``day`` hold hidden data: only the oracle may read them."""

    scenario: Scenario
    day: Day
    options: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    memory: bool = False  # the run carries memory across days: the agent's reflect() step will be called


AgentFactory = Callable[[AgentContext], Agent]

#: the agents that ship with firstday: name -> (factory as "module:attribute", description)
BUILTIN_AGENTS: dict[str, tuple[str, str]] = {
    "oracle": ("firstday.agents.builtin:OracleAgent",
               "replays each task's oracle plan through the public tools (upper bound)"),
    "oracle-fifo": ("firstday.agents.builtin:FifoOracleAgent",
                    "the oracle's plans in arrival order, without pre-emption (privileged)"),
    "heuristic": ("firstday.agents.builtin:HeuristicAgent",
                  "non-privileged baseline: reads manuals, asks named colleagues, best effort"),
    "heuristic-fifo": ("firstday.agents.builtin:FifoHeuristicAgent",
                       "the heuristic's competence, tasks in arrival order without pre-emption"),
    "guess": ("firstday.agents.builtin:GuessAgent", "answers immediately without exploring (a hallucination probe)"),
    "noop": ("firstday.agents.builtin:NoopAgent", "does nothing all day (lower bound)"),
    "heuristic-learning": ("firstday.agents.learning:LearningHeuristicAgent",
                           "the heuristic baseline plus a rule-based reflection that turns mentor feedback into "
                           "lessons"),
    "llm": ("firstday.agents.llm:LLMAgent",
            "an LLM with native tool calling (--model openai/<model> | litellm/<model> | hf/<path>)"),
    "react": ("firstday.agents.react:ReActAgent",
              "an LLM without native tool calling: tools in the prompt, 'Action: tool {json}' parsed"),
    "spray": ("firstday.agents.adversaries:SprayAgent",
              "test adversary (privileged): explores like the oracle, then acts on every plausible target; must "
              "score about zero"),
    "agent-cmd": ("firstday.serve.command:CommandAgent",
                  "an external command played over MCP, one process per episode (firstday run --agent-cmd CMD)"),
    "sim-oracle": ("firstday.run.simulated:SimulatedModelAgent",
                   "the oracle's calls after a simulated model latency (option latency_s; benchmarks)"),
}

#: agents registered in this process: name -> (factory, or "module:attribute" not imported yet; description)
_AGENTS: dict[str, tuple[AgentFactory | str, str]] = {}
_PLUGINS: dict[str, tuple[str, str]] | None = None  # the entry point group, read once
_LOADED: dict[str, AgentFactory] = {}  # "module:attribute" -> the factory, once imported


def register_agent(name: str, description: str) -> Callable[[AgentFactory], AgentFactory]:
    """Register ``factory`` under ``name`` in this process (a decorator; the factory may be a class)."""

    def deco(factory: AgentFactory) -> AgentFactory:
        _AGENTS[name] = (factory, description)
        return factory

    return deco


def _plugins() -> dict[str, tuple[str, str]]:
    global _PLUGINS
    if _PLUGINS is None:
        _PLUGINS = {e.name: (e.target, f"plug-in from {e.package} ({e.target})")
                    for e in entry_point_targets(ENTRY_POINT_GROUP).values()}
    return _PLUGINS


def _entries() -> dict[str, tuple[AgentFactory | str, str]]:
    return {**BUILTIN_AGENTS, **_plugins(), **_AGENTS}


def agent_names() -> dict[str, str]:
    """Every agent name with its description, sorted by name. Imports none of them."""
    return {name: entry[1] for name, entry in sorted(_entries().items())}


def make_agent(name: str, ctx: AgentContext) -> Agent:
    """A new agent ``name`` for the episode ``ctx`` describes (its factory is imported on first use)."""
    entries = _entries()
    if name not in entries:
        raise UnknownNameError("agent", name, list(entries), plugin_hint(
            "agent", ENTRY_POINT_GROUP, 'firstday.register_agent("NAME", "description")(factory)'))
    factory = entries[name][0]
    if isinstance(factory, str):
        loaded = _LOADED.get(factory)
        if loaded is None:
            loaded = _LOADED[factory] = load_object(factory)
        factory = loaded
    return factory(ctx)
