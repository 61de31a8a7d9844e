"""The runner: run folder layout, resume, refusal on a changed configuration, error episodes."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import firstday.agents.base as agent_registry
from conftest import saved_suite
from firstday.agents import register_agent
from firstday.env import Briefing, EnvConfig, Observation
from firstday.env.trace import BriefingEvent, EndEvent
from firstday.errors import ConfigError, UnknownNameError
from firstday.run import RunFolder, RunProgress, run_suite
from firstday.suites import generate_suite, preset, save_suite
from firstday.world.tools import ToolCall


class _CrashingAgent:
    name = "test-crash"

    async def reset(self, briefing: Briefing) -> None:
        return None

    async def act(self, observation: Observation) -> list[ToolCall]:
        raise RuntimeError("model API is down")


class _InterruptingAgent:
    """Does nothing; the second episode it is built for is interrupted (like Ctrl-C). The run builds it once
    more before any episode (the preflight), so that is its third build."""

    name = "test-interrupt"
    built = 0
    armed = True

    def __init__(self) -> None:
        type(self).built += 1
        self.interrupt = type(self).armed and type(self).built == 3

    async def reset(self, briefing: Briefing) -> None:
        return None

    async def act(self, observation: Observation) -> list[ToolCall]:
        if self.interrupt:
            raise KeyboardInterrupt
        return []


@pytest.fixture(scope="module", autouse=True)
def _test_agents() -> Iterator[None]:
    """Register the misbehaving agents for this module only (other tests may list every agent)."""
    register_agent("test-crash", "raises on its first turn (tests only)")(lambda ctx: _CrashingAgent())
    register_agent("test-interrupt", "interrupted in its second episode (tests only)")(
        lambda ctx: _InterruptingAgent())
    yield
    for name in ("test-crash", "test-interrupt"):
        agent_registry._AGENTS.pop(name, None)


@pytest.fixture(scope="module")
def suite_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return saved_suite(tmp_path_factory.mktemp("suite") / "suite", "smoke", seed=11, scenarios=3)


def test_run_folder_layout_and_scores(suite_dir: Path, tmp_path: Path) -> None:
    summary = run_suite(suite_dir, "oracle", tmp_path / "run")
    folder = RunFolder(tmp_path / "run")
    manifest = folder.read_manifest()
    assert manifest.agent == "oracle" and manifest.n_episodes == summary.total == 3
    assert folder.episode_keys() == ["s000-d0", "s001-d0", "s002-d0"]
    for ep in folder.read_episodes():
        assert ep.status == "ok" and ep.metrics is not None and ep.metrics.score == 1.0
        assert ep.tasks and all(t.success for t in ep.tasks)
        trace = folder.read_trace(ep.key)
        assert isinstance(trace[0], BriefingEvent) and isinstance(trace[-1], EndEvent)
    assert summary.ran == 3 and summary.skipped == 0 and summary.errors == 0


def test_episode_files_are_deterministic(suite_dir: Path, tmp_path: Path) -> None:
    run_suite(suite_dir, "heuristic", tmp_path / "a")
    run_suite(suite_dir, "heuristic", tmp_path / "b")
    for sub in ("episodes", "traces"):
        a = {p.name: p.read_bytes() for p in (tmp_path / "a" / sub).iterdir()}
        b = {p.name: p.read_bytes() for p in (tmp_path / "b" / sub).iterdir()}
        assert a == b


def test_resume_reruns_only_missing_episodes(suite_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    run_suite(suite_dir, "oracle", out)
    kept = (out / "episodes" / "s000-d0.json").stat().st_mtime_ns
    (out / "episodes" / "s001-d0.json").unlink()
    seen: list[str] = []

    def progress(p: RunProgress) -> None:
        if p.last is not None:
            seen.append(p.last.key)

    summary = run_suite(suite_dir, "oracle", out, progress=progress)
    assert seen == ["s001-d0"]
    assert summary.ran == 1 and summary.skipped == 2 and len(summary.episodes) == 3
    assert (out / "episodes" / "s000-d0.json").stat().st_mtime_ns == kept


@pytest.mark.parametrize(("change", "expect"), [
    ({"agent": "noop"}, "agent: 'oracle' (saved) vs 'noop' (now)"),
    ({"agent_options": {"k": 1}}, "agent options.k"),
    ({"env_config": EnvConfig(text_only=True)}, "env config.text_only"),
    ({"seed": 5}, "seed"),
])
def test_resume_refuses_changed_configuration(suite_dir: Path, tmp_path: Path, change: dict[str, object],
                                              expect: str) -> None:
    out = tmp_path / "run"
    run_suite(suite_dir, "oracle", out)
    kwargs: dict[str, object] = {"agent": "oracle", **change}
    agent = str(kwargs.pop("agent"))
    with pytest.raises(ConfigError) as err:
        run_suite(suite_dir, agent, out, **kwargs)  # type: ignore[arg-type]
    assert expect in str(err.value) and "another --out" in str(err.value)


def test_resume_refuses_another_suite(suite_dir: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    spec = preset("smoke", seed=12)
    save_suite(spec, generate_suite(spec), other)
    run_suite(suite_dir, "noop", tmp_path / "run")
    with pytest.raises(ConfigError, match="suite hash"):
        run_suite(other, "noop", tmp_path / "run")


def test_refuses_non_run_folder_and_unknown_agent(suite_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("x")
    with pytest.raises(ConfigError, match="not a run folder"):
        run_suite(suite_dir, "noop", tmp_path / "busy")
    with pytest.raises(UnknownNameError, match="known agents"):
        run_suite(suite_dir, "no-such-agent", tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_agent_exception_is_an_error_episode_and_retry(suite_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    summary = run_suite(suite_dir, "test-crash", out)
    assert summary.errors == 3
    for ep in summary.episodes:
        assert ep.status == "error" and ep.error is not None and "model API is down" in ep.error
        # the agent's own exception, whatever its message says: charged to the agent, every task 0
        assert ep.error_kind == "agent" and ep.tasks and all(t.score == 0.0 and t.zeroed for t in ep.tasks)
    again = run_suite(suite_dir, "test-crash", out)
    assert again.ran == 0  # error episodes are finished episodes...
    retried = run_suite(suite_dir, "test-crash", out, retry_errors=True)
    assert retried.ran == 0  # ...and agent errors are final: --retry-errors reruns infrastructure errors only


def test_a_damaged_scenario_file_is_one_error_before_any_episode(suite_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "suite"
    shutil.copytree(suite_dir, broken)
    target = broken / "scenarios" / "s001.json"
    target.write_text(target.read_text().replace('"s001"', '"s00X"', 1))
    with pytest.raises(ConfigError, match=r"s001\.json does not match the suite's content hash"):
        run_suite(broken, "oracle", tmp_path / "run")
    assert not (tmp_path / "run").exists()  # nothing half-made: the corrected suite runs into a fresh folder


def test_keyboard_interrupt_keeps_finished_episodes(suite_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    _InterruptingAgent.built, _InterruptingAgent.armed = 0, True
    with pytest.raises(KeyboardInterrupt):
        run_suite(suite_dir, "test-interrupt", out)
    folder = RunFolder(out)
    assert folder.episode_keys() == ["s000-d0"]
    assert folder.read_episode("s000-d0").status == "ok"
    _InterruptingAgent.armed = False
    summary = run_suite(suite_dir, "test-interrupt", out)
    assert summary.skipped == 1 and summary.ran == 2


def test_run_restores_the_garbage_collector(suite_dir: Path, tmp_path: Path) -> None:
    import gc

    before = gc.get_threshold()
    run_suite(suite_dir, "oracle", tmp_path / "r", concurrency=2)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    gc.freeze()  # objects the application froze stay frozen
    try:
        run_suite(suite_dir, "oracle", tmp_path / "r2")
        assert gc.get_freeze_count() > 0 and gc.get_threshold() == before
    finally:
        gc.unfreeze()
