"""The hint ladder: one agent run once per hint tier on the same suite, scored per tier (docs/hints.md).

``DIR/<tier>/`` holds one run folder per tier (written by ``firstday hints``); :func:`build_ladder`
reads them and gives, per tier, the checkpoint score, success rate, on-time rate and unsupported-answer
rate, overall and per difficulty, each with a 95 % bootstrap interval that resamples scenarios (as the
leaderboard does, :mod:`firstday.report.stats`). The tiers must have been run on the same instances:
same suite hash in every run manifest, and the same ``instance_hash`` for every episode that has one.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Final, Literal

from pydantic import BaseModel, Field
from rich import box
from rich.console import Console
from rich.table import Table

from firstday._version import __version__
from firstday.errors import ConfigError
from firstday.report.leaderboard import _ratio_parts, counted_episodes, pct
from firstday.report.stats import Interval, bootstrap_ratio
from firstday.run.results import EpisodeSummary, RunFolder
from firstday.scoring.cards import TaskScore

LADDER_FORMAT: Final = "firstday.hints/1"
LADDER_JSON = "hints.json"
LADDER_PNG = "hints.png"
FIGURES: tuple[str, ...] = ("score", "success_rate", "on_time_rate", "unsupported_rate")
FIGURE_NAMES = {"score": "score", "success_rate": "success", "on_time_rate": "on time",
                "unsupported_rate": "unsupported"}
GROUPS: tuple[str, ...] = ("all", "easy", "medium", "hard")


class LadderRow(BaseModel):
    tier: str
    difficulty: str = Field(description="'all', or the tasks of one difficulty")
    tasks: int = Field(description="scored tasks")
    score: float | None = Field(description="mean checkpoint score (on time only), over tasks")
    success_rate: float | None = Field(description="share of tasks with every checkpoint passed on time")
    on_time_rate: float | None = Field(description="priority-weighted share of tasks submitted by the deadline")
    unsupported_rate: float | None = Field(
        description="share of attempted answer-bearing checkpoints attempted before their clues were seen")
    intervals: dict[str, Interval] = Field(
        default_factory=dict, description="95 % bootstrap interval of each figure (scenarios resampled)")


class HintLadder(BaseModel):
    """``DIR/hints.json``: the hint ladder of one agent on one suite."""

    format: Literal["firstday.hints/1"] = LADDER_FORMAT
    firstday_version: str
    agent: str
    suite_name: str
    suite_hash: str
    tiers: list[str]
    runs: dict[str, str] = Field(description="tier -> run folder")
    episodes: dict[str, int] = Field(description="tier -> finished ok episodes")
    rows: list[LadderRow]
    warnings: list[str] = Field(default_factory=list)

    def row(self, tier: str, difficulty: str = "all") -> LadderRow | None:
        return next((r for r in self.rows if r.tier == tier and r.difficulty == difficulty), None)


def _row(tier: str, difficulty: str, ok: list[EpisodeSummary]) -> LadderRow:
    def pick(e: EpisodeSummary) -> list[TaskScore]:
        # a task with a scoring defect counts 0, as in every average (docs/scoring.md)
        return [t for t in e.tasks if difficulty == "all" or t.difficulty == difficulty]

    tasks = [t for e in ok for t in pick(e)]
    total = _ratio_parts(tasks, [])
    values = {f: (total[f][0] / total[f][1] if total[f][1] else None) for f in FIGURES}
    by_scenario: dict[str, list[TaskScore]] = defaultdict(list)
    for e in ok:
        by_scenario[e.scenario_id].extend(pick(e))
    parts = [_ratio_parts(ts, []) for _, ts in sorted(by_scenario.items())]
    intervals = {}
    for f in FIGURES:
        ci = bootstrap_ratio([p[f][0] for p in parts], [p[f][1] for p in parts], seed=f"hints:{difficulty}:{f}")
        if ci is not None:
            intervals[f] = ci
    return LadderRow(tier=tier, difficulty=difficulty, tasks=len(tasks), intervals=intervals, **values)


def build_ladder(out_dir: Path | str, tiers: list[str]) -> HintLadder:
    """Read ``out_dir/<tier>/`` for every tier and aggregate. Raises ``ConfigError`` if a tier's folder is
    not a run, or if the tiers were not run by one agent on the same instances."""
    out = Path(out_dir)
    manifests, episodes = {}, {}
    for tier in tiers:
        folder = RunFolder(out / tier)
        manifests[tier] = folder.read_manifest()
        episodes[tier] = folder.read_episodes()
    first = manifests[tiers[0]]
    for tier, m in manifests.items():
        if m.env_config.hints != tier:
            raise ConfigError(f"{out / tier} was run with hints={m.env_config.hints!r}, not {tier!r}")
        if m.suite_hash != first.suite_hash:
            raise ConfigError(f"the tiers were run on different suites ({tiers[0]}: {first.suite_hash[:12]}, "
                              f"{tier}: {m.suite_hash[:12]}); run every tier on the same suite")
        if m.agent != first.agent or m.agent_options != first.agent_options:
            raise ConfigError(f"the tiers were run with different agents or options ({tiers[0]}: {first.agent}, "
                              f"{tier}: {m.agent}); use one agent for the whole ladder")
    seen: dict[str, tuple[str, str]] = {}
    for tier in tiers:
        for e in episodes[tier]:
            if e.instance_hash is None:
                continue
            key = f"{e.scenario_id}-d{e.day_index}"
            if key in seen and seen[key][0] != e.instance_hash:
                raise ConfigError(f"episode {key} was run on different instances in tier {seen[key][1]} and "
                                  f"tier {tier} (instance hashes differ); rerun the ladder on one suite")
            seen.setdefault(key, (e.instance_hash, tier))
    ok = {t: counted_episodes(episodes[t]) for t in tiers}  # agent-error episodes count, scored 0
    rows = [_row(t, g, ok[t]) for t in tiers for g in GROUPS]
    warnings = []
    for t in tiers:
        expected = manifests[t].n_episodes
        if len(episodes[t]) < expected:
            warnings.append(f"tier {t}: incomplete, {len(episodes[t])} of {expected} episodes (rerun to finish it)")
        errors = sum(1 for e in episodes[t] if e.status == "error")
        if errors:
            warnings.append(f"tier {t}: {errors} error episode(s) left out of the figures")
    keys = {t: {(e.scenario_id, e.day_index, e.trial) for e in ok[t]} for t in tiers}
    if any(keys[t] != keys[tiers[0]] for t in tiers):
        warnings.append("the tiers do not cover the same episodes yet: compare them once every tier is complete")
    return HintLadder(firstday_version=__version__, agent=first.agent, suite_name=first.suite_name,
                      suite_hash=first.suite_hash, tiers=list(tiers), runs={t: str(out / t) for t in tiers},
                      episodes={t: len(ok[t]) for t in tiers}, rows=rows, warnings=warnings)


def _cell(r: LadderRow | None, field: str) -> str:
    if r is None:
        return "—"
    value = getattr(r, field)
    ci = r.intervals.get(field)
    if value is None or ci is None:
        return pct(value)
    return f"{pct(value)} [{100 * ci.low:.0f}, {100 * ci.high:.0f}]"


def render_ladder(ladder: HintLadder, console: Console) -> None:
    """Print the ladder: tier x figure overall, then the score per tier and difficulty."""
    table = Table(title=f"Hint ladder: {ladder.agent} on {ladder.suite_name} (95% CI, scenarios resampled)",
                  title_justify="left", title_style="bold", box=box.SIMPLE_HEAD)
    table.add_column("tier")
    table.add_column("tasks", justify="right")
    for f in FIGURES:
        table.add_column(FIGURE_NAMES[f], justify="right", no_wrap=True)
    for t in ladder.tiers:
        r = ladder.row(t)
        table.add_row(t, str(r.tasks if r else 0), *(_cell(r, f) for f in FIGURES))
    console.print(table)
    for field in ("score", "success_rate"):
        table = Table(title=f"{FIGURE_NAMES[field].capitalize()} per difficulty (tasks)", title_justify="left",
                      title_style="bold", box=box.SIMPLE_HEAD)
        table.add_column("tier")
        for g in GROUPS[1:]:
            table.add_column(g, justify="right", no_wrap=True)
        for t in ladder.tiers:
            cells = []
            for g in GROUPS[1:]:
                r = ladder.row(t, g)
                cells.append("—" if r is None or not r.tasks else f"{_cell(r, field)} ({r.tasks})")
            table.add_row(t, *cells)
        console.print(table)
    for w in ladder.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}", highlight=False)


def ladder_markdown(ladder: HintLadder) -> str:
    """The ladder as a Markdown table (for docs): overall figures, then the score per difficulty."""
    head = "| tier | tasks | " + " | ".join(FIGURE_NAMES[f] for f in FIGURES) + " | " + \
        " | ".join(f"score {g}" for g in GROUPS[1:]) + " |"
    lines = [head, "|" + "---|" * (2 + len(FIGURES) + len(GROUPS) - 1)]
    for t in ladder.tiers:
        r = ladder.row(t)
        per = []
        for g in GROUPS[1:]:
            rg = ladder.row(t, g)
            per.append("—" if rg is None or not rg.tasks else f"{_cell(rg, 'score')} ({rg.tasks})")
        lines.append(f"| {t} | {r.tasks if r else 0} | " + " | ".join(_cell(r, f) for f in FIGURES) + " | "
                     + " | ".join(per) + " |")
    return "\n".join(lines) + "\n"


def write_ladder(ladder: HintLadder, out_dir: Path | str) -> tuple[Path, Path]:
    """Write ``hints.json`` and ``hints.png`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    js = out / LADDER_JSON
    js.write_text(ladder.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return js, plot_ladder(ladder, out / LADDER_PNG)


def plot_ladder(ladder: HintLadder, path: Path | str) -> Path:
    """``hints.png``: score by tier, one line per difficulty (and overall), with 95 % intervals; in percent
    (the unit of every table and of the learning plot), each line labelled with its number of tasks."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=120)
    xs = list(range(len(ladder.tiers)))
    drawn = False
    for g in GROUPS:
        pts = [(x, r) for x, t in zip(xs, ladder.tiers, strict=True)
               if (r := ladder.row(t, g)) is not None and r.tasks and r.score is not None]
        if not pts:
            continue
        ys = [100 * (r.score or 0.0) for _, r in pts]
        lo = [max(0.0, y - 100 * (r.intervals["score"].low if "score" in r.intervals else y / 100))
              for y, (_, r) in zip(ys, pts, strict=True)]
        hi = [max(0.0, 100 * (r.intervals["score"].high if "score" in r.intervals else y / 100) - y)
              for y, (_, r) in zip(ys, pts, strict=True)]
        sizes = sorted({r.tasks for _, r in pts})  # the same tasks at every tier, unless a run is unfinished
        n = f"n={sizes[0]}" if len(sizes) == 1 else f"n={sizes[0]}-{sizes[-1]}"
        ax.errorbar([x for x, _ in pts], ys, yerr=[lo, hi], marker="o", capsize=3,
                    linewidth=2.5 if g == "all" else 1.5, linestyle="-" if g == "all" else "--",
                    label=f"{'all tasks' if g == 'all' else g} ({n} tasks)")
        drawn = True
    ax.set_xticks(xs, ladder.tiers)
    ax.set_ylim(0, 105)
    ax.set_xlabel("hint tier")
    ax.set_ylabel("checkpoint score (%)")
    ax.set_title(f"Hint ladder: {ladder.agent} on {ladder.suite_name} (95% CI)")
    ax.grid(alpha=0.3)
    if drawn:  # (an empty legend is a matplotlib warning)
        ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out)
    plt.close(fig)
    return out
