"""Shared helpers for the invariant tests (DESIGN.md §6) and the world unit tests.

Everything family-related is generic over ``firstday.tasks.families()`` so newly registered families are
covered without touching the tests. The day builders and episode helpers are the library's checkers
(:mod:`firstday.checkers`), re-exported here; helpers are plain functions (no hidden state) so tests stay
``pytest -n auto`` friendly.
"""

from __future__ import annotations

import asyncio
import atexit
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from firstday.agents import Agent
from firstday.checkers import (
    SINGLE_TASK_SPEC,
    MetaTask,
    agent_visible_texts,
    describe_episode,
    failing_checkpoints,
    family_meta_tasks,
    meta_id,
    run_day,
    seeded_company,
    single_task_day,
    string_values,
    tool_errors,
)
from firstday.env import EnvConfig, EpisodeResult
from firstday.suites import Day, Scenario, generate_suite, preset, save_suite
from firstday.tasks import dependent_meta_tasks, families

if TYPE_CHECKING:
    from llm_server import LLMServer

__all__ = [  # the library's helpers the test modules import from here
    "SINGLE_TASK_SPEC", "MetaTask", "agent_visible_texts", "describe_episode", "failing_checkpoints", "meta_id",
    "seeded_company", "single_task_day", "string_values", "tool_errors",
]


def all_meta_tasks() -> list[MetaTask]:
    """Every (family, variant, difficulty) of every registered family, in a stable order."""
    return [meta for fam in families().values() for meta in family_meta_tasks(fam)]


def all_dependent_meta_tasks() -> list[MetaTask]:
    """Every dependent (family, variant, difficulty): a task that builds on an earlier task of its family. A day
    asked for one alone holds two tasks, the earlier one placed first by the generator."""
    return [(name, variant, difficulty) for name, fam in families().items()
            for variant, difficulty in dependent_meta_tasks(fam)]


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
    """Run one episode in-process (on this process's event loop) and return its result (trace included)."""
    return run_day(agent, scenario, day, config, seed, loop=event_loop())


_LOOP: list[asyncio.AbstractEventLoop] = []


def event_loop() -> asyncio.AbstractEventLoop:
    """One event loop per test process: ``asyncio.run`` per episode costs more than a small episode
    (it repr()s the finished task, trace included, when it restores the SIGINT handler)."""
    if not _LOOP or _LOOP[0].is_closed():
        _LOOP[:] = [asyncio.new_event_loop()]
        atexit.register(_LOOP[0].close)
    return _LOOP[0]


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
