"""Reports over run folders: the leaderboard (terminal and ``--json``) and a self-contained HTML page."""

from firstday.report.html import render_html, write_html
from firstday.report.leaderboard import (
    FamilyRow,
    Report,
    RunRow,
    aggregate_run,
    build_report,
    render_report,
    report_schema_json,
)

__all__ = ["FamilyRow", "Report", "RunRow", "aggregate_run", "build_report", "render_html", "render_report",
           "report_schema_json", "write_html"]
