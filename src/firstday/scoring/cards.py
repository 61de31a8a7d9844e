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
    score: float | None = Field(description="checkpoint score: passed weight / total weight (0 for a scoring defect; "
                                            "None only in runs saved before defects counted 0)")
    success: bool | None
    submitted_at: int | None = Field(description="first submission time")
    on_time: bool = Field(description="the task's deliverables passed every checkpoint by its deadline (before "
                                      "0.2: a submission existed by the deadline; that is submitted_on_time now)")
    submitted_on_time: bool = Field(default=False, description="a submission exists by the deadline")
    latency: int | None = Field(description="minutes from arrival to first submission")
    clues_required: int
    clues_observed: int
    checkpoints: list[CheckpointResult]
    error: str | None = Field(default=None, description="a scoring defect of this task (it still counts 0)")
    zeroed: str | None = Field(
        default=None, description="why score and success are 0 whatever the checkpoints say: an error caused by the "
                                  "agent ended its episode (the checkpoints are kept for reading)")


class DayMetrics(BaseModel):
    """Per-day figures. Rates are None when their denominator is zero."""

    tasks: int
    scored_tasks: int = Field(description="tasks scored without a scoring defect")
    score: float | None = Field(description="mean checkpoint score over the arrived tasks (a scoring defect counts 0)")
    success_rate: float | None
    priority_weighted_score: float | None = Field(description="score weighted by priority (low 1, normal 2, urgent 4)")
    on_time_rate: float | None = Field(description="priority-weighted share of tasks whose deliverables passed "
                                                   "every checkpoint by their deadline")
    submitted_on_time_rate: float | None = Field(
        default=None, description="priority-weighted share of tasks submitted (right or not) by their deadline")
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
    errors: int = Field(description="tasks with a scoring defect (a check failed on the task's own answer): reported, "
                                    "and counted 0 in every mean")
    # scheduling (docs/scheduling.md; defaults: runs saved before these figures existed still load)
    load: float | None = Field(default=None, description="the day's load: the oracle's effort over the working day")
    best_score: float | None = Field(default=None, description="the best achievable priority-weighted score of the "
                                     "day (1 unless it holds more work than fits)")
    schedule_efficiency: float | None = Field(default=None, description="priority_weighted_score / best_score")
    priority_inversions: int | None = Field(
        default=None, description="calls serving a task while a ready task of higher priority and no later deadline "
                                  "(one the best schedule finishes) waited")
    inversion_minutes: int | None = Field(default=None, description="the virtual minutes of those calls")
    interruption_response: float | None = Field(
        default=None, description="mean minutes from an urgent arrival to the first call serving it")
    resumed_rate: float | None = Field(
        default=None, description="share of tasks in hand at an urgent arrival that were taken up again after it")
    # side effects (defaults: runs saved before the metric existed still load)
    noise: int = Field(default=0, description="side effects that would annoy colleagues: the sum of the three "
                                              "noise_* parts (docs/scoring.md, Noise)")
    noise_unrelated_messages: int = Field(
        default=0, description="stray (message, recipient) pairs (the recipient is involved in no task arrived by "
                               "then) of texts that reached at most three colleagues and carry no such task's value")
    noise_mass_messages: int = Field(
        default=0, description="stray (message, recipient) pairs of texts that reached more than three colleagues")
    noise_meetings: int = Field(default=0, description="the trainee's bookings that were cancelled, kept although "
                                                       "no submission names them, or repeating an earlier live "
                                                       "booking's title")


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
