"""Vendor comparison: the ground truth is recomputed from the quote and policy texts alone."""

from __future__ import annotations

import re

import pytest

from conftest import single_task_day
from firstday.tasks import get_family
from firstday.tasks.model import TaskInstance

FAMILY = "vendor_comparison"
VARIANTS = get_family(FAMILY).variants
LABELS = {"price": "price", "delivery lead time": "delivery", "warranty": "warranty", "support rating": "support"}


def _recompute(task: TaskInstance) -> dict[str, object]:
    policy = next(f.content for f in task.files if f.hidden)
    qty = int(re.search(r"We need (\d+) ", task.objective).group(1))  # type: ignore[union-attr]
    weights = {LABELS[label]: int(w) for label, w in re.findall(r"^\| ([a-z ]+) \| (\d+) \|$", policy, re.M)}
    years = re.search(r"over (\d+) years", policy)
    cert = re.search(r"must hold (.+?) certification", policy)
    max_days = re.search(r"at most (\d+) days", policy)
    confirmed = {m.group(1): int(m.group(2)) for f in task.facts
                 if (m := re.match(r"Yes, (.+?) confirmed a delivery lead time of (\d+) days", f.reply))}
    latest: dict[str, tuple[int, str]] = {}
    for f in task.files:
        vm = re.search(r"^Vendor: (.+)$", f.content, re.M)
        if vm and "/quotes/" in f.path:
            version = int(re.search(r"^Version: (\d+)", f.content, re.M).group(1))  # type: ignore[union-attr]
            if version > latest.get(vm.group(1), (0, ""))[0]:
                latest[vm.group(1)] = (version, f.content)
    rows: dict[str, dict[str, float]] = {}
    excluded = []
    for vendor, (_, text) in latest.items():
        tiers = [(int(m), int(p.replace(",", ""))) for m, p in re.findall(r"^- (\d+)\+ units: \$([\d,]+)", text, re.M)]
        unit = [p for m, p in tiers if qty >= m][-1] if tiers else int(
            re.search(r"Unit price: \$([\d,]+)", text).group(1).replace(",", ""))  # type: ignore[union-attr]
        price = float(unit * qty)
        if years:
            install = int(re.search(r"setup: \$([\d,]+)", text).group(1).replace(",", ""))  # type: ignore[union-attr]
            fee = int(re.search(r"contract: \$([\d,]+)", text).group(1).replace(",", ""))  # type: ignore[union-attr]
            price += install + int(years.group(1)) * fee
        days_m = re.search(r"lead time: (\d+) days", text)
        days = int(days_m.group(1)) if days_m else confirmed[vendor]
        certs = re.search(r"^Certifications: (.+)$", text, re.M).group(1)  # type: ignore[union-attr]
        if (cert and cert.group(1) not in certs) or (max_days and days > int(max_days.group(1))):
            excluded.append(vendor)
            continue
        rows[vendor] = {"price": price, "delivery": float(days),
                        "warranty": float(re.search(r"Warranty: (\d+)", text).group(1)),  # type: ignore[union-attr]
                        "support": float(re.search(r": ([\d.]+) / 5", text).group(1))}  # type: ignore[union-attr]
    higher = {"price": False, "delivery": False, "warranty": True, "support": True}
    scores = {}
    for vendor, r in rows.items():
        total = 0.0
        for c, w in weights.items():
            col = [x[c] for x in rows.values()]
            total += w * (r[c] / max(col) if higher[c] else min(col) / r[c])
        scores[vendor] = total
    ranked = sorted(scores, key=lambda v: -scores[v])
    out: dict[str, object] = {"vendor": ranked[0], "runner_up": ranked[1] if len(ranked) > 1 else None,
                              "score": scores[ranked[0]]}
    if cert:
        out["excluded"] = sorted(excluded)
    return out


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_ground_truth_follows_the_quotes_and_the_policy(variant: str, difficulty: str) -> None:
    for seed in range(12):
        _, day = single_task_day((FAMILY, variant, difficulty), seed, label="vendor-truth")
        task = day.tasks[0]
        got = _recompute(task)
        assert got["vendor"] == task.answers["vendor"] and got["runner_up"] == task.answers["runner_up"], seed
        assert got["score"] == pytest.approx(task.answers["score"], abs=0.01)
        assert got.get("excluded") == task.answers.get("excluded")


def test_hard_winner_depends_on_the_clarified_lead_time() -> None:
    for variant in VARIANTS:
        for seed in range(6):
            _, day = single_task_day((FAMILY, variant, "hard"), seed, label="vendor-tbc")
            task = day.tasks[0]
            tbc = [f for f in task.files if "to be confirmed" in f.content]
            assert len(tbc) == 1
            vendor = re.search(r"^Vendor: (.+)$", tbc[0].content, re.M).group(1)  # type: ignore[union-attr]
            fact = next(f for f in task.facts if f.fact_id.endswith("-lead-time"))
            winners = set()
            for days in (5, 45):
                patched = task.model_copy(deep=True)
                patched.facts = [f.model_copy(update={"reply": f"Yes, {vendor} confirmed a delivery lead time of "
                                                               f"{days} days"}) if f.fact_id == fact.fact_id else f
                                 for f in patched.facts]
                winners.add(_recompute(patched)["vendor"])
            assert len(winners) == 2, f"{variant} seed {seed}"
