"""docs/agents.md, "Writing your own agent", followed as a newcomer would: the page's agent saved as
``my_agent.py`` plays a day with ``python my_agent.py`` and runs over a suite from the command line with the
page's own commands (issue 20, item 7)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from firstday.run import RunFolder

DOC = Path(__file__).resolve().parent.parent / "docs" / "agents.md"


def _section() -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("## Writing your own agent")
    return text[start:text.index("\n## ", start + 1)]


def _blocks(section: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section, re.S)


def test_the_page_links_the_tool_reference() -> None:
    assert "(tools.md)" in _section()


def test_the_agent_of_the_page_runs_in_memory_and_from_the_command_line(tmp_path: Path) -> None:
    section = _section()
    (code,) = _blocks(section, "python")
    (commands,) = _blocks(section, "bash")
    (tmp_path / "my_agent.py").write_text(code, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    src = str(Path(__file__).resolve().parent.parent / "src")
    env["PYTHONPATH"] = src  # firstday itself, as an installed package would be; the agent is found in the cwd

    played = subprocess.run([sys.executable, "my_agent.py"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=300)
    assert played.returncode == 0, played.stderr
    assert played.stdout.split()[0] == "ok"

    lines = [line for line in commands.splitlines() if line.strip()]
    assert [shlex.split(line)[:2] for line in lines] == [["firstday", "generate"], ["firstday", "run"],
                                                         ["firstday", "report"]]
    for line in lines:
        argv = shlex.split(line)
        done = subprocess.run([sys.executable, "-m", "firstday", *argv[1:]], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{line}\n{done.stderr}"
    folder = RunFolder(tmp_path / "runs" / "read-everything")
    episodes = folder.read_episodes()
    assert episodes and all(e.status == "ok" and e.agent == "read-everything" for e in episodes)
    assert folder.read_manifest().privileged is False
