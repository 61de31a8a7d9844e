"""Robust at the boundary (docs/invariants.md): whatever an agent or a model sends, the run goes on and
every episode is saved.

Hostile values go through the same code path as ``firstday run``: an in-process agent returns them
from ``act()``, :func:`firstday.run.run_suite` runs it on a one-scenario suite into a run folder, and
every episode must then be readable back from that folder (summary and trace, valid UTF-8 JSON) with
the run complete. Non-JSON arguments are tool errors that cost the usual minute; something that is not
a list of tool calls at all is an agent error. Lone surrogates are replaced by U+FFFD where they enter.
"""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import firstday.agents.base as agent_registry
from conftest import saved_suite, string_values
from firstday.agents import register_agent
from firstday.env import Briefing, Observation, TraceEvent, events_of
from firstday.env.memory import normalize_lessons
from firstday.env.trace import (
    AgentErrorEvent,
    BriefingEvent,
    ToolCallData,
    ToolCallEvent,
    ToolResultData,
    ToolResultEvent,
)
from firstday.jsonsafe import checked_json, exception_text, json_safe, safe_text
from firstday.report import build_report
from firstday.run import RunFolder, run_suite
from firstday.run.results import EpisodeSummary, model_json, trace_bytes
from firstday.suites import load_suite
from firstday.trusted import trusted
from firstday.world.tools import (
    ERROR_COST,
    MAX_ARGUMENT_CHARS,
    RefusedCall,
    Toolbox,
    ToolCall,
    admit_call,
    agent_calls,
)

FFFD = "\ufffd"
FUZZ = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


class _ScriptedAgent:
    """Returns ``script[i]`` from its i-th ``act()`` (raises it if it is an exception), then ends its day."""

    name = "test-hostile"
    script: ClassVar[list[Any]] = []
    info: ClassVar[Any] = None
    at_done: ClassVar[Any] = []  # what it answers the final observation (ignored)

    def __init__(self) -> None:
        self.turn = 0

    async def reset(self, briefing: Briefing) -> None:
        return None

    async def act(self, observation: Observation) -> Any:
        if observation.done:
            return self.at_done
        self.turn += 1
        if self.turn <= len(self.script):
            step = self.script[self.turn - 1]
            if isinstance(step, BaseException):
                raise step
            return step
        return [ToolCall(name="end_day", id="last")]

    def trace_info(self) -> Any:
        return type(self).info if type(self).info is not None else {"agent": "test-hostile"}


@pytest.fixture(scope="module", autouse=True)
def _hostile_agent() -> Iterator[None]:
    register_agent("test-hostile", "replays hostile tool calls (tests only)")(lambda ctx: _ScriptedAgent())
    yield
    agent_registry._AGENTS.pop("test-hostile", None)


@pytest.fixture(scope="module")
def suite_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return saved_suite(tmp_path_factory.mktemp("suite") / "suite", "smoke", seed=5, scenarios=1)


_runs = [0]


def run_script(script: list[Any], tmp_path: Path, info: Any = None) -> tuple[list[EpisodeSummary],
                                                                             list[list[TraceEvent]]]:
    """Run the hostile agent with ``script`` through the runner into a fresh run folder; check that the
    run is complete and every episode is saved as valid UTF-8 JSON; return the summaries and traces as
    read back from the folder."""
    _ScriptedAgent.script, _ScriptedAgent.info = script, info
    _runs[0] += 1
    out = tmp_path / f"run{_runs[0]}"
    summary = run_suite(_SUITE[0], "test-hostile", out)
    folder = RunFolder(out)
    assert summary.ran == summary.total > 0
    assert sorted(folder.finished()) == sorted(e.key for e in summary.episodes)
    summaries, traces = [], []
    for key in sorted(folder.finished()):
        raw = (out / "episodes" / f"{key}.json").read_bytes()
        json.loads(raw.decode("utf-8"))  # strict UTF-8, plain JSON
        summaries.append(EpisodeSummary.model_validate_json(raw))
        lines = (out / "traces" / f"{key}.jsonl").read_bytes().decode("utf-8").split("\n")
        assert lines[-1] == ""
        for line in lines[:-1]:  # one JSON object a line (U+0085, U+2028 ... may stand in strings)
            for text in string_values(json.loads(line, parse_constant=_no_constant)):
                text.encode("utf-8")  # no lone surrogate, not even as a JSON escape
        traces.append(folder.read_trace(key))
    folder.close()
    (row,) = build_report([out]).runs  # the run reads back complete
    assert row.episodes == row.episodes_expected == summary.total
    return summaries, traces


def _no_constant(name: str) -> Any:
    raise AssertionError(f"{name} is not JSON")


_SUITE: list[Path] = []


@pytest.fixture(autouse=True)
def _suite(suite_dir: Path) -> None:
    _SUITE[:] = [suite_dir]


def results(trace: list[TraceEvent]) -> list[ToolResultData]:
    return [e.data for e in events_of(trace, ToolResultEvent)]


def calls(trace: list[TraceEvent]) -> list[ToolCallData]:
    return [e.data for e in events_of(trace, ToolCallEvent)]


def assert_tool_error(trace: list[TraceEvent], words: str) -> ToolResultData:
    """The first result is a refusal that says ``words`` and cost the usual minute; the day went on."""
    first = results(trace)[0]
    assert not first.ok and words in first.content, first
    assert first.ended - first.started == ERROR_COST
    assert any(r.name == "end_day" and r.ok for r in results(trace)), "the episode did not go on"
    return first


def with_args(name: str, arguments: Any, cid: str = "c1") -> ToolCall:
    """A call holding ``arguments`` as they are (assigned after construction, as an agent can)."""
    call = ToolCall(name=name, id=cid)
    call.arguments = arguments
    return call


def deep_list(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def cyclic_dict() -> dict[str, Any]:
    d: dict[str, Any] = {"path": "/shared/x.md"}
    d["self"] = d
    return d


def cyclic_list() -> list[Any]:
    lst: list[Any] = [1]
    lst.append(lst)
    return lst


class _HostileCall(ToolCall):
    def __eq__(self, other: object) -> bool:
        raise RuntimeError("hostile __eq__")

    def __hash__(self) -> int:
        raise RuntimeError("hostile __hash__")

    def __str__(self) -> str:
        raise RuntimeError("hostile __str__")


class _Opaque:
    def __repr__(self) -> str:
        raise RuntimeError("hostile __repr__")


def constructed(**fields: Any) -> ToolCall:
    """A ToolCall built without validation (as ``model_construct`` lets any agent do)."""
    return ToolCall.model_construct(**fields)


# item 2 of the task: each value is refused with a clear tool error that costs a minute
NON_JSON: dict[str, tuple[Callable[[], ToolCall], str]] = {
    "bytes": (lambda: with_args("read_file", {"path": b"/shared/a.md"}), "type bytes"),
    "object": (lambda: with_args("read_file", {"path": object()}), "type object"),
    "opaque repr": (lambda: with_args("read_file", {"path": _Opaque()}), "type _Opaque"),
    "set": (lambda: with_args("send_message", {"to": {"a", "b"}, "text": "hi"}), "type set"),
    "tuple of bytes": (lambda: with_args("send_message", {"to": ("a", b"b"), "text": "hi"}), "type bytes"),
    "cyclic dict": (lambda: with_args("read_file", cyclic_dict()), "nested too deeply"),
    "cyclic list": (lambda: with_args("submit", {"task_id": "t1", "answer": cyclic_list()}), "nested too deeply"),
    "nan": (lambda: with_args("wait", {"minutes": math.nan}), "NaN and infinities"),
    "inf": (lambda: with_args("wait", {"minutes": math.inf}), "NaN and infinities"),
    "-inf": (lambda: with_args("submit", {"task_id": "t1", "answer": [-math.inf]}), "NaN and infinities"),
    "huge int": (lambda: with_args("wait", {"minutes": 10**5000}), "more than 100 digits"),
    "huge int in JSON text": (lambda: with_args("wait", '{"minutes": ' + "9" * 5000 + "}"), "integer too large"),
    "NaN in JSON text": (lambda: with_args("wait", '{"minutes": NaN}'), "NaN and infinities"),
    "10 MB string": (lambda: with_args("read_file", {"path": "x" * 10_000_000}), "too large"),
    "10 MB key": (lambda: with_args("read_file", {"x" * 10_000_000: 1}), "too large"),
    "10 MB JSON text": (lambda: with_args("read_file", '{"path": "' + "x" * 10_000_000 + '"}'), "too large"),
    "10,000 deep": (lambda: with_args("submit", {"task_id": "t1", "answer": deep_list(10_000)}), "nested too deeply"),
    "10,000 deep JSON text": (lambda: with_args("submit", '{"answer": ' + "[" * 10_000 + "]" * 10_000 + "}"),
                              "nested too deeply"),
    "DAG of 2**25 values": (lambda: with_args("submit", {"task_id": "t1", "answer": _dag(25)}), "too large"),
    "int key": (lambda: with_args("read_file", {1: "/shared/a.md"}), "key of type int"),
    "nested int key": (lambda: with_args("submit", {"task_id": "t1", "answer": {(1, 2): 3}}), "key of type tuple"),
    "arguments a list": (lambda: with_args("read_file", ["/shared/a.md"]), "not a list"),
    "arguments None": (lambda: with_args("read_file", None), "not a NoneType"),
    "arguments bytes": (lambda: with_args("read_file", b'{"path": "/x"}'), "not a bytes"),
    "arguments an object": (lambda: with_args("read_file", object()), "not a object"),
    "name not a string": (lambda: constructed(name=b"read_file", arguments={}, id="c1"), "name must be"),
    "id not a string": (lambda: constructed(name="list_tasks", arguments={}, id=7), "id must be"),
    "missing fields": (lambda: constructed(), "name must be a string, not a NoneType"),
    "hostile subclass": (lambda: _HostileCall(name="list_tasks", arguments={}, id="c1"), "plain ToolCall"),
    "10 MB tool name": (lambda: ToolCall(name="x" * 10_000_000, id="c1"), "tool name is 10000000"),
    "run_python with bytes": (lambda: with_args("run_python", {"code": b"print(1)"}), "type bytes"),
}


def _dag(levels: int) -> list[Any]:
    value: list[Any] = [1]
    for _ in range(levels):
        value = [value, value]
    return value


@pytest.mark.parametrize("case", list(NON_JSON))
def test_non_json_values_are_a_tool_error_that_costs_a_minute(case: str, tmp_path: Path) -> None:
    make, words = NON_JSON[case]
    summaries, traces = run_script([[make()]], tmp_path)
    assert summaries[0].status == "ok"
    first = assert_tool_error(traces[0], words)
    assert first.id in ("c1", "")  # the agent's id, when it was a string
    assert len(first.content) < 2_000  # the refusal quotes nothing enormous
    assert len(calls(traces[0])[0].model_dump_json()) < MAX_ARGUMENT_CHARS + 1_000  # nor the trace (refused values cut)


NOT_CALLS = {
    "an int": (5, "not a int"),
    "None": (None, "not a NoneType"),
    "a string": ("end_day", "not a str"),
    "a dict": ({"name": "end_day"}, "not a dict"),
    "a generator": ((c for c in [ToolCall(name="end_day")]), "not a generator"),
    "a list of dicts": ([{"name": "end_day", "arguments": {}}], "item 0 is a dict"),
    "a list with a string": ([ToolCall(name="list_tasks"), "end_day"], "item 1 is a str"),
}


def test_the_answer_to_the_final_observation_is_ignored(tmp_path: Path) -> None:
    _ScriptedAgent.at_done = object()
    try:
        summaries, _ = run_script([[ToolCall(name="list_tasks")]], tmp_path)
    finally:
        _ScriptedAgent.at_done = []
    assert summaries[0].status == "ok"


@pytest.mark.parametrize("case", list(NOT_CALLS))
def test_act_returning_something_else_than_tool_calls_is_an_agent_error(case: str, tmp_path: Path) -> None:
    value, words = NOT_CALLS[case]
    summaries, traces = run_script([value], tmp_path)
    (s,) = summaries
    assert s.status == "error" and s.error is not None
    assert s.error.startswith("AgentOutputError: act() must return a list of ToolCall objects") and words in s.error
    assert any(words in e.data.message for e in events_of(traces[0], AgentErrorEvent))


def test_honest_calls_are_taken_as_they_are() -> None:
    call = ToolCall(name="read_file", arguments={"path": "/shared/é.md", "offset": 0}, id="x")
    assert admit_call(call) is call
    text = ToolCall(name="read_file", arguments='{"path": "/shared/a.md"}', id="x")
    assert admit_call(text) is text
    nested = ToolCall(name="send_message", arguments={"to": ["a", "b"], "text": "héllo 😀"}, id="y")
    admitted = admit_call(nested)
    assert admitted.arguments is nested.arguments  # checked, not copied
    assert agent_calls((call,)) == [call]


# ---- lone surrogates: replaced by U+FFFD where they enter --------------------------------------------

def test_surrogate_in_a_path(tmp_path: Path) -> None:
    script = [[ToolCall(name="read_file", arguments={"path": "/shared/\ud800.md"}, id="a"),
               ToolCall(name="read_file", arguments='{"path": "/shared/\\ud800.md"}', id="b"),  # the JSON escape
               ToolCall(name="read_file", arguments='{"path": "/shared/\ud800.md"}', id="c"),  # the raw character
               ToolCall(name="list_files", arguments={"path": "/workspace/\udfff"}, id="d")]]
    summaries, traces = run_script(script, tmp_path)
    assert summaries[0].status == "ok"
    got = results(traces[0])[:4]
    assert [r.ok for r in got] == [False, False, False, True]
    assert all(FFFD in r.content for r in got), got
    assert calls(traces[0])[0].arguments == {"path": f"/shared/{FFFD}.md"}
    assert calls(traces[0])[2].arguments == f'{{"path": "/shared/{FFFD}.md"}}'


def test_surrogate_in_a_message_a_notebook_title_a_file_and_a_submission(tmp_path: Path) -> None:
    scenario = load_suite(_SUITE[0]).scenario("s000")
    colleague = scenario.company.mentor
    task = scenario.days[0].tasks[0].task_id
    script = [
        [ToolCall(name="send_message", arguments={"to": colleague, "text": "hello \ud800 there"}, id="m")],
        [ToolCall(name="notebook", arguments={"action": "write", "title": "t\udc00", "text": "x\ud83d"}, id="n")],
        [ToolCall(name="write_file", arguments={"path": "/workspace/\ud800.md", "content": "a\udfffb"}, id="w")],
        [ToolCall(name="read_file", arguments={"path": f"/workspace/{FFFD}.md"}, id="r")],
        [ToolCall(name="notebook", arguments={"action": "read"}, id="nr")],
        [ToolCall(name="wait", arguments={}, id="wt")],  # lets a task arrive
        [ToolCall(name="submit", arguments={"task_id": task, "answer": {"k\ud800": ["v\udbff"]}}, id="s")],
    ]
    summaries, traces = run_script(script, tmp_path)
    assert summaries[0].status == "ok"
    by_id = {r.id: r for r in results(traces[0])}
    assert by_id["m"].ok, by_id["m"]
    assert by_id["n"].ok and f"t{FFFD}" in by_id["n"].content
    assert by_id["w"].ok and f"/workspace/{FFFD}.md" in by_id["w"].content
    assert by_id["r"].ok and by_id["r"].content.startswith(f"a{FFFD}b")
    assert f"t{FFFD}: x{FFFD}" in by_id["nr"].content
    assert by_id["s"].ok, by_id["s"]
    submitted = next(c for c in calls(traces[0]) if c.id == "s")
    assert isinstance(submitted.arguments, dict) and submitted.arguments["answer"] == {f"k{FFFD}": [f"v{FFFD}"]}


def test_surrogate_in_tool_name_and_call_id(tmp_path: Path) -> None:
    _, traces = run_script([[ToolCall(name="list_tasks\ud800", id="id\udc00")]], tmp_path)
    first = assert_tool_error(traces[0], "unknown tool")
    assert first.id == f"id{FFFD}" and first.name == f"list_tasks{FFFD}"


class _UnprintableError(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no message for you")


@pytest.mark.parametrize("exc", [RuntimeError("model said \ud800 and \udfff"), _UnprintableError(),
                                 ValueError("x" * 1_000_000)], ids=["surrogates", "unprintable", "huge"])
def test_exception_message_of_the_agent(exc: Exception, tmp_path: Path) -> None:
    summaries, traces = run_script([exc], tmp_path)
    (s,) = summaries
    assert s.status == "error" and s.error is not None and len(s.error) < 5_000
    assert s.error.startswith(type(exc).__name__)
    assert "\ud800" not in s.error
    assert events_of(traces[0], AgentErrorEvent)


@pytest.mark.parametrize("info", [
    {"model": "m\ud800", "client": object(), "raw": b"\xff", "nan": math.nan, 1: {2, 3}},
    cyclic_dict(), deep_list(10_000), _Opaque(), {"big": 10**5000},
], ids=["mixed", "cyclic", "deep", "opaque", "huge-int"])
def test_agent_info_is_made_saveable(info: Any, tmp_path: Path) -> None:
    summaries, traces = run_script([[ToolCall(name="list_tasks")]], tmp_path, info=info)
    assert summaries[0].status == "ok"
    briefing = traces[0][0]
    assert isinstance(briefing, BriefingEvent) and briefing.data.agent is not None
    assert '"agent":' in trace_bytes([briefing]).decode()


# ---- hypothesis: every tool, hostile arguments, through the runner and the saver -------------------------

# every tool but run_python (it starts a process; its refusals are in NON_JSON, before any process)
TOOL_NAMES = sorted(name for name, fn in inspect.getmembers(Toolbox, inspect.isfunction)
                    if getattr(fn, "__firstday_tool__", False) and name != "run_python")
ARG_NAMES = ["path", "to", "text", "task_id", "answer", "title", "action", "content", "old", "new", "url", "room",
             "start", "duration_minutes", "attendees", "meeting_id", "expression", "minutes", "until", "handle",
             "department", "last", "offset", "query", "for_message_from"]

surrogates = st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff"])
hostile_text = st.text(alphabet=st.one_of(st.characters(), surrogates), max_size=20)
hostile_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**30), 10**30), st.floats(), hostile_text, st.binary(max_size=8),
    st.just(10**500), st.builds(object), st.builds(_Opaque), st.sampled_from(["/workspace/a.md", "/shared", "t1"]))
hostile_values = st.recursive(hostile_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.tuples(inner, inner), st.frozensets(st.integers(), max_size=2),
    st.dictionaries(st.one_of(hostile_text, st.integers(), st.sampled_from(ARG_NAMES)), inner, max_size=3)),
    max_leaves=8)
hostile_arguments = st.one_of(
    st.dictionaries(st.one_of(st.sampled_from(ARG_NAMES), hostile_text), hostile_values, max_size=4),
    st.dictionaries(st.sampled_from(ARG_NAMES), hostile_values, max_size=4).map(
        lambda d: json.dumps(json_safe(d))),  # JSON text whose "\udXXX" escapes decode to lone surrogates
    hostile_text, hostile_values)
hostile_calls = st.builds(
    lambda name, args, cid: with_args(name, args, cid) if isinstance(cid, str) else constructed(
        name=name, arguments=args, id=cid),
    st.one_of(st.sampled_from(TOOL_NAMES), hostile_text), hostile_arguments,
    st.one_of(hostile_text, st.integers(), st.none()))


@FUZZ
@given(turns=st.lists(st.lists(hostile_calls, min_size=1, max_size=6), min_size=1, max_size=4))
def test_hostile_calls_to_every_tool_never_cost_the_run(turns: list[list[ToolCall]], tmp_path: Path) -> None:
    summaries, traces = run_script(list(turns), tmp_path)
    (s,) = summaries
    assert s.status == "ok", s.error  # tool errors only: the episode went on
    got = results(traces[0])
    assert len(got) >= len(calls(traces[0])) > 0  # every call answered (after end_day: "not executed")
    for r in got:
        assert "internal error" not in r.content, r


# ---- the helpers themselves ----------------------------------------------------------------------------

def test_safe_text_replaces_lone_surrogates_only() -> None:
    assert safe_text("plain") == "plain"
    honest = "é 😀 中"
    assert safe_text(honest) is honest
    assert safe_text("a\ud800b\udfff") == f"a{FFFD}b{FFFD}"
    assert safe_text("\ud83d\ude00") == FFFD * 2  # a pair of code points is not a character in a str
    assert type(safe_text(type("S", (str,), {"__str__": lambda self: 1/0})("x"))) is str


def test_checked_json_returns_honest_values_unchanged() -> None:
    value = {"a": [1, 2.5, None, True, {"b": "é"}], "c": ("x", "y")}
    assert checked_json(value, max_depth=32, max_nodes=100, max_chars=100) is value
    fixed = checked_json({"a\ud800": ["b\udfff"]}, max_depth=32, max_nodes=100, max_chars=100)
    assert fixed == {f"a{FFFD}": [f"b{FFFD}"]}


def test_json_safe_and_exception_text_never_raise() -> None:
    for hostile in [cyclic_dict(), cyclic_list(), deep_list(100_000), _Opaque(), _dag(60), {_Opaque(): 1},
                    math.nan, 10**5000, b"\xff", {1, 2}]:
        json.dumps(json_safe(hostile), allow_nan=False).encode("utf-8")
    assert exception_text(_UnprintableError()).startswith("_UnprintableError: [the exception's message")
    assert exception_text(RuntimeError("\ud800")) == f"RuntimeError: {FFFD}"


def test_the_saver_is_the_last_line_of_defence() -> None:
    """A value that got past the boundary (a future path that forgets) is saved made safe, not a SaveError."""
    args = {"a": "x\ud800", "b": object(), "c": deep_list(5000)}
    bad = trusted(ToolCallEvent, {"t": 1, "type": "tool_call",
                                  "data": trusted(ToolCallData, {"id": "c1", "name": "x", "arguments": args})})
    good = ToolCallEvent(t=2, data=ToolCallData(id="c2", name="y", arguments={"n": 1}))
    lines = trace_bytes([good, bad]).decode("utf-8").splitlines()
    assert json.loads(lines[0]) == {"t": 2, "type": "tool_call",
                                    "data": {"id": "c2", "name": "y", "arguments": {"n": 1}}}
    assert json.loads(lines[1])["data"]["arguments"]["a"] == f"x{FFFD}"
    summary = EpisodeSummary(scenario_id="s", day_index=0, agent="a", status="error", error="boom \ud800")
    text = model_json(summary)
    assert EpisodeSummary.model_validate_json(text).error == f"boom {FFFD}"
    assert trace_bytes("x\ud800") == f"x{FFFD}".encode()


def test_refused_call_is_never_acted_on_and_lessons_are_made_safe() -> None:
    refused = admit_call(with_args("end_day", {"x": object()}))
    assert type(refused) is RefusedCall and "type object" in refused.reason
    lessons = normalize_lessons(["ok \ud800", {"text": b"bytes", "category": object()}, cyclic_list(), None, ""], 0)
    assert [lesson.text for lesson in lessons][:2] == [f"ok {FFFD}", "b'bytes'"] and len(lessons) == 3
    assert lessons[2].text.startswith("[1, [1, [1") and "[left out: nested too deeply]" in lessons[2].text
    assert lessons[1].category is not None and lessons[1].category.startswith("<object object")
    for lesson in lessons:
        lesson.model_dump_json()


# ---- end to end: a model's hostile replies through the command line ---------------------------------------

@pytest.mark.usefixtures("openai_env")
def test_cli_run_with_a_model_sending_lone_surrogates_and_bad_json(server: Any, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from firstday.cli import app
    from llm_server import Policy

    server.reset(Policy(script=[
        {"name": "read_file", "arguments": {"path": "/shared/\ud800.md"}},  # JSON text with the "\ud800" escape
        {"name": "read_file", "raw_arguments": '{"path": "/shared/a.md"'},  # invalid JSON
        # a raw lone surrogate in the arguments text, and one in the reply's text
        {"name": "notebook", "raw_arguments": '{"action": "write", "title": "\udfff", "text": "a note"}',
         "content": "thinking \ud800 aloud"},
        {"name": "list_tasks\udc00", "arguments": {}},
    ]))  # then end_day
    suite = tmp_path / "suite"
    saved_suite(suite, "smoke", seed=3, scenarios=2)
    out = tmp_path / "run"
    cli = CliRunner()
    res = cli.invoke(app, ["run", str(suite), "--agent", "llm", "--model", "openai/scripted", "--base-url",
                           server.base_url, "-o", str(out), "-O", f"cache_dir={json.dumps(str(tmp_path / 'c'))}"])
    assert res.exit_code == 0, res.output
    folder = RunFolder(out)
    expected = load_suite(suite).manifest.n_days
    assert len(folder.finished()) == expected and set(folder.finished().values()) == {"ok"}
    for key in folder.finished():
        trace = folder.read_trace(key)
        got = results(trace)
        assert [r.ok for r in got[:4]] == [False, False, True, False], got
        assert "not valid JSON" in got[1].content and FFFD in got[3].content
        for line in (out / "traces" / f"{key}.jsonl").read_bytes().decode("utf-8").split("\n")[:-1]:
            for text in string_values(json.loads(line)):
                text.encode("utf-8")  # no lone surrogate, not even as a JSON escape
    folder.close()
    assert any(FFFD in str(m.get("content")) for body in server.requests for m in body["messages"]), \
        "the sanitised reply went back to the model"
    rep = cli.invoke(app, ["report", str(out)])
    assert rep.exit_code == 0, rep.output


class _OddAgent(_ScriptedAgent):
    """An agent whose own attributes and hooks are hostile: a name that is not text, usage with NaN, a
    reflection that raises an exception nobody can print."""

    name = "odd\ud800"

    def usage(self) -> dict[str, Any]:
        return {"input_tokens": 1, "cost_usd": math.nan}

    async def reflect(self, feedback: Any) -> Any:
        raise _UnprintableError


@pytest.mark.parametrize("name", ["odd\ud800", 5])
def test_hostile_agent_attributes_and_reflection(name: Any, tmp_path: Path) -> None:
    from firstday.env import EnvConfig

    register_agent("test-odd", "hostile attributes (tests only)")(lambda ctx: _OddAgent())
    _OddAgent.name = name
    _ScriptedAgent.script = [[ToolCall(name="list_tasks")]]
    try:
        summary = run_suite(_SUITE[0], "test-odd", tmp_path / "run", env_config=EnvConfig(memory=True))
    finally:
        agent_registry._AGENTS.pop("test-odd", None)
    (s,) = summary.episodes
    assert s.agent == (f"odd{FFFD}" if isinstance(name, str) else "test-odd")
    assert s.usage is None  # NaN is no cost
    assert s.status == "error" and s.error is not None
    assert s.error.startswith("ReflectionError: _UnprintableError: [the exception's message could not be read]")
    folder = RunFolder(tmp_path / "run")
    assert folder.read_episode(s.key) == s
    folder.close()


def test_gym_actions_that_cannot_be_read_are_refused_calls() -> None:
    from firstday.env.gym import parse_action

    for action in [deep_list(10_000), "[" * 10_000 + "]" * 10_000, [{"name": "x\ud800", "arguments": _Opaque()}],
                   _Opaque(), "\ud800"]:
        (call,) = parse_action(action)[:1]
        admitted = admit_call(call)
        json.dumps(admitted.model_dump(), allow_nan=False).encode("utf-8")
