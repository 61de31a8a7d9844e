"""attendance_statistics: every answer follows from the clock-in log, the manual's department table and the
managers' make-up approvals (recomputed here from the texts an agent can obtain), approvals really change the
asked department's figure, and two tasks of the family on one day never answer for each other."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from typing import Any

import pytest

from conftest import SINGLE_TASK_SPEC, seeded_company, single_task_day
from firstday.seeding import derive_seed
from firstday.suites import generate_day
from firstday.tasks.model import TaskInstance
from firstday.world.colleagues import Responder

VARIANTS = ("late_early", "absences", "overtime", "remote_days")


def _task(variant: str, difficulty: str, seed: int) -> TaskInstance:
    _scenario, day = single_task_day(("attendance_statistics", variant, difficulty), seed, label="att-test")
    assert len(day.tasks) == 1
    return day.tasks[0]


def _minutes(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def _recompute(task: TaskInstance, use_approvals: bool = True) -> dict[str, Any]:
    manual = next(f.content for f in task.files if f.path.endswith(".md"))
    log = next(f.content for f in task.files if f.path.endswith(".csv"))
    policy: dict[str, dict[str, int]] = {}
    for line in manual.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 8 and re.fullmatch(r"\d\d:\d\d-\d\d:\d\d", cells[1]):
            start, end = cells[1].split("-")
            policy[cells[0]] = {"start": _minutes(start), "end": _minutes(end), "grace": int(cells[2]),
                                "break": int(cells[3]), "after": round(float(cells[4]) * 60),
                                "block": int(cells[5]), "cap": int(cells[6]), "warn": int(cells[7])}
    approved: set[tuple[str, str]] = set()
    if use_approvals:
        for fact in task.facts:
            if fact.topic.startswith("make-up approvals of"):
                approved |= set(re.findall(r"([A-Z][\w'-]+(?: [A-Z][\w'-]+)+) on (\d{4}-\d\d-\d\d)", fact.reply))
    count: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    dept: dict[str, str] = {}
    for row in csv.DictReader(io.StringIO(log)):
        who, p = row["employee"], policy[row["department"]]
        dept[who] = row["department"]
        count[who]["seen"] += 1
        if (who, row["date"]) in approved or row["mode"] == "leave":
            continue
        if not row["clock_in"]:
            count[who]["absent"] += 1
            continue
        cin, cout = _minutes(row["clock_in"]), _minutes(row["clock_out"])
        count[who]["late"] += cin > p["start"] + p["grace"]
        count[who]["early"] += cout < p["end"]
        extra = cout - cin - p["break"] - p["after"]
        count[who]["overtime"] += extra if extra >= p["block"] else 0
        count[who]["remote"] += row["mode"] == "remote"
    target = next(d for d in sorted(policy) if re.search(rf" in {re.escape(d)}[ ,(]", task.objective))
    mine = [c for who, c in count.items() if dept[who] == target]
    if task.variant == "late_early":
        return {"late_arrivals": sum(c["late"] for c in mine), "early_leaves": sum(c["early"] for c in mine),
                "warned": sorted(w for w, c in count.items() if c["late"] + c["early"] >= policy[dept[w]]["warn"])}
    if task.variant == "absences":
        return {"absences": sum(c["absent"] for c in mine),
                "absent_employees": sorted(w for w, c in count.items() if c["absent"])}
    if task.variant == "overtime":
        best = max(c["overtime"] for c in count.values())
        return {"overtime_hours": round(sum(c["overtime"] for c in mine) / 60, 2),
                "top_overtime": sorted(w for w, c in count.items() if c["overtime"] == best)}
    return {"remote_days": sum(c["remote"] for c in mine),
            "over_cap": sorted(w for w, c in count.items() if c["remote"] > policy[dept[w]]["cap"])}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_answers_follow_from_the_log_the_manual_and_the_approvals(variant: str, difficulty: str) -> None:
    for seed in range(4):
        task = _task(variant, difficulty, seed)
        want = _recompute(task)
        assert set(want) == set(task.answers)
        for key, value in want.items():
            got = task.answers[key]
            if isinstance(value, list):
                assert got == value and value, (seed, key)
            else:
                assert value and abs(float(got) - value) < 0.006, (seed, key)
        # the asked department's figure is different when the approvals are ignored
        first = next(k for k, v in want.items() if not isinstance(v, list))
        assert _recompute(task, use_approvals=False)[first] != want[first], (seed, "approvals do not matter")


def test_manual_and_approvals_are_hidden_behind_the_reference_code() -> None:
    task = _task("late_early", "hard", 1)
    code = re.findall(r"ATT-\d{4}", task.objective)[0]
    manual = next(f for f in task.files if f.path.endswith(".md"))
    assert manual.hidden and code in manual.content
    assert all(f.require_any == [code] for f in task.facts)
    for f in task.facts:  # nothing about the rules or approvals in the public objective
        assert f.reply not in task.objective
    assert "grace" not in task.objective and " on 2025-" not in task.objective


def test_two_tasks_on_one_day_never_answer_for_each_other() -> None:
    company = seeded_company("att-two", 0)
    meta = ("attendance_statistics", "absences", "medium")
    day, _ = generate_day(company, SINGLE_TASK_SPEC, derive_seed("tests", "att-two", 0), 0,
                          meta=[meta, meta])  # type: ignore[list-item]
    tasks = [t for t in day.tasks if t.family == "attendance_statistics"]
    assert len(tasks) == 2
    codes = [re.findall(r"ATT-\d{4}", t.objective)[0] for t in tasks]
    assert codes[0] != codes[1]
    responder = Responder(company.employees, [f for t in day.tasks for f in t.facts])
    for task, code in zip(tasks, codes, strict=True):
        holder = next(f for f in task.facts if f.fact_id.endswith("-manual"))
        reply = responder.respond(holder.holder, f"Could you share the attendance policy manual {code}?")
        assert reply is not None and reply.fact_id == holder.fact_id
