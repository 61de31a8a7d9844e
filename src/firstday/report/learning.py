"""The learning metric: an agent run with memory against its paired control without memory (docs/learning.md).

``learning_report(treatment_dir, control_dir)`` reads two run folders of the same agent (same options,
environment and seed) on the same suite, the treatment with ``EnvConfig.memory`` on and the control
with it off, checks that every paired episode saw byte-identical instances (``instance_hash``), and
computes (days are 1-based in the report, as in the docs):

* for a (scenario, trial) and a day k >= 2, the **recurring** meta-tasks are those (family/variant/
  difficulty, ``TaskScore.meta_task``) scored on day 1 and on day k in both runs; a meta-task's score on
  a day is the mean checkpoint score of its tasks that day;
* the **paired change** d = mean over the recurring meta-tasks m of (T_k(m) - T_1(m)) - (C_k(m) - C_1(m));
* the **learning gain**: the mean of d over every (scenario, trial, day k >= 2) with a recurring
  meta-task, with a 95 % cluster-bootstrap interval resampling scenarios (:mod:`firstday.report.stats`);
  also per day k, per family (d restricted to the family's recurring meta-tasks), and on stationary
  versus mutable days (a day is *stationary* if every meta-task on it was on day 1, else *mutable*),
  with the scores of both runs on the new (not on day 1) meta-tasks of mutable days;
* **forgetting**: for a meta-task on day a, absent on the days after it and back on day b > a + 1,
  (T_a - C_a) - (T_b - C_b): the memory advantage lost over the gap, averaged over such returns.

Every figure is a ratio of sums over units (Σ values / number of units) and its interval resamples
scenarios, as the leaderboard's do. Pairs with an error episode on either side are dropped and counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

from pydantic import BaseModel, Field
from rich import box
from rich.console import Console
from rich.table import Table

from firstday._version import __version__
from firstday.errors import ConfigError
from firstday.report.leaderboard import counted_episodes
from firstday.report.stats import Interval, bootstrap_ratio
from firstday.run.results import EpisodeSummary, RunFolder, RunManifest, episode_key

LEARNING_FORMAT: Final = "firstday.learning/1"
LEARNING_JSON = "learning.json"
LEARNING_PNG = "score_by_day.png"
MAX_LISTED = 8  # episode keys named in an error message


class Estimate(BaseModel):
    """A mean over units with its 95 % cluster-bootstrap interval (scenarios resampled)."""

    value: float | None = Field(description="mean over the units; None with no unit")
    ci: Interval | None = Field(default=None, description="None with fewer than 2 scenarios")
    units: int = Field(default=0, description="units averaged (scenario-days, meta-tasks, returns: see the field)")
    scenarios: int = Field(default=0, description="scenarios with at least one unit (the bootstrap's clusters)")


class DayGain(BaseModel):
    day: int = Field(description="1-based day (>= 2)")
    gain: Estimate = Field(description="mean paired change d over the (scenario, trial)s of this day")
    treatment_change: Estimate = Field(description="mean over the same units of T_k - T_1 on recurring meta-tasks")
    control_change: Estimate = Field(description="mean over the same units of C_k - C_1 on recurring meta-tasks")
    stationary: int = Field(description="(scenario, trial)s on which this day is stationary")
    mutable: int = Field(description="(scenario, trial)s on which this day is mutable")


class DayScores(BaseModel):
    day: int = Field(description="1-based day")
    treatment: Estimate = Field(description="treatment's mean checkpoint score over every scored task of the day")
    control: Estimate = Field(description="control's mean checkpoint score over every scored task of the day")
    treatment_recurring: Estimate = Field(
        description="treatment's mean score on recurring meta-tasks (day 1: those recurring on a later day), "
                    "one unit per (scenario, trial, meta-task)")
    control_recurring: Estimate = Field(description="as treatment_recurring, for the control")


class FamilyGain(BaseModel):
    family: str
    gain: Estimate = Field(description="mean over scenario-days of d restricted to the family's recurring "
                                       "meta-tasks")


class KindGain(BaseModel):
    kind: Literal["stationary", "mutable"]
    days: int = Field(description="scenario-days (k >= 2, over trials) of this kind")
    gain: Estimate = Field(description="learning gain on the recurring meta-tasks of days of this kind")
    treatment_new: Estimate | None = Field(
        default=None, description="mutable days: treatment's mean score on new meta-tasks (not on day 1), one unit "
                                  "per (scenario, trial, day, meta-task)")
    control_new: Estimate | None = Field(default=None, description="mutable days: the control's, same units")
    new_difference: Estimate | None = Field(
        default=None, description="mutable days: mean of T_k(m) - C_k(m) over the same new meta-tasks")


class LearningReport(BaseModel):
    """``DIR/learning.json``: the learning gain of one agent (treatment with memory vs paired control)."""

    format: Literal["firstday.learning/1"] = LEARNING_FORMAT
    firstday_version: str
    agent: str
    agent_options: dict[str, object]
    suite_name: str
    suite_hash: str
    treatment: str = Field(description="run folder with memory")
    control: str = Field(description="run folder without memory")
    days: int = Field(description="days per scenario")
    trials: int
    paired_episodes: int = Field(description="(scenario, day, trial)s finished ok in both runs")
    dropped_pairs: list[str] = Field(
        default_factory=list, description="episode keys dropped because either run has an error episode there")
    unpaired: list[str] = Field(default_factory=list, description="episode keys finished in only one of the runs")
    gain: Estimate = Field(description="learning gain: mean paired change d over (scenario, trial, day k >= 2)")
    treatment_change: Estimate = Field(description="mean of T_k - T_1 over the same units (recurring meta-tasks)")
    control_change: Estimate = Field(description="mean of C_k - C_1 over the same units (recurring meta-tasks)")
    per_day: list[DayGain]
    score_by_day: list[DayScores]
    families: list[FamilyGain]
    kinds: list[KindGain] = Field(description="stationary and mutable days")
    forgetting: Estimate | None = Field(
        description="mean of (T_a - C_a) - (T_b - C_b) over meta-tasks that come back on day b after a gap "
                    "(last seen on day a < b - 1); None when no meta-task comes back after a gap")
    forgetting_reason: str | None = Field(default=None, description="why forgetting is None")
    warnings: list[str] = Field(default_factory=list)

    def day(self, k: int) -> DayGain | None:
        return next((d for d in self.per_day if d.day == k), None)

    def kind(self, name: str) -> KindGain | None:
        return next((g for g in self.kinds if g.kind == name), None)


# ---- computation ---------------------------------------------------------------------------------------

@dataclass
class _Units:
    """Values grouped by scenario: an estimate is Σ values / count, its interval resamples scenarios."""

    by_scenario: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def add(self, scenario: str, value: float) -> None:
        self.by_scenario[scenario].append(value)

    def estimate(self, seed: str) -> Estimate:
        keys = sorted(k for k, v in self.by_scenario.items() if v)
        nums = [sum(self.by_scenario[k]) for k in keys]
        dens = [len(self.by_scenario[k]) for k in keys]
        n = sum(dens)
        return Estimate(value=sum(nums) / n if n else None, ci=bootstrap_ratio(nums, dens, seed=f"learning:{seed}"),
                        units=n, scenarios=len(keys))


@dataclass
class _Day:
    """One paired (scenario, day, trial): meta-task -> mean score in each run, and every meta-task of the day."""

    t: dict[str, float]
    c: dict[str, float]
    metas: set[str]
    t_tasks: list[float]
    c_tasks: list[float]
    family: dict[str, str]


def _meta_scores(e: EpisodeSummary) -> dict[str, float]:
    by: dict[str, list[float]] = defaultdict(list)
    for t in e.tasks:  # a task with a scoring defect counts 0 (its score is 0.0; None in older runs)
        by[t.meta_task].append(t.score or 0.0)
    return {m: sum(v) / len(v) for m, v in by.items()}


def _task_scores(e: EpisodeSummary) -> list[float]:
    return [t.score or 0.0 for t in e.tasks]  # a scoring defect counts 0


def _listed(keys: Iterable[str]) -> str:
    keys = list(keys)
    more = f" and {len(keys) - MAX_LISTED} more" if len(keys) > MAX_LISTED else ""
    return ", ".join(keys[:MAX_LISTED]) + more


def _check_manifests(t_dir: Path, c_dir: Path, t: RunManifest, c: RunManifest) -> None:
    if not t.env_config.memory:
        raise ConfigError(f"{t_dir} was run without memory: the treatment must be a run with memory "
                          "(firstday run --memory, or firstday learn)")
    if c.env_config.memory:
        raise ConfigError(f"{c_dir} was run with memory: the control must be the same agent without memory")
    if t.suite_hash != c.suite_hash:
        raise ConfigError(f"the runs were made on different suites (treatment {t.suite_hash[:12]}, control "
                          f"{c.suite_hash[:12]}); run the control on the treatment's suite")
    if t.agent != c.agent or t.model_dump(mode="json")["agent_options"] != c.model_dump(mode="json")["agent_options"]:
        raise ConfigError(f"the runs used different agents or options (treatment {t.agent} {t.agent_options}, "
                          f"control {c.agent} {c.agent_options}); the control must be the same agent")
    te, ce = t.env_config.model_dump(mode="json"), c.env_config.model_dump(mode="json")
    # where agent code ran (sandbox, require_sandbox) does not make runs incomparable; the report warns of it
    differ = [k for k in te if k not in ("memory", "sandbox", "require_sandbox") and te[k] != ce.get(k)]
    if differ:
        raise ConfigError("the runs differ in more than memory: environment " + ", ".join(
            f"{k} {te[k]!r} (treatment) vs {ce.get(k)!r} (control)" for k in differ))
    if t.seed != c.seed:
        raise ConfigError(f"the runs used different seeds ({t.seed} vs {c.seed}); the control must use the "
                          "treatment's seed")


def _counted(e: EpisodeSummary) -> EpisodeSummary | None:
    counted = counted_episodes([e])
    return counted[0] if counted else None


def _pair(t_eps: list[EpisodeSummary], c_eps: list[EpisodeSummary], t_dir: Path,
          c_dir: Path) -> tuple[dict[tuple[str, int, int], _Day], list[str], list[str]]:
    """Paired ok episodes by (scenario, trial, day), the keys dropped for an error, the keys on one side only.
    Raises ``ConfigError`` if paired episodes saw different instances or a run's memory flags are wrong."""
    t_by = {(e.scenario_id, e.trial, e.day_index): e for e in t_eps}
    c_by = {(e.scenario_id, e.trial, e.day_index): e for e in c_eps}
    wrong_memory = [e.key for e in t_eps if e.status == "ok" and not e.memory]
    if wrong_memory:
        raise ConfigError(f"episodes of the treatment {t_dir} ran without memory: {_listed(wrong_memory)}")
    wrong_memory = [e.key for e in c_eps if e.status == "ok" and e.memory]
    if wrong_memory:
        raise ConfigError(f"episodes of the control {c_dir} ran with memory: {_listed(wrong_memory)}")
    paired: dict[tuple[str, int, int], _Day] = {}
    dropped, unpaired, differ, unknown = [], [], [], []
    for key in sorted(set(t_by) | set(c_by)):
        name = episode_key(key[0], key[2], key[1])
        te, ce = t_by.get(key), c_by.get(key)
        if te is None or ce is None:
            unpaired.append(name)
            continue
        if te.instance_hash and ce.instance_hash and te.instance_hash != ce.instance_hash:
            differ.append(name)
            continue
        te, ce = _counted(te), _counted(ce)  # an agent error counts, scored 0: only other errors drop a pair
        if te is None or ce is None:
            dropped.append(name)
            continue
        if not te.instance_hash or not ce.instance_hash:
            unknown.append(name)
            continue
        paired[key] = _Day(t=_meta_scores(te), c=_meta_scores(ce), metas={x.meta_task for x in te.tasks},
                           t_tasks=_task_scores(te), c_tasks=_task_scores(ce),
                           family={x.meta_task: x.family for x in te.tasks})
    if differ:
        raise ConfigError(f"the control did not see the same instances as the treatment: episodes {_listed(differ)} "
                          f"have different instance hashes in {t_dir} and {c_dir}; run both on one suite")
    if unknown:
        raise ConfigError(f"episodes {_listed(unknown)} have no instance hash (written by an older firstday), so the "
                          "pairing cannot be checked; rerun them")
    return paired, dropped, unpaired


def learning_report(treatment_dir: Path | str, control_dir: Path | str) -> LearningReport:
    """The learning gain of the treatment run (memory on) over its paired control (memory off).

    Raises ``ConfigError`` if either folder is not a run, if the runs are not a pair (suite, agent,
    options, environment apart from memory, seed) or if a paired episode saw different instances."""
    t_dir, c_dir = Path(treatment_dir), Path(control_dir)
    t_folder, c_folder = RunFolder(t_dir), RunFolder(c_dir)
    try:
        tm, cm = t_folder.read_manifest(), c_folder.read_manifest()
        _check_manifests(t_dir, c_dir, tm, cm)
        t_eps, c_eps = t_folder.read_episodes(), c_folder.read_episodes()
    finally:
        t_folder.close()
        c_folder.close()
    paired, dropped, unpaired = _pair(t_eps, c_eps, t_dir, c_dir)
    n_days = max((e.day_index for e in [*t_eps, *c_eps]), default=-1) + 1
    if n_days < 2:
        raise ConfigError("the runs have a single day per scenario: the learning gain compares later days with the "
                          "first (generate a multi-day suite, e.g. --preset continual)")

    chains: dict[tuple[str, int], dict[int, _Day]] = defaultdict(dict)
    for (sid, trial, day), d in paired.items():
        chains[(sid, trial)][day] = d

    gain, t_change, c_change = _Units(), _Units(), _Units()
    day_gain = {k: (_Units(), _Units(), _Units()) for k in range(1, n_days)}
    day_kinds = {k: {"stationary": 0, "mutable": 0} for k in range(1, n_days)}
    fam_gain: dict[str, _Units] = defaultdict(_Units)
    kind_gain = {"stationary": _Units(), "mutable": _Units()}
    kind_days = {"stationary": 0, "mutable": 0}
    new_t, new_c, new_diff = _Units(), _Units(), _Units()
    scores_t = {k: _Units() for k in range(n_days)}
    scores_c = {k: _Units() for k in range(n_days)}
    rec_t = {k: _Units() for k in range(n_days)}
    rec_c = {k: _Units() for k in range(n_days)}
    forget = _Units()
    no_first = 0

    for (sid, _trial), days in sorted(chains.items()):
        for k, ep in days.items():
            for s in ep.t_tasks:
                scores_t[k].add(sid, s)
            for s in ep.c_tasks:
                scores_c[k].add(sid, s)
        first = days.get(0)
        if first is None:
            no_first += 1
        else:
            recurring_any: set[str] = set()
            for k in range(1, n_days):
                if k not in days:
                    continue
                d = days[k]
                kind = "stationary" if d.metas <= first.metas else "mutable"
                day_kinds[k][kind] += 1
                kind_days[kind] += 1
                rec = sorted(set(first.t) & set(first.c) & set(d.t) & set(d.c))
                recurring_any.update(rec)
                for m in rec:
                    rec_t[k].add(sid, d.t[m])
                    rec_c[k].add(sid, d.c[m])
                if rec:
                    dt = [d.t[m] - first.t[m] for m in rec]
                    dc = [d.c[m] - first.c[m] for m in rec]
                    value = sum(a - b for a, b in zip(dt, dc, strict=True)) / len(rec)
                    for units, v in ((gain, value), (t_change, sum(dt) / len(rec)), (c_change, sum(dc) / len(rec))):
                        units.add(sid, v)
                    for units, v in zip(day_gain[k], (value, sum(dt) / len(rec), sum(dc) / len(rec)), strict=True):
                        units.add(sid, v)
                    kind_gain[kind].add(sid, value)
                    by_family: dict[str, list[float]] = defaultdict(list)
                    for m, a, b in zip(rec, dt, dc, strict=True):
                        by_family[d.family[m]].append(a - b)
                    for fam, vs in by_family.items():
                        fam_gain[fam].add(sid, sum(vs) / len(vs))
                if kind == "mutable":
                    for m in sorted((set(d.t) & set(d.c)) - first.metas):
                        new_t.add(sid, d.t[m])
                        new_c.add(sid, d.c[m])
                        new_diff.add(sid, d.t[m] - d.c[m])
            for m in sorted(recurring_any):
                rec_t[0].add(sid, first.t[m])
                rec_c[0].add(sid, first.c[m])
        # forgetting: a meta-task back on day b after days without it, last seen on day a < b - 1
        for b in range(2, n_days):
            db = days.get(b)
            if db is None:
                continue
            for m in sorted(set(db.t) & set(db.c)):
                a = b - 1
                while a >= 0 and a in days and m not in days[a].metas:
                    a -= 1
                if a < 0 or a == b - 1 or a not in days:
                    continue  # never seen before, no gap, or a day of the gap is unknown (not paired)
                da = days[a]
                if m in da.t and m in da.c:
                    forget.add(sid, (da.t[m] - da.c[m]) - (db.t[m] - db.c[m]))

    forgetting = forget.estimate("forgetting") if forget.by_scenario else None
    reason = None
    if forgetting is None:
        reason = "no meta-task came back after a day without it"
        if n_days < 3:
            reason += " (a return after a gap needs at least 3 days)"
        elif not kind_days["mutable"]:
            reason += " (every later day is stationary: run a mutable suite, e.g. --preset continual-mutable)"

    kinds = []
    kind_name: Literal["stationary", "mutable"]
    for kind_name in ("stationary", "mutable"):
        row = KindGain(kind=kind_name, days=kind_days[kind_name], gain=kind_gain[kind_name].estimate(
            f"kind:{kind_name}"))
        if kind_name == "mutable":
            row.treatment_new = new_t.estimate("new:treatment")
            row.control_new = new_c.estimate("new:control")
            row.new_difference = new_diff.estimate("new:difference")
        kinds.append(row)

    warnings = []
    for name, man, eps in (("treatment", tm, t_eps), ("control", cm, c_eps)):
        if len(eps) < man.n_episodes:
            warnings.append(f"the {name} run is incomplete: {len(eps)} of {man.n_episodes} episodes (rerun the same "
                            "command to finish it)")
    if dropped:
        warnings.append(f"{len(dropped)} pair(s) dropped for an error episode on either side: {_listed(dropped)}")
    if unpaired:
        warnings.append(f"{len(unpaired)} episode(s) finished in only one run: {_listed(unpaired)}")
    if no_first:
        warnings.append(f"{no_first} (scenario, trial)(s) have no paired first day and do not count in the gain")
    est = gain.estimate("gain")
    if est.scenarios < 2:
        warnings.append("no confidence interval: it resamples scenarios and fewer than 2 have a recurring meta-task")
    elif est.scenarios < 10:
        warnings.append(f"the confidence intervals come from only {est.scenarios} scenarios: they are rough")

    return LearningReport(
        firstday_version=__version__, agent=tm.agent, agent_options=dict(tm.agent_options), suite_name=tm.suite_name,
        suite_hash=tm.suite_hash, treatment=str(t_dir), control=str(c_dir), days=n_days,
        trials=max(tm.trials, cm.trials), paired_episodes=len(paired), dropped_pairs=dropped, unpaired=unpaired,
        gain=est, treatment_change=t_change.estimate("treatment-change"),
        control_change=c_change.estimate("control-change"),
        per_day=[DayGain(day=k + 1, gain=g.estimate(f"day{k}"), treatment_change=tc.estimate(f"day{k}:treatment"),
                         control_change=cc.estimate(f"day{k}:control"), **day_kinds[k])
                 for k, (g, tc, cc) in day_gain.items()],
        score_by_day=[DayScores(day=k + 1, treatment=scores_t[k].estimate(f"score{k}:treatment"),
                                control=scores_c[k].estimate(f"score{k}:control"),
                                treatment_recurring=rec_t[k].estimate(f"recurring{k}:treatment"),
                                control_recurring=rec_c[k].estimate(f"recurring{k}:control"))
                      for k in range(n_days)],
        families=[FamilyGain(family=f, gain=u.estimate(f"family:{f}")) for f, u in sorted(fam_gain.items())],
        kinds=kinds, forgetting=forgetting, forgetting_reason=reason, warnings=warnings,
    )


def write_learning(report: LearningReport, out_dir: Path | str) -> tuple[Path, Path]:
    """Write ``learning.json`` and ``score_by_day.png`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    js = out / LEARNING_JSON
    js.write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return js, plot_learning(report, out / LEARNING_PNG)


# ---- presentation --------------------------------------------------------------------------------------

def pts(x: float | None, signed: bool = True) -> str:
    """A difference of scores in percentage points: ``+4.2``."""
    return "—" if x is None else (f"{100 * x:+.1f}" if signed else f"{100 * x:.1f}")


def est_text(e: Estimate | None, signed: bool = True) -> str:
    """``+4.2 [1.0, 7.5]`` (points; a score with ``signed=False``: ``61.3 [55.0, 67.2]``)."""
    if e is None or e.value is None:
        return "—"
    if e.ci is None:
        return pts(e.value, signed)
    return f"{pts(e.value, signed)} [{pts(e.ci.low, signed)}, {pts(e.ci.high, signed)}]"


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD)
    for i, col in enumerate(columns):
        table.add_column(col, justify="left" if i == 0 else "right", no_wrap=i > 0, overflow="fold")
    return table


def render_learning(r: LearningReport, console: Console) -> None:
    """Print the learning report: the gain, per day, score by day, per family, stationary/mutable, forgetting."""
    head = _table(f"Learning gain: {r.agent} on {r.suite_name} (memory vs paired control; points, 95% CI, "
                  "scenarios resampled)", "figure", "value [95% CI]", "units", "scenarios")
    for name, e in (("learning gain (recurring meta-tasks)", r.gain),
                    ("treatment change, day 1 → k", r.treatment_change),
                    ("control change, day 1 → k", r.control_change)):
        head.add_row(name, est_text(e), str(e.units), str(e.scenarios))
    if r.forgetting is not None:
        head.add_row("forgetting (advantage lost after a gap)", est_text(r.forgetting), str(r.forgetting.units),
                     str(r.forgetting.scenarios))
    else:
        head.add_row("forgetting", "— (see below)", "0", "0")
    head.add_row("paired episodes", str(r.paired_episodes), "", "")
    head.add_row("dropped pairs (an error on either side)", str(len(r.dropped_pairs)), "", "")
    if r.unpaired:
        head.add_row("episodes in one run only", str(len(r.unpaired)), "", "")
    console.print(head)
    if r.forgetting is None:
        console.print(f"forgetting: {r.forgetting_reason}", style="dim", highlight=False)
        console.print()

    per_day = _table("Per day (points): paired change d from day 1", "day", "gain [95% CI]", "treatment Δ",
                     "control Δ", "units", "stationary / mutable")
    for d in r.per_day:
        per_day.add_row(str(d.day), est_text(d.gain), pts(d.treatment_change.value), pts(d.control_change.value),
                        str(d.gain.units), f"{d.stationary} / {d.mutable}")
    console.print(per_day)

    by_day = _table("Score by day (%): recurring meta-tasks, and every task", "day", "treatment recurring",
                    "control recurring", "treatment all", "control all")
    for s in r.score_by_day:
        by_day.add_row(str(s.day), est_text(s.treatment_recurring, False), est_text(s.control_recurring, False),
                       est_text(s.treatment, False), est_text(s.control, False))
    console.print(by_day)

    kinds = _table("Stationary vs mutable days (points)", "days", "scenario-days", "gain on recurring [95% CI]",
                   "new tasks: treatment", "new tasks: control", "new tasks: T − C [95% CI]")
    for g in r.kinds:
        kinds.add_row(g.kind, str(g.days), est_text(g.gain), est_text(g.treatment_new, False),
                      est_text(g.control_new, False), est_text(g.new_difference))
    console.print(kinds)

    if r.families:
        fams = _table("Per family (points)", "family", "gain [95% CI]", "scenario-days")
        for f in r.families:
            fams.add_row(f.family, est_text(f.gain), str(f.gain.units))
        console.print(fams)
    for w in r.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}", highlight=False)


def plot_learning(r: LearningReport, path: Path | str) -> Path:
    """``score_by_day.png``: left, treatment and control mean score (percent) on recurring meta-tasks by day
    with 95 % intervals; right, the paired gain by day (percentage points); each day labelled with its sample
    size (the difference the left panel's bars hide: both arms
    share each scenario's difficulty, so the paired interval is much narrower than either arm's)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def bars(points: list[tuple[float, Estimate]]) -> tuple[list[float], list[float], list[list[float]]]:
        xs = [x for x, _ in points]
        ys = [100 * (e.value or 0.0) for _, e in points]
        lows = [100 * (e.ci.low if e.ci else (e.value or 0.0)) for _, e in points]
        highs = [100 * (e.ci.high if e.ci else (e.value or 0.0)) for _, e in points]
        lo = [max(0.0, y - low) for y, low in zip(ys, lows, strict=True)]
        hi = [max(0.0, high - y) for y, high in zip(ys, highs, strict=True)]
        return xs, ys, [lo, hi]

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(9.6, 4.2), dpi=120, gridspec_kw={"width_ratios": [3, 2]})
    top = 0.0
    for offset, arm, label, color in ((-0.04, "treatment_recurring", "with memory", "tab:blue"),
                                      (0.04, "control_recurring", "control (no memory)", "tab:gray")):
        points = [(s.day + offset, e) for s in r.score_by_day if (e := getattr(s, arm)).value is not None]
        if not points:
            continue
        xs, ys, err = bars(points)
        top = max([top, *(y + h for y, h in zip(ys, err[1], strict=True))])
        ax.errorbar(xs, ys, yerr=err, marker="o", capsize=4, linewidth=2, color=color, label=label,
                    linestyle="-" if arm.startswith("treatment") else "--")
    days = [s.day for s in r.score_by_day]
    # each day's sample: the (scenario, trial)s averaged with memory (the control's are the same, paired)
    ax.set_xticks(days, [f"day {s.day}\nn={s.treatment_recurring.units}" for s in r.score_by_day])
    ax.set_xlim(0.7, len(days) + 0.3)
    ax.set_ylim(0, min(100.0, max(10.0, top * 1.25)))
    ax.set_ylabel("checkpoint score on recurring meta-tasks (%)")
    ax.set_xlabel("n: (scenario, trial, meta-task) units averaged", fontsize=8)
    ax.set_title("Score by day (95% CI)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=9)

    points = [(float(d.day), d.gain) for d in r.per_day if d.gain.value is not None]
    if points:
        xs, ys, err = bars(points)
        ax2.errorbar(xs, ys, yerr=err, marker="s", capsize=4, linewidth=0, elinewidth=2, color="tab:green")
    ax2.axhline(0.0, color="black", linewidth=0.8)
    low, high = ax2.get_ylim()
    ax2.set_ylim(min(low, -2.0), max(high, 2.0))
    later = [d.day for d in r.per_day]
    ax2.set_xticks(later, [f"day {d.day}\nn={d.gain.units}" for d in r.per_day])
    ax2.set_xlim(min(later) - 0.5, max(later) + 0.5)
    ax2.set_ylabel("paired gain d (percentage points)")
    ax2.set_xlabel("n: (scenario, trial) pairs", fontsize=8)
    ax2.set_title("Gain vs day 1, minus the control's (95% CI)", fontsize=10)
    ax2.grid(alpha=0.3)

    g = r.gain
    ci = f" [{pts(g.ci.low)}, {pts(g.ci.high)}]" if g.ci else ""
    fig.suptitle(f"{r.agent} on {r.suite_name}: learning gain {pts(g.value)} points{ci}", fontsize=11)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out)
    plt.close(fig)
    return out
