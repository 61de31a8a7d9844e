"""The examples of docs/mcp.md really run (issue 19, item 5): ``examples/mcp_agent.py`` (MCP SDK + openai SDK)
and ``examples/plain_loop_agent.py`` (MCP SDK + the standard library) play a day served by ``firstday serve``,
over stdio and over streamable HTTP, against the loopback OpenAI-compatible server replaying the oracle's tool
calls: each reaches the oracle's score, in a run folder like any other."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import run_agent, saved_suite
from firstday.env import EpisodeResult, events_of
from firstday.env.trace import EndEvent, ToolCallEvent
from firstday.run.results import RunFolder
from firstday.suites import load_suite
from llm_server import LLMServer, Policy

pytest.importorskip("mcp")

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
EXAMPLES = ROOT / "examples"
TIMEOUT = 300  # a loaded machine; an example that hangs fails here instead of hanging the suite


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return saved_suite(tmp_path_factory.mktemp("serve") / "suite", "smoke", seed=3, scenarios=1)


@pytest.fixture(scope="module")
def oracle(suite: Path) -> EpisodeResult:
    loaded = load_suite(suite)
    scenario = loaded.scenario(loaded.scenario_ids[0])
    return run_agent("oracle", scenario, scenario.days[0])


def child_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
           "OPENAI_API_KEY": "dummy", **extra}
    env.pop("FIRSTDAY_MCP_URL", None)
    env.pop("FIRSTDAY_MCP_COMMAND", None)
    return {**env, **extra}


def serve_http(suite: Path, out: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    """``firstday serve --transport http`` in a subprocess, and the URL it prints."""
    proc = subprocess.Popen([sys.executable, "-m", "firstday", "serve", str(suite), "--out", str(out),
                             "--transport", "http", "-q", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env())
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http://"):
        proc.kill()
        raise AssertionError(f"no URL from firstday serve: {url!r} {proc.communicate()[1]}")
    return proc, url


def oracle_script(result: EpisodeResult) -> list[dict[str, Any]]:
    return [{"name": e.data.name, "arguments": e.data.arguments} for e in events_of(result.trace, ToolCallEvent)]


@pytest.mark.parametrize("transport", ["stdio", "http"])
@pytest.mark.parametrize("example", ["mcp_agent.py", "plain_loop_agent.py"])
def test_example_reaches_the_oracle_score(server: LLMServer, suite: Path, oracle: EpisodeResult, tmp_path: Path,
                                          example: str, transport: str) -> None:
    server.reset(Policy(script=oracle_script(oracle)))
    out = tmp_path / "run"
    model = {"FIRSTDAY_MODEL": "scripted", "OPENAI_BASE_URL": server.base_url}
    if transport == "stdio":
        env = child_env(FIRSTDAY_MCP_COMMAND=f"{sys.executable} -m firstday serve {suite} --out {out} -q", **model)
        done = subprocess.run([sys.executable, str(EXAMPLES / example)], env=env, capture_output=True, text=True,
                              timeout=TIMEOUT)
        assert done.returncode == 0, done.stderr
    else:
        proc, url = serve_http(suite, out)
        try:
            done = subprocess.run([sys.executable, str(EXAMPLES / example)], capture_output=True, text=True,
                                  env=child_env(FIRSTDAY_MCP_URL=url, **model), timeout=TIMEOUT)
            assert done.returncode == 0, done.stderr
            assert proc.wait(timeout=TIMEOUT) == 0  # every episode done: the server ends by itself
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    folder = RunFolder(out)
    try:
        [episode] = folder.read_episodes()
        manifest = folder.read_manifest()
    finally:
        folder.close()
    assert manifest.agent == "mcp"
    assert episode.status == "ok", episode.error
    assert episode.metrics is not None and oracle.score.metrics is not None
    assert oracle.score.metrics.score == 1.0
    assert episode.metrics.score == oracle.score.metrics.score
    assert episode.metrics.priority_weighted_score == oracle.score.metrics.priority_weighted_score
    assert [t.score for t in episode.tasks] == [t.score for t in oracle.score.tasks]
    # the scripted model saw every call (the script, then end_day)
    assert server.count >= len(oracle_script(oracle))


@pytest.mark.parametrize("executor", ["local", "processes"])
def test_agent_cmd_reaches_the_oracle_score(server: LLMServer, suite: Path, oracle: EpisodeResult, tmp_path: Path,
                                            executor: str) -> None:
    server.reset(Policy(script=oracle_script(oracle)))
    out = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "firstday", "run", str(suite), "--out", str(out), "-q",
                           "--agent-cmd", f"{sys.executable} {EXAMPLES / 'mcp_agent.py'}",
                           "--model", "openai/scripted", "--base-url", server.base_url,
                           "--executor", executor, *(["--workers", "1"] if executor == "processes" else [])],
                          env=child_env(), capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    folder = RunFolder(out)
    try:
        [episode] = folder.read_episodes()
        trace = folder.read_trace(episode.key)
        manifest = folder.read_manifest()
    finally:
        folder.close()
    assert manifest.agent == "agent-cmd" and episode.status == "ok", episode.error
    assert episode.metrics is not None and oracle.score.metrics is not None
    assert episode.metrics.score == oracle.score.metrics.score == 1.0
    assert [t.score for t in episode.tasks] == [t.score for t in oracle.score.tasks]
    # the command's output is kept with the episode (the end event of its trace)
    info = events_of(trace, EndEvent)[-1].data.agent
    assert isinstance(info, dict) and info["exit_code"] == 0 and "command" in info and "stderr" in info
    # sealed by the kernel where it can be (docs/agent-sandbox.md): the example reads only its own folder
    from firstday.sandbox.agent_process import seal_unavailable_reason

    assert info["sandbox"] == ("agent-process" if seal_unavailable_reason() is None else "none")
    assert info["seal"]["readable"] == [str(EXAMPLES)]


def test_agent_cmd_that_exits_early_is_an_agent_error(suite: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    script = "import sys; print('giving up'); sys.exit(3)"
    done = subprocess.run([sys.executable, "-m", "firstday", "run", str(suite), "--out", str(out), "-q",
                           "--agent-cmd", f"{sys.executable} -c \"{script}\""],
                          env=child_env(), capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    folder = RunFolder(out)
    try:
        [episode] = folder.read_episodes()
        trace = folder.read_trace(episode.key)
    finally:
        folder.close()
    assert episode.error_kind == "agent"
    assert "ClientClosed: the agent command exited (code 3) before the end of the day" in (episode.error or "")
    info = events_of(trace, EndEvent)[-1].data.agent
    assert isinstance(info, dict) and "giving up" in info["stdout"] and info["exit_code"] == 3
