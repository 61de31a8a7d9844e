"""Studies made of several runs over one suite: the hint ladder and the paired memory/control runs.

Each study is a folder of ordinary run folders (one per hint tier; ``memory`` and ``control``), so
rerunning the same call resumes every run, and the reports (:mod:`firstday.report.hints`,
:mod:`firstday.report.learning`) are pure functions over the saved folders.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

from firstday.env import EnvConfig
from firstday.env.episode import HINT_TIERS
from firstday.errors import ConfigError
from firstday.run.preflight import DEFAULT_STOP_AFTER_ERRORS
from firstday.run.runner import EpisodeExecutor, RunSummary, run_suite
from firstday.suites import load_suite

# the two arms of a paired learning study: sub-folder name -> EnvConfig.memory
LEARNING_TREATMENT: Final = "memory"
LEARNING_CONTROL: Final = "control"
LEARNING_ARMS: Final = {LEARNING_TREATMENT: True, LEARNING_CONTROL: False}

# called after each run of a study: (tier or arm, its summary, wall seconds it took)
RunDone = Callable[[str, RunSummary, float], None]


def hint_ladder_tiers(tiers: Sequence[str]) -> list[str]:
    """``tiers`` checked: distinct known hint tiers, at least one (else a ConfigError naming them)."""
    chosen = list(tiers)
    unknown = [t for t in chosen if t not in HINT_TIERS]
    if unknown or not chosen or len(set(chosen)) != len(chosen):
        raise ConfigError(f"--tiers: give distinct tiers from {', '.join(HINT_TIERS)}, got {','.join(chosen)!r}")
    return chosen


def run_hint_ladder(
    suite_path: Path | str, agent: str, out_dir: Path | str, tiers: Sequence[str] = HINT_TIERS, *,
    env_config: EnvConfig | None = None, agent_options: dict[str, Any] | None = None, seed: int = 0,
    executor: EpisodeExecutor | None = None, concurrency: int = 1, event_loop: str = "asyncio",
    on_run: RunDone | None = None, stop_after_errors: int = DEFAULT_STOP_AFTER_ERRORS,
    allow_endpoint_change: bool = False,
) -> dict[str, RunSummary]:
    """The hint ladder's runs: ``agent`` over the suite once per hint tier, into ``out_dir/<tier>``, in the
    given order, each with ``env_config`` (default: the defaults) and its ``hints`` set to the tier.

    Returns each tier's run summary; :func:`firstday.report.hints.build_ladder` scores them side by side
    (docs/hints.md). Calling it again resumes the unfinished runs."""
    chosen = hint_ladder_tiers(tiers)
    base = (env_config or EnvConfig()).model_dump()
    out, summaries = Path(out_dir), {}
    for tier in chosen:
        started = time.perf_counter()
        summaries[tier] = run_suite(
            suite_path, agent, out / tier, env_config=EnvConfig.model_validate({**base, "hints": tier}),
            agent_options=agent_options, seed=seed, executor=executor, concurrency=concurrency,
            event_loop=event_loop, stop_after_errors=stop_after_errors, allow_endpoint_change=allow_endpoint_change)
        if on_run is not None:
            on_run(tier, summaries[tier], time.perf_counter() - started)
    return summaries


def run_paired_learning(
    suite_path: Path | str, agent: str, out_dir: Path | str, *, env_config: EnvConfig | None = None,
    agent_options: dict[str, Any] | None = None, seed: int = 0, trials: int = 1, retry_errors: bool = False,
    executor: EpisodeExecutor | None = None, concurrency: int = 1, event_loop: str = "asyncio",
    on_run: RunDone | None = None, stop_after_errors: int = DEFAULT_STOP_AFTER_ERRORS,
    allow_endpoint_change: bool = False,
) -> dict[str, RunSummary]:
    """A continual-learning study: ``agent`` with memory (``out_dir/memory``) and its paired control
    without (``out_dir/control``), on the same instances with the same seeds; the suite must have several
    days per scenario (the gain compares later days with the first).

    Returns both runs' summaries; :func:`firstday.report.learning.learning_report` computes the learning
    gain from the two folders (docs/learning.md). Calling it again resumes the unfinished runs."""
    if not Path(suite_path).exists():  # the general hint (--preset smoke) makes a single-day suite
        raise ConfigError(f"suite folder {suite_path} does not exist; create a multi-day one with "
                          f"'firstday generate --preset continual --out {suite_path}'")
    days = load_suite(suite_path).manifest.spec.days
    if days < 2:
        raise ConfigError(f"{suite_path} has a single day per scenario: the learning gain compares later days with "
                          "the first; generate a multi-day suite (firstday generate --preset continual)")
    base = (env_config or EnvConfig()).model_dump()
    out, summaries = Path(out_dir), {}
    for arm, memory in LEARNING_ARMS.items():
        started = time.perf_counter()
        summaries[arm] = run_suite(
            suite_path, agent, out / arm, env_config=EnvConfig.model_validate({**base, "memory": memory}),
            agent_options=agent_options, seed=seed, trials=trials, retry_errors=retry_errors, executor=executor,
            concurrency=concurrency, event_loop=event_loop, stop_after_errors=stop_after_errors,
            allow_endpoint_change=allow_endpoint_change)
        if on_run is not None:
            on_run(arm, summaries[arm], time.perf_counter() - started)
    return summaries
