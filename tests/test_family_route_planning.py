"""route_planning: the optimum recomputed independently (Floyd-Warshall + all orders) from the text alternative."""

from __future__ import annotations

import itertools
import re

import pytest

from conftest import seeded_company
from firstday.seeding import make_rng
from firstday.tasks import get_family
from firstday.tasks.family import GenContext
from firstday.tasks.model import DIFFICULTIES, TaskInstance

FAMILY = get_family("route_planning")


def instance(variant: str, difficulty: str, seed: int) -> TaskInstance:
    company = seeded_company("route", seed)
    ctx = GenContext(rng=make_rng("route-test", variant, difficulty, seed), company=company, task_id="t1",
                     variant=variant, difficulty=difficulty, arrival=600, priority="normal",  # type: ignore[arg-type]
                     requester=company.mentor)
    return FAMILY.generate(ctx)


@pytest.mark.parametrize("variant", FAMILY.variants)
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_the_answer_is_the_unique_optimum(variant: str, difficulty: str) -> None:
    for seed in range(5):
        inst = instance(variant, difficulty, seed)
        alt = next(f.text_alternative for f in inst.files if f.is_image) or ""
        roads = re.findall(r"^- (.+?) - (.+?): (\d+) km( \(CLOSED\))?$", alt, re.M)
        places = sorted({p for a, b, _, _ in roads for p in (a, b)})
        inf = float("inf")
        dist = {(a, b): 0.0 if a == b else inf for a in places for b in places}
        for a, b, km, closed in roads:
            if not closed:
                dist[a, b] = dist[b, a] = min(dist[a, b], float(km))
        for k, i, j in itertools.product(places, places, places):
            dist[i, j] = min(dist[i, j], dist[i, k] + dist[k, j])
        manifest = next((f.content for f in inst.files if f.path.endswith(".md")), "")
        stops = re.findall(r"^\| (.+?) \| to deliver \|$", manifest, re.M) or \
            inst.objective.split("The stops are: ", 1)[1].split(".", 1)[0].split(", ")
        end = "Yard" if variant == "fixed_end" else None
        totals = sorted(
            (dist["Depot", o[0]] + sum(dist[a, b] for a, b in itertools.pairwise(o))
             + (dist[o[-1], end] if end else 0.0), list(o)) for o in itertools.permutations(stops))
        assert totals[0][0] < totals[1][0]
        assert inst.answers == {"route": totals[0][1], "distance": int(totals[0][0])}
        if variant == "road_closures":
            assert any(c for *_, c in roads)
