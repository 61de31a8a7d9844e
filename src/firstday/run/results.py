"""What a run saves, and the run folder layout.

A run folder holds::

    run.json                          RunManifest: what was run, on which suite, with which settings
    results.sqlite                    the index of finished episodes (SQLite, WAL mode), one row per episode
    episodes/<scenario>-d<k>.json     EpisodeSummary: the day's score card, status, error and turns
    traces/<scenario>-d<k>.jsonl      one TraceEvent per line (docs/trace.md)
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
import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, Field, ValidationError

from firstday.env.episode import EnvConfig
from firstday.env.memory import Memory
from firstday.env.trace import TraceEvent, parse_event
from firstday.errors import ConfigError
from firstday.jsonsafe import json_safe, needs_care, safe_text
from firstday.scoring.cards import DayMetrics, TaskScore
from firstday.suites.store import atomic_write

RUN_FORMAT: Final = "firstday.run/1"
#: how an external agent's process ran (``--agent-cmd``): sealed by the kernel, or not (docs/agent-sandbox.md)
AgentProcessBackend = Literal["agent-process", "none"]
#: the same for a whole run: ``mixed`` when its episodes differ
AgentSandbox = Literal["agent-process", "none", "mixed"]
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


class EndpointRecord(BaseModel):
    """A model endpoint a run talks to, as it was resolved when the run (or its last resume) started."""

    role: Literal["agent", "colleague"] = Field(description="whose model: the agent's or the LLM colleagues'")
    model: str = Field(description="the model name, e.g. openai/gpt-4o")
    base_url: str | None = Field(default=None, description="the URL requests go to (None: a local model, or "
                                                           "the provider's own routing)")
    source: Literal["--base-url", "$OPENAI_BASE_URL", "provider default", "local"] = Field(
        description="where base_url came from: the option (--base-url, --colleague-base-url or -O base_url=), "
                    "the environment, or the provider's default")

    def key(self) -> tuple[str, str, str | None]:
        return self.role, self.model, self.base_url

    def describe(self) -> str:
        where = f" at {self.base_url}" if self.base_url else ""
        return f"{self.role} model {self.model}{where} (from {self.source})"


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
    endpoints: list[EndpointRecord] = Field(
        default_factory=list, description="the model endpoints the run talks to (never the key); compared when it "
                                          "resumes; empty: no model, or a run made before they were recorded")
    previous_endpoints: list[EndpointRecord] = Field(
        default_factory=list, description="endpoints of earlier sessions of this run that differed from "
                                          "'endpoints' (a resume with --allow-endpoint-change)")
    agent_sandbox: AgentSandbox | None = Field(
        default=None, description="how the external agent's process ran (--agent-cmd): agent-process (sealed by the "
                                  "kernel, docs/agent-sandbox.md), none (not sealed: the kernel cannot seal), mixed "
                                  "(some episodes each way); None: an in-process agent, or a run made before it "
                                  "was recorded")
    privileged: bool = Field(
        default=False, description="the agent is privileged: it was built from the day's hidden data (answers, plans), "
                                   "so its scores are an upper bound, not a baseline (docs/agents.md)")

    def settings(self) -> dict[str, Any]:
        """The fields that must match for a resumed run to continue this one."""
        data = self.model_dump(mode="json")  # compare as saved (a tuple option reloads as a list)
        # where agent code runs is recorded (``sandbox``), not compared: a run may resume under --require-sandbox
        env = {k: v for k, v in data["env_config"].items() if k not in ("sandbox", "require_sandbox")}
        # the endpoints' URLs are compared apart (``endpoints``): a changed one may be allowed
        env["colleague_options"] = {k: v for k, v in (env.get("colleague_options") or {}).items() if k != "base_url"}
        options = {k: v for k, v in data["agent_options"].items() if k != "base_url"}
        return {"agent": data["agent"], "agent options": options, "env config": env,
                "seed": data["seed"], "suite hash": data["suite_hash"]}


class EpisodeSummary(BaseModel):
    """``episodes/<key>.json``: one finished episode.

    ``status == "error"`` means the episode ended with an error, attributed by ``error_kind``
    (docs/scoring.md, "Error attribution"): ``agent`` errors score every task 0 and stay in every mean
    (final: ``--retry-errors`` leaves them); ``infrastructure`` errors are left out of the means,
    counted, and rerun by ``--retry-errors``. An error episode saved before attribution existed has no
    ``error_kind``: it is charged to the agent (the safe side: an error never raises a score) and
    ``--retry-errors`` reruns it, so that it gets attributed.
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
    error_kind: Literal["agent", "infrastructure"] | None = Field(
        default=None, description="with status error: who caused it (None: an episode saved before errors were "
                                  "attributed, charged to the agent)")
    agent_sandbox: AgentProcessBackend | None = Field(
        default=None, description="how the external agent's process ran (--agent-cmd): agent-process (sealed by the "
                                  "kernel) or none (not sealed); None: an in-process agent, no process started, or "
                                  "an episode saved before it was recorded")

    @property
    def key(self) -> str:
        return episode_key(self.scenario_id, self.day_index, self.trial)

    @property
    def agent_error(self) -> bool:
        """An error charged to the agent: its tasks score 0 and it stays in the means."""
        return self.status == "error" and self.error_kind != "infrastructure"

    @property
    def infrastructure_error(self) -> bool:
        """An error that is not the agent's: left out of the means, rerun by ``--retry-errors``."""
        return self.status == "error" and self.error_kind == "infrastructure"

    @property
    def retryable(self) -> bool:
        """Rerun by ``--retry-errors``: an infrastructure error, or an error saved before attribution."""
        return self.status == "error" and self.error_kind != "agent"


def merge_agent_sandbox(*backends: str | None) -> AgentSandbox | None:
    """The run's :attr:`RunManifest.agent_sandbox` from its episodes' (and a recorded run value): the one backend
    they share, ``mixed`` when they differ, None when none is recorded."""
    seen = {b for b in backends if b is not None}
    if not seen:
        return None
    if len(seen) > 1 or "mixed" in seen:
        return "mixed"
    return "agent-process" if seen == {"agent-process"} else "none"


def episode_key(scenario_id: str, day_index: int, trial: int = 0) -> str:
    return f"{scenario_id}-d{day_index}" + (f"-t{trial}" if trial else "")


def _episode_path(run_dir: Path, key: str) -> Path:
    return run_dir / EPISODES_DIR / f"{key}.json"


def _move_aside(path: Path) -> Path:
    """Rename a damaged file to ``<name>.corrupt`` (``.corrupt.1``, ... if taken) and return the new path."""
    target = path.with_name(path.name + CORRUPT_SUFFIX)
    n = 0
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}{CORRUPT_SUFFIX}.{n}")
    os.replace(path, target)
    return target


def _sqlite_sidecars(db: Path) -> list[Path]:
    return [db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


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
    summary TEXT NOT NULL,
    error_kind TEXT,
    sha256 TEXT,
    trace_size INTEGER
)
"""
#: columns added since the first index format (an older index gets them, empty, when opened for writing)
_ADDED_COLUMNS = {"error_kind": "TEXT", "sha256": "TEXT", "trace_size": "INTEGER"}
#: what a damaged file is renamed to (``episodes/x.json`` -> ``episodes/x.json.corrupt``): kept, never deleted
CORRUPT_SUFFIX = ".corrupt"


@dataclass
class FolderHealth:
    """What :meth:`RunFolder.inspect` found: the intact episodes, and what is damaged.

    An episode is intact when its episode file is UTF-8 JSON of a complete :class:`EpisodeSummary` for
    its key, matches the checksum its index row holds, and its trace is there with the size the row
    holds (a trace is checked by size, not read: traces are large). Without a sound index, every file
    that passes those checks it can make counts (the index is rebuilt from them)."""

    index_problem: str | None = None  # what is wrong with results.sqlite; None: sound, or absent
    index_missing: bool = False  # no results.sqlite while episode files exist
    episodes: list[EpisodeSummary] = field(default_factory=list)  # intact finished episodes, by key
    texts: dict[str, str] = field(default_factory=dict, repr=False)  # their files' text (to rebuild the index)
    sizes: dict[str, int] = field(default_factory=dict, repr=False)  # their traces' size in bytes
    damaged: dict[str, str] = field(default_factory=dict)  # key -> what is wrong with it

    @property
    def rebuild_index(self) -> bool:
        return self.index_problem is not None or self.index_missing

    def problems(self, folder: Path) -> list[str]:
        """One line per problem found."""
        lines = []
        if self.index_problem:
            lines.append(f"{folder / RESULTS_DB} is {self.index_problem}")
        elif self.index_missing:
            lines.append(f"{folder / RESULTS_DB} is missing")
        lines += [f"{_episode_path(folder, key)}: {why}" for key, why in sorted(self.damaged.items())]
        return lines


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
        except UnicodeDecodeError:
            raise ConfigError(f"{self.manifest_path} is not a valid run manifest: not UTF-8 text") from None

    def write_manifest(self, manifest: RunManifest) -> None:
        atomic_write(self.manifest_path, manifest.model_dump_json(indent=1) + "\n")

    # ---- the SQLite index ----------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.mkdir(parents=True, exist_ok=True)
            if self.db_path.is_file() and self.db_path.stat().st_size == 0:  # SQLite would take it as a new index
                raise self._damaged_index("empty (0 bytes)")
            try:
                # one connection shared by the threads that write results (serialised by self._lock)
                db = sqlite3.connect(self.db_path, timeout=30.0, check_same_thread=False, isolation_level=None)
                try:
                    db.execute("PRAGMA journal_mode=WAL")
                    # WAL + NORMAL: a commit survives the process being killed (not a power cut), without an fsync
                    db.execute("PRAGMA synchronous=NORMAL")
                    db.execute(_SCHEMA)
                    have = {row[1] for row in db.execute("PRAGMA table_info(episodes)")}
                    for name, kind in _ADDED_COLUMNS.items():
                        if name not in have:  # an index written by an older version
                            db.execute(f"ALTER TABLE episodes ADD COLUMN {name} {kind}")
                except BaseException:
                    db.close()
                    raise
            except sqlite3.DatabaseError as exc:
                raise self._damaged_index(f"not a readable SQLite database ({exc})") from None
            self._db = db
        return self._db

    def _damaged_index(self, problem: str) -> ConfigError:
        return ConfigError(f"{self.db_path} is {problem}; run the same 'firstday run' command on {self.path} "
                           "to rebuild it from the episode files")

    def _index(self, summary: EpisodeSummary, text: str, wall_seconds: float | None,
               trace_size: int | None) -> None:
        now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        digest = hashlib.sha256(text.encode()).hexdigest()  # of the episode file's bytes (UTF-8 of text)
        with self._lock:
            self._conn().execute(
                "INSERT INTO episodes (key, scenario_id, day_index, trial, status, error, turns, wall_seconds, "
                "finished_at, summary, error_kind, sha256, trace_size) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET "
                "status=excluded.status, error=excluded.error, turns=excluded.turns, "
                "wall_seconds=excluded.wall_seconds, finished_at=excluded.finished_at, summary=excluded.summary, "
                "error_kind=excluded.error_kind, sha256=excluded.sha256, trace_size=excluded.trace_size, "
                "attempts=episodes.attempts + 1",
                (summary.key, summary.scenario_id, summary.day_index, summary.trial, summary.status, summary.error,
                 summary.turns, wall_seconds, now, text, summary.error_kind, digest, trace_size))

    # ---- integrity: telling a damaged folder from a missing episode ---------------------------------

    def index_problem(self) -> str | None:
        """What is wrong with ``results.sqlite`` (None: it is sound, or there is none). Read-only."""
        if not self.db_path.exists():
            return None
        if not self.db_path.is_file():
            return "not a file"
        if self.db_path.stat().st_size == 0:
            return "empty (0 bytes)"
        try:
            db = sqlite3.connect(self.db_path, timeout=30.0)
            try:
                check = db.execute("PRAGMA quick_check").fetchone()
                if check is None or check[0] != "ok":
                    return f"damaged (SQLite integrity check: {check[0] if check else 'no answer'})"
                have = {row[1] for row in db.execute("PRAGMA table_info(episodes)")}
            finally:
                db.close()
        except sqlite3.DatabaseError as exc:
            return f"not a readable SQLite database ({exc})"
        if not {"key", "status", "summary"} <= have:
            return "not a run index (it has no episodes table)"
        return None

    def _index_rows_raw(self) -> dict[str, tuple[str | None, int | None]]:
        """key -> (sha256, trace size) of every row of a sound index, read without changing the file."""
        db = sqlite3.connect(self.db_path, timeout=30.0)
        try:
            have = {row[1] for row in db.execute("PRAGMA table_info(episodes)")}
            cols = ", ".join(c if c in have else "NULL" for c in ("sha256", "trace_size"))
            return {k: (h, n) for k, h, n in db.execute(f"SELECT key, {cols} FROM episodes")}
        finally:
            db.close()

    def inspect(self, *, need_memory: bool = False) -> FolderHealth:
        """Check the index and every episode file (see :class:`FolderHealth`). Changes nothing on disk.

        A memory file that is there must be sound; ``need_memory`` (a run about to continue the folder)
        also counts a missing one as damage: the next day of its chain could not start from it."""
        health = FolderHealth()
        files = {p.name[:-len(".json")]: p for p in (self.path / EPISODES_DIR).glob("*.json")
                 if not p.name.startswith(".")} if (self.path / EPISODES_DIR).is_dir() else {}
        if self.db_path.exists():
            health.index_problem = self.index_problem()
        else:
            health.index_missing = bool(files)
        rows = self._index_rows_raw() if self.db_path.exists() and health.index_problem is None else {}
        trusted = not health.rebuild_index
        for key in sorted(set(files) | set(rows)):
            if key not in files:
                health.damaged[key] = "missing (its row is in the index)"
                continue
            if trusted and key not in rows:
                continue  # written by a run stopped before committing it: not finished (crash safety), rerun
            summary, text, size, problem = self._check_episode(key, files[key], rows.get(key), need_memory)
            if problem is not None:
                health.damaged[key] = problem
            else:
                assert summary is not None and text is not None
                health.episodes.append(summary)
                health.texts[key], health.sizes[key] = text, size
        return health

    def _check_episode(self, key: str, file: Path, row: tuple[str | None, int | None] | None, need_memory: bool
                       ) -> tuple[EpisodeSummary | None, str | None, int, str | None]:
        """(summary, text, trace size, None) for an intact episode, (.., problem) for a damaged one."""
        try:
            data = file.read_bytes()
        except OSError as exc:
            return None, None, 0, f"unreadable ({exc.strerror})"
        if not data:
            return None, None, 0, "empty (0 bytes)"
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return None, None, 0, "not UTF-8 text (damaged)"
        try:
            summary = EpisodeSummary.model_validate_json(text)
        except ValidationError:
            return None, None, 0, "not a complete episode result (truncated or damaged JSON)"
        if summary.key != key:
            return None, None, 0, f"holds episode {summary.key}, not {key}"
        sha, trace_size = row or (None, None)
        if sha is not None and hashlib.sha256(data).hexdigest() != sha:
            return None, None, 0, "does not match the checksum in the index (changed or damaged)"
        trace = self.trace_path(key)
        try:
            size = trace.stat().st_size
        except OSError:
            return None, None, 0, f"its trace {trace.name} is missing"
        if trace_size is not None and size != trace_size:
            return None, None, 0, (f"its trace {trace.name} has {size} bytes where {trace_size} were saved "
                                   "(truncated or changed)")
        if trace_size is None and size and not _ends_with_newline(trace):  # no size to compare: the last line
            return None, None, 0, f"its trace {trace.name} ends mid-line (truncated)"
        memory = self.memory_path(key)
        if summary.memory and (summary.status == "ok" or summary.error_kind == "agent") and (
                need_memory or memory.exists()):
            try:
                Memory.model_validate_json(memory.read_bytes())
            except (OSError, ValidationError):
                return None, None, 0, f"the memory it left, {memory.name}, is missing or damaged"
        return summary, text, size, None

    def repair(self) -> list[str]:
        """Make the folder consistent before a run continues it, and say what was done (one line each).

        A damaged index is moved aside (``results.sqlite.corrupt``) and rebuilt, like a missing one, from
        the intact episode files; a damaged episode (its file, trace or memory) has its files moved aside
        (``*.corrupt``, kept for inspection) and its row dropped, so the run does it again. Intact episodes
        are never rerun."""
        self.close()
        health = self.inspect(need_memory=True)
        notes = []
        if health.index_problem is not None:
            moved = [_move_aside(p) for p in (self.db_path, *_sqlite_sidecars(self.db_path)) if p.exists()]
            notes.append(f"{self.db_path} is {health.index_problem}: moved aside to {moved[0].name}")
        for key, why in sorted(health.damaged.items()):
            moved = [_move_aside(p) for p in (_episode_path(self.path, key), self.trace_path(key),
                                              self.memory_path(key)) if p.exists()]
            where = f"; moved aside to {', '.join(str(m.relative_to(self.path)) for m in moved)}" if moved else ""
            notes.append(f"episode {key} is damaged ({_episode_path(self.path, key).relative_to(self.path)}: "
                         f"{why}){where}; it will be run again")
        db = self._conn()
        with self._lock:
            db.execute("BEGIN")
            try:
                db.executemany("DELETE FROM episodes WHERE key = ?", [(k,) for k in health.damaged])
                if health.rebuild_index:
                    for summary in health.episodes:
                        self._index(summary, health.texts[summary.key], None, health.sizes[summary.key])
                else:  # rows written before checksums existed get theirs now (the files were just checked)
                    db.executemany(
                        "UPDATE episodes SET sha256 = ?, trace_size = ? WHERE key = ? AND sha256 IS NULL",
                        [(hashlib.sha256(health.texts[e.key].encode()).hexdigest(), health.sizes[e.key], e.key)
                         for e in health.episodes])
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        if health.rebuild_index and (health.episodes or health.index_problem is None):
            what = "rebuilt" if health.index_problem is not None else f"{self.db_path} was missing: rebuilt"
            notes.append(f"{what} the index from the {len(health.episodes)} intact episode file(s)")
        return notes

    def index_rows(self) -> list[dict[str, Any]]:
        """Every row of the index (without the summary text), sorted by key (none if it is damaged)."""
        if not self.db_path.exists() or self.index_problem() is not None:
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

    def retryable(self) -> set[str]:
        """Keys of the finished episodes ``--retry-errors`` reruns: infrastructure errors, and error
        episodes saved before errors were attributed (agent errors are final)."""
        if not self.exists() and not self.db_path.exists():
            return set()
        with self._lock:
            rows = self._conn().execute(
                "SELECT key FROM episodes WHERE status = 'error' AND (error_kind IS NULL OR error_kind != 'agent')"
            ).fetchall()
        return {k for (k,) in rows if _episode_path(self.path, k).is_file()}

    def read_episodes(self, known: Mapping[str, EpisodeSummary] | None = None) -> list[EpisodeSummary]:
        """Every finished, intact episode, sorted by key.

        Without ``known``: every episode file is checked (:meth:`inspect`; damaged ones are left out,
        nothing is changed on disk). ``known`` (the runner, after :meth:`repair`) holds summaries the
        caller has in memory already, exactly as saved: those are taken as they are and the others are
        read from the index (one query, no file per episode)."""
        if known is None:
            return self.inspect().episodes
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
            self._conn()  # open before these episodes' files exist
        rows = []
        for r in records:
            key = r.summary.key
            summary, text = r.summary, model_json(r.summary)
            if summary.error is not None and needs_care(summary.error):  # the index's copy must be UTF-8 too
                summary = summary.model_copy(update={"error": safe_text(summary.error)})
            if r.memory is not None:
                atomic_write(self.memory_path(key), model_json(r.memory))
            trace = trace_bytes(r.trace)
            atomic_write(self.trace_path(key), trace)
            atomic_write(_episode_path(self.path, key), text)
            rows.append((summary, text, r.wall_seconds, len(trace)))
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
        """Episode ``key``'s trace, one typed event per line (docs/trace.md)."""
        text = self.trace_path(key).read_text(encoding="utf-8")
        # lines end with "\n" only: splitlines() would also split at U+0085, U+2028 ... inside a string
        return [parse_event(line) for line in text.split("\n") if line.strip()]


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
    events = list(trace)
    try:
        # each kind's serializer itself: the same bytes as ev.model_dump_json(), without its per-call
        # argument handling
        return b"".join([type(ev).__pydantic_serializer__.to_json(ev) + b"\n" for ev in events])
    except Exception:  # the last line of defence: something unsaveable got past the boundary
        return b"".join([_event_json(ev) + b"\n" for ev in events])


def _event_json(ev: TraceEvent) -> bytes:
    """One event as JSON, made saveable if it is not (see :func:`model_json`)."""
    try:
        return type(ev).__pydantic_serializer__.to_json(ev)
    except Exception:
        fields = ev.__dict__
        data = fields.get("data")
        try:  # the data's own fields, as its model leaves them out or not (made safe below)
            data = data.model_dump(mode="python") if isinstance(data, BaseModel) else data
        except Exception:
            data = dict(data.__dict__) if isinstance(data, BaseModel) else data
        return json.dumps({"t": json_safe(fields.get("t")), "type": json_safe(fields.get("type")),
                           "data": json_safe(data)}, ensure_ascii=False).encode()


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
        "error_kind": summary.error_kind, "turns": summary.turns, "score": m.score if m else None,
        "success_rate": m.success_rate if m else None,
        "tasks": len(summary.tasks), "wall_seconds": None if wall_seconds is None else round(wall_seconds, 3),
        "usage": summary.usage.model_dump() if summary.usage else None,
    }
    return json.dumps(data, separators=(",", ":"))
