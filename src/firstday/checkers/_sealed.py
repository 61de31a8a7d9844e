"""Sealed: nothing an agent's tools can reach holds a family's answers, checkpoint definitions, untriggered
facts, hidden files or the oracle plan.

The hidden side of a day (``TaskInstance.answers``, checkpoints, the oracle plan, hidden files, facts) is
turned into "secret" strings, minus anything that is legitimately public anyway (visible files, pages,
meeting notes, objectives, the directory), and every text an agent is shown during a whole day is searched
for them: the :class:`Snooper`'s (it reads everything it can reach without asking anyone about a task) and
the oracle's (it asks exactly the right questions, and must be shown only the answers to them).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Generator, Iterable

from firstday.checkers._days import agent_visible_texts, run_day, string_values
from firstday.env import Briefing, DayEnv, EpisodeResult, Observation, events_of
from firstday.env.trace import ObservationEvent, ToolCallEvent, ToolResultEvent
from firstday.suites import Day, Scenario
from firstday.world import ToolCall, ToolResult

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


def snooper_problems(scenario: Scenario, day: Day, *, loop: asyncio.AbstractEventLoop | None = None) -> list[str]:
    """Run the :class:`Snooper` through a day: the secrets of the day it was shown, host files that reached
    it, unclear refusals, hidden images it opened (empty: none)."""
    hidden = [f.path for t in day.tasks for f in t.files if f.hidden]
    agent = Snooper(hidden, scenario.company.handles(), scenario.company.trainee.handle)
    env = DayEnv(scenario, day)
    result = run_day(agent, scenario, day, env=env, loop=loop)
    if result.status != "ok":
        return [f"the snooper's episode ended with status {result.status}: {result.error}"]
    problems: list[str] = []
    shared = {f.path for t in day.tasks for f in t.files if f.hidden} & env.world.visible
    triggered = triggered_facts(env)
    if triggered or shared:
        problems.append(f"small talk revealed facts {sorted(triggered)} / files {sorted(shared)}")
    secrets = secrets_of_day(day, public_corpus(scenario, day), triggered=triggered, shared=shared)
    briefing = agent.briefing.model_dump_json() if agent.briefing is not None else ""
    problems += find_leaks(result, secrets, [briefing])
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
    hidden_reads = [r for r in results if r.name == "read_file" and r.ok
                    and any(r.content.startswith(f"[image {p}") for p in agent.hidden_paths)]
    if hidden_reads:
        problems.append("a hidden image was opened")
    return problems


def oracle_leaks(scenario: Scenario, day: Day, *, loop: asyncio.AbstractEventLoop | None = None) -> list[str]:
    """Even the oracle, asking exactly the right questions, is shown nothing beyond the answers to them: no
    other colleague's card, no unshared file, no checkpoint, no answer it did not derive itself (empty:
    nothing leaked)."""
    env = DayEnv(scenario, day)
    result = run_day("oracle", scenario, day, env=env, loop=loop)
    shared = {f.path for t in day.tasks for f in t.files if f.hidden} & env.world.visible
    secrets = secrets_of_day(day, public_corpus(scenario, day), triggered=triggered_facts(env), shared=shared)
    return find_leaks(result, secrets)
