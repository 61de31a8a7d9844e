"""Scoring never fails on agent input (docs/scoring.md, "Not right, with the reason").

Every check kind is fed arbitrary JSON-like values (hypothesis, derandomised) wherever an agent's work reaches
it — the submitted answer and its fields, a file's content, a message's text, the meeting id it names — and
must return an outcome, never raise. The checks come from real generated tasks of every family, so every kind
and every configuration the library uses is covered. A check that raises even on the task's own expected
answer is a task defect: reported on the card, counted 0 in every mean.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import all_meta_tasks, single_task_day
from firstday.scoring.score import score_day, score_task
from firstday.suites import Day
from firstday.tasks.checks import (
    CheckOutcome,
    CsvCheck,
    FileCheck,
    FileItemsCheck,
    MessageCheck,
    MessageOnlyCheck,
    SubmissionCheck,
    TaskDefect,
    compare,
    safe_text,
)
from firstday.tasks.model import Checkpoint, TaskInstance
from firstday.world.records import Attendance, DayRecord, FileVersion, Meeting, SentMessage, Submission

SETTINGS = settings(max_examples=60, derandomize=True, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

HUGE_INT = 10**400
DEEP: Any = []
for _ in range(5000):  # deeper than str() can print
    DEEP = [DEEP]
TEN_MB = "7" * 10_000_000
HOSTILE_VALUES: list[Any] = [
    HUGE_INT, -HUGE_INT, 10**5000, float("nan"), float("inf"), float("-inf"), "1e999", "-1e999", "nan", "inf",
    "NaN%", "$1e400", "", None, True, [], {}, {1: 2, None: 3}, [[1, 2], {"a": [None]}], DEEP, {"x": DEEP},
    TEN_MB, "\x00" * 10, "a,b\n\x00,\"unclosed", 1.5, -0.0, 10**20, ["1e999", HUGE_INT],
]

json_scalars = (st.none() | st.booleans() | st.integers() | st.integers(min_value=10**300, max_value=10**5000)
                | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=50)
                | st.sampled_from(["1e999", "nan", "-inf", "Infinity", "1,000", "$5", "12%", "0x10", "  "]))
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=10) | st.integers(), children, max_size=5),
    max_leaves=25,
)
csv_texts = st.lists(st.lists(st.text(max_size=12) | st.sampled_from(["1e999", "nan", "\"", "\r", ";", ","]),
                              max_size=6), max_size=8).map(
    lambda rows: "\n".join(",".join(r) for r in rows))
file_texts = st.text(max_size=300) | csv_texts | st.sampled_from(["", "\x00", "a\x00b,c\n1,2", "\ufeffid,x\n1,2"])


@cache
def library_checkpoints() -> list[tuple[TaskInstance, Checkpoint]]:
    """One task of every meta-task's first seed — every check kind and configuration the library uses."""
    out = []
    for meta in all_meta_tasks():
        _, day = single_task_day(meta, 0, label="total")
        out += [(t, cp) for t in day.tasks for cp in t.checkpoints]
    return out


@cache
def one_per_configuration() -> list[tuple[TaskInstance, Checkpoint]]:
    """One library checkpoint per (kind, comparison/aspect) — the hostile values are costly (10 MB, deep)."""
    seen: dict[tuple[str, str, str], tuple[TaskInstance, Checkpoint]] = {}
    for t, cp in library_checkpoints():
        c = cp.check
        seen.setdefault((c.kind, str(getattr(c, "compare", "")), str(getattr(c, "aspect", ""))), (t, cp))
    return list(seen.values())


def kinds() -> list[str]:
    return sorted({cp.check.kind for _, cp in library_checkpoints()})


def _nest(field: str, value: Any) -> Any:
    for part in reversed([p for p in field.split(".") if p]):
        value = {part: value}
    return value


def record_with(task: TaskInstance, cp: Checkpoint, value: Any, text: str) -> DayRecord:
    """A record where the agent's value reaches the check everywhere it can: as the whole answer and as the
    checked field, as a meeting id, as the content of the checked file, as a message to the checked colleague."""
    t = task.arrival + 1
    check = cp.check
    field = getattr(check, "field", None) or ""
    subs = [Submission(task_id=task.task_id, time=t, answer=value),
            Submission(task_id=task.task_id, time=t + 1, answer=_nest(field, value) if field else value)]
    meetings = {"b1": Meeting(meeting_id="b1", title=safe_text(value)[:40], start=t + 30, end=t + 60, room="r",
                              organizer="trainee", attendees=[], created_at=t, booked_by_trainee=True)}
    path = getattr(check, "path", None)
    files = {path: [FileVersion(time=t, content=text, author="trainee")]} if path else {}
    to = [check.to] if isinstance(check, MessageCheck | MessageOnlyCheck) else []
    return DayRecord(submissions=subs, files=files, meetings=meetings,
                     attendance=[Attendance(meeting_id="b1", joined_at=t + 31)],
                     messages=[SentMessage(time=t, to=[*to, "someone"], text=text)], end_time=task.deadline + 60)


def assert_total(task: TaskInstance, cp: Checkpoint, value: Any, text: str) -> None:
    record = record_with(task, cp, value, text)
    for at in (task.deadline, record.end_time):
        out = cp.check.evaluate(record, task.task_id, task.answers, at, since=task.arrival)
        assert isinstance(out, CheckOutcome) and isinstance(out.passed, bool) and isinstance(out.detail, str)
    card = score_task(task, record, record.end_time)
    assert card.error is None, card.error
    json.dumps(card.model_dump(mode="json"))  # the card (feedback included) is saveable


@pytest.mark.parametrize("kind", kinds())
@SETTINGS
@given(value=json_values, text=file_texts, pick=st.integers(min_value=0))
def test_every_check_kind_is_total_over_agent_input(kind: str, value: Any, text: str, pick: int) -> None:
    pairs = [(t, cp) for t, cp in library_checkpoints() if cp.check.kind == kind]
    task, cp = pairs[pick % len(pairs)]
    assert_total(task, cp, value, text)


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=lambda v: type(v).__name__)
def test_hostile_values_score_not_right_in_every_library_check(value: Any) -> None:
    text = value if isinstance(value, str) else "x"
    for task, cp in one_per_configuration():
        assert_total(task, cp, value, text)


def test_huge_numbers_are_not_right_with_a_reason() -> None:
    """The attack that used to make a task a scoring error (and leave every mean): 1 followed by 400 zeros."""
    check = SubmissionCheck(field="total_cost", expected="cost", compare="number_close", tolerance=0.01)
    for bad in (HUGE_INT, "1e999", float("nan"), "nan", float("inf"), [1], {"v": 1}, DEEP):
        record = DayRecord(submissions=[Submission(task_id="t1", time=5, answer={"total_cost": bad})])
        out = check.evaluate(record, "t1", {"cost": 120.0}, 100)
        assert not out.passed and ("expected a number" in out.detail or "could not be judged" in out.detail)
        assert out.attempted_at == 5
    ok = DayRecord(submissions=[Submission(task_id="t1", time=5, answer={"total_cost": "120"})])
    assert check.evaluate(ok, "t1", {"cost": 120.0}, 100).passed
    assert compare(10**400, 10**400, "number_close", 0.0) == (False, "expected a number")


def test_unreadable_csv_is_not_right() -> None:
    check = CsvCheck(path="d.csv", aspect="filled", expected="cells")
    huge_field = "id,x\n1," + "9" * 200_000 + "\n"  # beyond the csv module's field size limit
    for content in (huge_field, "\x00\x00", "id,x\n1\n2,3,4,5\n", "\ufeff"):
        record = DayRecord(files={"d.csv": [FileVersion(time=0, content="id,x\n1,\n", author="initial"),
                                            FileVersion(time=5, content=content, author="trainee")]})
        out = check.evaluate(record, "t1", {"cells": [[0, "x", 2.0]]}, 100)
        assert not out.passed


def test_a_check_failing_on_its_own_answer_is_a_defect_not_the_agents_fault() -> None:
    """The rule: an exception that also happens with the agent's value replaced by the expected answer (or that
    does not involve the agent's value) is a task defect; one only the agent's value causes is "not right"."""
    record = DayRecord(messages=[SentMessage(time=5, to=["a"], text="hello")])
    with pytest.raises(TaskDefect):  # an empty expected code would be "contained" in every message
        MessageCheck(to="a", expected="code").evaluate(record, "t1", {"code": "  "}, 100)
    task, cp = next((t, cp) for t, cp in library_checkpoints()
                    if isinstance(cp.check, FileItemsCheck)
                    or (isinstance(cp.check, FileCheck) and cp.check.compare != "equals"))
    broken = task.model_copy(update={"answers": dict.fromkeys(task.answers, 5)})  # not a list of items
    record = record_with(broken, cp, "x", "x")
    card = score_task(broken, record, record.end_time)
    assert card.error is not None and "scoring defect" in card.error
    assert card.score == 0.0 and card.success is False, "a defect counts 0"
    day = Day(day_index=0, day_start=0, day_end=record.end_time, tasks=[broken, task])
    metrics = score_day("s", day, record).metrics
    assert metrics.errors == 1 and metrics.tasks == 2 and metrics.scored_tasks == 1
    assert metrics.score is not None and metrics.score <= 0.5, "the defective task is averaged as 0, not dropped"
