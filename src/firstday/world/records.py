"""What happened in a day: the records that checks and metrics read (and traces store)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from firstday.world.assets import PublicTask


class Notification(BaseModel):
    time: int
    kind: Literal[
        "task", "message", "meeting", "deadline", "reminder", "interruption", "system", "end_of_day"
    ]
    text: str
    task_id: str | None = None
    sender: str | None = None
    task: PublicTask | None = Field(default=None, description="structured task details on arrival")


class Submission(BaseModel):
    task_id: str
    time: int
    answer: Any


class FileVersion(BaseModel):
    time: int
    content: str
    author: Literal["initial", "trainee", "runner"]
    deleted: bool = False


class Meeting(BaseModel):
    meeting_id: str
    title: str
    start: int
    end: int
    room: str
    organizer: str
    attendees: list[str]
    created_at: int
    cancelled_at: int | None = None
    booked_by_trainee: bool = False
    trainee_required: bool = False


class Attendance(BaseModel):
    meeting_id: str
    joined_at: int


class SentMessage(BaseModel):
    time: int
    to: list[str]
    text: str


class DayRecord(BaseModel):
    """The observable outcome of a day, as checks see it."""

    submissions: list[Submission] = Field(default_factory=list)
    files: dict[str, list[FileVersion]] = Field(default_factory=dict)
    meetings: dict[str, Meeting] = Field(default_factory=dict)
    attendance: list[Attendance] = Field(default_factory=list)
    messages: list[SentMessage] = Field(default_factory=list)
    observed: dict[str, int] = Field(default_factory=dict, description="clue id -> first time the agent saw it")
    tool_calls: int = 0
    end_time: int = 0

    def file_at(self, path: str, time: int) -> FileVersion | None:
        """The latest version of ``path`` written at or before ``time``."""
        found = None
        for v in self.files.get(path, ()):
            if v.time <= time:
                found = v
        return None if found is None or found.deleted else found

    def last_submission(self, task_id: str, time: int) -> Submission | None:
        found = None
        for s in self.submissions:
            if s.task_id == task_id and s.time <= time:
                found = s
        return found
