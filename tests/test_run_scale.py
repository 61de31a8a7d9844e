"""The runner at scale: concurrency gives the same results, timeouts end as recorded errors, trials, usage,
progress, --jsonl, the SQLite index, export to pandas."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import firstday.agents.base as agent_registry
import firstday.world.tools as tools_module
from conftest import saved_suite
from firstday.agents import AgentContext, make_agent, register_agent
from firstday.cli import app
from firstday.env import Briefing, DayEnv, EnvConfig, Observation, events_of, run_episode
from firstday.env.trace import AgentErrorEvent, EndEvent, ToolResultEvent
from firstday.report import build_report
from firstday.report.export import EPISODE_COLUMNS, TASK_TRIAL_COLUMNS, export_tables, schema_markdown
from firstday.run import RunFolder, RunLimits, RunProgress, run_suite, trial_seed
from firstday.run.episode import guarded_episode
from firstday.suites import load_suite
from firstday.world.tools import ToolCall

ROOT = Path(__file__).resolve().parents[1]
RELEASE = threading.Event()  # lets the "hung" tool threads finish when the module ends


class _HangingModel:
    """Its second model call never returns."""

    name = "test-hang-model"

    def __init__(self) -> None:
        self.calls = 0

    async def reset(self, briefing: Briefing) -> None:
        return None

    async def act(self, observation: Observation) -> list[ToolCall]:
        self.calls += 1
        if self.calls >= 2:
            await asyncio.Event().wait()
        return []


class _CodeRunner:
    """Runs one piece of code with run_python, then ends the day; reports usage."""

    name = "test-code"

    def __init__(self, code: str, seed: int) -> None:
        self.code, self.seed, self.sent = code, seed, False

    async def reset(self, briefing: Briefing) -> None:
        return None

    async def act(self, observation: Observation) -> list[ToolCall]:
        if self.sent:
            return [ToolCall(name="end_day", arguments={})]
        self.sent = True
        return [ToolCall(name="run_python", arguments={"code": self.code})]

    def usage(self) -> dict[str, float]:
        return {"input_tokens": 100, "output_tokens": 10, "cost_usd": 0.5, "requests": 2}


class _SeedEcho:
    """Does nothing; remembers the seed it was given (checks the per-trial seeds)."""

    name = "test-seed"
    seen: list[int] = []  # noqa: RUF012

    def __init__(self, seed: int) -> None:
        type(self).seen.append(seed)

    async def reset(self, briefing: Briefing) -> None:
        return None

    async def act(self, observation: Observation) -> list[ToolCall]:
        return []


@pytest.fixture(scope="module", autouse=True)
def _test_agents() -> Iterator[None]:
    register_agent("test-hang-model", "tests only")(lambda ctx: _HangingModel())
    register_agent("test-code", "tests only")(lambda ctx: _CodeRunner(str(ctx.options["code"]), ctx.seed))
    register_agent("test-seed", "tests only")(lambda ctx: _SeedEcho(ctx.seed))
    yield
    RELEASE.set()
    for name in ("test-hang-model", "test-code", "test-seed"):
        agent_registry._AGENTS.pop(name, None)


@pytest.fixture(scope="module")
def suite_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return saved_suite(tmp_path_factory.mktemp("suite") / "suite", "smoke", seed=21, scenarios=4)


def _files(run: Path, sub: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((run / sub).iterdir())}


def test_guarded_episode_equals_run_episode(suite_dir: Path) -> None:
    suite = load_suite(suite_dir)
    scenario = suite.scenario(suite.scenario_ids[0])
    day = scenario.days[0]
    for agent in ("oracle", "heuristic"):
        plain = asyncio.run(run_episode(DayEnv(scenario, day), make_agent(agent, AgentContext(scenario, day))))
        guarded = asyncio.run(guarded_episode(DayEnv(scenario, day), make_agent(agent, AgentContext(scenario, day)),
                                              RunLimits()))
        assert guarded.score == plain.score and guarded.trace == plain.trace and guarded.turns == plain.turns


def test_concurrency_gives_identical_files(suite_dir: Path, tmp_path: Path) -> None:
    # an agent that waits for its "model" (a CPU-bound agent never yields, so its episodes run in turn)
    opts = {"latency_s": 0.002}
    run_suite(suite_dir, "sim-oracle", tmp_path / "seq", trials=2, agent_options=opts)
    states: list[tuple[str, int]] = []

    def progress(p: RunProgress) -> None:
        states.append((p.event, p.running))

    summary = run_suite(suite_dir, "sim-oracle", tmp_path / "par", trials=2, concurrency=8, progress=progress,
                        agent_options=opts)
    assert summary.ran == 8 and summary.errors == 0
    for sub in ("episodes", "traces"):
        assert _files(tmp_path / "seq", sub) == _files(tmp_path / "par", sub)
    assert max(r for _, r in states) > 1  # several episodes really were in flight
    assert states[-1] == ("finished", 0)


def test_sqlite_index_is_wal_and_one_row_per_episode(suite_dir: Path, tmp_path: Path) -> None:
    run_suite(suite_dir, "noop", tmp_path / "r", concurrency=4)
    db = sqlite3.connect(tmp_path / "r" / "results.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    rows = db.execute("SELECT key, status, attempts FROM episodes ORDER BY key").fetchall()
    assert [r[0] for r in rows] == RunFolder(tmp_path / "r").episode_keys() and len(rows) == 4
    assert all(r[1] == "ok" and r[2] == 1 for r in rows)


def test_trials_have_recorded_distinct_seeds_and_can_be_extended(suite_dir: Path, tmp_path: Path) -> None:
    _SeedEcho.seen = []
    out = tmp_path / "r"
    run_suite(suite_dir, "test-seed", out, seed=7)
    first = RunFolder(out).read_episodes()
    assert [e.trial for e in first] == [0] * 4
    summary = run_suite(suite_dir, "test-seed", out, seed=7, trials=3, concurrency=3)
    assert summary.skipped == 4 and summary.ran == 8  # trial 0 is kept; trials 1 and 2 are added
    episodes = RunFolder(out).read_episodes()
    assert len(episodes) == 12 and len({e.key for e in episodes}) == 12
    for e in episodes:
        assert e.seed == trial_seed(7, e.scenario_id, e.day_index, e.trial)
    seeds = [e.seed for e in episodes if e.seed is not None]
    assert len(set(seeds)) == 12 and sorted(set(_SeedEcho.seen)) == sorted(seeds)
    # each run also built it once before any episode (the preflight), with the first episode's seed
    assert len(_SeedEcho.seen) == 12 + 2 and _SeedEcho.seen.count(first[0].seed or 0) == 3
    assert RunFolder(out).read_manifest().trials == 3 and RunFolder(out).read_manifest().n_episodes == 12


def test_hanging_model_is_a_recorded_error_within_its_limit(suite_dir: Path, tmp_path: Path) -> None:
    limits = RunLimits(act_timeout_s=0.2)
    summary = run_suite(suite_dir, "test-hang-model", tmp_path / "r", limits=limits, concurrency=4)
    assert summary.errors == 4
    for e in summary.episodes:
        assert e.status == "error" and e.error is not None and e.error.startswith("ModelTimeout")
        assert "act_timeout_s=0.2" in e.error and e.metrics is not None  # the day is still scored (as 0)
        assert e.error_kind == "agent" and all(t.score == 0.0 for t in e.tasks)
        trace = RunFolder(tmp_path / "r").read_trace(e.key)
        assert isinstance(trace[-1], EndEvent) and events_of(trace, AgentErrorEvent)
    # the same through the simulated model's hang option, and an episode limit
    summary = run_suite(suite_dir, "sim-oracle", tmp_path / "r2", agent_options={"latency_s": 0, "hang_at_step": 3},
                        limits=RunLimits(act_timeout_s=None, episode_timeout_s=0.3), concurrency=4)
    assert summary.errors == 4 and all((e.error or "").startswith("EpisodeTimeout") for e in summary.episodes)
    retried = run_suite(suite_dir, "sim-oracle", tmp_path / "r2", agent_options={"latency_s": 0, "hang_at_step": 3},
                        limits=RunLimits(act_timeout_s=0.1), retry_errors=True, concurrency=2)
    # timeouts are the agent's errors: final, --retry-errors leaves them
    assert retried.ran == 0 and all((e.error or "").startswith("EpisodeTimeout") for e in retried.episodes)
    rows = RunFolder(tmp_path / "r2").index_rows()
    assert len(rows) == 4 and all(r["attempts"] == 1 for r in rows)


def test_hanging_code_hits_the_run_python_limit(suite_dir: Path, tmp_path: Path) -> None:
    summary = run_suite(suite_dir, "test-code", tmp_path / "r", agent_options={"code": "while True:\n    pass"},
                        env_config=EnvConfig(run_timeout_s=0.5), concurrency=4)
    assert summary.errors == 0 and summary.ran == 4
    for e in summary.episodes:
        results = [ev.data for ev in events_of(RunFolder(tmp_path / "r").read_trace(e.key), ToolResultEvent)
                   if ev.data.name == "run_python"]
        assert len(results) == 1 and "timed out" in results[0].content
    assert summary.usage.cost_usd == pytest.approx(4 * 0.5) and summary.usage.input_tokens == 400


def test_hung_tool_thread_is_abandoned_as_an_error(suite_dir: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def stuck(*args: object, **kwargs: object) -> object:
        RELEASE.wait(60)  # a tool that ignores its own limit
        raise RuntimeError("released")

    monkeypatch.setattr(tools_module, "run_code", stuck)
    summary = run_suite(suite_dir, "test-code", tmp_path / "r", agent_options={"code": "print(1)"},
                        env_config=EnvConfig(run_timeout_s=0.1), limits=RunLimits(tool_grace_s=0.2), concurrency=4)
    assert summary.errors == 4
    for e in summary.episodes:
        assert (e.error or "").startswith("ToolTimeout") and e.metrics is None and e.error_kind == "infrastructure"


def test_cli_jsonl_quiet_options_and_report_export(suite_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "r"
    res = runner.invoke(app, ["run", str(suite_dir), "-a", "sim-oracle", "-O", "latency_s=0", "-o", str(out),
                              "--concurrency", "3", "--trials", "2", "--jsonl", "--act-timeout", "30"])
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in res.stdout.splitlines()]
    assert len(lines) == 8 and {x["key"] for x in lines} == set(RunFolder(out).episode_keys())
    assert all(x["status"] == "ok" and x["score"] == 1.0 and x["usage"]["requests"] > 0 for x in lines)
    again = runner.invoke(app, ["run", str(suite_dir), "-a", "sim-oracle", "-O", "latency_s=0", "-o", str(out),
                                "--trials", "2", "--quiet"])
    assert again.exit_code == 0 and again.stdout == ""
    rep = runner.invoke(app, ["report", str(out), str(out), "--export", "parquet", str(tmp_path / "x")])
    assert rep.exit_code == 0, rep.output
    assert "Per dimension" in rep.stdout and "pass^k" in rep.stdout and "[" in rep.stdout
    tasks = pd.read_parquet(tmp_path / "x" / "task_trials.parquet")
    episodes = pd.read_parquet(tmp_path / "x" / "episodes.parquet")
    assert list(tasks.columns) == [c[0] for c in TASK_TRIAL_COLUMNS]
    assert list(episodes.columns) == [c[0] for c in EPISODE_COLUMNS]
    assert len(episodes) == 16 and tasks["success"].all()  # the folder given twice: two runs
    # the scheduling and noise figures are exported as the episodes saved them
    saved = {(e.scenario_id, e.day_index, e.trial): e.metrics for e in RunFolder(out).read_episodes()}
    for row in episodes.to_dict("records"):
        m = saved[(str(row["scenario_id"]), int(row["day_index"]), int(row["trial"]))]
        assert m is not None and row["noise"] == m.noise == 0 and row["load"] == m.load
        assert row["priority_inversions"] == m.priority_inversions and row["submitted_on_time_rate"] == 1.0
    assert tasks["submitted_on_time"].all()
    assert tasks.groupby(["scenario_id", "day_index", "task_id"]).size().eq(4).all()  # 2 trials x the folder twice
    export_tables([out], tmp_path / "c", "csv")
    assert len(pd.read_csv(tmp_path / "c" / "episodes.csv")) == 8
    bad = runner.invoke(app, ["report", str(out), "--export", "xlsx", str(tmp_path / "y")])
    assert bad.exit_code == 2 and "parquet or csv" in bad.output


def test_report_has_intervals_and_pass_k(suite_dir: Path, tmp_path: Path) -> None:
    run_suite(suite_dir, "heuristic", tmp_path / "h", trials=2, concurrency=4)
    (row,) = build_report([tmp_path / "h"]).runs
    assert row.trials == 2 and [p.k for p in row.reliability] == [1, 2]
    assert row.reliability[0].pass_hat_k == pytest.approx(row.success_rate)  # k = 1: the success rate
    assert row.success_rate is not None and "success_rate" in row.intervals
    ci = row.intervals["success_rate"]
    assert ci.low <= row.success_rate <= ci.high and ci.clusters == 4


def test_export_schema_is_documented() -> None:
    text = (ROOT / "docs" / "running.md").read_text(encoding="utf-8")
    assert schema_markdown() in text, "docs/running.md's export schema is stale: paste schema_markdown()"
