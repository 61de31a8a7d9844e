"""The process executor: worker processes give the local executor's files byte for byte, survive a
worker's crash as recorded errors, stop cleanly when workers keep dying, and leave no process behind
when the driver is killed (after which the run resumes)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import saved_suite
from firstday.errors import ConfigError
from firstday.run import ProcessExecutor, RunFolder, run_suite


def _suite(tmp_path: Path, seed: int, scenarios: int, name: str = "smoke") -> Path:
    return saved_suite(tmp_path / "suite", name, seed=seed, scenarios=scenarios)


def _same_files(a: Path, b: Path) -> None:
    keys = RunFolder(a).episode_keys()
    assert keys and keys == RunFolder(b).episode_keys()
    for key in keys:
        assert (a / "episodes" / f"{key}.json").read_bytes() == (b / "episodes" / f"{key}.json").read_bytes(), key
        assert (a / "traces" / f"{key}.jsonl").read_bytes() == (b / "traces" / f"{key}.jsonl").read_bytes(), key


def test_workers_give_the_local_files_byte_for_byte(tmp_path: Path) -> None:
    suite = _suite(tmp_path, 8, 3)
    run_suite(suite, "heuristic", tmp_path / "local", trials=2, concurrency=4)
    summary = run_suite(suite, "heuristic", tmp_path / "proc", trials=2, executor=ProcessExecutor(2, 4))
    assert summary.ran == 6 and summary.errors == 0
    _same_files(tmp_path / "local", tmp_path / "proc")
    # resume on workers kept across runs: a lost episode is redone, the others kept
    (tmp_path / "proc" / "episodes" / "s001-d0-t1.json").unlink()
    with ProcessExecutor(1, 2) as kept:
        again = run_suite(suite, "heuristic", tmp_path / "proc", trials=2, executor=kept)
        assert kept._pool, "a kept executor keeps its workers between runs"
        # a kept worker that dies between runs is replaced by the next run, which loses nothing
        dead = kept._pool[0].process
        dead.kill()
        dead.wait()
        third = run_suite(suite, "heuristic", tmp_path / "third", trials=2, executor=kept)
        assert third.ran == 6 and third.errors == 0 and kept._pool[0].process is not dead
    assert again.ran == 1 and again.skipped == 5
    assert not kept._pool
    _same_files(tmp_path / "local", tmp_path / "third")
    _same_files(tmp_path / "local", tmp_path / "proc")


def test_memory_chains_on_workers_match_local(tmp_path: Path) -> None:
    from firstday.env import EnvConfig

    suite = _suite(tmp_path, 2, 2, "continual")
    config = EnvConfig(memory=True)
    run_suite(suite, "heuristic-learning", tmp_path / "local", env_config=config, concurrency=2)
    summary = run_suite(suite, "heuristic-learning", tmp_path / "proc", env_config=config,
                        executor=ProcessExecutor(2, 2))
    assert summary.errors == 0 and summary.ran == len(RunFolder(tmp_path / "local").episode_keys())
    _same_files(tmp_path / "local", tmp_path / "proc")
    for key in RunFolder(tmp_path / "local").episode_keys():
        assert (tmp_path / "proc" / "memory" / f"{key}.json").read_bytes() == \
            (tmp_path / "local" / "memory" / f"{key}.json").read_bytes()


def test_a_worker_crash_is_recorded_and_retried(tmp_path: Path) -> None:
    suite = _suite(tmp_path, 4, 4)
    options = {"latency_s": 0.01, "exit_at_step": 3, "exit_flag": str(tmp_path / "crashed-once")}
    out = tmp_path / "run"
    summary = run_suite(suite, "sim-oracle", out, agent_options=options, executor=ProcessExecutor(2, 4))
    assert summary.ran == 4 and (tmp_path / "crashed-once").exists()
    crashed = [e for e in summary.episodes if e.status == "error"]
    assert crashed and all((e.error or "").startswith("WorkerCrash: worker process ") for e in crashed)
    assert all("exited with code 3" in (e.error or "") for e in crashed)
    assert all(e.status == "ok" and e.metrics and e.metrics.success_rate == 1.0
               for e in summary.episodes if e.status != "error")
    again = run_suite(suite, "sim-oracle", out, agent_options=options, retry_errors=True,
                      executor=ProcessExecutor(2, 4))
    assert again.ran == len(crashed) and again.errors == 0
    assert all(e.status == "ok" for e in again.episodes) and len(again.episodes) == 4
    assert all(r["attempts"] == (2 if r["key"] in {e.key for e in crashed} else 1)
               for r in RunFolder(out).index_rows())


def test_workers_that_keep_dying_stop_the_run_with_a_clear_message(tmp_path: Path) -> None:
    suite = _suite(tmp_path, 5, 3)
    out = tmp_path / "run"
    with pytest.raises(RuntimeError, match=r"worker processes keep dying .*exited with code 3.*resume"):
        run_suite(suite, "sim-oracle", out, agent_options={"latency_s": 0, "exit_at_step": 1},
                  executor=ProcessExecutor(1, 1, max_restarts=1))
    # the episodes that were in flight are recorded, as errors to retry
    saved = RunFolder(out).read_episodes()
    assert len(saved) == 2 and all((e.error or "").startswith("WorkerCrash") for e in saved)


def test_an_agent_registered_in_the_driver_runs_on_workers_or_is_refused_up_front(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import firstday.agents.base as agent_registry
    from firstday.agents import register_agent

    suite = _suite(tmp_path, 9, 2)
    # a factory defined at the top level of a module this process imports (from a folder on its sys.path only,
    # not on the workers' PYTHONPATH): the workers import it by name from the same folder
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "fd_driver_agents.py").write_text(
        "from firstday.agents.builtin import NoopAgent\n\n\nclass Registered(NoopAgent):\n    name = 'registered'\n",
        encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    import fd_driver_agents  # type: ignore[import-not-found]

    register_agent("test-driver-module", "tests only")(fd_driver_agents.Registered)
    # a lambda cannot be imported by a worker: refused before anything is written, not error episodes
    register_agent("test-driver-only", "tests only")(lambda ctx: None)  # type: ignore[arg-type,return-value]
    try:
        summary = run_suite(suite, "test-driver-module", tmp_path / "ok", executor=ProcessExecutor(2, 2))
        with pytest.raises(ConfigError, match=r"registered in this process only .* use the local executor"):
            run_suite(suite, "test-driver-only", tmp_path / "r", executor=ProcessExecutor(2, 2))
    finally:
        agent_registry._AGENTS.pop("test-driver-only", None)
        agent_registry._AGENTS.pop("test-driver-module", None)
    assert summary.ran == 2 and summary.errors == 0
    assert {e.agent for e in summary.episodes} == {"registered"}
    assert not (tmp_path / "r").exists()


def test_uvloop_gives_the_same_files(tmp_path: Path) -> None:
    pytest.importorskip("uvloop")
    suite = _suite(tmp_path, 12, 2)
    run_suite(suite, "heuristic", tmp_path / "asyncio", trials=2, concurrency=4)
    run_suite(suite, "heuristic", tmp_path / "uvloop", trials=2, concurrency=4, event_loop="uvloop")
    _same_files(tmp_path / "asyncio", tmp_path / "uvloop")
    run_suite(suite, "heuristic", tmp_path / "workers", trials=2,
              executor=ProcessExecutor(2, 4, event_loop="uvloop"))
    _same_files(tmp_path / "asyncio", tmp_path / "workers")


def test_a_missing_or_unknown_event_loop_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    suite = _suite(tmp_path, 13, 1)
    with pytest.raises(ConfigError, match="unknown event loop 'trio'"):
        run_suite(suite, "noop", tmp_path / "r", event_loop="trio")
    monkeypatch.setitem(sys.modules, "uvloop", None)  # as if not installed
    with pytest.raises(ConfigError, match=r"pip install 'firstday\[fast\]'"):
        ProcessExecutor(2, event_loop="uvloop")
    assert not (tmp_path / "r").exists()  # nothing was started


def test_bad_settings_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="workers must be at least 1"):
        ProcessExecutor(0)
    with pytest.raises(ConfigError, match="concurrency must be at least 1"):
        ProcessExecutor(2, 0)


def _rows(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM episodes").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"  # a zombie has exited (only its parent has not collected it)


def test_cli_kill_9_leaves_no_worker_and_resumes(tmp_path: Path) -> None:
    suite = _suite(tmp_path, 6, 4)
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "firstday", "run", str(suite), "--agent", "sim-oracle", "-O", "latency_s=0.05",
           "--out", str(out), "--executor", "processes", "--workers", "2", "-c", "2", "--trials", "2", "--jsonl"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while _rows(out / "results.sqlite") < 2:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run never recorded 2 episodes"
        time.sleep(0.02)
    children = [int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
    assert len(children) == 2
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in children):
        assert time.monotonic() < deadline, "worker processes outlived their driver"
        time.sleep(0.05)
    killed_at = _rows(out / "results.sqlite")
    assert 2 <= killed_at < 8

    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    lines = [json.loads(line) for line in rerun.stdout.splitlines()]  # --jsonl: nothing else on stdout
    assert len(lines) == 8 - killed_at and all(line["status"] == "ok" for line in lines)
    rows = RunFolder(out).index_rows()
    assert len(rows) == 8 and all(r["attempts"] == 1 for r in rows)


def test_cli_refuses_workers_without_the_process_executor(tmp_path: Path) -> None:
    suite = _suite(tmp_path, 7, 1)
    res = subprocess.run([sys.executable, "-m", "firstday", "run", str(suite), "--agent", "noop", "--out",
                          str(tmp_path / "r"), "--workers", "2"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "--workers applies to --executor processes only" in res.stderr


def test_learn_and_hints_run_on_worker_processes(tmp_path: Path) -> None:
    suite = _suite(tmp_path, 14, 1, "continual")
    fd = [sys.executable, "-m", "firstday"]
    learn = subprocess.run([*fd, "learn", str(suite), "--agent", "heuristic-learning", "--out", str(tmp_path / "l"),
                            "--executor", "processes", "--workers", "2", "--quiet"],
                           capture_output=True, text=True, timeout=300)
    assert learn.returncode == 0, learn.stderr
    local = subprocess.run([*fd, "learn", str(suite), "--agent", "heuristic-learning", "--out", str(tmp_path / "l0"),
                            "--quiet"], capture_output=True, text=True, timeout=300)
    assert local.returncode == 0, local.stderr
    for arm in ("memory", "control"):
        _same_files(tmp_path / "l0" / arm, tmp_path / "l" / arm)
    hints = subprocess.run([*fd, "hints", str(suite), "--agent", "heuristic", "--out", str(tmp_path / "h"),
                            "--tiers", "none,steps", "--executor", "processes", "-w", "2", "--quiet"],
                           capture_output=True, text=True, timeout=300)
    assert hints.returncode == 0, hints.stderr
    assert (tmp_path / "h" / "hints.json").exists()


def test_cli_refuses_an_address_without_ray(tmp_path: Path) -> None:
    suite = _suite(tmp_path, 15, 1)
    res = subprocess.run([sys.executable, "-m", "firstday", "run", str(suite), "--agent", "noop", "--out",
                          str(tmp_path / "r"), "--address", "auto"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "--address applies to --executor ray only" in res.stderr
