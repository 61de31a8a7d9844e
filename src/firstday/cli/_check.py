"""``firstday check-family``: a family's invariants, for the authors of new families (docs/families.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from firstday.cli._common import JsonArg, stderr, stdout, user_errors


@user_errors
def check_family_cmd(
    name: Annotated[str, typer.Argument(help="A registered family (see 'firstday families').")],
    seeds: Annotated[int, typer.Option(
        "--seeds", "-n", min=1, help="Seeds per meta-task (the slower checks use at most 8, 4 or 2 of them).")] = 20,
    as_json: JsonArg = False,
) -> None:
    """Check a task family's invariants on single-task days: it is declared completely, fits a day, the oracle
    solves it (its dependent meta-tasks too, after the task they build on), doing nothing scores 0, it is
    deterministic (also across processes), sealed, and robust to junk. Each failed check comes with a
    remedy. Exits 1 when a check fails."""
    from firstday.checkers import check_family, render_family_check

    note = stderr()
    report = check_family(name, seeds, progress=None if as_json else (
        lambda check: note.print(f"checking {check} ...", highlight=False)))
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        render_family_check(report, stdout())
    if not report.ok:
        raise typer.Exit(1)
