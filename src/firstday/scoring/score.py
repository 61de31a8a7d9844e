"""Scoring a day: checkpoints (on time only), scheduling, exploration (DESIGN.md §5)."""

from __future__ import annotations

from firstday.scoring.cards import CheckpointResult, DayMetrics, DayScore, TaskScore
from firstday.suites.spec import Day
from firstday.tasks.model import TaskInstance
from firstday.trusted import trusted
from firstday.world.assets import PRIORITY_WEIGHT
from firstday.world.records import DayRecord

LATE_GRACE = 5  # minutes a meeting may be joined after its start without counting as late


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def score_task(task: TaskInstance, record: DayRecord, end: int) -> TaskScore:
    results: list[CheckpointResult] = []
    error: str | None = None
    for cp in task.checkpoints:
        try:
            on_time = cp.check.evaluate(record, task.task_id, task.answers, task.deadline)
            late = on_time if on_time.passed else cp.check.evaluate(record, task.task_id, task.answers, end)
        except Exception as exc:  # a scorer bug is an error, never a silent zero
            error = f"checkpoint {cp.cp_id}: {type(exc).__name__}: {exc}"
            results.append(CheckpointResult(cp_id=cp.cp_id, description=cp.description, weight=cp.weight,
                                            passed=False, answer_bearing=cp.answer_bearing,
                                            feedback="(not scored: internal error)", error=error))
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
        "score": None if error else (got / total if total else 0.0),
        "success": None if error else all(c.passed for c in results),
        "submitted_at": min(subs) if subs else None,
        "on_time": any(t <= task.deadline for t in subs),
        "latency": (min(subs) - task.arrival) if subs else None,
        "clues_required": len(required), "clues_observed": sum(1 for c in required if c in record.observed),
        "checkpoints": results, "error": error, "zeroed": None,
    })


def score_day(scenario_id: str, day: Day, record: DayRecord) -> DayScore:
    end = record.end_time
    # the working day lasts until day_end even if the agent stopped early (end_day, truncation): tasks and
    # meetings it would have met still count, so quitting early cannot hide work from the score
    horizon = max(end, day.day_end)
    arrived = [t for t in day.tasks if t.arrival <= horizon]
    scores = [score_task(t, record, end) for t in arrived]
    ok = [s for s in scores if s.error is None]
    w = {s.task_id: PRIORITY_WEIGHT[s.priority] for s in scores}
    wsum = sum(w[s.task_id] for s in ok)
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
    attempted = [c for s in ok for c in s.checkpoints if c.answer_bearing and c.attempted_at is not None]
    colleague_clues = {c.clue_id for t in arrived for c in t.clues if c.location == "colleague"}
    found_colleague = sum(1 for c in colleague_clues if c in record.observed)
    req_total = sum(s.clues_required for s in scores)
    metrics = DayMetrics(
        tasks=len(scores), scored_tasks=len(ok),
        score=_mean([s.score for s in ok if s.score is not None]),
        success_rate=_mean([1.0 if s.success else 0.0 for s in ok]),
        priority_weighted_score=(sum(w[s.task_id] * (s.score or 0.0) for s in ok) / wsum) if wsum else None,
        on_time_rate=(sum(w[s.task_id] for s in ok if s.on_time) / wsum) if wsum else None,
        urgent_latency=_mean(urgent),
        meetings_required=len(required), meetings_missed=missed, meetings_late=late,
        work_left=sum(1 for s in scores if s.submitted_at is None),
        clue_discovery=(sum(s.clues_observed for s in scores) / req_total) if req_total else None,
        unsupported_rate=_mean([1.0 if c.unsupported else 0.0 for c in attempted]),
        questions_per_clue=(len(record.messages) / found_colleague) if found_colleague else None,
        messages_sent=len(record.messages), tool_calls=record.tool_calls,
        errors=len(scores) - len(ok),
    )
    return DayScore(scenario_id=scenario_id, day_index=day.day_index, tasks=scores, metrics=metrics)
