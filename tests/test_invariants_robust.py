"""Invariant 4 — Robust (DESIGN.md §6): malformed tool calls (bad JSON, wrong types, unknown tools, huge
arguments) get a clear error message and cost time; they never crash the episode or the run.

Fuzzed with hypothesis (derandomized, so CI runs are reproducible) through ``Toolbox.execute`` and
``DayEnv.step``. ``run_python`` is left out of the fuzzing (it spawns a process) except in one explicit test.
An "internal error" result counts as a failure here: it means a tool crashed on input it should have refused.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import all_meta_tasks, meta_id, preset_days, run_agent, single_task_day
from firstday.checkers import junk_problems
from firstday.env import Briefing, DayEnv, EnvConfig, Observation, events_of
from firstday.env.trace import ToolResultEvent
from firstday.seeding import make_rng
from firstday.suites import Day, Scenario
from firstday.world import ToolCall, ToolResult, ToolSpec
from firstday.world.tools import MAX_ARGUMENT_CHARS

FUZZ = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@cache
def fuzz_day() -> tuple[Scenario, Day]:
    return preset_days("smoke", 4)[0]


def fresh_env(config: EnvConfig | None = None) -> DayEnv:
    return DayEnv(*fuzz_day(), config)


@cache
def tool_specs() -> dict[str, ToolSpec]:
    return {s.name: s for s in fresh_env().tools.specs}


def tool_params() -> dict[str, list[str]]:
    return {name: list(s.parameters["properties"]) for name, s in tool_specs().items()}


def fuzzable_tools() -> list[str]:
    return sorted(n for n in tool_params() if n != "run_python")


# --- strategies ------------------------------------------------------------------------------------------
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(10**20), 10**20),
                         st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)


@cache
def plausible_values() -> st.SearchStrategy[Any]:
    """Values that often pass validation, so the fuzzing reaches the tools' bodies (built once: building
    strategies per example costs more than running the calls)."""
    scenario, day = fuzz_day()
    handles = scenario.company.handles()
    paths = [f.path for t in day.tasks for f in t.files] + ["/shared", "/workspace", "/", "/workspace/x.md"]
    return st.one_of(
        json_values,
        st.sampled_from([*handles, scenario.company.trainee.handle, "nobody"]),
        st.lists(st.sampled_from(handles), max_size=6),
        st.sampled_from(paths),
        st.sampled_from(["09:00", "12:30", "17:59", "23:59", "25:00", "7:5", "noon", "-01:00", ""]),
        st.sampled_from([t.task_id for t in day.tasks] + ["t99", "m1", "b1"]),
        st.sampled_from([r.name for r in scenario.company.rooms] + ["Nowhere"]),
        st.integers(-1000, 1000),
        st.sampled_from(["1+2", "__import__('os')", "2**2**2**2", "max(1, 2)", "(1).real", "1/0", "x" * 50]),
    )


def typed_values(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Mostly values of the type the JSON schema asks for (from pools of meaningful ones), sometimes junk."""
    scenario, day = fuzz_day()
    if "anyOf" in schema:
        typed = st.one_of([typed_values(x) for x in schema["anyOf"]])
    elif schema.get("type") == "string":
        pool = [*scenario.company.handles(), *(f.path for t in day.tasks for f in t.files), "/workspace/new.md",
                "/shared", *(t.task_id for t in day.tasks), *(r.name for r in scenario.company.rooms),
                "09:30", "12:00", "16:45", "25:00", "m1", "b1", "1+2*3", "max(2, 3)", "Finance", "HR"]
        typed = st.sampled_from(pool) | st.text(max_size=30)
    elif schema.get("type") == "integer":
        typed = st.integers(-5, 600) | st.integers()
    elif schema.get("type") == "array":
        typed = st.lists(typed_values(schema.get("items", {})), max_size=5)
    elif schema.get("type") == "null":
        typed = st.none()
    else:  # Any (e.g. a submitted answer)
        typed = json_values
    return st.one_of(typed, typed, typed, plausible_values())


@cache
def arguments_for(name: str | None) -> st.SearchStrategy[dict[str, Any] | str]:
    """Arguments for a call of ``name``: its real argument names with plausible or junk values, as a dict,
    as JSON text, as truncated JSON, or plain garbage."""
    keys = [*tool_params().get(name or "", []), "path", "to", "text", "task_id", "sender", "from", ""]
    args_dict = st.dictionaries(st.sampled_from(keys) | st.text(max_size=8), plausible_values(), max_size=5)
    spec = tool_specs().get(name or "")
    if spec is not None:
        # right argument names, plausible values: reaches the tool bodies (listed twice to weigh it up)
        required = spec.parameters.get("required", [])
        props = spec.parameters["properties"]
        shaped = st.fixed_dictionaries(
            {k: typed_values(props[k]) for k in required},
            optional={k: typed_values(v) for k, v in props.items() if k not in required})
        args_dict = st.one_of(shaped, shaped, args_dict)
    return st.one_of(
        args_dict,
        args_dict,
        args_dict.map(json.dumps),
        st.tuples(args_dict.map(json.dumps), st.integers(0, 200)).map(lambda x: x[0][: x[1]]),  # truncated JSON
        st.text(max_size=200),
        json_values.map(lambda v: json.dumps(v, default=str)),
        st.sampled_from(["", " ", "{}", "null", "[]", "{", "}", '{"a":', "[1,2", "\x00", '{"path": 1}', "{'a': 1}"]),
    )


JUNK_NAMES = ["", " list_tasks", "LIST_TASKS", "execute", "world", "_task", "__init__", "specs", "run python",
              "list_tasks\x00", "wait()"]


@cache
def tool_calls() -> st.SearchStrategy[ToolCall]:
    def call(name: str, known: bool) -> st.SearchStrategy[ToolCall]:
        return st.builds(ToolCall, name=st.just(name), arguments=arguments_for(name if known else None),
                         id=st.text(max_size=6))

    known = st.sampled_from(fuzzable_tools()).flatmap(lambda n: call(n, True))
    return st.one_of(
        known, known, known,
        (st.sampled_from(JUNK_NAMES) | st.text(max_size=20).filter(lambda n: n != "run_python")).flatmap(
            lambda n: call(n, False)),
    )


# --- checks ----------------------------------------------------------------------------------------------
def check_result(call: ToolCall, res: ToolResult, ended_before: bool) -> None:
    assert res.name == call.name and res.call_id == call.id
    assert res.ended >= res.started, "the clock went backwards"
    if res.ok:
        return
    assert res.content.startswith("error: ") and len(res.content) >= 12, res.content
    assert "internal error" not in res.content, f"{call!r} crashed a tool: {res.content}"
    if not ended_before:
        assert res.ended > res.started, f"a refused call cost no time: {call!r}"


@FUZZ
@given(calls=st.lists(tool_calls(), min_size=1, max_size=5))
def test_fuzzed_calls_through_the_toolbox_never_raise(calls: list[ToolCall]) -> None:
    env = fresh_env()
    for call in calls:
        ended_before = env.world.ended
        res = env.tools.execute(call)
        check_result(call, res, ended_before)


@settings(FUZZ, max_examples=100)
@given(turns=st.lists(st.lists(tool_calls(), max_size=5), min_size=1, max_size=3))
def test_fuzzed_turns_through_the_env_never_raise(turns: list[list[ToolCall]]) -> None:
    env = fresh_env()
    obs = env.reset()
    for calls in turns:
        before = obs.time
        obs = env.step(calls)
        assert obs.time >= before
        if env.done and not calls:
            continue
        assert [r.call_id for r in obs.results] == [c.id for c in calls], "a call went unanswered"
        for r in obs.results:
            assert r.ok or r.content.startswith("error: ")
            assert "internal error" not in r.content, r.content
    assert env.score().metrics.tasks >= 0


def test_unknown_tools_list_the_real_ones() -> None:
    tools = fresh_env().tools
    for name in ("", "rm -rf", "execute", "_task", "world", "Read_File", "run_python "):
        res = tools.execute(ToolCall(name=name, arguments={}))
        assert not res.ok and "unknown tool" in res.content and "read_file" in res.content, res.content


@pytest.mark.parametrize("arguments", [
    "x" * 1_000_000,
    json.dumps({"path": "/workspace/a", "content": "y" * 1_000_000}),
    {"path": "/workspace/a", "content": "y" * 1_000_000},
    {"path": "/workspace/a", "content": "z", "junk": ["w" * 1000] * 1000},
    "[" * 100_000,
    '{"task_id": "t1", "answer": ' + "[" * 50_000 + "]" * 50_000 + "}",
    "{" * 150_000,
])
def test_huge_and_deep_arguments_are_refused(arguments: dict[str, Any] | str) -> None:
    env = fresh_env()
    for name in ("write_file", "submit"):
        res = env.tools.execute(ToolCall(name=name, arguments=arguments))
        check_result(ToolCall(name=name, arguments=arguments), res, False)
        assert not res.ok and re.search(r"too large|nested too deeply|not valid JSON|invalid arguments", res.content)
        assert len(res.content) < 1000, "the error message echoes the huge input"
    obs = env.step([ToolCall(name="write_file", arguments=arguments, id="big")])
    assert [r.call_id for r in obs.results] == ["big"] and not obs.results[0].ok


def test_deeply_nested_dict_arguments_are_refused_and_the_trace_stays_serialisable() -> None:
    deep: dict[str, Any] = {}
    cur = deep
    for _ in range(5000):
        cur["a"] = {}
        cur = cur["a"]
    env = fresh_env()
    env.reset()
    task_id = env.day.tasks[0].task_id
    obs = env.step([ToolCall(name="submit", arguments={"task_id": task_id, "answer": deep}, id="deep")])
    assert not obs.results[0].ok and "nested too deeply" in obs.results[0].content
    assert env.world.record.submissions == []
    # a reasonable nested answer is fine
    fine = {"a": {"b": [[{"c": [1, 2]}]]}}
    assert env.step([ToolCall(name="submit", arguments={"task_id": task_id, "answer": fine})]).results[0].ok
    env.world.record.model_dump_json()


@pytest.mark.parametrize("arguments", [[1, 2], 7, None, 1.5, True])
def test_non_object_arguments_are_refused(arguments: Any) -> None:
    tools = fresh_env().tools
    for name in ("list_tasks", "read_file"):
        call = ToolCall.model_construct(name=name, arguments=arguments, id="x")
        res = tools.execute(call)
        check_result(call, res, False)
        assert "JSON object" in res.content


def test_tools_without_required_arguments_accept_empty_arguments() -> None:
    no_args = [s.name for s in fresh_env().tools.specs if not s.parameters.get("required")]
    assert {"list_tasks", "list_rooms", "list_meetings", "end_day", "wait"} <= set(no_args)
    empty: list[dict[str, Any] | str] = [{}, "", "{}", "  ", " {} "]
    for name in no_args:
        for arguments in empty:
            env = fresh_env()
            res = env.tools.execute(ToolCall(name=name, arguments=arguments))
            assert res.ok, f"{name}({arguments!r}): {res.content}"
    # ToolCall's default arguments are empty too
    assert fresh_env().tools.execute(ToolCall(name="list_tasks")).ok


def test_every_tool_has_an_object_schema() -> None:
    specs = fresh_env().tools.specs
    assert len(specs) >= 15
    for s in specs:
        p = s.parameters
        assert re.fullmatch(r"[a-z][a-z0-9_]{0,63}", s.name)
        assert p["type"] == "object" and isinstance(p["properties"], dict), s.name
        assert set(p.get("required", [])) <= set(p["properties"]), s.name
        assert p.get("additionalProperties") is False, f"{s.name} must reject unknown arguments"
        assert s.description and s.description[0].isupper(), s.name
        assert all(prop.get("description") for prop in p["properties"].values()), f"{s.name}: undocumented argument"
        assert s.cost_minutes >= 0
        schema = s.openai_schema()
        assert schema["type"] == "function" and schema["function"]["parameters"] is p
        json.dumps(schema)


def test_calls_beyond_the_per_turn_limit_are_answered() -> None:
    env = fresh_env(EnvConfig(max_calls_per_turn=3))
    env.reset()
    calls = [ToolCall(name="list_tasks", id=f"c{i}") for i in range(7)]
    obs = env.step(calls)
    assert [r.call_id for r in obs.results] == [c.id for c in calls]
    assert all(r.ok for r in obs.results[:3])
    for r in obs.results[3:]:
        assert not r.ok and "more than 3 calls in one turn" in r.content
    logged = [e.data.id for e in events_of(env.trace, ToolResultEvent)]
    assert logged == [c.id for c in calls]
    # calls after the day ends in the same turn are answered too
    obs = env.step([ToolCall(name="end_day", id="e"), ToolCall(name="list_tasks", id="after")])
    assert [r.call_id for r in obs.results] == ["e", "after"] and obs.done
    assert "day ended" in obs.results[1].content
    # and a step after the end is harmless
    assert env.step([ToolCall(name="list_tasks")]).done


def test_run_python_malformed_calls() -> None:
    """run_python's argument errors are refused before any process starts; a crashing program is a normal
    result with its traceback and exit code (one process in total)."""
    env = fresh_env()
    for arguments in ({"code": 123}, {}, {"code": None}, "garbage", '{"code": "print(1)"', {"code": "x", "timeout": 5}):
        res = env.tools.execute(ToolCall(name="run_python", arguments=arguments))
        check_result(ToolCall(name="run_python", arguments=arguments), res, False)
        assert not res.ok
    res = env.tools.execute(ToolCall(name="run_python", arguments={"code": "def broken(:\n"}))
    assert res.ok and "SyntaxError" in res.content and "[exit code 1]" in res.content
    assert res.ended - res.started == env.tools.costs["run_python"]


class GarbageAgent:
    """Sends nothing but malformed calls for a while, then idles."""

    name = "garbage"

    def __init__(self) -> None:
        self.rng = make_rng("tests", "garbage-agent")
        self.turns = 0

    async def reset(self, briefing: Briefing) -> None:
        return None

    async def act(self, observation: Observation) -> list[ToolCall]:
        self.turns += 1
        if self.turns > 60:
            return []
        r = self.rng
        names = [*fuzzable_tools(), "nope", ""]
        junk: list[Any] = ["{", "[]", "null", '{"path": 5}', "x" * r.randint(0, 300), {"zz": [1, {"a": None}]},
                           {"path": "../" * r.randint(1, 9)}, {"minutes": -r.randint(1, 99)}, {"until": "08:00"}]
        return [ToolCall(name=r.choice(names), arguments=r.choice(junk), id=str(i)) for i in range(r.randint(0, 5))]


def test_a_whole_day_of_garbage_is_an_ordinary_zero_day() -> None:
    scenario, day = fuzz_day()
    result = run_agent(GarbageAgent(), scenario, day)
    assert result.status == "ok" and result.error is None
    assert result.score.metrics.errors == 0
    assert all(t.score is not None for t in result.score.tasks)
    results = events_of(result.trace, ToolResultEvent)
    assert results and all(e.data.ok or "internal error" not in e.data.content for e in results)
    times = [e.data.ended for e in results]
    assert times == sorted(times)
    result.model_dump_json()  # the whole trace can be saved
    assert MAX_ARGUMENT_CHARS >= 100_000


@pytest.mark.parametrize("meta", all_meta_tasks(), ids=meta_id)
def test_junk_deliverables_get_clear_errors_and_no_scoring_defect(meta: tuple[str, str, str]) -> None:
    """The family's own deliverable calls with junk values (every JSON type, the right keys holding the
    wrong things) and malformed submissions: clear errors or a zero, never a crash or a scoring defect
    (the library's "robust" check of ``firstday check-family``)."""
    scenario, day = single_task_day(meta, 0, label="robust")
    problems = junk_problems(scenario, day)
    assert not problems, "\n".join(problems[:10])
