"""``firstday demo``: the offline tour."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from firstday.cli._common import stdout, user_errors
from firstday.errors import ConfigError

DEMO_AGENTS = ("oracle", "heuristic", "guess", "noop")
DEMO_LEARNING_SCENARIOS = 12  # of the continual preset: enough for an interval, a few seconds to run


@user_errors
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the suite, runs and report.")] = Path(
        "firstday-demo"),
    seed: Annotated[int, typer.Option(help="Seed of the generated suite.")] = 0,
) -> None:
    """Offline tour: generate the smoke suite, run the built-in agents, print the leaderboard, write HTML."""
    from firstday.agents import agent_names
    from firstday.report import build_report, render_report, write_html
    from firstday.run import run_suite
    from firstday.suites import generate_suite, load_suite, preset, save_suite, scenario_hash
    from firstday.suites.store import MANIFEST, suite_hash

    console = stdout()
    started = time.perf_counter()
    suite_dir = out / "suite"
    spec = preset("smoke", seed)
    scenarios = generate_suite(spec)
    content_hash = suite_hash(spec, {s.scenario_id: scenario_hash(s) for s in scenarios})
    if (suite_dir / MANIFEST).exists():
        existing = load_suite(suite_dir).manifest.content_hash
        if existing != content_hash:
            raise ConfigError(f"{suite_dir} holds a different suite (hash {existing[:12]}, this demo makes "
                              f"{content_hash[:12]}); use another --out, or delete {out}")
        console.print(f"suite: reusing {escape(str(suite_dir))} (hash {content_hash[:12]})")
    else:
        manifest = save_suite(spec, scenarios, suite_dir)
        console.print(f"suite: generated 'smoke' (seed {seed}) into {escape(str(suite_dir))}: "
                      f"{manifest.n_scenarios} scenarios, {manifest.n_tasks} tasks, hash {content_hash[:12]}")
    descriptions = agent_names()
    run_dirs = []
    for agent in DEMO_AGENTS:
        t0 = time.perf_counter()
        summary = run_suite(suite_dir, agent, out / "runs" / agent)
        run_dirs.append(summary.out_dir)
        if summary.ran:
            done = f"{summary.ran} episode(s) in {time.perf_counter() - t0:.2f} s" + (
                f" ({summary.skipped} already done)" if summary.skipped else "")
        else:
            done = f"all {summary.skipped} episodes already done"
        console.print(f"run:   {agent:<10} {done}")
    report = build_report(run_dirs, sort=False)
    console.print()
    render_report(report, console)
    console.print()
    console.print("Agents:")
    for agent in DEMO_AGENTS:
        console.print(f"  {agent:<10} {escape(descriptions.get(agent, ''))}")
    html = write_html(report, out / "report.html", title=f"firstday demo (smoke suite, seed {seed})")
    learning_png = _demo_learning(out, seed, console)
    console.print()
    console.print(f"[bold]Done in {time.perf_counter() - started:.1f} s.[/bold] Files:")
    console.print(f"  suite        {escape(str(suite_dir))}")
    console.print(f"  runs         {escape(str(out / 'runs'))}/<agent>  (episodes/*.json score cards, "
                  "traces/*.jsonl step by step)")
    console.print(f"  HTML report  {escape(str(html))}")
    console.print(f"  learning     {escape(str(out / 'learning'))}  (memory vs control runs; "
                  f"plot {escape(str(learning_png))})")
    console.print("Next: [bold]firstday families[/bold] to see the task library, "
                  f"[bold]firstday report {escape(str(out / 'runs'))}/*[/bold] to compare runs.")


def _demo_learning(out: Path, seed: int, console: Console) -> Path:
    """The demo's third dimension: heuristic-learning with memory against its paired control on a small
    continual suite; prints the learning gain and returns the plot's path."""
    from firstday.report.learning import learning_report, write_learning
    from firstday.run import LEARNING_CONTROL, LEARNING_TREATMENT, run_paired_learning
    from firstday.suites import generate_suite, load_suite, preset, save_suite
    from firstday.suites.store import MANIFEST

    suite_dir, learn_dir = out / "suite-continual", out / "learning"
    spec = preset("continual", seed).model_copy(update={"scenarios": DEMO_LEARNING_SCENARIOS})
    if not (suite_dir / MANIFEST).exists():
        save_suite(spec, generate_suite(spec), suite_dir)
    elif load_suite(suite_dir).manifest.spec != spec:
        raise ConfigError(f"{suite_dir} holds a different suite; use another --out, or delete {out}")
    t0 = time.perf_counter()
    run_paired_learning(suite_dir, "heuristic-learning", learn_dir, concurrency=4)
    rep = learning_report(learn_dir / LEARNING_TREATMENT, learn_dir / LEARNING_CONTROL)
    _, png = write_learning(rep, learn_dir)
    g = rep.gain
    ci = f" [{100 * g.ci.low:+.1f}, {100 * g.ci.high:+.1f}]" if g.ci else ""
    console.print()
    console.print(f"learning: heuristic-learning with memory vs its paired control, {DEMO_LEARNING_SCENARIOS} "
                  f"scenarios x {spec.days} days ({time.perf_counter() - t0:.1f} s): learning gain "
                  f"[bold]{100 * (g.value or 0.0):+.1f} points{ci}[/bold] on recurring meta-tasks (95 % CI); "
                  f"details: firstday learn --report-only {escape(str(learn_dir))}")
    return png
