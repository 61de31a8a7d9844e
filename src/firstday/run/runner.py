"""The runner: every (scenario, day) of a suite through one agent, saved as it goes, resumable.

The run is split into *jobs* (one episode each, plain picklable data) and an *executor* that turns
jobs into outcomes. The loop that writes results and reports progress does not care how the
executor schedules its jobs, so a concurrent or distributed executor can replace the sequential
:class:`LocalExecutor` without touching the rest.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from firstday._version import __version__
from firstday.agents import AgentContext, agent_names, make_agent
from firstday.env import DayEnv, EnvConfig, TraceEvent, run_episode
from firstday.errors import ConfigError, UnknownNameError
from firstday.run.results import EpisodeSummary, RunFolder, RunManifest, episode_key
from firstday.seeding import derive_seed
from firstday.suites.spec import Scenario
from firstday.suites.store import Suite, load_suite


@dataclass(frozen=True)
class EpisodeJob:
    """Everything needed to run one episode, as plain data (so it can be shipped to a worker)."""

    suite_path: str
    scenario_id: str
    day_index: int
    agent: str
    agent_options: dict[str, Any]
    env_config: EnvConfig
    seed: int

    @property
    def key(self) -> str:
        return episode_key(self.scenario_id, self.day_index)


@dataclass
class EpisodeOutcome:
    summary: EpisodeSummary
    trace: list[TraceEvent]


ScenarioLoader = Callable[[str], Scenario]


def _error_outcome(job: EpisodeJob, error: str) -> EpisodeOutcome:
    return EpisodeOutcome(EpisodeSummary(scenario_id=job.scenario_id, day_index=job.day_index, agent=job.agent,
                                         status="error", error=error), [])


async def run_job(job: EpisodeJob, load_scenario: ScenarioLoader) -> EpisodeOutcome:
    """Run one episode. Never raises an ``Exception``: any failure becomes an error episode."""
    try:
        scenario = load_scenario(job.scenario_id)
        day = next((d for d in scenario.days if d.day_index == job.day_index), None)
        if day is None:
            return _error_outcome(job, f"scenario {job.scenario_id} has no day {job.day_index}")
        ctx = AgentContext(scenario=scenario, day=day, options=dict(job.agent_options), seed=job.seed)
        agent = make_agent(job.agent, ctx)
        result = await run_episode(DayEnv(scenario, day, job.env_config), agent)
    except Exception as exc:  # loading or building the agent failed: record it and carry on
        return _error_outcome(job, f"{type(exc).__name__}: {exc}")
    truncated = any(ev.type == "end" and ev.data.get("truncated") for ev in result.trace)
    summary = EpisodeSummary(
        scenario_id=result.scenario_id, day_index=result.day_index, agent=result.agent, status=result.status,
        error=result.error, turns=result.turns, truncated=truncated, metrics=result.score.metrics,
        tasks=result.score.tasks,
    )
    return EpisodeOutcome(summary, result.trace)


class EpisodeExecutor(ABC):
    """Turns jobs into outcomes, in any order. Implementations: :class:`LocalExecutor` (sequential)."""

    @abstractmethod
    def run(self, suite: Suite, jobs: Sequence[EpisodeJob]) -> AsyncIterator[EpisodeOutcome]: ...


class LocalExecutor(EpisodeExecutor):
    """One episode after the other in this process; keeps the last scenario loaded."""

    async def run(self, suite: Suite, jobs: Sequence[EpisodeJob]) -> AsyncIterator[EpisodeOutcome]:
        cache: dict[str, Scenario] = {}

        def load(scenario_id: str) -> Scenario:
            if scenario_id not in cache:
                cache.clear()  # jobs come grouped by scenario: one in memory is enough
                cache[scenario_id] = suite.scenario(scenario_id)
            return cache[scenario_id]

        for job in jobs:
            yield await run_job(job, load)


@dataclass
class RunProgress:
    """Handed to the progress callback after every finished episode (and once at the start)."""

    total: int
    skipped: int
    finished: int = 0
    errors: int = 0
    last: EpisodeSummary | None = None

    @property
    def done(self) -> int:
        return self.skipped + self.finished


ProgressCallback = Callable[[RunProgress], None]


@dataclass
class RunSummary:
    out_dir: Path
    manifest: RunManifest
    total: int
    ran: int
    skipped: int
    errors: int = 0  # error episodes among those run now
    wall_seconds: float = 0.0
    episodes: list[EpisodeSummary] = field(default_factory=list)  # every episode on disk, sorted by key


def _describe_mismatch(old: RunManifest, new: RunManifest) -> str:
    """Only what differs, e.g. ``env config.text_only: False (saved) vs True (now)``."""
    parts = []
    a, b = old.settings(), new.settings()
    for key in a:
        if a[key] == b[key]:
            continue
        if isinstance(a[key], dict) and isinstance(b[key], dict):
            for sub in sorted(set(a[key]) | set(b[key])):
                if a[key].get(sub) != b[key].get(sub):
                    parts.append(f"{key}.{sub}: {a[key].get(sub)!r} (saved) vs {b[key].get(sub)!r} (now)")
        else:
            parts.append(f"{key}: {a[key]!r} (saved) vs {b[key]!r} (now)")
    return "; ".join(parts)


def _prepare_folder(folder: RunFolder, manifest: RunManifest) -> RunManifest:
    """Start a new run folder or check that an existing one is the same run (resume)."""
    if folder.exists():
        old = folder.read_manifest()
        if old.settings() != manifest.settings():
            raise ConfigError(
                f"{folder.path} already holds a different run ({_describe_mismatch(old, manifest)}); "
                f"use another --out, or delete {folder.path} to start over")
        return old
    if folder.path.exists() and (not folder.path.is_dir() or any(folder.path.iterdir())):
        raise ConfigError(f"{folder.path} exists and is not a run folder (no run.json); choose another --out")
    folder.write_manifest(manifest)
    return manifest


def plan_jobs(suite: Suite, manifest: RunManifest) -> list[EpisodeJob]:
    days = range(suite.manifest.spec.days)
    return [
        EpisodeJob(suite_path=str(suite.path), scenario_id=sid, day_index=d, agent=manifest.agent,
                   agent_options=manifest.agent_options, env_config=manifest.env_config,
                   seed=derive_seed(manifest.seed, "agent", sid, d))
        for sid in suite.scenario_ids for d in days
    ]


async def run_suite_async(
    suite_path: Path | str, agent: str, out_dir: Path | str, *, env_config: EnvConfig | None = None,
    agent_options: dict[str, Any] | None = None, seed: int = 0, retry_errors: bool = False,
    progress: ProgressCallback | None = None, executor: EpisodeExecutor | None = None,
) -> RunSummary:
    """Run ``agent`` over every episode of the suite at ``suite_path``, saving into ``out_dir``.

    If ``out_dir`` already holds this run (same agent, options, environment, seed and suite),
    finished episodes are skipped (error episodes too, unless ``retry_errors``). Results are written
    as each episode ends, so an interrupted run loses at most the episodes in flight.
    """
    started = time.perf_counter()
    suite = load_suite(suite_path)
    known = agent_names()
    if agent not in known:
        raise UnknownNameError("agent", agent, list(known))
    manifest = RunManifest(
        agent=agent, agent_options=dict(agent_options or {}), env_config=env_config or EnvConfig(), seed=seed,
        suite_path=str(suite.path), suite_name=suite.manifest.spec.name, suite_hash=suite.manifest.content_hash,
        n_episodes=suite.manifest.n_days, firstday_version=__version__,
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    folder = RunFolder(Path(out_dir))
    manifest = _prepare_folder(folder, manifest)

    jobs = plan_jobs(suite, manifest)
    pending = [j for j in jobs if not folder.has_episode(j.key)
               or (retry_errors and folder.read_episode(j.key).status == "error")]
    state = RunProgress(total=len(jobs), skipped=len(jobs) - len(pending))
    if progress:
        progress(state)
    async for outcome in (executor or LocalExecutor()).run(suite, pending):
        folder.write_episode(outcome.summary, outcome.trace)
        state.finished += 1
        state.errors += outcome.summary.status == "error"
        state.last = outcome.summary
        if progress:
            progress(state)
    return RunSummary(out_dir=folder.path, manifest=manifest, total=len(jobs), ran=state.finished,
                      skipped=state.skipped, errors=state.errors, wall_seconds=time.perf_counter() - started,
                      episodes=folder.read_episodes())


def run_suite(
    suite_path: Path | str, agent: str, out_dir: Path | str, *, env_config: EnvConfig | None = None,
    agent_options: dict[str, Any] | None = None, seed: int = 0, retry_errors: bool = False,
    progress: ProgressCallback | None = None, executor: EpisodeExecutor | None = None,
) -> RunSummary:
    """Synchronous wrapper of :func:`run_suite_async` (call that one from inside an event loop)."""
    return asyncio.run(run_suite_async(
        suite_path, agent, out_dir, env_config=env_config, agent_options=agent_options, seed=seed,
        retry_errors=retry_errors, progress=progress, executor=executor))
