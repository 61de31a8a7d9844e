"""org_chart_routing: the approver recomputed from the drawn chart, and never given by the directory."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import single_task_day
from firstday.tasks.library.org_chart_routing import VARIANTS
from firstday.tasks.model import DIFFICULTIES


def _up(boxes: list[dict[str, Any]], name: str) -> list[str]:
    """Names from the box of ``name`` up to the top of the chart."""
    i = next(k for k, b in enumerate(boxes) if b["name"] == name)
    out = [boxes[i]["name"]]
    while boxes[i]["parent"] is not None:
        i = boxes[i]["parent"]
        out.append(boxes[i]["name"])
    return out


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_approver_recomputed_from_the_chart(variant: str, difficulty: str) -> None:
    for seed in range(3):
        scenario, day = single_task_day(("org_chart_routing", variant, difficulty), seed, "org-chart")
        inst = next(t for t in day.tasks if t.family == "org_chart_routing")
        company = scenario.company
        boxes = inst.files[0].render.params["boxes"]  # type: ignore[union-attr]
        on_chart = [b["name"] for b in boxes]
        named = sorted((e for e in company.employees if e.name in on_chart and e.name in inst.objective),
                       key=lambda e: inst.objective.index(e.name))
        chain = _up(boxes, named[0].name)
        if variant == "direct_manager":
            want = chain[1]
        elif variant == "second_level":
            want = chain[2]
        elif variant == "skip_on_leave":
            fact = inst.facts[0].reply
            want = next(n for n in chain[1:] if n not in fact)
        else:
            other = set(_up(boxes, named[1].name))
            want = next(n for n in chain[1:] if n in other)
        approver = company.employee(inst.answers["approver"])
        assert approver.name == want
        assert approver.handle != named[0].manager  # the directory's manager is not the answer
        assert inst.answers["request"] in inst.objective
