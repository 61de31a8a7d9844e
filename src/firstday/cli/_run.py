"""``firstday run``: an agent over every day of every scenario of a suite."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, cast

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
    ModelArg,
    NoPreflightArg,
    RequireSandboxArg,
    RetryErrorsArg,
    RunOptions,
    SandboxArg,
    SeedArg,
    StopAfterErrorsArg,
    SuiteArg,
    TrialsArg,
    WorkersArg,
    agent_spec,
    exit_code,
    stderr,
    stdout,
    user_errors,
)
from firstday.errors import ConfigError


@user_errors
def run(
    suite: SuiteArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder; rerun the same command to resume.")],
    text_only: Annotated[bool, typer.Option("--text-only", help="Replace images by their text.")] = False,
    option: AgentOptionsArg = None,
    seed: SeedArg = 0,
    retry_errors: RetryErrorsArg = False,
    model: ModelArg = None,
    base_url: BaseUrlArg = None,
    colleague_model: Annotated[str | None, typer.Option(
        "--colleague-model", help="LLM colleagues: model that rephrases colleagues' replies in persona.")] = None,
    colleague_base_url: Annotated[str | None, typer.Option(
        "--colleague-base-url", help="Endpoint of the colleague model (default: as --base-url).")] = None,
    prices: Annotated[Path | None, typer.Option(
        "--prices", help="JSON price table: model -> input_per_mtok, output_per_mtok (USD).")] = None,
    concurrency: ConcurrencyArg = 8,
    trials: TrialsArg = 1,
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
    no_preflight: NoPreflightArg = False,
    stop_after_errors: StopAfterErrorsArg = 10,
    allow_endpoint_change: AllowEndpointChangeArg = False,
    agent: Annotated[str, typer.Option(
        "--agent", "-a", callback=agent_spec,
        help="Agent: a name (see 'firstday agents') or a factory as package.module:factory (docs/agents.md).")] = "",
    agent_cmd: Annotated[str | None, typer.Option(
        "--agent-cmd", help="An external agent: this command is started for each episode with FIRSTDAY_MCP_URL (an MCP "
                            "endpoint for the episode) and the --model/--base-url settings in its environment "
                            "(docs/mcp.md); sealed by the kernel where it can be (--require-sandbox: or not "
                            "at all).")] = None,
    agent_allow_port: Annotated[list[int] | None, typer.Option(
        "--agent-allow-port", min=1, max=65535,
        help="--agent-cmd: a TCP port the sealed command may also connect to (on any host: ports, not hosts; the "
             "MCP endpoint's and the --base-url's are allowed already). Repeatable.")] = None,
    agent_path: Annotated[list[Path] | None, typer.Option(
        "--agent-path", help="--agent-cmd: a file or folder the sealed command may also read (its script's folder "
                             "is readable already; not one holding the suite or --out). Repeatable.")] = None,
) -> None:
    """Run an agent over every day of every scenario of a suite; results are saved as each episode ends.

    Rerunning the same command resumes the run (also after a crash or kill -9). Exit code 0: every episode
    ran (agent errors are results); 3: some ended in infrastructure errors; 2: a usage error; 130: interrupted."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from firstday.env import EnvConfig
    from firstday.env.episode import HINT_TIERS
    from firstday.report import build_report, render_report
    from firstday.run import RunLimits, RunProgress, run_suite
    from firstday.run.results import summary_line

    if hints not in HINT_TIERS:
        raise ConfigError(f"--hints: unknown tier {hints!r}; use one of {', '.join(HINT_TIERS)}")
    if bool(agent) == bool(agent_cmd):
        raise ConfigError("give --agent NAME or --agent-cmd COMMAND (one of them)")
    if agent_cmd:
        from firstday.agents.base import COMMAND_AGENT
        from firstday.serve import require_mcp

        require_mcp()
        agent, option = COMMAND_AGENT, [*(option or []), f"command={json.dumps(agent_cmd)}"]
        if agent_allow_port:
            option.append(f"allow_ports={json.dumps(agent_allow_port)}")
        if agent_path:
            option.append(f"agent_paths={json.dumps([str(p.resolve()) for p in agent_path])}")
    elif agent_allow_port or agent_path:
        raise ConfigError("--agent-allow-port and --agent-path apply to --agent-cmd only")
    limits = RunLimits(**{k: v for k, v in (("act_timeout_s", act_timeout), ("episode_timeout_s", episode_timeout))
                          if v is not None})
    opts = RunOptions(option=option, model=model, base_url=base_url, prices=prices, colleague_model=colleague_model,
                      colleague_base_url=colleague_base_url, concurrency=concurrency, executor_name=executor_name,
                      workers=workers, event_loop=event_loop, address=address, sandbox=sandbox,
                      require_sandbox=require_sandbox, preflight=not no_preflight).open()
    if agent_cmd:
        _check_agent_seal(opts.agent_options, suite, out, require_sandbox)
    env_config = EnvConfig(text_only=text_only, colleague_model=colleague_model,
                           colleague_options=opts.colleague_options, memory=memory, hints=cast(Any, hints),
                           **opts.sandbox_settings, **({"run_timeout_s": tool_timeout} if tool_timeout is not None
                                                       else {}))
    console, note = stdout(), stderr()
    # the bar counts the episodes to run now (skipped ones would make the ETA meaningless)
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[status]}"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                   console=stderr(), transient=True, disable=quiet or not sys.stderr.isatty())
    task_id = bar.add_task(f"{agent} on {suite}", total=None, status="")

    def on_notice(line: str) -> None:  # a damaged run folder, and what the repair did: one line each
        (bar.console if bar.live.is_started else note).print(f"[yellow]repair:[/yellow] {escape(line)}",
                                                               highlight=False)

    def on_progress(p: RunProgress) -> None:
        tokens = p.usage.input_tokens + p.usage.output_tokens
        usage = (f" · {tokens:,} tok" if tokens else "") + (f" · ${p.usage.cost_usd:.4f}" if p.usage.cost_usd else "")
        status = f"running {p.running} · failed {p.errors} · skipped {p.skipped}{usage}{opts.cost_note(p.model_usage)}"
        bar.update(task_id, total=p.to_run, completed=p.finished, status=status)
        if p.event != "finished" or p.last is None:
            return
        if jsonl:
            typer.echo(summary_line(p.last, p.last_wall_seconds))
        if p.last.status == "error" and not quiet:
            (bar.console if bar.live.is_started else note).print(
                f"[yellow]error episode[/yellow] {p.last.key}: {escape(p.last.error or '')}", highlight=False)

    with opts.resumable(out), bar:
        summary = run_suite(suite, agent, out, env_config=env_config, agent_options=opts.agent_options, seed=seed,
                            retry_errors=retry_errors, progress=on_progress, executor=opts.executor, trials=trials,
                            limits=limits, event_loop=event_loop, notice=on_notice,
                            stop_after_errors=stop_after_errors, allow_endpoint_change=allow_endpoint_change)
    kinds = (f" ({summary.agent_errors} agent, {summary.infrastructure_errors} infrastructure)"
             if summary.errors else "")
    done = (f"{summary.ran} episode(s) run, {summary.skipped} already done, {summary.errors} error(s){kinds}, "
            f"{summary.wall_seconds:.1f} s; results in {escape(str(summary.out_dir))}")
    code = exit_code([summary])
    left = sum(e.infrastructure_error for e in summary.episodes)
    if quiet or jsonl:
        note.print(done, highlight=False)
    else:
        console.print(done)
        render_report(build_report([summary.out_dir]), console)
        opts.print_usage(console)
        if summary.agent_errors:
            console.print("agent errors score 0 and stay in the averages (final: --retry-errors does not rerun them)")
    if left:  # on stderr, also with --quiet/--jsonl: the exit code says the results are incomplete
        note.print(f"{left} episode(s) of this run ended in infrastructure errors: they are kept out of the scores; "
                   "fix the cause and rerun with --retry-errors (exit code 3)", highlight=False)
    raise typer.Exit(code)


def _check_agent_seal(agent_options: dict[str, Any], suite: Path, out: Path, require: bool) -> None:
    """--agent-cmd, before any folder is made: the seal's options are sound and no readable path holds the suite
    or the run folder; with --require-sandbox, a kernel that cannot seal the command refuses the run. The
    protected folders and the requirement reach the agent (built in whichever worker runs the episode) through
    the environment the workers inherit."""
    import os

    from firstday.sandbox import SandboxUnavailable
    from firstday.sandbox.agent_process import seal_unavailable_reason
    from firstday.serve.command import PROTECTED_ENV, REQUIRE_ENV, agent_policy

    protected = [suite.resolve(), out.resolve()]
    agent_policy(agent_options, Path.cwd(), protected=protected)
    if require and (reason := seal_unavailable_reason()) is not None:
        raise SandboxUnavailable(f"--require-sandbox: the --agent-cmd command cannot be sealed here: {reason}")
    if not require and (reason := seal_unavailable_reason()) is not None:
        stderr().print(f"[yellow]note:[/yellow] the --agent-cmd command runs unsealed: {escape(reason)}",
                       highlight=False)
    os.environ[PROTECTED_ENV] = json.dumps([str(p) for p in protected])
    os.environ[REQUIRE_ENV] = "1" if require else "0"
