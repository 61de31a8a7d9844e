"""``firstday agents``: every agent a run can name (built-in, plug-ins, registered), and which are privileged."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich import box
from rich.table import Table

from firstday.cli._common import JsonArg, stdout, user_errors

PRIVILEGE_CELL = {True: "yes", False: "", None: "on import"}


@user_errors
def agents_cmd(as_json: JsonArg = False) -> None:
    """The agents: built-in, plug-ins (the firstday.agents entry point group) and registered ones.

    Privileged agents are built from the day's hidden data (answers, plans): upper bounds, not baselines. A
    plug-in's privilege is known once it is imported. Any factory can also be named as --agent package.module:factory.
    """
    from firstday.agents import agent_names, agent_privileges

    privileged = agent_privileges()
    rows: list[dict[str, Any]] = [{"name": name, "description": description, "privileged": privileged[name]}
                                  for name, description in agent_names().items()]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="agents", title_justify="left", box=box.SIMPLE_HEAD,
                  caption="privileged: built from the day's hidden data (an upper bound, not a baseline) · any factory "
                          "can also be named as --agent package.module:factory (docs/agents.md)",
                  caption_justify="left", caption_style="dim")
    table.add_column("name", no_wrap=True)
    table.add_column("privileged", no_wrap=True)
    table.add_column("description")
    for row in rows:
        table.add_row(row["name"], PRIVILEGE_CELL[row["privileged"]], row["description"])
    stdout().print(table)
