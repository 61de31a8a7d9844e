"""firstday: evaluate LLM agents as trainees on their first days in a procedurally generated workplace.

The public API. Generate a suite, run an agent over it, read the leaderboard::

    import firstday

    firstday.write_suite(firstday.preset("smoke"), "suites/smoke")
    summary = firstday.run_suite("suites/smoke", "heuristic", "runs/heuristic")
    report = firstday.build_report([summary.out_dir])

Write an agent against :class:`Agent` (docs/agents.md) and register it with :func:`register_agent`; write a
task family against :class:`Family` (docs/families.md) and register it with :func:`register_family`.

The names below are imported on first use: ``import firstday`` itself loads nothing heavy (numpy, pandas,
pydantic models, the task library), so the command line and plug-ins that only need one name start fast.
"""

# no ``from typing import TYPE_CHECKING``, ``from __future__ import annotations`` or ``import importlib``: each
# would cost more than the rest of ``import firstday``
TYPE_CHECKING = False
if TYPE_CHECKING:  # the same names as _LAZY, for type checkers and editors
    from typing import Any

    from firstday.agents import AgentContext, PublicContext, agent_names, make_agent, register_agent
    from firstday.env import Briefing, DayEnv, EnvConfig, EpisodeResult, Observation, run_episode
    from firstday.env.loop import Agent
    from firstday.errors import ConfigError, FirstdayError, UnknownNameError
    from firstday.models import UsageLedger, usage_scope
    from firstday.report import Report, build_report, render_report
    from firstday.run import RunLimits, RunSummary, run_suite, run_suite_async
    from firstday.suites import Day, Scenario, Suite, SuiteSpec, generate_suite, load_suite, preset, write_suite
    from firstday.tasks import Family, GenContext, TaskInstance, families
    from firstday.tasks import register as register_family
    from firstday.world.tools import ToolCall, ToolResult

#: public name -> (module, attribute there)
_LAZY: dict[str, tuple[str, str]] = {
    # suites: specs, generation, the on-disk format
    "SuiteSpec": ("firstday.suites", "SuiteSpec"),
    "preset": ("firstday.suites", "preset"),
    "generate_suite": ("firstday.suites", "generate_suite"),
    "write_suite": ("firstday.suites", "write_suite"),
    "load_suite": ("firstday.suites", "load_suite"),
    "Suite": ("firstday.suites", "Suite"),
    "Scenario": ("firstday.suites", "Scenario"),
    "Day": ("firstday.suites", "Day"),
    # running agents: over a suite (saved, resumable), or one day in memory
    "run_suite": ("firstday.run", "run_suite"),
    "run_suite_async": ("firstday.run", "run_suite_async"),
    "RunSummary": ("firstday.run", "RunSummary"),
    "RunLimits": ("firstday.run", "RunLimits"),
    "EnvConfig": ("firstday.env", "EnvConfig"),
    "DayEnv": ("firstday.env", "DayEnv"),
    "run_episode": ("firstday.env", "run_episode"),
    "EpisodeResult": ("firstday.env", "EpisodeResult"),
    # writing an agent
    "Agent": ("firstday.env.loop", "Agent"),
    "AgentContext": ("firstday.agents", "AgentContext"),
    "PublicContext": ("firstday.agents", "PublicContext"),
    "Briefing": ("firstday.env", "Briefing"),
    "Observation": ("firstday.env", "Observation"),
    "ToolCall": ("firstday.world.tools", "ToolCall"),
    "ToolResult": ("firstday.world.tools", "ToolResult"),
    "register_agent": ("firstday.agents", "register_agent"),
    "make_agent": ("firstday.agents", "make_agent"),
    "agent_names": ("firstday.agents", "agent_names"),
    # writing a task family
    "Family": ("firstday.tasks", "Family"),
    "GenContext": ("firstday.tasks", "GenContext"),
    "TaskInstance": ("firstday.tasks", "TaskInstance"),
    "register_family": ("firstday.tasks", "register"),
    "families": ("firstday.tasks", "families"),
    # the report (leaderboard) over run folders
    "build_report": ("firstday.report", "build_report"),
    "render_report": ("firstday.report", "render_report"),
    "Report": ("firstday.report", "Report"),
    # model usage (calls, tokens, cost) by role, counted per scope (docs/running.md, "Model usage")
    "UsageLedger": ("firstday.models", "UsageLedger"),
    "usage_scope": ("firstday.models", "usage_scope"),
    # errors a user can cause (each says how to fix it)
    "FirstdayError": ("firstday.errors", "FirstdayError"),
    "ConfigError": ("firstday.errors", "ConfigError"),
    "UnknownNameError": ("firstday.errors", "UnknownNameError"),
}

__all__ = [  # the names of _LAZY (a test checks the three lists agree)
    "Agent", "AgentContext", "Briefing", "ConfigError", "Day", "DayEnv", "EnvConfig", "EpisodeResult", "Family",
    "FirstdayError", "GenContext", "Observation", "PublicContext", "Report", "RunLimits", "RunSummary", "Scenario",
    "Suite", "SuiteSpec", "TaskInstance", "ToolCall", "ToolResult", "UnknownNameError", "UsageLedger", "__version__",
    "agent_names", "build_report", "families", "generate_suite", "load_suite", "make_agent", "preset",
    "register_agent", "register_family", "render_report", "run_episode", "run_suite", "run_suite_async",
    "usage_scope", "write_suite",
]


def __getattr__(name: str) -> "Any":
    if name == "__version__":
        from firstday._version import package_version

        return package_version()
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'firstday' has no attribute {name!r}")
    module, attribute = target
    value = getattr(__import__(module, fromlist=[attribute]), attribute)
    globals()[name] = value  # imported once: later lookups do not come here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
