"""The two baselines of the scheduling dimension (issue 17, item 5): the same competence, different order."""

from __future__ import annotations

import pytest

from conftest import run_agent
from firstday.scoring.scheduling import SchedulingFigures, attribute_calls, scheduling_figures
from firstday.suites import Day, Scenario, generate_scenario, preset


def _days(n: int) -> list[tuple[Scenario, Day]]:
    spec = preset("hard", seed=1).model_copy(update={"scenarios": n})
    return [(s, s.days[0]) for s in (generate_scenario(spec, i) for i in range(n))]


def _submission_order(result: object) -> list[str]:
    return [e.data["arguments"]["task_id"] for e in result.trace  # type: ignore[attr-defined]
            if e.type == "tool_call" and e.data.get("name") == "submit"]


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


def _figures(agent: str, scenario: Scenario, day: Day) -> SchedulingFigures:
    result = run_agent(agent, scenario, day)
    calls: list[tuple[str, object, int, int]] = []
    pending: tuple[str, object] | None = None
    for e in result.trace:
        if e.type == "tool_call":
            pending = (e.data["name"], e.data["arguments"])
        elif e.type == "tool_result" and pending is not None:
            calls.append((*pending, e.data["started"], e.data["ended"]))
            pending = None
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
