"""Check that a change leaves every observable output byte-identical: runs, traces, scores, gym observations.

    python scripts/check_identical.py                 # the working tree vs HEAD
    python scripts/check_identical.py --base main     # ... vs another commit
    python scripts/check_identical.py --quick         # fewer runs (a minute or so)

The default base, HEAD, covers uncommitted changes only: once they are committed, pass the commit they
started from (e.g. ``--base $(git merge-base HEAD main)``).

The base commit is checked out into a temporary git worktree; the same fixed set of runs is produced
with each source tree (``PYTHONPATH`` pointing at its ``src``) in a fresh process, and the outputs are
compared file by file: suite folders, ``run.json``, episode files, traces, memory files, the SQLite
index rows, and the gym environment's observations. Wall-clock fields (``created_at``,
``wall_seconds``, ``finished_at``) are left out. Exits 1 on any difference.

The runs: the smoke preset (16 scenarios) with sim-oracle (latency 0), oracle, heuristic, guess and
noop; the same with hints and text-only; the continual preset with memory (heuristic-learning); the
reference preset (50 light days) with the oracle and heuristic; six overloaded `hard` days with the oracle
(the best schedule's skipped tasks); a scripted agent that sends malformed calls; and gym episodes with
malformed and random actions. (Both trees must know the presets used: compare commits from after the
presets of issue 17.)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
WALL_FIELDS = ("created_at", "wall_seconds", "finished_at")


def _runs(quick: bool) -> list[dict[str, Any]]:
    smoke = {"preset": "smoke", "scenarios": 4 if quick else 16}
    runs: list[dict[str, Any]] = [
        {**smoke, "agent": "sim-oracle", "options": {"latency_s": 0.0}, "concurrency": 8},
        {**smoke, "agent": "oracle"},
        {**smoke, "agent": "heuristic", "concurrency": 4},
        {**smoke, "agent": "guess"},
        {**smoke, "agent": "noop"},
        {**smoke, "agent": "heuristic", "env": {"hints": "steps", "text_only": True}},
        {**smoke, "agent": "oracle", "env": {"hints": "where", "max_turns": 7}},
        {**smoke, "agent": "chaos"},
    ]
    if not quick:
        runs += [
            {"preset": "continual", "scenarios": 6, "agent": "heuristic-learning", "env": {"memory": True},
             "concurrency": 4},
            {"preset": "reference", "scenarios": 50, "agent": "oracle", "concurrency": 16},
            {"preset": "reference", "scenarios": 50, "agent": "heuristic", "concurrency": 16, "trials": 2},
            {"preset": "hard", "scenarios": 6, "agent": "oracle", "concurrency": 8},
        ]
    return runs


# --- produce (runs in the source tree under test) ---------------------------------------------------------

def _chaos_calls() -> list[list[dict[str, Any]]]:
    """Malformed and odd calls, one turn each: what an untrusted agent may send."""
    deep: Any = 1
    for _ in range(40):
        deep = [deep]
    return [
        [{"name": "no_such_tool", "arguments": {}}],
        [{"name": "read_file", "arguments": "{not json"}],
        [{"name": "read_file", "arguments": '{"path": "/shared"}'}],
        [{"name": "read_file", "arguments": {"path": 3}}],
        [{"name": "read_file", "arguments": {"path": "/../etc/passwd"}}],
        [{"name": "read_file", "arguments": {"path": "/shared/x", "bogus": 1}}],
        [{"name": "list_files", "arguments": {}}, {"name": "list_files", "arguments": "   "}],
        [{"name": "send_message", "arguments": {"to": [], "text": "hi"}}],
        [{"name": "send_message", "arguments": {"to": "nobody", "text": "hi"}}],
        [{"name": "submit", "arguments": {"task_id": "t1", "answer": {"a": [1, 2.5, None, True, "x" * 30]}}}],
        [{"name": "submit", "arguments": {"task_id": "t1", "answer": deep}}],
        [{"name": "submit", "arguments": {"task_id": "t1", "answer": "y" * 300_000}}],
        [{"name": "submit", "arguments": {"task_id": "t1", "answer": 10**30}}],
        [{"name": "calculator", "arguments": {"expression": "2**2**2**2**2"}}],
        [{"name": "calculator", "arguments": {"expression": "(1200 + 350) * 0.2"}}],
        [{"name": "wait", "arguments": {"minutes": 5, "until": "12:00"}}],
        [{"name": "wait", "arguments": {"minutes": "5"}}],
        [{"name": "book_meeting", "arguments": {"title": "x", "start": "25:00", "duration_minutes": 30,
                                                "room": "Nowhere", "attendees": ["a"]}}],
        [{"name": "notebook", "arguments": {"action": "write", "title": "t", "text": "n"}}],
        [{"name": "read_inbox", "arguments": {"last": 0}}],
        [{"name": "list_tasks", "arguments": [1, 2]}],
        [{"name": "list_tasks", "arguments": "[1, 2]"}],
        [{"name": "lookup_colleague", "arguments": {"handle": "\x00"}}],
        [{"name": "list_tasks", "arguments": {}}] * 70,
        [{"name": 5, "arguments": {}}, {"name": "read_file", "arguments": None}],
        [],
        [{"name": "end_day", "arguments": {}}, {"name": "list_tasks", "arguments": {}}],
    ]


def _register_chaos() -> None:
    from firstday.agents.base import AgentContext, register_agent
    from firstday.world.tools import ToolCall

    class Chaos:
        name = "chaos"

        def __init__(self) -> None:
            self.turns = _chaos_calls()
            self.i = 0

        async def reset(self, briefing: Any) -> None:
            return None

        async def act(self, observation: Any) -> list[ToolCall]:
            if self.i == len(self.turns) + 3:
                raise RuntimeError("chaos agent gives up")  # the agent-error path
            turn = self.turns[self.i] if self.i < len(self.turns) else []
            self.i += 1
            # unvalidated: an agent may hand over calls that bypassed ToolCall's validation
            return [ToolCall.model_construct(**c, id=f"c{self.i}-{j}") for j, c in enumerate(turn)]

    @register_agent("chaos", "malformed calls (check_identical.py)")
    def _chaos(ctx: AgentContext) -> Chaos:
        return Chaos()


def _gym(out: Path, quick: bool) -> None:
    from firstday.env import EnvConfig
    from firstday.env.gym import FirstdayEnv

    lines: list[str] = []
    for config in (EnvConfig(), EnvConfig(hints="steps")):
        env = FirstdayEnv(preset="smoke", suite_seed=3, config=config)
        env.action_space.seed(0)
        for ep in range(2 if quick else 6):
            obs, info = env.reset(seed=ep)
            lines += [obs, json.dumps(info, sort_keys=True)]
            odd = ["", "not json", "{}", "[1]", '{"name": "list_tasks"}', [{"name": "list_files"}], 42]
            for k in range(60):
                action = odd[k] if k < len(odd) else env.action_space.sample()
                obs, reward, term, trunc, info = env.step(action)
                lines += [obs, json.dumps([reward, term, trunc, info], sort_keys=True, default=str)]
                if term or trunc:
                    break
    (out / "gym.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def produce(out: Path, quick: bool) -> None:
    from firstday.env import EnvConfig
    from firstday.run import run_suite
    from firstday.suites import generate_suite, preset, save_suite

    _register_chaos()
    suites: dict[tuple[str, int], Path] = {}
    for i, r in enumerate(_runs(quick)):
        key = (r["preset"], r["scenarios"])
        if key not in suites:
            spec = preset(r["preset"], seed=0).model_copy(update={"scenarios": r["scenarios"]})
            folder = out / f"suite-{r['preset']}-{r['scenarios']}"
            save_suite(spec, generate_suite(spec), folder)
            suites[key] = folder
        run_suite(suites[key], r["agent"], out / f"run{i:02d}-{r['agent']}", env_config=EnvConfig(**r.get("env", {})),
                  agent_options=r.get("options"), trials=r.get("trials", 1), concurrency=r.get("concurrency", 1),
                  seed=7)
    _gym(out, quick)


# --- compare ----------------------------------------------------------------------------------------------

def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in WALL_FIELDS}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _normalised(path: Path) -> bytes:
    data = path.read_bytes()
    if path.name == "run.json":
        manifest = _strip(json.loads(data))
        manifest.pop("suite_path", None)  # where the suite was: a different folder per side
        return json.dumps(manifest, sort_keys=True).encode()
    # tracebacks in error events name the source tree and its line numbers
    return re.sub(rb'File \\"[^"\\]*/src/firstday/([^"\\]*)\\", line \d+', rb"File <\1>", data)


def _db_rows(path: Path) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(path)
    try:
        cur = db.execute("SELECT * FROM episodes ORDER BY key")
        names = [d[0] for d in cur.description]
        keep = [i for i, n in enumerate(names) if n not in WALL_FIELDS]
        return [tuple(row[i] for i in keep) for row in cur.fetchall()]
    finally:
        db.close()


def compare(a: Path, b: Path) -> list[str]:
    problems: list[str] = []
    files_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    files_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    skip = {".sqlite-wal", ".sqlite-shm"}
    for rel in sorted(files_a ^ files_b):
        if not any(str(rel).endswith(s) for s in skip):
            problems.append(f"only in {'base' if rel in files_a else 'new'}: {rel}")
    n = 0
    for rel in sorted(files_a & files_b):
        if any(str(rel).endswith(s) for s in skip):
            continue
        n += 1
        if rel.suffix == ".sqlite":
            if _db_rows(a / rel) != _db_rows(b / rel):
                problems.append(f"index rows differ: {rel}")
        elif _normalised(a / rel) != _normalised(b / rel):
            problems.append(f"differs: {rel}")
    print(f"compared {n} files")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default="HEAD", help="commit to compare the working tree against")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the output folders")
    ap.add_argument("--produce", metavar="OUT", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.produce:
        produce(Path(args.produce), args.quick)
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="check-identical-"))
    base_tree = tmp / "base-src"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(base_tree), args.base],
                   check=True, capture_output=True)
    try:
        outs = {}
        for label, src in (("base", base_tree / "src"), ("new", REPO / "src")):
            out = tmp / label
            out.mkdir()
            env = {**os.environ, "PYTHONPATH": str(src), "PYTHONHASHSEED": "0"}
            cmd = [sys.executable, str(Path(__file__).resolve()), "--produce", str(out)] + (
                ["--quick"] if args.quick else [])
            print(f"producing {label} from {src} ...", flush=True)
            subprocess.run(cmd, check=True, env=env, cwd=tmp)
            outs[label] = out
        problems = compare(outs["base"], outs["new"])
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(base_tree)],
                       check=False, capture_output=True)
        if not args.keep:
            subprocess.run(["rm", "-rf", str(tmp)], check=False)
        else:
            print(f"outputs kept in {tmp}")
    for p in problems[:50]:
        print(p)
    print("IDENTICAL" if not problems else f"{len(problems)} DIFFERENCES")
    return 0 if not problems else 1


if __name__ == "__main__":
    raise SystemExit(main())
