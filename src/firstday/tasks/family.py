"""The family protocol, the generation context, and the registry of families.

A *family* (e.g. transaction review) has *variants*; each (family, variant, difficulty) is one
meta-task. Third-party families register through the ``firstday.families`` entry point group.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

from firstday.errors import UnknownNameError, plugin_hint
from firstday.tasks.model import Checkpoint, Clue, Difficulty, TaskInstance
from firstday.world.assets import Fact, FileAsset, MeetingAsset, PageAsset, Priority
from firstday.world.company import Company, Employee
from firstday.world.tools import DEFAULT_COSTS, GROUP_MESSAGE_COST, ToolCall


class Labelled(Protocol):
    """What :meth:`GenContext.instance` reads of a family: its name and the labels its tasks carry."""

    @property
    def name(self) -> str: ...

    @property
    def domains(self) -> tuple[str, ...]: ...

    @property
    def modalities(self) -> tuple[str, ...]: ...


@dataclass
class GenContext:
    """What a family may use to generate one instance. All randomness must come from ``rng``."""

    rng: random.Random
    company: Company
    task_id: str
    variant: str
    difficulty: Difficulty
    arrival: int
    priority: Priority
    requester: str
    day_start: int = 540
    day_end: int = 1080
    meetings: list[MeetingAsset] = field(default_factory=list)  # meetings already placed today
    used_paths: set[str] = field(default_factory=set)
    # windows (start, end) in which the trainee must be at their desk (e.g. to react to a dashboard refresh),
    # shared across the day: a family placing a required meeting keeps clear of them, as of ``meetings``
    desk_windows: list[tuple[int, int]] = field(default_factory=list)
    # for a dependent variant (``dependent_variants``): the earlier task of the day whose result it needs
    builds_on: TaskInstance | None = None

    def path(self, folder: str, stem: str, ext: str) -> str:
        """A drive path unique within the day (task id appended only on collision)."""
        p = f"{folder}/{stem}.{ext}"
        if p in self.used_paths:
            p = f"{folder}/{stem}-{self.task_id}.{ext}"
        self.used_paths.add(p)
        return p

    def instance(
        self, family: Labelled, *, objective: str, checkpoints: list[Checkpoint], solution: list[ToolCall],
        answers: dict[str, Any], files: Sequence[FileAsset] = (), facts: Sequence[Fact] = (),
        meetings: Sequence[MeetingAsset] = (), pages: Sequence[PageAsset] = (), clues: Sequence[Clue] = (),
        effort_minutes: int | None = None, extra_minutes: int = 0, deadline: int | None = None,
        latest_deadline: int | None = None, depends_on: Sequence[str] = (),
    ) -> TaskInstance:
        """This context's task as ``family`` generated it: what the context already says (id, variant, difficulty,
        requester, arrival, priority) and the family's domains and modalities are filled in, so a family passes
        only what is particular to its task.

        ``deadline`` defaults to the end of the day; ``effort_minutes`` to :func:`estimate_minutes` of the
        solution, plus ``extra_minutes`` (time the plan's calls do not show, e.g. working out a result)."""
        if effort_minutes is None:
            effort_minutes = estimate_minutes(solution, self.company) + extra_minutes
        return TaskInstance(
            task_id=self.task_id, family=family.name, variant=self.variant, difficulty=self.difficulty,
            objective=objective, requester=self.requester, arrival=self.arrival, priority=self.priority,
            deadline=self.day_end if deadline is None else deadline, latest_deadline=latest_deadline,
            effort_minutes=effort_minutes, depends_on=list(depends_on), files=list(files), facts=list(facts),
            meetings=list(meetings), pages=list(pages), clues=list(clues), checkpoints=checkpoints,
            solution=solution, answers=answers, domains=list(family.domains), modalities=list(family.modalities))

    def pick_employees(
        self, n: int, *, exclude: set[str] | None = None, department: str | None = None
    ) -> list[Employee]:
        pool = [
            e
            for e in self.company.employees
            if e.handle not in (exclude or set()) and (department is None or e.department == department)
        ]
        return self.rng.sample(pool, min(n, len(pool)))


def step_minutes(solution: list[ToolCall], company: Company, costs: dict[str, int] | None = None) -> list[int]:
    """Upper estimate of each plan step's virtual time, counting reply delays of awaited messages."""
    table = {**DEFAULT_COSTS, **(costs or {})}
    out: list[int] = []
    last_to: dict[str, int] = {}
    for call in solution:
        args = call.arguments if isinstance(call.arguments, dict) else {}
        if call.name == "send_message":
            to = args.get("to")
            recipients = [to] if isinstance(to, str) else list(to or [])
            out.append(table["send_message"] if len(recipients) == 1 else GROUP_MESSAGE_COST)
            for h in recipients:
                last_to[h] = company.employee(h).reply_delay
        elif call.name == "wait":
            h = args.get("for_message_from")
            out.append(last_to.get(h, 0) if h else int(args.get("minutes") or 0))
        elif call.name == "attend_meeting":
            out.append(60)
        else:
            out.append(table.get(call.name, 1))
    return out


def estimate_minutes(solution: list[ToolCall], company: Company, costs: dict[str, int] | None = None) -> int:
    """Upper estimate of the virtual time a plan takes (the sum of :func:`step_minutes`)."""
    return sum(step_minutes(solution, company, costs))


def ask(handle: str, text: str) -> list[ToolCall]:
    """Plan steps: message one colleague, then wait for their reply."""
    return [ToolCall(name="send_message", arguments={"to": handle, "text": text}),
            ToolCall(name="wait", arguments={"for_message_from": handle})]


@dataclass(frozen=True)
class Referral:
    """A colleague who does not hold what the task needs but says who does (a second hop): the fact of their
    reply, its clue, and the plan steps that ask them."""

    fact: Fact
    clue: Clue
    steps: list[ToolCall]

    def add_to(self, facts: list[Fact], clues: list[Clue], plan: list[ToolCall]) -> None:
        facts.append(self.fact)
        clues.append(self.clue)
        plan += self.steps


def referral(clue_id: str, referrer: Employee, role: str, *, topic: str, keywords: list[str], reply: str,
             description: str, question: str, require_any: Sequence[str] = ()) -> Referral:
    """``referrer`` (``role``, e.g. "head of Finance") answers a question about ``topic`` (matched by
    ``keywords`` and, if given, one of ``require_any``) with ``reply``, which names who holds it; the fact and
    its clue share ``clue_id``, and the plan asks ``question``."""
    fact = Fact(fact_id=clue_id, holder=referrer.handle, topic=topic, keywords=keywords,
                require_any=list(require_any), reply=reply, clue_ids=[clue_id])
    clue = Clue(clue_id=clue_id, description=description, location="colleague",
                where=f"ask {referrer.handle} ({role})")
    return Referral(fact, clue, ask(referrer.handle, question))


@runtime_checkable
class Family(Protocol):
    """What a task family implements. See docs/families.md for a worked example."""

    name: str
    title: str
    description: str
    domains: tuple[str, ...]
    modalities: tuple[str, ...]
    variants: tuple[str, ...]
    knobs: dict[str, str]

    def generate(self, ctx: GenContext) -> TaskInstance:
        """Build one instance from ``ctx`` (deterministic given ``ctx.rng``)."""
        ...

    def baseline(self, view: BaselineView) -> list[ToolCall]:
        """The heuristic baseline's deliverable calls, from public information only."""
        ...


@dataclass
class BaselineView:
    """What the heuristic agent has gathered for one task (public information only)."""

    task_id: str
    objective: str
    requester: str
    company: Company
    texts: dict[str, str] = field(default_factory=dict)  # source (path / colleague handle) -> text seen
    rng: random.Random = field(default_factory=lambda: random.Random(0))


_REGISTRY: dict[str, Family] = {}
_ENTRY_POINTS_LOADED = False


def register(family: Family | type[Any]) -> Any:
    """Register a family (instance or class). Usable as a class decorator."""
    inst: Family = family() if isinstance(family, type) else family
    _REGISTRY[inst.name] = inst
    return family


def _load_entry_points() -> None:
    global _ENTRY_POINTS_LOADED
    if _ENTRY_POINTS_LOADED:
        return
    _ENTRY_POINTS_LOADED = True
    import firstday.tasks.library  # noqa: F401  (built-ins register on import)

    for ep in entry_points(group="firstday.families"):
        obj: Callable[[], Family] | Family = ep.load()
        register(obj)  # type: ignore[arg-type]


def families() -> dict[str, Family]:
    _load_entry_points()
    return dict(sorted(_REGISTRY.items()))


def get_family(name: str) -> Family:
    fams = families()
    if name not in fams:
        raise UnknownNameError("family", name, list(fams), plugin_hint(
            "family", "firstday.families", "firstday.register_family(FamilyClass)"))
    return fams[name]


def meta_tasks(fam: Family) -> list[tuple[str, Difficulty]]:
    from firstday.tasks.model import DIFFICULTIES

    return [(v, d) for v in fam.variants for d in DIFFICULTIES]


def dependent_variants(fam: Family) -> tuple[str, ...]:
    """The family's dependent variants (optional attribute ``dependent_variants``): follow-up tasks that build on
    the result of an earlier task of the same family (``GenContext.builds_on``). They are not among ``variants``:
    the day generator places them after such a task (docs/families.md, "Dependent tasks")."""
    return tuple(getattr(fam, "dependent_variants", ()))


def dependent_meta_tasks(fam: Family) -> list[tuple[str, Difficulty]]:
    from firstday.tasks.model import DIFFICULTIES

    return [(v, d) for v in dependent_variants(fam) for d in DIFFICULTIES]
