"""``check_family``: a family's invariants, as small named checks with a remedy each (docs/families.md)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

from pydantic import BaseModel, Field
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from firstday.checkers._days import (
    MetaTask,
    family_dependent_meta_tasks,
    family_meta_tasks,
    meta_id,
    single_task_day,
)
from firstday.checkers._determinism import cross_process_problems, instance_problems
from firstday.checkers._oracle import noop_problem, oracle_problem
from firstday.checkers._robust import junk_problems
from firstday.checkers._sealed import oracle_leaks, snooper_problems
from firstday.errors import FirstdayError
from firstday.tasks import Family, TaskInstance, get_family

DEFAULT_SEEDS: Final = 20
MAX_REPORTED: Final = 5  # failures kept per check

Status = Literal["passed", "failed", "skipped"]


class CheckResult(BaseModel):
    """One named check of a family."""

    name: str
    description: str
    status: Status
    instances: int = Field(description="instances (days) the check examined")
    failures: list[str] = Field(default_factory=list, description=f"the first {MAX_REPORTED} failures")
    remedy: str = Field(default="", description="how to fix the family (empty when the check passed)")
    note: str = Field(default="", description="why the check was skipped")


class FamilyCheckReport(BaseModel):
    """Every check of one family over ``seeds`` seeds per meta-task."""

    family: str
    seeds: int
    meta_tasks: list[str]
    dependent_meta_tasks: list[str] = Field(default_factory=list, description="checked on a day with the earlier "
                                            "task they build on (fits_a_day, oracle_solves, noop_scores_zero)")
    checks: list[CheckResult]

    @property
    def ok(self) -> bool:
        return all(c.status != "failed" for c in self.checks)

    def check(self, name: str) -> CheckResult:
        return next(c for c in self.checks if c.name == name)


@dataclass(frozen=True)
class _Check:
    name: str
    description: str
    remedy: str
    seeds: Callable[[int], int]  # the seeds it uses, given the requested number


CHECKS: Final = (
    _Check("declares", "name, title, description, variants, knobs, domains and modalities are declared",
           "declare every attribute of the Family protocol (docs/families.md, 'The protocol'): a name matching "
           "[a-z][a-z0-9_]*, distinct variants, and non-empty title, description, knobs, domains and modalities",
           lambda n: 0),
    _Check("fits_a_day", "every meta-task generates an instance that fits a working day (a dependent one after the "
           "task it builds on)",
           "a GenerationError/DayFullError must be rare and the task must fit the day: set effort_minutes = "
           "estimate_minutes(solution, ctx.company), deadline=ctx.day_end, and keep latest_deadline reachable",
           lambda n: n),
    _Check("oracle_solves", "the oracle, replaying `solution` through the public tools, scores 100 % cleanly "
           "(dependent meta-tasks too, with the task they build on)",
           "make `solution` a plan of public tool calls that reaches every checkpoint before the deadline, with "
           "no refused call; list in each checkpoint's clue_ids only clues the plan observes",
           lambda n: n),
    _Check("noop_scores_zero", "an agent that does nothing scores 0 on every task, without a scoring error "
           "(dependent meta-tasks too)",
           "make every checkpoint need something the trainee does for the task (a submission, a file edit, a "
           "message, a booking, attending): a check that holds in the untouched world gives points for nothing",
           lambda n: min(n, 5)),
    _Check("deterministic", "same seed, same instance; other seeds, other instances and answers; no global random",
           "draw every random choice from ctx.rng (never the random module, the clock, or a fixed seed), and "
           "compute answers from the drawn data so they change with the seed",
           lambda n: min(n, 8)),
    _Check("deterministic_across_processes", "fresh interpreters with other PYTHONHASHSEED values generate the "
           "same instances",
           "no hash() of strings, no iteration over sets or other unordered containers, no id() in anything the "
           "instance holds: sort before choosing",
           lambda n: min(n, 4)),
    _Check("sealed", "no tool shows answers, checkpoints, untriggered facts, hidden files or the oracle plan to "
           "an agent that snoops without asking, nor more than was asked for to the oracle",
           "put what an agent must find out only where it has to ask or look for it (a hidden file shared by a "
           "Fact, a fact gated by keywords, meeting notes), never in the objective, visible files or replies to "
           "small talk; feedback says where to look, never what to answer",
           lambda n: min(n, 2)),
    _Check("robust", "junk answers, files and messages for the task get clear errors or a zero, never a crash or "
           "a scoring defect",
           "make each checkpoint's expected value the type its comparison takes (e.g. a number for number_close) "
           "so any submitted JSON value is judged, never raised on",
           lambda n: min(n, 2)),
)
CHECK_NAMES: Final = tuple(c.name for c in CHECKS)


def _declaration_problems(family: Family) -> list[str]:
    import re

    problems = []
    if not isinstance(getattr(family, "name", None), str) or not re.fullmatch(r"[a-z][a-z0-9_]*", family.name):
        problems.append(f"name {getattr(family, 'name', None)!r} is not a lower-case identifier")
    for attr in ("title", "description"):
        if not isinstance(getattr(family, attr, None), str) or not getattr(family, attr):
            problems.append(f"{attr} is missing or empty")
    for attr in ("variants", "domains", "modalities"):
        value = getattr(family, attr, None)
        if not isinstance(value, tuple | list) or not value or not all(isinstance(v, str) for v in value):
            problems.append(f"{attr} must be a non-empty tuple of strings, got {value!r}")
    variants = getattr(family, "variants", ())
    if isinstance(variants, tuple | list) and len(set(variants)) != len(variants):
        problems.append(f"variants repeat: {variants!r}")
    if not isinstance(getattr(family, "knobs", None), dict) or not family.knobs:
        problems.append("knobs must be a non-empty dict: difficulty knob -> what it changes")
    for method in ("generate", "baseline"):
        if not callable(getattr(family, method, None)):
            problems.append(f"no {method}() method")
    return problems


def check_family(family: Family | str, seeds: int = DEFAULT_SEEDS, *, checks: tuple[str, ...] = CHECK_NAMES,
                 progress: Callable[[str], None] | None = None) -> FamilyCheckReport:
    """Run the named ``checks`` (default: all of :data:`CHECKS`) on a registered family, over ``seeds`` seeds
    per meta-task (the slower checks use fewer: see each check's ``seeds``), on single-task days.

    Nothing is raised for a broken family: every failure is in the report, with a remedy. ``progress`` is
    called with each check's name as it starts."""
    fam = get_family(family) if isinstance(family, str) else family
    unknown = [c for c in checks if c not in CHECK_NAMES]
    if unknown:
        raise FirstdayError(f"unknown check(s) {', '.join(unknown)}; known: {', '.join(CHECK_NAMES)}")
    metas = family_meta_tasks(fam)
    dependents = family_dependent_meta_tasks(fam)
    results: list[CheckResult] = []
    with asyncio.Runner() as runner:
        loop = runner.get_loop()
        runs: dict[str, Callable[[int], tuple[int, list[str]] | None]] = {
            "declares": lambda n: (1, _declaration_problems(fam)),
            "fits_a_day": lambda n: _per_day(metas, n, lambda s, d: [], label="single", dependents=dependents,
                                             missing_fails=True),
            "oracle_solves": lambda n: _per_day(metas, n, lambda s, d: [
                p for p in [oracle_problem(s, d, loop=loop)] if p], label="single", dependents=dependents),
            "noop_scores_zero": lambda n: _per_day(metas, n, lambda s, d: [
                p for p in [noop_problem(s, d, loop=loop)] if p], label="single", dependents=dependents),
            "deterministic": lambda n: (len(metas) * n, [p for m in metas for p in instance_problems(m, n)]),
            "deterministic_across_processes": lambda n: _cross(metas, n),
            "sealed": lambda n: _per_day(metas, n, lambda s, d: snooper_problems(s, d, loop=loop)
                                         + oracle_leaks(s, d, loop=loop), label="sealed"),
            "robust": lambda n: _per_day(metas, n, lambda s, d: junk_problems(s, d), label="robust"),
        }
        declared = True
        for spec in CHECKS:
            if spec.name not in checks:
                continue
            if progress is not None:
                progress(spec.name)
            if spec.name != "declares" and not declared:
                results.append(CheckResult(name=spec.name, description=spec.description, status="skipped",
                                           instances=0, note="the family's declaration is broken"))
                continue
            outcome = runs[spec.name](spec.seeds(seeds))
            if outcome is None:
                results.append(CheckResult(
                    name=spec.name, description=spec.description, status="skipped", instances=0,
                    note="the family's class cannot be imported by another process (defined in __main__ or "
                         "inside a function): define it at the top level of a module"))
                continue
            n, failures = outcome
            results.append(CheckResult(name=spec.name, description=spec.description,
                                       status="failed" if failures else "passed", instances=n,
                                       failures=failures[:MAX_REPORTED], remedy=spec.remedy if failures else ""))
            declared = declared and not (spec.name == "declares" and failures)
    return FamilyCheckReport(family=fam.name, seeds=seeds, meta_tasks=[meta_id(m) for m in metas],
                             dependent_meta_tasks=[meta_id(m) for m in dependents], checks=results)


def _per_day(metas: list[MetaTask], seeds: int, problems_of: Callable[..., list[str]], label: str,
             dependents: list[MetaTask] | None = None, missing_fails: bool = False) -> tuple[int, list[str]]:
    """``problems_of(scenario, day)`` on the single-task day of every meta-task and seed, and on the day of every
    dependent meta-task and seed (the earlier task it builds on, then it). A day that does not hold the task
    (the generator dropped it: it does not fit the day), or not the pair, fails with ``missing_fails`` and is
    passed over otherwise; a failed generation fails with ``label="single"`` (the fits_a_day check reports both)."""
    n, failures = 0, []
    days = [(meta, label, False) for meta in metas] + [(meta, "dependent", True) for meta in dependents or []]
    for meta, day_label, dependent in days:
        for seed in range(seeds):
            try:
                scenario, day = single_task_day(meta, seed, label=day_label)
            except FirstdayError as exc:
                if label == "single":
                    failures.append(f"{meta_id(meta)} seed {seed}: generation failed: {exc}")
                continue
            held = _holds(day.tasks, meta, dependent)
            if missing_fails and not held:
                n += 1
                failures.append(f"{meta_id(meta)} seed {seed}: the day holds {[t.meta_task for t in day.tasks]}: "
                                + ("not the dependent task after the task it builds on" if dependent else
                                   "the day generator dropped the task (it does not fit the day)"))
            elif held:
                n += 1
                failures += [f"{meta_id(meta)} seed {seed}: {p}" for p in problems_of(scenario, day)]
            if len(failures) >= MAX_REPORTED:
                return n, failures
    return n, failures


def _holds(tasks: list[TaskInstance], meta: MetaTask, dependent: bool) -> bool:
    """Whether a generated day holds the meta-task asked for: alone, or (dependent) after the task it builds on."""
    if not dependent:
        return len(tasks) == 1
    return len(tasks) == 2 and tasks[1].meta_task == meta_id(meta) and tasks[1].depends_on == [tasks[0].task_id]


def _cross(metas: list[MetaTask], seeds: int) -> tuple[int, list[str]] | None:
    problems = cross_process_problems(metas, seeds)
    return None if problems is None else (len(metas) * seeds, problems)


def render_family_check(report: FamilyCheckReport, console: Console) -> None:
    """The report as a table, then each failed check's first failures and its remedy."""
    verdict = "[green]all checks passed[/green]" if report.ok else "[bold red]some checks failed[/bold red]"
    dependents = f" (+{len(report.dependent_meta_tasks)} dependent)" if report.dependent_meta_tasks else ""
    table = Table(title=f"family {report.family}: {len(report.meta_tasks)} meta-tasks{dependents}, up to "
                        f"{report.seeds} seeds each; {verdict}", title_justify="left", box=box.SIMPLE_HEAD)
    for col in ("check", "result", "instances", "what it checks"):
        table.add_column(col, justify="right" if col == "instances" else "left", overflow="fold")
    colour = {"passed": "green", "failed": "bold red", "skipped": "yellow"}
    for c in report.checks:
        table.add_row(c.name, f"[{colour[c.status]}]{c.status}[/{colour[c.status]}]", str(c.instances),
                      escape(c.description + (f" (skipped: {c.note})" if c.note else "")))
    console.print(table)
    for c in report.checks:
        if c.status != "failed":
            continue
        console.print(f"[bold red]{c.name}[/bold red] failed:")
        for f in c.failures:
            first, *rest = f.splitlines()
            console.print(f"  - {escape(first)}" + (f" [dim](+{len(rest)} lines)[/dim]" if rest else ""))
        console.print(f"  [bold]remedy:[/bold] {escape(c.remedy)}")
