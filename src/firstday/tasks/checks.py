"""Declarative checkpoint checks, evaluated over a day's record as of a given time.

A check is data (saved with the suite, hidden from agents) and a pure function of the record. Each
check kind says what it looked at and when the agent produced it (``attempted_at``), which is what the
unsupported-answer metric needs.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from firstday.world.records import DayRecord, Meeting, Submission


@dataclass(frozen=True)
class CheckOutcome:
    passed: bool
    detail: str
    attempted_at: int | None = None


class TaskDefect(Exception):
    """A check cannot be evaluated even on the task's own expected answer: a defect of the task (its
    generator), never of the agent. Scoring reports it loudly and counts the task 0."""


_MAX_TEXT = 1_000_000  # characters of an agent's value that are compared; longer ones are cut, not refused


def safe_text(x: Any) -> str:
    """``str(x)`` for any value an agent can submit: integers too long to print in decimal (Python refuses
    more than 4,300 digits), structures too deep to print, and values whose ``str`` raises give a
    placeholder that equals no expected answer, instead of an exception."""
    try:
        text = x if isinstance(x, str) else str(x)
    except Exception:  # ValueError (digits), RecursionError (depth), MemoryError, or a foreign __str__
        return f"<unprintable {type(x).__name__}>"
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT]


def norm_text(x: Any) -> str:
    return " ".join(safe_text(x).strip().lower().split())


# answers' keys are a small vocabulary of short strings, matched by every check of every episode (long
# keys, e.g. from an agent's odd answer, are not kept)
_norm_str = functools.lru_cache(maxsize=4096)(norm_text)


def _norm_key(k: Any) -> str:
    return _norm_str(k) if type(k) is str and len(k) <= 200 else norm_text(k)


def _dig(answer: Any, field: str) -> tuple[bool, Any]:
    cur = answer
    for part in [p for p in field.split(".") if p]:
        if isinstance(cur, Mapping):
            want = _norm_key(part)  # once, not once per key
            match = next((k for k in cur if _norm_key(k) == want), None)
            if match is None:
                return False, None
            cur = cur[match]
        else:
            return False, None
    return True, cur


def _as_number(x: Any) -> float | None:
    """A finite number, or ``None`` for anything else (booleans, NaN, infinities, integers beyond the float
    range, numeric strings that overflow such as "1e999", non-numbers)."""
    if isinstance(x, bool):
        return None
    if isinstance(x, str):
        if len(x) > 400:  # no real number is written this long; float() of a huge digit string is slow
            return None
        try:
            x = float(x.replace(",", "").replace("$", "").replace("%", "").strip())
        except ValueError:
            return None
    if isinstance(x, int):
        try:
            x = float(x)
        except OverflowError:
            return None
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    return None


def _as_set(x: Any) -> set[str] | None:
    if isinstance(x, str):
        return {norm_text(p) for p in safe_text(x).split(",") if p.strip()}
    if isinstance(x, list | tuple):
        return {norm_text(p) for p in x}
    return None


_NO_REFERENCE = object()


#: how a failed message check names its recipient: never by name, which may be what the task hides (whom to
#: route to), and the feedback must not reveal the expected value (docs/scoring.md)
MEANT_FOR = "the colleague it was meant for"


def _judged(judge: Callable[[Any], CheckOutcome], value: Any, reference: Any, what: str,
            attempted: int | None) -> CheckOutcome:
    """``judge(value)`` for a value the agent produced, total over whatever that is.

    If judging raises, the same judge is run on ``reference`` (the task's own expected value): if that
    raises too, the check itself is broken (:class:`TaskDefect`); otherwise the agent's value is what
    could not be judged, and it is simply not right, with the reason. With no reference, everything the
    expected answer needs was prepared before, so an exception here can only come from the agent's value.
    """
    try:
        return judge(value)
    except Exception as exc:
        if reference is not _NO_REFERENCE:
            try:
                judge(reference)
            except Exception as ref_exc:
                raise TaskDefect(f"the check fails on the task's own expected answer: "
                                 f"{type(ref_exc).__name__}: {safe_text(ref_exc)[:200]}") from exc
        return CheckOutcome(False, f"{what} could not be judged ({type(exc).__name__}); it is not right",
                            attempted)


def compare(value: Any, expected: Any, how: str, tolerance: float) -> tuple[bool, str]:
    """Compare a submitted value with the expected one. Details never reveal the expected value."""
    if how == "set_equals":
        got, exp = _as_set(value), _as_set(expected)
        if got is None or exp is None:
            return False, "expected a list"
        if got == exp:
            return True, "correct set"
        return False, f"the set is wrong: {len(exp - got)} missing, {len(got - exp)} unexpected"
    if how == "number_close":
        got_n, exp_n = _as_number(value), _as_number(expected)
        if got_n is None or exp_n is None:
            return False, "expected a number"
        ok = abs(got_n - exp_n) <= tolerance * max(1.0, abs(exp_n))
        return ok, "value within tolerance" if ok else "the value is off"
    if how == "equals":
        ok = norm_text(value) == norm_text(expected)
        return ok, "correct" if ok else "the value is wrong"
    if how == "contains":
        ok = norm_text(expected) in norm_text(value)
        return ok, "contains the expected value" if ok else "the expected value is missing"
    raise ValueError(f"unknown comparison {how!r}")


def _last_submission(record: DayRecord, task_id: str, at: int, since: int) -> Submission | None:
    """The task's last submission in the window ``[since, at]``; earlier ones do not count."""
    found = None
    for s in record.submissions:
        if s.task_id == task_id and since <= s.time <= at:
            found = s
    return found


def _judged_dig(answer: Any, field: str) -> tuple[bool, Any]:
    """:func:`_dig`, where an answer that cannot be walked (e.g. keys whose text cannot be made) has no field."""
    try:
        return _dig(answer, field)
    except Exception:
        return False, None


def _trainee_edits(record: DayRecord, path: str, at: int, since: int) -> list[int]:
    """Times of the trainee's (or its code runner's) versions of ``path`` in the window ``[since, at]``."""
    return [v.time for v in record.files.get(path, ()) if v.author != "initial" and since <= v.time <= at]


class SubmissionCheck(BaseModel):
    """A field of the task's last on-time submission compared with a hidden answer."""

    kind: Literal["submission"] = "submission"
    field: str = Field(description="dot path into the submitted answer; '' for the whole answer")
    expected: str = Field(description="key into the task's hidden answers")
    compare: Literal["equals", "set_equals", "number_close", "contains"] = "equals"
    tolerance: float = 0.0

    def evaluate(self, record: DayRecord, task_id: str, answers: Mapping[str, Any], at: int,
                 since: int = 0) -> CheckOutcome:
        sub = _last_submission(record, task_id, at, since)
        if sub is None:
            return CheckOutcome(False, "nothing was submitted for this task")
        found, value = _judged_dig(sub.answer, self.field)
        if not found:
            return CheckOutcome(False, f"the submission has no field '{self.field}'", sub.time)
        expected = answers[self.expected]

        def judge(v: Any) -> CheckOutcome:
            ok, detail = compare(v, expected, self.compare, self.tolerance)
            return CheckOutcome(ok, f"'{self.field or 'answer'}': {detail}", sub.time)

        return _judged(judge, value, expected, f"'{self.field or 'answer'}'", sub.time)


class SubmittedCheck(BaseModel):
    """The task was submitted at all (not answer-bearing)."""

    kind: Literal["submitted"] = "submitted"

    def evaluate(self, record: DayRecord, task_id: str, answers: Mapping[str, Any], at: int,
                 since: int = 0) -> CheckOutcome:
        sub = _last_submission(record, task_id, at, since)
        return CheckOutcome(sub is not None, "submitted" if sub else "nothing was submitted",
                            sub.time if sub else None)


def _norm_lines(text: str) -> list[str]:
    return [ln.rstrip() for ln in text.strip().splitlines()]


class FileCheck(BaseModel):
    """The content of a drive file as of the deadline."""

    kind: Literal["file"] = "file"
    path: str
    expected: str = Field(description="key into answers: full text ('equals') or list of strings")
    compare: Literal["equals", "contains_all", "excludes_all"] = "equals"

    def evaluate(self, record: DayRecord, task_id: str, answers: Mapping[str, Any], at: int,
                 since: int = 0) -> CheckOutcome:
        version = record.file_at(self.path, at)
        edits = _trainee_edits(record, self.path, at, since)
        attempted = edits[-1] if edits else None
        if version is None:
            return CheckOutcome(False, f"{self.path} does not exist", attempted)
        if not edits:
            # the content as of the deadline is compared, but only the trainee's own edit for this task (at or
            # after its arrival) can earn it: an untouched file, or one edited for an earlier task, does not
            return CheckOutcome(False, f"{self.path} was not changed after the task arrived")
        exp = answers[self.expected]
        if self.compare == "equals":
            want = _norm_lines(str(exp))

            def judge_equals(content: Any) -> CheckOutcome:
                got = _norm_lines(safe_text(content))
                if got == want:
                    return CheckOutcome(True, f"{self.path} is correct", attempted)
                wrong = sum(1 for a, b in zip(got, want, strict=False) if a != b) + abs(len(got) - len(want))
                return CheckOutcome(False, f"{self.path} differs from what was needed on {wrong} line(s)", attempted)

            return _judged(judge_equals, version.content, str(exp), self.path, attempted)
        items = [str(x) for x in exp]
        if self.compare == "contains_all":
            def judge_contains(content: Any) -> CheckOutcome:
                missing = [x for x in items if x not in safe_text(content)]
                # the agent attempted these items only if it wrote them: leaving an item alone is no claim
                return CheckOutcome(not missing, f"{self.path}: {len(missing)} required item(s) missing",
                                    attempted if not missing else None)

            return _judged(judge_contains, version.content, "\n".join(items), self.path, attempted)

        def judge_excludes(content: Any) -> CheckOutcome:
            present = [x for x in items if x in safe_text(content)]
            return CheckOutcome(not present, f"{self.path}: {len(present)} item(s) that should be gone remain",
                                attempted)

        return _judged(judge_excludes, version.content, "", self.path, attempted)


def _submitted_meeting(record: DayRecord, task_id: str, field: str, at: int,
                       since: int = 0) -> tuple[Meeting | None, str, int | None]:
    sub = _last_submission(record, task_id, at, since)
    if sub is None:
        return None, "nothing was submitted for this task", None
    found, value = _judged_dig(sub.answer, field)
    if not found:
        return None, f"the submission has no field '{field}'", sub.time
    if value is None or isinstance(value, bool | dict | list | tuple):
        return None, f"'{field}' does not name a meeting", sub.time
    key = safe_text(value).strip()
    # a booking made before the task arrived was made for something else: it never counts for this task
    mine = {mid: x for mid, x in record.meetings.items() if x.booked_by_trainee and x.created_at >= since}
    m = mine.get(key)
    if m is None:
        # the field may also hold the booking's exact title: ids are assigned by the world in booking order, so
        # a plan written at generation time (the oracle's) can only name its booking by the (unique) title.
        # With several bookings of that title, the latest one live at `at` counts.
        titled = [x for x in mine.values() if norm_text(x.title) == norm_text(key)]
        live = [x for x in titled if x.created_at <= at and (x.cancelled_at is None or x.cancelled_at > at)]
        m = live[-1] if live else titled[-1] if titled else None
    if m is None:
        return None, "the submitted meeting id is not one of your bookings made for this task", sub.time
    if m.created_at > at or (m.cancelled_at is not None and m.cancelled_at <= at):
        return None, "the submitted meeting was not booked (or was cancelled) by the deadline", sub.time
    return m, "", m.created_at


class MeetingCheck(BaseModel):
    """A property of the meeting whose id (or exact title) the task's submission names."""

    kind: Literal["meeting"] = "meeting"
    field: str = "meeting_id"
    aspect: Literal["exists", "start", "attendees_include", "attendees_exclude", "attendees_equal", "duration",
                    "room"]
    expected: str | None = Field(default=None, description="key into answers (not needed for 'exists')")

    def evaluate(self, record: DayRecord, task_id: str, answers: Mapping[str, Any], at: int,
                 since: int = 0) -> CheckOutcome:
        m, why, attempted = _submitted_meeting(record, task_id, self.field, at, since)
        if m is None:
            return CheckOutcome(False, why, attempted)
        if self.aspect == "exists":
            return CheckOutcome(True, "the meeting is booked", attempted)
        exp = answers[self.expected or ""]
        if self.aspect == "start":
            ok = m.start == int(exp)
            detail = "the start time is right" if ok else "the meeting starts at the wrong time"
            return CheckOutcome(ok, detail, attempted)
        if self.aspect == "room":
            ok = m.room == str(exp)
            return CheckOutcome(ok, "the room is right" if ok else "the meeting is in the wrong room", attempted)
        if self.aspect == "duration":
            ok = m.end - m.start == int(exp)
            return CheckOutcome(ok, "the length is right" if ok else "the meeting has the wrong length", attempted)
        got, want = set(m.attendees), set(exp)
        if self.aspect == "attendees_include":
            missing = want - got
            return CheckOutcome(not missing, f"{len(missing)} required attendee(s) not invited", attempted)
        if self.aspect == "attendees_exclude":
            bad = want & got
            return CheckOutcome(not bad, f"{len(bad)} invitee(s) who cannot attend were invited", attempted)
        ok = got == want
        return CheckOutcome(ok, "the invitees are right" if ok else
                            f"invitees wrong: {len(want - got)} missing, {len(got - want)} unexpected", attempted)


class AttendedCheck(BaseModel):
    """The trainee joined a meeting no later than ``max_late`` minutes after it started."""

    kind: Literal["attended"] = "attended"
    meeting_id: str | None = None
    field: str | None = Field(default=None, description="or: the submitted field naming the meeting")
    max_late: int = 5

    def evaluate(self, record: DayRecord, task_id: str, answers: Mapping[str, Any], at: int,
                 since: int = 0) -> CheckOutcome:
        mid = self.meeting_id
        if mid is None:
            m, why, _ = _submitted_meeting(record, task_id, self.field or "meeting_id", 10**6, since)
            if m is None:
                return CheckOutcome(False, why)
            mid = m.meeting_id
        meeting = record.meetings.get(mid)
        # a join before the task arrived was not for this task (a meeting the task is about starts after it)
        joins = [a.joined_at for a in record.attendance if a.meeting_id == mid and a.joined_at >= since]
        if meeting is None or not joins:
            return CheckOutcome(False, "the meeting was not attended")
        ok = min(joins) <= meeting.start + self.max_late
        return CheckOutcome(ok, "attended on time" if ok else "joined the meeting late", min(joins))


class MessageCheck(BaseModel):
    """The trainee sent a colleague a message containing a hidden value (e.g. an approval code).

    Two options make it precise. ``not_to``: colleagues the value must not reach — a message containing it
    sent to any of them by the deadline fails the check, so messaging everyone who might be concerned does
    not pass. ``since`` and ``within_minutes``: the message must reach ``to`` no earlier than ``since`` (the
    minute the value became visible, e.g. a dashboard refresh) and at most ``within_minutes`` after it, so
    reacting to a change long after it happened does not pass either.
    """

    kind: Literal["message"] = "message"
    to: str
    expected: str
    not_to: list[str] = Field(default_factory=list,
                              description="handles the value must not be sent to (``to`` itself is ignored)")
    since: int | None = Field(default=None, description="minute from which a message counts (with within_minutes)")
    within_minutes: int | None = Field(default=None, ge=0, description="a message counts only if sent at most "
                                       "this many minutes after ``since``")
    together_with: list[str] = Field(default_factory=list, description="keys into answers whose values must be in "
                                     "the same message (e.g. the service a severity is about), so a short value "
                                     "sent for another task of the day does not count for this one")

    @model_validator(mode="after")
    def _window_needs_a_start(self) -> MessageCheck:
        if self.within_minutes is not None and self.since is None:
            raise ValueError("within_minutes needs since (the minute the value became visible)")
        return self

    def evaluate(self, record: DayRecord, task_id: str, answers: Mapping[str, Any], at: int,
                 since: int = 0) -> CheckOutcome:
        want = norm_text(answers[self.expected])
        if not want:
            raise TaskDefect("the expected value of a message check is empty (any message would contain it)")
        context = [norm_text(answers[k]) for k in self.together_with]
        # messages sent before the task arrived were about something else: they neither pass nor fail it
        sent = [m for m in record.messages if since <= m.time <= at and want in (text := norm_text(m.text))
                and all(c in text for c in context)]
        hits = [m.time for m in sent if self.to in m.to]
        if not hits:
            return CheckOutcome(False, f"no message with the needed information reached {MEANT_FOR}")
        banned = set(self.not_to) - {self.to}
        stray = [m.time for m in sent if banned & set(m.to)]
        if stray:
            return CheckOutcome(False, "the information also reached colleague(s) it was not meant for",
                                min(hits[0], stray[0]))
        if self.since is not None:
            end = self.since + self.within_minutes if self.within_minutes is not None else None
            timely = [t for t in hits if t >= self.since and (end is None or t <= end)]
            if not timely:
                if all(t < self.since for t in hits):
                    return CheckOutcome(False, f"no message with the needed information reached {MEANT_FOR} "
                                               "after the change", hits[0])
                return CheckOutcome(False, f"the message reached {MEANT_FOR} more than {self.within_minutes} "
                                           "minutes after the change", hits[0])
            return CheckOutcome(True, "the right message was sent in time", timely[0])
        return CheckOutcome(True, "the right message was sent", hits[0])


RosterAspect = Literal["coverage", "availability", "max_shifts", "skills", "one_per_day", "optimal"]


def _roster_people(value: Any) -> list[str] | None:
    """The handles assigned to one slot: a handle, or a list of handles."""
    if isinstance(value, str):
        return [norm_text(value).lstrip("@")]
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return [norm_text(v).lstrip("@") for v in value]
    return None


def roster_violations(roster: Any, spec: Mapping[str, Any]) -> dict[str, float]:
    """Count the violations of each rule of ``spec`` by a submitted roster (``{slot: handle}``).

    ``spec`` (a task's hidden answer) holds ``slots`` (ids, each with an optional required ``skill``),
    ``people`` (the pool), ``unavailable`` (handle -> slot ids), ``max_shifts`` (handle -> int),
    ``skills`` (handle -> skills), ``one_per_day`` and ``day_of`` (slot id -> day), and optionally
    ``cost`` (handle -> slot id -> number). The result also carries ``total_cost`` when costs are given.
    A roster that does not put exactly one pool member on every slot (and nothing else) has coverage
    violations; the other counts are only meaningful when coverage is 0.
    """
    slots: list[dict[str, Any]] = list(spec["slots"])
    pool = {norm_text(p) for p in spec["people"]}
    out: dict[str, float] = dict.fromkeys(("coverage", "availability", "max_shifts", "skills", "one_per_day"), 0)
    if not isinstance(roster, Mapping):
        out["coverage"] = len(slots) or 1
        return out
    by_slot: dict[str, str] = {}
    wanted = {norm_text(s["id"]): s["id"] for s in slots}
    for key, value in roster.items():
        sid = wanted.get(norm_text(key))
        people = _roster_people(value)
        if sid is None or people is None or len(people) != 1 or people[0] not in pool or sid in by_slot:
            out["coverage"] += 1
            continue
        by_slot[sid] = people[0]
    out["coverage"] += sum(1 for s in slots if s["id"] not in by_slot)
    unavailable = {norm_text(h): set(v) for h, v in spec.get("unavailable", {}).items()}
    skills = {norm_text(h): set(v) for h, v in spec.get("skills", {}).items()}
    counts: dict[str, int] = {}
    per_day: dict[tuple[str, str], int] = {}
    total = 0.0
    cost = {norm_text(h): v for h, v in (spec.get("cost") or {}).items()}
    for s in slots:
        h = by_slot.get(s["id"])
        if h is None:
            continue
        counts[h] = counts.get(h, 0) + 1
        day = spec.get("day_of", {}).get(s["id"], s["id"])
        per_day[(h, day)] = per_day.get((h, day), 0) + 1
        out["availability"] += s["id"] in unavailable.get(h, set())
        out["skills"] += bool(s.get("skill")) and s.get("skill") not in skills.get(h, set())
        total += float(cost.get(h, {}).get(s["id"], 0.0))
    limits = {norm_text(h): int(v) for h, v in spec.get("max_shifts", {}).items()}
    out["max_shifts"] = sum(max(0, n - limits.get(h, n)) for h, n in counts.items())
    if spec.get("one_per_day"):
        out["one_per_day"] = sum(n - 1 for n in per_day.values() if n > 1)
    out["total_cost"] = total
    return out


class RosterCheck(BaseModel):
    """One rule of a shift roster (``{slot: handle}``) checked against the constraints in a hidden answer.

    Every aspect fails unless the roster covers each slot with exactly one pool member (so an empty or
    partial roster earns nothing); ``optimal`` also needs every rule met and the roster's total cost to
    equal the optimum stored in the spec (any optimal roster is accepted, not one particular one).
    """

    kind: Literal["roster"] = "roster"
    field: str = Field(default="roster", description="dot path of the roster in the submission")
    aspect: RosterAspect
    expected: str = Field(default="roster_spec", description="key into answers: the constraints")

    def evaluate(self, record: DayRecord, task_id: str, answers: Mapping[str, Any], at: int,
                 since: int = 0) -> CheckOutcome:
        sub = _last_submission(record, task_id, at, since)
        if sub is None:
            return CheckOutcome(False, "nothing was submitted for this task")
        found, roster = _judged_dig(sub.answer, self.field)
        if not found:
            return CheckOutcome(False, f"the submission has no field '{self.field}'", sub.time)
        spec = answers[self.expected]
        return _judged(lambda r: self._judge(r, spec, sub.time), roster, {}, "the roster", sub.time)

    def _judge(self, roster: Any, spec: Mapping[str, Any], attempted: int) -> CheckOutcome:
        sub_time = attempted
        v = roster_violations(roster, spec)
        if v["coverage"]:
            return CheckOutcome(False, f"the roster does not cover every slot with exactly one person from the "
                                       f"pool ({int(v['coverage'])} problem(s))", sub_time)
        if self.aspect == "coverage":
            return CheckOutcome(True, "every slot is covered", sub_time)
        if self.aspect == "optimal":
            rules = sum(v[k] for k in ("availability", "max_shifts", "skills", "one_per_day"))
            if rules:
                return CheckOutcome(False, "the roster breaks a rule, so it cannot be the best one", sub_time)
            ok = abs(float(v["total_cost"]) - float(spec["optimum"])) < 1e-6
            return CheckOutcome(ok, "the roster is optimal" if ok else "a better roster exists", sub_time)
        n = v[self.aspect]
        return CheckOutcome(n == 0, f"{self.aspect.replace('_', ' ')}: " + (
            "respected" if n == 0 else f"{int(n)} violation(s)"), sub_time)


class CsvCheck(BaseModel):
    """Cells of a CSV file as of the deadline: ``filled`` cells within tolerance of hidden values, or every
    cell that was ``preserved`` left as it was. Both fail while the agent has not edited the file, so
    leaving the file alone never scores."""

    kind: Literal["csv"] = "csv"
    path: str
    aspect: Literal["filled", "preserved"]
    expected: str = Field(description="key into answers: filled -> [[row, column, value], ...]; preserved -> "
                                      "the original CSV text (blank cells are the ones to fill)")
    abs_tol: float = 0.0
    rel_tol: float = 0.0

    def evaluate(self, record: DayRecord, task_id: str, answers: Mapping[str, Any], at: int,
                 since: int = 0) -> CheckOutcome:
        version = record.file_at(self.path, at)
        edits = _trainee_edits(record, self.path, at, since)
        if version is None:
            return CheckOutcome(False, f"{self.path} does not exist", edits[-1] if edits else None)
        if not edits:
            return CheckOutcome(False, f"{self.path} was not changed after the task arrived")
        attempted = edits[-1]
        exp = answers[self.expected]
        if self.aspect == "filled":
            # the expected cells are prepared here, outside the judging of the agent's file: a bad one is a defect
            cells = [(int(row), str(column), float(value)) for row, column, value in exp]
            return _judged(lambda content: self._judge_filled(content, cells, attempted), version.content,
                           _NO_REFERENCE, self.path, attempted)
        original = list(csv.DictReader(io.StringIO(str(exp))))
        return _judged(lambda content: self._judge_preserved(content, original, attempted), version.content,
                       str(exp), self.path, attempted)

    def _judge_filled(self, content: str, cells: list[tuple[int, str, float]], attempted: int) -> CheckOutcome:
        rows = _csv_dict_rows(content)
        if rows is None:
            return CheckOutcome(False, f"{self.path} is not readable as CSV", attempted)
        wrong = 0
        for row, column, want in cells:
            got = _as_number(rows[row].get(column)) if 0 <= row < len(rows) else None
            if got is None or abs(got - want) > max(self.abs_tol, self.rel_tol * abs(want)):
                wrong += 1
        detail = "every filled cell is right" if not wrong else f"{wrong} of {len(cells)} cell(s) wrong or empty"
        return CheckOutcome(not wrong, f"{self.path}: {detail}", attempted)

    def _judge_preserved(self, content: str, original: list[dict[str, str]], attempted: int) -> CheckOutcome:
        rows = _csv_dict_rows(content)
        if rows is None:
            return CheckOutcome(False, f"{self.path} is not readable as CSV", attempted)
        if len(rows) != len(original) or (rows and set(rows[0]) != set(original[0])):
            return CheckOutcome(False, f"{self.path}: rows or columns were added, removed or renamed", attempted)
        changed = 0
        for old, new in zip(original, rows, strict=True):
            for column, before in old.items():
                if not (before or "").strip():
                    continue
                after = new.get(column)
                after = after.strip() if isinstance(after, str) else ""  # a short row's missing cell is None
                a, b = _as_number(before), _as_number(after)
                same = (a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)) or \
                    norm_text(before) == norm_text(after)
                changed += not same
        detail = "the given cells are unchanged" if not changed else f"{changed} given cell(s) were changed"
        return CheckOutcome(not changed, f"{self.path}: {detail}", attempted)


def _csv_table(content: str) -> list[list[str]] | None:
    """The rows of a CSV text, or ``None`` if it cannot be parsed (e.g. a field beyond the csv module's size
    limit, or a NUL byte on older Pythons): an unreadable file is simply not right."""
    try:
        return list(csv.reader(io.StringIO(content.strip() + "\n")))
    except csv.Error:
        return None


def _csv_dict_rows(content: str) -> list[dict[str, str | None]] | None:
    """Like ``csv.DictReader`` (the first row names the columns; blank lines skipped), but ``None`` for an
    unreadable text, and never a ``None`` key: cells beyond the header are dropped."""
    table = _csv_table(content)
    if table is None:
        return None
    table = [r for r in table if r]
    if not table:
        return []
    header = table[0]
    return [{h: (r[i] if i < len(r) else None) for i, h in enumerate(header)} for r in table[1:]]


def _cells_match(got: str, want: Any) -> bool:
    """One CSV cell against an expected value: numbers numerically (to the cent), ';'-separated lists as
    sets, anything else as case- and space-insensitive text."""
    if isinstance(want, int | float) and not isinstance(want, bool):
        g = _as_number(got)
        return g is not None and abs(g - float(want)) <= 0.005
    if ";" in str(want):
        return {norm_text(x) for x in got.split(";") if x.strip()} == {norm_text(x) for x in str(want).split(";")}
    return norm_text(got) == norm_text(want)


class CsvRowsCheck(BaseModel):
    """Rows of a CSV file as of the deadline, found by a key column, compared cell by cell with tolerance
    (see :func:`_cells_match`); column order and extra columns do not matter. ``present``: every expected
    row is there with the expected cells; ``absent``: no row has one of the given keys (fails while the
    file is unedited, so leaving it alone never scores)."""

    kind: Literal["csv_rows"] = "csv_rows"
    path: str
    key_column: str
    aspect: Literal["present", "absent"] = "present"
    expected: str = Field(description="key into answers: present -> [{column: value}, ...] (each with the key "
                                      "column); absent -> [key value, ...]")

    def evaluate(self, record: DayRecord, task_id: str, answers: Mapping[str, Any], at: int,
                 since: int = 0) -> CheckOutcome:
        version = record.file_at(self.path, at)
        edits = _trainee_edits(record, self.path, at, since)
        attempted = edits[-1] if edits else None
        if version is None:
            return CheckOutcome(False, f"{self.path} does not exist", attempted)
        if not edits:
            return CheckOutcome(False, f"{self.path} was not changed after the task arrived")
        exp = answers[self.expected]
        if self.aspect == "absent":
            reference = f"{self.key_column}\n"
        else:
            columns = list(dict.fromkeys(c for want in exp for c in want))
            reference = "\n".join([",".join(_csv_cell(c) for c in columns)] + [
                ",".join(_csv_cell(want.get(c, "")) for c in columns) for want in exp])
        return _judged(lambda content: self._judge(content, exp, attempted), version.content, reference,
                       self.path, attempted)

    def _judge(self, content: str, exp: Any, attempted: int | None) -> CheckOutcome:
        parsed = _csv_table(content)
        if parsed is None:
            return CheckOutcome(False, f"{self.path} is not readable as CSV", attempted)
        table = [r for r in parsed if any(c.strip() for c in r)]
        if not table:
            return CheckOutcome(False, f"{self.path} is empty", attempted)
        header = [norm_text(h) for h in table[0]]
        rows = [{h: (r[i] if i < len(r) else "") for i, h in enumerate(header)} for r in table[1:]]
        key = norm_text(self.key_column)
        if key not in header:
            return CheckOutcome(False, f"{self.path} has no column '{self.key_column}'", attempted)
        by_key: dict[str, list[dict[str, str]]] = {}
        for r in rows:
            by_key.setdefault(norm_text(r[key]), []).append(r)
        if self.aspect == "absent":
            present = [k for k in exp if norm_text(k) in by_key]
            return CheckOutcome(not present, f"{self.path}: {len(present)} row(s) that should not be there",
                                attempted)
        problems = 0
        for want in exp:
            found = by_key.get(norm_text(want[self.key_column]), [])
            if len(found) != 1 or not all(
                    norm_text(c) in header and _cells_match(found[0][norm_text(c)], v) for c, v in want.items()):
                problems += 1
        detail = "the rows are right" if not problems else f"{problems} of {len(exp)} row(s) missing or wrong"
        return CheckOutcome(not problems, f"{self.path}: {detail}", attempted)


def _csv_cell(value: Any) -> str:
    """One value written as a CSV cell (quoted when needed), for a reference file built from expected rows."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([value])
    return out.getvalue()


def _names(item: str, text: str) -> bool:
    """Whether normalised ``text`` names the normalised ``item`` as a whole token: a candidate that is a prefix
    or suffix of a longer word or number (``ch-12`` in ``ch-123``, ``9:30`` in ``19:30``) is not named."""
    if not item:
        return False
    head = r"(?<![\w.:/-])" if item[0].isalnum() else ""
    tail = r"(?![\w:/-]|\.\w)" if item[-1].isalnum() else ""
    return re.search(head + re.escape(item) + tail, text) is not None


_NUMBERED = re.compile(r"^(.*?)(\d+)$")


def _names_by_range(item: str, text: str) -> bool:
    """Whether normalised ``text`` names ``item`` (e.g. ``sev2``) inside a range of numbered values of the same
    stem: ``sev1-3``, ``sev1–sev3``, ``sev 1 to 3`` cover ``sev2`` (a range lists every value in it)."""
    m = _NUMBERED.match(item)
    if m is None or not m.group(1).strip():
        return False
    stem, number = re.escape(m.group(1).strip()), int(m.group(2))
    pattern = rf"(?<![\w]){stem}\s*(\d+)\s*(?:-|–|—|to|\.\.)\s*(?:{stem}\s*)?(\d+)(?!\d)"
    for lo, hi in re.findall(pattern, text):
        a, b = sorted((int(lo), int(hi)))
        if a <= number <= b:
            return True
    return False


class MessageOnlyCheck(BaseModel):
    """A message carrying a hidden value reached ``to`` — and the value reached no one else.

    What must *not* happen, for tasks whose action is one targeted message (a page, an approval request, a
    code, a reminder): any message carrying the value sent to a colleague outside ``to`` and ``allowed`` (the
    other people the task legitimately involves) fails the check, so messaging every colleague who might be
    concerned does not pass. With ``candidates`` (a key into answers: every value the agent had to choose from,
    the expected one included), the message to ``to`` counts only if it names no other candidate, so one
    message listing every candidate does not pass either. ``visible_from`` and ``within_minutes`` bound when
    the message may reach ``to``, as for ``message``; ``about`` narrows the messages considered to those that
    also carry other values of the task (its incident id, the meeting's name, the service a value is about)
    and, with ``candidates`` or ``every_message``, fails the check when any message to ``to`` about the task
    names another candidate (or, with ``every_message``, lacks the value): several messages, one guess
    each, are a list of every guess. Messages sent before the task arrived (``since``) are ignored, to pass
    or to fail.
    """

    kind: Literal["message_only"] = "message_only"
    to: str
    expected: str = Field(description="key into answers: the value the message must carry")
    allowed: list[str] = Field(default_factory=list, description="handles besides ``to`` the value may reach")
    candidates: str | None = Field(default=None, description="key into answers: the values the agent had to "
                                   "choose from; the message to ``to`` must name no other one")
    about: list[str] = Field(default_factory=list, description="keys into answers: only messages that also "
                             "carry these values concern the task (for a value too common to identify it)")
    visible_from: int | None = Field(default=None, description="minute from which a message counts "
                                     "(e.g. the refresh that showed the value)")
    within_minutes: int | None = Field(default=None, ge=0, description="a message counts only if sent at most "
                                       "this many minutes after ``visible_from``")
    every_message: bool = Field(default=False, description="every message to ``to`` about the task (carrying the "
                                "``about`` values) must carry the expected value: one about it stating something "
                                "else is another guess")

    @model_validator(mode="after")
    def _window_needs_a_start(self) -> MessageOnlyCheck:
        if self.within_minutes is not None and self.visible_from is None:
            raise ValueError("within_minutes needs visible_from (the minute the value became visible)")
        if self.every_message and not self.about:
            raise ValueError("every_message needs about (the values that say a message concerns the task)")
        return self

    def evaluate(self, record: DayRecord, task_id: str, answers: Mapping[str, Any], at: int,
                 since: int = 0) -> CheckOutcome:
        want = norm_text(answers[self.expected])
        others = [c for c in (norm_text(x) for x in answers[self.candidates]) if c != want] \
            if self.candidates else []
        scope = [want, *(norm_text(answers[k]) for k in self.about)]
        sent = [m for m in record.messages if since <= m.time <= at and all(v in norm_text(m.text) for v in scope)]
        hits = [m for m in sent if self.to in m.to]
        if not hits:
            return CheckOutcome(False, f"no message with the needed information reached {MEANT_FOR}")
        first = hits[0].time
        permitted = {self.to, *self.allowed}
        stray = [m.time for m in sent if set(m.to) - permitted]
        if stray:
            return CheckOutcome(False, "the information also reached colleague(s) it was not meant for",
                                min(first, stray[0]))
        def names_another(text: str) -> bool:
            return any(_names(c, text) or _names_by_range(c, text) for c in others)

        clean = [m for m in hits if not names_another(norm_text(m.text))]
        if self.about and (others or self.every_message):
            # messages about this task (they carry its identifying values) that tell ``to`` another candidate, or
            # (``every_message``) anything but the value: several messages, one guess each, are a list of every
            # candidate too
            # from the minute the value became visible, if that is known: before it, a message about the same
            # service to the same person is another task's (two watches of one service) or idle chat, not a guess
            start = max(since, self.visible_from) if self.visible_from is not None else since
            told = [m.time for m in record.messages if start <= m.time <= at and self.to in m.to
                    and all(v in norm_text(m.text) for v in scope[1:])
                    and (names_another(norm_text(m.text)) or (self.every_message and want not in norm_text(m.text)))]
            if told:
                return CheckOutcome(False, f"{MEANT_FOR} was also told other possible answers about this", min(told))
        if not clean:
            return CheckOutcome(False, f"every message to {MEANT_FOR} with the information also named other "
                                       "possible answers", first)
        if self.visible_from is not None:
            end = self.visible_from + self.within_minutes if self.within_minutes is not None else None
            timely = [m.time for m in clean if m.time >= self.visible_from and (end is None or m.time <= end)]
            if not timely:
                if all(m.time < self.visible_from for m in clean):
                    return CheckOutcome(False, f"no message with the needed information reached {MEANT_FOR} "
                                               "after the change", first)
                return CheckOutcome(False, f"the message reached {MEANT_FOR} more than {self.within_minutes} "
                                           "minutes after the change", first)
            return CheckOutcome(True, "the right message reached only the right colleague, in time", timely[0])
        return CheckOutcome(True, "the right message reached only the right colleague", clean[0].time)


class FileItemsCheck(BaseModel):
    """A file contains every expected item of a candidate set and none of the other candidates.

    For edits whose right content is a choice among candidates (links, ids): ``expected`` lists what must be
    there, ``candidates`` every value the agent could have written, ``allowed`` the other candidates that may
    stay (e.g. links the file rightly keeps). Writing every candidate into the file fails. Fails while the
    file has not been edited since the task arrived (leaving it alone is no claim).
    """

    kind: Literal["file_items"] = "file_items"
    path: str
    expected: str = Field(description="key into answers: the items that must be in the file")
    candidates: str = Field(description="key into answers: every candidate item (the expected ones included)")
    allowed: str | None = Field(default=None, description="key into answers: other candidates that may be there")

    def evaluate(self, record: DayRecord, task_id: str, answers: Mapping[str, Any], at: int,
                 since: int = 0) -> CheckOutcome:
        edits = [v.time for v in record.files.get(self.path, ())
                 if v.author != "initial" and since <= v.time <= at]
        version = record.file_at(self.path, at)
        if version is None:
            return CheckOutcome(False, f"{self.path} does not exist", edits[-1] if edits else None)
        if not edits:
            return CheckOutcome(False, f"{self.path} was not changed")
        content = version.content
        want = [str(x) for x in answers[self.expected]]
        ok_extra = {str(x) for x in answers[self.allowed]} if self.allowed else set()
        missing = [x for x in want if x not in content]
        wrong = [c for c in (str(x) for x in answers[self.candidates])
                 if c not in want and c not in ok_extra and _names(c, content)]
        if missing or wrong:
            return CheckOutcome(False, f"{self.path}: {len(missing)} required item(s) missing, {len(wrong)} "
                                       "item(s) that should not be there", edits[-1])
        return CheckOutcome(True, f"{self.path} has exactly the right items", edits[-1])


Check = Annotated[
    SubmissionCheck | SubmittedCheck | FileCheck | MeetingCheck | AttendedCheck | MessageCheck | RosterCheck
    | CsvCheck | CsvRowsCheck | MessageOnlyCheck | FileItemsCheck,
    Field(discriminator="kind"),
]
