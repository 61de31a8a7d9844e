"""Running agents over suites: the runner (resumable) and the run folder format."""

from firstday.run.results import EpisodeSummary, RunFolder, RunManifest, episode_key
from firstday.run.runner import (
    EpisodeExecutor,
    EpisodeJob,
    EpisodeOutcome,
    LocalExecutor,
    RunProgress,
    RunSummary,
    run_job,
    run_suite,
    run_suite_async,
)

__all__ = [
    "EpisodeExecutor", "EpisodeJob", "EpisodeOutcome", "EpisodeSummary", "LocalExecutor", "RunFolder",
    "RunManifest", "RunProgress", "RunSummary", "episode_key", "run_job", "run_suite", "run_suite_async",
]
