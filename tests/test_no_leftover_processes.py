"""No process outlives its run: after 'firstday run --executor ray' (a local cluster it starts) or
'--executor processes', nothing the run started is still alive.

The run is a subprocess with a marker in its environment, which every process it starts inherits (Ray's
raylet, agents and workers included); a process that survives is found by that marker, so Ray clusters
of other programs on the machine are neither counted nor touched. Survivors are polled for (exit takes
a moment), never waited for by a fixed sleep.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from conftest import saved_suite

MARK = "FIRSTDAY_TEST_RUN_MARK"


def _marked(mark: str) -> list[tuple[int, str]]:
    """(pid, command line) of every live, non-zombie process whose environment holds ``MARK=mark``."""
    needle = f"{MARK}={mark}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if needle not in f.read().split(b"\0"):
                    continue
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if stat[stat.rfind(b")") + 2:].split()[0] != b"Z":
            found.append((int(entry), cmdline))
    return found


def _survivors(mark: str, within_s: float = 30.0) -> list[tuple[int, str]]:
    deadline = time.monotonic() + within_s
    while (alive := _marked(mark)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return alive


def _run(suite: Path, out: Path, *extra: str) -> tuple[str, list[tuple[int, str]]]:
    mark = uuid.uuid4().hex
    env = {**os.environ, MARK: mark}
    env.pop("RAY_ADDRESS", None)
    res = subprocess.run([sys.executable, "-m", "firstday", "run", str(suite), "--agent", "heuristic", "--out",
                          str(out), "--quiet", *extra], capture_output=True, text=True, timeout=600, env=env)
    assert res.returncode == 0, res.stderr
    return res.stderr, _survivors(mark)


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="finds processes through /proc")
def test_the_process_executor_leaves_no_worker(tmp_path: Path) -> None:
    suite = saved_suite(tmp_path / "suite", "smoke", seed=4, scenarios=2)
    stderr, alive = _run(suite, tmp_path / "run", "--executor", "processes", "--workers", "2")
    assert "2 episode(s) run" in stderr
    assert alive == []


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="finds processes through /proc")
def test_a_ray_run_leaves_no_ray_process(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    suite = saved_suite(tmp_path / "suite", "smoke", seed=4, scenarios=2)
    stderr, alive = _run(suite, tmp_path / "run", "--executor", "ray", "--concurrency", "2")
    assert "2 episode(s) run" in stderr
    assert alive == [], f"left running: {alive}"
    assert not [c for _, c in alive if "ray" in c]


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="finds processes through /proc")
def test_a_ray_run_interrupted_by_ctrl_c_leaves_no_ray_process(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    suite = saved_suite(tmp_path / "suite", "smoke", seed=4, scenarios=2)
    mark = uuid.uuid4().hex
    env = {**os.environ, MARK: mark}
    env.pop("RAY_ADDRESS", None)
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "firstday", "run", str(suite), "--agent", "sim-oracle", "-O",
                             "latency_s=1", "--out", str(out), "--executor", "ray", "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 300
        # the cluster is up and the run has started: interrupt it
        while not (any("raylet" in c for _, c in _marked(mark)) and (out / "results.sqlite").exists()):
            assert proc.poll() is None and time.monotonic() < deadline, "the run never started on Ray"
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130 and "interrupted" in stderr and "Traceback" not in stderr
    assert _survivors(mark) == []
