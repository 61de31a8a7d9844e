"""What a run saves, and the run folder layout.

A run folder holds::

    run.json                          RunManifest: what was run, on which suite, with which settings
    results.sqlite                    the index of finished episodes (SQLite, WAL mode), one row per episode
    episodes/<scenario>-d<k>.json     EpisodeSummary: the day's score card, status, error and turns
    traces/<scenario>-d<k>.jsonl      one TraceEvent per line
    memory/<scenario>-d<k>.json       with memory on: the Memory the day left for the next day

Repeated trials add ``-t<n>`` to the key of trial ``n >= 1`` (trial 0 keeps the plain key, so a
one-trial run can later be extended with more trials in the same folder).

Crash safety: when an episode ends, its trace and its episode file are written atomically (temporary
file + rename), then its row is committed to the index (episodes that end together in one transaction:
:mod:`firstday.run.saving`). An episode is *finished* only when its row is
in the index **and** its episode file exists, so a process killed at any instant (``kill -9``) leaves
either a finished episode or none: rerunning the same command redoes exactly the missing ones, and
the index's primary key makes a duplicate impossible.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, Field, ValidationError

from firstday.env.episode import EnvConfig, TraceEvent
from firstday.env.memory import Memory
from firstday.errors import ConfigError
from firstday.jsonsafe import json_safe, needs_care, safe_text
from firstday.scoring.cards import DayMetrics, TaskScore
from firstday.suites.store import atomic_write

RUN_FORMAT: Final = "firstday.run/1"
EPISODE_FORMAT: Final = "firstday.episode/1"
RUN_MANIFEST = "run.json"
RESULTS_DB = "results.sqlite"
EPISODES_DIR = "episodes"
TRACES_DIR = "traces"
MEMORY_DIR = "memory"


class RunLimits(BaseModel):
    """Timeouts of a run. Operational settings: they may change between a run and its resumption.

    (The per-tool-call limit of ``run_python`` is ``EnvConfig.run_timeout_s``: it is part of the
    environment, since a different limit can change what an agent achieves.)
    """

    act_timeout_s: float | None = Field(
        default=600.0, gt=0, description="limit of one agent step (one model call); None: no limit")
    episode_timeout_s: float | None = Field(
        default=7200.0, gt=0, description="limit of one whole episode (wall clock); None: no limit")
    tool_grace_s: float = Field(
        default=30.0, gt=0, description="beyond the run_python limit, how long a tool step may take before "
                                        "the episode is abandoned as hung")


class AgentUsage(BaseModel):
    """Tokens and cost an agent reports through its optional ``usage()`` method (see docs/running.md)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = Field(default=0.0, allow_inf_nan=False)  # NaN would be saved as null and not read back
    requests: int = 0

    @classmethod
    def of(cls, agent: object) -> AgentUsage | None:
        """The usage of ``agent`` if it has a ``usage()`` method returning a mapping or an object with
        (some of) these fields; None if it has none or it fails (usage is never worth an error episode)."""
        fn = getattr(agent, "usage", None)
        if not callable(fn):
            return None
        try:
            raw = fn()
            data = dict(raw) if isinstance(raw, Mapping) else {k: getattr(raw, k) for k in cls.model_fields
                                                                 if hasattr(raw, k)}
            return cls.model_validate(data)
        except Exception:
            return None

    def __add__(self, other: AgentUsage) -> AgentUsage:
        return AgentUsage(input_tokens=self.input_tokens + other.input_tokens,
                          output_tokens=self.output_tokens + other.output_tokens,
                          cost_usd=self.cost_usd + other.cost_usd, requests=self.requests + other.requests)


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
    n_episodes: int = Field(description="episodes expected: scenarios x days x trials")
    trials: int = Field(default=1, ge=1, description="runs of each (scenario, day); may grow when resumed")
    limits: RunLimits = Field(default_factory=RunLimits, description="timeouts (informational)")
    firstday_version: str
    created_at: str = Field(description="UTC time the run was started (run metadata, not generated data)")
    sandbox: str = Field(
        default="", description="run_python's runner really used: landlock (kernel sandbox) or audit (audit hook, "
                                "not a security boundary); 'a+b' when resumed under another; empty: not recorded")

    def settings(self) -> dict[str, Any]:
        """The fields that must match for a resumed run to continue this one."""
        data = self.model_dump(mode="json")  # compare as saved (a tuple option reloads as a list)
        # where agent code runs is recorded (``sandbox``), not compared: a run may resume under --require-sandbox
        env = {k: v for k, v in data["env_config"].items() if k not in ("sandbox", "require_sandbox")}
        return {"agent": data["agent"], "agent options": data["agent_options"], "env config": env,
                "seed": data["seed"], "suite hash": data["suite_hash"]}


class EpisodeSummary(BaseModel):
    """``episodes/<key>.json``: one finished episode.

    ``status == "error"`` means the episode failed for a reason that is not the agent's skill (the
    agent raised, a timeout, or loading the day failed); such episodes are counted, never averaged as
    zeros.
    """

    format: Literal["firstday.episode/1"] = EPISODE_FORMAT
    scenario_id: str
    day_index: int
    trial: int = Field(default=0, ge=0, description="which repetition of this (scenario, day)")
    seed: int | None = Field(default=None, description="the seed the agent was given (AgentContext.seed)")
    agent: str
    status: Literal["ok", "error"]
    error: str | None = None
    turns: int = 0
    truncated: bool = Field(default=False, description="the episode hit max_turns before the day ended")
    metrics: DayMetrics | None = Field(default=None, description="None when the episode never ran")
    tasks: list[TaskScore] = Field(default_factory=list)
    usage: AgentUsage | None = Field(default=None, description="tokens and cost, if the agent reports them")
    instance_hash: str | None = Field(
        default=None, description="content hash of the company and the day's instances (paired runs must match)")
    memory: bool = Field(default=False, description="the day was run with memory carried from earlier days")
    hints: str = Field(default="none", description="hint tier the tasks came with")

    @property
    def key(self) -> str:
        return episode_key(self.scenario_id, self.day_index, self.trial)


def episode_key(scenario_id: str, day_index: int, trial: int = 0) -> str:
    return f"{scenario_id}-d{day_index}" + (f"-t{trial}" if trial else "")


def _episode_path(run_dir: Path, key: str) -> Path:
    return run_dir / EPISODES_DIR / f"{key}.json"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS episodes (
    key TEXT PRIMARY KEY,
    scenario_id TEXT NOT NULL,
    day_index INTEGER NOT NULL,
    trial INTEGER NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    turns INTEGER NOT NULL,
    wall_seconds REAL,
    attempts INTEGER NOT NULL DEFAULT 1,
    finished_at TEXT NOT NULL,
    summary TEXT NOT NULL
)
"""


@dataclass
class RunFolder:
    """Reading and writing one run folder. Writing is safe from any one thread at a time."""

    path: Path
    _db: sqlite3.Connection | None = field(default=None, init=False, repr=False, compare=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.path = Path(self.path)

    @property
    def manifest_path(self) -> Path:
        return self.path / RUN_MANIFEST

    @property
    def db_path(self) -> Path:
        return self.path / RESULTS_DB

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

    # ---- the SQLite index ----------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.mkdir(parents=True, exist_ok=True)
            fresh = not self.db_path.exists()
            # one connection shared by the threads that write results (serialised by self._lock)
            db = sqlite3.connect(self.db_path, timeout=30.0, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a commit survives the process being killed (not a power cut), without an fsync
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(_SCHEMA)
            self._db = db
            if fresh:
                self._adopt_episode_files()
        return self._db

    def _adopt_episode_files(self) -> None:
        """A folder written before the index existed: its episode files become index rows."""
        folder = self.path / EPISODES_DIR
        for file in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            try:
                summary = EpisodeSummary.model_validate_json(file.read_text(encoding="utf-8"))
            except (OSError, ValidationError):
                continue  # unreadable: not finished; it will be rerun
            self._index(summary, file.read_text(encoding="utf-8"), None)

    def _index(self, summary: EpisodeSummary, text: str, wall_seconds: float | None) -> None:
        now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        with self._lock:
            self._conn().execute(
                "INSERT INTO episodes (key, scenario_id, day_index, trial, status, error, turns, wall_seconds, "
                "finished_at, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
                "status=excluded.status, error=excluded.error, turns=excluded.turns, "
                "wall_seconds=excluded.wall_seconds, finished_at=excluded.finished_at, summary=excluded.summary, "
                "attempts=episodes.attempts + 1",
                (summary.key, summary.scenario_id, summary.day_index, summary.trial, summary.status, summary.error,
                 summary.turns, wall_seconds, now, text))

    def index_rows(self) -> list[dict[str, Any]]:
        """Every row of the index (without the summary text), sorted by key."""
        if not self.db_path.exists():
            return []
        with self._lock:
            cur = self._conn().execute(
                "SELECT key, scenario_id, day_index, trial, status, error, turns, wall_seconds, attempts, "
                "finished_at FROM episodes ORDER BY key")
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # ---- episodes ------------------------------------------------------------------------------------

    def finished(self) -> dict[str, str]:
        """key -> status of every finished episode (in the index and with its episode file)."""
        if not self.exists() and not self.db_path.exists():
            return {}
        with self._lock:
            rows = self._conn().execute("SELECT key, status FROM episodes").fetchall()
        return {k: s for k, s in rows if _episode_path(self.path, k).is_file()}

    def has_episode(self, key: str) -> bool:
        if not _episode_path(self.path, key).is_file() or not (self.exists() or self.db_path.exists()):
            return False
        with self._lock:
            return self._conn().execute("SELECT 1 FROM episodes WHERE key = ?", (key,)).fetchone() is not None

    def read_episode(self, key: str) -> EpisodeSummary:
        file = _episode_path(self.path, key)
        try:
            return EpisodeSummary.model_validate_json(file.read_text(encoding="utf-8"))
        except (OSError, ValidationError) as exc:
            raise ConfigError(f"{file} is not a readable episode result ({type(exc).__name__}); "
                              "delete it and rerun 'firstday run' to redo that episode") from None

    def episode_keys(self) -> list[str]:
        return sorted(self.finished())

    def read_episodes(self, known: Mapping[str, EpisodeSummary] | None = None) -> list[EpisodeSummary]:
        """Every finished episode, sorted by key (read from the index: one query, no file per episode).

        ``known`` holds summaries the caller has in memory already, exactly as saved (the runner's
        episodes of this run): those are taken as they are instead of being read back and validated."""
        keys = set(self.finished())
        if not keys:
            return []
        known = known or {}
        with self._lock:
            rows = self._conn().execute("SELECT key, summary FROM episodes ORDER BY key").fetchall()
        out = []
        for key, text in rows:
            if key not in keys:
                continue
            summary = known.get(key)
            if summary is None:
                try:
                    summary = EpisodeSummary.model_validate_json(text)
                except ValidationError:
                    summary = self.read_episode(key)  # the file is the reference copy
            out.append(summary)
        return out

    def write_episode(self, summary: EpisodeSummary, trace: Iterable[TraceEvent] | str | bytes,
                      wall_seconds: float | None = None, memory: Memory | None = None) -> None:
        """Save one finished episode (see :meth:`write_episodes`)."""
        self.write_episodes([EpisodeRecord(summary, trace_bytes(trace), wall_seconds, memory)])

    def write_episodes(self, records: Sequence[EpisodeRecord]) -> None:
        """Save finished episodes: for each, its trace (and, with memory on, the memory it leaves), then
        its episode file; then their index rows, committed together (one transaction, so one commit for
        the episodes that ended at about the same time). A process killed in between leaves files
        without rows: those episodes are not finished and run again."""
        with self._lock:
            self._conn()  # open (and adopt older files) before these episodes' files exist
        rows = []
        for r in records:
            key = r.summary.key
            summary, text = r.summary, model_json(r.summary)
            if summary.error is not None and needs_care(summary.error):  # the index's copy must be UTF-8 too
                summary = summary.model_copy(update={"error": safe_text(summary.error)})
            if r.memory is not None:
                atomic_write(self.memory_path(key), model_json(r.memory))
            atomic_write(self.trace_path(key), trace_bytes(r.trace))
            atomic_write(_episode_path(self.path, key), text)
            rows.append((summary, text, r.wall_seconds))
        with self._lock:
            db = self._conn()
            db.execute("BEGIN")
            try:
                for row in rows:
                    self._index(*row)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def memory_path(self, key: str) -> Path:
        return self.path / MEMORY_DIR / f"{key}.json"

    def read_memory(self, key: str) -> Memory:
        """The memory episode ``key`` left for the next day of its scenario."""
        file = self.memory_path(key)
        try:
            return Memory.model_validate_json(file.read_text(encoding="utf-8"))
        except (OSError, ValidationError) as exc:
            raise ConfigError(f"{file} (the memory episode {key} left for the next day) is missing or unreadable "
                              f"({type(exc).__name__}); rerun with --retry-errors after deleting "
                              f"{_episode_path(self.path, key)} to redo that day") from None

    def trace_path(self, key: str) -> Path:
        return self.path / TRACES_DIR / f"{key}.jsonl"

    def read_trace(self, key: str) -> list[TraceEvent]:
        text = self.trace_path(key).read_text(encoding="utf-8")
        # lines end with "\n" only: splitlines() would also split at U+0085, U+2028 ... inside a string
        return [TraceEvent.model_validate_json(line) for line in text.split("\n") if line.strip()]


@dataclass(frozen=True, slots=True)
class EpisodeRecord:
    """One finished episode as :meth:`RunFolder.write_episodes` saves it. The trace is serialised by the
    writer (a list of events must not change once handed over)."""

    summary: EpisodeSummary
    trace: Sequence[TraceEvent] | str | bytes
    wall_seconds: float | None = None
    memory: Memory | None = None


def trace_bytes(trace: Iterable[TraceEvent] | str | bytes) -> bytes:
    """A trace as saved: one JSON object per line, UTF-8 (text and bytes pass through unchanged; text
    that is not valid UTF-8 gets U+FFFD for what cannot be encoded)."""
    if isinstance(trace, bytes):
        return trace
    if isinstance(trace, str):
        return safe_text(trace).encode()
    # the serializer itself: the same bytes as ev.model_dump_json(), without its per-call argument handling
    to_json = TraceEvent.__pydantic_serializer__.to_json
    events = list(trace)
    try:
        return b"".join([to_json(ev) + b"\n" for ev in events])
    except Exception:  # the last line of defence: something unsaveable got past the boundary
        return b"".join([_event_json(ev, to_json) + b"\n" for ev in events])


def _event_json(ev: TraceEvent, to_json: Callable[[TraceEvent], bytes]) -> bytes:
    """One event as JSON, made saveable if it is not (see :func:`model_json`)."""
    try:
        return to_json(ev)
    except Exception:
        fields = ev.__dict__
        return json.dumps({"t": json_safe(fields.get("t")), "type": json_safe(fields.get("type")),
                           "data": json_safe(fields.get("data"))}, ensure_ascii=False).encode()


def model_json(model: BaseModel) -> str:
    """``model`` as saved (indented JSON and a newline), never failing on what it holds: pydantic refuses
    lone surrogates, unknown objects and values nested too deeply, and the saver must not (a run whose
    episode cannot be saved stops, and every rerun would stop the same way). Such a model is saved
    with :func:`firstday.jsonsafe.json_safe` applied (surrogates replaced, objects described)."""
    try:
        return model.model_dump_json(indent=1) + "\n"
    except Exception:
        try:
            data = model.model_dump()
        except Exception:
            data = dict(model.__dict__)
        return json.dumps(json_safe(data), indent=1, ensure_ascii=False) + "\n"


def trace_text(trace: Iterable[TraceEvent] | str | bytes) -> str:
    """:func:`trace_bytes` as text (what a remote worker ships to the driver)."""
    return trace if isinstance(trace, str) else trace_bytes(trace).decode()


def summary_line(summary: EpisodeSummary, wall_seconds: float | None = None) -> str:
    """One JSON line describing a finished episode (``firstday run --jsonl``)."""
    m = summary.metrics
    data: dict[str, Any] = {
        "key": summary.key, "scenario_id": summary.scenario_id, "day_index": summary.day_index,
        "trial": summary.trial, "seed": summary.seed, "status": summary.status, "error": summary.error,
        "turns": summary.turns, "score": m.score if m else None, "success_rate": m.success_rate if m else None,
        "tasks": len(summary.tasks), "wall_seconds": None if wall_seconds is None else round(wall_seconds, 3),
        "usage": summary.usage.model_dump() if summary.usage else None,
    }
    return json.dumps(data, separators=(",", ":"))
