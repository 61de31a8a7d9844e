"""slide_reconcile: mismatches recomputed from the text alternative and the current spreadsheet alone."""

from __future__ import annotations

import re

import pytest

from conftest import seeded_company
from firstday.seeding import make_rng
from firstday.tasks import get_family
from firstday.tasks.family import GenContext
from firstday.tasks.model import DIFFICULTIES, TaskInstance

FAMILY = get_family("slide_reconcile")


def instance(variant: str, difficulty: str, seed: int) -> TaskInstance:
    company = seeded_company("slide", seed)
    ctx = GenContext(rng=make_rng("slide-test", variant, difficulty, seed), company=company, task_id="t1",
                     variant=variant, difficulty=difficulty, arrival=600, priority="normal",  # type: ignore[arg-type]
                     requester=company.mentor)
    return FAMILY.generate(ctx)


@pytest.mark.parametrize("variant", FAMILY.variants)
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_mismatches_follow_from_the_public_texts(variant: str, difficulty: str) -> None:
    for seed in range(6):
        inst = instance(variant, difficulty, seed)
        alt = next(f.text_alternative for f in inst.files if f.is_image) or ""
        current = next(f.content for f in inst.files if f.path.endswith(".csv") and "draft" not in f.path)
        sheet = {ln.split(",")[0]: [int(x) for x in ln.split(",")[1:]] for ln in current.strip().splitlines()[1:]}
        expected: dict[str, int] = {}
        for label, cells in re.findall(r"^- (.+?): (.+)$", alt, re.M):
            shown = [c.rsplit(" ", 1)[1] for c in cells.split(", ")]
            diff = 0
            for s, v in zip(shown, sheet[label], strict=True):
                if s.endswith("k"):
                    k = int(s[:-1].replace(",", ""))
                    diff += (k * 1000 - v) if k != round(v / 1000) else 0
                else:
                    diff += int(s.replace(",", "")) - v
            if diff:
                expected[label] = diff
        assert inst.answers["rows"] == sorted(expected)
        assert {k[len("differences."):]: v for k, v in inst.answers.items() if k.startswith("differences.")} == expected
        assert len(expected) == {"easy": 1, "medium": 2, "hard": 3}[difficulty]
