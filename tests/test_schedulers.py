"""The two baselines of the scheduling dimension (issue 17, item 5): the same competence, different order."""

from __future__ import annotations

from conftest import run_agent
from firstday.suites import generate_scenario, preset


def _days(n: int) -> list:  # type: ignore[type-arg]
    spec = preset("overload", seed=1).model_copy(update={"scenarios": n})
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
