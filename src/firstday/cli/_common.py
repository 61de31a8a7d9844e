"""What the commands share: the consoles, user errors as one line and exit code 2, the options several
commands take (each defined once), and :class:`RunOptions`, the opening steps of every command that runs
an agent (parse ``--option``, merge ``--model``/``--base-url``, check the models, the sandbox and the
executor, reset the usage ledger, the interrupt message)."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar, cast

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from firstday.errors import CircuitOpen, ConfigError, FirstdayError

if TYPE_CHECKING:
    from firstday.models import UsageLedger
    from firstday.run import EpisodeExecutor, RunSummary

#: exit codes (docs/running.md, "Exit codes"): 0 every episode ok (agent errors are results: they score 0)
USER_ERROR = 2  # a usage or configuration error (bad option, dead endpoint at preflight...): nothing was run
INFRASTRUCTURE_ERRORS = 3  # some episodes ended in infrastructure errors (or the circuit breaker stopped the run)
INTERRUPTED = 130

F = TypeVar("F", bound=Callable[..., Any])


#: the width of output that does not go to a terminal: wide enough that no table is ever squeezed
PIPE_WIDTH = 10_000


def stdout() -> Console:
    # not a terminal (a pipe, a file, a test runner): nobody's window to fit, and a squeezed table wraps names
    # ("heuristi/c") and cuts cells; each table is as wide as its content (none expands to the console)
    return Console(width=None if sys.stdout.isatty() else PIPE_WIDTH, highlight=False)


def stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = USER_ERROR) -> NoReturn:
    stderr().print(f"[bold red]error:[/bold red] {escape(message)}")
    raise typer.Exit(code)


def user_errors(fn: F) -> F:
    """Turn firstday's user-facing errors (and unusable paths) into a one-line message and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CircuitOpen as exc:  # not the user's mistake: the endpoint's (finished episodes are saved)
            fail(str(exc), INFRASTRUCTURE_ERRORS)
        except FirstdayError as exc:
            fail(str(exc))
        except OSError as exc:  # e.g. --out is a file, or a folder we may not write to
            where = f": {exc.filename}" if exc.filename else ""
            fail(f"{exc.strerror or exc}{where}; check the paths you gave")

    return cast(F, wrapper)


# ---- options shared by several commands --------------------------------------------------------------

SuiteArg = Annotated[Path, typer.Argument(help="A suite folder written by 'firstday generate'.")]
def agent_spec(value: str | None) -> str | None:
    """``--agent package.module:factory`` finds a module in the current folder too (as ``python -m`` would)."""
    import os

    if value is not None and ":" in value and "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(1, os.getcwd())  # after the script's own folder, as for ``python -m``
    return value


AgentArg = Annotated[str, typer.Option(
    "--agent", "-a", callback=agent_spec,
    help="Agent: a name (see 'firstday agents') or a factory as package.module:factory (docs/agents.md).")]
JsonArg = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
SeedArg = Annotated[int, typer.Option(help="Run seed for agents that use randomness.")]
TrialsArg = Annotated[int, typer.Option(
    "--trials", "-k", min=1, help="Run each episode K times (seeds recorded); reports give pass^k and pass@k.")]
RetryErrorsArg = Annotated[bool, typer.Option(
    "--retry-errors", help="Rerun saved infrastructure error episodes (model endpoint down, worker lost, ...). "
                           "Agent errors are final: they score 0 and are not rerun (docs/scoring.md).")]
QuietArg = Annotated[bool, typer.Option("--quiet", "-q", help="Only the tables: no progress lines.")]
AgentOptionsArg = Annotated[list[str] | None, typer.Option(
    "--option", "-O", help="Agent option KEY=VALUE (VALUE read as JSON if it parses). Repeatable.")]
ModelArg = Annotated[str | None, typer.Option(
    "--model", "-m", help="Model of an LLM agent (llm, react): openai/<model>, litellm/<model> or hf/<path>.")]
BaseUrlArg = Annotated[str | None, typer.Option(
    "--base-url", help="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1 (default $OPENAI_BASE_URL).")]
ConcurrencyArg = Annotated[int, typer.Option(
    "--concurrency", "-c", min=1,
    help="Episodes in flight at once (local: asyncio in one process; processes: over all workers; with memory: "
         "scenarios in flight).")]
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
NoPreflightArg = Annotated[bool, typer.Option(
    "--no-preflight", help="Skip the preflight: one cheap request to each model endpoint before the first "
                           "episode, which fails in seconds on a dead server (docs/running.md).")]
StopAfterErrorsArg = Annotated[int, typer.Option(
    "--stop-after-errors", min=0, help="Stop the run when this many episodes in a row fail on one model endpoint "
                                       "(infrastructure errors; 0: never). Finished episodes are saved.")]
AllowEndpointChangeArg = Annotated[bool, typer.Option(
    "--allow-endpoint-change", help="Resume a run against another model endpoint (base URL) than the one "
                                    "run.json records (refused otherwise: results of two servers would mix).")]
RequireSandboxArg = Annotated[bool, typer.Option(
    "--require-sandbox", help="Refuse to start unless run_python runs in the kernel sandbox (no audit fallback).")]


def exit_code(summaries: list[RunSummary]) -> int:
    """0, or :data:`INFRASTRUCTURE_ERRORS` when an episode of these runs is left as an infrastructure error
    (run now, or saved earlier and not retried): its results are incomplete."""
    left = sum(e.infrastructure_error for s in summaries for e in s.episodes)
    return INFRASTRUCTURE_ERRORS if left else 0


def run_line(quiet: bool, width: int) -> Callable[[str, RunSummary, float], None]:
    """The ``on_run`` callback of a study (hint ladder, paired learning): one line per finished run on stderr
    (its name padded to ``width``), nothing with ``quiet``."""
    note = stderr()

    def on_run(name: str, summary: RunSummary, seconds: float) -> None:
        if not quiet:
            note.print(f"{name:<{width}} {summary.ran} episode(s) run, {summary.skipped} already done, "
                       f"{summary.errors} error(s), {seconds:.1f} s", highlight=False)

    return on_run


def parse_options(pairs: list[str]) -> dict[str, Any]:
    """``--option KEY=VALUE`` pairs as a dict (VALUE read as JSON if it parses, else a bare string)."""
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


def make_executor(name: str, concurrency: int, workers: int | None, address: str | None,
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


@dataclass
class RunOptions:
    """The options of the commands that run an agent (run, hints, learn), and the opening steps they all take,
    once, in :meth:`open`. The command's model usage is counted here."""

    option: list[str] | None = None
    model: str | None = None
    base_url: str | None = None
    prices: Path | None = None
    colleague_model: str | None = None
    colleague_base_url: str | None = None
    concurrency: int = 8
    executor_name: str = "local"
    workers: int | None = None
    event_loop: str = "asyncio"
    address: str | None = None
    sandbox: str = "auto"
    require_sandbox: bool = False
    preflight: bool = True
    # set by open()
    agent_options: dict[str, Any] = field(init=False, default_factory=dict)
    colleague_options: dict[str, Any] = field(init=False, default_factory=dict)
    sandbox_settings: dict[str, Any] = field(init=False, default_factory=dict)
    executor: EpisodeExecutor | None = field(init=False, default=None)
    ledger: UsageLedger | None = field(init=False, default=None)

    def open(self) -> RunOptions:
        """Check everything before anything runs (each mistake: one line, exit code 2): the sandbox, the
        agent options (``--option`` merged with ``--model``/``--base-url``/``--prices``), the executor and
        the models (a missing key, package or price file); then start counting this command's usage from
        zero (in a ledger of its own: each run's usage is added to it, see :meth:`resumable`)."""
        from firstday.models import UsageLedger
        from firstday.sandbox import resolve_backend

        resolve_backend(self.sandbox, self.require_sandbox)  # raises SandboxUnavailable (a ConfigError)
        self.sandbox_settings = {"sandbox": self.sandbox, "require_sandbox": self.require_sandbox}
        self.agent_options = parse_options(self.option or [])
        model_opts = {k: v for k, v in (("model", self.model), ("base_url", self.base_url),
                                        ("prices", str(self.prices) if self.prices else None)) if v is not None}
        self.agent_options.update(model_opts)
        self.executor = make_executor(self.executor_name, self.concurrency, self.workers, self.address,
                                      self.event_loop)
        if self.colleague_model:
            self.colleague_options = {k: v for k, v in (("base_url", self.colleague_base_url or self.base_url),
                                                        ("prices", model_opts.get("prices"))) if v is not None}
        self._check_models()
        if self.preflight:
            self._preflight()
        self.ledger = UsageLedger()
        return self

    def _preflight(self) -> None:
        """One cheap request to each model endpoint (agent, colleagues): a dead one is one line naming its URL
        and exit code 2, in seconds, before any folder is made (:func:`firstday.run.preflight.preflight`)."""
        from firstday.env import EnvConfig
        from firstday.run.preflight import preflight

        config = EnvConfig(colleague_model=self.colleague_model, colleague_options=self.colleague_options)
        for check in preflight(self.agent_options, config):
            if check.note:
                stderr().print(f"[yellow]note:[/yellow] {escape(check.record.model)}: {escape(check.note)}")

    def _check_models(self) -> None:
        """Build the providers once before the run: a missing key, package or price file is a user error now,
        not an error in every episode."""
        from firstday.models import ModelSettings, provider_from_settings

        if self.model:
            provider_from_settings(ModelSettings.from_options(self.agent_options))
        if self.colleague_model:
            provider_from_settings(ModelSettings.from_options(
                {**self.colleague_options, "model": self.colleague_model}, what="colleague"))

    @contextmanager
    def resumable(self, out: Path) -> Iterator[None]:
        """The runs of the command: their model usage counts in this command's ledger (``run_suite`` adds each
        run's usage to the scope it is called in); Ctrl-C says where the finished episodes are and how to
        resume (exit code 130)."""
        from firstday.models import usage_scope

        try:
            with usage_scope(self.ledger):
                yield
        except KeyboardInterrupt:
            fail(f"interrupted; finished episodes are saved in {out}; run the same command again to resume",
                 INTERRUPTED)

    def cost_note(self, running: UsageLedger | None = None) -> str:
        """`` · N model calls, $X`` so far (of the command's finished runs, plus ``running``: the usage of the
        run in progress, ``RunProgress.model_usage``), or nothing before the first model call."""
        from firstday.models import UsageLedger

        ledger = UsageLedger()
        for part in (self.ledger, running):
            if part is not None:
                ledger.add(part.snapshot())
        usage = ledger.snapshot()
        if not usage:
            return ""
        calls = sum(u.calls for u in usage.values())
        return f" · {calls} model calls, ${ledger.cost_usd:.4f}"

    def print_usage(self, console: Console) -> None:
        """Model usage and cost per role (agent, colleague, judge) of this command's episodes."""
        usage = self.ledger.snapshot() if self.ledger is not None else {}
        if not usage:
            return
        table = Table(title="model usage", title_justify="left", box=box.SIMPLE_HEAD)
        for col in ("role", "calls", "cached", "retries", "failed", "prompt tokens", "completion tokens",
                    "cost (USD)"):
            table.add_column(col, justify="left" if col == "role" else "right")
        for role, u in usage.items():
            cost = f"{u.cost_usd:.4f}" + (
                " (unpriced: " + ", ".join(u.unpriced_models) + ")" if u.unpriced_models else "")
            table.add_row(role, str(u.calls), str(u.cached_calls), str(u.retries), str(u.failures),
                          f"{u.prompt_tokens:,}", f"{u.completion_tokens:,}", cost)
        console.print(table)

