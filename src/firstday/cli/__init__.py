"""The ``firstday`` command line: ``app`` (typer) and ``main`` (the console script).

One module per command or small group of commands (``_demo``, ``_suite``, ``_agents``, ``_run``, ``_hints``, ``_learn``,
``_report``, ``_check``, ``_sandbox``, ``_serve``); what they share is in ``_common``. A command parses its options,
calls the library and prints; heavy imports stay inside the command bodies, so ``firstday --help`` starts
fast. Every mistake a user can make (unknown name, bad spec, missing folder, clashing output folder) ends
in a one-line ``error: ...`` on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import sys
import warnings
from typing import Annotated, TextIO

import typer

from firstday.cli._agents import agents_cmd
from firstday.cli._check import check_family_cmd
from firstday.cli._common import USER_ERROR
from firstday.cli._demo import demo
from firstday.cli._hints import hints
from firstday.cli._learn import learn, report_learning
from firstday.cli._report import report
from firstday.cli._run import run
from firstday.cli._sandbox import sandbox_app
from firstday.cli._serve import serve
from firstday.cli._suite import families_cmd, generate
from firstday.errors import FirstdayError

__all__ = ["app", "main"]

app = typer.Typer(
    name="firstday", no_args_is_help=True, add_completion=False, pretty_exceptions_show_locals=False,
    help="Evaluate LLM agents like a new trainee on their first days at work: streaming tasks with "
         "priorities and deadlines, clues hidden with colleagues and in documents, a virtual clock.",
)


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
    warnings.showwarning = _one_line_warning


def _one_line_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                      file: TextIO | None = None, line: str | None = None) -> None:
    """A warning on the command line: ``warning: message``, once, without a file name and a source line."""
    print(f"warning: {message}", file=file or sys.stderr)


# in the order 'firstday --help' lists them
app.command()(demo)
app.command("families")(families_cmd)
app.command("check-family")(check_family_cmd)
app.command("agents")(agents_cmd)
app.command()(generate)
app.command()(run)
app.command()(serve)
app.command()(report)
app.command()(hints)
app.command()(learn)
app.command("report-learning")(report_learning)
app.add_typer(sandbox_app, name="sandbox")


def main() -> None:
    """Entry point of the ``firstday`` script."""
    try:
        app()
    except FirstdayError as exc:  # safety net: commands already turn these into exit code 2
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(USER_ERROR)
