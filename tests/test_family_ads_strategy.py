"""The ads strategy family: densities live only in the heatmaps, the optimum is recomputed independently by
exhaustive search, and the baseline (which cannot see images) earns partial credit at most."""

from __future__ import annotations

import itertools
import re

import pytest

from conftest import run_agent, single_task_day
from firstday.tasks import get_family
from firstday.tasks.model import TaskInstance
from firstday.world.images import render_png

FAMILY = "ads_strategy"
VARIANTS = get_family(FAMILY).variants
CELL_VALUE = re.compile(r"\b([A-G]\d) (\d+)\b")


def instance(variant: str, difficulty: str, seed: int) -> tuple[TaskInstance, list[str]]:
    _scenario, day = single_task_day((FAMILY, variant, difficulty), seed, label="ads")
    task = next(t for t in day.tasks if t.family == FAMILY)
    texts = [t.objective for t in day.tasks] + [f.content for t in day.tasks for f in t.files if not f.is_image]
    texts += [f.reply for t in day.tasks for f in t.facts] + [f.path for t in day.tasks for f in t.files]
    texts += [m.notes for m in day.meetings]
    return task, texts


@pytest.mark.parametrize("variant", VARIANTS)
def test_densities_exist_only_in_the_images(variant: str) -> None:
    for difficulty in ("easy", "hard"):
        for seed in range(3):
            task, texts = instance(variant, difficulty, seed)
            maps = [f for f in task.files if f.is_image]
            assert maps and all(f.render is not None and f.text_alternative for f in maps)
            corpus = "\n".join(texts)
            for f in maps:
                pairs = CELL_VALUE.findall(f.text_alternative or "")
                assert len(pairs) >= 20
                for cell, value in pairs:
                    for form in (f"{cell} {value}", f"{cell}: {value}", f"{cell},{value}", f"{cell} = {value}"):
                        assert form not in corpus, f"{form!r} leaks outside the image"


def _recompute(task: TaskInstance) -> tuple[list[str], int, int]:
    """The optimum by brute force from the files' text (handbook, options, text alternatives of the maps)."""
    handbook = next(f.content for f in task.files if f.hidden)
    table = next(f.content for f in task.files if f.path.endswith(".csv"))
    budget = int(re.search(r"\$([\d,]+)", task.objective).group(1).replace(",", ""))  # type: ignore[union-attr]
    reserve = int(re.search(r"Hold back (\d+)%", handbook).group(1))  # type: ignore[union-attr]
    planning = budget * (100 - reserve) / 100
    reach = {k: float(v) for k, v in re.findall(r"^- (.+?): reach factor ([\d.]+)", handbook, re.M)}
    split = re.search(r"Split the planning budget: (\d+)% for outdoor channels \(([^)]*)\)", handbook)
    one_per_cell = "At most one placement per map cell" in handbook
    density: dict[tuple[str, str, str], int] = {}
    for f in task.files:
        if f.is_image:
            title = re.search(r"Heatmap '([^:]+): mobile user density(?:, (\w+))?", f.text_alternative or "")
            assert title
            for cell, value in CELL_VALUE.findall(f.text_alternative or ""):
                density[(title.group(1), title.group(2) or "", cell)] = int(value)
    rows = [r.split(",") for r in table.strip().splitlines()]
    head = rows[0]
    opts = [dict(zip(head, r, strict=True)) for r in rows[1:]]
    areas = sorted({k[0] for k in density})
    usable = [o for o in opts if o["channel"] in reach]

    def exposure(o: dict[str, str]) -> int:
        d = density[(o.get("district", areas[0]), o.get("time_slot", ""), o["cell"])]
        return round(d * reach[o["channel"]] * int(o["weeks"]))

    def best(group: list[dict[str, str]], limit: float) -> list[dict[str, str]]:
        top: tuple[int, list[dict[str, str]]] = (-1, [])
        second = -1
        for n in range(len(group) + 1):
            for combo in itertools.combinations(group, n):
                if sum(int(o["cost_usd"]) for o in combo) > limit:
                    continue
                cells = [(o.get("district", ""), o["cell"]) for o in combo]
                if one_per_cell and len(set(cells)) != len(cells):
                    continue
                value = sum(exposure(o) for o in combo)
                if value > top[0]:
                    second, top = top[0], (value, list(combo))
                elif value > second:
                    second = value
        assert second < top[0], "a tie for the optimum"
        return top[1]

    if split:
        outdoor = [c.strip() for c in split.group(2).split(",")]
        part = planning * int(split.group(1)) / 100
        chosen = best([o for o in usable if o["channel"] in outdoor], part) + \
            best([o for o in usable if o["channel"] not in outdoor], planning - part)
    else:
        chosen = best(usable, planning)
    return sorted(o["option_id"] for o in chosen), sum(int(o["cost_usd"]) for o in chosen), \
        sum(exposure(o) for o in chosen)


@pytest.mark.parametrize("variant", VARIANTS)
def test_ground_truth_is_the_independent_optimum(variant: str) -> None:
    for difficulty in ("easy", "medium"):
        for seed in range(2):
            task, _ = instance(variant, difficulty, seed)
            selected, cost, exposure = _recompute(task)
            assert task.answers["selected"] == selected
            assert task.answers["total_cost"] == cost and task.answers["total_exposure"] == exposure
            assert len(selected) >= 2


def test_heatmaps_render_deterministically() -> None:
    task, _ = instance("time_of_day", "hard", 0)
    spec = next(f.render for f in task.files if f.render is not None)
    assert spec is not None
    png = render_png(spec)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png == render_png(spec.model_copy(deep=True))


def test_noop_zero_and_baseline_partial() -> None:
    heuristic: list[float] = []
    for i, variant in enumerate(VARIANTS):
        for difficulty in ("easy", "hard"):
            scenario, day = single_task_day((FAMILY, variant, difficulty), 100 + i, label="ads-baseline")
            noop = run_agent("noop", scenario, day)
            assert all(t.score == 0.0 for t in noop.score.tasks)
            res = run_agent("heuristic", scenario, day)
            heuristic += [t.score or 0.0 for t in res.score.tasks if t.meta_task.startswith(FAMILY)]
    assert 0.0 < sum(heuristic) / len(heuristic) < 0.5 and max(heuristic) < 1.0
