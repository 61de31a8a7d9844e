"""kill -9 in the middle of a run, rerun the same command: the results equal an uninterrupted run's."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from conftest import saved_suite
from firstday.run import RunFolder, run_suite


def _finished_rows(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM episodes").fetchone()[0])
    except sqlite3.OperationalError:  # the table is not created yet
        return 0


def test_sigkill_mid_run_then_resume_equals_uninterrupted(tmp_path: Path) -> None:
    suite = saved_suite(tmp_path / "suite", "smoke", seed=5, scenarios=6)
    out = tmp_path / "killed"
    # ~25 steps x 0.05 s per episode, 3 in flight: the run lasts seconds, so the kill lands mid-way
    cmd = [sys.executable, "-m", "firstday", "run", str(suite), "--agent", "sim-oracle", "-O", "latency_s=0.05",
           "--out", str(out), "--concurrency", "3", "--trials", "2", "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ})
    deadline = time.monotonic() + 120
    while _finished_rows(out / "results.sqlite") < 3:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run never recorded 3 episodes"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    killed_at = _finished_rows(out / "results.sqlite")
    assert 3 <= killed_at < 12  # interrupted mid-way

    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{12 - killed_at} episode(s) run, {killed_at} already done" in rerun.stderr

    reference = tmp_path / "reference"
    run_suite(suite, "sim-oracle", reference, agent_options={"latency_s": 0}, trials=2, concurrency=4)
    resumed, ref = RunFolder(out), RunFolder(reference)
    assert resumed.episode_keys() == ref.episode_keys() and len(resumed.episode_keys()) == 12
    rows = resumed.index_rows()
    assert len(rows) == 12 and all(r["attempts"] == 1 for r in rows)  # nothing duplicated or redone twice
    for key in ref.episode_keys():
        a, b = resumed.read_episode(key), ref.read_episode(key)
        # identical score cards (usage differs: requests are counted, latency_s is part of the options)
        assert a.model_dump(exclude={"usage"}) == b.model_dump(exclude={"usage"})
        assert resumed.trace_path(key).read_bytes() == ref.trace_path(key).read_bytes()
    leftovers = [p.name for p in (out / "episodes").iterdir() if not p.name.endswith(".json")]
    assert all(name.startswith(".") for name in leftovers)  # at most temporary files of the killed writes
