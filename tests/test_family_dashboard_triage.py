"""dashboard_triage: the answer is recomputed from the text alternative, the runbook and the rota alone."""

from __future__ import annotations

import re

import pytest

from conftest import seeded_company
from firstday.seeding import make_rng
from firstday.tasks import get_family
from firstday.tasks.family import GenContext
from firstday.tasks.model import DIFFICULTIES, TaskInstance

FAMILY = get_family("dashboard_triage")


def instance(variant: str, difficulty: str, seed: int) -> TaskInstance:
    company = seeded_company("dashboard", seed)
    ctx = GenContext(rng=make_rng("dashboard-test", variant, difficulty, seed), company=company, task_id="t1",
                     variant=variant, difficulty=difficulty, arrival=600, priority="normal",  # type: ignore[arg-type]
                     requester=company.mentor)
    return FAMILY.generate(ctx)


def num(s: str) -> float:
    return float(s.replace(",", ""))


@pytest.mark.parametrize("variant", FAMILY.variants)
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_answer_follows_from_the_public_texts(variant: str, difficulty: str) -> None:
    for seed in range(6):
        inst = instance(variant, difficulty, seed)
        image = next(f for f in inst.files if f.is_image)
        runbook = next(f.content for f in inst.files if f.path.endswith(".md"))
        panels = re.findall(r"^- (\S+) \(team (\w+), tier (\d)\): ([\d.,]+) ", image.text_alternative or "", re.M)
        threshold = num(re.search(r"is (?:above|below) ([\d.,]+)", runbook).group(1))  # type: ignore[union-attr]
        above = "is above" in runbook
        sev1 = num(re.search(r"SEV1: .* (?:at or above|below) ([\d.,]+)", runbook).group(1))  # type: ignore[union-attr]
        sev2 = num(re.search(r"SEV2: .* (?:at or above|below) ([\d.,]+)", runbook).group(1))  # type: ignore[union-attr]
        degraded = [p for p in panels if (num(p[3]) > threshold if above else num(p[3]) < threshold)]
        assert len(degraded) == 1, (inst.meta_task, seed, panels, threshold)
        service, team, tier, value = degraded[0]
        v = num(value)
        level = 0 if (v >= sev1 if above else v < sev1) else 1 if (v >= sev2 if above else v < sev2) else 2
        if "Tier-2" in runbook and tier == "2":
            level = min(2, level + 1)
        rota = next(f.reply for f in inst.facts if f.fact_id.endswith("-rota"))
        paged = re.search(rf"{team}: [^;(]+\(([\w.-]+)\)", rota).group(1)  # type: ignore[union-attr]
        assert inst.answers == {"service": service, "severity": f"SEV{level + 1}", "paged": paged,
                                # the candidates a page must not name besides the answer: every panel's service
                                "services": [p[0] for p in panels], "severities": ["SEV1", "SEV2", "SEV3"],
                                # the id the objective asks the page to name (it ties a page to this task)
                                "incident": re.search(r"Incident (INC-\d+)", inst.objective).group(1)}  # type: ignore[union-attr]


def test_hard_lamps_can_mislead_but_easy_ones_do_not() -> None:
    for seed in range(10):
        easy = instance("error_rate", "easy", seed)
        alt = next(f.text_alternative for f in easy.files if f.is_image) or ""
        red = re.findall(r"^- (\S+) .*status lamp red$", alt, re.M)
        assert red == [easy.answers["service"]]
    misleading = 0
    for seed in range(20):
        hard = instance("latency_p95", "hard", seed)
        alt = next(f.text_alternative for f in hard.files if f.is_image) or ""
        red = re.findall(r"^- (\S+) .*status lamp red$", alt, re.M)
        misleading += red != [hard.answers["service"]]
    assert misleading >= 5
