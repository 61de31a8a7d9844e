"""Model usage is counted per episode and per run (context variables, not a process-wide ledger): the
per-role usage of a run is the same whether its episodes ran in this process or in worker processes, two
runs in flight in one process never count in each other's ledgers, and ``firstday run`` shows the table
with ``--executor processes`` too. The models are the loopback OpenAI-compatible server of llm_server.py."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import saved_suite
from firstday.cli import app
from firstday.env import EnvConfig
from firstday.models import RoleUsage, UsageLedger, current_usage, usage_scope
from firstday.run import ProcessExecutor, RunSummary, run_suite, run_suite_async
from llm_server import LLMServer

# the key is read from this variable: any value works for the loopback server, and it is set everywhere
# (Ray and worker processes included) without the test having to pass it on
KEY_ENV = "PATH"


def llm_options(server: LLMServer) -> dict[str, Any]:
    """The llm agent on the ``echo`` model: a fixed text reply per call, so each turn is one call."""
    return {"model": "openai/echo", "base_url": server.base_url, "api_key_env": KEY_ENV, "cache": False,
            "timeout_s": 5}


def colleague_config(server: LLMServer) -> EnvConfig:
    """LLM colleagues that rephrase every reply (the heuristic agent asks them)."""
    return EnvConfig(colleague_model="openai/colleague-echo",
                     colleague_options={"base_url": server.base_url, "api_key_env": KEY_ENV, "cache": False})


def totals(summary: RunSummary) -> dict[str, tuple[int, int, int]]:
    """(calls, prompt tokens, completion tokens) by role."""
    return {role: (u.calls, u.prompt_tokens, u.completion_tokens) for role, u in summary.model_usage.snapshot().items()}


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return saved_suite(tmp_path_factory.mktemp("suite") / "smoke", "smoke", seed=3)


def test_usage_by_role_is_the_same_with_worker_processes(server: LLMServer, suite: Path, tmp_path: Path) -> None:
    server.reset()
    local = run_suite(suite, "llm", tmp_path / "local", agent_options=llm_options(server), concurrency=2)
    calls = server.count
    assert set(totals(local)) == {"agent"} and totals(local)["agent"][0] == calls > 0
    assert totals(local)["agent"][1:] == (100 * calls, 10 * calls)  # the server's usage per reply
    with ProcessExecutor(1, 2) as workers:  # one worker process, kept for both runs
        procs = run_suite(suite, "llm", tmp_path / "procs", agent_options=llm_options(server), executor=workers)
        assert totals(procs) == totals(local)
        assert server.count == 2 * calls
        colleagues = run_suite(suite, "heuristic", tmp_path / "colleagues", env_config=colleague_config(server),
                               executor=workers)
    assert set(totals(colleagues)) == {"colleague"} and totals(colleagues)["colleague"][0] > 0


def test_two_runs_in_one_process_do_not_mix(server: LLMServer, suite: Path, tmp_path: Path) -> None:
    server.reset()
    alone = run_suite(suite, "llm", tmp_path / "alone", agent_options=llm_options(server), concurrency=2)

    async def both() -> tuple[RunSummary, RunSummary]:
        return await asyncio.gather(
            run_suite_async(suite, "llm", tmp_path / "a", agent_options=llm_options(server), concurrency=2),
            run_suite_async(suite, "heuristic", tmp_path / "b", env_config=colleague_config(server), concurrency=2))

    with usage_scope() as enclosing:
        a, b = asyncio.run(both())
    assert current_usage() is None
    assert totals(a) == totals(alone)
    assert set(totals(b)) == {"colleague"}
    # each run adds its totals to the scope it was called in
    by_role = enclosing.snapshot()
    assert by_role["agent"] == a.model_usage.snapshot()["agent"]
    assert by_role["colleague"] == b.model_usage.snapshot()["colleague"]


def test_scopes_hold_their_own_calls_and_add_up_only_when_asked() -> None:
    from firstday.models import ModelResponse, Usage

    reply = ModelResponse(text="x", usage=Usage(prompt_tokens=7, completion_tokens=1), cost_usd=0.5)
    with usage_scope() as outer:
        with usage_scope() as inner:
            assert current_usage() is inner
            inner.record("agent", "m", reply, priced=False)
        assert current_usage() is outer and outer.snapshot() == {}
        outer.add(inner.snapshot())
        outer.add(inner.snapshot())
    assert outer.snapshot() == {"agent": RoleUsage(calls=2, prompt_tokens=14, completion_tokens=2, cost_usd=1.0,
                                                   unpriced_models=["m"])}
    assert outer.cost_usd == 1.0 and isinstance(outer, UsageLedger)


def test_the_cli_shows_usage_by_role_with_worker_processes(server: LLMServer, suite: Path, tmp_path: Path) -> None:
    server.reset()
    res = CliRunner().invoke(app, ["run", str(suite), "--agent", "llm", "--model", "openai/echo", "--base-url",
                                   server.base_url, "-O", f"api_key_env={KEY_ENV}", "-O", "cache=false",
                                   "--out", str(tmp_path / "run"), "--executor", "processes", "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert "model usage" in res.stdout
    row = next(line for line in res.stdout.splitlines() if line.strip().startswith("agent "))
    assert row.split()[1] == str(server.count)
