"""The meta-task library: task model, checks, family protocol and registry."""

from firstday.tasks.checks import (
    AttendedCheck,
    Check,
    CheckOutcome,
    FileCheck,
    MeetingCheck,
    MessageCheck,
    SubmissionCheck,
    SubmittedCheck,
)
from firstday.tasks.family import (
    BaselineView,
    Family,
    GenContext,
    dependent_meta_tasks,
    dependent_variants,
    estimate_minutes,
    families,
    get_family,
    meta_tasks,
    register,
)
from firstday.tasks.model import DIFFICULTIES, Checkpoint, Clue, Difficulty, TaskInstance

__all__ = [
    "DIFFICULTIES", "AttendedCheck", "BaselineView", "Check", "CheckOutcome", "Checkpoint", "Clue", "Difficulty",
    "Family", "FileCheck", "GenContext", "MeetingCheck", "MessageCheck", "SubmissionCheck", "SubmittedCheck",
    "TaskInstance", "dependent_meta_tasks", "dependent_variants", "estimate_minutes", "families", "get_family",
    "meta_tasks", "register",
]
