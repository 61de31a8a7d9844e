"""The virtual clock and the discrete-event queue."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any

from firstday.errors import ToolError


@dataclass(order=True)
class Event:
    time: int
    seq: int
    kind: str = field(compare=False)
    payload: dict[str, Any] = field(compare=False, default_factory=dict)


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

    def push(self, time: int, kind: str, **payload: Any) -> Event:
        ev = Event(time, self._seq, kind, payload)
        self._seq += 1
        heapq.heappush(self._heap, ev)
        return ev

    def pop_due(self, now: int) -> list[Event]:
        due: list[Event] = []
        while self._heap and self._heap[0].time <= now:
            due.append(heapq.heappop(self._heap))
        return due

    def next_time(self) -> int | None:
        return self._heap[0].time if self._heap else None

    def pending(self, kind: str) -> list[Event]:
        return sorted(e for e in self._heap if e.kind == kind)

    def __len__(self) -> int:
        return len(self._heap)
