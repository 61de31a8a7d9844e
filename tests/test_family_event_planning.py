"""The event planning family: the date, the metrics and the optimal plan are recomputed independently
from what colleagues say and what the files show; road lengths on medium/hard exist only in the map."""

from __future__ import annotations

import heapq
import re

import pytest

from conftest import run_agent, single_task_day
from firstday.tasks import get_family
from firstday.tasks.model import TaskInstance

FAMILY = "event_planning"
VARIANTS = get_family(FAMILY).variants
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ROAD = re.compile(r"^(.+?) - (.+?): ([\d.]+) km$", re.M)


def instance(variant: str, difficulty: str, seed: int) -> tuple[TaskInstance, list[str]]:
    _scenario, day = single_task_day((FAMILY, variant, difficulty), seed, label="event")
    task = next(t for t in day.tasks if t.family == FAMILY)
    texts = [t.objective for t in day.tasks] + [f.content for t in day.tasks for f in t.files if not f.is_image]
    texts += [f.reply for t in day.tasks for f in t.facts] + [f.path for t in day.tasks for f in t.files]
    return task, texts


def _date(task: TaskInstance) -> str:
    candidates = DATE.findall(task.objective)
    ok = set(candidates)
    for f in task.facts:
        said = f.reply.split(":", 1)[1] if ":" in f.reply else ""
        if "only free on" in said:
            ok &= set(DATE.findall(said))
        elif "can't make" in said:
            ok -= set(DATE.findall(said.split("can't make", 1)[1].split(";")[0].split(". ")[0]))
    assert len(ok) == 1
    return str(ok.pop())


def _distances(task: TaskInstance) -> dict[str, dict[str, float]]:
    roads: list[tuple[str, str, float]] = []
    for f in task.files:
        if f.is_image:
            roads += [(a, b, float(w)) for a, b, w in ROAD.findall(f.text_alternative or "")]
        elif "outing_distances" in f.path:
            roads += [(a, b, float(w)) for a, b, w in (r.split(",") for r in f.content.strip().splitlines()[1:])]
    adj: dict[str, list[tuple[str, float]]] = {}
    for a, b, w in roads:
        adj.setdefault(a, []).append((b, w))
        adj.setdefault(b, []).append((a, w))
    out = {}
    for src in adj:
        dist = {src: 0.0}
        heap = [(0.0, src)]
        while heap:
            d, u = heapq.heappop(heap)
            if d > dist[u]:
                continue
            for v, w in adj[u]:
                if d + w < dist.get(v, 1e9) - 1e-9:
                    dist[v] = d + w
                    heapq.heappush(heap, (d + w, v))
        out[src] = dist
    return out


def _recompute(task: TaskInstance) -> dict[str, object]:
    answer: dict[str, object] = {"date": _date(task)}
    if task.variant == "common_date":
        return answer
    places = next(f.content for f in task.files if "outing_places" in f.path)
    rows = [r.split(",") for r in places.strip().splitlines()[1:]]
    venues = {r[0]: r for r in rows if r[1] == "activity venue"}
    lunches = {r[0]: r for r in rows if r[1] == "lunch place"}
    headcount = len({f.fact_id.split("-avail-")[1] for f in task.facts if "-avail-" in f.fact_id})
    dist = _distances(task)
    office = next(n for n in dist if n.endswith(" office"))

    def trip(v: str, lu: str) -> float:
        return round(dist[office][v] + dist[v][lu] + dist[lu][office], 1)

    if task.variant == "plan_metrics":
        m = re.search(r"activity at (.+?), then lunch at (.+?), for", task.objective)
        assert m
        v, lu = m.group(1), m.group(2)
    else:
        policy = next(f.content for f in task.files if "outing_policy" in f.path)
        limit = float(re.search(r"must not exceed ([\d.]+) km", policy).group(1))  # type: ignore[union-attr]
        veg = any("I'm vegetarian" in f.reply for f in task.facts)
        plans = sorted((headcount * (int(venues[v][3]) + int(lunches[lu][3])), v, lu) for v in venues
                       for lu in lunches if int(venues[v][2]) >= headcount and int(lunches[lu][2]) >= headcount
                       and trip(v, lu) <= limit + 1e-9 and (lunches[lu][4] == "yes" or not veg))
        assert len(plans) >= 2 and plans[0][0] < plans[1][0]
        _, v, lu = plans[0]
        answer.update(venue=v, restaurant=lu)
    answer.update(total_cost=headcount * (int(venues[v][3]) + int(lunches[lu][3])), total_distance=trip(v, lu))
    return answer


@pytest.mark.parametrize("variant", VARIANTS)
def test_answers_are_recomputed_from_what_people_and_files_say(variant: str) -> None:
    for difficulty in ("easy", "medium", "hard"):
        for seed in range(3):
            task, _ = instance(variant, difficulty, seed)
            expected = _recompute(task)
            for key, value in expected.items():
                got = task.answers[key]
                assert got == pytest.approx(value) if isinstance(value, float) else got == value, (key, got, value)


def test_road_lengths_exist_only_in_the_map() -> None:
    for variant in ("plan_metrics", "optimal_plan"):
        for difficulty in ("medium", "hard"):
            for seed in range(3):
                task, texts = instance(variant, difficulty, seed)
                corpus = "\n".join(texts)
                maps = [f for f in task.files if f.is_image]
                assert len(maps) == 1 and maps[0].render is not None
                roads = ROAD.findall(maps[0].text_alternative or "")
                assert len(roads) >= 8
                for a, b, w in roads:
                    assert f"{a} - {b}: {w}" not in corpus and f"{a},{b},{w}" not in corpus
                assert not any(f"{w} km" in corpus for _, _, w in roads)


def test_noop_zero_and_baseline_partial() -> None:
    scores: list[float] = []
    for i, variant in enumerate(VARIANTS):
        for difficulty in ("easy", "hard"):
            scenario, day = single_task_day((FAMILY, variant, difficulty), 300 + i, label="event-baseline")
            assert all(t.score == 0.0 for t in run_agent("noop", scenario, day).score.tasks)
            res = run_agent("heuristic", scenario, day)
            scores += [t.score or 0.0 for t in res.score.tasks if t.meta_task.startswith(FAMILY)]
    assert sum(scores) / len(scores) < 0.6 and max(scores[1::2]) < 1.0  # hard: never full marks
