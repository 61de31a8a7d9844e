"""The agent registry, and what an agent is built from.

An agent is built per episode by a *factory* (``context -> Agent``; a class whose constructor takes the context
is one). A factory receives a :class:`PublicContext` (the briefing, the company directory, the options and the
seed: nothing of the day's hidden side), unless it declares itself *privileged* (``privileged = True`` on the
factory, or ``register_agent(..., privileged=True)``): then it receives the full :class:`AgentContext`, whose
``scenario`` and ``day`` hold the answers and the plans. Runs of a privileged agent are marked as such
(``RunManifest.privileged``, the report). See docs/agents.md, "Privileged agents".

An agent is named in one of two ways:

* a registered name. Three sources, in this order of precedence: :func:`register_agent` in the running process,
  the ``firstday.agents`` entry point group of installed packages (``name = "package.module:factory"``), and
  the agents that ship with firstday (:data:`BUILTIN_AGENTS`). A name maps to a factory given as a
  ``"module:attribute"`` string, imported the first time the agent is made, so listing the agents or importing
  this package imports none of them (and no model SDK);
* a ``"module:attribute"`` string naming the factory itself (``--agent my_agents.readers:ReadEverything``).

:func:`resolve_agent` turns either into an :class:`AgentSpec`: the factory imported once, its privilege, and
the ``"module:attribute"`` a worker process or a Ray actor imports to build the same agent.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from firstday._plugins import entry_point_targets, load_object
from firstday.caching import IdentityCache
from firstday.env.episode import Briefing
from firstday.env.loop import Agent
from firstday.errors import ConfigError, UnknownNameError, plugin_hint
from firstday.suites.spec import Day, Scenario
from firstday.world.company import Company

ENTRY_POINT_GROUP = "firstday.agents"


@dataclass
class AgentContext:
    """Everything about one episode an agent could be built from, hidden data included: ``scenario`` and ``day``
    hold the answers and the oracle's plans. Only a privileged factory receives it; :func:`make_agent` hands every
    other factory :meth:`public` instead."""

    scenario: Scenario
    day: Day
    options: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    memory: bool = False  # the run carries memory across days: the agent's reflect() step will be called
    briefing: Briefing | None = None  # the briefing reset() will get (set by the runner)

    def public(self) -> PublicContext:
        """What a non-privileged factory receives: nothing of the day's hidden side."""
        return PublicContext(scenario_id=self.scenario.scenario_id, day_index=self.day.day_index,
                             day_start=self.day.day_start, day_end=self.day.day_end,
                             company=public_directory(self.scenario.company), options=dict(self.options),
                             seed=self.seed, memory=self.memory, briefing=self.briefing)


@dataclass(frozen=True)
class PublicContext:
    """Handed to a non-privileged agent factory: what the trainee knows before the day starts.

    ``company`` is the directory the tools show (``list_colleagues``, ``lookup_colleague``: departments,
    colleagues with their roles, managers, personas and hours, rooms), without what no tool shows (how long each
    colleague takes to reply: 0 here). ``briefing`` is the briefing ``reset`` will get (None when an agent is
    built outside a run). ``options`` are the ``--option KEY=VALUE`` pairs, ``seed`` the agent's seed, ``memory``
    whether the run carries memory across days. The day's tasks arrive as notifications, as they do for a trainee.
    """

    scenario_id: str
    day_index: int
    day_start: int  # minute of the day
    day_end: int
    company: Company
    options: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    memory: bool = False
    briefing: Briefing | None = None

    def __getattr__(self, name: str) -> Any:  # only for names the context does not have
        if name in ("scenario", "day"):
            raise AttributeError(
                f"PublicContext has no {name!r}: the scenario and the day hold the answers, and only a privileged "
                "agent receives them (declare the factory with privileged = True, and its runs are marked as "
                "privileged; docs/agents.md, 'Privileged agents')")
        raise AttributeError(f"PublicContext has no attribute {name!r}")


def _directory(company: Company) -> Company:
    def public(e: Any) -> Any:
        return e.model_copy(update={"reply_delay": 0})

    return company.model_copy(update={"employees": [public(e) for e in company.employees],
                                      "trainee": public(company.trainee)})


_directories: IdentityCache[Company, Company] = IdentityCache()


def public_directory(company: Company) -> Company:
    """The company as the tools show it (every colleague's reply delay 0: no tool shows it). Cached per company
    (the episodes of a scenario share one), so it must not be changed in place."""
    return _directories.get(company, _directory)


AgentFactory = Callable[[Any], Agent]  # PublicContext -> Agent, or AgentContext -> Agent for a privileged one

#: the agent of ``firstday run --agent-cmd``: an external command played over MCP (firstday.serve.command)
COMMAND_AGENT = "agent-cmd"

#: the agents that ship with firstday: name -> (factory as "module:attribute", description)
BUILTIN_AGENTS: dict[str, tuple[str, str]] = {
    "oracle": ("firstday.agents.builtin:OracleAgent",
               "replays each task's oracle plan through the public tools (upper bound)"),
    "oracle-fifo": ("firstday.agents.builtin:FifoOracleAgent",
                    "the oracle's plans in arrival order, without pre-emption"),
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
              "test adversary: explores like the oracle, then acts on every plausible target; must "
              "score about zero"),
    COMMAND_AGENT: ("firstday.serve.command:CommandAgent",
                  "an external command played over MCP, one process per episode (firstday run --agent-cmd CMD)"),
    "sim-oracle": ("firstday.run.simulated:SimulatedModelAgent",
                   "the oracle's calls after a simulated model latency (option latency_s; benchmarks)"),
}
#: the built-in agents whose factories declare ``privileged = True`` (known here without importing them; a test
#: checks it against the classes)
BUILTIN_PRIVILEGED = frozenset({"oracle", "oracle-fifo", "spray", "sim-oracle"})


@dataclass(frozen=True)
class _Registered:
    factory: AgentFactory | str  # or "module:attribute", not imported yet
    description: str
    privileged: bool | None = None  # None: as the factory declares (its ``privileged`` attribute)


#: agents registered in this process by name
_AGENTS: dict[str, _Registered] = {}
_PLUGINS: dict[str, tuple[str, str]] | None = None  # the entry point group, read once
_LOADED: dict[str, AgentFactory] = {}  # "module:attribute" -> the factory, once imported


def register_agent(name: str, description: str, *,
                   privileged: bool | None = None) -> Callable[[AgentFactory], AgentFactory]:
    """Register ``factory`` under ``name`` in this process (a decorator; the factory may be a class).

    ``privileged=True``: the factory receives the full :class:`AgentContext` (hidden data included) and runs of
    it are marked as privileged; the default is what the factory declares (``privileged = True`` on it), else
    not privileged. A worker process or a Ray actor builds the agent from the factory's ``module:qualified
    name``, so a factory defined at the top level of an importable module works on every executor; one it cannot
    import (a lambda, a function defined in a function or in ``__main__``) works with the local executor only.
    """

    def deco(factory: AgentFactory) -> AgentFactory:
        _AGENTS[name] = _Registered(factory, description, privileged)
        return factory

    return deco


def _plugins() -> dict[str, tuple[str, str]]:
    global _PLUGINS
    if _PLUGINS is None:
        _PLUGINS = {e.name: (e.target, f"plug-in from {e.package} ({e.target})")
                    for e in entry_point_targets(ENTRY_POINT_GROUP).values()}
    return _PLUGINS


def _entries() -> dict[str, _Registered]:
    builtins = {n: _Registered(t, d, n in BUILTIN_PRIVILEGED) for n, (t, d) in BUILTIN_AGENTS.items()}
    plugins = {n: _Registered(t, d) for n, (t, d) in _plugins().items()}
    return {**builtins, **plugins, **_AGENTS}


def agent_names() -> dict[str, str]:
    """Every agent name with its description, sorted by name. Imports none of them."""
    return {name: entry.description for name, entry in sorted(_entries().items())}


def agent_privileges() -> dict[str, bool | None]:
    """Every agent name with whether it is privileged (None: a plug-in, known once it is imported). Imports none."""
    def privileged(entry: _Registered) -> bool | None:
        if entry.privileged is not None:
            return entry.privileged
        return None if isinstance(entry.factory, str) else _declared(entry.factory)

    return {name: privileged(entry) for name, entry in sorted(_entries().items())}


def is_target(name: str) -> bool:
    """``name`` is a ``"module:attribute"`` string (an agent spec), not a registered name."""
    module, sep, attribute = name.partition(":")
    return bool(sep) and all(part.isidentifier() for part in (*module.split("."), *attribute.split(".")))


@dataclass(frozen=True)
class AgentSpec:
    """An agent resolved once in the process that plans a run, as plain data its workers can use.

    ``name`` is what the user gave (a registered name or ``"module:attribute"``; recorded in ``run.json``).
    ``target`` is the ``"module:attribute"`` a fresh interpreter imports to get the same factory (None: a factory
    registered in this process that cannot be imported by name: local executor only). ``import_root`` is the
    folder ``target``'s top-level module was imported from: a worker adds it to its ``sys.path`` if missing (so
    a module found through this process's path is found there too).
    """

    name: str
    target: str | None
    privileged: bool
    import_root: str | None = None


def _declared(factory: Any) -> bool:
    return getattr(factory, "privileged", False) is True


def _load(target: str, what: str) -> AgentFactory:
    """The factory ``target`` names, imported now; a failure is a :class:`ConfigError` that says what to check."""
    loaded = _LOADED.get(target)
    if loaded is not None:
        return loaded
    module = target.partition(":")[0]
    try:
        obj = load_object(target)
    except ModuleNotFoundError as exc:
        where = "is it installed, or on PYTHONPATH?" if exc.name == module.split(".")[0] else "a module it imports"
        raise ConfigError(f"{what}: cannot import {target!r}: {type(exc).__name__}: {exc} ({where})") from exc
    except AttributeError as exc:
        raise ConfigError(f"{what}: cannot import {target!r}: {exc}") from exc
    except Exception as exc:  # the module itself raised while being imported
        raise ConfigError(f"{what}: importing {target!r} failed: {type(exc).__name__}: {exc}") from exc
    if not callable(obj):
        raise ConfigError(f"{what}: {target!r} is a {type(obj).__name__}, not an agent factory (a class or function "
                          "taking the context)")
    factory: AgentFactory = obj
    _LOADED[target] = factory
    return factory


def _importable_target(factory: Any) -> str | None:
    """``"module:qualified.name"`` that imports ``factory`` itself in a fresh interpreter, or None."""
    module, qualname = getattr(factory, "__module__", None), getattr(factory, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str) or module == "__main__" or "<" in qualname:
        return None
    try:
        return f"{module}:{qualname}" if load_object(f"{module}:{qualname}") is factory else None
    except Exception:
        return None


def _import_root(target: str) -> str | None:
    """The folder the top-level module of ``target`` was imported from (it is imported already)."""
    top = sys.modules.get(target.partition(":")[0].split(".")[0])
    if top is None:
        return None
    file = getattr(top, "__file__", None)
    if isinstance(file, str):
        folder = os.path.dirname(os.path.abspath(file))
        return os.path.dirname(folder) if hasattr(top, "__path__") else folder  # a package: the folder above it
    locations = list(getattr(top, "__path__", []))  # a namespace package
    return os.path.dirname(os.path.abspath(locations[0])) if locations else None


def resolve_agent(name: str) -> AgentSpec:
    """The agent ``name`` names (registered, or ``"module:attribute"``), its factory imported now: an unknown name
    or a factory that cannot be imported raises a :class:`ConfigError` before anything runs."""
    entry = _entries().get(name)
    if entry is None:
        if not is_target(name):
            raise UnknownNameError("agent", name, list(_entries()), plugin_hint(
                "agent", ENTRY_POINT_GROUP, 'firstday.register_agent("NAME", "description")(factory)')
                + "; or name the factory itself as 'package.module:factory'")
        entry = _Registered(name, "")
    what = f"agent {name!r}"
    if isinstance(entry.factory, str):
        target: str | None = entry.factory
        factory = _load(entry.factory, what)
    else:
        factory = entry.factory
        target = _importable_target(factory)
    privileged = entry.privileged if entry.privileged is not None else _declared(factory)
    return AgentSpec(name, target, privileged, _import_root(target) if target else None)


def _factory_of(spec: AgentSpec) -> AgentFactory:
    """The factory of a spec resolved elsewhere (a worker): imported from its target, else found by name here."""
    if spec.target is None:
        entry = _entries().get(spec.name)
        if entry is None:
            raise ConfigError(f"agent {spec.name!r} was registered in the process that planned the run, which this "
                              "process is not, and its factory cannot be imported by name")
        return entry.factory if not isinstance(entry.factory, str) else _load(entry.factory, f"agent {spec.name!r}")
    if spec.import_root and spec.target not in _LOADED and spec.import_root not in sys.path:
        sys.path.append(spec.import_root)  # appended: never shadows what this process already finds
        importlib.invalidate_caches()
    return _load(spec.target, f"agent {spec.name!r}")


def agent_builder(agent: str | AgentSpec) -> Callable[[AgentContext], Agent]:
    """``ctx -> Agent`` for ``agent`` (a registered name, a ``"module:attribute"`` factory, or an
    :class:`AgentSpec`), its factory imported now: the factory receives ``ctx`` if it is privileged, else
    ``ctx.public()``."""
    spec = agent if isinstance(agent, AgentSpec) else resolve_agent(agent)
    factory = _factory_of(spec)
    if spec.privileged:
        return factory
    return lambda ctx: factory(ctx.public())


def make_agent(agent: str | AgentSpec, ctx: AgentContext) -> Agent:
    """A new agent for the episode ``ctx`` describes (see :func:`agent_builder`)."""
    return agent_builder(agent)(ctx)


def check_agent_options(agent: str | AgentSpec, options: dict[str, Any]) -> None:
    """Refuse, before anything runs, options the agent cannot work with (e.g. ``llm`` without a model): its
    factory's ``check_options(options)``, if it has one, raises a ConfigError."""
    spec = agent if isinstance(agent, AgentSpec) else resolve_agent(agent)
    check = getattr(_factory_of(spec), "check_options", None)
    if callable(check):
        check(dict(options))
