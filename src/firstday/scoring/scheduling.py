"""Scheduling metrics from the day's timeline of tool calls (issue 17, item 4; defined in docs/scoring.md).

Each tool call is attributed to the task it served, from its arguments alone (:func:`attribute_calls`):
``submit`` names its task; a file, page or meeting belongs to the task that placed it (or whose checks read it);
a message, or a wait for a reply, to a colleague serves the open task that colleague is involved in (its facts,
its checks), the one whose objective shares most words with the message when several are. Calls that serve
no task in particular (listing files, the calculator, waiting for the next event) are overhead.

From the attributed timeline:

* **priority inversion**: a call that serves task *a* while another task *b* was ready (arrived, not yet
  submitted, its deadline not yet passed, among the tasks the best schedule finishes, and every task it builds
  on -- ``TaskInstance.depends_on`` -- submitted before the call started) with a higher priority and a deadline
  no later than *a*'s; counted in calls and in minutes;
* **response to interruption**: for each urgent task arriving after the start of the day, the minutes to the
  first call that serves it, and whether the task in hand when it arrived was taken up again afterwards;
* **schedule efficiency**: the priority-weighted score over the best achievable one (the generator's
  ``Day.best_score``: 1 unless the day holds more work than fits).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from firstday.suites.spec import Day
from firstday.tasks.model import TaskInstance
from firstday.world.assets import PRIORITY_WEIGHT

_WORD = re.compile(r"[a-z]{4,}")


@dataclass(frozen=True)
class CallSpan:
    """One tool call on the day's clock, and the task it served (None: overhead)."""

    start: int
    end: int
    name: str
    task_id: str | None


@dataclass(frozen=True)
class SchedulingFigures:
    priority_inversions: int
    inversion_minutes: int
    interruptions: int
    interruption_response: float | None  # mean minutes from an urgent arrival to the first call serving it
    resumed_rate: float | None  # share of pre-empted tasks taken up again after the interruption
    schedule_efficiency: float | None


class _Index:
    """Which task each file, page, meeting, colleague and title of the day belongs to."""

    def __init__(self, day: Day) -> None:
        self.tasks = {t.task_id: t for t in day.tasks}
        self.paths: dict[str, str] = {}
        self.meetings: dict[str, str] = {}
        self.people: dict[str, list[str]] = {}
        for t in day.tasks:
            for f in t.files:
                self.paths.setdefault(f.path, t.task_id)
            for p in t.pages:
                self.paths.setdefault(p.url, t.task_id)
            for m in t.meetings:
                self.meetings.setdefault(m.meeting_id, t.task_id)
            handles = {f.holder for f in t.facts}
            for cp in t.checkpoints:
                check: Any = cp.check
                for attr in ("path",):
                    value = getattr(check, attr, None)
                    if isinstance(value, str):
                        self.paths.setdefault(value, t.task_id)
                for attr in ("to", "not_to"):
                    value = getattr(check, attr, None)
                    handles.update([value] if isinstance(value, str) else list(value or []))
            for h in sorted(handles):
                self.people.setdefault(h, []).append(t.task_id)
        self.words = {t.task_id: set(_WORD.findall(t.objective.lower())) for t in day.tasks}

    def by_text(self, text: str) -> str | None:
        for key, tid in self.paths.items():
            if key in text:
                return tid
        return None

    def by_people(self, handles: Sequence[str], text: str, open_tasks: Sequence[str]) -> str | None:
        candidates = [tid for h in handles for tid in self.people.get(h, []) if tid in open_tasks]
        if not candidates:
            return None
        if len(set(candidates)) == 1:
            return candidates[0]
        words = set(_WORD.findall(text.lower()))
        return max(dict.fromkeys(candidates), key=lambda tid: (len(words & self.words[tid]), -open_tasks.index(tid)))


def _arguments(arguments: Any) -> Mapping[str, Any]:
    """A call's arguments as a mapping: model-backed agents (llm, react) pass the model's raw JSON text."""
    if isinstance(arguments, Mapping):
        return arguments
    if isinstance(arguments, str):
        try:
            parsed = json.loads(arguments)
        except (ValueError, RecursionError):  # not JSON, an integer of thousands of digits, nested too deeply
            return {}
        return parsed if isinstance(parsed, Mapping) else {}
    return {}


def attribute_calls(day: Day, calls: Iterable[tuple[str, Any, int, int]],
                    submitted: Mapping[str, int] | None = None) -> list[CallSpan]:
    """``calls``: (tool name, arguments, started, ended) in order. ``submitted``: each task's first submission
    minute (a task is open from its arrival until then)."""
    index = _Index(day)
    first = dict(submitted or {})
    spans: list[CallSpan] = []
    latest_first = sorted(day.tasks, key=lambda t: -t.arrival)  # once, not once per call
    for name, arguments, start, end in calls:
        args = _arguments(arguments)
        open_tasks = [t.task_id for t in latest_first
                      if t.arrival <= start and first.get(t.task_id, 10**9) >= start]
        tid: str | None = None
        if name == "submit":
            raw = args.get("task_id")
            tid = raw if isinstance(raw, str) and raw in index.tasks else None
        elif name in ("attend_meeting", "cancel_meeting"):
            tid = index.meetings.get(str(args.get("meeting_id")))
        elif name in ("send_message", "wait"):
            to = args.get("to") if name == "send_message" else args.get("for_message_from")
            handles = [to] if isinstance(to, str) else [h for h in (to or []) if isinstance(h, str)] \
                if isinstance(to, list) else []
            text = str(args.get("text", ""))
            tid = index.by_text(text) or index.by_people(handles, text, open_tasks)
        elif name == "book_meeting":
            title = str(args.get("title", "")).strip().lower()
            hits = [t for t in open_tasks if title and title in index.tasks[t].objective.lower()]
            tid = hits[0] if hits else None
        elif name in ("read_file", "write_file", "edit_file", "open_page", "run_python"):
            tid = index.by_text(" ".join(str(v) for v in args.values()))
        spans.append(CallSpan(start=start, end=end, name=name, task_id=tid))
    return spans


def scheduling_figures(day: Day, spans: Sequence[CallSpan], submitted: Mapping[str, int],
                       priority_weighted_score: float | None) -> SchedulingFigures:
    """The figures of the module docstring, from the attributed timeline and each task's first submission."""
    tasks: dict[str, TaskInstance] = {t.task_id: t for t in day.tasks}
    weight = {tid: PRIORITY_WEIGHT[t.priority] for tid, t in tasks.items()}
    inversions = minutes = 0
    skipped = set(day.skipped)  # postponing a task no perfect schedule finishes is no inversion
    for s in spans:
        if s.task_id is None:
            continue
        a = tasks[s.task_id]
        if any(b.task_id != a.task_id and b.task_id not in skipped and b.arrival <= s.start < b.deadline
               and submitted.get(b.task_id, 10**9) > s.start
               and all(submitted.get(d, 10**9) <= s.start for d in b.depends_on)
               and weight[b.task_id] > weight[a.task_id] and b.deadline <= a.deadline for b in day.tasks):
            inversions += 1
            minutes += max(0, s.end - s.start)
    responses: list[float] = []
    resumed: list[bool] = []
    urgent = [t for t in day.tasks if t.priority == "urgent" and t.arrival > day.day_start]
    for u in urgent:
        served = [s for s in spans if s.task_id == u.task_id and s.start >= u.arrival]
        if not served:
            continue
        responses.append(float(served[0].start - u.arrival))
        before = [s for s in spans if s.task_id not in (None, u.task_id) and s.start < u.arrival]
        in_hand = before[-1].task_id if before else None
        if in_hand is not None and submitted.get(in_hand, 10**9) > u.arrival:
            resumed.append(any(s.task_id == in_hand and s.start > served[0].start for s in spans))
    efficiency = None
    if priority_weighted_score is not None and day.best_score > 0:
        efficiency = priority_weighted_score / day.best_score
    return SchedulingFigures(
        priority_inversions=inversions, inversion_minutes=minutes, interruptions=len(urgent),
        interruption_response=sum(responses) / len(responses) if responses else None,
        resumed_rate=sum(resumed) / len(resumed) if resumed else None,
        schedule_efficiency=efficiency,
    )
