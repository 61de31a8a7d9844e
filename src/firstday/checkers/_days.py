"""Days to check a family on, and running one agent over a day in process."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from typing import Any

from firstday.agents import Agent, AgentContext, make_agent
from firstday.env import DayEnv, EnvConfig, EpisodeResult, events_of, run_episode
from firstday.env.trace import ObservationEvent, ToolCallEvent, ToolResultEvent
from firstday.scoring import TaskScore
from firstday.seeding import derive_seed, make_rng
from firstday.suites import Day, Scenario, SuiteSpec, generate_day
from firstday.tasks import Family, dependent_meta_tasks, meta_tasks
from firstday.world import Company, generate_company

MetaTask = tuple[str, str, str]

# the spec of the single-task days: a team meeting and follow-ups as in real days, one task
SINGLE_TASK_SPEC = SuiteSpec(name="single-task", scenarios=1)
# the root label the days' seeds derive from (kept from when these checks lived in tests/, so the
# instances the invariant tests exercise did not change)
ROOT_LABEL = "tests"


def family_meta_tasks(family: Family) -> list[MetaTask]:
    """Every (family, variant, difficulty) of ``family``."""
    return [(family.name, variant, difficulty) for variant, difficulty in meta_tasks(family)]


def family_dependent_meta_tasks(family: Family) -> list[MetaTask]:
    """Every dependent (family, variant, difficulty) of ``family``: a task that builds on an earlier task of the
    family (docs/families.md, "Dependent tasks"). A day asked for one holds two tasks, the earlier one first."""
    return [(family.name, variant, difficulty) for variant, difficulty in dependent_meta_tasks(family)]


def meta_id(meta: MetaTask) -> str:
    return "/".join(meta)


def seeded_company(*labels: object) -> Company:
    return generate_company(make_rng(ROOT_LABEL, *labels, "company"))


def single_task_day(meta: MetaTask, seed: int, label: str = "single") -> tuple[Scenario, Day]:
    """A day holding exactly one instance of ``meta`` (plus the usual team meeting), in a seeded company;
    the day holds no task if the day generator dropped it (it did not fit the day)."""
    company = seeded_company(label, seed)
    scenario_seed = derive_seed(ROOT_LABEL, label, seed)
    day, _ = generate_day(company, SINGLE_TASK_SPEC, scenario_seed, 0, meta=[meta])  # type: ignore[list-item]
    scenario = Scenario(scenario_id=f"{label}-{seed}", seed=scenario_seed, company=company, days=[day])
    return scenario, day


def run_day(agent: str | Agent, scenario: Scenario, day: Day, config: EnvConfig | None = None, seed: int = 0,
            *, env: DayEnv | None = None, loop: asyncio.AbstractEventLoop | None = None) -> EpisodeResult:
    """Run one episode in process (on ``loop``, else a new event loop) and return its result, trace included."""
    if isinstance(agent, str):
        agent = make_agent(agent, AgentContext(scenario=scenario, day=day, seed=seed))
    episode = run_episode(env if env is not None else DayEnv(scenario, day, config), agent)
    if loop is not None:
        return loop.run_until_complete(episode)
    box: list[EpisodeResult] = []

    async def main() -> None:
        # the result is not the main task's: asyncio.run formats that one's repr (the whole trace) on exit
        box.append(await episode)

    asyncio.run(main())
    return box[0]


def failing_checkpoints(task: TaskScore) -> list[str]:
    return [f"{c.cp_id}: passed={c.passed} late={c.passed_late} error={c.error} feedback={c.feedback!r}"
            for c in task.checkpoints if not c.passed]


def tool_errors(result: EpisodeResult) -> list[str]:
    """The failed tool calls of an episode, as 't=MIN name(arguments): message' lines."""
    calls = {e.data.id: e.data for e in events_of(result.trace, ToolCallEvent)}
    out = []
    for e in events_of(result.trace, ToolResultEvent):
        if not e.data.ok:
            call = calls.get(e.data.id)
            args = json.dumps(call.arguments if call is not None else None, default=str)[:200]
            out.append(f"t={e.data.started} {e.data.name}({args}): {e.data.content[:300]}")
    return out


def describe_episode(result: EpisodeResult, day: Day) -> str:
    """A compact failure report: status, every imperfect task with its failing checkpoints, tool errors."""
    lines = [f"scenario {result.scenario_id} day {result.day_index}: status={result.status} error={result.error}",
             f"metrics: {result.score.metrics.model_dump()}"]
    by_id = {t.task_id: t for t in day.tasks}
    for ts in result.score.tasks:
        if ts.score != 1.0 or not ts.success:
            inst = by_id[ts.task_id]
            lines.append(f"  task {ts.task_id} {ts.meta_task} arrival={inst.arrival} deadline={inst.deadline} "
                         f"score={ts.score} submitted_at={ts.submitted_at} error={ts.error}")
            lines += [f"    {x}" for x in failing_checkpoints(ts)]
    errs = tool_errors(result)
    if errs:
        lines.append("  failed tool calls:")
        lines += [f"    {x}" for x in errs[:10]]
    return "\n".join(lines)


def agent_visible_texts(result: EpisodeResult) -> list[tuple[int, str]]:
    """Every text an agent was shown during an episode, with its virtual time, in trace order."""
    out: list[tuple[int, str]] = []
    for e in result.trace:
        if isinstance(e, ToolResultEvent):
            out.append((e.data.ended, e.data.content))
        elif isinstance(e, ObservationEvent):
            out += [(n.time, n.text) for n in e.data.notifications]
    return out


def string_values(value: Any) -> Iterable[str]:
    """Every string (and number, as text) inside a JSON-like value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int | float):
        yield str(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from string_values(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from string_values(v)
