"""Task instances: everything one task needs, as data (DESIGN.md §2)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from firstday.tasks.checks import Check
from firstday.world.assets import Fact, FileAsset, MeetingAsset, PageAsset, Priority, PublicTask
from firstday.world.tools import ToolCall

Difficulty = Literal["easy", "medium", "hard"]
DIFFICULTIES: tuple[Difficulty, ...] = ("easy", "medium", "hard")
Domain = Literal["information", "scheduling", "inquiry", "strategy"]
Modality = Literal["text", "table", "image", "calendar", "dialogue", "web"]


class Clue(BaseModel):
    clue_id: str
    description: str = Field(description="the latent fact, in words (hidden)")
    location: Literal["colleague", "file", "meeting", "page", "image"]
    where: str = Field(description="where to find it, e.g. 'ask dana.kim (Finance)'")
    hops: int = Field(default=1, description="how many referrals lead to it")


class Checkpoint(BaseModel):
    cp_id: str
    description: str
    weight: float = Field(default=1.0, gt=0)
    clue_ids: list[str] = Field(default_factory=list, description="clues this checkpoint depends on")
    answer_bearing: bool = Field(default=True, description="checks a value the agent had to find out")
    check: Check
    feedback: str = Field(default="", description="mentor feedback when failed: where to look (never the answer)")


class TaskInstance(BaseModel):
    task_id: str
    family: str
    variant: str
    difficulty: Difficulty
    objective: str
    requester: str
    arrival: int
    priority: Priority
    deadline: int
    latest_deadline: int | None = Field(default=None, description="the deadline may not be later than this")
    effort_minutes: int = Field(description="upper estimate of the oracle's virtual time for this task")
    depends_on: list[str] = Field(default_factory=list, description="ids of earlier tasks of the same day whose "
                                  "results this task needs: it cannot be solved before they are done")
    files: list[FileAsset] = Field(default_factory=list)
    facts: list[Fact] = Field(default_factory=list)
    meetings: list[MeetingAsset] = Field(default_factory=list)
    pages: list[PageAsset] = Field(default_factory=list)
    clues: list[Clue] = Field(default_factory=list)
    checkpoints: list[Checkpoint]
    solution: list[ToolCall] = Field(description="oracle plan: public tool calls that solve the task")
    answers: dict[str, Any] = Field(default_factory=dict, description="hidden ground truth")
    domains: list[str] = Field(default_factory=list)
    modalities: list[str] = Field(default_factory=list)

    @property
    def meta_task(self) -> str:
        return f"{self.family}/{self.variant}/{self.difficulty}"

    def public(self) -> PublicTask:
        return PublicTask(task_id=self.task_id, category=self.family, objective=self.objective, arrival=self.arrival,
                          priority=self.priority, deadline=self.deadline, requester=self.requester,
                          depends_on=list(self.depends_on))
