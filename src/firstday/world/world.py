"""The state of one working day: clock, events, drive, colleagues, calendar, web, tasks.

Only public data enters here. Tools (``firstday.world.tools``) read and change this state; the hidden
side of each task never does.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import assert_never

from firstday.errors import ToolError
from firstday.timefmt import fmt
from firstday.trusted import trusted
from firstday.world.assets import Fact, FileAsset, FollowUp, MeetingAsset, PageAsset, PublicTask
from firstday.world.clock import (
    Clock,
    ColleagueReply,
    Deadline,
    EndOfDay,
    EventQueue,
    FollowUpMessage,
    MeetingReminder,
    TaskArrival,
)
from firstday.world.colleagues import Responder
from firstday.world.company import Company, Employee
from firstday.world.images import render_b64
from firstday.world.notebook import Note, Notebook
from firstday.world.records import (
    DayRecord,
    FileVersion,
    Meeting,
    Notification,
    SentMessage,
    Submission,
)

ROOTS = ("/shared", "/workspace")
#: notification kinds that end a ``wait`` early: the agent gets control at the minute they happen
INTERRUPTING = frozenset({"interruption"})
MAX_FILE_CHARS = 1_000_000


@dataclass
class DayContent:
    """Everything public that a day places into the world."""

    company: Company
    tasks: list[PublicTask]
    files: list[FileAsset] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    meetings: list[MeetingAsset] = field(default_factory=list)
    pages: list[PageAsset] = field(default_factory=list)
    follow_ups: list[FollowUp] = field(default_factory=list)
    day_start: int = 540
    day_end: int = 1080
    #: per task id, the assets that enter the world only when that task arrives (the stream is sealed:
    #: nothing specific to a task exists before it is assigned); ``files`` etc. above exist from the start
    on_arrival: dict[str, TaskAssets] = field(default_factory=dict)


@dataclass
class TaskAssets:
    """What one task places into the world when it arrives."""

    files: list[FileAsset] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    meetings: list[MeetingAsset] = field(default_factory=list)
    pages: list[PageAsset] = field(default_factory=list)


def normalize_path(path: object, *, default_root: str = "/workspace") -> str:
    """Confine a user-supplied path to the drive; refuse traversal with a clear error."""
    if not isinstance(path, str) or not path.strip():
        raise ToolError("path must be a non-empty string such as '/shared/readme.md'")
    if "\x00" in path or "\\" in path:
        raise ToolError("path contains an invalid character (NUL or backslash)")
    if len(path) > 512:
        raise ToolError("path is too long (512 characters at most)")
    raw = path.strip()
    if ".." in raw.split("/"):
        raise ToolError("path traversal ('..') is not allowed; use absolute paths under /shared or /workspace")
    if not raw.startswith("/"):
        raw = f"{default_root}/{raw}"
    norm = posixpath.normpath(raw)
    if norm == "/":
        return norm
    if not any(norm == r or norm.startswith(r + "/") for r in ROOTS):
        raise ToolError(f"path {norm!r} is outside the drive; only /shared and /workspace exist")
    return norm


class World:
    def __init__(self, content: DayContent, *, text_only: bool = False, notebook: list[Note] | None = None,
                 day_index: int = 0) -> None:
        self.company = content.company
        self.day_index = day_index
        self.notebook = Notebook(notebook)
        self.day_start, self.day_end = content.day_start, content.day_end
        self.text_only = text_only
        self.clock = Clock(content.day_start)
        self.events = EventQueue()
        self.record = DayRecord()
        # handle -> colleague, for the lookups done on every message and notification (the company's own
        # lookup scans its list)
        self.colleagues: dict[str, Employee] = {}
        for e in content.company.employees:
            self.colleagues.setdefault(e.handle, e)
        self.responder = Responder([*content.company.employees], [])
        self.tasks: dict[str, PublicTask] = {t.task_id: t for t in content.tasks}
        self.arrived: list[str] = []
        self.file_assets: dict[str, FileAsset] = {}
        self._rendered: dict[str, str] = {}  # path -> base64 PNG of an asset rendered today
        self.visible: set[str] = set()
        self.pages: dict[str, PageAsset] = {}
        self.meeting_assets: dict[str, MeetingAsset] = {}
        self._on_arrival = dict(content.on_arrival)
        self._place(TaskAssets(content.files, content.facts, content.meetings, content.pages), content.day_start)
        self.inbox: list[Notification] = []
        self.pending_notes: list[Notification] = []
        self.pending_clues: set[str] = set()
        self.ended = False
        self._event_time: int | None = None
        self._meeting_seq = 0
        for t in content.tasks:
            self.events.push(t.arrival, TaskArrival(task_id=t.task_id))
            self.events.push(t.deadline, Deadline(task_id=t.task_id))
        self._remind(content.meetings, content.day_start)
        for fu in content.follow_ups:
            self.events.push(fu.time, FollowUpMessage(task_id=fu.task_id, sender=fu.sender, text=fu.text))
        self.events.push(content.day_end, EndOfDay())
        self.process_due()

    def _place(self, assets: TaskAssets, at: int) -> None:
        """Put ``assets`` into the world as of minute ``at`` (day start, or a task's arrival)."""
        for f in assets.files:
            if f.path in self.file_assets:
                raise ValueError(f"two assets share the path {f.path!r}")
            self.file_assets[f.path] = f
            # from the day's validated assets: no validation needed (a day places dozens of files and meetings)
            self.record.files[f.path] = [trusted(FileVersion, {"time": at, "content": f.content,
                                                               "author": "initial", "deleted": False})]
            if not f.hidden:
                self.visible.add(f.path)
        self.responder.add_facts(assets.facts)
        for p in assets.pages:
            self.pages[p.url] = p
        for m in assets.meetings:
            self.meeting_assets[m.meeting_id] = m
            self.record.meetings[m.meeting_id] = trusted(Meeting, {
                "meeting_id": m.meeting_id, "title": m.title, "start": m.start, "end": m.end, "room": m.room,
                "organizer": m.organizer, "attendees": list(m.attendees), "created_at": at,
                "cancelled_at": None, "booked_by_trainee": False, "trainee_required": m.trainee_required})

    def _remind(self, meetings: list[MeetingAsset], at: int) -> None:
        for m in meetings:
            if m.trainee_required:
                self.events.push(max(at, m.start - 10), MeetingReminder(meeting_id=m.meeting_id))

    def employee(self, handle: str) -> Employee:
        """The colleague with this handle (``KeyError`` if none), as ``Company.employee`` but indexed."""
        return self.colleagues[handle]

    # --- time -----------------------------------------------------------------------------------
    @property
    def now(self) -> int:
        return self.clock._now  # read on every call and event: one property, not two

    def advance(self, minutes: int) -> None:
        self.clock.advance(minutes)
        self.process_due()

    def advance_to(self, minute: int) -> None:
        self.clock.advance_to(minute)
        self.process_due()

    def advance_until(self, target: int) -> Notification | None:
        """Advance to ``target`` event by event, stopping at the minute of the first interrupting
        notification (an urgent task arriving), which is returned; ``None`` if nothing interrupted."""
        while (nxt := self.events.next_time()) is not None and nxt <= target:
            seen = len(self.pending_notes)
            self.advance_to(max(nxt, self.now))
            hit = next((n for n in self.pending_notes[seen:] if n.kind in INTERRUPTING), None)
            if hit is not None:
                return hit
        self.advance_to(target)
        return None

    def notify(self, kind: str, text: str, *, at: int | None = None, task_id: str | None = None,
               sender: str | None = None, task: PublicTask | None = None) -> None:
        """Queue a notification; ``at`` is when its event happened (default: now)."""
        when = at if at is not None else self._event_time if self._event_time is not None else self.now
        # built from the world's own values (an internal kind, text, ids): no validation needed
        note = trusted(Notification, {"time": when, "kind": kind, "text": text, "task_id": task_id,
                                      "sender": sender, "task": task})
        self.pending_notes.append(note)
        self.inbox.append(note)

    def process_due(self) -> None:
        for queued in self.events.pop_due(self.now):
            time = self._event_time = queued.time
            match queued.event:
                case TaskArrival(task_id=task_id):
                    t = self.tasks[task_id]
                    self.arrived.append(t.task_id)
                    assets = self._on_arrival.pop(t.task_id, None)
                    if assets is not None:
                        self._place(assets, time)
                        self._remind(assets.meetings, time)
                    who = self.employee(t.requester).name
                    urgent = "URGENT " if t.priority == "urgent" else ""
                    self.notify(
                        "interruption" if t.priority == "urgent" and t.arrival > self.day_start else "task",
                        f"{urgent}New task {t.task_id} ({t.category}) from {who} ({t.requester}), "
                        f"priority {t.priority}, due {fmt(t.deadline)}: {t.objective}",
                        task_id=t.task_id, sender=t.requester, task=t,
                    )
                case ColleagueReply(reply=reply):
                    for path in reply.shares_files:
                        self.visible.add(path)
                    self.pending_clues.update(reply.clue_ids)
                    name = self.employee(reply.sender).name
                    self.notify("message", f"Message from {name} ({reply.sender}): {reply.text}",
                                sender=reply.sender)
                case Deadline(task_id=tid):
                    if tid in self.arrived:
                        self.notify("deadline", f"Deadline {fmt(time)} reached for task {tid}.", task_id=tid)
                case MeetingReminder(meeting_id=meeting_id):
                    m = self.record.meetings[meeting_id]
                    if m.cancelled_at is None:
                        self.notify("meeting", f"Reminder: meeting '{m.title}' ({m.meeting_id}) in room {m.room} "
                                    f"from {fmt(m.start)} to {fmt(m.end)}. Use attend_meeting to join.")
                case FollowUpMessage(task_id=tid, sender=sender, text=text):
                    if tid in self.arrived and not any(s.task_id == tid for s in self.record.submissions):
                        name = self.employee(sender).name
                        self.notify("message", f"Message from {name} ({sender}): {text}", sender=sender,
                                    task_id=tid)
                case EndOfDay():
                    self.notify("end_of_day", f"It is {fmt(time)}: the working day is over.")
                    self.ended = True
                case other:
                    assert_never(other)
        self._event_time = None

    def take_observation(self) -> tuple[list[Notification], set[str]]:
        """Hand pending notifications to the agent; clues in them count as observed from now."""
        notes, self.pending_notes = self.pending_notes, []
        clues, self.pending_clues = self.pending_clues, set()
        for c in clues:
            self.record.observed.setdefault(c, self.now)
        return notes, clues

    # --- drive ----------------------------------------------------------------------------------
    def file_visible(self, path: str) -> bool:
        if path in self.visible:
            return True
        return path.startswith("/workspace/") and self.record.file_at(path, self.now) is not None

    def read(self, path: str) -> tuple[str, FileAsset | None]:
        if not self.file_visible(path):
            raise ToolError(f"no such file: {path}")
        version = self.record.file_at(path, self.now)
        if version is None:
            raise ToolError(f"no such file: {path}")
        asset = self.file_assets.get(path)
        if asset is not None and asset.render is not None and version.author == "initial":
            # once per day and path: the renderer's cache key alone (sorted JSON of the params) costs tens of µs
            b64 = self._rendered.get(path)
            if b64 is None:
                b64 = self._rendered[path] = render_b64(asset.render)
            return b64, asset
        return version.content, asset

    def listing(self) -> list[str]:
        paths = set(self.visible)
        for path, versions in self.record.files.items():
            if path.startswith("/workspace/") and versions and not versions[-1].deleted:
                paths.add(path)
        now, record = self.now, self.record  # read once: this runs on every list_files and run_python
        return sorted(p for p in paths if record.file_at(p, now) is not None)

    def write(self, path: str, content: str, author: str = "trainee") -> None:
        if not path.startswith("/workspace/"):
            raise ToolError(f"{path} is read-only; write under /workspace")
        if len(content) > MAX_FILE_CHARS:
            raise ToolError(f"file too large ({len(content)} characters; {MAX_FILE_CHARS} at most)")
        self.record.files.setdefault(path, []).append(
            FileVersion(time=self.now, content=content, author=author)
        )

    # --- messages -------------------------------------------------------------------------------
    def send(self, to: list[str], text: str) -> None:
        self.record.messages.append(SentMessage(time=self.now, to=list(to), text=text))
        group = len(to) > 1
        for handle in to:
            reply = self.responder.respond(handle, text, group=group)
            if reply is not None:
                delay = self.employee(handle).reply_delay
                self.events.push(self.now + delay, ColleagueReply(reply=reply))

    # --- calendar -------------------------------------------------------------------------------
    def live_meetings(self) -> list[Meeting]:
        return [m for m in self.record.meetings.values() if m.cancelled_at is None]

    def room_busy(self, room: str, start: int, end: int) -> Meeting | None:
        for m in self.live_meetings():
            if m.room == room and m.start < end and start < m.end:
                return m
        return None

    def new_meeting_id(self) -> str:
        self._meeting_seq += 1
        return f"b{self._meeting_seq}"

    def submit(self, task_id: str, answer: object) -> Submission:
        sub = Submission(task_id=task_id, time=self.now, answer=answer)
        self.record.submissions.append(sub)
        return sub
