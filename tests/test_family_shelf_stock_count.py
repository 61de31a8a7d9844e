"""shelf_stock_count: counts and reorders recomputed from the text alternatives and the stock list alone."""

from __future__ import annotations

import re

import pytest

from conftest import seeded_company
from firstday.seeding import make_rng
from firstday.tasks import get_family
from firstday.tasks.family import GenContext
from firstday.tasks.model import DIFFICULTIES, TaskInstance

FAMILY = get_family("shelf_stock_count")


def instance(variant: str, difficulty: str, seed: int) -> TaskInstance:
    company = seeded_company("shelf", seed)
    ctx = GenContext(rng=make_rng("shelf-test", variant, difficulty, seed), company=company, task_id="t1",
                     variant=variant, difficulty=difficulty, arrival=600, priority="normal",  # type: ignore[arg-type]
                     requester=company.mentor)
    return FAMILY.generate(ctx)


@pytest.mark.parametrize("variant", FAMILY.variants)
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_answer_follows_from_the_public_texts(variant: str, difficulty: str) -> None:
    for seed in range(6):
        inst = instance(variant, difficulty, seed)
        stock_list = next(f.content for f in inst.files if f.path.endswith(".md"))
        counts: dict[str, int] = {}
        for f in inst.files:
            if f.is_image:
                # count the runs shelf by shelf (not the totals line) to check the two agree
                for p, n in re.findall(r"([A-Z][\w ]+?) x(\d+)", f.text_alternative or ""):
                    counts[p] = counts.get(p, 0) + int(n)
        table = dict(re.findall(r"^\| ([A-Z][\w ]+?) \| (\d+) \|$", stock_list, re.M))
        listed = sorted(table) or re.findall(r"^- (.+)$", stock_list, re.M)
        m = re.search(r"fewer than (\d+) boxes", stock_list)
        limit = {p: int(table[p]) if table else int(m.group(1)) for p in listed}  # type: ignore[union-attr]
        for p in listed:
            assert inst.answers[f"counts.{p}"] == counts.get(p, 0)
        low = sorted(p for p in listed if counts.get(p, 0) < limit[p])
        assert inst.answers["reorder"] == low and low and len(low) < len(listed)
        if variant == "par_level":
            assert {k: v for k, v in inst.answers.items() if k.startswith("quantities.")} == {
                f"quantities.{p}": limit[p] - counts.get(p, 0) for p in low}


def test_hard_photos_hold_a_product_that_is_not_on_the_list() -> None:
    for seed in range(5):
        inst = instance("single_threshold", "hard", seed)
        alt = "\n".join(f.text_alternative or "" for f in inst.files if f.is_image)
        shown = set(re.findall(r"([A-Z][\w ]+?) x\d+", alt))
        listed = {k.split(".", 1)[1] for k in inst.answers if k.startswith("counts.")}
        assert len(shown - listed) == 1
