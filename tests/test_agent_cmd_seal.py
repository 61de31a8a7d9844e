"""``firstday run --agent-cmd`` runs the command under the kernel seal (issue 19, item 4; docs/agent-sandbox.md):
a hostile command cannot read the suite or the run folder nor connect to a port it was not given, while its
episode still runs and is scored; a readable path holding the suite or the run folder is refused up front; on a
kernel without the seal, ``--require-sandbox`` refuses and otherwise the unsealed backend is recorded."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from firstday.cli import app
from firstday.env import EpisodeResult, events_of
from firstday.env.trace import EndEvent
from firstday.errors import ConfigError
from firstday.run.results import EpisodeSummary, RunFolder
from firstday.sandbox import agent_process as ap
from firstday.serve.command import PROTECTED_ENV, REQUIRE_ENV, agent_policy, command_folders, url_port
from llm_server import LLMServer, Policy
from test_serve_examples import EXAMPLES, TIMEOUT, child_env, oracle_script

pytest.importorskip("mcp")

REASON = ap.seal_unavailable_reason()
needs_seal = pytest.mark.skipif(REASON is not None, reason=f"agent seal unavailable: {REASON}")

# the suite and oracle fixtures of the examples' tests (module-scoped: one suite for this module)
from test_serve_examples import oracle, suite  # noqa: E402, F401

HOSTILE = '''
import os, socket, sys
# what to try, in the environment (paths in the command line would become readable folders of the command)
scenario, run_dir, example = os.environ["T_SCENARIO"], os.environ["T_RUN"], os.environ["T_EXAMPLE"]
port = int(os.environ["T_PORT"])
def attempt(what, action):
    try:
        action()
        print(what + ": LEAKED", flush=True)
    except OSError as exc:
        print(what + ": refused (" + type(exc).__name__ + ")", flush=True)
attempt("read scenario", lambda: open(scenario, "rb").read())
attempt("list run folder", lambda: os.listdir(run_dir))
attempt("read run.json", lambda: open(os.path.join(run_dir, "run.json"), "rb").read())
attempt("connect to port", lambda: socket.create_connection(("127.0.0.1", port), timeout=10).close())
# then play the day like the example agent (the same process: the seal stays)
os.execv(sys.executable, [sys.executable, example])
'''


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A port on 127.0.0.1 the agent is not given."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock


def _episode(out: Path) -> tuple[EpisodeSummary, dict[str, Any]]:
    folder = RunFolder(out)
    try:
        [episode] = folder.read_episodes()
        trace = folder.read_trace(episode.key)
    finally:
        folder.close()
    info = events_of(trace, EndEvent)[-1].data.agent
    assert isinstance(info, dict)
    return episode, info


@needs_seal
@pytest.mark.parametrize("executor", ["local", "processes"])
def test_a_hostile_command_is_refused_at_each_attempt_and_its_episode_is_scored(
        server: LLMServer, suite: Path, oracle: EpisodeResult, tmp_path: Path,  # noqa: F811
        listener: socket.socket, executor: str) -> None:
    server.reset(Policy(script=oracle_script(oracle)))
    agent_dir = tmp_path / "agent"
    agent_dir.mkdir()
    (agent_dir / "hostile.py").write_text(HOSTILE, encoding="utf-8")
    out = tmp_path / "run"
    scenario_file = next(p for p in sorted((suite / "scenarios").rglob("*")) if p.is_file())
    # the test can read what the agent must not
    assert scenario_file.read_bytes()
    port = listener.getsockname()[1]
    command = f"{sys.executable} {agent_dir / 'hostile.py'}"
    targets = {"T_SCENARIO": str(scenario_file), "T_RUN": str(out), "T_PORT": str(port),
               "T_EXAMPLE": str(EXAMPLES / "mcp_agent.py")}
    done = subprocess.run([sys.executable, "-m", "firstday", "run", str(suite), "--out", str(out), "-q",
                           "--agent-cmd", command, "--agent-path", str(EXAMPLES), "--require-sandbox",
                           "--model", "openai/scripted", "--base-url", server.base_url, "--executor", executor,
                           *(["--workers", "1"] if executor == "processes" else [])],
                          env=child_env(**targets), capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    episode, info = _episode(out)
    said = str(info["stdout"])
    for what in ("read scenario", "list run folder", "read run.json", "connect to port"):
        assert f"{what}: refused (PermissionError)" in said, said + str(info["stderr"])
    assert "LEAKED" not in said
    assert info["sandbox"] == "agent-process"
    seal = info["seal"]
    assert isinstance(seal, dict) and port not in seal["connect_ports"]
    assert str(agent_dir) in seal["readable"] and str(EXAMPLES) in seal["readable"]
    # the episode ran to its end and was scored like the oracle's
    assert episode.status == "ok", episode.error
    metrics = episode.metrics
    assert metrics is not None and oracle.score.metrics is not None
    assert metrics.score == oracle.score.metrics.score == 1.0


def test_a_readable_path_holding_the_suite_or_the_run_folder_is_refused_up_front(
        suite: Path, tmp_path: Path) -> None:  # noqa: F811
    runner = CliRunner()
    out = tmp_path / "run"
    res = runner.invoke(app, ["run", str(suite), "--out", str(out), "--agent-cmd", "python agent.py",
                              "--agent-path", str(suite.parent)])
    assert res.exit_code == 2, res.output
    assert "contains" in res.output and str(suite) in res.output.replace("\n", "")
    assert not out.exists()
    # the script's own folder holds the run folder: refused too
    (tmp_path / "agent.py").write_text("print('hi')\n", encoding="utf-8")
    res = runner.invoke(app, ["run", str(suite), "--out", str(out), "--agent-cmd",
                              f"{sys.executable} {tmp_path / 'agent.py'}"])
    assert res.exit_code == 2, res.output
    assert "must not reach" in res.output and not out.exists()
    res = runner.invoke(app, ["run", str(suite), "--out", str(out), "-a", "oracle", "--agent-allow-port", "443"])
    assert res.exit_code == 2 and "--agent-cmd only" in res.output


def test_without_kernel_support_require_refuses_and_otherwise_the_unsealed_backend_is_recorded(
        suite: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setattr(ap, "seal_unavailable_reason", lambda: "this kernel has no Landlock (test)")
    for name in (PROTECTED_ENV, REQUIRE_ENV):  # the CLI sets them for its workers: restored after the test
        monkeypatch.setenv(name, "")
    out = tmp_path / "run"
    script = f"{sys.executable} -c \"print('unsealed')\""
    runner = CliRunner()
    res = runner.invoke(app, ["run", str(suite), "--out", str(out), "-q", "--agent-cmd", script, "--require-sandbox"])
    assert res.exit_code == 2, res.output
    assert "cannot be sealed here" in res.output and "no Landlock (test)" in res.output
    assert not out.exists()
    res = runner.invoke(app, ["run", str(suite), "--out", str(out), "-q", "--agent-cmd", script])
    assert res.exit_code == 0, res.output
    assert "runs unsealed" in res.output
    episode, info = _episode(out)
    assert info["sandbox"] == "none" and "unsealed" in str(info["stdout"])
    assert episode.error_kind == "agent"  # it exited before the end of the day


def test_the_policy_of_a_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert url_port("http://127.0.0.1:8123/v1", "x") == 8123
    assert url_port("https://api.example.com/v1", "x") == 443
    assert url_port("http://localhost/v1", "x") == 80
    with pytest.raises(ConfigError, match="names no port"):
        url_port("ftp2://host/", "--base-url")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "agent.py").write_text("", encoding="utf-8")
    assert command_folders(["python", "agent.py", "-v"], tmp_path) == (tmp_path.resolve(),)
    assert command_folders(["./agent.py", "--dir", "pkg/"], tmp_path) == (tmp_path.resolve(),
                                                                          (tmp_path / "pkg").resolve())
    assert command_folders(["python", "-m", "agent"], tmp_path) == ()
    # the interpreter named by its path is readable under every seal: its folder is not added
    assert command_folders([sys.executable, "agent.py"], tmp_path) == (tmp_path.resolve(),)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9999/v1")
    policy = agent_policy({"command": "python agent.py", "allow_ports": [7000]}, tmp_path)
    assert policy.connect_ports == (9999, 7000) and policy.readable == (tmp_path.resolve(),)
    policy = agent_policy({"command": "python agent.py", "base_url": "http://127.0.0.1:8000/v1"}, tmp_path)
    assert policy.connect_ports == (8000,)
    with pytest.raises(ConfigError, match="allow_ports"):
        agent_policy({"command": "python agent.py", "allow_ports": [0]}, tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        agent_policy({"command": "python agent.py", "agent_paths": [str(tmp_path / "nope")]}, tmp_path)
    with pytest.raises(ConfigError, match="must not"):
        agent_policy({"command": "python agent.py"}, tmp_path, protected=[tmp_path / "suite"])
    # a file of the suite named in the command would make a folder inside it readable
    (tmp_path / "suite" / "scenarios").mkdir(parents=True)
    (tmp_path / "suite" / "scenarios" / "s0.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ConfigError, match="inside the suite or run folder"):
        agent_policy({"command": f"cat {tmp_path / 'suite' / 'scenarios' / 's0.json'}"}, Path("/"),
                     protected=[tmp_path / "suite"])
