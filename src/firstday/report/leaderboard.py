"""The leaderboard: run folders aggregated into one comparable row each, plus a per-family breakdown.

Averaging rules (also in each field's description, which is the ``--json`` schema):

* task-level figures are micro-averaged over tasks (every task counts once, whatever its day):
  score, success, priority-weighted score, on-time rate, urgent latency, clue discovery, and the
  unsupported-answer rate (over attempted answer-bearing checkpoints);
* day-level figures are averaged over days: meetings missed and late, work left, questions per clue,
  noise;
* errors are attributed (docs/scoring.md, "Error attribution"): an episode an *agent* error ended
  scores every task 0 and stays in every average; an *infrastructure* error episode is left out of every
  average and counted apart (never a zero);
* a task with a scoring defect (its check failed on the task's own answer) counts 0 in every average and is
  also counted apart (``task_errors``, "scoring defects: N" in red), so an agent cannot choose what is averaged;
* a damaged episode (its file, trace or memory; see ``RunFolder.inspect``) is left out and counted;
* with repeated trials every task-trial counts once; pass^k and pass@k are per task, then averaged;
* every headline figure has a 95 % percentile bootstrap interval, resampling scenarios (see
  :mod:`firstday.report.stats` and docs/statistics.md).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, Field
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from firstday._version import __version__
from firstday.agents.base import COMMAND_AGENT
from firstday.errors import ConfigError
from firstday.report.stats import Interval, bootstrap_ratio, pass_at_k, pass_hat_k
from firstday.run.results import AgentSandbox, EpisodeSummary, RunFolder, RunManifest, merge_agent_sandbox
from firstday.scoring.cards import DayMetrics, TaskScore, zero_for_agent_error
from firstday.world.assets import PRIORITY_WEIGHT

REPORT_FORMAT: Final = "firstday.report/1"


class FamilyRow(BaseModel):
    family: str
    tasks: int = Field(description="scored tasks of this family")
    score: float | None = Field(description="mean checkpoint score over the family's scored tasks")
    success_rate: float | None = Field(description="share of the family's scored tasks with every checkpoint passed")


class PassRow(BaseModel):
    k: int
    tasks: int = Field(description="tasks with at least k scored trials")
    pass_hat_k: float | None = Field(description="mean over tasks of C(c,k)/C(n,k): all k trials succeed")
    pass_at_k: float | None = Field(description="mean over tasks of 1 - C(n-c,k)/C(n,k): some trial of k succeeds")
    pass_hat_k_ci: Interval | None = None
    pass_at_k_ci: Interval | None = None


class RunRow(BaseModel):
    run: str = Field(description="the run folder")
    label: str = Field(description="short name shown in tables (the folder name, or its path if ambiguous)")
    agent: str
    agent_options: dict[str, Any]
    text_only: bool = Field(description="images were replaced by their text alternative")
    memory: bool = Field(default=False, description="notebook and lessons carried over between days")
    hints: str = Field(default="none", description="hint tier delivered with each task")
    suite_name: str
    suite_hash: str
    sandbox: str = Field(default="", description="run_python's runner in the run (landlock, audit; empty: unrecorded)")
    agent_sandbox: AgentSandbox | None = Field(
        default=None, description="how an external agent's process ran (--agent-cmd): agent-process (sealed by the "
                                  "kernel), none (not sealed), mixed (some episodes each way); None: an in-process "
                                  "agent, or an external agent's run made before it was recorded")
    privileged: bool = Field(default=False, description="the agent is privileged: built from the day's hidden data "
                                                        "(answers, plans), an upper bound, not a baseline")
    episodes_expected: int = Field(description="episodes in the suite")
    episodes: int = Field(description="finished episodes on disk (ok + error)")
    error_episodes: int = Field(description="episodes that ended with an error (agent_errors + infrastructure_errors)")
    agent_errors: int = Field(default=0, description="error episodes caused by the agent (an exception, invalid "
                                                     "output, a time or step limit): every task scores 0 and they "
                                                     "stay in every average; final (not rerun by --retry-errors)")
    infrastructure_errors: int = Field(default=0, description="error episodes not caused by the agent (model endpoint "
                                                              "down after retries, a worker lost, ...): left out of "
                                                              "the averages; rerun by --retry-errors")
    damaged_episodes: int = Field(default=0, description="episodes whose files are damaged or missing in the run "
                                                         "folder: left out; 'firstday run' on the folder repairs them")
    tasks: int = Field(description="scored tasks in ok and agent-error episodes (the latter all scored 0)")
    task_errors: int = Field(description="tasks with a scoring defect; counted 0 in every average")
    success_rate: float | None = Field(description="share of scored tasks with every checkpoint passed on time "
                                                   "(micro-average over tasks)")
    score: float | None = Field(description="mean checkpoint score: passed weight / total weight, on time only "
                                            "(micro-average over tasks)")
    priority_weighted_score: float | None = Field(
        description="checkpoint score weighted by priority (low 1, normal 2, urgent 4), over tasks")
    on_time_rate: float | None = Field(
        description="priority-weighted share of tasks whose deliverables passed every checkpoint by their deadline, "
                    "over tasks (runs saved before 0.2: a submission by the deadline)")
    urgent_latency: float | None = Field(
        description="mean minutes from an urgent task's arrival to its first submission, over submitted urgent tasks")
    meetings_missed: float | None = Field(description="required meetings missed, mean per day")
    meetings_late: float | None = Field(description="required meetings joined late, mean per day")
    work_left: float | None = Field(description="arrived tasks never submitted by the end of the day, mean per day")
    clue_discovery: float | None = Field(description="clues observed / clues required, summed over tasks")
    unsupported_rate: float | None = Field(
        description="share of attempted answer-bearing checkpoints attempted before all their clues were seen "
                    "(guesses or hallucinations), over checkpoints")
    questions_per_clue: float | None = Field(
        description="messages sent per colleague-held clue found, mean over days where defined")
    noise: float | None = Field(default=None, description="side effects that would annoy colleagues (stray and "
                                "mass messages, needless bookings), mean per day (docs/scoring.md, Noise)")
    submitted_on_time_rate: float | None = Field(
        default=None, description="priority-weighted share of tasks with a submission (right or not) by their deadline")
    schedule_efficiency: float | None = Field(
        default=None, description="priority-weighted score over the best achievable one, mean per day "
                                  "(docs/scheduling.md)")
    priority_inversions: float | None = Field(
        default=None, description="calls serving a task while a ready task of higher priority and no later deadline "
                                  "waited, mean per day (docs/scheduling.md)")
    inversion_minutes: float | None = Field(default=None, description="virtual minutes of those calls, mean per day")
    interruption_response: float | None = Field(
        default=None, description="minutes from an urgent arrival to the first call serving it, mean over days")
    resumed_rate: float | None = Field(
        default=None, description="share of tasks in hand at an urgent arrival taken up again after it, mean over days")
    families: list[FamilyRow] = Field(description="per-family score and success")
    trials: int = Field(default=1, description="trials per (scenario, day) in the run")
    intervals: dict[str, Interval] = Field(
        default_factory=dict, description="95 % cluster-bootstrap interval (scenarios resampled) of each headline "
                                          "figure, keyed by its field name; absent with fewer than 2 scenarios")
    reliability: list[PassRow] = Field(default_factory=list, description="pass^k and pass@k for k = 1..trials")


class Report(BaseModel):
    """``firstday report --json``: one row per run folder."""

    format: Literal["firstday.report/1"] = REPORT_FORMAT
    firstday_version: str
    runs: list[RunRow]
    families: list[str] = Field(description="every family seen in any run, sorted")
    warnings: list[str] = Field(default_factory=list, description="why numbers may not be comparable or complete")


def report_schema_json() -> str:
    """The text of ``docs/report-schema.json``."""
    return json.dumps(Report.model_json_schema(mode="serialization"), indent=2, sort_keys=True) + "\n"


def _mean(xs: Sequence[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def _weighted(pairs: Sequence[tuple[float, float]]) -> float | None:
    total = sum(w for w, _ in pairs)
    return sum(w * x for w, x in pairs) / total if total else None


def _family_rows(tasks: list[TaskScore]) -> list[FamilyRow]:
    by_family: dict[str, list[TaskScore]] = defaultdict(list)
    for t in tasks:
        by_family[t.family].append(t)
    return [FamilyRow(family=f, tasks=len(ts), score=_mean([t.score or 0.0 for t in ts]),
                      success_rate=_mean([1.0 if t.success else 0.0 for t in ts]))
            for f, ts in sorted(by_family.items())]


def _scored(e: EpisodeSummary) -> list[TaskScore]:
    return list(e.tasks)  # a task with a scoring defect counts 0 (its score is 0.0; None in older runs)


def _weight(task: TaskScore) -> float:
    """A task's priority weight (per task: task ids such as ``t3`` repeat across scenarios and days)."""
    return float(PRIORITY_WEIGHT.get(task.priority, 2))


def _ratio_parts(tasks: list[TaskScore], days: list[DayMetrics]) -> dict[str, tuple[float, float]]:
    """(numerator, denominator) of every headline figure over some tasks and days (a ratio of sums)."""
    w = [_weight(t) for t in tasks]
    urgent = [float(t.latency) for t in tasks if t.priority == "urgent" and t.latency is not None]
    attempted = [c for t in tasks for c in t.checkpoints if c.answer_bearing and c.attempted_at is not None]
    qpc = [d.questions_per_clue for d in days if d.questions_per_clue is not None]
    return {
        "success_rate": (sum(1.0 for t in tasks if t.success), len(tasks)),
        "score": (sum(t.score or 0.0 for t in tasks), len(tasks)),
        "priority_weighted_score": (sum(wi * (t.score or 0.0) for wi, t in zip(w, tasks, strict=True)), sum(w)),
        "on_time_rate": (sum(wi for wi, t in zip(w, tasks, strict=True) if t.on_time), sum(w)),
        "submitted_on_time_rate": (sum(wi for wi, t in zip(w, tasks, strict=True) if t.submitted_on_time), sum(w)),
        "urgent_latency": (sum(urgent), len(urgent)),
        "meetings_missed": (sum(float(d.meetings_missed) for d in days), len(days)),
        "meetings_late": (sum(float(d.meetings_late) for d in days), len(days)),
        "work_left": (sum(float(d.work_left) for d in days), len(days)),
        "clue_discovery": (sum(t.clues_observed for t in tasks), sum(t.clues_required for t in tasks)),
        "unsupported_rate": (sum(1.0 for c in attempted if c.unsupported), len(attempted)),
        "questions_per_clue": (sum(qpc), len(qpc)),
        "noise": (sum(float(d.noise) for d in days), len(days)),
        **{name: _day_mean_parts(days, name) for name in SCHEDULING_DAY_FIGURES},
    }


# scheduling figures of the day cards (None in runs saved before they existed), averaged over days
SCHEDULING_DAY_FIGURES = ("schedule_efficiency", "priority_inversions", "inversion_minutes", "interruption_response",
                          "resumed_rate")


def _day_mean_parts(days: list[DayMetrics], name: str) -> tuple[float, float]:
    values = [float(v) for d in days if (v := getattr(d, name, None)) is not None]
    return sum(values), len(values)


def _intervals(ok: list[EpisodeSummary]) -> dict[str, Interval]:
    by_scenario: dict[str, list[EpisodeSummary]] = defaultdict(list)
    for e in ok:
        by_scenario[e.scenario_id].append(e)
    parts = [_ratio_parts([t for e in eps for t in _scored(e)], [e.metrics for e in eps if e.metrics])
             for _, eps in sorted(by_scenario.items())]
    out = {}
    for name in parts[0] if parts else []:
        ci = bootstrap_ratio([p[name][0] for p in parts], [p[name][1] for p in parts], seed=name)
        if ci is not None:
            out[name] = ci
    return out


def _reliability(ok: list[EpisodeSummary], trials: int) -> list[PassRow]:
    """pass^k / pass@k per task (scenario, day, task id) over its trials, averaged; CIs by scenario."""
    counts: dict[tuple[str, int, str], list[int]] = defaultdict(lambda: [0, 0])
    for e in ok:
        for t in _scored(e):
            nc = counts[(e.scenario_id, e.day_index, t.task_id)]
            nc[0] += 1
            nc[1] += bool(t.success)
    rows = []
    for k in range(1, max(trials, 1) + 1):
        per_scenario: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for (sid, _, _), (n, c) in sorted(counts.items()):
            if n >= k:
                per_scenario[sid].append((pass_hat_k(n, c, k), pass_at_k(n, c, k)))
        values = [v for vs in per_scenario.values() for v in vs]
        hat_num = [sum(v[0] for v in vs) for vs in per_scenario.values()]
        at_num = [sum(v[1] for v in vs) for vs in per_scenario.values()]
        dens = [len(vs) for vs in per_scenario.values()]
        rows.append(PassRow(
            k=k, tasks=len(values), pass_hat_k=_mean([v[0] for v in values]), pass_at_k=_mean([v[1] for v in values]),
            pass_hat_k_ci=bootstrap_ratio(hat_num, dens, seed=f"pass^{k}"),
            pass_at_k_ci=bootstrap_ratio(at_num, dens, seed=f"pass@{k}")))
    return rows


def counted_episodes(episodes: list[EpisodeSummary]) -> list[EpisodeSummary]:
    """The episodes that enter the averages: ok ones, and agent-error ones with every task scored 0
    (zeroed here too, for episodes saved before errors were attributed)."""
    out = []
    for e in episodes:
        if e.status == "ok" and e.metrics is not None:
            out.append(e)
        elif e.agent_error and e.metrics is not None:
            if any(t.zeroed is None for t in e.tasks) or e.metrics.score:
                tasks, metrics = zero_for_agent_error(e.tasks, e.metrics, e.error or "")
                e = e.model_copy(update={"tasks": tasks, "metrics": metrics})
            out.append(e)
    return out


def aggregate_run(run: str, label: str, manifest: RunManifest, episodes: list[EpisodeSummary],
                  damaged: int = 0) -> RunRow:
    ok = counted_episodes(episodes)
    all_tasks = [t for e in ok for t in e.tasks]
    tasks = all_tasks  # scoring defects count 0 in every average (and are counted apart below)
    days = [e.metrics for e in ok if e.metrics is not None]
    urgent = [float(t.latency) for t in tasks if t.priority == "urgent" and t.latency is not None]
    required = sum(t.clues_required for t in tasks)
    attempted = [c for t in tasks for c in t.checkpoints if c.answer_bearing and c.attempted_at is not None]
    return RunRow(
        run=run, label=label, agent=manifest.agent, agent_options=manifest.agent_options,
        text_only=manifest.env_config.text_only, memory=manifest.env_config.memory,
        hints=manifest.env_config.hints, suite_name=manifest.suite_name, suite_hash=manifest.suite_hash,
        sandbox=manifest.sandbox, agent_sandbox=run_agent_sandbox(manifest, episodes), privileged=manifest.privileged,
        episodes_expected=manifest.n_episodes, episodes=len(episodes),
        error_episodes=sum(1 for e in episodes if e.status == "error"),
        agent_errors=sum(1 for e in episodes if e.agent_error),
        infrastructure_errors=sum(1 for e in episodes if e.infrastructure_error), damaged_episodes=damaged,
        tasks=len(tasks), task_errors=sum(1 for t in all_tasks if t.error is not None),
        success_rate=_mean([1.0 if t.success else 0.0 for t in tasks]),
        score=_mean([t.score or 0.0 for t in tasks]),
        priority_weighted_score=_weighted([(_weight(t), t.score or 0.0) for t in tasks]),
        on_time_rate=_weighted([(_weight(t), 1.0 if t.on_time else 0.0) for t in tasks]),
        urgent_latency=_mean(urgent),
        meetings_missed=_mean([float(d.meetings_missed) for d in days]),
        meetings_late=_mean([float(d.meetings_late) for d in days]),
        work_left=_mean([float(d.work_left) for d in days]),
        clue_discovery=sum(t.clues_observed for t in tasks) / required if required else None,
        unsupported_rate=_mean([1.0 if c.unsupported else 0.0 for c in attempted]),
        questions_per_clue=_mean([d.questions_per_clue for d in days if d.questions_per_clue is not None]),
        noise=_mean([float(d.noise) for d in days]),
        submitted_on_time_rate=_weighted([(_weight(t), 1.0 if t.submitted_on_time else 0.0) for t in tasks]),
        **{name: (lambda p: p[0] / p[1] if p[1] else None)(_day_mean_parts(days, name))
           for name in SCHEDULING_DAY_FIGURES},
        families=_family_rows(tasks), trials=manifest.trials, intervals=_intervals(ok),
        reliability=_reliability(ok, manifest.trials),
    )




def run_agent_sandbox(manifest: RunManifest, episodes: Sequence[EpisodeSummary]) -> AgentSandbox | None:
    """How a run's external agent ran: from the episodes on disk (what they record), else from run.json."""
    return merge_agent_sandbox(*(e.agent_sandbox for e in episodes)) or manifest.agent_sandbox


def agent_sandbox_text(row: RunRow) -> str | None:
    """The agent-process line's words for a run, None for an in-process agent."""
    if row.agent_sandbox is None:
        return "agent process unrecorded" if row.agent == COMMAND_AGENT else None
    return {"agent-process": "agent process sealed (agent-process)", "none": "agent process NOT sealed (none)",
            "mixed": "agent process sealed in some episodes only (mixed)"}.get(row.agent_sandbox,
                                                                                f"agent process {row.agent_sandbox}")


SCORING_DEFECTS = "scoring defects"  # the warning's words, printed in red


def _labels(paths: list[Path]) -> list[str]:
    names = [p.resolve().name or str(p) for p in paths]
    return [n if names.count(n) == 1 else str(p) for n, p in zip(names, paths, strict=True)]


def sandbox_warnings(rows: Sequence[RunRow]) -> list[str]:
    """Runs whose agent code ran without the kernel sandbox, or under different runners."""
    out = []
    weak = [r.label for r in rows if r.sandbox != "landlock"]
    if weak:
        out.append(f"{', '.join(weak)}: run_python ran without the kernel sandbox (audit hook or unrecorded), which "
                   "hostile agent code can escape; rerun with --require-sandbox on a Linux kernel with Landlock")
    if len({r.sandbox for r in rows}) > 1:
        out.append("the runs used different run_python runners: " + ", ".join(
            f"{r.label} {r.sandbox or 'unrecorded'}" for r in rows))
    unsealed = [r.label for r in rows if r.agent_sandbox in ("none", "mixed")]
    if unsealed:
        out.append(f"{', '.join(unsealed)}: the external agent's process ran without the kernel seal in some or all "
                   "episodes (agent sandbox none or mixed): it could read the suite's answers and reach the network; "
                   "rerun with --require-sandbox on a Linux kernel with Landlock (docs/agent-sandbox.md)")
    unknown = [r.label for r in rows if r.agent == COMMAND_AGENT and r.agent_sandbox is None]
    if unknown:
        out.append(f"{', '.join(unknown)}: whether the external agent's process was sealed is not recorded (a run "
                   "made before it was)")
    return out


def build_report(run_dirs: Sequence[Path | str], *, sort: bool = True) -> Report:
    """Load run folders and aggregate them. Raises ``ConfigError`` for a folder that is not a run."""
    if not run_dirs:
        raise ConfigError("no run folders given; pass folders written by 'firstday run'")
    paths = [Path(p) for p in run_dirs]
    rows = []
    damage: dict[str, list[str]] = {}
    for path, label in zip(paths, _labels(paths), strict=True):
        folder = RunFolder(path)
        manifest = folder.read_manifest()
        health = folder.inspect()  # reads nothing damaged, changes nothing
        rows.append(aggregate_run(str(path), label, manifest, health.episodes, len(health.damaged)))
        if health.index_problem is not None or health.damaged:
            index = (f"its index results.sqlite is {health.index_problem} (the episode files were read directly); "
                     if health.index_problem else "")
            first = next(iter(sorted(health.damaged.items())), None)
            example = f" (e.g. {first[0]}: {first[1]})" if first else ""
            damage[label] = [f"{label}: damaged run folder: {index}{len(health.damaged)} damaged episode(s) left "
                             f"out{example}; 'firstday run' with the same arguments on {path} repairs it "
                             "(damaged files are moved aside and those episodes run again)"]
    if sort:  # best first; runs with nothing scored go last
        rows.sort(key=lambda r: (r.score is None, -(r.score or 0.0), -(r.success_rate or 0.0), r.label))
    warnings = []
    if len({r.suite_hash for r in rows}) > 1:
        warnings.append("the runs were made on different suites: their numbers are not directly comparable")
    warnings += sandbox_warnings(rows)
    for r in rows:
        if r.episodes < r.episodes_expected:
            warnings.append(f"{r.label}: incomplete, {r.episodes} of {r.episodes_expected} episodes "
                            "(rerun the same 'firstday run' command to finish it)")
        clusters = max((ci.clusters for ci in r.intervals.values()), default=0)
        if r.tasks and clusters < 2:
            warnings.append(f"{r.label}: no confidence intervals (they resample scenarios; fewer than 2 scored)")
        elif 0 < clusters < 10:
            warnings.append(f"{r.label}: confidence intervals from only {clusters} scenarios are rough")
        warnings += damage.get(r.label, [])
        if r.agent_errors:
            warnings.append(f"{r.label}: {r.agent_errors} episode(s) ended with an error caused by the agent: their "
                            "tasks score 0 in every average (final: --retry-errors does not rerun them)")
        if r.infrastructure_errors:
            warnings.append(f"{r.label}: {r.infrastructure_errors} infrastructure error episode(s) are left out of "
                            "the averages (rerun the same 'firstday run' command with --retry-errors to redo them)")
        if r.task_errors:
            warnings.append(f"{r.label}: {SCORING_DEFECTS}: {r.task_errors} (tasks whose own expected answer fails "
                            "their check; each counted 0; a defect of the suite to report)")
    return Report(firstday_version=__version__, runs=rows,
                  families=sorted({f.family for r in rows for f in r.families}), warnings=warnings)


# ---- presentation (shared by the terminal and HTML renderers) -------------------------------------------

def pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def num(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def minutes(x: float | None) -> str:
    return "—" if x is None else f"{x:.0f} min"


def ci_text(r: RunRow, field: str, fmt: Callable[[float | None], str] = pct) -> str:
    """``52.3% [41.0, 60.1]``: the figure and its 95 % interval (bounds in the figure's unit)."""
    value = getattr(r, field)
    ci = r.intervals.get(field)
    if value is None or ci is None:
        return fmt(value)
    if fmt is pct:
        return f"{pct(value)} [{100 * ci.low:.1f}, {100 * ci.high:.1f}]"
    return f"{fmt(value)} [{fmt(ci.low)}, {fmt(ci.high)}]"


def episodes_cell(r: RunRow) -> str:
    text = f"{r.episodes}/{r.episodes_expected}"
    return text + (f" ({r.damaged_episodes} damaged)" if r.damaged_episodes else "")


@dataclass(frozen=True)
class Column:
    header: str
    cell: Callable[[RunRow], str]
    field: str | None = None  # the RunRow field it shows (its description is the column's definition)
    numeric: bool = True


OUTCOME_COLUMNS = [
    Column("run", lambda r: r.label, "label", numeric=False),
    Column("agent", lambda r: r.agent + (" (privileged)" if r.privileged else "")
           + (" (text)" if r.text_only else "") + (" (memory)" if r.memory else "")
           + (f" (hints: {r.hints})" if r.hints != "none" else ""), "agent", numeric=False),
    Column("episodes", episodes_cell, "episodes"),
    Column("a.err", lambda r: str(r.agent_errors), "agent_errors"),
    Column("i.err", lambda r: str(r.infrastructure_errors), "infrastructure_errors"),
    Column("tasks", lambda r: str(r.tasks) + (f" ({r.task_errors} err)" if r.task_errors else ""), "tasks"),
    Column("success [95% CI]", lambda r: ci_text(r, "success_rate"), "success_rate"),
    Column("score [95% CI]", lambda r: ci_text(r, "score"), "score"),
    Column("prio score [95% CI]", lambda r: ci_text(r, "priority_weighted_score"), "priority_weighted_score"),
]
#: every headline figure, for the per-dimension table (field, label, formatter)
DIMENSIONS: list[tuple[str, str, Callable[[float | None], str]]] = [
    ("success_rate", "success", pct), ("score", "checkpoint score", pct),
    ("priority_weighted_score", "priority-weighted score", pct), ("on_time_rate", "on time", pct),
    ("urgent_latency", "urgent latency (min)", lambda x: num(x, 1)),
    ("meetings_missed", "meetings missed / day", num), ("meetings_late", "meetings late / day", num),
    ("work_left", "work left / day", num), ("clue_discovery", "clue discovery", pct),
    ("unsupported_rate", "unsupported answers", pct), ("questions_per_clue", "questions / clue", num),
    ("noise", "noise / day", lambda x: num(x, 1)),
]


def pass_cell(r: RunRow, k: int, kind: str) -> str:
    row = next((p for p in r.reliability if p.k == k), None)
    if row is None:
        return "—"
    value, ci = (row.pass_hat_k, row.pass_hat_k_ci) if kind == "hat" else (row.pass_at_k, row.pass_at_k_ci)
    if value is None:
        return "—"
    return pct(value) + (f" [{100 * ci.low:.1f}, {100 * ci.high:.1f}]" if ci else "")
BEHAVIOUR_COLUMNS = [
    Column("run", lambda r: r.label, "label", numeric=False),
    Column("on time", lambda r: pct(r.on_time_rate), "on_time_rate"),
    Column("urgent", lambda r: minutes(r.urgent_latency), "urgent_latency"),
    Column("missed", lambda r: num(r.meetings_missed), "meetings_missed"),
    Column("late", lambda r: num(r.meetings_late), "meetings_late"),
    Column("left", lambda r: num(r.work_left), "work_left"),
    Column("clues", lambda r: pct(r.clue_discovery), "clue_discovery"),
    Column("unsupp.", lambda r: pct(r.unsupported_rate), "unsupported_rate"),
    Column("noise", lambda r: num(r.noise, 1), "noise"),
    Column("q/clue", lambda r: num(r.questions_per_clue, 1), "questions_per_clue"),
]
SCHEDULING_COLUMNS = [
    Column("run", lambda r: r.label, "label", numeric=False),
    Column("on time", lambda r: pct(r.on_time_rate), "on_time_rate"),
    Column("submitted", lambda r: pct(r.submitted_on_time_rate), "submitted_on_time_rate"),
    Column("sched. eff.", lambda r: pct(r.schedule_efficiency), "schedule_efficiency"),
    Column("inversions", lambda r: num(r.priority_inversions, 1), "priority_inversions"),
    Column("inv. min", lambda r: num(r.inversion_minutes, 0), "inversion_minutes"),
    Column("interrupt", lambda r: minutes(r.interruption_response), "interruption_response"),
    Column("resumed", lambda r: pct(r.resumed_rate), "resumed_rate"),
]
SCHEDULING_CAPTION = ("on time: priority-weighted share of tasks passed by their deadline · submitted: ... submitted "
                      "by the deadline, right or not · sched. eff.: priority-weighted score / best achievable · "
                      "inversions, inv. min: calls (and their minutes) on a task while a more important ready task "
                      "with no later deadline waited, per day · interrupt: minutes from an urgent arrival to the "
                      "first action on it · resumed: pre-empted work taken up again (docs/scheduling.md)")
OUTCOME_CAPTION = ("a.err: episodes an agent error ended (every task scored 0, in the averages) · i.err: "
                   "infrastructure errors (left out of the averages; --retry-errors reruns them)")
BEHAVIOUR_CAPTION = ("on time: priority-weighted share passed by the deadline · urgent: minutes to first "
                     "submission of urgent tasks · missed/late: meetings per day · left: tasks never submitted "
                     "per day · clues: clue discovery · unsupp.: answers given before their clues were seen · "
                     "noise: stray and mass messages and needless bookings per day · q/clue: messages per "
                     "colleague clue found")


def family_cell(r: RunRow, family: str) -> str:
    row = next((f for f in r.families if f.family == family), None)
    return "—" if row is None else f"{pct(row.score)} / {pct(row.success_rate)} ({row.tasks})"


def _table(title: str, columns: list[Column], rows: list[RunRow], caption: str | None = None) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, caption=caption,
                  caption_justify="left", caption_style="dim")
    for col in columns:
        # numbers never wrap (a wrapped "100.0%" is misread); names fold if the terminal is narrow
        table.add_column(col.header, justify="right" if col.numeric else "left", no_wrap=col.numeric,
                         overflow="fold")
    for r in rows:
        table.add_row(*(col.cell(r) for col in columns))
    return table


def render_report(report: Report, console: Console, *, families: bool = True, dimensions: bool = True) -> None:
    """Print the leaderboard tables to a rich console."""
    if not report.runs:
        console.print("no runs")
        return
    # the error columns only when some run has errors (a terminal is narrow; --json and HTML always have them)
    errors = any(r.agent_errors or r.infrastructure_errors for r in report.runs)
    columns = [c for c in OUTCOME_COLUMNS if errors or c.field not in ("agent_errors", "infrastructure_errors")]
    console.print(_table("Leaderboard", columns, report.runs, OUTCOME_CAPTION if errors else None))
    for r in report.runs:
        privileged = ", privileged agent (reads the hidden answers: an upper bound)" if r.privileged else ""
        agent_process = agent_sandbox_text(r)
        agent_process = f", {agent_process}" if agent_process else ""
        console.print(f"{escape(r.label)}: suite {r.suite_hash[:12]}, run_python sandbox {r.sandbox or 'unrecorded'}"
                      f"{agent_process}{privileged}", highlight=False)
    console.print(_table("Scheduling and exploration", BEHAVIOUR_COLUMNS, report.runs, BEHAVIOUR_CAPTION))
    if any(r.schedule_efficiency is not None for r in report.runs):  # runs saved before 0.2 have no such figures
        console.print(_table("Scheduling", SCHEDULING_COLUMNS, report.runs, SCHEDULING_CAPTION))
    console.print()
    if families and report.families:
        table = Table(title="Per family: score / success (tasks)", title_justify="left", title_style="bold",
                      box=box.SIMPLE_HEAD)
        table.add_column("family", overflow="fold")
        for r in report.runs:
            table.add_column(r.label, justify="right", no_wrap=True)
        for fam in report.families:
            table.add_row(fam, *(family_cell(r, fam) for r in report.runs))
        console.print(table)
    if dimensions:
        table = Table(title="Per dimension, with 95% bootstrap intervals (scenarios resampled)",
                      title_justify="left", title_style="bold", box=box.SIMPLE_HEAD)
        table.add_column("dimension", overflow="fold")
        for r in report.runs:
            table.add_column(r.label, justify="right", no_wrap=True)
        for field, name, fmt in DIMENSIONS:
            table.add_row(name, *(ci_text(r, field, fmt) for r in report.runs))
        console.print(table)
        max_k = max(r.trials for r in report.runs)
        if max_k > 1:
            table = Table(title="Reliability over repeated trials: pass^k (all k succeed) / pass@k (any of k)",
                          title_justify="left", title_style="bold", box=box.SIMPLE_HEAD)
            table.add_column("k", justify="right")
            for r in report.runs:
                table.add_column(f"{r.label} pass^k", justify="right", no_wrap=True)
                table.add_column(f"{r.label} pass@k", justify="right", no_wrap=True)
            for k in range(1, max_k + 1):
                table.add_row(str(k), *(c for r in report.runs for c in (pass_cell(r, k, "hat"),
                                                                          pass_cell(r, k, "at"))))
            console.print(table)
    for w in report.warnings:
        if SCORING_DEFECTS in w:
            console.print(f"[bold red]{escape(w)}[/bold red]", highlight=False)
        else:
            console.print(f"[yellow]warning:[/yellow] {w}", highlight=False)
