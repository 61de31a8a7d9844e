"""What a run saves, and the run folder layout.

A run folder holds::

    run.json                          RunManifest: what was run, on which suite, with which settings
    episodes/<scenario>-d<k>.json     EpisodeSummary: the day's score card, status, error and turns
    traces/<scenario>-d<k>.jsonl      one TraceEvent per line

Every file is written atomically the moment its episode ends. The episode file is written *after*
its trace, so its presence means "this episode is finished" and resuming can skip it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, Field, ValidationError

from firstday.env.episode import EnvConfig, TraceEvent
from firstday.errors import ConfigError
from firstday.scoring.cards import DayMetrics, TaskScore
from firstday.suites.store import atomic_write

RUN_FORMAT: Final = "firstday.run/1"
EPISODE_FORMAT: Final = "firstday.episode/1"
RUN_MANIFEST = "run.json"
EPISODES_DIR = "episodes"
TRACES_DIR = "traces"


class RunManifest(BaseModel):
    """``run.json``: enough to rebuild the run (agent, options, environment, exact suite)."""

    format: Literal["firstday.run/1"] = RUN_FORMAT
    agent: str
    agent_options: dict[str, Any] = Field(default_factory=dict)
    env_config: EnvConfig = Field(default_factory=EnvConfig)
    seed: int = Field(default=0, description="run seed; each episode's agent seed is derived from it")
    suite_path: str = Field(description="where the suite was when the run started (informational)")
    suite_name: str
    suite_hash: str = Field(description="content hash of the suite; a resumed run must match it")
    n_episodes: int = Field(description="episodes in the suite (scenarios x days)")
    firstday_version: str
    created_at: str = Field(description="UTC time the run was started (run metadata, not generated data)")

    def settings(self) -> dict[str, Any]:
        """The fields that must match for a resumed run to continue this one."""
        data = self.model_dump(mode="json")  # compare as saved (a tuple option reloads as a list)
        return {"agent": data["agent"], "agent options": data["agent_options"], "env config": data["env_config"],
                "seed": data["seed"], "suite hash": data["suite_hash"]}


class EpisodeSummary(BaseModel):
    """``episodes/<scenario>-d<k>.json``: one finished episode.

    ``status == "error"`` means the episode failed for a reason that is not the agent's skill (the
    agent raised, or loading the day failed); such episodes are counted, never averaged as zeros.
    """

    format: Literal["firstday.episode/1"] = EPISODE_FORMAT
    scenario_id: str
    day_index: int
    agent: str
    status: Literal["ok", "error"]
    error: str | None = None
    turns: int = 0
    truncated: bool = Field(default=False, description="the episode hit max_turns before the day ended")
    metrics: DayMetrics | None = Field(default=None, description="None when the episode never ran")
    tasks: list[TaskScore] = Field(default_factory=list)

    @property
    def key(self) -> str:
        return episode_key(self.scenario_id, self.day_index)


def episode_key(scenario_id: str, day_index: int) -> str:
    return f"{scenario_id}-d{day_index}"


def _episode_path(run_dir: Path, key: str) -> Path:
    return run_dir / EPISODES_DIR / f"{key}.json"


@dataclass
class RunFolder:
    """Reading and writing one run folder."""

    path: Path

    @property
    def manifest_path(self) -> Path:
        return self.path / RUN_MANIFEST

    def exists(self) -> bool:
        return self.manifest_path.is_file()

    def read_manifest(self) -> RunManifest:
        if not self.exists():
            if not self.path.exists():
                raise ConfigError(f"run folder {self.path} does not exist; pass a folder written by 'firstday run'")
            raise ConfigError(f"{self.path} is not a run folder (no {RUN_MANIFEST}); "
                              "pass a folder written by 'firstday run'")
        try:
            return RunManifest.model_validate_json(self.manifest_path.read_text(encoding="utf-8"))
        except ValidationError as exc:
            raise ConfigError(f"{self.manifest_path} is not a valid run manifest: {exc.errors()[0]['msg']}") from None

    def write_manifest(self, manifest: RunManifest) -> None:
        atomic_write(self.manifest_path, manifest.model_dump_json(indent=1) + "\n")

    def has_episode(self, key: str) -> bool:
        return _episode_path(self.path, key).is_file()

    def read_episode(self, key: str) -> EpisodeSummary:
        file = _episode_path(self.path, key)
        try:
            return EpisodeSummary.model_validate_json(file.read_text(encoding="utf-8"))
        except (OSError, ValidationError) as exc:
            raise ConfigError(f"{file} is not a readable episode result ({type(exc).__name__}); "
                              "delete it and rerun 'firstday run' to redo that episode") from None

    def episode_keys(self) -> list[str]:
        folder = self.path / EPISODES_DIR
        return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []

    def read_episodes(self) -> list[EpisodeSummary]:
        return [self.read_episode(k) for k in self.episode_keys()]

    def write_episode(self, summary: EpisodeSummary, trace: list[TraceEvent]) -> None:
        # trace first: the episode file is the "finished" marker that resuming relies on
        lines = "".join(ev.model_dump_json() + "\n" for ev in trace)
        atomic_write(self.path / TRACES_DIR / f"{summary.key}.jsonl", lines)
        atomic_write(_episode_path(self.path, summary.key), summary.model_dump_json(indent=1) + "\n")

    def trace_path(self, key: str) -> Path:
        return self.path / TRACES_DIR / f"{key}.jsonl"

    def read_trace(self, key: str) -> list[TraceEvent]:
        text = self.trace_path(key).read_text(encoding="utf-8")
        return [TraceEvent.model_validate_json(line) for line in text.splitlines() if line.strip()]
