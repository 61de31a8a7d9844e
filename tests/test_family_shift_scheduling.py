"""Shift scheduling: the roster check accepts any valid roster, and the stored optimum is the true one."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import single_task_day
from firstday.tasks import get_family
from firstday.tasks.checks import RosterCheck, roster_violations
from firstday.world.records import DayRecord, Submission

FAMILY = "shift_scheduling"
VARIANTS = get_family(FAMILY).variants
RULES = ("availability", "max_shifts", "skills", "one_per_day")


def _valid_rosters(spec: dict[str, Any], limit: int | None = None) -> list[dict[str, str]]:
    """Valid rosters of a small instance (all of them, or the first ``limit``), by backtracking over the
    spec's own data; each is confirmed by ``roster_violations``."""
    slots = spec["slots"]
    out: list[dict[str, str]] = []
    counts = dict.fromkeys(spec["people"], 0)
    roster: dict[str, str] = {}

    def fits(p: str, slot: dict[str, Any]) -> bool:
        day = spec["day_of"][slot["id"]]
        return (slot["id"] not in spec["unavailable"][p] and counts[p] < spec["max_shifts"][p]
                and (not slot["skill"] or slot["skill"] in spec["skills"].get(p, []))
                and not (spec["one_per_day"] and any(spec["day_of"][s] == day and q == p for s, q in roster.items())))

    def walk(i: int) -> None:
        if limit is not None and len(out) >= limit:
            return
        if i == len(slots):
            out.append(dict(roster))
            return
        for p in spec["people"]:
            if fits(p, slots[i]):
                roster[slots[i]["id"]] = p
                counts[p] += 1
                walk(i + 1)
                counts[p] -= 1
                del roster[slots[i]["id"]]

    walk(0)
    for r in out[:50]:
        v = roster_violations(r, spec)
        assert not v["coverage"] and not any(v[k] for k in RULES)
    return out


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("difficulty", ["easy", "medium"])
def test_the_stored_optimum_is_the_brute_force_optimum(variant: str, difficulty: str) -> None:
    for seed in range(6):
        _, day = single_task_day((FAMILY, variant, difficulty), seed, label="roster-opt")
        spec = day.tasks[0].answers["roster_spec"]
        valid = _valid_rosters(spec)
        assert valid, f"seed {seed}: no valid roster"
        if spec["optimum"] is not None:
            costs = sorted(roster_violations(r, spec)["total_cost"] for r in valid)
            assert costs[0] == pytest.approx(spec["optimum"]), f"seed {seed}"
            assert costs[-1] > costs[0], "the optimisation must matter"
        # the rules bind: ignoring availability would allow more rosters
        relaxed = {**spec, "unavailable": {p: [] for p in spec["people"]}}
        assert len(_valid_rosters(relaxed, limit=len(valid) + 1)) > len(valid)


def _evaluate(answer: Any, spec: dict[str, Any], aspect: str) -> bool:
    record = DayRecord(submissions=[Submission(task_id="t1", time=600, answer=answer)])
    check = RosterCheck(aspect=aspect)
    return check.evaluate(record, "t1", {"roster_spec": spec}, 700).passed


def test_roster_check_accepts_any_valid_roster_and_nothing_partial() -> None:
    _, day = single_task_day((FAMILY, "preferences", "easy"), 1, label="roster-check")
    task = day.tasks[0]
    spec = task.answers["roster_spec"]
    valid = _valid_rosters(spec)
    optimal = [r for r in valid if roster_violations(r, spec)["total_cost"] == spec["optimum"]]
    for roster in optimal:
        assert all(_evaluate({"roster": roster}, spec, a) for a in ("coverage", *RULES, "optimal"))
    worse = [r for r in valid if r not in optimal]
    assert worse and not _evaluate({"roster": worse[0]}, spec, "optimal")
    assert _evaluate({"roster": worse[0]}, spec, "availability")
    roster = optimal[0]
    # case, '@' and one-element lists are accepted
    loose = {k.upper(): [("@" + v).upper()] for k, v in roster.items()}
    assert _evaluate({"roster": loose}, spec, "availability")
    # empty, partial, unknown people or extra shifts fail every aspect
    partial = dict(list(roster.items())[:-1])
    for bad in ({}, partial, {**roster, "Sat": roster["Mon"]}, {**roster, "Mon": "nobody.here"},
                {**roster, "Mon": [roster["Mon"], roster["Tue"]]}, "Mon: x", None):
        for aspect in ("coverage", *RULES, "optimal"):
            assert not _evaluate({"roster": bad}, spec, aspect), (bad, aspect)
    assert not _evaluate({"other": roster}, spec, "coverage")


@pytest.mark.parametrize("variant", VARIANTS)
def test_hard_oracle_roster_is_valid_and_replies_name_real_shifts(variant: str) -> None:
    for seed in range(5):
        _, day = single_task_day((FAMILY, variant, "hard"), seed, label="roster-hard")
        task = day.tasks[0]
        spec = task.answers["roster_spec"]
        roster = task.solution[-1].arguments["answer"]["roster"]  # type: ignore[index]
        v = roster_violations(roster, spec)
        assert not v["coverage"] and not any(v[r] for r in RULES)
        slot_ids = {s["id"] for s in spec["slots"]}
        for p, unavailable in spec["unavailable"].items():
            reply = next(f.reply for f in task.facts if f.fact_id == f"{task.task_id}-avail-{p}")
            assert unavailable and all(u in slot_ids and u in reply for u in unavailable)
