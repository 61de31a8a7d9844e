"""Invariant 5 — Honest scores (DESIGN.md §6): the oracle scores 100 %, a do-nothing agent 0 %, a guessing
agent that never explores is caught by the unsupported-answer rate, and a partial baseline lands in
between. Infrastructure failures are recorded as errors, never as zero scores (DESIGN.md §5).

The sample is the smoke preset over ten seeds plus a full standard-sized suite (50 scenarios, about 200
tasks), so every registered family is represented.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache
from typing import Any

import pytest

from conftest import preset_days, run_agent
from firstday.env import Briefing, EpisodeResult, Observation, events_of
from firstday.env.trace import AgentErrorEvent
from firstday.scoring import TaskScore
from firstday.suites import Day, Scenario
from firstday.tasks import families
from firstday.tasks.model import Checkpoint
from firstday.world import ToolCall


@cache
def sample() -> list[tuple[Scenario, Day]]:
    days = [sd for seed in range(10) for sd in preset_days("smoke", seed)]
    return days + preset_days("reference", 0)


@cache
def results(agent: str) -> list[EpisodeResult]:
    return [run_agent(agent, s, d) for s, d in sample()]


def task_scores(agent: str) -> list[TaskScore]:
    out = []
    for r in results(agent):
        assert r.status == "ok", f"{agent} on {r.scenario_id}: {r.error}"
        assert r.score.metrics.errors == 0
        out += r.score.tasks
    return out


def mean_score(agent: str) -> float:
    scores = [t.score for t in task_scores(agent)]
    assert all(s is not None for s in scores)
    return sum(s for s in scores if s is not None) / len(scores)


def test_the_sample_covers_every_family() -> None:
    seen = {t.family for _, d in sample() for t in d.tasks}
    assert seen == set(families()), f"families missing from the sample: {set(families()) - seen}"
    assert sum(len(d.tasks) for _, d in sample()) >= 200


def test_oracle_scores_one_hundred_percent() -> None:
    scores = task_scores("oracle")
    bad = [f"{t.task_id} {t.meta_task}: {t.score}" for t in scores if t.score != 1.0 or not t.success]
    assert not bad, bad[:10]
    for r in results("oracle"):
        m = r.score.metrics
        assert m.score == 1.0 and m.success_rate == 1.0 and m.on_time_rate == 1.0 and m.work_left == 0
        assert m.unsupported_rate in (None, 0.0)
        assert m.meetings_missed == 0 and m.meetings_late == 0


def test_noop_scores_zero_on_every_task() -> None:
    scores = task_scores("noop")
    nonzero = [f"{t.meta_task}: {t.score} {[c.cp_id for c in t.checkpoints if c.passed]}" for t in scores
               if t.score != 0.0 or t.success]
    assert not nonzero, f"doing nothing earns points: {nonzero[:10]}"
    for r in results("noop"):
        m = r.score.metrics
        assert m.work_left == m.tasks and m.unsupported_rate is None and m.on_time_rate == 0.0
        assert m.meetings_missed == m.meetings_required


def _unsupported_by_family(agent: str) -> dict[str, list[bool]]:
    pooled: dict[str, list[bool]] = defaultdict(list)
    for t in task_scores(agent):
        pooled[t.family] += [c.unsupported for c in t.checkpoints if c.answer_bearing and c.attempted_at is not None]
    return pooled


def test_guessing_is_caught_by_the_unsupported_answer_rate() -> None:
    pooled = _unsupported_by_family("guess")
    answered = [u for us in pooled.values() for u in us]
    assert len(answered) >= 100, "the guessing agent hardly answered anything"
    rate = sum(answered) / len(answered)
    assert rate > 0.9, f"unsupported-answer rate of the guessing agent is only {rate:.2f}"
    for family, us in pooled.items():
        if us:
            assert sum(us) / len(us) > 0.9, (
                f"{family}: the guessing agent's answers look supported ({sum(us)}/{len(us)} unsupported): "
                "an answer-bearing checkpoint is missing the clue ids it depends on")
    guess, oracle = mean_score("guess"), mean_score("oracle")
    assert guess <= 0.5 * oracle, f"guessing scores {guess:.2f} against the oracle's {oracle:.2f}"
    # the oracle's answers, by contrast, are all supported
    assert not any(u for us in _unsupported_by_family("oracle").values() for u in us)


def test_heuristic_baseline_is_partial() -> None:
    noop, heuristic, oracle = mean_score("noop"), mean_score("heuristic"), mean_score("oracle")
    assert noop < heuristic < oracle, (noop, heuristic, oracle)


# --- infrastructure errors are errors, not zeros -------------------------------------------------------
class CrashingAgent:
    """Works a little, then its 'model API' fails."""

    name = "crashing"

    def __init__(self, crash_in_reset: bool = False) -> None:
        self.turns = 0
        self.crash_in_reset = crash_in_reset

    async def reset(self, briefing: Briefing) -> None:
        if self.crash_in_reset:
            raise ConnectionError("model endpoint unreachable")

    async def act(self, observation: Observation) -> list[ToolCall]:
        self.turns += 1
        if self.turns > 3:
            raise RuntimeError("model API returned 503")
        return [ToolCall(name="list_tasks")]


@pytest.mark.parametrize(("crash_in_reset", "message"), [(False, "RuntimeError: model API returned 503"),
                                                         (True, "ConnectionError: model endpoint unreachable")])
def test_an_agent_crash_is_an_error_not_a_zero(crash_in_reset: bool, message: str) -> None:
    scenario, day = sample()[0]
    result = run_agent(CrashingAgent(crash_in_reset), scenario, day)
    assert result.status == "error" and result.error == message
    assert any(message in e.data.message for e in events_of(result.trace, AgentErrorEvent))
    result.model_dump_json()  # the failed episode is still recorded in full


class _BrokenCheck:
    """A check whose code crashes (a scorer bug)."""

    kind = "broken"

    def evaluate(self, *args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError("scorer bug")


def test_a_crashing_check_is_a_reported_defect_counted_zero() -> None:
    """A check that raises (here on any input, so on the task's own answer too) is a defect of the task: it is
    reported on the card and in the day's ``errors``, and the task counts 0 in every mean — never dropped,
    or an agent could choose which tasks are averaged."""
    scenario, day = next((s, d) for s, d in sample() if len(d.tasks) >= 2)
    victim = day.tasks[0]
    broken = Checkpoint.model_construct(cp_id="broken", description="crashes", weight=1.0, clue_ids=[],
                                        answer_bearing=True, check=_BrokenCheck(),  # type: ignore[arg-type]
                                        feedback="")
    sabotaged = day.model_copy(update={"tasks": [
        victim.model_copy(update={"checkpoints": [*victim.checkpoints, broken]}), *day.tasks[1:]]})
    result = run_agent("oracle", scenario, sabotaged)
    assert result.status == "ok", "a scorer defect is not the agent's fault"
    card = {t.task_id: t for t in result.score.tasks}[victim.task_id]
    assert card.score == 0.0 and card.success is False
    assert card.error is not None and "scoring defect" in card.error and "ZeroDivisionError: scorer bug" in card.error
    assert [c.error is not None for c in card.checkpoints] == [False] * len(victim.checkpoints) + [True]
    m = result.score.metrics
    assert m.errors == 1 and m.scored_tasks == m.tasks - 1
    assert m.score == pytest.approx((m.tasks - 1) / m.tasks), "the defective task counts 0 in the mean"
    assert m.success_rate == pytest.approx((m.tasks - 1) / m.tasks)
    result.score.model_dump_json()


# --- ending the day early cannot hide work --------------------------------------------------------------
class QuitterAgent:
    """Ends the working day at once: tasks that had not arrived yet must still count, as not done."""

    name = "quitter"

    async def reset(self, briefing: Briefing) -> None:
        return None

    async def act(self, observation: Observation) -> list[ToolCall]:
        return [ToolCall(name="end_day")]


def test_ending_the_day_early_scores_every_task_of_the_day() -> None:
    scenario, day = next((s, d) for s, d in sample() if len(d.tasks) >= 2)
    result = run_agent(QuitterAgent(), scenario, day)
    m = result.score.metrics
    assert result.status == "ok"
    assert m.tasks == len(day.tasks) and m.work_left == len(day.tasks)
    assert m.score == 0.0 and m.success_rate == 0.0
    assert m.meetings_missed == m.meetings_required >= 1
