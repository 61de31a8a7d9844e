"""``firstday hints``: the hint ladder (docs/hints.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from firstday.cli._common import (
    AddressArg,
    AgentArg,
    AgentOptionsArg,
    AllowEndpointChangeArg,
    BaseUrlArg,
    ConcurrencyArg,
    EventLoopArg,
    ExecutorArg,
    ModelArg,
    NoPreflightArg,
    QuietArg,
    RequireSandboxArg,
    RunOptions,
    SandboxArg,
    SeedArg,
    StopAfterErrorsArg,
    SuiteArg,
    WorkersArg,
    exit_code,
    run_line,
    stdout,
    user_errors,
)


@user_errors
def hints(
    suite: SuiteArg,
    agent: AgentArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="Ladder folder (one run per tier in DIR/<tier>); "
                                                         "rerun the same command to resume.")],
    tiers: Annotated[str, typer.Option(help="Comma-separated hint tiers to run, in ladder order.")]
    = "none,where,whom,steps",
    option: AgentOptionsArg = None,
    model: ModelArg = None,
    base_url: BaseUrlArg = None,
    concurrency: ConcurrencyArg = 8,
    executor_name: ExecutorArg = "local",
    workers: WorkersArg = None,
    event_loop: EventLoopArg = "asyncio",
    address: AddressArg = None,
    seed: SeedArg = 0,
    quiet: QuietArg = False,
    sandbox: SandboxArg = "auto",
    require_sandbox: RequireSandboxArg = False,
    no_preflight: NoPreflightArg = False,
    stop_after_errors: StopAfterErrorsArg = 10,
    allow_endpoint_change: AllowEndpointChangeArg = False,
) -> None:
    """The hint ladder: run an agent once per hint tier on the same suite, then score it per tier and
    difficulty with 95 % bootstrap intervals; writes DIR/hints.json and DIR/hints.png (docs/hints.md).

    Exit code 0; 3 when episodes ended in infrastructure errors; 2 a usage error; 130 interrupted."""
    from firstday.env import EnvConfig
    from firstday.report.hints import build_ladder, render_ladder, write_ladder
    from firstday.run import RunSummary, hint_ladder_tiers, run_hint_ladder

    chosen = hint_ladder_tiers([t.strip() for t in tiers.split(",") if t.strip()])
    opts = RunOptions(option=option, model=model, base_url=base_url, concurrency=concurrency,
                      executor_name=executor_name, workers=workers, event_loop=event_loop, address=address,
                      sandbox=sandbox, require_sandbox=require_sandbox, preflight=not no_preflight).open()
    line = run_line(quiet, len("tier ") + 6)

    def on_run(tier: str, summary: RunSummary, seconds: float) -> None:
        line(f"tier {tier}", summary, seconds)

    with opts.resumable(out):
        runs = run_hint_ladder(suite, agent, out, chosen, env_config=EnvConfig(**opts.sandbox_settings),
                               agent_options=opts.agent_options, seed=seed, executor=opts.executor,
                               event_loop=event_loop, on_run=on_run, stop_after_errors=stop_after_errors,
                               allow_endpoint_change=allow_endpoint_change)
    ladder = build_ladder(out, chosen)
    js, png = write_ladder(ladder, out)
    console = stdout()
    render_ladder(ladder, console)
    if not quiet:
        opts.print_usage(console)
        console.print(f"written: {escape(str(js))}, {escape(str(png))}")
    raise typer.Exit(exit_code(list(runs.values())))
