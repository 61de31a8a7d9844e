"""meeting_attend: the task is given only in the meeting, and the ground truth follows from what the notes,
the batch file and the rules file say (recomputed here independently of the family's code)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pytest

from conftest import single_task_day
from firstday.tasks.model import TaskInstance

VARIANTS = ("summarise", "filter", "total", "by_department")
DIFFS = ("easy", "medium", "hard")


def _instance(variant: str, difficulty: str, seed: int) -> tuple[TaskInstance, list[Any]]:
    _scenario, day = single_task_day(("meeting_attend", variant, difficulty), seed, label="ma-test")
    assert len(day.tasks) == 1
    return day.tasks[0], day.meetings


def _recompute(task: TaskInstance) -> dict[str, Any]:
    notes = task.meetings[0].notes
    table = next(f.content for f in task.files if f.path.endswith(".csv"))
    rows = list(csv.DictReader(io.StringIO(table)))
    scope = rows
    if "status pending" in notes:
        scope = [r for r in scope if r["status"] == "pending"]
    window = re.search(r"dated (\d{4}-\d\d-\d\d) to (\d{4}-\d\d-\d\d)", notes)
    if window:
        scope = [r for r in scope if window.group(1) <= r["date"] <= window.group(2)]

    def amount(r: dict[str, str]) -> float:
        if "amount" in r:
            return float(r["amount"])
        return int(r["quantity"]) * float(r["unit_price"]) + float(r["shipping"])

    if task.variant == "summarise":
        return {"count": len(scope), "total": round(sum(map(amount, scope)), 2),
                "largest": max(scope, key=amount)["request_id"]}
    if task.variant == "filter":
        rules_doc = next(f.content for f in task.files if f.path.endswith(".md"))
        in_force = rules_doc.split("## Suspended")[0]
        bad = []
        for r in scope:
            broken = False
            if m := re.search(r"amount is above (\d+) must carry", in_force):
                broken |= amount(r) > int(m.group(1)) and not r["quote_ref"]
            if m := re.search(r"Only approved vendors may be used: (.+)\.", in_force):
                broken |= r["vendor"] not in m.group(1).split(", ")
            if m := re.search(r"category (.+) may not exceed (\d+)\.", in_force):
                broken |= r["category"] == m.group(1) and float(r["unit_price"]) > int(m.group(2))
            if m := re.search(r"at least (\d+) days after", in_force):
                days = (dt.date.fromisoformat(r["needed_by"]) - dt.date.fromisoformat(r["date"])).days
                broken |= days < int(m.group(1))
            if broken:
                bad.append(r)
        return {"violations": sorted(r["request_id"] for r in bad), "total": round(sum(map(amount, bad)), 2)}
    key = "category" if task.variant == "total" else "department"
    groups: dict[str, float] = {}
    for r in scope:
        groups[r[key]] = groups.get(r[key], 0.0) + amount(r)
    outer = "totals" if task.variant == "total" else "by_department"
    out: dict[str, Any] = {f"{outer}.{g}": round(v, 2) for g, v in groups.items()}
    if task.variant == "by_department":
        out["top_department"] = max(groups, key=lambda g: groups[g])
    return out


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("difficulty", DIFFS)
def test_ground_truth_follows_from_the_notes_and_files(variant: str, difficulty: str) -> None:
    for seed in range(6):
        task, _ = _instance(variant, difficulty, seed)
        want = _recompute(task)
        assert set(want) == set(task.answers)
        for key, value in want.items():
            got = task.answers[key]
            if isinstance(value, float):
                assert abs(got - value) < 0.011, (seed, key)
            else:
                assert got == value, (seed, key)
        assert all(v not in ([], 0, "") for v in task.answers.values())


@pytest.mark.parametrize("difficulty", DIFFS)
def test_the_task_exists_only_in_the_meeting(difficulty: str) -> None:
    for seed in range(6):
        for variant in VARIANTS:
            task, day_meetings = _instance(variant, difficulty, seed)
            meeting = task.meetings[0]
            csv_path = next(f.path for f in task.files if f.path.endswith(".csv"))
            batch = re.search(r"PB-\d{4}", meeting.notes)
            assert batch is not None
            for secret in (csv_path, batch.group(0), "pending", "submit {"):
                assert secret not in task.objective
            assert meeting.meeting_id in task.objective and meeting.trainee_required
            # the meeting comes after the task and apart from the trainee's other required meetings
            assert meeting.start >= task.arrival + 20
            for other in day_meetings:
                assert meeting.end + 20 <= other.start or other.end + 20 <= meeting.start
            hidden = next(f.hidden for f in task.files if f.path == csv_path)
            assert hidden == (difficulty == "hard")
            if difficulty == "hard":
                holder = task.facts[0].holder
                assert holder in meeting.notes and csv_path not in meeting.notes
