"""What a trainee carries from one day to the next (the continual-learning protocol, docs/learning.md).

With memory on (``EnvConfig.memory``) exactly two things carry over between the days of one scenario,
and nothing else (each day's world is built fresh from the suite):

* the **notebook**: notes the agent wrote with the ``notebook`` tool;
* the **lessons**: what the agent distilled in its reflection step after each day, from that day's
  mentor feedback. Lessons are offered back to the agent on later days, each when a task it is
  relevant to arrives (:meth:`Memory.retrieve`).

A memory belongs to one (scenario, trial): it starts empty on the first day and is never handed to
another scenario. The runner saves it after every day (``memory/<key>.json`` in the run folder).
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import BaseModel, Field

from firstday.jsonsafe import json_safe
from firstday.scoring.feedback import MentorFeedback
from firstday.world.assets import PublicTask
from firstday.world.notebook import Note, words

MEMORY_FORMAT: Final = "firstday.memory/1"
LESSONS_PER_TASK = 5
MAX_LESSONS = 200
MAX_LESSON_CHARS = 2_000

# words too common in objectives to say what a lesson is about
_STOP = frozenset(
    "a an and are as at be by for from in is it of on or the this that to with your you each every all "
    "task tasks please use using before after when which who what".split())


class Lesson(BaseModel):
    lesson_id: str = Field(description="'d<day>-<n>': learned after that day (0-based), n-th of that day")
    day_index: int = Field(description="the day after which it was learned")
    text: str
    category: str | None = Field(default=None, description="the task family it is about (None: any task)")


class Memory(BaseModel):
    format: Literal["firstday.memory/1"] = MEMORY_FORMAT
    scenario_id: str
    trial: int = 0
    days: list[int] = Field(default_factory=list, description="days lived so far (0-based)")
    notebook: list[Note] = Field(default_factory=list)
    lessons: list[Lesson] = Field(default_factory=list)
    feedback: list[MentorFeedback] = Field(default_factory=list, description="the mentor feedback of each day")

    def retrieve(self, task: PublicTask, k: int = LESSONS_PER_TASK, exclude: set[str] | None = None) -> list[Lesson]:
        """The ``k`` lessons most relevant to ``task``: same family first, then words shared with the
        objective; lessons about another family count only through shared words. Newest first on ties."""
        goal = words(task.objective + " " + task.category.replace("_", " ")) - _STOP
        scored = []
        for i, lesson in enumerate(self.lessons):
            if exclude and lesson.lesson_id in exclude:
                continue
            if lesson.category is not None and lesson.category != task.category:
                overlap = len(goal & (words(lesson.text) - _STOP))
                score = overlap if overlap >= 3 else 0
            else:
                score = 10 * (lesson.category == task.category) + len(goal & (words(lesson.text) - _STOP)) + 1
            if score > 0:
                scored.append((score, i, lesson))
        scored.sort(key=lambda x: (-x[0], -x[1]))
        return [lesson for _, _, lesson in scored[:k]]


def normalize_lessons(raw: object, day_index: int, start: int = 0) -> list[Lesson]:
    """An agent's reflection output (lessons, strings or dicts with ``text``/``category``) as lessons
    with ids; empty or oversized entries are dropped or cut, never an error."""
    listed = raw if type(raw) is list or type(raw) is tuple else [] if raw is None else [raw]
    # from the agent's code, so anything: made plain JSON (strings safe, objects described) once, here
    items = json_safe([{"text": item.__dict__.get("text"), "category": item.__dict__.get("category")}
                       if issubclass(type(item), Lesson) else item for item in listed[:MAX_LESSONS]],
                      max_chars=MAX_LESSON_CHARS)
    out: list[Lesson] = []
    for item in items:
        if item is None or item == "":
            continue
        if isinstance(item, dict):
            text, category = str(item.get("text", "")), item.get("category")
            category = str(category)[:200] if category else None
        else:
            text, category = str(item), None
        text = text.strip()[:MAX_LESSON_CHARS]
        if text:
            out.append(Lesson(lesson_id=f"d{day_index}-{start + len(out) + 1}", day_index=day_index, text=text,
                              category=category))
    return out
