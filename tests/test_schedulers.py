"""The two baselines of the scheduling dimension (issue 17, item 5): the same competence, different order."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import SINGLE_TASK_SPEC, run_agent, seeded_company, single_task_day
from firstday.env import EpisodeResult, events_of
from firstday.env.trace import ToolCallEvent, ToolResultEvent
from firstday.scoring.scheduling import SchedulingFigures, attribute_calls, scheduling_figures
from firstday.seeding import derive_seed
from firstday.suites import Day, Scenario, generate_day, generate_scenario, preset
from firstday.tasks import families, meta_tasks

# (priority order, arrival order): the same competence (the oracle's plans, or the heuristic's exploration and
# answers), a different order
PAIRS = [("heuristic", "heuristic-fifo"), ("oracle", "oracle-fifo")]


def _days(n: int) -> list[tuple[Scenario, Day]]:
    spec = preset("hard", seed=1).model_copy(update={"scenarios": n})
    return [(s, s.days[0]) for s in (generate_scenario(spec, i) for i in range(n))]


def _submission_order(result: EpisodeResult) -> list[str]:
    return [e.data.arguments["task_id"] for e in events_of(result.trace, ToolCallEvent)
            if e.data.name == "submit" and isinstance(e.data.arguments, dict)]


def test_fifo_submits_in_arrival_order_and_the_heuristic_preempts_for_urgent_work() -> None:
    fifo_latency, heur_latency = [], []
    for scenario, day in _days(4):
        arrival = {t.task_id: (t.arrival, t.task_id) for t in day.tasks}
        fifo = run_agent("heuristic-fifo", scenario, day)
        order = list(dict.fromkeys(_submission_order(fifo)))
        assert order == sorted(order, key=arrival.__getitem__), order
        heur = run_agent("heuristic", scenario, day)
        fifo_latency.append(fifo.score.metrics.urgent_latency or 0.0)
        heur_latency.append(heur.score.metrics.urgent_latency or 0.0)
        # the pre-empted work is resumed: the heuristic submits everything the FIFO variant submits, or more
        assert len(set(_submission_order(heur))) >= len(set(order)) - 1
    assert sum(heur_latency) < sum(fifo_latency)


def _timeline(result: EpisodeResult) -> list[tuple[str, object, int, int]]:
    """(tool name, arguments, started, ended) of each call of an episode, from its trace."""
    calls: list[tuple[str, object, int, int]] = []
    pending: tuple[str, object] | None = None
    for e in result.trace:
        if isinstance(e, ToolCallEvent):
            pending = (e.data.name, e.data.arguments)
        elif isinstance(e, ToolResultEvent) and pending is not None:
            calls.append((*pending, e.data.started, e.data.ended))
            pending = None
    return calls


def _figures(agent: str, scenario: Scenario, day: Day) -> SchedulingFigures:
    result = run_agent(agent, scenario, day)
    calls = _timeline(result)
    first = {t.task_id: t.submitted_at for t in result.score.tasks if t.submitted_at is not None}
    spans = attribute_calls(day, calls, first)
    return scheduling_figures(day, spans, first, result.score.metrics.priority_weighted_score)


def test_priority_inversions_separate_fifo_from_the_heuristic_and_the_oracle_is_efficient() -> None:
    fifo = heur = 0
    for scenario, day in _days(3):
        f, h, o = (_figures(a, scenario, day) for a in ("heuristic-fifo", "heuristic", "oracle"))
        fifo += f.priority_inversions
        heur += h.priority_inversions
        assert o.schedule_efficiency == pytest.approx(1.0)
        assert h.interruption_response is None or f.interruption_response is None or \
            h.interruption_response <= f.interruption_response
    assert fifo > 2 * heur


def test_the_day_card_carries_the_scheduling_figures() -> None:
    scenario, day = _days(1)[0]
    metrics = run_agent("oracle", scenario, day).score.metrics
    assert metrics.schedule_efficiency == pytest.approx(1.0) and metrics.best_score == pytest.approx(day.best_score)
    assert metrics.load == day.load and metrics.priority_inversions is not None
    fifo = run_agent("heuristic-fifo", scenario, day).score.metrics
    assert fifo.priority_inversions is not None and fifo.priority_inversions > metrics.priority_inversions
    # on time now means passed by the deadline; submitted by the deadline is its own figure
    assert fifo.on_time_rate is not None and fifo.submitted_on_time_rate is not None
    assert fifo.on_time_rate <= fifo.submitted_on_time_rate


def _crafted_day(seed: int, urgent_deadline: int = 900) -> tuple[Scenario, Day]:
    """Two tasks both orders solve alone: a low-priority one at 09:00 (due at the end of the day) and an urgent
    one at 09:10; no meetings. An arrival-order worker is still on the low one when the urgent one comes."""
    metas = [("vendor_comparison", "weighted", "easy"), ("transaction_review", "split_invoices", "easy")]
    company = seeded_company("crafted", seed)
    scenario_seed = derive_seed("tests", "crafted", seed)
    day, _ = generate_day(company, SINGLE_TASK_SPEC, scenario_seed, 0, meta=metas)  # type: ignore[arg-type]
    low, urgent = day.tasks
    tasks = [low.model_copy(update={"priority": "low", "arrival": 540, "deadline": 1080}),
             urgent.model_copy(update={"priority": "urgent", "arrival": 550, "deadline": urgent_deadline})]
    day = day.model_copy(update={"tasks": tasks, "meetings": [], "follow_ups": [], "skipped": [], "best_score": 1.0})
    return Scenario(scenario_id=f"crafted-{seed}", seed=scenario_seed, company=company, days=[day]), day


def _submitted(result: EpisodeResult) -> dict[str, int | None]:
    return {t.task_id: t.submitted_at for t in result.score.tasks}


@pytest.mark.parametrize("pair", PAIRS, ids="/".join)
def test_on_a_crafted_day_arrival_order_inverts_priorities_and_priority_order_does_not(pair: tuple[str, str]) -> None:
    first, fifo = pair
    for seed in range(2):
        scenario, day = _crafted_day(seed)
        low, urgent = (t.task_id for t in day.tasks)
        good, bad = run_agent(first, scenario, day), run_agent(fifo, scenario, day)
        g_low, g_urgent = (_submitted(good)[t] or 0 for t in (low, urgent))
        b_low, b_urgent = (_submitted(bad)[t] or 0 for t in (low, urgent))
        # both finish both tasks, right (this day fits); only the order differs
        assert [t.score for t in good.score.tasks] == [t.score for t in bad.score.tasks] == [1.0, 1.0]
        assert 0 < b_low < b_urgent  # FIFO: the low one first
        assert 0 < g_urgent < g_low  # pre-empted, then resumed
        assert bad.score.metrics.priority_inversions and bad.score.metrics.priority_inversions > 0
        assert good.score.metrics.priority_inversions == 0
        gr, br = good.score.metrics.interruption_response, bad.score.metrics.interruption_response
        assert gr is not None and br is not None and gr < br
        assert good.score.metrics.resumed_rate == 1.0


@pytest.mark.parametrize("pair", PAIRS, ids="/".join)
def test_a_tight_urgent_deadline_is_met_in_priority_order_and_missed_in_arrival_order(pair: tuple[str, str]) -> None:
    first, fifo = pair
    scenario, day = _crafted_day(0)
    delivered = _submitted(run_agent(first, scenario, day))[day.tasks[1].task_id]
    assert delivered is not None
    # the urgent task due the minute after the priority order delivers it: neither order depends on the deadline
    # beyond urgent-first, so both behave as before, and arrival order is late with the same answer
    scenario, day = _crafted_day(0, urgent_deadline=delivered + 1)
    good, bad = run_agent(first, scenario, day).score, run_agent(fifo, scenario, day).score
    assert [t.on_time for t in good.tasks] == [True, True]
    assert [t.on_time for t in bad.tasks] == [True, False] and bad.tasks[1].submitted_at is not None
    assert good.metrics.priority_weighted_score == 1.0
    assert bad.metrics.priority_weighted_score == pytest.approx(1 / 5)  # low (1) of low + urgent (1 + 4)


def _calls(result: EpisodeResult) -> list[tuple[str, Any]]:
    return [(e.data.name, e.data.arguments) for e in events_of(result.trace, ToolCallEvent)]


@pytest.mark.parametrize("pair", PAIRS, ids="/".join)
def test_competence_parity_a_task_alone_gets_the_same_calls_and_answers_in_either_order(
        pair: tuple[str, str]) -> None:
    first, fifo = pair
    for name, fam in families().items():
        variant, difficulty = meta_tasks(fam)[0]
        scenario, day = single_task_day((name, variant, difficulty), 0, "parity")
        a, b = run_agent(first, scenario, day), run_agent(fifo, scenario, day)
        assert _calls(a) == _calls(b), name
        assert [(t.score, t.submitted_at) for t in a.score.tasks] == [(t.score, t.submitted_at) for t in b.score.tasks]


def test_calls_whose_arguments_are_json_text_are_attributed_like_dicts() -> None:
    # model-backed agents (llm, react) record the model's raw JSON text as a call's arguments
    import json

    scenario, day = _days(1)[0]
    result = run_agent("heuristic-fifo", scenario, day)
    calls = _timeline(result)
    as_text = [(n, json.dumps(a), s, t) for n, a, s, t in calls]
    first = {t.task_id: t.submitted_at for t in result.score.tasks if t.submitted_at is not None}
    spans, text_spans = attribute_calls(day, calls, first), attribute_calls(day, as_text, first)
    assert [s.task_id for s in text_spans] == [s.task_id for s in spans]
    assert any(s.task_id is not None for s in spans)
    junk = ["{not json", "[1]", "[" * 10_000 + "]" * 10_000, "1" * 10_000]  # agent text: scoring never raises on it
    assert [s.task_id for s in attribute_calls(day, [("submit", j, 0, 1) for j in junk], first)] == [None] * 4
