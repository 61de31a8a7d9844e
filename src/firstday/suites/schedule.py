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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from firstday.errors import GenerationError
from firstday.tasks.family import step_minutes
from firstday.tasks.model import TaskInstance
from firstday.timefmt import parse
from firstday.world.assets import PRIORITY_WEIGHT, MeetingAsset
from firstday.world.company import Company
from firstday.world.tools import ToolCall

MEETING_JOIN_WINDOW = 6  # the oracle leaves its task work this many minutes before a required meeting
DEADLINE_MARGIN = 5  # the simulated oracle must finish this many minutes before a deadline
SEARCH_NODES = 5_000  # nodes of the bound's branch and bound per day; past them the bound is not proven


MEETING_JOIN_WINDOW = 6  # the oracle leaves its task work this many minutes before a required meeting


def oracle_priority_key(priority: str, deadline: int) -> tuple[int, int]:
    """The oracle's ordering: earliest deadline first, urgent work first among equal deadlines (shared with the
    simulator). Deadline order is what meets every deadline that can be met when work can be interleaved.
    ``deadline`` is the task's due time (:func:`oracle_due`)."""
    return (deadline, 0 if priority == "urgent" else 1)


def respond_by(task: TaskInstance) -> int:
    """The time the oracle orders a task by: its deadline, or the end of an earlier window in which one of its
    checks must be met (``status_watch``: an alert within 30 minutes of the refresh showing the breach, while
    the report is due later). Ordered by the deadline alone, such a task waited behind work due before the
    deadline, and on a loaded day its alert went out after the window."""
    ends: list[int] = [
        start + within for cp in task.checkpoints
        if (within := getattr(cp.check, "within_minutes", None)) is not None
        and (start := getattr(cp.check, "visible_from", None) or getattr(cp.check, "since", None)) is not None]
    return min([task.deadline, *ends])


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


def _step_minutes(task: TaskInstance, company: Company) -> list[int]:
    return [max(1, m) for m in step_minutes(task.solution, company)]


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


def oracle_due(tasks: Sequence[TaskInstance], company: Company) -> dict[str, int]:
    """The due time the oracle orders ``tasks`` by: the deadline, brought forward for a task others build on
    (:func:`windows`), and for a task with an earlier window to act in, to that window's end
    (:func:`respond_by`). Shared by the oracle agent and :func:`simulate_oracle`."""
    if not any(t.depends_on for t in tasks):
        return {t.task_id: respond_by(t) for t in tasks}
    work = {t.task_id: _work_minutes(t, company) for t in tasks}
    by_id = {t.task_id: t for t in tasks}
    return {tid: min(due, respond_by(by_id[tid])) for tid, (_, due) in windows(tasks, work).items()}


def simulate_oracle(tasks: Sequence[TaskInstance], meetings: Sequence[MeetingAsset], company: Company,
                    day_start: int) -> dict[str, int]:
    """Finish time of each task when worked step by step with the oracle's policy. A task is not started before
    the tasks it builds on (``TaskInstance.depends_on``) are finished."""
    steps = {t.task_id: _step_minutes(t, company) for t in tasks}
    plans = {t.task_id: t.solution for t in tasks}
    due = oracle_due(tasks, company)
    if any(d not in steps for t in tasks for d in t.depends_on):
        raise GenerationError("a task builds on a task that is not in the schedule")
    pos = dict.fromkeys(steps, 0)
    finish: dict[str, int] = {}
    pending_meetings = sorted((m.start, m.end, m.meeting_id) for m in meetings if m.trainee_required)
    attended: set[str] = set()
    now = day_start

    def blocked(task_id: str) -> bool:
        step = plans[task_id][pos[task_id]]
        mid = attend_target(step)
        until = wait_target(step)
        return (mid is not None and mid not in attended) or (until is not None and now < until)

    for _ in range(100_000):
        if pending_meetings and pending_meetings[0][0] - now <= MEETING_JOIN_WINDOW:
            _start, end, mid = pending_meetings.pop(0)
            now = max(now, end)
            attended.add(mid)
            continue
        ready = [t for t in tasks if t.arrival <= now and t.task_id not in finish and not blocked(t.task_id)
                 and all(d in finish for d in t.depends_on)]
        if not ready:
            future = [t.arrival for t in tasks if t.task_id not in finish and t.arrival > now]
            future += [u for t in tasks if t.task_id not in finish and t.arrival <= now
                       and (u := wait_target(plans[t.task_id][pos[t.task_id]])) is not None and u > now]
            if pending_meetings:
                future.append(pending_meetings[0][0] - MEETING_JOIN_WINDOW)
            if not future:
                if len(finish) < len(tasks):
                    raise GenerationError("a task waits for a meeting that never takes place")
                return finish
            now = max(now + 1, min(future))
            continue
        t = min(ready, key=lambda x: oracle_priority_key(x.priority, due[x.task_id]))
        # a step that attends a required meeting was done by the meeting policy, and a wait-until step whose
        # time has come is skipped: neither costs anything more
        step = plans[t.task_id][pos[t.task_id]]
        now += 0 if attend_target(step) or wait_target(step) is not None else steps[t.task_id][pos[t.task_id]]
        pos[t.task_id] += 1
        if pos[t.task_id] >= len(steps[t.task_id]):
            finish[t.task_id] = now
    raise GenerationError("oracle simulation did not terminate")


@dataclass
class Schedule:
    """The best achievable schedule of a day (see the module docstring)."""

    done: list[str]  # ids of the tasks the best schedule finishes on time
    weight: int  # their priority weight
    total: int  # the priority weight of every task of the day
    proven: bool  # no heavier set passed the interval condition while failing the simulation
    finish: dict[str, int] = field(default_factory=dict)  # simulated finish of each task done

    @property
    def score(self) -> float:
        """The best achievable priority-weighted share of the day (1.0 when everything fits)."""
        return self.weight / self.total if self.total else 1.0


def _work_minutes(task: TaskInstance, company: Company) -> int:
    """Minutes of the trainee's own time a task's plan needs (meetings and waits for a clock time excluded)."""
    return sum(m for call, m in zip(task.solution, _step_minutes(task, company), strict=True)
               if attend_target(call) is None and wait_target(call) is None)


def best_schedule(tasks: Sequence[TaskInstance], meetings: Sequence[MeetingAsset], company: Company,
                  day_start: int) -> Schedule:
    """The heaviest set of ``tasks`` the oracle can finish by their deadlines (see the module docstring)."""
    work = {t.task_id: _work_minutes(t, company) for t in tasks}
    weight = {t.task_id: PRIORITY_WEIGHT[t.priority] for t in tasks}
    position = {t.task_id: i for i, t in enumerate(tasks)}
    total = sum(weight.values())

    def in_day_order(chosen: Sequence[TaskInstance]) -> list[TaskInstance]:
        # as the oracle meets them: ties in its policy go to the earlier task
        return sorted(chosen, key=lambda t: position[t.task_id])

    def on_time(chosen: Sequence[TaskInstance]) -> tuple[bool, dict[str, int]]:
        finish = simulate_oracle(in_day_order(chosen), meetings, company, day_start)
        return all(finish[t.task_id] + DEADLINE_MARGIN <= t.deadline for t in chosen), finish

    everything_fits, finish = on_time(tasks)
    if everything_fits:
        return Schedule(done=[t.task_id for t in tasks], weight=total, total=total, proven=True, finish=finish)
    bound_set, bound, complete = _densest_heaviest(tasks, work, weight)
    fits, finish = on_time(bound_set)
    if fits:  # the relaxation's optimum is achievable: nothing heavier can be
        return Schedule(done=[t.task_id for t in in_day_order(bound_set)], weight=bound, total=total,
                        proven=complete, finish=finish)
    chosen = _shed_until_on_time(list(tasks), weight, work, on_time)
    got = sum(weight[t.task_id] for t in chosen)
    _, finish = on_time(chosen)
    return Schedule(done=[t.task_id for t in in_day_order(chosen)], weight=got, total=total,
                    proven=complete and got >= bound, finish=finish)


def _dense_enough(chosen: Sequence[TaskInstance], work: dict[str, int]) -> bool:
    """Horn's condition over the tasks' windows under precedence (:func:`windows`): for every window from a
    release to a due time, the work of the tasks whose windows lie inside it fits in it."""
    span = windows(chosen, work)
    releases = sorted({r for r, _ in span.values()})
    dues = sorted({d for _, d in span.values()})
    for r in releases:
        for d in dues:
            if d > r and sum(work[tid] for tid, (tr, td) in span.items() if tr >= r and td <= d) > d - r:
                return False
    return all(d - r >= work[tid] for tid, (r, d) in span.items())


def _densest_heaviest(tasks: Sequence[TaskInstance], work: dict[str, int],
                      weight: dict[str, int]) -> tuple[list[TaskInstance], int, bool]:
    """The heaviest set passing Horn's condition (an upper bound on what any schedule finishes), by branch and
    bound, heaviest and shortest tasks first (a task after the tasks it builds on: it is chosen only with
    them); ``complete`` is False if the node budget ran out first."""
    order = _prerequisites_first(sorted(tasks, key=lambda t: (-weight[t.task_id], work[t.task_id], t.task_id)))
    suffix = [sum(weight[t.task_id] for t in order[i:]) for i in range(len(order) + 1)]
    best: list[TaskInstance] = []
    best_weight = -1
    nodes = 0

    def search(i: int, chosen: list[TaskInstance], got: int) -> None:
        nonlocal best, best_weight, nodes
        nodes += 1
        if got + suffix[i] <= best_weight or nodes > SEARCH_NODES:
            return
        if i == len(order):
            best, best_weight = list(chosen), got
            return
        ids = {t.task_id for t in chosen}
        if all(d in ids for d in order[i].depends_on):
            chosen.append(order[i])
            if _dense_enough(chosen, work):
                search(i + 1, chosen, got + weight[order[i].task_id])
            chosen.pop()
        search(i + 1, chosen, got)

    search(0, [], 0)
    return best, max(best_weight, 0), nodes <= SEARCH_NODES


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


def _shed_until_on_time(chosen: list[TaskInstance], weight: dict[str, int], work: dict[str, int],
                        on_time: Callable[[Sequence[TaskInstance]], tuple[bool, dict[str, int]]],
                        ) -> list[TaskInstance]:
    """A feasible set by shedding work (Moore-Hodgson's rule, weighted): while a task is late, drop, among
    the tasks due no later than it, the one with the least weight per minute of work (and the tasks building on
    it); then take back, heaviest first, every dropped task that still fits (and whose prerequisites are in)."""
    dropped: list[TaskInstance] = []
    while True:
        fits, finish = on_time(chosen)
        if fits:
            break
        late = min((t for t in chosen if finish[t.task_id] + DEADLINE_MARGIN > t.deadline),
                   key=lambda t: (t.deadline, t.task_id))
        pool = [t for t in chosen if t.deadline <= late.deadline]
        victim = min(pool, key=lambda t: (weight[t.task_id] / max(1, work[t.task_id]), -work[t.task_id], t.task_id))
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
