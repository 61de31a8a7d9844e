"""Scoring a day: checkpoints (on time only), scheduling, exploration (DESIGN.md §5)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from firstday.scoring.cards import CheckpointResult, DayMetrics, DayScore, TaskScore
from firstday.scoring.scheduling import attribute_calls, scheduling_figures
from firstday.suites.spec import Day
from firstday.tasks.checks import norm_text, safe_text
from firstday.tasks.model import TaskInstance
from firstday.trusted import trusted
from firstday.world.assets import PRIORITY_WEIGHT
from firstday.world.company import Company
from firstday.world.records import DayRecord

LATE_GRACE = 5  # minutes a meeting may be joined after its start without counting as late
MASS_RECIPIENTS = 3  # a text reaching more colleagues is a mass mail (its stray recipients are mass noise)
MIN_VALUE_CHARS = 4  # a hidden value shorter than this (a flag, a digit) is too common to make a message related
_HANDLE_LIKE = re.compile(r"(?<![\w.])[a-z][a-z0-9_-]*\.[a-z][a-z0-9_.-]*[a-z0-9]")


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def score_task(task: TaskInstance, record: DayRecord, end: int) -> TaskScore:
    results: list[CheckpointResult] = []
    error: str | None = None
    for cp in task.checkpoints:
        try:
            # every check is windowed to its task: work done before the task arrived was for something else
            on_time = cp.check.evaluate(record, task.task_id, task.answers, task.deadline, since=task.arrival)
            late = on_time if on_time.passed else cp.check.evaluate(record, task.task_id, task.answers, end,
                                                                    since=task.arrival)
        except Exception as exc:
            # checks are total over agent input (a value they cannot judge is "not right"), so what still
            # raises is a defect of the task itself: reported loudly, and the checkpoint earns nothing
            error = f"scoring defect in checkpoint {cp.cp_id}: {type(exc).__name__}: {safe_text(exc)[:300]}"
            results.append(CheckpointResult(cp_id=cp.cp_id, description=cp.description, weight=cp.weight,
                                            passed=False, answer_bearing=cp.answer_bearing,
                                            feedback="(not scored: a defect of this task's scoring)", error=error))
            continue
        attempted = on_time.attempted_at if on_time.attempted_at is not None else late.attempted_at
        unsupported = bool(
            cp.answer_bearing and attempted is not None
            and any(record.observed.get(c, 10**9) > attempted for c in cp.clue_ids)
        )
        if on_time.passed:
            note = "passed"
        elif late.passed:
            note = "done, but only after the deadline"
        else:
            note = on_time.detail + (f". Hint: {cp.feedback}" if cp.feedback else "")
        # from the validated task and the checks' own outcomes (made bools here): no validation needed
        results.append(trusted(CheckpointResult, {
            "cp_id": cp.cp_id, "description": cp.description, "weight": cp.weight, "passed": bool(on_time.passed),
            "passed_late": bool(late.passed and not on_time.passed), "answer_bearing": cp.answer_bearing,
            "attempted_at": attempted, "unsupported": unsupported, "feedback": note, "error": None,
        }))
    total = sum(c.weight for c in results)
    got = sum(c.weight for c in results if c.passed)
    subs = [s.time for s in record.submissions if s.task_id == task.task_id]
    required = {c for cp in task.checkpoints for c in cp.clue_ids}
    return trusted(TaskScore, {
        "task_id": task.task_id, "family": task.family, "variant": task.variant, "difficulty": task.difficulty,
        "meta_task": task.meta_task, "priority": task.priority, "arrival": task.arrival, "deadline": task.deadline,
        # a task with a scoring defect counts 0 in every mean: dropping it would let an agent choose which
        # tasks are averaged
        "score": 0.0 if error else (got / total if total else 0.0),
        "success": False if error else all(c.passed for c in results),
        "submitted_at": min(subs) if subs else None,
        "on_time": not error and all(c.passed for c in results),
        "submitted_on_time": any(t <= task.deadline for t in subs),
        "latency": (min(subs) - task.arrival) if subs else None,
        "clues_required": len(required), "clues_observed": sum(1 for c in required if c in record.observed),
        "checkpoints": results, "error": error, "zeroed": None,
    })


def _scalars(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _scalars(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _scalars(v)]
    return [] if value is None or isinstance(value, bool) else [norm_text(value)]


def related_people(task: TaskInstance, by_name: Mapping[str, str] | None = None) -> set[str]:
    """The colleagues a task involves: its requester, the holders of its facts, whoever its objective, clues
    or answers name (handle-shaped words, or a full name of ``by_name``: lower-case full name -> handle),
    its checks' recipients and its meetings' people."""
    people = {task.requester, *(f.holder for f in task.facts)}
    texts = [t.lower() for t in (task.objective, *(c.where for c in task.clues), *_scalars(task.answers))]
    people.update(h for t in texts for h in _HANDLE_LIKE.findall(t))
    if by_name:
        people.update(h for name, h in by_name.items()
                      if any(re.search(rf"(?<!\w){re.escape(name)}(?!\w)", t) for t in texts))
    for cp in task.checkpoints:
        for name in ("to", "allowed"):
            got = getattr(cp.check, name, None)
            people.update([got] if isinstance(got, str) else got or [])
    for m in task.meetings:
        people.update([m.organizer, *m.attendees])
    return people


def noise_counts(day: Day, record: DayRecord, horizon: int, company: Company | None = None) -> dict[str, int]:
    """Side effects that would annoy real colleagues (docs/scoring.md, "Noise").

    A (message, recipient) pair is *stray* when the recipient is involved in no task that had arrived when
    the message was sent (:func:`related_people`; with ``company``, people a task names by full name count
    too). ``mass``: stray pairs of a text (case and spacing ignored) that reached more than
    ``MASS_RECIPIENTS`` colleagues over the day. ``unrelated``: the other stray pairs
    whose message carries no value of an arrived task. ``meetings``: the trainee's bookings that were
    cancelled, that stayed booked although no submission names them (by id or exact title), or that repeat
    the title of an earlier live booking.
    """
    tasks = [t for t in day.tasks if t.arrival <= horizon]
    by_name = {e.name.lower(): e.handle for e in company.employees} if company is not None else None
    people = [(t.arrival, related_people(t, by_name)) for t in tasks]
    values = [(t.arrival, [v for v in _scalars(t.answers) if len(v) >= MIN_VALUE_CHARS]) for t in tasks]
    texts = [norm_text(m.text) for m in record.messages]
    reached: dict[str, set[str]] = {}
    for m, text in zip(record.messages, texts, strict=True):
        reached.setdefault(text, set()).update(m.to)
    unrelated = mass = 0
    for m, text in zip(record.messages, texts, strict=True):
        known = set().union(*(p for a, p in people if a <= m.time))
        stray = sum(1 for h in dict.fromkeys(m.to) if h not in known)
        if not stray:
            continue
        if len(reached[text]) > MASS_RECIPIENTS:
            mass += stray
        elif not any(a <= m.time and any(v in text for v in vs) for a, vs in values):
            unrelated += stray
    named = {norm_text(v) for s in record.submissions for v in _scalars(s.answer)}
    meetings, titles = 0, set()
    for b in record.meetings.values():
        if not b.booked_by_trainee:
            continue
        title = norm_text(b.title)
        # a cancelled booking, one no submission names, or a second live one of a title (every room booked)
        meetings += b.cancelled_at is not None or title in titles or (
            norm_text(b.meeting_id) not in named and title not in named)
        if b.cancelled_at is None:
            titles.add(title)
    return {"unrelated": unrelated, "mass": mass, "meetings": meetings}


def score_day(scenario_id: str, day: Day, record: DayRecord,
              calls: Sequence[tuple[str, Any, int, int]] | None = None, company: Company | None = None) -> DayScore:
    """The day's score card. ``calls`` (tool name, arguments, started, ended), the day's tool calls in order,
    adds the scheduling figures of :mod:`firstday.scoring.scheduling`; ``company`` lets the noise count know
    the people a task names by full name."""
    end = record.end_time
    # the working day lasts until day_end even if the agent stopped early (end_day, truncation): tasks and
    # meetings it would have met still count, so quitting early cannot hide work from the score
    horizon = max(end, day.day_end)
    arrived = [t for t in day.tasks if t.arrival <= horizon]
    scores = [score_task(t, record, end) for t in arrived]
    # every arrived task is averaged; one with a scoring defect counts 0 (its score is 0.0), never dropped
    w = {s.task_id: PRIORITY_WEIGHT[s.priority] for s in scores}
    wsum = sum(w[s.task_id] for s in scores)
    urgent = [float(s.latency) for s in scores if s.priority == "urgent" and s.latency is not None]
    required = [m for t in day.tasks for m in t.meetings if m.trainee_required] + [
        m for m in day.meetings if m.trainee_required]
    required = [m for m in required if m.start < horizon]
    missed = late = 0
    for m in required:
        joins = [a.joined_at for a in record.attendance if a.meeting_id == m.meeting_id]
        if not joins:
            missed += 1
        elif min(joins) > m.start + LATE_GRACE:
            late += 1
    attempted = [c for s in scores for c in s.checkpoints if c.answer_bearing and c.attempted_at is not None]
    colleague_clues = {c.clue_id for t in arrived for c in t.clues if c.location == "colleague"}
    found_colleague = sum(1 for c in colleague_clues if c in record.observed)
    req_total = sum(s.clues_required for s in scores)
    noise = noise_counts(day, record, horizon, company)
    metrics = DayMetrics(
        tasks=len(scores), scored_tasks=sum(1 for s in scores if s.error is None),
        score=_mean([s.score for s in scores if s.score is not None]),
        success_rate=_mean([1.0 if s.success else 0.0 for s in scores]),
        priority_weighted_score=(sum(w[s.task_id] * (s.score or 0.0) for s in scores) / wsum) if wsum else None,
        on_time_rate=(sum(w[s.task_id] for s in scores if s.on_time) / wsum) if wsum else None,
        submitted_on_time_rate=(sum(w[s.task_id] for s in scores if s.submitted_on_time) / wsum) if wsum else None,
        urgent_latency=_mean(urgent),
        meetings_required=len(required), meetings_missed=missed, meetings_late=late,
        work_left=sum(1 for s in scores if s.submitted_at is None),
        clue_discovery=(sum(s.clues_observed for s in scores) / req_total) if req_total else None,
        unsupported_rate=_mean([1.0 if c.unsupported else 0.0 for c in attempted]),
        questions_per_clue=(len(record.messages) / found_colleague) if found_colleague else None,
        messages_sent=len(record.messages), tool_calls=record.tool_calls,
        errors=sum(1 for s in scores if s.error is not None),
        noise=sum(noise.values()), noise_unrelated_messages=noise["unrelated"], noise_mass_messages=noise["mass"],
        noise_meetings=noise["meetings"],
    )
    if calls is not None:
        first = {s.task_id: s.submitted_at for s in scores if s.submitted_at is not None}
        figures = scheduling_figures(day, attribute_calls(day, calls, first), first, metrics.priority_weighted_score)
        metrics.load, metrics.best_score = day.load, day.best_score
        metrics.schedule_efficiency = figures.schedule_efficiency
        metrics.priority_inversions, metrics.inversion_minutes = figures.priority_inversions, figures.inversion_minutes
        metrics.interruption_response, metrics.resumed_rate = figures.interruption_response, figures.resumed_rate
    return DayScore(scenario_id=scenario_id, day_index=day.day_index, tasks=scores, metrics=metrics)
