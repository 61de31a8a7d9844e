"""Scoring: checkpoint scores, scheduling and exploration metrics, score cards."""

from firstday.scoring.cards import CheckpointResult, DayMetrics, DayScore, TaskScore
from firstday.scoring.score import score_day, score_task

__all__ = ["CheckpointResult", "DayMetrics", "DayScore", "TaskScore", "score_day", "score_task"]
