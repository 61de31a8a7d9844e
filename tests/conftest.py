"""Shared helpers for the invariant tests (DESIGN.md §6) and the world unit tests.

Everything family-related is generic over ``firstday.tasks.families()`` so newly registered families are
covered without touching the tests. Helpers are plain functions (no hidden state) so tests stay
``pytest -n auto`` friendly.
"""

from __future__ import annotations

import asyncio
import atexit
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from firstday.agents import Agent, AgentContext, make_agent
from firstday.env import DayEnv, EnvConfig, EpisodeResult, run_episode
from firstday.scoring import TaskScore
from firstday.seeding import derive_seed, make_rng
from firstday.suites import Day, Scenario, SuiteSpec, generate_day, generate_suite, preset, save_suite
from firstday.tasks import dependent_meta_tasks, families, meta_tasks
from firstday.world import Company, generate_company

if TYPE_CHECKING:
    from llm_server import LLMServer

MetaTask = tuple[str, str, str]

# the spec of the single-task days: a team meeting and follow-ups as in real days, one task
SINGLE_TASK_SPEC = SuiteSpec(name="single-task", scenarios=1)


def all_meta_tasks() -> list[MetaTask]:
    """Every (family, variant, difficulty) of every registered family, in a stable order."""
    return [(name, variant, difficulty) for name, fam in families().items() for variant, difficulty in meta_tasks(fam)]


def all_dependent_meta_tasks() -> list[MetaTask]:
    """Every dependent (family, variant, difficulty): a task that builds on an earlier task of its family. A day
    asked for one alone holds two tasks, the earlier one placed first by the generator."""
    return [(name, variant, difficulty) for name, fam in families().items()
            for variant, difficulty in dependent_meta_tasks(fam)]


def meta_id(meta: MetaTask) -> str:
    return "/".join(meta)


def seeded_company(*labels: object) -> Company:
    return generate_company(make_rng("tests", *labels, "company"))


def single_task_day(meta: MetaTask, seed: int, label: str = "single") -> tuple[Scenario, Day]:
    """A day holding exactly one instance of ``meta`` (plus the usual team meeting), in a seeded company."""
    company = seeded_company(label, seed)
    scenario_seed = derive_seed("tests", label, seed)
    day, _ = generate_day(company, SINGLE_TASK_SPEC, scenario_seed, 0, meta=[meta])  # type: ignore[list-item]
    scenario = Scenario(scenario_id=f"{label}-{seed}", seed=scenario_seed, company=company, days=[day])
    return scenario, day


def preset_days(name: str, seed: int, scenarios: int | None = None) -> list[tuple[Scenario, Day]]:
    """Every (scenario, day) of a preset suite (optionally with fewer scenarios)."""
    spec = preset(name, seed=seed)
    if scenarios is not None:
        spec = spec.model_copy(update={"scenarios": scenarios})
    return [(s, d) for s in generate_suite(spec) for d in s.days]


def saved_suite(folder: Path, name: str = "smoke", seed: int = 0, scenarios: int | None = None) -> Path:
    """A preset suite (optionally with fewer scenarios) generated and saved in ``folder``, for runs."""
    spec = preset(name, seed=seed)
    if scenarios is not None:
        spec = spec.model_copy(update={"scenarios": scenarios})
    save_suite(spec, generate_suite(spec), folder)
    return folder


def run_agent(agent: str | Agent, scenario: Scenario, day: Day, config: EnvConfig | None = None,
              seed: int = 0) -> EpisodeResult:
    """Run one episode in-process and return its result (trace included)."""
    if isinstance(agent, str):
        agent = make_agent(agent, AgentContext(scenario=scenario, day=day, seed=seed))
    return event_loop().run_until_complete(run_episode(DayEnv(scenario, day, config), agent))


_LOOP: list[asyncio.AbstractEventLoop] = []


def event_loop() -> asyncio.AbstractEventLoop:
    """One event loop per test process: ``asyncio.run`` per episode costs more than a small episode
    (it repr()s the finished task, trace included, when it restores the SIGINT handler)."""
    if not _LOOP or _LOOP[0].is_closed():
        _LOOP[:] = [asyncio.new_event_loop()]
        atexit.register(_LOOP[0].close)
    return _LOOP[0]


def failing_checkpoints(task: TaskScore) -> list[str]:
    return [f"{c.cp_id}: passed={c.passed} late={c.passed_late} error={c.error} feedback={c.feedback!r}"
            for c in task.checkpoints if not c.passed]


def tool_errors(result: EpisodeResult) -> list[str]:
    """The failed tool calls of an episode, as 'HH:MM name: message' lines."""
    calls = {e.data["id"]: e.data for e in result.trace if e.type == "tool_call"}
    out = []
    for e in result.trace:
        if e.type == "tool_result" and not e.data["ok"]:
            args = json.dumps(calls.get(e.data["id"], {}).get("arguments"), default=str)[:200]
            out.append(f"t={e.data['started']} {e.data['name']}({args}): {e.data['content'][:300]}")
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
        if e.type == "tool_result":
            out.append((e.data["ended"], e.data["content"]))
        elif e.type == "observation":
            out += [(n["time"], n["text"]) for n in e.data["notifications"]]
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


@pytest.fixture(scope="module")
def server() -> Iterator[LLMServer]:
    """The loopback OpenAI-compatible server of ``llm_server.py`` on 127.0.0.1, one per test module
    that asks for it (imported here only then: it brings in FastAPI and uvicorn)."""
    from llm_server import LLMServer

    srv = LLMServer().start()
    yield srv
    srv.stop()


@pytest.fixture
def openai_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """For the model-path tests: a dummy API key, no base URL inherited from the caller's environment,
    and no provider cached from another test."""
    from firstday.models import clear_providers

    monkeypatch.setenv("OPENAI_API_KEY", "dummy")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    clear_providers()
