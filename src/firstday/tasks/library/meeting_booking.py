"""Meeting booking: book a meeting for a department or for every department head, leaving out whoever
cannot come, or find the earliest slot in a window when a group of colleagues is free.

Who can come (or when someone is busy) is known only to each person, and on hard instances some people
do not know and refer the trainee to their manager, who does (two hops). Rooms are partly taken by
other people's meetings at the chosen time, so the trainee must find a free room that is big enough.

Fixed against the reference: at least one invitee is always unavailable (inviting everyone fails) and the
earliest common slot is never the start of the window (guessing it fails); the meeting is always later
than the work the task needs; the time, the rooms and the people are checked against the day's other
meetings so every instance is solvable; two booking tasks on one day never share a topic, and keep their
meetings apart in time (only a day too full for that lets them overlap, in different rooms), so a
colleague's reply always answers the question that was asked; and what people say about their time
agrees across the day's tasks (the day-wide ``used_paths`` set carries what earlier tasks fixed).

Submitting the booking: the trainee is told to submit the id ``book_meeting`` returns. Ids are assigned
by the world in booking order ("b1", "b2", ...), so a plan written at generation time cannot know it;
``MeetingCheck`` therefore also accepts the booking's exact title (unique within the day), and the
oracle and the baseline submit the title.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import ClassVar

from firstday.errors import DayFullError
from firstday.tasks.checks import MeetingCheck
from firstday.tasks.family import BaselineView, GenContext, estimate_minutes, register
from firstday.tasks.model import Checkpoint, Clue, TaskInstance
from firstday.timefmt import fmt, parse
from firstday.world.assets import Fact, MeetingAsset
from firstday.world.company import Company, Employee, Room
from firstday.world.tools import DEFAULT_COSTS, GROUP_MESSAGE_COST, ToolCall

VARIANTS = ("department", "managers", "find_slot")
SIZES = {"easy": (3, 4), "medium": (5, 7), "hard": (8, 10)}
SLOT_STEP = 15  # find_slot: slots start on the quarter hour
# minutes between the end of the task's estimated work and the meeting (other work may come first)
MIN_LEAD = {"urgent": 45, "normal": 90, "low": 110}
EVENING_END = 22 * 60  # after-hours meetings (the last resort on a day with every room taken) end by then
HOLD_MARGIN = 10  # minutes kept between two booking tasks' meetings
# keys of the day-wide ``used_paths`` set (the only state the tasks of a day share; no drive path starts so)
KEY_TOPIC = "meeting_booking:topic:"
KEY_SLOT = "meeting_booking:slot:"  # + "<start>:<end>": a booking task's meeting time
KEY_ROOM = "meeting_booking:room:"  # + "<room>:<start>:<end>": the room the oracle books
KEY_BUSY = "meeting_booking:busy:"  # + "<handle>:<start>:<end>": someone told a booking task they are busy
KEY_KNOWN = "meeting_booking:known:"  # + "<handle>:<start>:<end>": someone told their whole calendar for then

TOPICS = (
    "Budget review", "Roadmap planning", "Hiring debrief", "Vendor selection", "Quarterly kickoff",
    "Process retrospective", "Security briefing", "Onboarding review", "Pricing workshop", "Customer feedback",
    "Release readiness", "Office move planning", "Training plan", "Risk assessment", "Capacity planning",
    "Partner update", "Tooling review", "Data quality review", "Launch review", "Compliance check-in",
    "Travel policy update", "Forecast alignment", "Incident postmortem", "Sustainability goals",
    "Mentoring programme", "Knowledge sharing", "Contract renewal", "Annual planning",
)
BLOCKER_TITLES = (
    "Client call", "Interview", "Design review", "Sprint planning", "Vendor demo", "Weekly sync", "Workshop",
    "Training session", "Strategy offsite prep", "Candidate debrief", "Project check-in", "Board prep",
)
REASONS = (
    "I'm at a customer site then", "I have a doctor's appointment then", "I'm running interviews then",
    "I'm on a training course", "I'm presenting at another meeting then", "I'm covering the support rota",
    "I'm travelling to the other office", "I'm in a workshop that runs over that time",
    "I'm leaving early today", "I have an audit session then",
)
MANAGER_REASONS = (
    "I need {first} on the supplier escalation then", "{first} is covering the on-call rota",
    "{first} is at a client workshop for me", "{first} is presenting our numbers at the board prep",
    "{first} is on the audit session I scheduled", "{first} is interviewing candidates with me",
)
DEFER_REASONS = (
    "it depends on an escalation my manager is arranging",
    "my manager is still planning my afternoon",
    "I may be pulled into a client call my manager is setting up",
    "my manager decides whether I'm needed on the release that day",
)
ASK_WORDS = ["available", "availability", "free", "join", "attend", "make it", "come", "meeting", "invite"]
SLOT_WORDS = ["busy", "free", "available", "availability", "calendar", "schedule", "slot", "when", "meeting"]

_MESSAGE = re.compile(r"Message from .+? \(([\w.-]+)\): (.*)")
_TIME_RANGE = re.compile(r"\b(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\b")


@dataclass
class _Invitee:
    emp: Employee
    manager: Employee | None = None  # set when this person defers to their manager (hard)
    available: bool = True
    reason: str = ""
    busy: list[tuple[int, int]] = field(default_factory=list)  # find_slot, within the window


def _ceil(x: int, step: int) -> int:
    return -(-x // step) * step


def _overlap(a0: int, a1: int, b0: int, b1: int) -> bool:
    return a0 < b1 and b0 < a1


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def earliest_slot(busy: list[tuple[int, int]], start: int, end: int, duration: int,
                  step: int = SLOT_STEP) -> int | None:
    """The first start ``start + k*step`` whose ``duration`` fits before ``end`` and overlaps no busy interval."""
    c = start
    while c + duration <= end:
        if not any(_overlap(c, c + duration, a, b) for a, b in busy):
            return c
        c += step
    return None


def _ranges(intervals: list[tuple[int, int]]) -> str:
    parts = [f"{fmt(a)}-{fmt(b)}" for a, b in intervals]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _involved(m: MeetingAsset, handle: str) -> bool:
    return m.organizer == handle or handle in m.attendees


def _reserved(ctx: GenContext, prefix: str) -> list[list[str]]:
    """Parsed reservations of other booking tasks today (sorted, so the order never depends on the set)."""
    return [k[len(prefix):].split(":") for k in sorted(ctx.used_paths) if k.startswith(prefix)]


def _taken_rooms(ctx: GenContext, start: int, end: int) -> set[str]:
    """Rooms in use between ``start`` and ``end``: the day's meetings so far, and rooms other booking tasks'
    plans book (those are not meetings yet, so they are recorded as reservations)."""
    taken = {m.room for m in ctx.meetings if _overlap(start, end, m.start, m.end)}
    taken.update(r for r, a, b in _reserved(ctx, KEY_ROOM) if _overlap(start, end, int(a), int(b)))
    return taken


@dataclass
class _Calendars:
    """What the day's earlier tasks already fixed about people's time, so that replies agree across tasks:
    the meetings people are in, the times they told a booking task they are busy (or will be in its
    meeting), and the windows over which they told a booking task their whole calendar."""

    busy: dict[str, list[tuple[int, int, str]]]
    known: dict[str, list[tuple[int, int]]]

    @classmethod
    def of(cls, ctx: GenContext) -> _Calendars:
        busy: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
        known: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for m in ctx.meetings:
            for h in [m.organizer, *m.attendees]:
                busy[h].append((m.start, m.end, f"in '{m.title}' from {fmt(m.start)} to {fmt(m.end)}"))
        for h, a, b in _reserved(ctx, KEY_BUSY):
            busy[h].append((int(a), int(b), f"booked from {fmt(int(a))} to {fmt(int(b))}"))
        for h, a, b in _reserved(ctx, KEY_KNOWN):
            known[h].append((int(a), int(b)))
        return cls(dict(busy), dict(known))

    def clash(self, handle: str, start: int, end: int) -> str | None:
        """Why ``handle`` is busy between ``start`` and ``end`` (``None`` if nothing says so)."""
        return next((why for a, b, why in self.busy.get(handle, ()) if _overlap(start, end, a, b)), None)

    def told_free(self, handle: str, start: int, end: int) -> bool:
        """Whether ``handle`` already told a booking task they are free then."""
        return self.clash(handle, start, end) is None and \
            any(a <= start and end <= b for a, b in self.known.get(handle, ()))

    def untouched(self, handle: str) -> bool:
        return handle not in self.busy and handle not in self.known

    def load(self, handle: str, start: int, end: int) -> int:
        """Minutes busy between ``start`` and ``end``; a calendar already told to a booking task counts as full."""
        if handle in self.known:
            return end - start
        return sum(max(0, min(b, end) - max(a, start)) for a, b, _ in self.busy.get(handle, ()))


def _lead(ctx: GenContext, effort: int) -> int:
    """The earliest time the meeting may start, required meetings aside."""
    return ctx.arrival + effort + MIN_LEAD[ctx.priority]


def _pick_topic(ctx: GenContext) -> str:
    free = [t for t in TOPICS if KEY_TOPIC + t not in ctx.used_paths]
    topic = ctx.rng.choice(free) if free else f"{ctx.rng.choice(TOPICS)} {ctx.task_id}"
    ctx.used_paths.add(KEY_TOPIC + topic)
    return topic


@register
class MeetingBooking:
    name = "meeting_booking"
    title = "Meeting booking"
    description = ("Book a meeting for a department or for every department head without inviting anyone who "
                   "cannot come, or find the earliest slot when a group is free; availability is known only by "
                   "asking each person (sometimes via their manager), and rooms are partly taken.")
    domains = ("scheduling", "inquiry")
    modalities = ("calendar", "dialogue")
    variants = VARIANTS
    knobs: ClassVar[dict[str, str]] = {
        "people": "invitees: easy 3-4, medium 5-7, hard 8-10 (department: the department nearest that size; "
                  "managers: every department head, however many)",
        "unavailable": "department/managers: easy 1, medium about 25 %, hard about 30 % (at least 2) cannot come; "
                       "people already in another meeting at that time cannot come either",
        "hops": "hard: 1-2 people don't know and refer you to their manager, who answers for them (two hops); "
                "at least one of them turns out unavailable (or blocks an earlier slot)",
        "rooms": "rooms already taken at the meeting time: easy 1, medium about half of the big-enough ones, "
                 "hard every big-enough room but one",
        "slots": "find_slot: quarter-hour slots blocked before the earliest free one: easy 1-3, medium 2-5, "
                 "hard 3-8; busy times after it are distractors",
    }

    # --- generation -------------------------------------------------------------------------------
    def generate(self, ctx: GenContext) -> TaskInstance:
        rng = ctx.rng
        level = {"easy": 0, "medium": 1, "hard": 2}[ctx.difficulty]
        company = ctx.company
        tid = ctx.task_id
        find_slot = ctx.variant == "find_slot"
        topic = _pick_topic(ctx)
        cal = _Calendars.of(ctx)
        dept_name = ""
        if ctx.variant == "department":
            dept_name = self._department(rng, company, ctx.difficulty)
            people = [_Invitee(e) for e in company.members_of(dept_name)]
            title = f"{dept_name}: {topic}"
        elif ctx.variant == "managers":
            people = [_Invitee(company.employee(d.head)) for d in company.departments if d.name != "Executive"]
            title = f"Managers: {topic}"
        else:
            # people with nothing on their calendar yet (their busy times are then all this task's own), and
            # on a busy day, those with the least on it after the task arrives
            pool = [e for e in company.employees if e.department != "Executive"]
            n = min(rng.randint(*SIZES[ctx.difficulty]), len(pool))
            fresh = [e for e in pool if cal.untouched(e.handle)]
            chosen = rng.sample(fresh, n) if len(fresh) >= n else fresh + sorted(
                (e for e in pool if not cal.untouched(e.handle)),
                key=lambda e: (cal.load(e.handle, ctx.arrival, ctx.day_end), e.handle))[: n - len(fresh)]
            people = [_Invitee(e) for e in sorted(chosen, key=lambda e: e.handle)]
            title = topic
        if level == 2:
            can_defer = [p for p in people if p.emp.manager is not None]
            for p in rng.sample(can_defer, min(len(can_defer), 1 if len(people) <= 5 else 2)):
                p.manager = company.employee(p.emp.manager or "")
        duration = 30 if find_slot else rng.choice((30, 45, 60))

        # the meeting starts well after the task's own work: estimate it with a plan of the same shape
        sketch = self._plan(ctx, people, dept_name, title, 0, duration, (0, 0), company.rooms[0].name)
        effort = estimate_minutes(sketch, company)
        start, duration = self._start(ctx, cal, people, duration, effort, find_slot)
        end = start + duration
        window = self._window(ctx, start, effort, duration) if find_slot else (start, end)
        if find_slot:
            self._fill_busy(ctx, cal, people, start, window, duration, level)
        else:
            self._availability(ctx, cal, people, start, duration, level)
        invited = [p for p in people if p.available]
        room, blockers = self._rooms(ctx, cal, len(invited) + 1, start, duration, {p.emp.handle for p in people},
                                     level)
        ctx.used_paths.add(f"{KEY_SLOT}{start}:{end}")
        ctx.used_paths.add(f"{KEY_ROOM}{room.name}:{start}:{end}")
        for p in people:  # later tasks see these people busy then (in this meeting, or for their reason)
            for a, b in [*p.busy, (start, end)]:
                ctx.used_paths.add(f"{KEY_BUSY}{p.emp.handle}:{a}:{b}")
            if find_slot:
                ctx.used_paths.add(f"{KEY_KNOWN}{p.emp.handle}:{window[0]}:{window[1]}")

        facts, clues = self._facts(ctx, people, title, topic, start, window)
        plan = self._plan(ctx, people, dept_name, title, start, duration, window, room.name)
        assert estimate_minutes(plan, company) == effort
        avail_ids = [f"{tid}-avail-{p.emp.handle}" for p in people]
        checkpoints = [
            Checkpoint(cp_id="booked", description="a meeting was booked and its id submitted", weight=1.0,
                       answer_bearing=False, check=MeetingCheck(aspect="exists"),
                       feedback="Book the meeting with book_meeting, then submit the id it returns as meeting_id."),
            Checkpoint(cp_id="start", description="the meeting starts at the right time",
                       weight=2.5 if find_slot else 1.0, answer_bearing=find_slot,
                       clue_ids=avail_ids if find_slot else [],
                       check=MeetingCheck(aspect="start", expected="start"),
                       feedback=("The earliest common slot follows from everyone's busy times: ask each person "
                                 "(someone who doesn't know their calendar will say who does)." if find_slot else
                                 "The task says when the meeting starts; book_meeting takes the start as 'HH:MM'.")),
            Checkpoint(cp_id="duration", description="the meeting has the requested length", weight=0.5,
                       answer_bearing=False, check=MeetingCheck(aspect="duration", expected="duration"),
                       feedback="The task says how long the meeting is; pass it as duration_minutes."),
            Checkpoint(cp_id="invited", description="everyone who can come is invited", weight=1.5,
                       answer_bearing=False, check=MeetingCheck(aspect="attendees_include", expected="invited"),
                       feedback=("Invite every colleague the task names." if find_slot else
                                 "Invite everyone in the group who can come; list_colleagues shows who is in it.")),
        ]
        answers: dict[str, object] = {
            "start": start, "duration": duration, "invited": sorted(p.emp.handle for p in invited),
        }
        if not find_slot:
            answers["uninvited"] = sorted(p.emp.handle for p in people if not p.available)
            checkpoints.append(Checkpoint(
                cp_id="not_unavailable", description="nobody who cannot come is invited", weight=2.0,
                clue_ids=avail_ids, check=MeetingCheck(aspect="attendees_exclude", expected="uninvited"),
                feedback="Ask each invitee whether they can make it; someone unsure will name who knows."))
        deadline = start - 5  # the booking must exist before the meeting starts
        return ctx.instance(
            self, objective=self._objective(ctx, people, dept_name, title, start, duration, window),
            deadline=deadline, latest_deadline=deadline, effort_minutes=effort, facts=facts, meetings=blockers,
            clues=clues, checkpoints=checkpoints, solution=plan, answers=answers)

    @staticmethod
    def _department(rng: random.Random, company: Company, difficulty: str) -> str:
        """The department whose headcount is nearest a size drawn for the difficulty (ties broken by rng)."""
        biggest = max(r.capacity for r in company.rooms)
        depts = [d for d in company.departments if d.name != "Executive" and len(d.members) + 1 <= biggest] or \
            [d for d in company.departments if d.name != "Executive"]
        target = rng.randint(*SIZES[difficulty])
        rng.shuffle(depts)
        return min(depts, key=lambda d: abs(len(d.members) - target)).name

    @staticmethod
    def _start(ctx: GenContext, cal: _Calendars, people: list[_Invitee], duration: int, effort: int,
               find_slot: bool) -> tuple[int, int]:
        """A start (and length) after the task's work that clashes with no required meeting and no other
        booking task's meeting, and leaves a big-enough room (and one more room for someone else) free.

        The lead before the meeting covers the task's work, required meetings in between, and some slack
        for other work; when the day is too full for that, shorter meetings are tried, and as a last resort
        a start with less lead (the day generator then drops the task if the oracle cannot make it).
        """
        rng = ctx.rng
        step = SLOT_STEP if find_slot else 5
        handles = [p.emp.handle for p in people]
        need = len(people) + 1
        others = [(int(a), int(b)) for a, b in _reserved(ctx, KEY_SLOT)]
        required = [(m.start, m.end) for m in ctx.meetings if m.trainee_required]
        work_done = ctx.arrival + effort

        def ok(s: int, length: int, lead: int, apart: bool, crowded: bool) -> bool:
            e = s + length
            if not crowded and any(_overlap(s, e, a, b) for a, b in required):
                return False
            # the trainee spends required meetings before the start in them, not on this task
            if s < work_done + lead + sum(max(0, min(b, s) - max(a, ctx.arrival)) for a, b in required):
                return False
            if apart and any(_overlap(s - HOLD_MARGIN, e + HOLD_MARGIN, a, b) for a, b in others):
                return False
            taken = _taken_rooms(ctx, s, e)
            free = [r for r in ctx.company.rooms if r.name not in taken]
            if len(free) < (1 if crowded else 2) or not any(r.capacity >= need for r in free):
                return False
            busy = [h for h in handles if cal.clash(h, s, e)]
            if find_slot:  # everyone must be free then
                return not busy
            # those busy simply cannot come, but someone must, and someone must be free to say no
            return len(busy) < len(handles) and not all(cal.told_free(h, s, e) for h in handles)

        level = {"easy": 0, "medium": 1, "hard": 2}[ctx.difficulty]
        lead = MIN_LEAD[ctx.priority]
        # find_slot: leave room for a few blocked slots of the window before the answer
        first = work_done + lead + (SLOT_STEP * (1, 2, 3)[level] if find_slot else 0)
        lengths = [duration, *(d for d in (45, 30) if d < duration)]
        # (earliest start, latest start, lead, apart, crowded). Early starts are preferred: the end of the day
        # is left to tasks that arrive late. The later tiers, needed on days full of meetings, give up on: the
        # lead (the day generator drops the task if the oracle cannot make it); keeping apart from other
        # booking tasks (their rooms stay reserved); a room for other people's meetings; the trainee's
        # required meetings (the trainee need not attend this one); and finally, with every room taken all
        # day, the meeting is held after hours.
        def tiers(length: int) -> list[tuple[int, int, int, bool, bool]]:
            late = ctx.day_end - 15 - length
            return [
                (first, min(first + 60, ctx.day_end - 60, ctx.day_end - 30 - length), lead, True, False),
                (first, late, lead, True, False), (work_done + 30, late, 30, True, False),
                (work_done + 10, late, 10, True, False), (ctx.arrival + 5, late, -effort, True, False),
                (ctx.arrival + 5, late, -effort, False, False), (ctx.arrival + 5, late, -effort, False, True),
                (ctx.day_end, EVENING_END - length, -effort, False, True),
            ]

        for tier in range(len(tiers(duration))):
            for length in lengths:
                lo, latest, min_lead, apart, crowded = tiers(length)[tier]
                grid = list(range(_ceil(lo, step), latest + 1, step))
                rng.shuffle(grid)  # the first that fits, in random order: a uniform choice among those that fit
                found = next((s for s in grid if ok(s, length, min_lead, apart, crowded)), None)
                if found is not None:
                    return found, length
        raise DayFullError(f"task {ctx.task_id}: no room is free for a meeting at any time today")

    @staticmethod
    def _window(ctx: GenContext, start: int, effort: int, duration: int) -> tuple[int, int]:
        """The search window: it opens a few blocked slots before ``start`` (never before the task's work is
        done, where the day allows) and closes a while after the free slot."""
        rng = ctx.rng
        level = {"easy": 0, "medium": 1, "hard": 2}[ctx.difficulty]
        earliest = _ceil(_lead(ctx, effort), SLOT_STEP)
        k = rng.randint((1, 2, 3)[level], (3, 5, 8)[level])
        k = max(1, min(k, (start - earliest) // SLOT_STEP))
        hi = min(ctx.day_end - 30, start + duration + SLOT_STEP * rng.randint(2, 8))
        return start - SLOT_STEP * k, max(hi, start + duration)

    @staticmethod
    def _fill_busy(ctx: GenContext, cal: _Calendars, people: list[_Invitee], start: int, window: tuple[int, int],
                   duration: int, level: int) -> None:
        """Busy times whose earliest common gap in the window is exactly ``start``."""
        rng = ctx.rng
        lo, hi = window
        # what people already have on their calendar in the window is part of their busy times
        for p in people:
            for a, b, _ in cal.busy.get(p.emp.handle, ()):
                if _overlap(lo, hi, a, b):
                    p.busy.append((max(lo, a), min(hi, b)))
        # cover [lo, start) with segments, each someone's busy interval, so every earlier slot is blocked
        k = (start - lo) // SLOT_STEP
        n_seg = min(k, len(people), rng.randint(1 + level, 2 + 2 * level))
        cuts = sorted(rng.sample(range(1, k), n_seg - 1)) if n_seg > 1 else []
        bounds = [lo, *(lo + c * SLOT_STEP for c in cuts), start]
        owners = rng.sample(people, n_seg)
        deferring = [p for p in people if p.manager is not None]
        if deferring and not any(p.manager is not None for p in owners):
            owners[rng.randrange(n_seg)] = rng.choice(deferring)  # the second hop must matter
        for i, p in enumerate(owners):
            a = bounds[i] - SLOT_STEP * rng.randint(0, 2)
            p.busy.append((max(lo, a), bounds[i + 1]))
        # distractors: busy times after the free slot (one may start right when it ends)
        after = start + duration
        for p in people:
            if after < hi and rng.random() < 0.5:
                a = rng.choice(range(after, hi, SLOT_STEP))
                p.busy.append((a, min(hi, a + SLOT_STEP * rng.randint(1, 4))))
        for p in people:
            p.busy = _merge(p.busy)
        all_busy = [iv for p in people for iv in p.busy]
        assert earliest_slot(all_busy, lo, hi, duration) == start and start > lo

    @staticmethod
    def _availability(ctx: GenContext, cal: _Calendars, people: list[_Invitee], start: int, duration: int,
                      level: int) -> None:
        rng = ctx.rng
        end = start + duration
        n = len(people)
        target = min(n - 1, (1, max(1, round(n * 0.25)), max(2, round(n * 0.3)))[level])
        for p in people:
            clash = cal.clash(p.emp.handle, start, end)
            if clash is not None:
                p.available = False
                who = f"{p.emp.first_name} is" if p.manager else "I'm"  # a deferring person's manager answers
                p.reason = f"{who} {clash}"
        # who may be made unavailable: not someone who already told another task they are free then
        open_ = [p for p in people if p.available and not cal.told_free(p.emp.handle, start, end)]
        deferring = [p for p in open_ if p.manager is not None]
        if deferring and all(p.available for p in people if p.manager is not None) \
                and sum(p.available for p in people) >= 2:
            rng.choice(deferring).available = False  # the second hop must matter
        candidates = [p for p in open_ if p.available]
        rng.shuffle(candidates)
        while candidates and sum(not p.available for p in people) < target and sum(p.available for p in people) > 1:
            candidates.pop().available = False
        for p in people:
            if not p.available and not p.reason:
                p.reason = (rng.choice(MANAGER_REASONS).format(first=p.emp.first_name) if p.manager
                            else rng.choice(REASONS))
        assert any(p.available for p in people) and not all(p.available for p in people)

    @staticmethod
    def _rooms(ctx: GenContext, cal: _Calendars, need: int, start: int, duration: int, people: set[str],
               level: int) -> tuple[Room, list[MeetingAsset]]:
        """The room the oracle books, and other people's meetings that take some of the other rooms."""
        rng = ctx.rng
        end = start + duration
        taken = _taken_rooms(ctx, start, end)
        free = [r for r in ctx.company.rooms if r.name not in taken]
        room = rng.choice([r for r in free if r.capacity >= need])
        rest = [r for r in free if r.name != room.name]
        fits = [r for r in rest if r.capacity >= need]
        if level == 2:
            block = fits + rng.sample([r for r in rest if r not in fits], min(1, len(rest) - len(fits)))
        elif level == 1:
            block = rng.sample(fits, (len(fits) + 1) // 2) if fits else []
        else:
            block = []
        if not block and rest:
            block = [rng.choice(fits or rest)]
        # other people's meetings take people who are free then, and whom no booking task asked about then
        lo, hi = start - 15, end + 15  # the most a blocker is stretched

        def may_join(h: str) -> bool:
            return h not in people and cal.clash(h, lo, hi) is None and \
                not any(_overlap(lo, hi, a, b) for a, b in cal.known.get(h, ()))

        pool = sorted(e.handle for e in ctx.company.employees if may_join(e.handle))
        blockers: list[MeetingAsset] = []
        for i, r in enumerate(sorted(block, key=lambda r: r.name), start=1):
            # other people's meetings need not match ours exactly: stretch them where the room allows
            a, b = start - 5 * rng.randint(0, 3), end + 5 * rng.randint(0, 3)
            a, b = (a, b) if r.name not in _taken_rooms(ctx, a, b) else (start, end)
            group = rng.sample(pool, min(len(pool), rng.randint(2, max(2, min(5, r.capacity)))))
            if not group:
                group = [ctx.company.employees[0].handle]
            org = ctx.company.employee(group[0])
            blockers.append(MeetingAsset(
                meeting_id=f"{ctx.task_id}-hold{i}", title=f"{org.department} {rng.choice(BLOCKER_TITLES).lower()}",
                start=a, end=b, room=r.name, organizer=org.handle, attendees=group[1:],
            ))
            pool = [h for h in pool if h not in group]
        return room, blockers

    @staticmethod
    def _facts(ctx: GenContext, people: list[_Invitee], title: str, topic: str, start: int,
               window: tuple[int, int]) -> tuple[list[Fact], list[Clue]]:
        rng = ctx.rng
        tid = ctx.task_id
        find_slot = ctx.variant == "find_slot"
        t, w0, w1 = fmt(start), fmt(window[0]), fmt(window[1])
        # the topic, the title and the time (or window) select this task's facts among the day's others
        selectors = [topic, title, *((w0, w1) if find_slot else (t,))]
        words = list(dict.fromkeys([*(SLOT_WORDS if find_slot else ASK_WORDS), *selectors]))
        selectors = list(dict.fromkeys(selectors))
        facts: list[Fact] = []
        clues: list[Clue] = []
        for p in people:
            e, h = p.emp, p.emp.handle
            avail_id = f"{tid}-avail-{h}"
            if find_slot:
                answer = (f"between {w0} and {w1} I'm busy {_ranges(p.busy)}; the rest of that time I'm free"
                          if p.busy else f"I'm free the whole time between {w0} and {w1}")
                mgr_answer = (f"between {w0} and {w1}, {e.name} is busy {_ranges(p.busy)} and free otherwise"
                              if p.busy else f"{e.name} is free the whole time between {w0} and {w1}")
                own = f"For the '{title}': {answer}."
                via = f"For the '{title}': {mgr_answer}."
                what = f"{h}'s busy times between {w0} and {w1}"
            else:
                own = (f"Yes, I can make the '{title}' at {t}." if p.available
                       else f"Sorry, I can't make the '{title}' at {t}: {p.reason}.")
                via = (f"{e.name} can make the '{title}' at {t}; I've checked their calendar." if p.available
                       else f"{e.name} can't make the '{title}' at {t}: {p.reason}.")
                what = f"whether {h} can come at {t}"
            if p.manager is None:
                facts.append(Fact(fact_id=avail_id, holder=h, topic=what, keywords=words, require_any=selectors,
                                  reply=own, clue_ids=[avail_id]))
                clues.append(Clue(clue_id=avail_id, description=what, location="colleague", where=f"ask {h}"))
                continue
            m = p.manager
            ref_id = f"{tid}-referral-{h}"
            if find_slot:
                ref = (f"My calendar today is kept by my manager, {m.name} ({m.handle}): please ask them when "
                       f"I'm busy between {w0} and {w1}.")
            else:
                ref = (f"I'm not sure I can make the '{title}' at {t}: {rng.choice(DEFER_REASONS)}. "
                       f"Please ask {m.name} ({m.handle}).")
            facts.append(Fact(fact_id=ref_id, holder=h, topic=f"who knows {what}", keywords=words,
                              require_any=selectors, reply=ref, clue_ids=[ref_id]))
            # the name is required but adds no score: a question naming the person ties with the manager's own
            # answer, so both are given rather than one hiding the other
            names = [e.first_name, e.name, h]
            facts.append(Fact(fact_id=avail_id, holder=m.handle, topic=what, keywords=words,
                              require_any=names, reply=via, clue_ids=[avail_id]))
            clues.append(Clue(clue_id=ref_id, description=f"{m.handle} knows {what}", location="colleague",
                              where=f"ask {h}"))
            clues.append(Clue(clue_id=avail_id, description=what, location="colleague",
                              where=f"ask {m.handle} ({h}'s manager), as {h} says", hops=2))
        return facts, clues

    @staticmethod
    def _plan(ctx: GenContext, people: list[_Invitee], dept_name: str, title: str, start: int, duration: int,
              window: tuple[int, int], room: str) -> list[ToolCall]:
        company = ctx.company
        find_slot = ctx.variant == "find_slot"
        t, w0, w1 = fmt(start), fmt(window[0]), fmt(window[1])
        plan: list[ToolCall] = []
        if ctx.variant == "department":
            plan.append(ToolCall(name="list_colleagues", arguments={"department": dept_name}))
        elif ctx.variant == "managers":
            plan.append(ToolCall(name="list_colleagues", arguments={}))
        ask = (f"Hi all, I'm finding a slot for the '{title}' meeting. When are you busy between {w0} and {w1} today?"
               if find_slot else f"Hi all, I'm booking the '{title}' meeting today at {t}. Are you available then?")
        plan.append(ToolCall(name="send_message", arguments={"to": [p.emp.handle for p in people], "text": ask}))
        # wait by the clock (so replies to other tasks' messages can't end it early) until the slowest reply is in
        slowest = max(company.employee(p.emp.handle).reply_delay for p in people)
        if slowest > GROUP_MESSAGE_COST:
            plan.append(ToolCall(name="wait", arguments={"minutes": slowest - GROUP_MESSAGE_COST}))
        deferring = [p for p in people if p.manager is not None]
        for p in deferring:
            assert p.manager is not None
            e = p.emp
            text = (f"Hi, when is {e.name} ({e.handle}) busy between {w0} and {w1} today? It's for the '{title}' "
                    "meeting." if find_slot else f"Hi, can {e.name} ({e.handle}) make the '{title}' meeting today "
                    f"at {t}? Are they available?")
            plan.append(ToolCall(name="send_message", arguments={"to": p.manager.handle, "text": text}))
        if deferring:
            # the i-th direct message is sent i messages after the first; each reply comes reply_delay later
            cost = DEFAULT_COSTS["send_message"]
            last = max(cost * i + (p.manager.reply_delay if p.manager else 0) for i, p in enumerate(deferring))
            if last > cost * len(deferring):
                plan.append(ToolCall(name="wait", arguments={"minutes": last - cost * len(deferring)}))
        attendees = sorted(p.emp.handle for p in people if p.available)
        plan += [
            ToolCall(name="list_rooms", arguments={}),
            ToolCall(name="room_schedule", arguments={}),
            ToolCall(name="book_meeting", arguments={"title": title, "start": t, "duration_minutes": duration,
                                                     "room": room, "attendees": attendees}),
            ToolCall(name="submit", arguments={"task_id": ctx.task_id, "answer": {"meeting_id": title}}),
        ]
        return plan

    @staticmethod
    def _objective(ctx: GenContext, people: list[_Invitee], dept_name: str, title: str, start: int, duration: int,
                   window: tuple[int, int]) -> str:
        t = fmt(start)
        submit = 'Submit {"meeting_id": "<the id book_meeting returns>"}.'
        room = "Book a room that is free then and holds every attendee plus you."
        if ctx.variant == "find_slot":
            who = ", ".join(f"{p.emp.name} ({p.emp.handle})" for p in people)
            return (f"Find the earliest {duration}-minute slot between {fmt(window[0])} and {fmt(window[1])} today, "
                    f"starting on the quarter hour (:00, :15, :30 or :45), when all of these colleagues are free: "
                    f"{who}. Only they know their calendars, so ask each of them when they are busy. Book that "
                    f"slot as a meeting titled '{title}' with all of them invited. {room} {submit}")
        group = (f"everyone in the {dept_name} department (its head included)" if ctx.variant == "department"
                 else "every department head (the head of each department in the directory, not the CEO)")
        return (f"Book a {duration}-minute meeting titled '{title}' today at {t} with {group} who can attend. Ask "
                f"each of them whether they can make it at {t}, and do not invite anyone who cannot come. "
                f"{room} {submit}")

    # --- baseline ---------------------------------------------------------------------------------
    def baseline(self, view: BaselineView) -> list[ToolCall]:
        """Invite the group minus whoever said (or was said) they can't come; for a slot, skip the busy times
        heard about. Books the largest room (it may be taken) and submits the title."""
        obj = view.objective
        company = view.company
        title_m = re.search(r"titled '([^']+)'", obj)
        dur_m = re.search(r"(\d+)-minute", obj)
        if title_m is None or dur_m is None:
            return [ToolCall(name="submit", arguments={"task_id": view.task_id, "answer": {"meeting_id": "b1"}})]
        title, duration = title_m.group(1), int(dur_m.group(1))
        heard = "\n".join(text for src, text in sorted(view.texts.items()) if not src.startswith("/"))
        window = re.search(r"between (\d{1,2}:\d{2}) and (\d{1,2}:\d{2})", obj)
        if "earliest" in obj and window is not None:
            people = [e.handle for e in company.employees if f"({e.handle})" in obj]
            lo, hi = parse(window.group(1)), parse(window.group(2))
            busy = [(parse(a), parse(b)) for a, b in _TIME_RANGE.findall(heard)]
            start = earliest_slot(busy, lo, hi, duration) or lo
        else:
            at = re.search(r"today at (\d{1,2}:\d{2})", obj)
            start = parse(at.group(1)) if at else 600
            dept = re.search(r"everyone in the (.+?) department", obj)
            if dept is not None:
                people = list(company.department(dept.group(1)).members)
            else:
                people = [d.head for d in company.departments if d.name != "Executive"]
            unavailable: set[str] = set()
            for line in heard.splitlines():
                msg = _MESSAGE.match(line)
                if msg is None:
                    continue
                for sentence in re.split(r"(?<=\.)\s+", msg.group(2)):
                    if "can't make" not in sentence:
                        continue
                    subject = sentence.split(" can't make")[0]
                    if subject.endswith(" I"):
                        unavailable.add(msg.group(1))
                    else:
                        unavailable.update(e.handle for e in company.employees if e.name in subject)
            people = [h for h in people if h not in unavailable]
        room = max(company.rooms, key=lambda r: r.capacity)
        return [
            ToolCall(name="book_meeting", arguments={"title": title, "start": fmt(start), "duration_minutes": duration,
                                                     "room": room.name, "attendees": people}),
            ToolCall(name="submit", arguments={"task_id": view.task_id, "answer": {"meeting_id": title}}),
        ]
