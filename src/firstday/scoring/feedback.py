"""Mentor feedback: what the trainee is told at the end of a day (the continual-learning protocol).

It is built from the day's score card only: for each task, the checkpoints missed (or met late) with
their description and the family's note on where to look. The checks' own details are left out on
purpose: they may quote this instance's values ("no message reached dana.kim"), and feedback must
say what was missed and where to look, never hand over answers.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from firstday.scoring.cards import DayScore

_HINT = ". Hint: "


class FeedbackItem(BaseModel):
    task_id: str
    category: str = Field(description="the task's family, as the trainee was told on arrival")
    meta_task: str
    score: float | None
    passed: list[str] = Field(default_factory=list, description="descriptions of the checkpoints met on time")
    missed: list[str] = Field(default_factory=list, description="'<checkpoint>: <what went wrong>. Where to look: ...'")
    zeroed: str | None = Field(default=None, description="why the task scored 0 whatever its checkpoints (agent error)")


class MentorFeedback(BaseModel):
    scenario_id: str
    day_index: int
    items: list[FeedbackItem]

    @property
    def text(self) -> str:
        """The feedback as the mentor would write it (what an LLM agent's reflection is shown)."""
        lines = [f"Mentor feedback on day {self.day_index + 1}:"]
        for it in self.items:
            score = "not scored" if it.score is None else f"{round(100 * it.score)} %"
            lines.append(f"- task {it.task_id} ({it.category}): {score}")
            if it.zeroed:
                lines.append(f"    {it.zeroed}")
            lines += [f"    missed: {m}" for m in it.missed]
        return "\n".join(lines)


def _where_to_look(feedback_note: str) -> str:
    """The family's hint part of a checkpoint's feedback note (the text after '. Hint: '), if any."""
    _, sep, hint = feedback_note.partition(_HINT)
    return hint.strip() if sep else ""


def mentor_feedback(card: DayScore) -> MentorFeedback:
    items = []
    for t in card.tasks:
        passed, missed = [], []
        for cp in t.checkpoints:
            if cp.passed:
                passed.append(cp.description)
                continue
            if cp.error:
                what = "could not be scored (an internal error, not your fault)"
            elif cp.passed_late:
                what = "done, but only after the deadline"
            elif cp.attempted_at is None:
                what = "not done"
            else:
                what = "not right"
            hint = _where_to_look(cp.feedback)
            missed.append(f"{cp.description}: {what}" + (f". Where to look: {hint}" if hint else ""))
        items.append(FeedbackItem(task_id=t.task_id, category=t.family, meta_task=t.meta_task, score=t.score,
                                  passed=passed, missed=missed, zeroed=t.zeroed))
    return MentorFeedback(scenario_id=card.scenario_id, day_index=card.day_index, items=items)
