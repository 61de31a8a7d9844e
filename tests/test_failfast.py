"""Failing fast on a dead model (docs/running.md, "Failing fast" and "Exit codes"): the preflight, options
refused before any folder is made, the circuit breaker, the exit codes, and the endpoint a run records.

End to end through the CLI, against the loopback OpenAI-compatible server of ``llm_server.py`` and against a
dead port (a free 127.0.0.1 port nothing listens on)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from firstday.cli import app
from firstday.errors import ConfigError
from firstday.models.base import gave_up_where
from firstday.run.preflight import CircuitBreaker, endpoint_records
from firstday.run.results import EpisodeSummary
from firstday.suites import generate_suite, preset, save_suite
from llm_server import LLMServer, Policy

pytestmark = pytest.mark.usefixtures("openai_env")

FAST = ["-O", "max_retries=0", "-O", "backoff_base_s=0", "-O", "timeout_s=5"]


def dead_url() -> str:
    """The URL of a free loopback port: nothing listens there (the socket is closed before use)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two one-day scenarios."""
    folder = tmp_path_factory.mktemp("failfast") / "suite"
    spec = preset("smoke", seed=5)
    save_suite(spec, generate_suite(spec), folder)
    return folder


def cli(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def cache(tmp_path: Path) -> list[str]:
    return ["-O", f"cache_dir={json.dumps(str(tmp_path / 'cache'))}"]


def test_a_dead_endpoint_fails_the_preflight_with_its_url_and_makes_no_folder(suite: Path, tmp_path: Path) -> None:
    url = dead_url()
    res = cli("run", suite, "-a", "llm", "-m", "openai/scripted", "--base-url", url, "-o", tmp_path / "run")
    assert res.exit_code == 2, res.output
    assert "preflight failed" in res.output and url in res.output and "connection failed" in res.output
    assert "--base-url" in res.output and "OPENAI_API_KEY" in res.output
    assert not (tmp_path / "run").exists()


def test_the_preflight_names_the_http_status(server: LLMServer, suite: Path, tmp_path: Path) -> None:
    wrong = server.base_url.removesuffix("/v1")  # the server's root: no /models, no /chat/completions
    res = cli("run", suite, "-a", "llm", "-m", "openai/scripted", "--base-url", wrong, "-o", tmp_path / "run")
    assert res.exit_code == 2, res.output
    assert "HTTP 404" in res.output and wrong in res.output and "ends in /v1" in res.output
    assert not (tmp_path / "run").exists()


def test_the_preflight_checks_the_colleague_model_too(server: LLMServer, suite: Path, tmp_path: Path) -> None:
    url = dead_url()
    res = cli("run", suite, "-a", "heuristic", "--colleague-model", "openai/colleague-echo",
              "--colleague-base-url", url, "-o", tmp_path / "run")
    assert res.exit_code == 2, res.output
    assert "colleague model openai/colleague-echo" in res.output and url in res.output
    assert "--colleague-base-url" in res.output


def test_a_model_the_server_does_not_list_is_a_note(server: LLMServer, suite: Path, tmp_path: Path) -> None:
    server.reset(Policy(script=[{"name": "list_tasks", "arguments": {}}]))
    res = cli("run", suite, "-a", "llm", "-m", "openai/scripted", "--colleague-model", "openai/not-served",
              "--base-url", server.base_url, "-o", tmp_path / "run", "-q", *cache(tmp_path), *FAST)
    assert "does not list the model 'not-served'" in res.output


def test_a_missing_model_is_refused_before_any_folder_and_the_corrected_command_runs(
        server: LLMServer, suite: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    for agent in ("llm", "react"):
        res = cli("run", suite, "-a", agent, "-o", out)
        assert res.exit_code == 2, res.output
        assert "needs a model" in res.output and "--model" in res.output
        assert not out.exists()
    res = cli("run", suite, "-a", "llm", "-O", "max_step=3", "-m", "openai/scripted", "--base-url",
              server.base_url, "-o", out)
    assert res.exit_code == 2 and "unknown agent option(s) max_step" in res.output and not out.exists()
    server.reset(Policy(script=[{"name": "list_tasks", "arguments": {}}]))
    res = cli("run", suite, "-a", "llm", "-m", "openai/scripted", "--base-url", server.base_url, "-o", out, "-q",
              *cache(tmp_path))
    assert res.exit_code == 0, res.output


def test_infrastructure_errors_exit_3_and_the_breaker_stops_the_run(suite: Path, tmp_path: Path) -> None:
    url, out = dead_url(), tmp_path / "run"
    base: list[str | Path] = ["run", suite, "-a", "llm", "-m", "openai/scripted", "--base-url", url, "-o", out,
                              "--no-preflight", "-q", "-c", "1", *cache(tmp_path), *FAST]
    # the first episode fails on the dead endpoint: the breaker (at 1) stops the run before the second
    res = cli(*base, "--stop-after-errors", "1")
    assert res.exit_code == 3, res.output
    assert "stopped: 1 episode(s) in a row failed on openai/scripted at " + url in res.output
    assert "finished episodes are saved" in res.output and "--retry-errors" in res.output
    assert len(list((out / "episodes").glob("*.json"))) == 1
    # resumed without a breaker: the second episode runs (and fails); exit code 3, the results are incomplete
    res = cli(*base, "--stop-after-errors", "0")
    assert res.exit_code == 3, res.output
    assert "1 episode(s) run, 1 already done" in res.output and "infrastructure errors" in res.output
    episodes = [EpisodeSummary.model_validate_json(p.read_text()) for p in (out / "episodes").glob("*.json")]
    assert len(episodes) == 2 and all(e.infrastructure_error for e in episodes)
    assert all(url in (e.error or "") for e in episodes)  # the error names the URL


def test_the_breaker_stops_a_run_on_worker_processes_too(suite: Path, tmp_path: Path) -> None:
    url, out = dead_url(), tmp_path / "run"
    res = cli("run", suite, "-a", "llm", "-m", "openai/scripted", "--base-url", url, "-o", out, "--no-preflight",
              "-q", "--executor", "processes", "--workers", "1", "-c", "1", "--stop-after-errors", "1",
              *cache(tmp_path), *FAST)
    assert res.exit_code == 3 and "1 episode(s) in a row failed on openai/scripted at " + url in res.output
    assert len(list((out / "episodes").glob("*.json"))) == 1  # the first, saved; the second never started


def test_a_run_with_every_episode_ok_exits_0_and_one_left_with_infrastructure_errors_exits_3(
        server: LLMServer, suite: Path, tmp_path: Path) -> None:
    server.reset(Policy(script=[{"name": "list_tasks", "arguments": {}}]))
    out = tmp_path / "run"
    res = cli("run", suite, "-a", "llm", "-m", "openai/always-500", "--base-url", server.base_url, "-o", out, "-q",
              *cache(tmp_path), *FAST)
    assert res.exit_code == 3, res.output  # the preflight passed (the server lists it), every call fails
    res = cli("run", suite, "-a", "llm", "-m", "openai/always-500", "--base-url", server.base_url, "-o", out, "-q",
              *cache(tmp_path), *FAST)
    assert res.exit_code == 3 and "0 episode(s) run, 2 already done" in res.output  # still incomplete
    assert cli("run", suite, "-a", "heuristic", "-o", tmp_path / "h", "-q").exit_code == 0


def test_hints_and_learn_exit_3_on_infrastructure_errors(suite: Path, tmp_path: Path) -> None:
    url = dead_url()
    model = ["-a", "llm", "-m", "openai/scripted", "--base-url", url, "--no-preflight", "-q", *cache(tmp_path), *FAST]
    res = cli("hints", suite, "--tiers", "none", "-o", tmp_path / "ladder", *model)
    assert res.exit_code == 3, res.output
    res = cli("hints", suite, "--tiers", "none", "-o", tmp_path / "ladder2", "-a", "llm", "-m", "openai/scripted",
              "--base-url", url)
    assert res.exit_code == 2 and "preflight failed" in res.output and not (tmp_path / "ladder2").exists()
    res = cli("learn", suite, "-o", tmp_path / "learn", "-a", "llm", "-m", "openai/scripted", "--base-url", url)
    assert res.exit_code == 2 and "preflight failed" in res.output and not (tmp_path / "learn").exists()


# ---- where a run ran ----------------------------------------------------------------------------------

def test_run_json_records_the_endpoint_from_the_environment_and_never_the_key(
        server: LLMServer, suite: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server.reset(Policy(script=[{"name": "list_tasks", "arguments": {}}]))
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-key-123")
    out = tmp_path / "run"
    res = cli("run", suite, "-a", "llm", "-m", "openai/scripted", "-o", out, "-q", *cache(tmp_path))
    assert res.exit_code == 0, res.output
    text = (out / "run.json").read_text()
    assert "sk-secret-key-123" not in text
    endpoints = json.loads(text)["endpoints"]
    assert endpoints == [{"role": "agent", "model": "openai/scripted", "base_url": server.base_url,
                          "source": "$OPENAI_BASE_URL"}]
    # the same endpoint given as --base-url: the same run, it resumes
    res = cli("run", suite, "-a", "llm", "-m", "openai/scripted", "--base-url", server.base_url, "-o", out, "-q",
              *cache(tmp_path))
    assert res.exit_code == 0 and "0 episode(s) run, 2 already done" in res.output
    # another server: refused, unless asked
    other = server.base_url.replace("127.0.0.1", "localhost")
    res = cli("run", suite, "-a", "llm", "-m", "openai/scripted", "--base-url", other, "-o", out, "-q",
              *cache(tmp_path))
    assert res.exit_code == 2, res.output
    assert "another endpoint" in res.output and server.base_url in res.output and other in res.output
    assert "--allow-endpoint-change" in res.output
    res = cli("run", suite, "-a", "llm", "-m", "openai/scripted", "--base-url", other, "-o", out, "-q",
              "--allow-endpoint-change", *cache(tmp_path))
    assert res.exit_code == 0, res.output
    saved = json.loads((out / "run.json").read_text())
    assert saved["endpoints"][0]["base_url"] == other and saved["endpoints"][0]["source"] == "--base-url"
    assert saved["previous_endpoints"][0]["base_url"] == server.base_url
    assert saved["agent_options"]["base_url"] == other


def test_an_old_run_folder_without_endpoints_still_resumes(server: LLMServer, suite: Path, tmp_path: Path) -> None:
    server.reset(Policy(script=[{"name": "list_tasks", "arguments": {}}]))
    out = tmp_path / "run"
    args: list[str | Path] = ["run", suite, "-a", "llm", "-m", "openai/scripted", "--base-url", server.base_url,
                              "-o", out, "-q", *cache(tmp_path)]
    assert cli(*args).exit_code == 0
    manifest = json.loads((out / "run.json").read_text())
    for key in ("endpoints", "previous_endpoints"):
        del manifest[key]
    (out / "run.json").write_text(json.dumps(manifest))
    res = cli(*args)
    assert res.exit_code == 0 and "0 episode(s) run, 2 already done" in res.output, res.output
    assert json.loads((out / "run.json").read_text())["endpoints"][0]["base_url"] == server.base_url
    # its --base-url was saved as an option: a change of it is still noticed
    manifest["agent_options"]["base_url"] = "http://127.0.0.1:9/v1"
    (out / "run.json").write_text(json.dumps(manifest))
    res = cli(*args)
    assert res.exit_code == 2 and "another endpoint" in res.output


def test_endpoint_records_say_where_the_url_came_from(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    (rec,) = endpoint_records({"model": "openai/gpt-4o"})
    assert (rec.base_url, rec.source) == ("https://api.openai.com/v1", "provider default")
    (rec,) = endpoint_records({"model": "hf/some/folder"})
    assert (rec.base_url, rec.source) == (None, "local")
    assert endpoint_records({}) == []


# ---- the breaker's rule ---------------------------------------------------------------------------------

def _summary(error: str | None, kind: str | None) -> EpisodeSummary:
    return EpisodeSummary.model_validate({"scenario_id": "s", "day_index": 0, "agent": "llm",
                                          "status": "error" if error else "ok", "error": error, "error_kind": kind})


def test_the_breaker_counts_one_endpoint_in_a_row() -> None:
    a = "ModelError: openai/m at http://a/v1: no answer after 1 attempt(s); last error: connection: refused"
    b = a.replace("http://a/v1", "http://b/v1")
    assert gave_up_where(a) == "openai/m at http://a/v1"
    assert gave_up_where("ReflectionError: " + a) == "openai/m at http://a/v1"
    assert gave_up_where("WorkerCrash: killed") is None and gave_up_where(None) is None
    breaker = CircuitBreaker(3)
    for s in (_summary(a, "infrastructure"), _summary(b, "infrastructure"), _summary(a, "infrastructure")):
        assert breaker.record(s) is None
    assert breaker.record(_summary(None, None)) is None  # an episode that ends otherwise resets the counts
    assert breaker.record(_summary(a, "agent")) is None  # an agent's own ModelError is not the endpoint's
    for _ in range(2):
        assert breaker.record(_summary(a, "infrastructure")) is None
        # the rest of a memory chain, not run after its failed day: neither a failure nor a success
        assert breaker.record(_summary("NotRun: day 0 of this scenario ended in an infrastructure error",
                                       "infrastructure")) is None
    tripped = breaker.record(_summary(a, "infrastructure"))
    assert tripped is not None and "3 episode(s) in a row failed on openai/m at http://a/v1" in str(tripped)
    assert "connection: refused" in str(tripped)
    assert CircuitBreaker(0).record(_summary(a, "infrastructure")) is None  # 0: never
    with pytest.raises(ConfigError):
        CircuitBreaker(-1)


# ---- small things a user trips on -----------------------------------------------------------------------

def test_a_damaged_scenario_file_is_one_error_before_anything_runs(suite: Path, tmp_path: Path) -> None:
    import shutil

    damaged = tmp_path / "suite"
    shutil.copytree(suite, damaged)
    victim = sorted((damaged / "scenarios").glob("*.json"))[-1]
    victim.write_text(victim.read_text()[:-20])
    res = cli("run", damaged, "-a", "heuristic", "-o", tmp_path / "run")
    assert res.exit_code == 2 and str(victim) in res.output and "corrupted" in res.output, res.output
    assert not (tmp_path / "run").exists()
    victim.unlink()
    res = cli("run", damaged, "-a", "heuristic", "-o", tmp_path / "run")
    assert res.exit_code == 2 and "missing" in res.output and victim.name in res.output


def test_piped_tables_are_never_squeezed(suite: Path, tmp_path: Path) -> None:
    runs = []
    for i in range(5):
        run = tmp_path / f"a-rather-long-run-name-{i}"
        assert cli("run", suite, "-a", "heuristic", "-o", run, "-q", "-k", "2").exit_code == 0
        runs.append(run)
    res = cli("report", *runs)
    assert res.exit_code == 0, res.output
    for run in runs:  # every header cell whole: no "a-rather-lon…" and no name broken over two lines
        assert f"{run.name} pass^k" in res.output and f"{run.name} pass@k" in res.output
    assert "…" not in res.output


def test_a_failed_html_write_names_the_path_asked_for(suite: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert cli("run", suite, "-a", "heuristic", "-o", run, "-q").exit_code == 0
    target = tmp_path / "report.html"
    target.mkdir()  # a folder where the file should go
    res = cli("report", run, "--html", target)
    assert res.exit_code == 2 and str(target) in res.output and ".tmp" not in res.output, res.output


def test_a_warning_is_one_line_once(suite: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    code = ("import warnings; from firstday.cli import _one_line_warning; "
            "warnings.showwarning = _one_line_warning; "
            "from firstday.sandbox._registry import _fallback_warning; _fallback_warning('no Landlock here')")
    err = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stderr
    assert err.count("no Landlock here") == 1 and err.startswith("warning: run_python falls back"), err
