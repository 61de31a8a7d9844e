"""Suite specs, presets, and the saved forms of days, scenarios and suites."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from firstday.errors import UnknownNameError
from firstday.tasks.model import TaskInstance
from firstday.world.assets import FollowUp, MeetingAsset
from firstday.world.company import Company


class SuiteSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "custom"
    seed: int = 0
    scenarios: int = Field(default=2, ge=1, le=10_000)
    days: int = Field(default=1, ge=1, le=30)
    tasks_per_day: tuple[int, int] = (2, 3)
    load: tuple[float, float] | None = Field(
        default=None, description="target (min, max) load of a day: the oracle's effort in minutes over the "
        "working day. Set, it fills each day with tasks until a load drawn from the range is reached (then "
        "tasks_per_day is not used); above 1 not everything fits and the best achievable schedule is computed")
    families: list[str] | None = Field(default=None, description="family names; None = every registered family")
    difficulty: dict[Literal["easy", "medium", "hard"], float] = Field(
        default_factory=lambda: {"easy": 0.4, "medium": 0.4, "hard": 0.2}  # type: ignore[arg-type]
    )
    interruption: bool = Field(default=True, description="an urgent task arrives mid-day")
    meetings: bool = Field(default=True, description="a team meeting the trainee must attend")
    follow_ups: bool = Field(default=True, description="requesters chase unsubmitted tasks")
    dependencies: float = Field(
        default=0.5, ge=0.0, le=1.0, description="probability that a drawn task of a family with dependent variants "
        "is followed by a task that builds on its result (the later task cannot be solved before the earlier one "
        "is done; see docs/scheduling.md)")
    mode: Literal["stationary", "mutable"] = "stationary"
    company_size: tuple[int, int] = (18, 60)

    @model_validator(mode="after")
    def _check(self) -> SuiteSpec:
        lo, hi = self.tasks_per_day
        if not 1 <= lo <= hi <= 12:
            raise ValueError("tasks_per_day must be (min, max) with 1 <= min <= max <= 12")
        if not self.difficulty or any(w < 0 for w in self.difficulty.values()) or sum(self.difficulty.values()) <= 0:
            raise ValueError("difficulty weights must be non-negative and not all zero")
        if self.load is not None and not 0.05 <= self.load[0] <= self.load[1] <= 3.0:
            raise ValueError("load must be (min, max) with 0.05 <= min <= max <= 3.0")
        a, b = self.company_size
        if not 10 <= a <= b <= 300:
            raise ValueError("company_size must be (min, max) with 10 <= min <= max <= 300")
        return self


PRESETS: dict[str, SuiteSpec] = {
    "smoke": SuiteSpec(name="smoke", scenarios=2, tasks_per_day=(2, 3)),
    # days filled with work (docs/scheduling.md): everything fits only without dawdling (standard), or not
    # everything fits and the right work must be deferred or dropped (hard, with harder instances too); the
    # generator computes the best achievable schedule of an overloaded day
    "standard": SuiteSpec(name="standard", scenarios=50, load=(0.7, 0.9)),
    "hard": SuiteSpec(name="hard", scenarios=20, load=(1.1, 1.4),
                      difficulty={"easy": 0.0, "medium": 0.3, "hard": 0.7}),
    # the reference benchmark's conditions: 50 scenarios of 2-6 independent tasks, a light day (median load about
    # 0.2); the same scenarios as `standard` had before loads and dependent tasks
    "reference": SuiteSpec(name="reference", scenarios=50, tasks_per_day=(2, 6), dependencies=0),
    "continual": SuiteSpec(name="continual", scenarios=30, days=3, tasks_per_day=(3, 4)),
    "continual-mutable": SuiteSpec(name="continual-mutable", scenarios=30, days=3, tasks_per_day=(3, 4),
                                   mode="mutable"),
}


def preset(name: str, seed: int = 0) -> SuiteSpec:
    if name not in PRESETS:
        raise UnknownNameError("preset", name, list(PRESETS))
    return PRESETS[name].model_copy(update={"seed": seed})


class Day(BaseModel):
    day_index: int
    day_start: int = 540
    day_end: int = 1080
    tasks: list[TaskInstance]
    meetings: list[MeetingAsset] = Field(default_factory=list, description="background meetings")
    follow_ups: list[FollowUp] = Field(default_factory=list)
    dropped: list[str] = Field(default_factory=list, description="tasks the generator drew but could not "
                               "schedule (id, meta-task, why); none on a healthy day")
    load: float | None = Field(default=None, description="the oracle's effort over the working day")
    best_score: float = Field(default=1.0, description="the best achievable priority-weighted share of the day "
                              "(below 1 only when the day holds more work than fits)")
    best_proven: bool = Field(default=True, description="best_score is proven optimal (see suites/schedule.py)")
    skipped: list[str] = Field(default_factory=list, description="hidden: tasks the best schedule leaves undone")


class Scenario(BaseModel):
    scenario_id: str
    seed: int
    company: Company
    days: list[Day]


class SuiteManifest(BaseModel):
    format: Literal["firstday.suite/1"] = "firstday.suite/1"
    spec: SuiteSpec
    content_hash: str
    scenario_hashes: dict[str, str]
    n_scenarios: int
    n_days: int
    n_tasks: int
    n_dropped: int = Field(default=0, description="tasks drawn but dropped because the day could not fit them "
                           "(each day lists them in its 'dropped')")
    firstday_version: str
