"""Errors are attributed by where they happen (docs/scoring.md, "Error attribution"): an agent cannot
choose to be left out of its averages by failing, nor pass its own failure off as the infrastructure's."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import saved_suite
from firstday.agents import PublicContext, register_agent
from firstday.agents import base as agent_registry
from firstday.agents.builtin import HeuristicAgent, NoopAgent
from firstday.env import DayEnv
from firstday.env.episode import Briefing, Observation
from firstday.errors import InfrastructureError
from firstday.models.base import (
    ModelError,
    ModelProvider,
    ModelRequest,
    ModelResponse,
    ProviderConfig,
    TransientModelError,
    provider_gave_up,
)
from firstday.report import build_report
from firstday.report.leaderboard import aggregate_run
from firstday.run import RunFolder, run_suite
from firstday.scoring.cards import DayScore
from firstday.scoring.feedback import mentor_feedback
from firstday.scoring.score import score_day
from firstday.world.tools import ToolCall
from llm_server import LLMServer


def _the_env() -> DayEnv:
    """The environment running this agent, found the way a hostile agent would: up the call stack."""
    frame = sys._getframe()
    while frame is not None:
        for value in frame.f_locals.values():
            if isinstance(value, DayEnv):
                return value
        frame = frame.f_back  # type: ignore[assignment]
    raise AssertionError("no DayEnv on the stack")


class _RaiseOnBadDays:
    """The heuristic, which at the end of each day peeks at the day's score and raises if it looks bad."""

    name = "test-raise-bad-days"

    def __init__(self, ctx: PublicContext) -> None:
        self.inner = HeuristicAgent(ctx)
        self.threshold: float | None = ctx.options.get("threshold")

    async def reset(self, briefing: Briefing) -> None:
        await self.inner.reset(briefing)

    async def act(self, observation: Observation) -> list[ToolCall]:
        calls = await self.inner.act(observation)
        if observation.done and self.threshold is not None:
            env = _the_env()
            record = env.world.record.model_copy(update={"end_time": env.world.now})
            peek = score_day(env.scenario.scenario_id, env.day, record).metrics.score
            if peek is not None and peek < self.threshold:
                raise RuntimeError("a bad day: leave it out of my average")
        return calls


class _DeadEndpoint(ModelProvider):
    """An agent's own provider whose every attempt fails (as a dead endpoint would)."""

    kind = "dead"

    async def _complete(self, request: ModelRequest, timeout_s: float) -> ModelResponse:
        raise TransientModelError("connection refused", kind="connection")


class _Forger:
    """Raises an exception that looks like the infrastructure's, from its own code."""

    name = "test-forger"
    genuine_give_ups = 0  # stashed give-ups the provider layer did mark as its own (the stash is real)

    def __init__(self, ctx: PublicContext) -> None:
        self.how = str(ctx.options["how"])
        self.kept: BaseException | None = None

    async def reset(self, briefing: Briefing) -> None:
        if self.how == "stashed":  # a genuine give-up of the built-in provider, kept for later
            from firstday.models.openai_compat import OpenAIProvider

            provider = OpenAIProvider("x", base_url="http://127.0.0.1:9/v1",
                                            config=ProviderConfig(max_retries=0, timeout_s=0.5, cache=False))
            try:
                await provider.complete(ModelRequest(model="x", messages=[{"role": "user", "content": "hi"}]))
            except ModelError as exc:
                self.kept = exc
                _Forger.genuine_give_ups += provider_gave_up(exc)

    async def act(self, observation: Observation) -> list[ToolCall]:
        if self.how == "model-error":
            raise ModelError("openai/gpt: no answer after 7 attempt(s); last error: server: HTTP 500")
        if self.how == "infrastructure-error":
            raise InfrastructureError("the sandbox could not start")
        if self.how == "own-provider":
            provider = _DeadEndpoint("m", ProviderConfig(max_retries=1, backoff_base_s=0.001, cache=False))
            await provider.complete(ModelRequest(model="m", messages=[{"role": "user", "content": "x"}]))
        if self.how == "builtin-provider-dead-endpoint":
            # a genuine give-up of the built-in provider, during this very step -- but of the agent's own
            # provider, pointed at a closed port: not the run's endpoint, so still the agent's
            from firstday.models.openai_compat import OpenAIProvider

            builtin = OpenAIProvider("x", base_url="http://127.0.0.1:9/v1",
                                     config=ProviderConfig(max_retries=0, timeout_s=0.5, cache=False))
            await builtin.complete(ModelRequest(model="x", messages=[{"role": "user", "content": "hi"}]))
        if self.how == "stashed":
            assert self.kept is not None
            raise self.kept
        if self.how == "unprintable":
            raise _Unprintable()
        return []


class _Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no message for you")


def _init_crash(ctx: PublicContext) -> NoopAgent:
    """Its constructor raises, except for the first scenario of the suite (so the run's preflight build, which is
    made for the first episode, passes: a factory that always raises is refused before the run starts)."""
    if ctx.scenario_id != "s000":
        raise ModelError("openai/x: no answer after 7 attempt(s)")
    return NoopAgent(ctx)


@pytest.fixture(scope="module", autouse=True)
def _test_agents() -> Iterator[None]:
    register_agent("test-raise-bad-days", "raises at the end of days it judges bad (tests only)")(_RaiseOnBadDays)
    register_agent("test-forger", "raises forged infrastructure errors (tests only)")(_Forger)
    register_agent("test-init-crash", "its constructor raises (tests only)")(_init_crash)
    yield
    for name in ("test-raise-bad-days", "test-forger", "test-init-crash"):
        agent_registry._AGENTS.pop(name, None)


@pytest.fixture(scope="module")
def suite_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return saved_suite(tmp_path_factory.mktemp("suite") / "suite", "smoke", seed=3, scenarios=8)


def test_raising_on_bad_days_scores_no_higher_than_not_raising(suite_dir: Path, tmp_path: Path) -> None:
    honest = run_suite(suite_dir, "test-raise-bad-days", tmp_path / "honest")  # no threshold: never raises
    scores = sorted(e.metrics.score for e in honest.episodes if e.metrics and e.metrics.score is not None)
    threshold = scores[len(scores) // 2]  # the worse half of its days are "bad"
    gamed = run_suite(suite_dir, "test-raise-bad-days", tmp_path / "gamed", agent_options={"threshold": threshold})
    assert gamed.agent_errors > 0 and gamed.infrastructure_errors == 0  # it did raise, and it was charged
    rows = build_report([tmp_path / "honest", tmp_path / "gamed"], sort=False).runs
    assert rows[0].agent_errors == 0 and rows[1].agent_errors == gamed.agent_errors
    assert rows[1].score is not None and rows[0].score is not None
    assert rows[1].score <= rows[0].score and rows[1].success_rate <= rows[0].success_rate  # type: ignore[operator]
    assert rows[1].tasks == rows[0].tasks  # every task of every day is in the mean
    # what the old rule (error episodes left out of the means) would have given: a higher score
    manifest = RunFolder(tmp_path / "gamed").read_manifest()
    old_rule = aggregate_run("x", "x", manifest, [e for e in gamed.episodes if e.status == "ok"])
    assert old_rule.score is not None and old_rule.score > rows[0].score
    for e in gamed.episodes:
        if e.status == "error":
            assert e.error_kind == "agent" and all(t.score == 0.0 and t.success is False for t in e.tasks)
            assert all(t.zeroed and "scored 0" in t.zeroed for t in e.tasks)


@pytest.mark.parametrize("how", ["model-error", "infrastructure-error", "stashed", "own-provider", "unprintable",
                                 "builtin-provider-dead-endpoint"])
def test_an_agent_raising_an_infrastructure_exception_is_still_charged(suite_dir: Path, tmp_path: Path,
                                                                      how: str, openai_env: None) -> None:
    _Forger.genuine_give_ups = 0
    summary = run_suite(suite_dir, "test-forger", tmp_path / "run", agent_options={"how": how})
    assert summary.errors == summary.total and summary.agent_errors == summary.total
    assert _Forger.genuine_give_ups == (summary.total if how == "stashed" else 0)
    assert {e.error_kind for e in summary.episodes} == {"agent"}
    raised = {"infrastructure-error": "InfrastructureError", "unprintable": "_Unprintable"}.get(how, "ModelError")
    assert all((e.error or "").startswith(raised) for e in summary.episodes)  # failed as intended, not otherwise
    retried = run_suite(suite_dir, "test-forger", tmp_path / "run", agent_options={"how": how}, retry_errors=True)
    assert retried.ran == 0  # agent errors are final


def test_a_model_endpoint_that_always_fails_gives_infrastructure_errors_that_retry_reruns(
        suite_dir: Path, tmp_path: Path, server: LLMServer, openai_env: None) -> None:
    server.reset()
    options: dict[str, Any] = {"model": "openai/always-500", "base_url": server.base_url, "timeout_s": 2.0,
                               "max_retries": 1, "backoff_base_s": 0.001, "backoff_max_s": 0.01, "cache": False}
    out = tmp_path / "run"
    first = run_suite(suite_dir, "llm", out, agent_options=options)
    assert first.errors == first.total and first.infrastructure_errors == first.total
    assert all(e.error_kind == "infrastructure" and "HTTP 500" in (e.error or "") for e in first.episodes)
    row = build_report([out]).runs[0]
    assert row.infrastructure_errors == first.total and row.tasks == 0 and row.score is None
    calls = server.count
    again = run_suite(suite_dir, "llm", out, agent_options=options)
    assert again.ran == 0 and server.count == calls  # without --retry-errors nothing reruns
    retried = run_suite(suite_dir, "llm", out, agent_options=options, retry_errors=True)
    assert retried.ran == first.total and server.count == calls + 2 * first.total  # rerun: 2 attempts each
    assert retried.infrastructure_errors == first.total
    rows = RunFolder(out).index_rows()
    assert len(rows) == first.total and all(r["attempts"] == 2 for r in rows)  # replaced, not duplicated


def test_an_agent_whose_constructor_raises_scores_zero_on_every_task(suite_dir: Path, tmp_path: Path) -> None:
    summary = run_suite(suite_dir, "test-init-crash", tmp_path / "run")
    assert summary.agent_errors == summary.total - 1
    for e in summary.episodes[1:]:
        assert (e.error or "").startswith("AgentInitError: ModelError") and e.error_kind == "agent"
        assert e.tasks and all(t.score == 0.0 and t.success is False for t in e.tasks)  # the whole day, at 0
    row = build_report([tmp_path / "run"]).runs[0]
    assert row.score == 0.0 and row.tasks > 0


def test_the_mentor_feedback_says_why_a_day_scored_zero(suite_dir: Path, tmp_path: Path) -> None:
    summary = run_suite(suite_dir, "test-forger", tmp_path / "run", agent_options={"how": "model-error"})
    episode = summary.episodes[0]
    assert episode.metrics is not None and episode.metrics.score == 0.0 and episode.metrics.success_rate == 0.0
    card = DayScore(scenario_id=episode.scenario_id, day_index=episode.day_index, tasks=episode.tasks,
                    metrics=episode.metrics)
    text = mentor_feedback(card).text
    assert "scored 0: the episode ended with an error caused by the agent (ModelError" in text
    # the checkpoint outcomes are kept for reading: zeroing changed scores, not what the checks found
    assert all(t.checkpoints for t in episode.tasks)


def test_the_environment_failing_to_do_its_part_is_infrastructure(suite_dir: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def sandbox_down(self: DayEnv, calls: list[ToolCall]) -> Observation:
        raise InfrastructureError("the code sandbox could not start")

    monkeypatch.setattr(DayEnv, "step", sandbox_down)
    summary = run_suite(suite_dir, "heuristic", tmp_path / "run")
    assert summary.infrastructure_errors == summary.total
    assert all((e.error or "").startswith("InfrastructureError: the code sandbox") for e in summary.episodes)
    monkeypatch.undo()
    retried = run_suite(suite_dir, "heuristic", tmp_path / "run", retry_errors=True)
    assert retried.ran == summary.total and retried.errors == 0
