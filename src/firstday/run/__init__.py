"""Running agents over suites: the runner (concurrent, resumable), executors and the run folder format."""

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
    "AgentUsage", "EpisodeExecutor", "EpisodeJob", "EpisodeOutcome", "EpisodeSummary", "LocalExecutor",
    "ProcessExecutor", "RunEvents", "RunFolder", "RunLimits", "RunManifest", "RunProgress", "RunSummary",
    "episode_key", "run_job", "run_suite", "run_suite_async", "trial_seed",
]
