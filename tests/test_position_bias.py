"""Listed alternatives carry no position bias (docs/invariants.md).

Where a task lists candidates (dates, services, pages, vendors, rooms, requests, regions…), the right one's
position in what the agent sees must be uniform, or "pick the first/last one" would beat chance. For every such
family a small extractor reads (position of the right one, number listed) off a generated instance; over a few
hundred fixed seeds the positions are tested with a chi-square test per list length (alpha 0.001, Bonferroni
over the lengths tested, so an unbiased generator fails about once in a thousand seed sets — and the seeds are
fixed, so the test is deterministic).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from functools import cache

import pytest

from firstday.seeding import make_rng
from firstday.tasks import families, meta_tasks
from firstday.tasks.family import GenContext
from firstday.tasks.model import TaskInstance
from firstday.world import Company, generate_company

N_INSTANCES = 300
ALPHA = 0.001
MIN_EXPECTED = 5  # per cell, for the chi-square approximation; rarer list lengths are pooled out

Placement = list[tuple[int, int]]  # (position of a right one, number listed); [] when the instance lists none


# families whose listing of alternatives only some variants have
VARIANTS: dict[str, tuple[str, ...]] = {"kpi_chart_report": ("peak_month",)}


@cache
def company(i: int) -> Company:
    return generate_company(make_rng("position-bias", "company", i))


def instances(family: str, n: int = N_INSTANCES) -> list[tuple[TaskInstance, Company]]:
    """``n`` instances of ``family``, cycling through its meta-tasks, straight from its generator (cheap)."""
    fam = families()[family]
    metas = [m for m in meta_tasks(fam) if m[0] in VARIANTS.get(family, (m[0],))]
    out = []
    for seed in range(n):
        variant, difficulty = metas[seed % len(metas)]
        comp = company(seed % 8)
        ctx = GenContext(rng=make_rng("position-bias", family, seed), company=comp, task_id="t1", variant=variant,
                         difficulty=difficulty, arrival=540, priority="normal", requester=comp.mentor)
        out.append((fam.generate(ctx), comp))
    return out


def _at(items: list[str], right: str) -> Placement:
    return [(items.index(right), len(items))] if right in items else []


def event_planning(task: TaskInstance, _: Company) -> Placement:
    dates = list(dict.fromkeys(re.findall(r"\d{4}-\d{2}-\d{2}", task.objective)))
    return _at(dates, task.answers["date"])


def dashboard_triage(task: TaskInstance, _: Company) -> Placement:
    alt = next(f.text_alternative for f in task.files if f.text_alternative)
    services = [ln[2:].split(" (")[0] for ln in alt.splitlines() if ln.startswith("- ")]
    return _at(services, task.answers["service"])


def website_monitor(task: TaskInstance, _: Company) -> Placement:
    if "culprit" not in task.answers:
        return []
    page = task.pages[0]
    rows = [ln.split(" | ")[0].strip() for ln in page.content.splitlines()
            if " | " in ln and not ln.startswith("---")][1:]  # the header and the markdown rule are not rows
    return _at(rows, task.answers["culprit"])


def vendor_comparison(task: TaskInstance, _: Company) -> Placement:
    listed = re.findall(r"/shared/procurement/quotes/[\w./-]+?\.md", task.objective)
    content = {f.path: f.content for f in task.files}
    winner = [p for p in listed if task.answers["vendor"] in content.get(p, "")]
    return [(listed.index(winner[0]), len(listed))] if len(winner) == 1 else []


def floor_plan_booking(task: TaskInstance, comp: Company) -> Placement:
    return _at([r.name for r in comp.rooms], task.answers["room"])


def meeting_attend(task: TaskInstance, _: Company) -> Placement:
    if "largest" not in task.answers:
        return []
    csv_text = next(f.content for f in task.files if f.path.endswith(".csv"))
    ids = [ln.split(",")[0] for ln in csv_text.strip().splitlines()[1:]]
    return _at(ids, task.answers["largest"])


def kpi_chart_report(task: TaskInstance, _: Company) -> Placement:
    if "month" not in task.answers:
        return []
    alt = next(f.text_alternative for f in task.files if f.text_alternative)
    values = alt.split("Values:", 1)[-1]
    months = list(dict.fromkeys(re.findall(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b", values)))
    return _at(months, str(task.answers["month"])[:3])


def slide_reconcile(task: TaskInstance, _: Company) -> Placement:
    alt = next(f.text_alternative for f in task.files if f.text_alternative)
    rows = [ln[2:].split(":")[0] for ln in alt.splitlines() if ln.startswith("- ")]
    return [p for r in task.answers["rows"] for p in _at(rows, r)]


def ads_strategy(task: TaskInstance, _: Company) -> Placement:
    csv_text = next(f.content for f in task.files if f.path.endswith(".csv"))
    ids = [ln.split(",")[0] for ln in csv_text.strip().splitlines()[1:]]
    return [p for r in task.answers["selected"] for p in _at(ids, r)]


def resume_screening(task: TaskInstance, _: Company) -> Placement:
    """Candidates as ``list_files`` shows them (sorted paths); each selected one's position."""
    cvs = sorted(f.path for f in task.files if "/cv_" in f.path)
    stems = [p.rsplit("/cv_", 1)[1].split(".")[0].removesuffix("_scan") for p in cvs]
    return [p for name in task.answers["selected"] for p in _at(stems, "_".join(name.lower().split()))]


def route_planning(task: TaskInstance, _: Company) -> Placement:
    """The stops as the objective lists them (when it does); where the shortest route starts."""
    if "The stops are: " not in task.objective:
        return []
    stops = task.objective.split("The stops are: ", 1)[1].split(". ", 1)[0].split(", ")
    return _at(stops, task.answers["route"][0])


EXTRACTORS: dict[str, Callable[[TaskInstance, Company], Placement]] = {
    "floor_plan_booking": floor_plan_booking,
    "event_planning": event_planning, "dashboard_triage": dashboard_triage, "website_monitor": website_monitor,
    "vendor_comparison": vendor_comparison,
    "kpi_chart_report": kpi_chart_report, "slide_reconcile": slide_reconcile, "ads_strategy": ads_strategy,
    "resume_screening": resume_screening, "route_planning": route_planning,
}


def chi2_sf(x: float, dof: int) -> float:
    """P(X >= x) for a chi-square variable with ``dof`` (integer) degrees of freedom, in closed form."""
    h = x / 2
    if dof % 2 == 0:
        return math.exp(-h) * math.fsum(h**i / math.factorial(i) for i in range(dof // 2))
    return math.erfc(math.sqrt(h)) + math.exp(-h) * math.fsum(float(h ** (i - 0.5)) / math.gamma(i + 0.5)
                                                              for i in range(1, (dof - 1) // 2 + 1))


def position_bias(placements: Placement) -> list[str]:
    """A chi-square test of uniform positions for each list length with enough data; the failures."""
    by_length: dict[int, Counter[int]] = {}
    for pos, n in placements:
        by_length.setdefault(n, Counter())[pos] += 1
    tested = {n: c for n, c in by_length.items() if n >= 2 and sum(c.values()) / n >= MIN_EXPECTED}
    problems = []
    for n, counts in sorted(tested.items()):
        total = sum(counts.values())
        expected = total / n
        stat = sum((counts.get(p, 0) - expected) ** 2 / expected for p in range(n))
        p_value = chi2_sf(stat, n - 1)
        if p_value < ALPHA / len(tested):
            problems.append(f"{n} listed: positions {[counts.get(p, 0) for p in range(n)]} (p = {p_value:.2g})")
    return problems


def test_chi2_sf_matches_known_values() -> None:
    assert chi2_sf(3.841, 1) == pytest.approx(0.05, abs=1e-3)
    assert chi2_sf(5.991, 2) == pytest.approx(0.05, abs=1e-3)
    assert chi2_sf(16.266, 3) == pytest.approx(0.001, abs=1e-4)
    assert chi2_sf(0.0, 4) == pytest.approx(1.0)


def test_the_test_catches_a_never_first_generator() -> None:
    """What event_planning did: the right date never first."""
    rng = make_rng("position-bias", "self-test")
    biased = [(rng.randrange(1, 5), 5) for _ in range(N_INSTANCES)]
    fair = [(rng.randrange(0, 5), 5) for _ in range(N_INSTANCES)]
    assert position_bias(biased) and not position_bias(fair)


@pytest.mark.parametrize("family", sorted(EXTRACTORS))
def test_the_right_alternative_is_anywhere_in_the_listing(family: str) -> None:
    placements: Placement = []
    for task, comp in instances(family):
        placements += EXTRACTORS[family](task, comp)
    assert len(placements) >= N_INSTANCES // 4, f"the extractor found too few listings ({len(placements)})"
    problems = position_bias(placements)
    assert not problems, f"{family}: the right one's position is biased: " + "; ".join(problems)
