"""A single self-contained HTML report (inline CSS, no scripts, no external assets)."""

from __future__ import annotations

from html import escape
from pathlib import Path

from firstday.report.leaderboard import (
    BEHAVIOUR_COLUMNS,
    DIMENSIONS,
    OUTCOME_COLUMNS,
    Column,
    Report,
    RunRow,
    ci_text,
    family_cell,
    pass_cell,
)
from firstday.suites.store import atomic_write

_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1100px;
       padding: 0 1rem; color: #1d2330; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
p.sub { color: #5b6475; margin-top: 0; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { padding: .3rem .7rem; border-bottom: 1px solid #e2e5ea; white-space: nowrap; }
th { text-align: left; background: #f4f6f9; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.warn { background: #fff6dd; border-left: 4px solid #e0a800; padding: .4rem .8rem; margin: .3rem 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; } dt { font-weight: 600; }
code { font-size: 12px; }
"""


def _table(columns: list[Column], rows: list[RunRow]) -> str:
    head = "".join(f"<th>{escape(c.header)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f'<td class="{"num" if c.numeric else ""}">{escape(c.cell(r))}</td>'
                         for c in columns) + "</tr>\n"
        for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}</tbody></table>"


def _family_table(report: Report) -> str:
    head = "<th>family</th>" + "".join(f"<th>{escape(r.label)}</th>" for r in report.runs)
    body = "".join(
        f"<tr><td>{escape(fam)}</td>" + "".join(f'<td class="num">{escape(family_cell(r, fam))}</td>'
                                                for r in report.runs) + "</tr>\n"
        for fam in report.families)
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}</tbody></table>"


def _dimension_table(report: Report) -> str:
    head = "<th>dimension</th>" + "".join(f"<th>{escape(r.label)}</th>" for r in report.runs)
    body = "".join(
        f"<tr><td>{escape(name)}</td>" + "".join(f'<td class="num">{escape(ci_text(r, field, fmt))}</td>'
                                                 for r in report.runs) + "</tr>\n"
        for field, name, fmt in DIMENSIONS)
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}</tbody></table>"


def _reliability_table(report: Report) -> str:
    max_k = max((r.trials for r in report.runs), default=1)
    if max_k < 2:
        return ""
    head = "<th>k</th>" + "".join(f"<th>{escape(r.label)} pass^k</th><th>{escape(r.label)} pass@k</th>"
                                  for r in report.runs)
    body = "".join(
        f"<tr><td>{k}</td>" + "".join(f'<td class="num">{escape(pass_cell(r, k, "hat"))}</td>'
                                      f'<td class="num">{escape(pass_cell(r, k, "at"))}</td>' for r in report.runs)
        + "</tr>\n" for k in range(1, max_k + 1))
    return (f"<h2>Reliability over repeated trials</h2><table><thead><tr>{head}</tr></thead><tbody>\n{body}"
            "</tbody></table>")


def _runs_table(report: Report) -> str:
    rows = "".join(
        f"<tr><td>{escape(r.label)}</td><td>{escape(r.agent)}</td><td><code>{escape(str(r.agent_options))}</code>"
        f"</td><td>{'yes' if r.text_only else 'no'}</td><td>{escape(r.suite_name)}</td>"
        f"<td><code>{escape(r.suite_hash[:16])}</code></td><td>{escape(r.run)}</td></tr>\n"
        for r in report.runs)
    head = "".join(f"<th>{h}</th>" for h in ("run", "agent", "options", "text only", "suite", "suite hash", "folder"))
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n{rows}</tbody></table>"


def _definitions() -> str:
    fields = RunRow.model_fields
    items = []
    for col in [*OUTCOME_COLUMNS, *BEHAVIOUR_COLUMNS[1:]]:
        desc = fields[col.field].description if col.field else None
        if desc:
            items.append(f"<dt>{escape(col.header)}</dt><dd>{escape(desc)}</dd>")
    return "<dl>" + "".join(items) + "</dl>"


def render_html(report: Report, title: str = "firstday report") -> str:
    """The report as one HTML document (deterministic: the same report gives the same bytes)."""
    warnings = "".join(f'<div class="warn">{escape(w)}</div>' for w in report.warnings)
    families = (f"<h2>Per family: score / success</h2>{_family_table(report)}" if report.families else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><style>{_CSS}</style></head>
<body>
<h1>{escape(title)}</h1>
<p class="sub">firstday {escape(report.firstday_version)} · {len(report.runs)} run(s) ·
error episodes are counted apart, never averaged as zeros; scoring defects count 0 and are reported</p>
{warnings}
<h2>Leaderboard</h2>
{_table(OUTCOME_COLUMNS, report.runs)}
<h2>Scheduling and exploration</h2>
{_table(BEHAVIOUR_COLUMNS, report.runs)}
{families}
<h2>Per dimension, with 95% bootstrap intervals (scenarios resampled)</h2>
{_dimension_table(report)}
{_reliability_table(report)}
<h2>Runs</h2>
{_runs_table(report)}
<h2>Definitions</h2>
{_definitions()}
</body></html>
"""


def write_html(report: Report, path: Path | str, title: str = "firstday report") -> Path:
    path = Path(path)
    atomic_write(path, render_html(report, title))
    return path
