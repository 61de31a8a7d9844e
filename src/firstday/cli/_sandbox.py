"""``firstday sandbox check``: the run_python sandbox's conformance suite on this kernel."""

from __future__ import annotations

from typing import Annotated

import typer

from firstday.cli._common import stdout, user_errors
from firstday.errors import ConfigError

sandbox_app = typer.Typer(no_args_is_help=True, help="The run_python sandbox: check it on this kernel.")


@sandbox_app.command("check")
@user_errors
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
    console, failed = stdout(), False
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
