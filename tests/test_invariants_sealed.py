"""Invariant 3 — Sealed (DESIGN.md §6): nothing an agent's tool can reach contains answers, checkpoint
definitions, other colleagues' cards or the oracle plan; path traversal, symlinks, impersonation,
negative waits and clock rewinds are refused with a clear error.

The leak checks are generic: for any family, the hidden side of a day (``TaskInstance.answers``,
checkpoints, the oracle plan, hidden files, facts) is turned into "secret" strings, minus anything that
is legitimately public anyway (visible files, pages, meeting notes, objectives, the directory), and
every text an agent is shown during a whole day is searched for them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator, Iterable
from typing import Any

import pytest

from conftest import (
    agent_visible_texts,
    all_meta_tasks,
    event_loop,
    meta_id,
    preset_days,
    single_task_day,
    string_values,
)
from firstday.agents import AgentContext, make_agent
from firstday.env import Briefing, DayEnv, EpisodeResult, Observation, events_of, run_episode
from firstday.env.trace import ObservationEvent, ToolCallEvent, ToolResultEvent
from firstday.suites import Day, Scenario
from firstday.world import Toolbox, ToolCall, ToolResult

# field names of hidden models: if one shows up in a tool result, something serialised hidden data
HIDDEN_MARKERS = ('"cp_id"', '"answer_bearing"', '"fact_id"', '"gate_tokens"', '"require_any"', '"shares_files"',
                  '"clue_ids"', '"solution"', '"answers"', '"effort_minutes"', '"latest_deadline"')
MIN_SECRET_LEN = 6


# --- what is public, what is secret ----------------------------------------------------------------------
def public_corpus(scenario: Scenario, day: Day) -> str:
    """Everything an agent may legitimately see without asking anyone: visible files, pages, meetings,
    objectives, the directory and rooms."""
    parts: list[str] = []
    for t in day.tasks:
        parts += [t.objective, t.task_id, t.requester]
        parts += [f.path + "\n" + f.content + "\n" + (f.text_alternative or "") for f in t.files if not f.hidden]
        parts += [p.url + "\n" + p.title + "\n" + p.content + "".join("\n" + v.content for v in p.versions)
                  for p in t.pages]
        parts += [m.title + "\n" + m.notes + "\n" + m.room for m in t.meetings]
    parts += [m.title + "\n" + m.notes for m in day.meetings]
    parts += [fu.text for fu in day.follow_ups]
    c = scenario.company
    parts += [c.name, c.trainee.name, c.trainee.handle]
    parts += [json.dumps(e.profile()) + " " + e.name + " " + e.handle for e in c.employees]
    parts += [r.name for r in c.rooms] + [d.name for d in c.departments]
    return "\n\x00\n".join(parts)


def _pieces(text: str) -> Iterable[str]:
    """A long secret text and its lines (a leak may show only part of it)."""
    yield text
    if len(text) > 80:
        yield from (ln.strip() for ln in text.splitlines())


def secrets_of_day(day: Day, public: str, *, triggered: set[str], shared: set[str]) -> dict[str, str]:
    """Secret string -> what it is, for the tasks of ``day``. ``triggered`` facts and ``shared`` hidden
    files are no longer secret (the agent asked for them)."""
    out: dict[str, str] = {}

    def add(text: str, what: str) -> None:
        for piece in _pieces(text):
            if len(piece) >= MIN_SECRET_LEN and piece not in public:
                out.setdefault(piece, what)

    revealed = [f.reply for t in day.tasks for f in t.facts if f.fact_id in triggered]
    revealed += [f.content for t in day.tasks for f in t.files if f.path in shared]
    for t in day.tasks:
        for key, value in t.answers.items():
            if not isinstance(value, str | int | float):
                add(json.dumps(value), f"{t.task_id} answer {key!r} (JSON)")
            for s in string_values(value):
                add(s, f"{t.task_id} answer {key!r}")
        add(json.dumps(t.answers), f"{t.task_id} answers (JSON)")
        for cp in t.checkpoints:
            add(cp.check.model_dump_json(), f"{t.task_id} checkpoint {cp.cp_id} definition")
            if re.search(r"[-_0-9]", cp.cp_id):
                add(cp.cp_id, f"{t.task_id} checkpoint id")
        for call in t.solution:
            add(json.dumps(call.arguments), f"{t.task_id} oracle plan step {call.name}")
            for s in string_values(call.arguments):
                if len(s) >= 20:
                    add(s, f"{t.task_id} oracle plan argument of {call.name}")
        for f in t.facts:
            if f.fact_id not in triggered:
                add(f.reply, f"{t.task_id} untriggered fact {f.fact_id} of {f.holder}")
        for file in t.files:
            if file.hidden and file.path not in shared:
                text = (file.text_alternative or "") if file.media_type.startswith("image/") else file.content
                add(text, f"{t.task_id} hidden file {file.path}")
    # strings that became public through what the agent asked for are not secrets any more
    return {s: w for s, w in out.items() if not any(s in r for r in revealed)}


def triggered_facts(env: DayEnv) -> set[str]:
    """The facts the trainee's messages revealed (the responder is deterministic, so replay it)."""
    ids: set[str] = set()
    for m in env.world.record.messages:
        for handle in m.to:
            reply = env.world.responder.respond(handle, m.text, group=len(m.to) > 1)
            if reply is not None and reply.fact_id:
                ids.update(reply.fact_id.split(","))
    return ids


def find_leaks(result: EpisodeResult, secrets: dict[str, str], extra_texts: Iterable[str] = ()) -> list[str]:
    """Secrets (and hidden-model markers) in anything the agent was shown; the agent's own arguments
    echoed back do not count from the moment it sent them."""
    leaks: list[str] = []
    said = ""
    texts: list[str] = list(extra_texts)
    for e in result.trace:
        if isinstance(e, ToolCallEvent):
            said += "\n" + json.dumps(e.data.arguments, default=str) + "\n" + "\n".join(
                string_values(e.data.arguments))
            continue
        if isinstance(e, ToolResultEvent):
            texts = [e.data.content]
        elif isinstance(e, ObservationEvent):
            texts = [n.text for n in e.data.notifications]
        else:
            continue
        for text in texts:
            leaks += [f"t={e.t}: {marker} in {text[:120]!r}" for marker in HIDDEN_MARKERS if marker in text]
            leaks += [f"t={e.t}: {what}: {s[:80]!r}" for s, what in secrets.items() if s in text and s not in said]
    return leaks


# --- an adversarial agent that reads everything it can reach without asking anyone -----------------------
LISTING = re.compile(r"^/(?:shared|workspace)/\S+$", re.M)
MORE = re.compile(r"read again with offset=(\d+)\]$")
URL = re.compile(r"https?://[\w./-]+")
TRAVERSALS = (
    "../etc/passwd", "/shared/../../etc/passwd", "/workspace/../../etc/passwd", "/shared/../shared/../..",
    "%2e%2e/%2e%2e/etc/passwd", "/shared/%2e%2e/%2e%2e/etc/passwd", "..%2f..%2fetc%2fpasswd", "/etc/passwd",
    "//etc/passwd", "/proc/self/environ", "~/.ssh/id_rsa", "/shared/..", "..", "/", "\\..\\..\\etc\\passwd",
    "/shared/\x00/etc/passwd", "/workspace/./../../etc/passwd", "file:///etc/passwd", "/shared/" + "a/" * 300,
)


class Snooper:
    """Lists and reads everything, probes traversals and hidden paths, greets colleagues with small talk
    (never asking about a task), and idles through the day re-reading whatever appears."""

    name = "snooper"

    def __init__(self, hidden_paths: list[str], handles: list[str], trainee: str) -> None:
        self.hidden_paths = hidden_paths
        self.handles = handles
        self.trainee = trainee
        self.read_done: set[str] = set()
        self.gen = self._plan()
        self.started = False
        self.briefing: Briefing | None = None

    async def reset(self, briefing: Briefing) -> None:
        self.briefing = briefing

    async def act(self, observation: Observation) -> list[ToolCall]:
        if observation.done:
            return []
        try:
            batch = self.gen.send(observation) if self.started else next(self.gen)
        except StopIteration:
            return [ToolCall(name="end_day")]
        self.started = True
        return batch

    def _read_all(self, results: list[ToolResult]) -> list[ToolCall]:
        paths = [p for r in results if r.name == "list_files" for p in LISTING.findall(r.content)]
        todo = sorted(set(paths) - self.read_done)
        self.read_done.update(todo)
        return [ToolCall(name="read_file", arguments={"path": p}) for p in todo]

    def _plan(self) -> Generator[list[ToolCall], Observation, None]:
        c = ToolCall
        obs = yield [c(name=n) for n in ("list_tasks", "list_colleagues", "list_rooms", "room_schedule",
                                         "list_meetings", "read_inbox")] + [
            c(name="list_files", arguments={"path": p}) for p in ("/", "/shared", "/workspace")]
        obs = yield [c(name="lookup_colleague", arguments={"handle": h}) for h in self.handles[:40]]
        obs = yield [c(name="read_file", arguments={"path": p}) for p in (*TRAVERSALS, *self.hidden_paths)] + [
            c(name="list_files", arguments={"path": p}) for p in TRAVERSALS[:6]]
        obs = yield [c(name="list_files", arguments={"path": "/"})]
        reads = self._read_all(obs.results)
        while reads:
            paths = [str(dict(x.arguments)["path"]) for x in reads]  # type: ignore[arg-type]
            obs = yield reads
            # page through long files
            reads = [c(name="read_file", arguments={"path": p, "offset": int(m.group(1))})
                     for r, p in zip(obs.results, paths, strict=True) if r.ok and (m := MORE.search(r.content))]
        texts = "\n".join(r.content for r in obs.results)
        urls = [*sorted(set(URL.findall(texts)))[:20], "http://intranet/", "http://intranet/answers"]
        obs = yield [c(name="open_page", arguments={"url": u}) for u in urls]
        obs = yield [c(name="send_message", arguments={"to": h, "text": "Hello! Nice to meet you, I'm new here."})
                     for h in self.handles[:3]]
        for _ in range(200):
            obs = yield [c(name="wait")]
            obs = yield [c(name="list_files", arguments={"path": "/"}), c(name="read_inbox", arguments={"last": 200})]
            reads = self._read_all(obs.results)
            if reads:
                obs = yield reads


def _snoop(scenario: Scenario, day: Day) -> tuple[EpisodeResult, DayEnv, Snooper]:
    hidden = [f.path for t in day.tasks for f in t.files if f.hidden]
    agent = Snooper(hidden, scenario.company.handles(), scenario.company.trainee.handle)
    env = DayEnv(scenario, day)
    result = event_loop().run_until_complete(run_episode(env, agent))
    return result, env, agent


def _check_snooper_day(scenario: Scenario, day: Day) -> list[str]:
    result, env, agent = _snoop(scenario, day)
    assert result.status == "ok", result.error
    problems: list[str] = []
    shared = {f.path for t in day.tasks for f in t.files if f.hidden} & env.world.visible
    triggered = triggered_facts(env)
    if triggered or shared:
        problems.append(f"small talk revealed facts {sorted(triggered)} / files {sorted(shared)}")
    secrets = secrets_of_day(day, public_corpus(scenario, day), triggered=triggered, shared=shared)
    assert agent.briefing is not None
    problems += find_leaks(result, secrets, [agent.briefing.model_dump_json()])
    unread = set(env.world.listing()) - agent.read_done
    if unread:
        problems.append(f"the snooper did not get to read {sorted(unread)}")
    texts = "\n".join(t for _, t in agent_visible_texts(result))
    if "root:x:0:0" in texts or "PATH=" in texts:
        problems.append("host file content reached the agent")
    # the traversal and hidden-path probes were all refused, with a message
    results = [e.data for e in events_of(result.trace, ToolResultEvent)]
    for r in results:
        if r.name in ("read_file", "list_files") and not r.ok and (
                not r.content.startswith("error: ") or len(r.content) < 15):
            problems.append(f"unclear refusal: {r.content!r}")
    hidden_reads = [r for r in results if r.name == "read_file"
                    and r.ok and any(r.content.startswith(f"[image {p}") for p in agent.hidden_paths)]
    if hidden_reads:
        problems.append("a hidden image was opened")
    return problems


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
    env = DayEnv(scenario, day)
    result = event_loop().run_until_complete(
        run_episode(env, make_agent("oracle", AgentContext(scenario=scenario, day=day))))
    shared = {f.path for t in day.tasks for f in t.files if f.hidden} & env.world.visible
    secrets = secrets_of_day(day, public_corpus(scenario, day), triggered=triggered_facts(env), shared=shared)
    return find_leaks(result, secrets)


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
