"""What a task places into the world: files, colleagues' facts, meetings, internal web pages.

These are public-side data. The hidden side of a task (answers, checkpoints, oracle plan) lives in
``firstday.tasks`` and never enters a world service.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from firstday.world.images import ImageSpec

Area = Literal["shared", "workspace"]


class FileAsset(BaseModel):
    path: str = Field(description="absolute drive path under /shared or /workspace")
    content: str = Field(default="", description="text content (for images: base64, or empty with `render`)")
    media_type: str = "text/plain"
    render: ImageSpec | None = Field(default=None, description="for images: drawn lazily from this spec")
    text_alternative: str | None = Field(
        default=None, description="for images: the textual content used in text-alternative mode"
    )
    hidden: bool = Field(default=False, description="invisible until a colleague shares it")
    clue_ids: list[str] = Field(default_factory=list, description="clues observed by reading this file")

    @property
    def is_image(self) -> bool:
        return self.media_type.startswith("image/")


class Fact(BaseModel):
    """One entry of a colleague's knowledge card."""

    fact_id: str
    holder: str = Field(description="handle of the colleague who knows this")
    topic: str = Field(description="short label, used in logs and for the LLM responder")
    keywords: list[str] = Field(description="words or phrases a question must mention to match")
    require_any: list[str] = Field(
        default_factory=list,
        description="if non-empty, at least one of these must appear too (e.g. the person asked about)",
    )
    reply: str = Field(description="what the colleague says when this fact matches")
    clue_ids: list[str] = Field(default_factory=list)
    shares_files: list[str] = Field(default_factory=list, description="hidden files made visible by this reply")
    gate_tokens: list[str] = Field(
        default_factory=list, description="all must appear in the message, else gate_reply is given instead"
    )
    gate_reply: str = ""


class MeetingAsset(BaseModel):
    meeting_id: str
    title: str
    start: int
    end: int
    room: str
    organizer: str
    attendees: list[str]
    trainee_required: bool = Field(default=False, description="on the trainee's calendar; attendance scored")
    notes: str = Field(default="", description="what the trainee learns by attending")
    clue_ids: list[str] = Field(default_factory=list)


class PageVersion(BaseModel):
    """A later version of a page: shown from ``time`` on (until a later version takes over)."""

    time: int = Field(description="minute of the day from which this version is shown")
    content: str
    clue_ids: list[str] = Field(default_factory=list, description="clues observed by opening this version")


class PageAsset(BaseModel):
    """An internal web page or dashboard, reached with the ``open_page`` tool.

    A page may change during the day: ``versions`` replace ``content`` from their time on, so an agent
    sees the latest version at the current virtual time (a dashboard refresh, a status update).
    """

    url: str
    title: str
    content: str
    clue_ids: list[str] = Field(default_factory=list, description="clues observed by opening any version")
    versions: list[PageVersion] = Field(default_factory=list)

    def at(self, minute: int) -> tuple[str, list[str]]:
        """The content shown at ``minute`` and the clues opening it then reveals."""
        content, clues = self.content, list(self.clue_ids)
        shown: PageVersion | None = None
        for v in sorted(self.versions, key=lambda v: v.time):  # stable: equal times keep their order
            if v.time <= minute:
                shown = v
        if shown is not None:
            content = shown.content
            clues += [c for c in shown.clue_ids if c not in clues]
        return content, clues


Priority = Literal["low", "normal", "urgent"]
PRIORITY_WEIGHT: dict[str, int] = {"low": 1, "normal": 2, "urgent": 4}


class PublicTask(BaseModel):
    """What the trainee is told about a task when it arrives (and nothing else)."""

    task_id: str
    category: str = Field(description="the kind of task (its family), e.g. 'transaction_review'")
    objective: str
    arrival: int
    priority: Priority
    deadline: int
    requester: str = Field(description="handle of the colleague who assigned it")
    # the order constraint only (the objective names the task too): which earlier tasks' results it needs, not
    # what they are; left out of saved JSON when empty, so traces of independent tasks keep their bytes
    depends_on: list[str] = Field(default_factory=list, exclude_if=lambda v: not v,
                                  description="ids of the earlier tasks of the day whose results this task builds on")


class FollowUp(BaseModel):
    """A colleague's follow-up message, sent only if the task is still unsubmitted at ``time``."""

    task_id: str
    time: int
    sender: str
    text: str
