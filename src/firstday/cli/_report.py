"""``firstday report``: the leaderboard over run folders."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.markup import escape

from firstday.cli._common import stderr, stdout, user_errors
from firstday.errors import ConfigError


@user_errors
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
        stderr().print("exported " + ", ".join(escape(str(f)) for f in files), highlight=False)
    if as_json:
        typer.echo(rep.model_dump_json(indent=2))
    else:
        render_report(rep, stdout())
    if html is not None:
        written = write_html(rep, html)
        (stderr() if as_json else stdout()).print(f"HTML report written to {escape(str(written))}")
