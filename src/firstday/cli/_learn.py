"""``firstday learn`` and ``report-learning``: continual learning, memory against its paired control
(docs/learning.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from firstday.cli._common import (
    AddressArg,
    AgentOptionsArg,
    AllowEndpointChangeArg,
    BaseUrlArg,
    ConcurrencyArg,
    EventLoopArg,
    ExecutorArg,
    JsonArg,
    ModelArg,
    NoPreflightArg,
    QuietArg,
    RequireSandboxArg,
    RetryErrorsArg,
    RunOptions,
    SandboxArg,
    SeedArg,
    StopAfterErrorsArg,
    TrialsArg,
    WorkersArg,
    agent_spec,
    exit_code,
    run_line,
    stderr,
    stdout,
    user_errors,
)
from firstday.errors import ConfigError


@user_errors
def learn(
    suite: Annotated[Path | None, typer.Argument(
        help="A multi-day suite folder written by 'firstday generate' (e.g. --preset continual).")] = None,
    agent: Annotated[str | None, typer.Option(
        "--agent", "-a", callback=agent_spec,
        help="Agent: a name (see 'firstday agents') or a factory as package.module:factory.")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Folder for both runs (DIR/memory, DIR/control) and the report; rerun to resume.")]
    = None,
    report_only: Annotated[Path | None, typer.Option(
        "--report-only", help="Only report on DIR/memory and DIR/control of an earlier 'firstday learn'.",
        metavar="DIR")] = None,
    option: AgentOptionsArg = None,
    model: ModelArg = None,
    base_url: BaseUrlArg = None,
    concurrency: ConcurrencyArg = 8,
    executor_name: ExecutorArg = "local",
    workers: WorkersArg = None,
    event_loop: EventLoopArg = "asyncio",
    address: AddressArg = None,
    seed: SeedArg = 0,
    trials: TrialsArg = 1,
    retry_errors: RetryErrorsArg = False,
    quiet: QuietArg = False,
    sandbox: SandboxArg = "auto",
    require_sandbox: RequireSandboxArg = False,
    no_preflight: NoPreflightArg = False,
    stop_after_errors: StopAfterErrorsArg = 10,
    allow_endpoint_change: AllowEndpointChangeArg = False,
) -> None:
    """Continual learning: run an agent with memory (DIR/memory) and its paired control without memory
    (DIR/control) on the same instances, then report the learning gain with 95 % intervals; writes
    DIR/learning.json and DIR/score_by_day.png (docs/learning.md).

    Exit code 0; 3 when episodes ended in infrastructure errors; 2 a usage error; 130 interrupted."""
    from firstday.env import EnvConfig
    from firstday.report.learning import learning_report, render_learning, write_learning
    from firstday.run import LEARNING_CONTROL, LEARNING_TREATMENT, RunSummary, run_paired_learning

    opts: RunOptions | None = None
    runs: dict[str, RunSummary] = {}
    if report_only is not None:
        if suite is not None or agent is not None or out is not None:
            raise ConfigError("--report-only DIR takes no SUITE, --agent or --out (it reads DIR/memory and "
                              "DIR/control)")
        out = report_only
    else:
        if suite is None or agent is None or out is None:
            raise ConfigError("give SUITE --agent NAME --out DIR (or --report-only DIR for earlier runs)")
        opts = RunOptions(option=option, model=model, base_url=base_url, concurrency=concurrency,
                          executor_name=executor_name, workers=workers, event_loop=event_loop, address=address,
                          sandbox=sandbox, require_sandbox=require_sandbox, preflight=not no_preflight).open()
        with opts.resumable(out):
            runs = run_paired_learning(suite, agent, out, env_config=EnvConfig(**opts.sandbox_settings),
                                       agent_options=opts.agent_options, seed=seed, trials=trials,
                                       retry_errors=retry_errors, executor=opts.executor, event_loop=event_loop,
                                       on_run=run_line(quiet, 7), stop_after_errors=stop_after_errors,
                                       allow_endpoint_change=allow_endpoint_change)
    rep = learning_report(out / LEARNING_TREATMENT, out / LEARNING_CONTROL)
    js, png = write_learning(rep, out)
    console = stdout()
    render_learning(rep, console)
    if not quiet:
        if opts is not None:
            opts.print_usage(console)
        console.print(f"written: {escape(str(js))}, {escape(str(png))}")
    raise typer.Exit(exit_code(list(runs.values())))


@user_errors
def report_learning(
    treatment: Annotated[Path, typer.Argument(help="Run folder with memory (firstday run --memory).")],
    control: Annotated[Path, typer.Argument(help="Run folder of the same agent without memory.")],
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Also write learning.json and score_by_day.png into this folder.")] = None,
    as_json: JsonArg = False,
) -> None:
    """The learning gain of two existing runs: TREATMENT (memory) against its paired CONTROL (no memory)."""
    from firstday.report.learning import learning_report, render_learning, write_learning

    rep = learning_report(treatment, control)
    if as_json:
        typer.echo(rep.model_dump_json(indent=2))
    else:
        render_learning(rep, stdout())
    if out is not None:
        js, png = write_learning(rep, out)
        (stderr() if as_json else stdout()).print(f"written: {escape(str(js))}, {escape(str(png))}")
