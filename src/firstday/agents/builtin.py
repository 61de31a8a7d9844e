"""Built-in agents: ``oracle`` (privileged plan replay), ``heuristic`` (public-information baseline),
``guess`` (answers without exploring) and ``noop`` (does nothing). The test adversary ``spray`` lives in
:mod:`firstday.agents.adversaries`."""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any, Literal

from firstday.agents._paths import DRIVE_PATH
from firstday.agents.base import AgentContext, PublicContext
from firstday.env.episode import Briefing, Observation
from firstday.seeding import make_rng
from firstday.suites.schedule import (
    MEETING_JOIN_WINDOW,
    attend_target,
    oracle_due,
    oracle_priority_key,
    wait_target,
)
from firstday.tasks.family import BaselineView, get_family
from firstday.tasks.model import TaskInstance
from firstday.timefmt import fmt
from firstday.trusted import trusted
from firstday.world.assets import PublicTask
from firstday.world.company import Company
from firstday.world.records import Notification
from firstday.world.tools import ToolCall, ToolResult

MAX_REFERRAL_HOPS = 2  # referrals a subclass may follow per task (``_TaskWorker._referrals``)


def _copy_arguments(arguments: dict[str, Any] | str) -> dict[str, Any] | str:
    # what validating ToolCall(arguments=...) did: a shallow copy of a dict (a string is immutable)
    return dict(arguments) if isinstance(arguments, dict) else arguments


class NoopAgent:
    name = "noop"

    def __init__(self, ctx: PublicContext | None = None) -> None:
        pass

    async def reset(self, briefing: Briefing) -> None:
        return None

    async def act(self, observation: Observation) -> list[ToolCall]:
        return []


class OracleAgent:
    """Replays each task's solution through the public tools, one call per turn.

    Policy: attend required meetings as they start; otherwise work on the arrived task with the
    earliest deadline (urgent first among equal deadlines; a task others build on is due in time for their
    work: ``oracle_due``), one step at a time, a task only once the tasks it builds on are done; on a day with
    more work than fits, only the tasks of the day's best schedule (``Day.skipped`` are left undone).

    With ``order="fifo"`` (``oracle-fifo``) the plans and the meeting policy are the same, but the task
    worked on is the earliest arrived whose next step can be taken (so a later arrival, urgent or not,
    never pre-empts an earlier one), and every task is worked on: it does not know the best schedule.
    """

    name = "oracle"
    privileged = True  # it reads the day's instances: it is built from the full AgentContext

    def __init__(self, ctx: AgentContext, order: Literal["deadline", "fifo"] = "deadline") -> None:
        self.day = ctx.day
        self.order = order
        # on a day with more work than fits, the tasks the best schedule leaves undone are not started
        skipped = set(ctx.day.skipped) if order == "deadline" else set()
        self.tasks = {t.task_id: t for t in ctx.day.tasks if t.task_id not in skipped}
        self.pos = dict.fromkeys(self.tasks, 0)
        self.due = oracle_due(list(self.tasks.values()), ctx.scenario.company)
        # per task, per plan step: (meeting it attends, clock time it waits until), read on every turn
        self.targets = {tid: [(attend_target(c), wait_target(c)) for c in t.solution] for tid, t in self.tasks.items()}
        self.arrived: list[str] = []
        self.awaiting: dict[str, int] = {}  # colleague -> direct replies still to come
        meetings = [*ctx.day.meetings, *(m for t in ctx.day.tasks for m in t.meetings)]
        self.meetings = sorted((m.start, m.end, m.meeting_id) for m in meetings if m.trainee_required)
        self.required = {m[2] for m in self.meetings}
        self.attended: set[str] = set()
        self.waiting_until: int | None = None  # a plan's wait(minutes=...) in progress ends then
        self.waiting_for: str | None = None  # a plan's wait(for_message_from=...) in progress

    async def reset(self, briefing: Briefing) -> None:
        return None

    def _note(self, notes: list[Notification]) -> None:
        for n in notes:
            if n.kind in ("task", "interruption") and n.task_id in self.tasks and n.task_id not in self.arrived:
                self.arrived.append(n.task_id)
            if n.kind == "message" and n.sender and n.task_id is None and self.awaiting.get(n.sender):
                self.awaiting[n.sender] -= 1

    def _order_key(self, task: TaskInstance) -> tuple[int, int | str]:
        if self.order == "fifo":
            return (task.arrival, task.task_id)
        return oracle_priority_key(task.priority, self.due[task.task_id])

    def _blocked(self, task_id: str, now: int) -> bool:
        """A task whose next step attends a required meeting waits until the meeting policy has attended it;
        one whose next step waits until a clock time (``wait(until=...)``) waits for that time; a task building on
        others waits until their plans are done."""
        if any(d not in self.tasks or self.pos[d] < len(self.tasks[d].solution)
               for d in self.tasks[task_id].depends_on):
            return True
        mid, until = self.targets[task_id][self.pos[task_id]]
        return (mid is not None and mid in self.required and mid not in self.attended) or (
            until is not None and now < until)

    async def act(self, observation: Observation) -> list[ToolCall]:
        self._note(observation.notifications)
        now = observation.time
        # a plan's wait that an urgent arrival cut short is waited out: the plan counts on its full length
        # (replies it expects), and the generator's simulation of this policy does too
        if self.waiting_until is not None and now < self.waiting_until:
            return [trusted(ToolCall, {"name": "wait", "arguments": {"until": fmt(self.waiting_until)}, "id": ""})]
        self.waiting_until = None
        if self.waiting_for is not None and self.awaiting.get(self.waiting_for):
            return [trusted(ToolCall, {"name": "wait", "arguments": {"for_message_from": self.waiting_for}, "id": ""})]
        self.waiting_for = None
        self.meetings = [m for m in self.meetings if m[1] > now]
        if self.meetings and self.meetings[0][0] - now <= MEETING_JOIN_WINDOW:
            _, _, mid = self.meetings.pop(0)
            self.attended.add(mid)
            return [trusted(ToolCall, {"name": "attend_meeting", "arguments": {"meeting_id": mid}, "id": ""})]
        while True:
            ready = [self.tasks[t] for t in self.arrived if self.pos[t] < len(self.tasks[t].solution)
                     and not self._blocked(t, now)]
            if not ready:
                break
            task = min(ready, key=self._order_key)
            attends, until = self.targets[task.task_id][self.pos[task.task_id]]
            call = task.solution[self.pos[task.task_id]]
            self.pos[task.task_id] += 1
            if attends in self.required or until is not None:
                continue  # attended by the meeting policy above / the awaited time has come
            args = call.arguments if isinstance(call.arguments, dict) else {}
            if call.name == "wait" and args.get("for_message_from") and not self.awaiting.get(args["for_message_from"]):
                continue  # the reply is already here
            if call.name == "send_message":
                to = args.get("to")
                for h in [to] if isinstance(to, str) else list(to or []):
                    self.awaiting[h] = self.awaiting.get(h, 0) + 1
            elif call.name == "wait" and isinstance(args.get("minutes"), int):
                self.waiting_until = now + args["minutes"]
            elif call.name == "wait" and isinstance(args.get("for_message_from"), str):
                self.waiting_for = args["for_message_from"]
            # a new call from the plan's (validated when the suite was loaded); its arguments are a copy, as
            # the toolbox and the trace may hold them
            return [trusted(ToolCall, {"name": call.name, "arguments": _copy_arguments(call.arguments),
                                       "id": f"o{task.task_id}-{self.pos[task.task_id]}"})]
        upcoming = [t.arrival for t in self.day.tasks if t.task_id not in self.arrived]
        upcoming += [u for t in self.arrived if self.pos[t] < len(self.tasks[t].solution)
                     and (u := self.targets[t][self.pos[t]][1]) is not None]
        if self.meetings:
            upcoming.append(self.meetings[0][0] - MEETING_JOIN_WINDOW)
        upcoming = [u for u in upcoming if u > now]
        if not upcoming:
            return [trusted(ToolCall, {"name": "end_day", "arguments": {}, "id": ""})]
        return [trusted(ToolCall, {"name": "wait", "arguments": {"until": fmt(min(upcoming))}, "id": ""})]


class FifoOracleAgent(OracleAgent):
    """The oracle's plans in arrival order, without pre-emption and without the best schedule's choice of
    tasks: the privileged pair that shows what order alone is worth at full competence."""

    name = "oracle-fifo"

    def __init__(self, ctx: AgentContext) -> None:
        super().__init__(ctx, order="fifo")


class _TaskWorker:
    """Shared by the heuristic and guessing agents: per-task generators of tool calls."""

    name = "base"

    def __init__(self, ctx: PublicContext, explore: bool, order: str = "priority") -> None:
        self.explore = explore
        # "priority": urgent first, then by deadline, and an urgent arrival pre-empts the task in hand
        # (which is resumed later where it stopped); "fifo": in arrival order, each task finished before the next
        self.order = order
        self.suspended: dict[str, ToolResult | None] = {}  # pre-empted task -> the result it has not seen yet
        self.current_task: PublicTask | None = None
        self.company: Company = ctx.company  # the directory, as the tools show it
        self.seed = ctx.seed
        self.queue: list[PublicTask] = []
        self.workers: dict[str, Generator[ToolCall, ToolResult | None, None]] = {}
        self.waiting_on_gen = False
        self.stash: ToolResult | None = None
        self.current: str | None = None
        self.replies: dict[str, list[str]] = {}
        self.meetings: list[tuple[str, int]] = []
        self.hints: dict[str, str] = {}  # task id -> the hint text that came with the task (EnvConfig.hints)

    async def reset(self, briefing: Briefing) -> None:
        return None

    def _note(self, notes: list[Notification]) -> None:
        for n in notes:
            if n.kind in ("task", "interruption") and n.task is not None:
                self.queue.append(n.task)
            elif n.kind == "message" and n.sender and n.task_id is None:
                self.replies.setdefault(n.sender, []).append(n.text)
            elif n.kind == "meeting":
                m2 = re.search(r"\(([\w.-]+)\) in room", n.text)
                if m2:
                    self.meetings.append((m2.group(1), n.time))

    def _extra_sources(self, task: PublicTask) -> tuple[list[str], list[str]]:
        """Extra (file paths to read, colleague handles to ask) for ``task`` beyond what its objective names:
        the one place they come from (a subclass extends it by calling super()). Default: parsed from the
        task's hint, if one came with it (paths by ``DRIVE_PATH``, handles of colleagues in the directory)."""
        text = self.hints.get(task.task_id, "")
        if not text:
            return [], []
        paths = [p for p in dict.fromkeys(DRIVE_PATH.findall(text)) if "." in p.rsplit("/", 1)[-1]]
        handles = [e.handle for e in self.company.employees
                   if re.search(rf"(?<![\w.]){re.escape(e.handle)}(?![\w])", text)]
        # a department the hint names ("a colleague in Finance"): its head, as for the objective
        handles += [d.head for d in self.company.departments
                    if re.search(rf"\bin {re.escape(d.name)}\b", text) and d.head not in handles]
        return paths, handles

    def _wants_file(self, task: PublicTask, path: str) -> bool:
        """Whether to read the listed file ``path`` for ``task`` although neither the objective nor the
        manual-name rule points at it (a subclass's extra words to match file names). Default: no."""
        return False

    def _referrals(self, task: PublicTask, source: str, text: str) -> list[str]:
        """Colleagues that ``text`` points to, to be asked about ``task``: ``source`` is a file read for the
        task (before the first questions) or a colleague whose reply it is (then at most
        ``MAX_REFERRAL_HOPS`` more hops). Default: none (the plain heuristic follows no referrals)."""
        return []

    def _work(self, task: PublicTask) -> Generator[ToolCall, ToolResult | None, None]:
        objective = task.objective
        view = BaselineView(task_id=task.task_id, objective=objective, requester=task.requester,
                            company=self.company, rng=make_rng(self.seed, task.task_id, "baseline"))
        if self.explore:
            extra_paths, extra_people = self._extra_sources(task)
            listing = yield ToolCall(name="list_files", arguments={"path": "/"})
            paths = set(DRIVE_PATH.findall(objective)) | set(extra_paths)
            words = {w for w in re.findall(r"[a-z]{4,}", objective.lower())}
            for p in (listing.content.splitlines() if listing and listing.ok else []):
                name = p.rsplit("/", 1)[-1].lower()
                if (any(k in name for k in ("manual", "handbook", "policy", "guide", "rules")) and
                        any(w in p.lower() for w in words)) or self._wants_file(task, p):
                    paths.add(p)
            for p in sorted(paths):
                res = yield ToolCall(name="read_file", arguments={"path": p})
                if res is not None and res.ok:
                    view.texts[p] = res.content
            # ask the people and department heads the objective names (referrals: only as `_referrals` says)
            people = [e.handle for e in self.company.employees
                      if e.handle in objective or e.name in objective]
            for d in self.company.departments:
                if re.search(rf"\b{re.escape(d.name)}\b", objective) and d.head not in people:
                    people.append(d.head)
            asked = []
            people = people[:4] + [h for h in extra_people if h not in people[:4] and h != self.company.trainee.handle]
            pointed = dict.fromkeys(r for p in list(view.texts) for r in self._referrals(task, p, view.texts[p]))
            people += [r for r in pointed if r not in people and r != self.company.trainee.handle]
            for h in people:
                res = yield ToolCall(name="send_message", arguments={"to": h, "text": objective})
                if res is not None and res.ok:
                    asked.append(h)
            for _ in range(1 + MAX_REFERRAL_HOPS):
                for h in asked:
                    res = yield ToolCall(name="wait", arguments={"for_message_from": h})
                    while res is not None and res.ok and "interrupted by urgent task" in res.content:
                        res = yield ToolCall(name="wait", arguments={"for_message_from": h})  # wait it out
                for h in asked:
                    text = "\n".join(self.replies.get(h, []))
                    view.texts[h] = text
                    for p in sorted(set(DRIVE_PATH.findall(text)) - set(view.texts)):
                        res = yield ToolCall(name="read_file", arguments={"path": p})
                        if res is not None and res.ok:
                            view.texts[p] = res.content
                referred = dict.fromkeys(r for h in asked for r in self._referrals(task, h, view.texts[h])
                                         if r not in view.texts and r != self.company.trainee.handle)
                asked = []
                for h in referred:
                    res = yield ToolCall(name="send_message", arguments={"to": h, "text": objective})
                    if res is not None and res.ok:
                        asked.append(h)
                if not asked:
                    break
        fam = get_family(task.category)
        # not `yield from`: act() sends tool results into this generator, and a list iterator has no send()
        for call in fam.baseline(view):  # noqa: UP028
            yield call

    async def act(self, observation: Observation) -> list[ToolCall]:
        self.hints.update({h.task_id: h.text for h in observation.hints})
        self._note(observation.notifications)
        last = observation.results[-1] if observation.results else None
        result = last if self.waiting_on_gen else None
        self.waiting_on_gen = False
        if self.meetings:
            mid, _ = self.meetings.pop(0)
            if self.current is not None and result is not None:
                self.stash = result  # hand it to the task's generator after the meeting
            return [ToolCall(name="attend_meeting", arguments={"meeting_id": mid})]
        if result is None and self.stash is not None:
            result, self.stash = self.stash, None
        rank = {"urgent": 0, "normal": 1, "low": 2}
        if self.order == "fifo":
            self.queue.sort(key=lambda q: (q.arrival, q.task_id))
        else:
            self.queue.sort(key=lambda q: (rank.get(q.priority, 1), q.deadline, q.arrival))
            current = self.current_task
            if current is not None and self.queue and rank[self.queue[0].priority] < rank[current.priority]:
                # an urgent task came in: put the task in hand aside, with the result it is owed
                self.suspended[current.task_id] = result
                self.queue.append(current)
                self.current, self.current_task, result = None, None, None
        while True:
            if self.current is None:
                if not self.queue:
                    return []
                task = self.queue.pop(0)
                self.current, self.current_task = task.task_id, task
                if task.task_id in self.suspended:  # resumed where it stopped
                    result = self.suspended.pop(task.task_id)
                else:
                    self.workers[task.task_id] = self._work(task)
                    result = None
            gen = self.workers[self.current]
            try:
                call = gen.send(result) if result is not None else next(gen)
            except StopIteration:
                self.current, self.current_task = None, None
                result = None
                continue
            self.waiting_on_gen = True
            return [call]


class HeuristicAgent(_TaskWorker):
    """Reads manuals the objective points at, asks the colleagues it names, submits its best effort; works
    urgent tasks first, then by deadline, and lets an urgent arrival pre-empt the task in hand."""

    name = "heuristic"

    def __init__(self, ctx: PublicContext) -> None:
        super().__init__(ctx, explore=True)


class FifoHeuristicAgent(_TaskWorker):
    """The heuristic's competence with the simplest order: tasks in arrival order, each finished before the
    next, urgent ones included (the scheduling dimension must tell it from the heuristic)."""

    name = "heuristic-fifo"

    def __init__(self, ctx: PublicContext) -> None:
        super().__init__(ctx, explore=True, order="fifo")


class GuessAgent(_TaskWorker):
    """Answers every task at once from the objective alone: the unsupported-answer rate must catch it."""

    name = "guess"

    def __init__(self, ctx: PublicContext) -> None:
        super().__init__(ctx, explore=False)
