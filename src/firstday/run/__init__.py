"""Running agents over suites: the runner (concurrent, resumable), executors and the run folder format."""

from firstday.run._studies import (
    LEARNING_ARMS,
    LEARNING_CONTROL,
    LEARNING_TREATMENT,
    hint_ladder_tiers,
    run_hint_ladder,
    run_paired_learning,
)
from firstday.run.process_executor import ProcessExecutor
from firstday.run.results import AgentUsage, EpisodeSummary, RunFolder, RunLimits, RunManifest, episode_key
from firstday.run.runner import (
    EpisodeExecutor,
    EpisodeJob,
    EpisodeOutcome,
    LocalExecutor,
    RunEvents,
    RunProgress,
    RunSummary,
    run_job,
    run_suite,
    run_suite_async,
    trial_seed,
)

__all__ = [
    "LEARNING_ARMS", "LEARNING_CONTROL", "LEARNING_TREATMENT", "AgentUsage", "EpisodeExecutor", "EpisodeJob",
    "EpisodeOutcome", "EpisodeSummary", "LocalExecutor",
    "ProcessExecutor", "RunEvents", "RunFolder", "RunLimits", "RunManifest", "RunProgress", "RunSummary",
    "episode_key", "hint_ladder_tiers", "run_hint_ladder", "run_job", "run_paired_learning", "run_suite",
    "run_suite_async", "trial_seed",
]
