"""The virtual clock and the discrete-event queue, with one typed model per kind of world event.

What the queue holds is a :data:`DayEvent`: a discriminated union (on ``kind``) of the events the day's
script schedules (:class:`ScheduledEvent`: arrivals, deadlines, reminders, follow-ups, the end of the day)
and those colleagues cause (:class:`ColleagueEvent`: a reply to a message). ``World.process_due``
handles each kind; docs/world.md lists them.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Annotated, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from firstday.errors import ToolError
from firstday.world.colleagues import Reply

EventCause = Literal["scenario", "colleague"]


class BaseDayEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    cause: ClassVar[EventCause]


class ScheduledEvent(BaseDayEvent):
    """Scheduled by the day's script when the day starts (or when the task it belongs to arrives)."""

    cause: ClassVar[EventCause] = "scenario"


class ColleagueEvent(BaseDayEvent):
    """Caused by a colleague, in answer to the trainee."""

    cause: ClassVar[EventCause] = "colleague"


class TaskArrival(ScheduledEvent):
    """A task is assigned: its assets enter the world and the trainee is told (``task``/``interruption``)."""

    kind: Literal["task_arrival"] = "task_arrival"
    task_id: str


class Deadline(ScheduledEvent):
    """A task's deadline passes (the trainee is told if the task has arrived)."""

    kind: Literal["deadline"] = "deadline"
    task_id: str


class MeetingReminder(ScheduledEvent):
    """Ten minutes before a meeting the trainee must attend (unless it was cancelled)."""

    kind: Literal["meeting_reminder"] = "meeting_reminder"
    meeting_id: str


class FollowUpMessage(ScheduledEvent):
    """The requester asks how a task is going (only if it is still unsubmitted)."""

    kind: Literal["follow_up"] = "follow_up"
    task_id: str
    sender: str
    text: str


class EndOfDay(ScheduledEvent):
    """The working day is over: no further call is executed."""

    kind: Literal["end_of_day"] = "end_of_day"


class ColleagueReply(ColleagueEvent):
    """A colleague's reply to a message, after their reply delay."""

    kind: Literal["reply"] = "reply"
    reply: Reply


DayEvent = Annotated[
    TaskArrival | Deadline | MeetingReminder | FollowUpMessage | EndOfDay | ColleagueReply,
    Field(discriminator="kind"),
]
"""One event of the world's queue (any kind)."""

E = TypeVar("E", bound=BaseDayEvent)


@dataclass(order=True)
class Event:
    """A queued event: ordered by time, then by insertion (``seq``)."""

    time: int
    seq: int
    event: DayEvent = field(compare=False)


class Clock:
    """Monotone minutes. Nothing can move it backwards."""

    def __init__(self, start: int) -> None:
        self._now = start

    @property
    def now(self) -> int:
        return self._now

    def advance_to(self, minute: int) -> None:
        if minute < self._now:
            raise ToolError("the clock cannot move backwards")
        self._now = minute

    def advance(self, minutes: int) -> None:
        if minutes < 0:
            raise ToolError("time cannot be negative")
        self._now += minutes


class EventQueue:
    """Events ordered by time, then by insertion (so simultaneous events keep a stable order)."""

    def __init__(self) -> None:
        self._heap: list[Event] = []
        self._seq = 0

    def push(self, time: int, event: DayEvent) -> Event:
        queued = Event(time, self._seq, event)
        self._seq += 1
        heapq.heappush(self._heap, queued)
        return queued

    def pop_due(self, now: int) -> list[Event]:
        due: list[Event] = []
        while self._heap and self._heap[0].time <= now:
            due.append(heapq.heappop(self._heap))
        return due

    def next_time(self) -> int | None:
        return self._heap[0].time if self._heap else None

    def pending(self, kind: type[E]) -> list[tuple[int, E]]:
        """The queued events of one kind (e.g. ``ColleagueReply``) with their times, in order."""
        return [(q.time, q.event) for q in sorted(self._heap) if isinstance(q.event, kind)]

    def __len__(self) -> int:
        return len(self._heap)
