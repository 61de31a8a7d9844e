"""Export run folders as tables for analysis (pandas, R, a spreadsheet): Parquet or CSV.

Two tables, one file each (``task_trials.parquet`` / ``episodes.parquet``, or ``.csv``), with the
columns of :data:`TASK_TRIAL_COLUMNS` and :data:`EPISODE_COLUMNS` (documented in docs/running.md):

* ``task_trials``: one row per task per trial (the unit of pass^k and of the micro-averages);
* ``episodes``: one row per episode (scenario, day, trial), error episodes included.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from firstday.errors import ConfigError
from firstday.report.leaderboard import counted_episodes
from firstday.run.results import RunFolder

Column = tuple[str, str, str]  # name, type, meaning

_KEY: list[Column] = [
    ("run", "string", "the run folder"),
    ("agent", "string", "agent name"),
    ("suite_hash", "string", "content hash of the suite"),
    ("scenario_id", "string", "scenario (the bootstrap's cluster)"),
    ("day_index", "int", "day of the scenario"),
    ("trial", "int", "repetition of the (scenario, day), from 0"),
    ("seed", "uint64", "the agent's seed in this trial (64-bit unsigned)"),
    ("memory", "bool", "run with memory carried across days (a learning run; its control has false)"),
    ("hints", "string", "hint tier the tasks came with: none, where, whom or steps"),
]
TASK_TRIAL_COLUMNS: list[Column] = [*_KEY,
    ("task_id", "string", "task instance"),
    ("family", "string", "task family"),
    ("variant", "string", "family variant"),
    ("difficulty", "string", "difficulty level"),
    ("meta_task", "string", "family/variant/difficulty"),
    ("priority", "string", "low, normal or urgent"),
    ("arrival", "int", "arrival time, minutes since midnight (virtual)"),
    ("deadline", "int", "deadline, minutes since midnight (virtual)"),
    ("score", "float", "checkpoint score in [0, 1] (on time only); empty if scoring failed"),
    ("success", "bool", "every checkpoint passed on time; empty if scoring failed"),
    ("on_time", "bool", "every checkpoint passed by the deadline (the deliverable was right in time)"),
    ("submitted_on_time", "bool", "submitted by the deadline (right or not)"),
    ("submitted_at", "int", "time of the first submission; empty if none"),
    ("latency", "int", "minutes from arrival to first submission; empty if none"),
    ("clues_required", "int", "clues the task needs"),
    ("clues_observed", "int", "of those, clues the agent saw"),
    ("checkpoints", "int", "checkpoints of the task"),
    ("checkpoints_passed", "int", "checkpoints passed on time"),
    ("unsupported", "int", "answer-bearing checkpoints attempted before their clues were seen"),
    ("error", "string", "why scoring failed; empty if it did not"),
]
EPISODE_COLUMNS: list[Column] = [*_KEY,
    ("status", "string", "ok, or error"),
    ("error", "string", "the error of an error episode"),
    ("error_kind", "string", "who caused the error: agent (its tasks score 0) or infrastructure (not averaged); "
                             "empty for ok episodes and for errors saved before attribution (counted as agent)"),
    ("turns", "int", "agent steps"),
    ("truncated", "bool", "hit max_turns"),
    ("tasks", "int", "tasks of the day"),
    ("score", "float", "day's mean checkpoint score"),
    ("success_rate", "float", "day's share of tasks fully solved"),
    ("priority_weighted_score", "float", "day's priority-weighted score"),
    ("on_time_rate", "float", "day's priority-weighted on-time rate"),
    ("meetings_missed", "int", "required meetings missed"),
    ("meetings_late", "int", "required meetings joined late"),
    ("work_left", "int", "arrived tasks never submitted"),
    ("clue_discovery", "float", "clues observed / required"),
    ("unsupported_rate", "float", "share of answers given before their clues were seen"),
    ("questions_per_clue", "float", "messages per colleague clue found"),
    ("tool_calls", "int", "tool calls made"),
    # scheduling (docs/scheduling.md); empty for runs saved before the figures existed
    ("submitted_on_time_rate", "float", "day's priority-weighted share of tasks submitted by their deadline"),
    ("urgent_latency", "float", "mean minutes from an urgent task's arrival to its first submission"),
    ("load", "float", "the day's load: the oracle's effort over the working day"),
    ("best_score", "float", "the best achievable priority-weighted score of the day"),
    ("schedule_efficiency", "float", "priority_weighted_score / best_score"),
    ("priority_inversions", "int", "tool calls on a task while a more urgent ready task waited"),
    ("inversion_minutes", "int", "virtual minutes of those calls"),
    ("interruption_response", "float", "mean minutes from an urgent arrival to the first call on it"),
    ("resumed_rate", "float", "share of pre-empted tasks worked on again after the interruption"),
    # side effects (docs/scoring.md, "Noise")
    ("noise", "int", "side effects that would annoy colleagues (the sum of the next three)"),
    ("noise_unrelated_messages", "int", "stray (message, recipient) pairs carrying nothing of an arrived task"),
    ("noise_mass_messages", "int", "stray (message, recipient) pairs of texts that reached more than 3 colleagues"),
    ("noise_meetings", "int", "the trainee's bookings cancelled, kept although unused, or repeated"),
    ("input_tokens", "int", "tokens sent to the model (if the agent reports usage)"),
    ("output_tokens", "int", "tokens received from the model (if reported)"),
    ("cost_usd", "float", "model cost in US dollars (if reported)"),
    ("wall_seconds", "float", "wall-clock time of the episode"),
]

# episode columns copied as they are from the day's metrics
_METRIC_COLUMNS = ("submitted_on_time_rate", "urgent_latency", "load", "best_score", "schedule_efficiency",
                   "priority_inversions", "inversion_minutes", "interruption_response", "resumed_rate", "noise",
                   "noise_unrelated_messages", "noise_mass_messages", "noise_meetings")


def table_rows(run_dirs: Sequence[Path | str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(task-trial rows, episode rows) of the given run folders."""
    tasks: list[dict[str, Any]] = []
    episodes: list[dict[str, Any]] = []
    for path in run_dirs:
        folder = RunFolder(Path(path))
        manifest = folder.read_manifest()
        wall = {r["key"]: r["wall_seconds"] for r in folder.index_rows()}
        episodes_on_disk = folder.read_episodes()
        counted = {e.key: e for e in counted_episodes(episodes_on_disk)}  # agent errors: tasks scored 0
        for e in episodes_on_disk:
            key = {"run": str(path), "agent": manifest.agent, "suite_hash": manifest.suite_hash,
                   "scenario_id": e.scenario_id, "day_index": e.day_index, "trial": e.trial, "seed": e.seed,
                   "memory": manifest.env_config.memory, "hints": manifest.env_config.hints}
            m = e.metrics
            episodes.append({**key, "status": e.status, "error": e.error, "error_kind": e.error_kind,
                             "turns": e.turns, "truncated": e.truncated,
                             "tasks": len(e.tasks), "score": m.score if m else None,
                             "success_rate": m.success_rate if m else None,
                             "priority_weighted_score": m.priority_weighted_score if m else None,
                             "on_time_rate": m.on_time_rate if m else None,
                             "meetings_missed": m.meetings_missed if m else None,
                             "meetings_late": m.meetings_late if m else None,
                             "work_left": m.work_left if m else None,
                             "clue_discovery": m.clue_discovery if m else None,
                             "unsupported_rate": m.unsupported_rate if m else None,
                             "questions_per_clue": m.questions_per_clue if m else None,
                             "tool_calls": m.tool_calls if m else None,
                             **{name: getattr(m, name) if m else None for name in _METRIC_COLUMNS},
                             "input_tokens": e.usage.input_tokens if e.usage else None,
                             "output_tokens": e.usage.output_tokens if e.usage else None,
                             "cost_usd": e.usage.cost_usd if e.usage else None,
                             "wall_seconds": wall.get(e.key)})
            if e.key not in counted:
                continue  # an infrastructure error: its tasks were never fairly attempted
            for t in counted[e.key].tasks:
                tasks.append({**key, "task_id": t.task_id, "family": t.family, "variant": t.variant,
                              "difficulty": t.difficulty, "meta_task": t.meta_task, "priority": t.priority,
                              "arrival": t.arrival, "deadline": t.deadline, "score": t.score, "success": t.success,
                              "on_time": t.on_time, "submitted_on_time": t.submitted_on_time,
                              "submitted_at": t.submitted_at, "latency": t.latency,
                              "clues_required": t.clues_required, "clues_observed": t.clues_observed,
                              "checkpoints": len(t.checkpoints),
                              "checkpoints_passed": sum(1 for c in t.checkpoints if c.passed),
                              "unsupported": sum(1 for c in t.checkpoints if c.unsupported), "error": t.error})
    return tasks, episodes


_DTYPES = {"string": "string", "uint64": "UInt64", "int": "Int64", "float": "Float64", "bool": "boolean"}


def _frame(rows: list[dict[str, Any]], columns: list[Column]) -> Any:
    import pandas as pd

    frame = pd.DataFrame(rows, columns=[c[0] for c in columns])
    return frame.astype({name: _DTYPES[kind] for name, kind, _ in columns})


def export_tables(run_dirs: Sequence[Path | str], out_dir: Path | str,
                  fmt: Literal["parquet", "csv"]) -> list[Path]:
    """Write ``task_trials`` and ``episodes`` tables into ``out_dir``; returns the files written."""
    if fmt not in ("parquet", "csv"):
        raise ConfigError(f"unknown export format {fmt!r}; use parquet or csv")
    if fmt == "parquet" and importlib.util.find_spec("pyarrow") is None:
        raise ConfigError("Parquet export needs pyarrow: pip install pyarrow (or use --export csv)")
    tasks, episodes = table_rows(run_dirs)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, rows, columns in (("task_trials", tasks, TASK_TRIAL_COLUMNS), ("episodes", episodes, EPISODE_COLUMNS)):
        frame = _frame(rows, columns)
        file = out / f"{name}.{fmt}"
        if fmt == "parquet":
            frame.to_parquet(file, index=False)
        else:
            frame.to_csv(file, index=False)
        written.append(file)
    return written


def schema_markdown() -> str:
    """The tables' columns as Markdown (the schema section of docs/running.md)."""
    lines = []
    for title, columns in (("task_trials", TASK_TRIAL_COLUMNS), ("episodes", EPISODE_COLUMNS)):
        lines += [f"#### `{title}`", "", "| column | type | meaning |", "|---|---|---|"]
        lines += [f"| `{n}` | {k} | {d} |" for n, k, d in columns]
        lines.append("")
    return "\n".join(lines)
