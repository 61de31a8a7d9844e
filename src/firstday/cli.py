"""The ``firstday`` command line.

Every mistake a user can make (unknown name, bad spec, missing folder, clashing output folder) ends
in a one-line ``error: ...`` on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import functools
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar, cast

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from firstday.errors import ConfigError, FirstdayError

if TYPE_CHECKING:
    from firstday.run import EpisodeExecutor

USER_ERROR = 2
INTERRUPTED = 130
DEMO_AGENTS = ("oracle", "heuristic", "guess", "noop")
DEMO_LEARNING_SCENARIOS = 12  # of the continual preset: enough for an interval, a few seconds to run

app = typer.Typer(
    name="firstday", no_args_is_help=True, add_completion=False, pretty_exceptions_show_locals=False,
    help="Evaluate LLM agents like a new trainee on their first days at work: streaming tasks with "
         "priorities and deadlines, clues hidden with colleagues and in documents, a virtual clock.",
)

F = TypeVar("F", bound=Callable[..., Any])


def _stdout() -> Console:
    # not a terminal (pipe, file, test runner): use a fixed width wide enough for the tables
    return Console(width=None if sys.stdout.isatty() else 120, highlight=False)


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _fail(message: str, code: int = USER_ERROR) -> NoReturn:
    _stderr().print(f"[bold red]error:[/bold red] {escape(message)}")
    raise typer.Exit(code)


def _user_errors(fn: F) -> F:
    """Turn firstday's user-facing errors (and unusable paths) into a one-line message and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except FirstdayError as exc:
            _fail(str(exc))
        except OSError as exc:  # e.g. --out is a file, or a folder we may not write to
            where = f": {exc.filename}" if exc.filename else ""
            _fail(f"{exc.strerror or exc}{where}; check the paths you gave")

    return cast(F, wrapper)


def _version(value: bool) -> None:
    if value:
        from firstday._version import package_version  # reads the package metadata: only when asked

        typer.echo(f"firstday {package_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Evaluate LLM agents like a new trainee on their first days at work."""


# ---- demo ---------------------------------------------------------------------------------------------

@app.command()
@_user_errors
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

    console = _stdout()
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
    from firstday.env import EnvConfig
    from firstday.report.learning import learning_report, write_learning
    from firstday.run import run_suite
    from firstday.suites import generate_suite, load_suite, preset, save_suite
    from firstday.suites.store import MANIFEST

    suite_dir, learn_dir = out / "suite-continual", out / "learning"
    spec = preset("continual", seed).model_copy(update={"scenarios": DEMO_LEARNING_SCENARIOS})
    if not (suite_dir / MANIFEST).exists():
        save_suite(spec, generate_suite(spec), suite_dir)
    elif load_suite(suite_dir).manifest.spec != spec:
        raise ConfigError(f"{suite_dir} holds a different suite; use another --out, or delete {out}")
    t0 = time.perf_counter()
    for name, memory in ((LEARN_TREATMENT, True), (LEARN_CONTROL, False)):
        run_suite(suite_dir, "heuristic-learning", learn_dir / name, env_config=EnvConfig(memory=memory),
                  concurrency=4)
    rep = learning_report(learn_dir / LEARN_TREATMENT, learn_dir / LEARN_CONTROL)
    _, png = write_learning(rep, learn_dir)
    g = rep.gain
    ci = f" [{100 * g.ci.low:+.1f}, {100 * g.ci.high:+.1f}]" if g.ci else ""
    console.print()
    console.print(f"learning: heuristic-learning with memory vs its paired control, {DEMO_LEARNING_SCENARIOS} "
                  f"scenarios x {spec.days} days ({time.perf_counter() - t0:.1f} s): learning gain "
                  f"[bold]{100 * (g.value or 0.0):+.1f} points{ci}[/bold] on recurring meta-tasks (95 % CI); "
                  f"details: firstday learn --report-only {escape(str(learn_dir))}")
    return png


# ---- families / agents ---------------------------------------------------------------------------------

@app.command("families")
@_user_errors
def families_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """The meta-task library: each family with its variants, difficulty knobs, domains and modalities."""
    from firstday.tasks.family import families, meta_tasks

    fams = families()
    rows: list[dict[str, Any]] = [{
        "name": f.name, "title": f.title, "description": f.description, "variants": list(f.variants),
        "knobs": dict(f.knobs), "domains": list(f.domains), "modalities": list(f.modalities),
        "n_meta_tasks": len(meta_tasks(f)),
        "meta_tasks": [f"{f.name}/{v}/{d}" for v, d in meta_tasks(f)],
    } for f in fams.values()]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"{len(rows)} task families, {sum(r['n_meta_tasks'] for r in rows)} meta-tasks "
                        "(variant x difficulty)", title_justify="left", box=box.SIMPLE_HEAD)
    for col in ("family", "title", "variants", "difficulty knobs", "domains", "modalities", "meta-tasks"):
        # one variant / knob per line: names are never broken mid-word
        table.add_column(col, justify="right" if col == "meta-tasks" else "left", overflow="fold",
                         no_wrap=col in ("family", "variants", "difficulty knobs"))
    for f in fams.values():
        table.add_row(f.name, f.title, "\n".join(f.variants), "\n".join(f.knobs), ", ".join(f.domains),
                      ", ".join(f.modalities), str(len(meta_tasks(f))), end_section=True)
    _stdout().print(table)


@app.command("agents")
@_user_errors
def agents_cmd() -> None:
    """The registered agents."""
    from firstday.agents import agent_names

    table = Table(title="agents", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("name")
    table.add_column("description")
    for name, description in agent_names().items():
        table.add_row(name, description)
    _stdout().print(table)


# ---- generate ------------------------------------------------------------------------------------------

@app.command()
@_user_errors
def generate(
    out: Annotated[Path, typer.Option("--out", "-o", help="New (or empty) folder to save the suite in.")],
    preset_name: Annotated[str | None, typer.Option(
        "--preset", help="smoke, standard (load 0.7-0.9), hard (load 1.1-1.4, harder tasks), reference (2-6 tasks "
                         "a day, the reference benchmark's conditions), continual or continual-mutable.")] = None,
    spec_file: Annotated[Path | None, typer.Option("--spec", help="A suite spec as JSON or TOML.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed (default 0 for a preset, the spec's own seed)")] = None,
) -> None:
    """Generate a suite from a preset or a spec file and save it (prints its content hash).

    Scenarios are saved as they are made; if generation is interrupted, the same command with the same
    --out continues where it stopped."""
    from rich.progress import Progress

    from firstday.suites import load_spec_file, preset, write_suite

    if (preset_name is None) == (spec_file is None):
        raise ConfigError("give exactly one of --preset NAME or --spec FILE")
    if preset_name is not None:
        spec = preset(preset_name, seed or 0)
    else:
        spec = load_spec_file(cast(Path, spec_file))
        if seed is not None:
            spec = spec.model_copy(update={"seed": seed})
    t0 = time.perf_counter()
    with Progress(console=_stderr(), transient=True, disable=spec.scenarios < 500) as bar:
        job = bar.add_task("generating", total=spec.scenarios)
        try:
            summary = write_suite(spec, out, on_scenario=lambda done, _total: bar.update(job, completed=done))
        except KeyboardInterrupt:
            _fail("interrupted; the scenarios saved so far are kept: run the same command again to continue",
                  code=130)
    gen_s = time.perf_counter() - t0
    manifest = summary.manifest
    console = _stdout()
    resumed = f" ({summary.reused} kept from the interrupted run)" if summary.reused else ""
    console.print(f"suite {spec.name!r} (seed {spec.seed}): {manifest.n_scenarios} scenarios, "
                  f"{manifest.n_days} days, {manifest.n_tasks} tasks; generated in {gen_s:.2f} s{resumed}")
    console.print("tasks per family: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.by_family.items())))
    # a task the day had no room or time left for is left out, never silently: each day lists its own
    dropped = (f"dropped: {manifest.n_dropped} drawn task(s) did not fit their day and were left out (listed in "
               "each day's 'dropped', counted in the manifest's n_dropped)")
    console.print(f"[yellow]{dropped}[/yellow]" if manifest.n_dropped else dropped)
    console.print(f"content hash: {manifest.content_hash}")
    console.print(f"saved to {escape(str(out))}; next: firstday run {escape(str(out))} --agent heuristic "
                  f"--out runs/heuristic")


# options shared by the commands that run agents (run, hints, learn)
AgentOptionsArg = Annotated[list[str] | None, typer.Option(
    "--option", "-O", help="Agent option KEY=VALUE (VALUE read as JSON if it parses). Repeatable.")]
ModelArg = Annotated[str | None, typer.Option(
    "--model", "-m", help="Model of an LLM agent (llm, react): openai/<model>, litellm/<model> or hf/<path>.")]
BaseUrlArg = Annotated[str | None, typer.Option(
    "--base-url", help="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1 (default $OPENAI_BASE_URL).")]
ExecutorArg = Annotated[str, typer.Option(
    "--executor", help="local (one process), processes (worker processes of this machine) or ray.")]
WorkersArg = Annotated[int | None, typer.Option(
    "--workers", "-w", min=1, help="Worker processes of --executor processes. [default: the CPU count]")]
EventLoopArg = Annotated[str, typer.Option(
    "--event-loop", help="asyncio, or uvloop (less CPU per step with hundreds in flight; "
                         "pip install 'firstday[fast]').")]
AddressArg = Annotated[str | None, typer.Option(
    "--address", help="Ray cluster address (e.g. ray://head:10001 or auto); default: a local Ray cluster.")]
SandboxArg = Annotated[str, typer.Option(
    "--sandbox", help="run_python's runner: auto (the kernel sandbox where available), landlock, or audit (an audit "
                      "hook only: not a security boundary); see docs/code-runner.md.")]
RequireSandboxArg = Annotated[bool, typer.Option(
    "--require-sandbox", help="Refuse to start unless run_python runs in the kernel sandbox (no audit fallback).")]


def _sandbox_settings(sandbox: str, require_sandbox: bool) -> dict[str, Any]:
    """EnvConfig fields for --sandbox/--require-sandbox, checked before anything runs (a kernel without
    Landlock and --require-sandbox: one line, exit 2)."""
    from firstday.sandbox import resolve_backend

    resolve_backend(sandbox, require_sandbox)  # raises SandboxUnavailable (a ConfigError) with the reason
    return {"sandbox": sandbox, "require_sandbox": require_sandbox}


def _executor(name: str, concurrency: int, workers: int | None, address: str | None,
              event_loop: str) -> EpisodeExecutor:
    """The executor the shared options ask for (see docs/running.md); bad combinations are user errors."""
    from firstday.run import LocalExecutor
    from firstday.run.runner import event_loop_factory

    event_loop_factory(event_loop)  # unknown, or uvloop not installed: say so before anything starts
    if workers is not None and name != "processes":
        raise ConfigError("--workers applies to --executor processes only")
    if address is not None and name != "ray":
        raise ConfigError("--address applies to --executor ray only")
    if name == "local":
        return LocalExecutor(concurrency)
    if name == "processes":
        from firstday.run.process_executor import ProcessExecutor

        return ProcessExecutor(workers, concurrency, event_loop=event_loop)
    if name == "ray":
        from firstday.run.ray_executor import RayExecutor

        return RayExecutor(address, max_in_flight=concurrency)
    raise ConfigError(f"unknown executor {name!r}; use local, processes or ray")


# ---- run -----------------------------------------------------------------------------------------------

def _parse_options(pairs: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--option expects KEY=VALUE, got {pair!r}")
        try:
            options[key.strip()] = json.loads(raw)
        except ValueError:
            options[key.strip()] = raw  # a bare string
    return options


@app.command()
@_user_errors
def run(
    suite: Annotated[Path, typer.Argument(help="A suite folder written by 'firstday generate'.")],
    agent: Annotated[str, typer.Option("--agent", "-a", help="Agent name (see 'firstday agents').")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder; rerun the same command to resume.")],
    text_only: Annotated[bool, typer.Option("--text-only", help="Replace images by their text.")] = False,
    option: AgentOptionsArg = None,
    seed: Annotated[int, typer.Option(help="Run seed for agents that use randomness.")] = 0,
    retry_errors: Annotated[bool, typer.Option(
        "--retry-errors", help="Rerun saved infrastructure error episodes (model endpoint down, worker lost, ...). "
                               "Agent errors are final: they score 0 and are not rerun (docs/scoring.md).")] = False,
    model: ModelArg = None,
    base_url: BaseUrlArg = None,
    colleague_model: Annotated[str | None, typer.Option(
        "--colleague-model", help="LLM colleagues: model that rephrases colleagues' replies in persona.")] = None,
    colleague_base_url: Annotated[str | None, typer.Option(
        "--colleague-base-url", help="Endpoint of the colleague model (default: as --base-url).")] = None,
    prices: Annotated[Path | None, typer.Option(
        "--prices", help="JSON price table: model -> input_per_mtok, output_per_mtok (USD).")] = None,
    concurrency: Annotated[int, typer.Option(
        "--concurrency", "-c", min=1,
        help="Episodes in flight at once (local: asyncio in one process; processes: over all workers).")] = 8,
    trials: Annotated[int, typer.Option(
        "--trials", "-k", min=1, help="Run each episode K times (seeds recorded); reports give pass^k and pass@k.")]
    = 1,
    executor_name: ExecutorArg = "local",
    workers: WorkersArg = None,
    event_loop: EventLoopArg = "asyncio",
    address: AddressArg = None,
    act_timeout: Annotated[float | None, typer.Option(
        "--act-timeout", help="Seconds one agent step (model call) may take; then an error episode. [default: 600]")]
    = None,
    tool_timeout: Annotated[float | None, typer.Option(
        "--tool-timeout", help="Seconds one run_python call may take (part of the environment). [default: 10]")]
    = None,
    episode_timeout: Annotated[float | None, typer.Option(
        "--episode-timeout", help="Seconds one episode may take; then an error episode. [default: 7200]")] = None,
    memory: Annotated[bool, typer.Option(
        "--memory", help="Continual learning: the notebook and the agent's lessons carry over between the days of "
                         "a scenario (days run in order; see docs/learning.md).")] = False,
    hints: Annotated[str, typer.Option(
        "--hints", help="Hint tier delivered with each task: none, where, whom or steps (docs/hints.md).")] = "none",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display and no tables.")] = False,
    jsonl: Annotated[bool, typer.Option(
        "--jsonl", help="Print one JSON line per finished episode on stdout (nothing else on stdout).")] = False,
    sandbox: SandboxArg = "auto",
    require_sandbox: RequireSandboxArg = False,
) -> None:
    """Run an agent over every day of every scenario of a suite; results are saved as each episode ends.

    Rerunning the same command resumes the run (also after a crash or kill -9)."""
    from firstday.env import EnvConfig
    from firstday.env.episode import HINT_TIERS
    from firstday.report import build_report, render_report
    from firstday.run import RunLimits, RunProgress, run_suite
    from firstday.run.results import summary_line

    console = _stdout()
    sandbox_settings = _sandbox_settings(sandbox, require_sandbox)
    options = _parse_options(option or [])
    limits = RunLimits(**{k: v for k, v in (("act_timeout_s", act_timeout), ("episode_timeout_s", episode_timeout))
                          if v is not None})
    executor = _executor(executor_name, concurrency, workers, address, event_loop)
    model_opts = {k: v for k, v in (("model", model), ("base_url", base_url),
                                    ("prices", str(prices) if prices else None)) if v is not None}
    options.update(model_opts)
    colleague_options: dict[str, Any] = {}
    if colleague_model:
        colleague_options = {k: v for k, v in (("base_url", colleague_base_url or base_url),
                                               ("prices", model_opts.get("prices"))) if v is not None}
    if hints not in HINT_TIERS:
        raise ConfigError(f"--hints: unknown tier {hints!r}; use one of {', '.join(HINT_TIERS)}")
    env_config = EnvConfig(text_only=text_only, colleague_model=colleague_model, colleague_options=colleague_options,
                           memory=memory, hints=cast(Any, hints), **sandbox_settings,
                           **({"run_timeout_s": tool_timeout} if tool_timeout is not None else {}))
    _check_models(options if model else None, colleague_model, colleague_options)
    # the bar counts the episodes to run now (skipped ones would make the ETA meaningless)
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[status]}"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                   console=_stderr(), transient=True, disable=quiet or not sys.stderr.isatty())
    task_id = bar.add_task(f"{agent} on {suite}", total=None, status="")
    note = _stderr()

    def on_notice(line: str) -> None:  # a damaged run folder, and what the repair did: one line each
        (bar.console if bar.live.is_started else note).print(f"[yellow]repair:[/yellow] {escape(line)}",
                                                               highlight=False)

    def on_progress(p: RunProgress) -> None:
        tokens = p.usage.input_tokens + p.usage.output_tokens
        usage = (f" · {tokens:,} tok" if tokens else "") + (f" · ${p.usage.cost_usd:.4f}" if p.usage.cost_usd else "")
        status = f"running {p.running} · failed {p.errors} · skipped {p.skipped}{usage}{_cost_note(p.model_usage)}"
        bar.update(task_id, total=p.to_run, completed=p.finished, status=status)
        if p.event != "finished" or p.last is None:
            return
        if jsonl:
            typer.echo(summary_line(p.last, p.last_wall_seconds))
        if p.last.status == "error" and not quiet:
            (bar.console if bar.live.is_started else note).print(
                f"[yellow]error episode[/yellow] {p.last.key}: {escape(p.last.error or '')}", highlight=False)

    try:
        with bar:
            summary = run_suite(suite, agent, out, env_config=env_config, agent_options=options, seed=seed,
                                retry_errors=retry_errors, progress=on_progress, executor=executor, trials=trials,
                                limits=limits, event_loop=event_loop, notice=on_notice)
    except KeyboardInterrupt:
        _fail(f"interrupted; finished episodes are saved in {out}; run the same command again to resume",
              INTERRUPTED)
    kinds = (f" ({summary.agent_errors} agent, {summary.infrastructure_errors} infrastructure)"
             if summary.errors else "")
    done = (f"{summary.ran} episode(s) run, {summary.skipped} already done, {summary.errors} error(s){kinds}, "
            f"{summary.wall_seconds:.1f} s; results in {escape(str(summary.out_dir))}")
    if quiet or jsonl:
        note.print(done, highlight=False)
        return
    console.print(done)
    render_report(build_report([summary.out_dir]), console)
    _print_usage(summary.model_usage, console)
    if summary.agent_errors:
        console.print("agent errors score 0 and stay in the averages (final: --retry-errors does not rerun them)")
    if summary.infrastructure_errors:
        console.print("infrastructure errors are kept out of the scores; fix the cause and rerun with --retry-errors")


def _check_models(agent_options: dict[str, Any] | None, colleague_model: str | None,
                  colleague_options: dict[str, Any]) -> None:
    """Build the providers once before the run: a missing key, package or price file is a user error now,
    not an error in every episode."""
    from firstday.models import ModelSettings, provider_from_settings

    if agent_options is not None:
        provider_from_settings(ModelSettings.from_options(agent_options))
    if colleague_model:
        provider_from_settings(ModelSettings.from_options({**colleague_options, "model": colleague_model},
                                                          what="colleague"))


def _cost_note(ledger: Any) -> str:
    usage = ledger.snapshot()
    if not usage:
        return ""
    calls = sum(u.calls for u in usage.values())
    return f" · {calls} model calls, ${ledger.cost_usd:.4f}"


def _print_usage(ledger: Any, console: Console) -> None:
    """Model usage and cost per role (agent, colleague, judge) of this command's episodes."""
    usage = ledger.snapshot()
    if not usage:
        return
    table = Table(title="model usage", title_justify="left", box=box.SIMPLE_HEAD)
    for col in ("role", "calls", "cached", "retries", "failed", "prompt tokens", "completion tokens", "cost (USD)"):
        table.add_column(col, justify="left" if col == "role" else "right")
    for role, u in usage.items():
        cost = f"{u.cost_usd:.4f}" + (" (unpriced: " + ", ".join(u.unpriced_models) + ")" if u.unpriced_models else "")
        table.add_row(role, str(u.calls), str(u.cached_calls), str(u.retries), str(u.failures),
                      f"{u.prompt_tokens:,}", f"{u.completion_tokens:,}", cost)
    console.print(table)


# ---- report --------------------------------------------------------------------------------------------

@app.command()
@_user_errors
def report(
    runs: Annotated[list[Path], typer.Argument(help="Run folders written by 'firstday run'.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON (docs/report-schema.json).")]
    = False,
    html: Annotated[Path | None, typer.Option("--html", help="Also write a self-contained HTML report.")] = None,
    no_sort: Annotated[bool, typer.Option("--no-sort", help="Keep the given order instead of best first.")]
    = False,
    export: Annotated[tuple[str, Path] | None, typer.Option(
        "--export", help="Also write the tables (task_trials, episodes) as FORMAT (parquet or csv) into DIR.",
        metavar="FORMAT DIR")] = None,
) -> None:
    """Leaderboard over run folders side by side: success, checkpoint score, scheduling, exploration, per
    family and per dimension, with 95 % bootstrap intervals; pass^k and pass@k over repeated trials."""
    from firstday.report import build_report, render_report, write_html
    from firstday.report.export import export_tables

    rep = build_report(runs, sort=not no_sort)
    if export is not None:
        fmt, export_dir = export
        if fmt not in ("parquet", "csv"):
            raise ConfigError(f"--export: unknown format {fmt!r}; use parquet or csv")
        files = export_tables(runs, export_dir, cast(Any, fmt))
        _stderr().print("exported " + ", ".join(escape(str(f)) for f in files), highlight=False)
    if as_json:
        typer.echo(rep.model_dump_json(indent=2))
    else:
        render_report(rep, _stdout())
    if html is not None:
        written = write_html(rep, html)
        (_stderr() if as_json else _stdout()).print(f"HTML report written to {escape(str(written))}")


# ---- hints ---------------------------------------------------------------------------------------------

@app.command()
@_user_errors
def hints(
    suite: Annotated[Path, typer.Argument(help="A suite folder written by 'firstday generate'.")],
    agent: Annotated[str, typer.Option("--agent", "-a", help="Agent name (see 'firstday agents').")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Ladder folder (one run per tier in DIR/<tier>); "
                                                         "rerun the same command to resume.")],
    tiers: Annotated[str, typer.Option(help="Comma-separated hint tiers to run, in ladder order.")]
    = "none,where,whom,steps",
    option: AgentOptionsArg = None,
    model: ModelArg = None,
    base_url: BaseUrlArg = None,
    concurrency: Annotated[int, typer.Option(
        "--concurrency", "-c", min=1, help="Episodes in flight at once.")] = 8,
    executor_name: ExecutorArg = "local",
    workers: WorkersArg = None,
    event_loop: EventLoopArg = "asyncio",
    address: AddressArg = None,
    seed: Annotated[int, typer.Option(help="Run seed for agents that use randomness.")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the table.")] = False,
    sandbox: SandboxArg = "auto",
    require_sandbox: RequireSandboxArg = False,
) -> None:
    """The hint ladder: run an agent once per hint tier on the same suite, then score it per tier and
    difficulty with 95 % bootstrap intervals; writes DIR/hints.json and DIR/hints.png (docs/hints.md)."""
    from firstday.env import EnvConfig
    from firstday.env.episode import HINT_TIERS
    from firstday.models import UsageLedger
    from firstday.report.hints import LADDER_JSON, LADDER_PNG, build_ladder, plot_ladder, render_ladder
    from firstday.run import run_suite

    sandbox_settings = _sandbox_settings(sandbox, require_sandbox)
    chosen = [t.strip() for t in tiers.split(",") if t.strip()]
    unknown = [t for t in chosen if t not in HINT_TIERS]
    if unknown or not chosen or len(set(chosen)) != len(chosen):
        raise ConfigError(f"--tiers: give distinct tiers from {', '.join(HINT_TIERS)}, got {tiers!r}")
    options = _parse_options(option or [])
    options.update({k: v for k, v in (("model", model), ("base_url", base_url)) if v is not None})
    _check_models(options if model else None, None, {})
    executor = _executor(executor_name, concurrency, workers, address, event_loop)
    console, note = _stdout(), _stderr()
    usage = UsageLedger()  # of every tier's run
    for tier in chosen:
        t0 = time.perf_counter()
        try:
            config = EnvConfig(hints=cast(Any, tier), **sandbox_settings)
            summary = run_suite(suite, agent, out / tier, env_config=config, agent_options=options, seed=seed,
                                executor=executor, event_loop=event_loop)
            usage.add(summary.model_usage.snapshot())
        except KeyboardInterrupt:
            _fail(f"interrupted; finished episodes are saved in {out}; run the same command again to resume",
                  INTERRUPTED)
        if not quiet:
            note.print(f"tier {tier:<6} {summary.ran} episode(s) run, {summary.skipped} already done, "
                       f"{summary.errors} error(s), {time.perf_counter() - t0:.1f} s", highlight=False)
    ladder = build_ladder(out, chosen)
    (out / LADDER_JSON).write_text(ladder.model_dump_json(indent=2) + "\n", encoding="utf-8")
    png = plot_ladder(ladder, out / LADDER_PNG)
    render_ladder(ladder, console)
    if not quiet:
        _print_usage(usage, console)
        console.print(f"written: {escape(str(out / LADDER_JSON))}, {escape(str(png))}")


# ---- learning ------------------------------------------------------------------------------------------

LEARN_TREATMENT, LEARN_CONTROL = "memory", "control"


@app.command()
@_user_errors
def learn(
    suite: Annotated[Path | None, typer.Argument(
        help="A multi-day suite folder written by 'firstday generate' (e.g. --preset continual).")] = None,
    agent: Annotated[str | None, typer.Option("--agent", "-a", help="Agent name (see 'firstday agents').")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Folder for both runs (DIR/memory, DIR/control) and the report; rerun to resume.")]
    = None,
    report_only: Annotated[Path | None, typer.Option(
        "--report-only", help="Only report on DIR/memory and DIR/control of an earlier 'firstday learn'.",
        metavar="DIR")] = None,
    option: AgentOptionsArg = None,
    model: ModelArg = None,
    base_url: BaseUrlArg = None,
    concurrency: Annotated[int, typer.Option(
        "--concurrency", "-c", min=1, help="Episodes in flight at once (with memory: scenarios in flight).")] = 8,
    executor_name: ExecutorArg = "local",
    workers: WorkersArg = None,
    event_loop: EventLoopArg = "asyncio",
    address: AddressArg = None,
    seed: Annotated[int, typer.Option(help="Run seed for agents that use randomness (the same for both runs).")] = 0,
    trials: Annotated[int, typer.Option(
        "--trials", "-k", min=1, help="Run each scenario's days K times; trials are paired by (scenario, trial).")]
    = 1,
    retry_errors: Annotated[bool, typer.Option(
        "--retry-errors", help="Rerun saved infrastructure error episodes (agent errors are final).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the tables.")] = False,
    sandbox: SandboxArg = "auto",
    require_sandbox: RequireSandboxArg = False,
) -> None:
    """Continual learning: run an agent with memory (DIR/memory) and its paired control without memory
    (DIR/control) on the same instances, then report the learning gain with 95 % intervals; writes
    DIR/learning.json and DIR/score_by_day.png (docs/learning.md)."""
    from firstday.env import EnvConfig
    from firstday.models import UsageLedger
    from firstday.report.learning import learning_report, render_learning, write_learning
    from firstday.run import run_suite
    from firstday.suites import load_suite

    console, note = _stdout(), _stderr()
    usage = UsageLedger()  # of both runs
    if report_only is not None:
        if suite is not None or agent is not None or out is not None:
            raise ConfigError("--report-only DIR takes no SUITE, --agent or --out (it reads DIR/memory and "
                              "DIR/control)")
        out = report_only
    else:
        if suite is None or agent is None or out is None:
            raise ConfigError("give SUITE --agent NAME --out DIR (or --report-only DIR for earlier runs)")
        sandbox_settings = _sandbox_settings(sandbox, require_sandbox)
        days = load_suite(suite).manifest.spec.days
        if days < 2:
            raise ConfigError(f"{suite} has a single day per scenario: the learning gain compares later days with "
                              "the first; generate a multi-day suite (firstday generate --preset continual)")
        options = _parse_options(option or [])
        options.update({k: v for k, v in (("model", model), ("base_url", base_url)) if v is not None})
        _check_models(options if model else None, None, {})
        executor = _executor(executor_name, concurrency, workers, address, event_loop)
        for name, memory in ((LEARN_TREATMENT, True), (LEARN_CONTROL, False)):
            t0 = time.perf_counter()
            try:
                summary = run_suite(suite, agent, out / name, env_config=EnvConfig(memory=memory, **sandbox_settings),
                                    agent_options=options, seed=seed, trials=trials, retry_errors=retry_errors,
                                    executor=executor, event_loop=event_loop)
                usage.add(summary.model_usage.snapshot())
            except KeyboardInterrupt:
                _fail(f"interrupted; finished episodes are saved in {out}; run the same command again to resume",
                      INTERRUPTED)
            if not quiet:
                note.print(f"{name:<7} {summary.ran} episode(s) run, {summary.skipped} already done, "
                           f"{summary.errors} error(s), {time.perf_counter() - t0:.1f} s", highlight=False)
    rep = learning_report(out / LEARN_TREATMENT, out / LEARN_CONTROL)
    js, png = write_learning(rep, out)
    render_learning(rep, console)
    if not quiet:
        if report_only is None:
            _print_usage(usage, console)
        console.print(f"written: {escape(str(js))}, {escape(str(png))}")


@app.command("report-learning")
@_user_errors
def report_learning(
    treatment: Annotated[Path, typer.Argument(help="Run folder with memory (firstday run --memory).")],
    control: Annotated[Path, typer.Argument(help="Run folder of the same agent without memory.")],
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Also write learning.json and score_by_day.png into this folder.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON instead of tables.")] = False,
) -> None:
    """The learning gain of two existing runs: TREATMENT (memory) against its paired CONTROL (no memory)."""
    from firstday.report.learning import learning_report, render_learning, write_learning

    rep = learning_report(treatment, control)
    if as_json:
        typer.echo(rep.model_dump_json(indent=2))
    else:
        render_learning(rep, _stdout())
    if out is not None:
        js, png = write_learning(rep, out)
        (_stderr() if as_json else _stdout()).print(f"written: {escape(str(js))}, {escape(str(png))}")


# ---- sandbox -------------------------------------------------------------------------------------------

sandbox_app = typer.Typer(no_args_is_help=True, help="The run_python sandbox: check it on this kernel.")
app.add_typer(sandbox_app, name="sandbox")


@sandbox_app.command("check")
@_user_errors
def sandbox_check(
    backend: Annotated[list[str] | None, typer.Option(
        "--backend", "-b", help="Backend to check (landlock, audit); repeatable. [default: every backend]")] = None,
) -> None:
    """Run the conformance suite (named escape attempts) against each backend on this kernel and print which
    attempts were refused. Exits 1 when a backend behaves other than expected."""
    from firstday.sandbox import BACKENDS, check_backend, render_check

    names = backend or list(BACKENDS)
    unknown = [n for n in names if n not in BACKENDS]
    if unknown:
        raise ConfigError(f"--backend: unknown {', '.join(unknown)}; choose from {', '.join(BACKENDS)}")
    console, failed = _stdout(), False
    for name in names:
        reason = BACKENDS[name].available()
        if reason is not None:
            console.print(f"{name}: not available here ({reason})")
            continue
        report = check_backend(BACKENDS[name])
        render_check(report, console)
        failed |= not report.as_expected
    if failed:
        raise typer.Exit(1)


def main() -> None:
    """Entry point of the ``firstday`` script."""
    try:
        app()
    except FirstdayError as exc:  # safety net: commands already turn these into exit code 2
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(USER_ERROR)


if __name__ == "__main__":
    main()
