"""Score cards: what scoring writes for each task and day (saved with every run)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class CheckpointResult(BaseModel):
    cp_id: str
    description: str
    weight: float
    passed: bool = Field(description="passed on time (by the deadline)")
    passed_late: bool = Field(default=False, description="would pass counting work after the deadline")
    answer_bearing: bool
    attempted_at: int | None = None
    unsupported: bool = Field(default=False, description="attempted while a clue it depends on was unseen")
    feedback: str
    error: str | None = None


class TaskScore(BaseModel):
    task_id: str
    family: str
    variant: str
    difficulty: str
    meta_task: str
    priority: str
    arrival: int
    deadline: int
    score: float | None = Field(description="checkpoint score: passed weight / total weight (None on error)")
    success: bool | None
    submitted_at: int | None = Field(description="first submission time")
    on_time: bool = Field(description="a submission exists by the deadline")
    latency: int | None = Field(description="minutes from arrival to first submission")
    clues_required: int
    clues_observed: int
    checkpoints: list[CheckpointResult]
    error: str | None = None
    zeroed: str | None = Field(
        default=None, description="why score and success are 0 whatever the checkpoints say: an error caused by the "
                                  "agent ended its episode (the checkpoints are kept for reading)")


class DayMetrics(BaseModel):
    """Per-day figures. Rates are None when their denominator is zero."""

    tasks: int
    scored_tasks: int
    score: float | None = Field(description="mean checkpoint score over scored tasks")
    success_rate: float | None
    priority_weighted_score: float | None = Field(description="score weighted by priority (low 1, normal 2, urgent 4)")
    on_time_rate: float | None = Field(description="priority-weighted share of tasks submitted by their deadline")
    urgent_latency: float | None = Field(
        description="mean minutes from an urgent task's arrival to its first submission"
    )
    meetings_required: int
    meetings_missed: int
    meetings_late: int
    work_left: int = Field(description="tasks that had arrived but were never submitted when the day ended")
    clue_discovery: float | None = Field(description="clues observed / clues required, over arrived tasks")
    unsupported_rate: float | None = Field(
        description="share of attempted answer-bearing checkpoints attempted before all their clues were seen"
    )
    questions_per_clue: float | None = Field(description="messages sent per colleague-held clue observed")
    messages_sent: int
    tool_calls: int
    errors: int = Field(description="tasks whose scoring failed (infrastructure errors, not zeros)")


class DayScore(BaseModel):
    scenario_id: str
    day_index: int
    tasks: list[TaskScore]
    metrics: DayMetrics


AGENT_ERROR_NOTE = "scored 0: the episode ended with an error caused by the agent ({error})"


def zero_for_agent_error(tasks: list[TaskScore], metrics: DayMetrics | None,
                         error: str) -> tuple[list[TaskScore], DayMetrics | None]:
    """Every task of an episode an agent-caused error ended, scored 0 and unsuccessful (docs/scoring.md,
    "Error attribution"): such an episode stays in every mean, so an agent gains nothing by failing on
    purpose. Checkpoint outcomes are kept for reading; a task whose scoring failed counts as 0 too (its
    scoring error is kept in the note). Day figures derived from task scores follow."""
    short = error.splitlines()[0][:200] if error else "unknown error"
    zeroed = [t.model_copy(update={
        "score": 0.0, "success": False, "error": None,
        "zeroed": AGENT_ERROR_NOTE.format(error=short) + (f"; its scoring had failed: {t.error}" if t.error else ""),
    }) for t in tasks]
    if metrics is None:
        return zeroed, None
    has = bool(zeroed)
    return zeroed, metrics.model_copy(update={
        "scored_tasks": len(zeroed), "errors": 0, "score": 0.0 if has else None,
        "success_rate": 0.0 if has else None, "priority_weighted_score": 0.0 if has else None})
