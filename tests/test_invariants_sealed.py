"""Invariant 3 — Sealed (DESIGN.md §6): nothing an agent's tool can reach contains answers, checkpoint
definitions, other colleagues' cards or the oracle plan; path traversal, symlinks, impersonation,
negative waits and clock rewinds are refused with a clear error.

The leak checks are the library's (:mod:`firstday.checkers`, also run by ``firstday check-family``) and
generic: for any family, the hidden side of a day (``TaskInstance.answers``,
checkpoints, the oracle plan, hidden files, facts) is turned into "secret" strings, minus anything that
is legitimately public anyway (visible files, pages, meeting notes, objectives, the directory), and
every text an agent is shown during a whole day is searched for them.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import all_meta_tasks, event_loop, meta_id, preset_days, single_task_day
from firstday.checkers import TRAVERSALS, oracle_leaks, snooper_problems
from firstday.env import DayEnv, events_of
from firstday.env.trace import ToolResultEvent
from firstday.suites import Day, Scenario
from firstday.world import Toolbox, ToolCall, ToolResult


def _check_snooper_day(scenario: Scenario, day: Day) -> list[str]:
    return snooper_problems(scenario, day, loop=event_loop())


@pytest.mark.parametrize("meta", all_meta_tasks(), ids=meta_id)
def test_snooper_finds_no_secrets_in_single_task_days(meta: tuple[str, str, str]) -> None:
    for seed in range(2):
        scenario, day = single_task_day(meta, seed, label="sealed")
        problems = _check_snooper_day(scenario, day)
        assert not problems, f"{meta_id(meta)} seed {seed}:\n" + "\n".join(problems[:15])


def test_snooper_finds_no_secrets_in_mixed_days() -> None:
    for seed in range(3):
        for scenario, day in preset_days("smoke", seed):
            problems = _check_snooper_day(scenario, day)
            assert not problems, f"smoke seed {seed} {scenario.scenario_id}:\n" + "\n".join(problems[:15])


def _check_oracle_day(scenario: Scenario, day: Day) -> list[str]:
    return oracle_leaks(scenario, day, loop=event_loop())


@pytest.mark.parametrize("meta", all_meta_tasks(), ids=meta_id)
def test_oracle_day_shows_only_what_was_asked_for(meta: tuple[str, str, str]) -> None:
    """Even the oracle, asking exactly the right questions, is shown nothing beyond the answers to them:
    no other colleague's card, no unshared file, no checkpoint, no answer it did not derive itself."""
    scenario, day = single_task_day(meta, 0, label="sealed-oracle")
    leaks = _check_oracle_day(scenario, day)
    assert not leaks, f"{meta_id(meta)}:\n" + "\n".join(leaks[:15])


def test_oracle_mixed_days_show_only_what_was_asked_for() -> None:
    for seed in range(4):
        for scenario, day in preset_days("smoke", seed):
            leaks = _check_oracle_day(scenario, day)
            assert not leaks, f"smoke seed {seed} {scenario.scenario_id}:\n" + "\n".join(leaks[:15])


# --- direct probes through the toolbox -------------------------------------------------------------------
@pytest.fixture(scope="module")
def smoke_day() -> tuple[Scenario, Day]:
    # a smoke day that holds a hidden file (the smoke suites of seeds 0 and 1 have one)
    days = preset_days("smoke", 0) + preset_days("smoke", 1)
    with_hidden = [(s, d) for s, d in days if any(f.hidden for t in d.tasks for f in t.files)]
    assert with_hidden, "no smoke day of seeds 0-1 hides a file: pick other seeds for these tests"
    return with_hidden[0]


def _call(tools: Toolbox, name: str, arguments: dict[str, Any] | str | None = None) -> ToolResult:
    before = tools.world.now
    res = tools.execute(ToolCall(name=name, arguments=arguments if arguments is not None else {}))
    assert res.ended >= res.started >= before
    return res


def _refused(res: ToolResult, *needles: str) -> None:
    assert not res.ok, f"{res.name} was not refused: {res.content[:200]!r}"
    assert res.content.startswith("error: ") and "internal error" not in res.content, res.content
    assert res.ended > res.started, "a refused call must cost time"
    for n in needles:
        assert n.lower() in res.content.lower(), f"{n!r} not in {res.content!r}"


def test_path_traversal_and_outside_paths_are_refused(smoke_day: tuple[Scenario, Day]) -> None:
    env = DayEnv(*smoke_day)
    tools = env.tools
    for path in TRAVERSALS:
        read = _call(tools, "read_file", {"path": path})
        _refused(read)
        assert "root:" not in read.content
        for name, args in (("write_file", {"path": path, "content": "x"}),
                           ("edit_file", {"path": path, "old": "a", "new": "b"})):
            res = _call(tools, name, args)
            # a percent-encoded or '~' name is just an odd file name inside /workspace: never decoded
            assert not res.ok or "/workspace/" in res.content, res.content
            if not res.ok:
                _refused(res)
    assert all(p.startswith(("/shared/", "/workspace/")) for p in env.world.record.files)
    for path in ("../etc", "/etc", "/shared/../..", "//", "/proc", "..%2f"):
        res = _call(tools, "list_files", {"path": path})
        assert not res.ok or res.content.startswith("No files"), res.content
    tools = DayEnv(*smoke_day).tools  # fresh: the odd names above were written
    _refused(_call(tools, "read_file", {"path": "../shared/x"}), "traversal")
    _refused(_call(tools, "read_file", {"path": "/shared/../shared/x"}), "traversal")
    _refused(_call(tools, "read_file", {"path": "/etc/passwd"}), "outside the drive")
    _refused(_call(tools, "read_file", {"path": "%2e%2e/%2e%2e/etc/passwd"}), "no such file")
    _refused(_call(tools, "write_file", {"path": "/shared/new.txt", "content": "x"}), "read-only")
    shared_file = next(p for p in env.world.listing() if p.startswith("/shared/"))
    _refused(_call(tools, "edit_file", {"path": shared_file, "old": "a", "new": "b"}), "read-only")
    # the drive lists only /shared and /workspace files
    listing = _call(tools, "list_files", {"path": "/"}).content.splitlines()
    assert listing and all(p.startswith(("/shared/", "/workspace/")) for p in listing)


def test_hidden_files_look_exactly_like_missing_ones(smoke_day: tuple[Scenario, Day]) -> None:
    scenario, day = smoke_day
    tools = DayEnv(scenario, day).tools
    hidden = [f.path for t in day.tasks for f in t.files if f.hidden]
    assert hidden  # the fixture picks a day with one
    listing = "\n".join(_call(tools, "list_files", {"path": p}).content for p in ("/", "/shared"))
    for path in hidden:
        assert path not in listing
        res = _call(tools, "read_file", {"path": path})
        missing = _call(tools, "read_file", {"path": path + ".nothing-here"})
        assert res.content == missing.content.replace(".nothing-here", ""), "a hidden file is distinguishable"
        folder = path.rsplit("/", 1)[0]
        assert path not in _call(tools, "list_files", {"path": folder}).content


def test_impersonation_is_refused(smoke_day: tuple[Scenario, Day]) -> None:
    scenario, day = smoke_day
    env = DayEnv(scenario, day)
    tools = env.tools
    me = scenario.company.trainee.handle
    colleague = scenario.company.employees[1].handle
    other = scenario.company.employees[2].handle
    _refused(_call(tools, "send_message", {"to": me, "text": "hi"}), "that is you")
    _refused(_call(tools, "send_message", {"to": f"@{me.upper()}", "text": "hi"}), "that is you")
    _refused(_call(tools, "send_message", {"to": [colleague, me], "text": "hi"}), "that is you")
    for forged in ("sender", "from", "from_", "as_user", "on_behalf_of"):
        _refused(_call(tools, "send_message", {"to": colleague, "text": "hi", forged: other}),
                 f"unknown argument '{forged}'")
    raw = json.dumps({"to": colleague, "text": "hi", "sender": other})
    _refused(_call(tools, "send_message", raw), "unknown argument 'sender'")
    _refused(_call(tools, "send_message", {"to": "nobody.at.all", "text": "hi"}), "no colleague")
    assert env.world.record.messages == [], "a refused message was recorded as sent"
    # the record has no sender field at all: every message is the trainee's
    ok = _call(tools, "send_message", {"to": colleague, "text": f"I am {other}, send me everything"})
    assert ok.ok and "sender" not in env.world.record.messages[0].model_dump()


def test_waits_and_rewinds_are_refused(smoke_day: tuple[Scenario, Day]) -> None:
    scenario, day = smoke_day
    env = DayEnv(scenario, day)
    tools = env.tools
    assert _call(tools, "wait", {"minutes": 30}).ok
    for args in ({"minutes": 0}, {"minutes": -5}, {"minutes": -10**9}, {"minutes": 10**9}, {"until": "08:00"},
                 {"until": "09:00"}, {"until": "24:00"}, {"until": "-1:00"}, {"until": "9.30"},
                 {"minutes": 5, "until": "17:00"}, {"for_message_from": scenario.company.employees[1].handle}):
        before = env.world.now
        res = _call(tools, "wait", args)
        _refused(res)
        assert env.world.now == before + 1, "a refused wait costs exactly the error minute"
    past = _call(tools, "wait", {"until": "09:10"})
    _refused(past, "not in the future")
    _refused(_call(tools, "book_meeting", {"title": "x", "start": "09:00", "duration_minutes": 30,
                                           "room": scenario.company.rooms[0].name, "attendees": []}), "past")
    # nothing moves the clock backwards, whatever the order of calls
    times = [e.data.ended for e in events_of(env.trace, ToolResultEvent)]
    assert times == sorted(times)


def test_run_python_sandbox_refuses_escapes(smoke_day: tuple[Scenario, Day]) -> None:
    scenario, day = smoke_day
    env = DayEnv(scenario, day)
    tools = env.tools
    visible_shared = sorted(p[len("/shared/"):] for p in env.world.listing() if p.startswith("/shared/"))
    hidden = [f.path for t in day.tasks for f in t.files if f.hidden]
    target = visible_shared[0]
    code = f"""
import json, os
results = {{}}
def probe(name, fn):
    try:
        value = fn()
        results[name] = "ALLOWED " + repr(value)[:100]
    except BaseException as exc:
        results[name] = "REFUSED " + type(exc).__name__ + ": " + str(exc)[:160]
probe("open_passwd", lambda: open("/etc/passwd").read())
probe("open_proc_root", lambda: open("/proc/self/root/etc/passwd").read())
probe("listdir_root", lambda: os.listdir("/"))
probe("listdir_parent", lambda: os.listdir("../.."))
probe("write_outside", lambda: open("../../escape.txt", "w").write("x"))
probe("subprocess", lambda: __import__("subprocess").run(["/bin/echo", "hi"]))
probe("os_system", lambda: os.system("echo hi"))
probe("popen", lambda: os.popen("echo hi").read())
probe("fork", lambda: os.fork())
probe("socket", lambda: __import__("socket").create_connection(("127.0.0.1", 9), timeout=1))
probe("raw_socket", lambda: __import__("socket").socket().connect(("127.0.0.1", 9)))
probe("ctypes", lambda: __import__("ctypes").CDLL(None))
probe("symlink_out", lambda: os.symlink("/etc/passwd", "evil_link"))
probe("symlink_in", lambda: os.symlink("../shared/{target}", "inside_link"))
def walk():
    out = []
    for root, dirs, files in os.walk("../shared"):
        out += [os.path.relpath(os.path.join(root, f), "../shared") for f in files]
    return sorted(out)
shared = walk()
open("result.txt", "w").write("fine")
print("PROBES" + json.dumps(results))
print("SHARED" + json.dumps(shared))
"""
    res = _call(tools, "run_python", {"code": code})
    assert res.ok, res.content
    probes = json.loads(res.content.split("PROBES", 1)[1].splitlines()[0])
    refused_expected = [k for k in probes if k != "symlink_in"]
    allowed = {k: v for k, v in probes.items() if k in refused_expected and not v.startswith("REFUSED")}
    assert not allowed, f"escapes not refused: {allowed}"
    for k in refused_expected:
        assert "PermissionError" in probes[k] or "not allowed" in probes[k] or "outside the sandbox" in probes[k], (
            k, probes[k])
    shared = json.loads(res.content.split("SHARED", 1)[1].splitlines()[0])
    assert shared == visible_shared, "run_python sees other shared files than the drive shows"
    assert not any(h[len("/shared/"):] in shared for h in hidden), "a hidden file reached the sandbox"
    assert "root:x:0:0" not in res.content
    # the workspace result came back; symlinks did not
    assert "result.txt" in res.content and "inside_link (symlink)" in res.content
    assert _call(tools, "read_file", {"path": "/workspace/result.txt"}).content == "fine"
    for link in ("/workspace/evil_link", "/workspace/inside_link"):
        _refused(_call(tools, "read_file", {"path": link}), "no such file")
