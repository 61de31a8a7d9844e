"""``firstday serve``: a working day as an MCP server; one MCP session plays one episode (docs/mcp.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.markup import escape

from firstday.cli._common import (
    RequireSandboxArg,
    RetryErrorsArg,
    SandboxArg,
    SeedArg,
    SuiteArg,
    TrialsArg,
    exit_code,
    stderr,
    user_errors,
)
from firstday.errors import ConfigError


@user_errors
def serve(
    suite: SuiteArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder; serve again to play the episodes left.")],
    transport: Annotated[str, typer.Option(
        "--transport", "-t", help="stdio (one session, then exit) or http (streamable HTTP, many sessions, until "
                                  "every episode is done).")] = "stdio",
    host: Annotated[str, typer.Option("--host", help="HTTP: address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="HTTP: port (0: a free port, printed).")] = 0,
    token: Annotated[str | None, typer.Option(
        "--token", envvar="FIRSTDAY_MCP_TOKEN",
        help="HTTP: bearer token clients must send (required off loopback: one is made and printed if not "
             "given).")] = None,
    idle_timeout: Annotated[float, typer.Option(
        "--idle-timeout", min=0.001, help="Seconds without a tool call before the episode ends as an agent "
                                          "error.")] = 600.0,
    text_only: Annotated[bool, typer.Option("--text-only", help="Replace images by their text.")] = False,
    hints: Annotated[str, typer.Option(
        "--hints", help="Hint tier delivered with each task: none, where, whom or steps (docs/hints.md).")] = "none",
    trials: TrialsArg = 1,
    seed: SeedArg = 0,
    retry_errors: RetryErrorsArg = False,
    sandbox: SandboxArg = "auto",
    require_sandbox: RequireSandboxArg = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors on stderr.")] = False,
) -> None:
    """Serve a suite's episodes over MCP: each MCP session plays the next episode not yet done in --out.

    Episodes are scored and saved exactly like 'firstday run' (same folder, resume, trials, report). With
    --transport http the endpoint URL is printed on stdout."""
    from firstday.env import EnvConfig
    from firstday.env.episode import HINT_TIERS
    from firstday.run import RunProgress
    from firstday.sandbox import resolve_backend
    from firstday.serve import TRANSPORTS, is_loopback, new_token, require_mcp, serve_suite

    require_mcp()
    if transport not in TRANSPORTS:
        raise ConfigError(f"--transport: unknown {transport!r}; use stdio or http")
    if hints not in HINT_TIERS:
        raise ConfigError(f"--hints: unknown tier {hints!r}; use one of {', '.join(HINT_TIERS)}")
    if transport == "stdio" and (host != "127.0.0.1" or port != 0 or token):
        raise ConfigError("--host, --port and --token apply to --transport http only")
    note = stderr()
    if transport == "http" and not is_loopback(host) and not token:
        token = new_token()
        note.print(f"bearer token (clients send 'Authorization: Bearer TOKEN'): {token}", highlight=False)
    resolve_backend(sandbox, require_sandbox)
    env_config = EnvConfig(text_only=text_only, hints=cast(Any, hints), sandbox=cast(Any, sandbox),
                           require_sandbox=require_sandbox)

    def on_ready(url: str) -> None:
        typer.echo(url)  # stdout: the one line a launcher reads
        if not quiet:
            note.print(f"serving {escape(str(suite))} over MCP at {url}; Ctrl-C stops (finished episodes are saved)",
                       highlight=False)

    def on_progress(p: RunProgress) -> None:
        if p.event == "begin" and not quiet:
            note.print(f"{p.to_run} episode(s) to play, {p.skipped} already done", highlight=False)
        if p.event == "finished" and p.last is not None and not quiet:
            s = p.last
            what = "ok" if s.status == "ok" else f"error: {escape(s.error or '')}"
            score = f" score {s.metrics.score:.3f}" if s.metrics is not None and s.metrics.score is not None else ""
            note.print(f"episode {s.key} {what}{score}", highlight=False)

    try:
        summary = serve_suite(suite, out, transport=cast(Any, transport), host=host, port=port, token=token,
                              idle_timeout_s=idle_timeout, trials=trials, seed=seed, retry_errors=retry_errors,
                              on_ready=on_ready, env_config=env_config, progress=on_progress,
                              notice=lambda line: note.print(f"repair: {escape(line)}", highlight=False))
    except KeyboardInterrupt:
        note.print(f"interrupted; finished episodes are saved in {escape(str(out))}")
        raise typer.Exit(130) from None
    if not quiet:
        note.print(f"{summary.ran} episode(s) played, {summary.skipped} already done, {summary.errors} error(s); "
                   f"results in {escape(str(summary.out_dir))}", highlight=False)
    raise typer.Exit(exit_code([summary]))  # as for run: 3 when infrastructure errors are left
