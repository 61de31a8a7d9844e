"""``firstday serve`` (issue 19, item 3): a served episode is an ordinary episode (same tools, costs, error texts
and images as in-process; scored and saved in a run folder; resume and trials), and a client that closes the
connection, idles past the timeout or sends garbage ends its episode as an agent error with a clear reason."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from conftest import saved_suite
from firstday.env import DayEnv
from firstday.errors import ConfigError
from firstday.run.results import EpisodeSummary, RunFolder
from firstday.suites import load_suite
from firstday.timefmt import fmt
from firstday.world.tools import ToolCall

mcp = pytest.importorskip("mcp")
import httpx2  # noqa: E402  (the MCP SDK's HTTP client)
from mcp import ClientSession  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

from firstday.serve import ServeExecutor, serve_suite  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
WAIT = 120.0  # seconds before a test gives up on the server (never reached unless something hangs)


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return saved_suite(tmp_path_factory.mktemp("serve") / "suite", "smoke", seed=3)  # 2 scenarios, 1 day each


class Served:
    """``serve_suite`` over HTTP in a thread of this process (its own event loop), as the CLI runs it."""

    def __init__(self, suite: Path, out: Path, **kw: Any) -> None:
        self.ready = threading.Event()
        self.url = ""
        self.summary: Any = None
        self.error: BaseException | None = None

        def on_ready(url: str) -> None:
            self.url = url
            self.ready.set()

        def main() -> None:
            try:
                self.summary = serve_suite(suite, out, transport="http", on_ready=on_ready, **kw)
            except BaseException as exc:
                self.error = exc
            finally:
                self.ready.set()

        self.thread = threading.Thread(target=main, daemon=True)
        self.thread.start()
        assert self.ready.wait(WAIT)
        if self.error is not None:
            raise self.error

    def join(self) -> Any:
        self.thread.join(WAIT)
        assert not self.thread.is_alive(), "the server did not stop after its last episode"
        if self.error is not None:
            raise self.error
        return self.summary


@asynccontextmanager
async def session(url: str, headers: dict[str, str] | None = None) -> AsyncIterator[ClientSession]:
    async with httpx2.AsyncClient(headers=headers or {}, timeout=httpx2.Timeout(30, read=300)) as http, \
            streamable_http_client(url, http_client=http) as (read, write), ClientSession(read, write) as s:
        await s.initialize()
        yield s


def play(fn: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(asyncio.wait_for(fn(), WAIT))


def episodes(out: Path) -> list[EpisodeSummary]:
    folder = RunFolder(out)
    try:
        return folder.read_episodes()
    finally:
        folder.close()


def text(result: Any) -> str:
    return "\n".join(p.text for p in result.content if p.type == "text")


def test_tools_costs_errors_and_images_are_those_of_the_in_process_day(suite: Path, tmp_path: Path) -> None:
    loaded = load_suite(suite)
    scenario = loaded.scenario(loaded.scenario_ids[0])
    env = DayEnv(scenario, scenario.days[0])
    env.reset()
    image = next(f.path for t in scenario.days[0].tasks for f in t.files if f.path.endswith(".png"))
    calls: list[tuple[str, dict[str, Any]]] = [
        ("read_file", {"path": "/no/such/file.txt"}), ("submit", {"task_id": "nope", "answer": 1}),
             ("teleport", {}), ("read_file", {"path": image}), ("list_tasks", {})]
    expected = [env.step([ToolCall(name=n, arguments=a, id="x")]).results[0] for n, a in calls]
    served = Served(suite, tmp_path / "run")

    async def client() -> tuple[Any, list[Any], Any, Any]:
        async with session(served.url) as s:
            tools = (await s.list_tools()).tools
            first = await s.call_tool("notifications", {})
            results = [await s.call_tool(n, a) for n, a in calls]
            again = await s.call_tool("notifications", {})
            end = await s.call_tool("end_day", {})
            return tools, results, (first, again), end

    tools, results, (first, again), end = play(client)
    async def second() -> None:  # the other scenario's episode, so the server stops
        async with session(served.url) as s:
            await s.call_tool("end_day", {})
    play(second)
    served.join()
    by_name = {t.name: t for t in tools}
    for spec in env.briefing().tools:
        tool = by_name[spec.name]
        assert tool.input_schema == spec.parameters and tool.description == spec.description
        assert (tool.meta or {})["firstday/cost_minutes"] == spec.cost_minutes
        assert tool.annotations is not None and tool.annotations.read_only_hint == spec.read_only
    assert set(by_name) == {t.name for t in env.briefing().tools} | {"notifications"}
    # the briefing and the day's first tasks come first, once; the clock does not move for them
    assert "Briefing:" in text(first) and "New notifications:" in text(first) and "Briefing:" not in text(again)
    assert first.meta == {"firstday/clock": "09:00", "firstday/done": False}
    for got, want in zip(results, expected, strict=True):
        assert text(got).startswith(want.content + "\n\nClock: " + fmt(want.ended))
        assert got.is_error is (not want.ok) and got.meta["firstday/clock"] == fmt(want.ended)
    images = [p for p in results[3].content if p.type == "image"]
    assert images and [(p.mime_type, p.data) for p in images] == [(i.media_type, i.data_b64)
                                                                    for i in expected[3].images]
    base64.b64decode(images[0].data, validate=True)
    assert end.meta["firstday/done"] is True and "The day is over" in text(end)
    saved = {e.key: e for e in episodes(tmp_path / "run")}
    assert set(saved) == {"s000-d0", "s001-d0"} and all(e.status == "ok" for e in saved.values())


def _ended(out: Path) -> EpisodeSummary:
    [episode] = [e for e in episodes(out) if e.status == "error"]
    assert episode.error_kind == "agent" and episode.metrics is not None and episode.metrics.score == 0
    return episode


def test_closing_the_connection_is_an_agent_error(suite: Path, tmp_path: Path) -> None:
    served = Served(suite, tmp_path / "run")

    async def client() -> None:
        async with session(served.url) as s:
            await s.call_tool("list_tasks", {})
        async with session(served.url) as s:  # the second episode, to the end of its day
            await s.call_tool("end_day", {})

    play(client)
    served.join()
    assert "ClientClosed: the MCP client closed the connection before the end of the day" in (
        _ended(tmp_path / "run").error or "")


def test_idling_past_the_timeout_is_an_agent_error(suite: Path, tmp_path: Path) -> None:
    served = Served(suite, tmp_path / "run", idle_timeout_s=1.0)

    async def client() -> str:
        async with session(served.url) as s:
            await s.call_tool("notifications", {})
            while True:  # the episode ends on its own: no further call is executed
                await asyncio.sleep(0.25)
                late = await s.call_tool("notifications", {})
                if late.meta and late.meta.get("firstday/done"):
                    break
            refused = await s.call_tool("list_tasks", {})
            assert refused.is_error
            return text(refused)

    async def both() -> str:
        async def other() -> None:
            async with session(served.url) as s:
                await s.call_tool("end_day", {})
        said, _ = await asyncio.gather(client(), other())
        return said

    said = play(both)
    served.join()
    error = _ended(tmp_path / "run").error or ""
    assert "ClientIdle: the MCP client sent no tool call for 1 s" in error
    assert "episode ended in an error: ClientIdle" in said


def test_garbage_over_http_is_an_agent_error(suite: Path, tmp_path: Path) -> None:
    served = Served(suite, tmp_path / "run")
    sessions: list[str] = []

    async def capture(response: httpx2.Response) -> None:
        if sid := response.headers.get("mcp-session-id"):
            sessions.append(sid)

    async def client() -> int:
        async with httpx2.AsyncClient(event_hooks={"response": [capture]}, timeout=30) as http, \
                streamable_http_client(served.url, http_client=http) as (read, write), \
                ClientSession(read, write) as s:
            await s.initialize()
            await s.call_tool("list_tasks", {})
            bad = await http.post(served.url, content=b"{this is not json",
                                  headers={"mcp-session-id": sessions[-1], "content-type": "application/json",
                                           "accept": "application/json, text/event-stream"})
            late = await s.call_tool("list_tasks", {})
            assert late.is_error and "ClientGarbage" in text(late)
        async with session(served.url) as s:
            await s.call_tool("end_day", {})
        return bad.status_code

    assert play(client) == 400
    served.join()
    assert "ClientGarbage: the MCP client sent a message that is not JSON-RPC: invalid JSON" in (
        _ended(tmp_path / "run").error or "")


class Stdio:
    """``firstday serve`` over stdio in a subprocess, spoken to line by line (raw JSON-RPC)."""

    def __init__(self, suite: Path, out: Path) -> None:
        env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
        self.proc = subprocess.Popen([sys.executable, "-m", "firstday", "serve", str(suite), "--out", str(out)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env)

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def ask(self, n: int, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.send(json.dumps({"jsonrpc": "2.0", "id": n, "method": method, "params": params or {}}))
        assert self.proc.stdout is not None
        reply: dict[str, Any] = json.loads(self.proc.stdout.readline())
        return reply

    def handshake(self) -> None:
        self.ask(0, "initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                   "clientInfo": {"name": "raw", "version": "0"}})
        self.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))

    def close(self) -> str:
        _, err = self.proc.communicate(timeout=WAIT)  # closes stdin: end of the session
        assert self.proc.returncode == 0, err
        return err


def test_stdio_garbage_and_eof_are_agent_errors_and_resume_plays_the_next_episode(suite: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    client = Stdio(suite, out)
    client.handshake()
    assert "tools" in client.ask(1, "tools/list")["result"]  # the session's episode starts
    client.send("garbage, not JSON-RPC")
    client.close()
    [first] = episodes(out)
    assert first.key == "s000-d0" and first.error_kind == "agent"
    assert "ClientGarbage: the MCP client sent a message that is not JSON-RPC" in (first.error or "")
    # resume: the next session plays the next episode; stdin closing mid-day ends it
    client = Stdio(suite, out)
    client.handshake()
    reply = client.ask(1, "tools/call", {"name": "list_tasks", "arguments": {}})
    assert "Clock: 09:01." in reply["result"]["content"][0]["text"]
    client.close()
    second = next(e for e in episodes(out) if e.key == "s001-d0")
    assert second.error_kind == "agent" and "ClientClosed" in (second.error or "")
    # every episode is done: the server says so and ends at once
    client = Stdio(suite, out)
    assert "0 episode(s) to play, 2 already done" in client.close()


def test_trials_run_as_concurrent_sessions(suite: Path, tmp_path: Path) -> None:
    served = Served(suite, tmp_path / "run", trials=2)

    async def one() -> None:
        async with session(served.url) as s:
            await s.call_tool("list_tasks", {})
            await s.call_tool("end_day", {})

    async def four() -> None:
        await asyncio.gather(*(one() for _ in range(4)))

    play(four)
    summary = served.join()
    assert summary.ran == 4 and summary.errors == 0
    assert sorted(e.key for e in episodes(tmp_path / "run")) == ["s000-d0", "s000-d0-t1", "s001-d0", "s001-d0-t1"]


def test_a_token_is_required_off_loopback_and_checked(suite: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs a bearer token"):
        ServeExecutor("http", host="10.1.2.3")
    served = Served(suite, tmp_path / "run", token="s3cret")

    async def client() -> int:
        async with httpx2.AsyncClient(timeout=30) as http:
            refused = await http.post(served.url, json={"jsonrpc": "2.0", "id": 0, "method": "ping"})
        for _ in range(2):
            async with session(served.url, {"Authorization": "Bearer s3cret"}) as s:
                await s.call_tool("end_day", {})
        return refused.status_code

    assert play(client) == 401
    assert served.join().ran == 2


def test_cli_serve_errors_are_one_line(suite: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from firstday.cli import app

    res = CliRunner().invoke(app, ["serve", str(suite), "--out", str(tmp_path / "r"), "--transport", "carrier-pigeon"])
    assert res.exit_code == 2 and "unknown 'carrier-pigeon'" in res.output
    res = CliRunner().invoke(app, ["serve", str(suite), "--out", str(tmp_path / "r"), "--port", "80"])
    assert res.exit_code == 2 and "apply to --transport http only" in res.output
