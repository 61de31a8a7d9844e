"""The oracle's schedule of a day: its policy simulated step by step, and the best achievable schedule.

A day can hold more work than fits (``SuiteSpec.load`` above 1). Then the generator computes which tasks a
perfect trainee should finish: the set of the largest priority weight that (a) passes the interval condition
that any schedule must meet (for every window from one task's arrival to another's deadline, the work of the
tasks inside it fits in the window: Horn's condition, exact for
preemptive single-machine work; meetings are left to (b), since a step under way when one starts delays
joining it) and (b) the oracle's own policy really finishes on time, step by step. The
search is a branch and bound over the tasks, heaviest first; it says whether the optimum is proven (no set of
larger weight passed (a) while failing (b)).
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from firstday.errors import GenerationError
from firstday.tasks.model import TaskInstance
from firstday.timefmt import parse
from firstday.world.assets import PRIORITY_WEIGHT, MeetingAsset
from firstday.world.company import Company
from firstday.world.records import Attendance, DayRecord, Meeting
from firstday.world.tools import DEFAULT_COSTS, GROUP_MESSAGE_COST, ToolCall

MEETING_JOIN_WINDOW = 6  # the oracle leaves its task work this many minutes before a required meeting
DEADLINE_MARGIN = 5  # the simulated oracle must finish this many minutes before a deadline it is set by
BEST_MARGIN = 1  # on an overloaded day, a kept task is submitted at least this many minutes before its deadline
DAY_MINUTES = 24 * 60
SEARCH_NODES = 5_000  # nodes of the bound's branch and bound per day; past them the bound is not proven
SWAP_SIMULATIONS = 60  # simulations the local search after shedding may spend per day


def oracle_priority_key(priority: str, deadline: int) -> tuple[int, int]:
    """The oracle's ordering: earliest deadline first, urgent work first among equal deadlines (shared with the
    simulator). Deadline order is what meets every deadline that can be met when work can be interleaved.
    ``deadline`` is the task's due time (:func:`oracle_due`)."""
    return (deadline, 0 if priority == "urgent" else 1)


_WINDOW_ENDS: dict[int, tuple[list[Any], list[int]]] = {}  # id of a task's checkpoints -> (them, window ends)


def respond_by(task: TaskInstance) -> int:
    """The time the oracle orders a task by: its deadline, or the end of an earlier window in which one of its
    checks must be met (``status_watch``: an alert within 30 minutes of the refresh showing the breach, while
    the report is due later). Ordered by the deadline alone, such a task waited behind work due before the
    deadline, and on a loaded day its alert went out after the window."""
    ends = _WINDOW_ENDS.get(id(task.checkpoints))
    if ends is None or ends[0] is not task.checkpoints:  # (asked on every step of the simulations: kept)
        ends = _WINDOW_ENDS[id(task.checkpoints)] = (task.checkpoints, [
            start + within for cp in task.checkpoints
            if (within := getattr(cp.check, "within_minutes", None)) is not None
            and (start := getattr(cp.check, "visible_from", None) or getattr(cp.check, "since", None)) is not None])
        if len(_WINDOW_ENDS) > 4096:
            _WINDOW_ENDS.clear()
            _WINDOW_ENDS[id(task.checkpoints)] = ends
    return min([task.deadline, *ends[1]])


def attend_target(call: ToolCall) -> str | None:
    """The meeting id if ``call`` attends a meeting (the oracle attends required meetings by policy)."""
    if call.name != "attend_meeting" or not isinstance(call.arguments, dict):
        return None
    mid = call.arguments.get("meeting_id")
    return mid if isinstance(mid, str) else None


def wait_target(call: ToolCall) -> int | None:
    """The clock time if ``call`` is a plan step ``wait(until='HH:MM')``: the task cannot go on before then
    (e.g. a dashboard refreshes at that time). The oracle works on other tasks meanwhile, as a person would."""
    if call.name != "wait" or not isinstance(call.arguments, dict):
        return None
    until = call.arguments.get("until")
    if not isinstance(until, str):
        return None
    try:
        return parse(until)
    except ValueError:
        return None


@dataclass(frozen=True)
class Step:
    """One plan step as the world spends it (not an estimate): what the oracle's policy waits for and how long."""

    cost: int = 0  # minutes the call itself takes: its tool's cost (a group message costs more)
    replies: tuple[tuple[str, int], ...] = ()  # a message: (recipient, their reply delay), the reply due then
    awaits: str | None = None  # wait(for_message_from=...): until every reply pending from this colleague is in
    attends: str | None = None  # attend_meeting: done by the meeting policy
    until: int | None = None  # wait(until=...): the task cannot go on before then


def plan_steps(task: TaskInstance, company: Company) -> list[Step]:
    """``task``'s plan as :class:`Step` s. A colleague's reply is due ``reply_delay`` minutes after the
    message is sent (``World.send`` schedules it at the send's start), so a wait for it lasts what is left of
    the delay when the wait begins, not the whole delay; a meeting lasts what it lasts."""
    out: list[Step] = []
    for call in task.solution:
        args = call.arguments if isinstance(call.arguments, dict) else {}
        if (mid := attend_target(call)) is not None:
            out.append(Step(attends=mid))
        elif (until := wait_target(call)) is not None:
            out.append(Step(until=until))
        elif call.name == "wait":
            who = args.get("for_message_from")
            minutes = args.get("minutes")
            out.append(Step(awaits=who) if isinstance(who, str) and who
                       else Step(cost=minutes if isinstance(minutes, int) else 0))
        elif call.name == "send_message":
            to = args.get("to")
            recipients = list(dict.fromkeys([to] if isinstance(to, str) else list(to or [])))
            out.append(Step(cost=DEFAULT_COSTS["send_message"] if len(recipients) == 1 else GROUP_MESSAGE_COST,
                            replies=tuple((h, company.employee(h).reply_delay) for h in recipients)))
        else:
            out.append(Step(cost=DEFAULT_COSTS.get(call.name, 1)))
    return out


def _work_of(steps: Sequence[Step]) -> int:
    """Minutes a task keeps the trainee busy when worked alone from start to end: its calls' costs and the
    rest of each awaited reply's delay (the oracle waits for a reply it needs; meetings and waits for a clock
    time excluded)."""
    now = 0
    due: dict[str, list[int]] = {}
    for step in steps:
        if step.awaits is not None:
            now = max([now, *due.pop(step.awaits, [])])
        elif step.attends is None and step.until is None:
            for h, delay in step.replies:
                due.setdefault(h, []).append(now + delay)
            now += step.cost
    return now


def _work_minutes(task: TaskInstance, company: Company) -> int:
    """Minutes of the trainee's own time a task's plan needs, worked alone: its calls' costs and what is left
    of each awaited reply's delay (meetings and waits for a clock time excluded)."""
    return _work_of(plan_steps(task, company))


def _after_last_wait(steps: Sequence[Step], submit_cost: int) -> tuple[int, int] | None:
    """(u, p) if the plan waits until minute ``u`` and has ``p`` minutes of work after that (the final
    submission's ``submit_cost`` excluded); None if it never waits for a time."""
    last = max((i for i, s in enumerate(steps) if s.until is not None), default=None)
    if last is None:
        return None
    until = steps[last].until
    assert until is not None
    return until, max(0, _work_of(steps[last + 1:]) - submit_cost)


def effort_of(task: TaskInstance, company: Company, steps: Sequence[Step] | None = None) -> int:
    """The trainee's minutes a task takes, as the day's load counts them: its work (:func:`_work_minutes`) plus
    the length of each meeting its plan attends (``TaskInstance.effort_minutes`` is an upper estimate: 60
    minutes a meeting, whole reply delays, idle minutes before a meeting)."""
    lengths = {m.meeting_id: m.end - m.start for m in task.meetings}
    return _work_of(steps if steps is not None else plan_steps(task, company)) + sum(
        lengths.get(mid, 60) for call in task.solution if (mid := attend_target(call)) is not None)


def windows(tasks: Sequence[TaskInstance], work: dict[str, int]) -> dict[str, tuple[int, int]]:
    """Each task's (release, due) under the precedence of ``TaskInstance.depends_on`` among ``tasks``: a task
    cannot start before its prerequisites can be done (release = max(arrival, each prerequisite's release + its
    work)), and a prerequisite must be done in time for the work of the tasks building on it (due =
    min(deadline, each dependent's due - its work)). Without dependencies a window is (arrival, deadline).
    Earliest-due-first over these windows respects precedence and meets every deadline that can be met."""
    if not any(t.depends_on for t in tasks):  # the common case, on every node of the search: no precedence
        return {t.task_id: (t.arrival, t.deadline) for t in tasks}
    by_id = {t.task_id: t for t in tasks}
    dependents: dict[str, list[TaskInstance]] = {t.task_id: [] for t in tasks}
    for t in tasks:
        for d in t.depends_on:
            if d in by_id:
                dependents[d].append(t)
    release: dict[str, int] = {}
    due: dict[str, int] = {}

    def release_of(t: TaskInstance) -> int:
        if t.task_id not in release:
            release[t.task_id] = max([t.arrival, *(release_of(by_id[d]) + work[d] for d in t.depends_on
                                                   if d in by_id)])
        return release[t.task_id]

    def due_of(t: TaskInstance) -> int:
        if t.task_id not in due:
            due[t.task_id] = min([t.deadline, *(due_of(b) - work[b.task_id] for b in dependents[t.task_id])])
        return due[t.task_id]

    return {t.task_id: (release_of(t), due_of(t)) for t in tasks}


def oracle_due(tasks: Sequence[TaskInstance], company: Company,
               steps: dict[str, list[Step]] | None = None) -> dict[str, int]:
    """The due time the oracle orders ``tasks`` by: the deadline, brought forward for a task others build on
    (:func:`windows`), and for a task with an earlier window to act in, to that window's end
    (:func:`respond_by`). Shared by the oracle agent and :func:`simulate_oracle`."""
    if not any(t.depends_on for t in tasks):
        return {t.task_id: respond_by(t) for t in tasks}
    work = {t.task_id: _work_of(steps[t.task_id]) if steps is not None else _work_minutes(t, company)
            for t in tasks}
    by_id = {t.task_id: t for t in tasks}
    return {tid: min(due, respond_by(by_id[tid])) for tid, (_, due) in windows(tasks, work).items()}


def simulate_oracle(tasks: Sequence[TaskInstance], meetings: Sequence[MeetingAsset], company: Company,
                    day_start: int, steps: dict[str, list[Step]] | None = None) -> dict[str, int]:
    """Finish time of each task when worked step by step with the oracle's policy, with the world's true
    durations (:func:`plan_steps`): the result is the minute the oracle agent submits each task. A task is not
    started before the tasks it builds on (``TaskInstance.depends_on``) are finished. ``steps`` (each task's
    :func:`plan_steps`) saves recomputing them when a caller simulates many subsets of a day."""
    if steps is None:
        steps = {t.task_id: plan_steps(t, company) for t in tasks}
    due = oracle_due(tasks, company, steps)
    if any(d not in due for t in tasks for d in t.depends_on):
        raise GenerationError("a task builds on a task that is not in the schedule")
    pos = {t.task_id: 0 for t in tasks}
    finish: dict[str, int] = {}
    pending_meetings = sorted((m.start, m.end, m.meeting_id) for m in meetings if m.trainee_required)
    attended: set[str] = set()
    replies: dict[str, list[int]] = {}  # colleague -> minutes their pending replies arrive (World.send)
    now = day_start

    # per unfinished task, in day order (ties in the policy go to the earlier task): (its id, arrival, policy
    # key, prerequisites, plan steps), read once here: the pick below runs on every step of every simulation
    unfinished = [(t.task_id, t.arrival, oracle_priority_key(t.priority, due[t.task_id]), t.depends_on,
                   steps[t.task_id]) for t in tasks]
    for _ in range(100_000):
        if pending_meetings and pending_meetings[0][0] - now <= MEETING_JOIN_WINDOW:
            _start, end, mid = pending_meetings.pop(0)
            now = max(now, end)
            attended.add(mid)
            continue
        pick = -1  # index in unfinished
        pick_key: tuple[int, int] = (0, 0)
        for i, (cid, arrival, k, deps, cand_steps) in enumerate(unfinished):
            if arrival > now or (pick >= 0 and not k < pick_key):
                continue
            nxt = cand_steps[pos[cid]]
            if (nxt.attends is not None and nxt.attends not in attended) or (
                    nxt.until is not None and now < nxt.until):  # blocked
                continue
            if deps and not all(d in finish for d in deps):
                continue
            pick, pick_key = i, k
        if pick < 0:
            future = [arrival for _, arrival, _, _, _ in unfinished if arrival > now]
            future += [u for cid, arrival, _, _, cand_steps in unfinished if arrival <= now
                       and (u := cand_steps[pos[cid]].until) is not None and u > now]
            if pending_meetings:
                future.append(pending_meetings[0][0] - MEETING_JOIN_WINDOW)
            if not future:
                if unfinished:
                    raise GenerationError("a task waits for a meeting that never takes place")
                return finish
            now = max(now + 1, min(future))
            continue
        tid, _, _, _, task_steps = unfinished[pick]
        step = task_steps[pos[tid]]
        # a step that attends a required meeting was done by the meeting policy, and a wait-until step whose
        # time has come is skipped: neither costs anything more. A wait for a reply lasts until every reply
        # pending from that colleague is in (the oracle waits while it still expects one), none if it is in.
        if step.awaits is not None:
            now = max([now, *replies.pop(step.awaits, [])])
        elif step.attends is None and step.until is None:
            for h, delay in step.replies:
                replies.setdefault(h, []).append(now + delay)
            now += step.cost
        pos[tid] += 1
        if pos[tid] >= len(task_steps):
            finish[tid] = now
            del unfinished[pick]
    raise GenerationError("oracle simulation did not terminate")


@dataclass
class Schedule:
    """The best achievable schedule of a day (see the module docstring)."""

    done: list[str]  # ids of the tasks the best schedule finishes on time
    weight: float  # the priority weight it earns: the tasks done, and what the others earn without work
    total: int  # the priority weight of every task of the day
    proven: bool  # no heavier set passes the interval condition: nothing any schedule does earns more
    finish: dict[str, int] = field(default_factory=dict)  # simulated finish of each task done
    bound: float | None = None  # the relaxation's weight: no schedule earns more (None if the search was cut)

    @property
    def score(self) -> float:
        """The best achievable priority-weighted share of the day (1.0 when everything fits)."""
        return self.weight / self.total if self.total else 1.0


def free_share(task: TaskInstance, meetings: Sequence[MeetingAsset]) -> float:
    """The share of ``task``'s checkpoint weight earned without working on it: by attending, on time, the
    required ``meetings`` (the oracle and ``oracle-fifo`` attend every required meeting, so a
    ``meeting_attend`` task left undone still earns its ``attended`` checkpoint). Each check is evaluated on the
    record of a day where nothing else happens, windowed to the task as scoring does."""
    record = DayRecord(
        meetings={m.meeting_id: Meeting(meeting_id=m.meeting_id, title=m.title, start=m.start, end=m.end,
                                        room=m.room, organizer=m.organizer, attendees=list(m.attendees),
                                        created_at=0, trainee_required=True)
                  for m in meetings if m.trainee_required},
        attendance=[Attendance(meeting_id=m.meeting_id, joined_at=m.start) for m in meetings if m.trainee_required])
    total = sum(cp.weight for cp in task.checkpoints)
    got = 0.0
    for cp in task.checkpoints:
        try:
            if cp.check.evaluate(record, task.task_id, task.answers, task.deadline, since=task.arrival).passed:
                got += cp.weight
        except Exception:  # a check that cannot judge a day without an answer earns nothing there
            continue
    return got / total if total else 0.0


def best_schedule(tasks: Sequence[TaskInstance], meetings: Sequence[MeetingAsset], company: Company,
                  day_start: int, steps: dict[str, list[Step]] | None = None) -> Schedule:
    """The heaviest set of ``tasks`` the oracle can finish by their deadlines (see the module docstring). A
    task left undone still counts what it earns without work (:func:`free_share`): the choice weighs each task
    by what doing it adds."""
    if steps is None:
        steps = {t.task_id: plan_steps(t, company) for t in tasks}
    work = {t.task_id: _work_of(steps[t.task_id]) for t in tasks}
    position = {t.task_id: i for i, t in enumerate(tasks)}
    total = sum(PRIORITY_WEIGHT[t.priority] for t in tasks)
    busy = _busy_prefix([(m.start, m.end) for m in meetings if m.trainee_required])

    def earned(chosen: Sequence[TaskInstance]) -> float:
        ids = {t.task_id for t in chosen}
        return sum(PRIORITY_WEIGHT[t.priority] if t.task_id in ids else free[t.task_id] for t in tasks)

    def in_day_order(chosen: Sequence[TaskInstance]) -> list[TaskInstance]:
        # as the oracle meets them: ties in its policy go to the earlier task
        return sorted(chosen, key=lambda t: position[t.task_id])

    # the simulation is exact (it is the minute the oracle submits: tested), so a kept task need only be submitted
    # a minute before its deadline; a task with an earlier window to act in is held to that window's end as a
    # whole, with the usual margin
    submit_cost = {t.task_id: steps[t.task_id][-1].cost if t.solution and t.solution[-1].name == "submit" else 0
                   for t in tasks}

    def late(t: TaskInstance, finish: dict[str, int]) -> bool:
        if respond_by(t) < t.deadline:
            return finish[t.task_id] + DEADLINE_MARGIN > respond_by(t)
        return finish[t.task_id] - submit_cost[t.task_id] + BEST_MARGIN > t.deadline

    def on_time(chosen: Sequence[TaskInstance]) -> tuple[bool, dict[str, int]]:
        finish = simulate_oracle(in_day_order(chosen), meetings, company, day_start, steps)
        return not any(late(t, finish) for t in chosen), finish

    everything_fits, finish = on_time(tasks)
    if everything_fits:
        return Schedule(done=[t.task_id for t in tasks], weight=total, total=total, proven=True, finish=finish,
                        bound=total)
    free = {t.task_id: PRIORITY_WEIGHT[t.priority] * free_share(t, meetings) for t in tasks}
    gain = {t.task_id: PRIORITY_WEIGHT[t.priority] - free[t.task_id] for t in tasks}
    # Horn's condition on the work before each submission: a task is on time if submitted by its deadline
    before_submit = {tid: w - submit_cost[tid] for tid, w in work.items()}
    later = {t.task_id: after for t in tasks if (after := _after_last_wait(steps[t.task_id], submit_cost[t.task_id]))}
    bound_set, bound, complete = _densest_heaviest(tasks, before_submit, gain, busy, later)
    upper = bound + sum(free.values()) if complete else None
    fits, finish = on_time(bound_set)
    if fits:  # the relaxation's optimum is achievable: nothing heavier can be
        return Schedule(done=[t.task_id for t in in_day_order(bound_set)], weight=earned(bound_set), total=total,
                        proven=complete, finish=finish, bound=upper)
    chosen = _shed_until_on_time(list(tasks), gain, work, on_time, late)
    # shedding from the relaxation's optimum instead may keep a heavier set: the better of the two
    from_bound = _shed_until_on_time(list(in_day_order(bound_set)), gain, work, on_time, late, pool=list(tasks))
    if sum(gain[t.task_id] for t in from_bound) > sum(gain[t.task_id] for t in chosen):
        chosen = from_bound
    chosen = _swap_while_better(chosen, list(tasks), gain, on_time)
    got = sum(gain[t.task_id] for t in chosen)
    _, finish = on_time(chosen)
    return Schedule(done=[t.task_id for t in in_day_order(chosen)], weight=earned(chosen), total=total,
                    proven=complete and got >= bound - 1e-9, finish=finish, bound=upper)


def _busy_prefix(busy: Sequence[tuple[int, int]]) -> list[int]:
    """Minutes of required meetings before each minute of the day (index = minute), for O(1) overlaps."""
    covered = [0] * (DAY_MINUTES + 1)
    for start, end in busy:
        for minute in range(max(0, start), min(end, DAY_MINUTES)):
            covered[minute] = 1
    prefix = [0] * (DAY_MINUTES + 1)
    for minute in range(DAY_MINUTES):
        prefix[minute + 1] = prefix[minute] + covered[minute]
    return prefix


def _dense_enough(chosen: Sequence[TaskInstance], work: dict[str, int], busy: Sequence[int] | None = None,
                  added: TaskInstance | None = None, later: dict[str, tuple[int, int]] | None = None) -> bool:
    """Horn's condition over the tasks' windows under precedence (:func:`windows`): for every window from a
    release to a due time, the work of the tasks whose windows lie inside it, and the minutes of required
    meetings inside it (``busy``: :func:`_busy_prefix`), fit in it. A task of ``later`` (id -> (u, p)) cannot do
    its last ``p`` minutes of work before minute ``u`` (its plan waits for that time: a dashboard's refresh), so
    it counts as two pieces: its first part due ``p`` minutes before its due time, the rest released at ``u``.
    ``added``: the set without it passed and no task builds on another, so only the windows around
    ``added``'s pieces need checking."""
    span = windows(chosen, work)
    pieces: list[tuple[str, int, int, int]] = []  # (task id, release, due, work)
    for tid, (r, d) in span.items():
        u, p = (later or {}).get(tid, (r, 0))
        if p > 0:
            pieces += [(tid, r, d - p, work[tid] - p), (tid, max(r, u), d, p)]
        else:
            pieces.append((tid, r, d, work[tid]))
    if any(d - r < w for _, r, d, w in pieces):
        return False
    items = sorted(((r, d, w) for _, r, d, w in pieces), key=lambda x: -x[0])
    dues = sorted({d for _, d, _ in items})
    lo, hi = DAY_MINUTES, 0
    if added is not None and not any(t.depends_on for t in chosen):
        own = [(r, d) for tid, r, d, _ in pieces if tid == added.task_id]
        lo, hi = max(r for r, _ in own), min(d for _, d in own)
    inside: list[tuple[int, int]] = []  # (due, work) of the tasks released at or after r, by due
    k = 0
    for r in sorted({r for r, _, _ in items}, reverse=True):
        while k < len(items) and items[k][0] >= r:
            insort(inside, (items[k][1], items[k][2]))
            k += 1
        if added is not None and r > lo:
            continue
        total = j = 0
        for d in dues:
            while j < len(inside) and inside[j][0] <= d:
                total += inside[j][1]
                j += 1
            if d <= r or (added is not None and d < hi):
                continue
            meetings = busy[min(d, DAY_MINUTES)] - busy[min(r, DAY_MINUTES)] if busy is not None else 0
            if meetings + total > d - r:
                return False
    return True


def _densest_heaviest(tasks: Sequence[TaskInstance], work: dict[str, int], weight: dict[str, float],
                      busy: Sequence[int] | None = None, later: dict[str, tuple[int, int]] | None = None,
                      ) -> tuple[list[TaskInstance], float, bool]:
    """The heaviest set passing Horn's condition (an upper bound on what any schedule finishes), by branch and
    bound, heaviest and shortest tasks first (a task after the tasks it builds on: it is chosen only with
    them); ``complete`` is False if the node budget ran out first."""
    order = _prerequisites_first(sorted(tasks, key=lambda t: (-weight[t.task_id], work[t.task_id], t.task_id)))
    # the bound of a node: what is chosen, plus the rest packed fractionally, best weight per minute first, into
    # the minutes left between the first arrival and the last deadline (meetings out): Horn's condition on that
    # one window, relaxed
    first = min((t.arrival for t in tasks), default=0)
    last = max((t.deadline for t in tasks), default=0)
    span = last - first - ((busy[min(last, DAY_MINUTES)] - busy[min(first, DAY_MINUTES)]) if busy is not None else 0)
    by_density = [sorted(order[i:], key=lambda t: -weight[t.task_id] / max(1, work[t.task_id]))
                  for i in range(len(order) + 1)]

    def fractional(i: int, minutes: int) -> float:
        got = 0.0
        for t in by_density[i]:
            if minutes <= 0:
                break
            w = work[t.task_id]
            take = min(1.0, minutes / w) if w > 0 else 1.0
            got += take * weight[t.task_id]
            minutes -= w
        return got

    best: list[TaskInstance] = []
    best_weight = -1.0
    nodes = 0

    def search(i: int, chosen: list[TaskInstance], got: float) -> None:
        nonlocal best, best_weight, nodes
        nodes += 1
        left = span - sum(work[t.task_id] for t in chosen)
        if nodes > SEARCH_NODES or got + fractional(i, left) <= best_weight + 1e-9:
            return
        if i == len(order):
            best, best_weight = list(chosen), got
            return
        ids = {t.task_id for t in chosen}
        if all(d in ids for d in order[i].depends_on):
            chosen.append(order[i])
            if _dense_enough(chosen, work, busy, added=order[i], later=later):
                search(i + 1, chosen, got + weight[order[i].task_id])
            chosen.pop()
        search(i + 1, chosen, got)

    search(0, [], 0.0)
    return best, max(best_weight, 0.0), nodes <= SEARCH_NODES


def _swap_while_better(chosen: list[TaskInstance], tasks: list[TaskInstance], gain: dict[str, float],
                       on_time: Callable[[Sequence[TaskInstance]], tuple[bool, dict[str, int]]],
                       budget: int = SWAP_SIMULATIONS) -> list[TaskInstance]:
    """Local search after shedding: put a left-out task in for a lighter kept one (with the tasks building on
    it) while the oracle's policy still finishes every kept task on time; the first improving swap is taken,
    heaviest left-out task first, and the search goes on from there until no swap improves or ``budget``
    simulations are spent."""
    def closure(gone: set[str], among: Sequence[TaskInstance]) -> set[str]:
        for t in among:  # in day order: a task building on a removed one goes with it
            if gone.intersection(t.depends_on):
                gone.add(t.task_id)
        return gone

    improved = True
    while improved and budget > 0:
        improved = False
        ids = {t.task_id for t in chosen}
        outside = sorted((t for t in tasks if t.task_id not in ids and all(d in ids for d in t.depends_on)),
                         key=lambda t: (-gain[t.task_id], t.task_id))
        for add in outside:
            for out in sorted(chosen, key=lambda t: (gain[t.task_id], t.task_id)):
                gone = closure({out.task_id}, chosen)
                if add.task_id in gone or any(d in gone for d in add.depends_on):
                    continue
                if sum(gain[t] for t in gone) >= gain[add.task_id] - 1e-9:
                    break  # the kept tasks are in order of gain: no lighter one is left to give up
                budget -= 1
                trial = [t for t in chosen if t.task_id not in gone] + [add]
                if on_time(trial)[0]:
                    chosen, improved = trial, True
                    break
                if budget <= 0:
                    return chosen
            if improved:
                break
    return chosen


def _prerequisites_first(order: list[TaskInstance]) -> list[TaskInstance]:
    """``order`` with every task moved after the tasks it builds on (otherwise in the given order)."""
    out: list[TaskInstance] = []
    placed: set[str] = set()
    known = {t.task_id for t in order}
    pending = list(order)
    while pending:
        t = next(x for x in pending if all(d in placed or d not in known for d in x.depends_on))
        pending.remove(t)
        out.append(t)
        placed.add(t.task_id)
    return out


def _shed_until_on_time(chosen: list[TaskInstance], weight: dict[str, float], work: dict[str, int],
                        on_time: Callable[[Sequence[TaskInstance]], tuple[bool, dict[str, int]]],
                        late: Callable[[TaskInstance, dict[str, int]], bool],
                        pool: Sequence[TaskInstance] = ()) -> list[TaskInstance]:
    """A feasible set by shedding work (Moore-Hodgson's rule, weighted): while a task is late, drop, among
    the tasks due no later than it, the one with the least weight per minute of work (and the tasks building on
    it); then take back, heaviest first, every dropped task (and every task of ``pool`` not in ``chosen``) that
    still fits (and whose prerequisites are in)."""
    dropped: list[TaskInstance] = [t for t in pool if t.task_id not in {c.task_id for c in chosen}]
    while True:
        fits, finish = on_time(chosen)
        if fits:
            break
        first_late = min((t for t in chosen if late(t, finish)), key=lambda t: (respond_by(t), t.task_id))
        earlier = [t for t in chosen if respond_by(t) <= respond_by(first_late)]
        victim = min(earlier, key=lambda t: (weight[t.task_id] / max(1, work[t.task_id]), -work[t.task_id], t.task_id))
        gone = {victim.task_id}
        for t in chosen:  # in day order: a task building on a dropped one is dropped with it
            if gone.intersection(t.depends_on):
                gone.add(t.task_id)
        dropped += [t for t in chosen if t.task_id in gone]
        chosen = [t for t in chosen if t.task_id not in gone]
    taken_back = True
    while taken_back:  # a task whose prerequisite came back on a later pass may fit then
        taken_back = False
        for t in sorted(dropped, key=lambda t: (-weight[t.task_id], work[t.task_id], t.task_id)):
            ids = {c.task_id for c in chosen}
            if all(d in ids for d in t.depends_on) and on_time([*chosen, t])[0]:
                chosen.append(t)
                dropped.remove(t)
                taken_back = True
    return chosen
