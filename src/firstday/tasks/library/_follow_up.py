"""Follow-up tasks: a task that needs the result of an earlier task of the day (docs/families.md, "Dependent
tasks").

The earlier task *A* found a set of entities (people, suppliers, regions). The follow-up *B* arrives later with
a sheet that lists an amount for *every* entity A's data holds (on medium and hard, several rows per entity, of
which only those of one status count), and asks for the entities of A's result and the total of their counted
amounts. The sheet does not say which entities A found, so an agent can answer B only with A's result: by
having done A, or by redoing A's work. B's hidden answers derive from A's (``TaskInstance.answers``) and its
own sheet; both tasks are scored independently.
"""

from __future__ import annotations

from dataclasses import dataclass

from firstday.tasks.checks import SubmissionCheck
from firstday.tasks.family import BaselineView, GenContext, Labelled
from firstday.tasks.model import Checkpoint, Clue, TaskInstance
from firstday.world.assets import FileAsset
from firstday.world.tools import ToolCall


@dataclass(frozen=True)
class FollowUpSpec:
    """What a family says about one follow-up of an earlier task (the wording and the sheet's columns)."""

    entities: list[str]  # A's result: the entities the follow-up applies to (A's hidden answer)
    candidates: list[str]  # every entity of A's data (a superset of ``entities``): the sheet lists them all
    result_phrase: str  # what A's result is, e.g. "the people whose own average sale is above the average"
    request: str  # what is done with them, e.g. "Sales pays each of them a bonus"
    folder: str  # the sheet's folder on the shared drive
    sheet_stem: str  # the sheet's file name (without extension)
    sheet_name: str  # the sheet in words, e.g. "bonus sheet"
    entity_column: str  # the sheet's column naming the entity, e.g. "employee"
    amount_column: str  # the sheet's amount column, e.g. "bonus"
    counted_status: str  # the status whose rows count, e.g. "approved"
    other_statuses: tuple[str, ...]  # statuses of rows that do not count (medium and hard)
    list_key: str  # the submitted field of the entities, e.g. "bonus_recipients"
    total_key: str  # the submitted field of the total, e.g. "bonus_total"
    amount_range: tuple[int, int]  # a row's amount, in whole currency units


def _money(cents: int) -> float:
    return round(cents / 100, 2)


def build_follow_up(ctx: GenContext, family: Labelled, earlier: TaskInstance, spec: FollowUpSpec) -> TaskInstance:
    """The follow-up instance of ``earlier`` described by ``spec`` (deterministic given ``ctx.rng``)."""
    rng = ctx.rng
    tid = ctx.task_id
    level = {"easy": 0, "medium": 1, "hard": 2}[ctx.difficulty]
    wanted = set(spec.entities)
    lo, hi = spec.amount_range
    rows: list[tuple[str, str, int, str]] = []  # entity, reference, cents, status
    for entity in spec.candidates:
        n_rows = 1 if level == 0 else rng.randint(1, 1 + level)
        statuses = [spec.counted_status] + [
            spec.counted_status if level == 0 or rng.random() < 0.6 else rng.choice(spec.other_statuses)
            for _ in range(n_rows - 1)]
        for status in statuses:
            rows.append((entity, "", rng.randint(lo * 100, hi * 100), status))
    rng.shuffle(rows)
    rows = [(e, f"{spec.sheet_stem[:3].upper()}-{i + 101}", c, s) for i, (e, _, c, s) in enumerate(rows)]
    total = sum(c for e, _, c, s in rows if e in wanted and s == spec.counted_status)
    answers = {spec.list_key: sorted(wanted), spec.total_key: _money(total)}

    path = ctx.path(spec.folder, spec.sheet_stem, "csv")
    header = f"reference,{spec.entity_column},{spec.amount_column},status"
    lines = [header] + [f"{ref},{e},{c / 100:.2f},{s}" for e, ref, c, s in sorted(rows, key=lambda r: r[1])]
    sheet_clue = f"{tid}-sheet"
    files = [FileAsset(path=path, content="\n".join(lines) + "\n", media_type="text/csv", clue_ids=[sheet_clue])]
    clues = [Clue(clue_id=sheet_clue, description=f"the {spec.sheet_name}: an amount per {spec.entity_column}",
                  location="file", where=path)]
    # the result of A rests on A's own clues (A's task declares them): B's answers are supported only once
    # they were observed
    prior_clues = sorted({c for cp in earlier.checkpoints if cp.answer_bearing for c in cp.clue_ids})
    plan = [ToolCall(name="read_file", arguments={"path": path}),
            ToolCall(name="submit", arguments={"task_id": tid, "answer": dict(answers)})]
    status_rule = (f" Only rows whose status is {spec.counted_status} count." if level else "")
    objective = (f"Following up on {earlier.task_id}: take {spec.result_phrase}, your result of {earlier.task_id}. "
                 f"{spec.request}. The {spec.sheet_name} is {path}.{status_rule} Submit "
                 f'{{"{spec.list_key}": ["<{spec.entity_column}>", ...], "{spec.total_key}": <the total of their '
                 f"{spec.amount_column} amounts>}}.")
    checkpoints = [
        Checkpoint(cp_id=spec.list_key.replace("_", "-"), description=f"{spec.result_phrase} (from {earlier.task_id})",
                   clue_ids=prior_clues,
                   check=SubmissionCheck(field=spec.list_key, expected=spec.list_key, compare="set_equals"),
                   feedback=f"This builds on {earlier.task_id}: its result says who is concerned."),
        Checkpoint(cp_id=spec.total_key.replace("_", "-"), description=f"the total {spec.amount_column} of them",
                   clue_ids=[*prior_clues, sheet_clue],
                   check=SubmissionCheck(field=spec.total_key, expected=spec.total_key, compare="number_close",
                                         tolerance=1e-4),
                   feedback=f"Add up the counted rows of the {spec.sheet_name} for everyone in the result of "
                            f"{earlier.task_id}."),
    ]
    return ctx.instance(family, objective=objective, extra_minutes=5, depends_on=[earlier.task_id], files=files,
                        clues=clues, checkpoints=checkpoints, solution=plan, answers=answers)


def sheet_rows(text: str, entity_column: str, amount_column: str) -> list[tuple[str, float, str]]:
    """(entity, amount, status) of each row of a follow-up sheet (for the baselines)."""
    lines = text.strip().splitlines()
    if not lines:
        return []
    head = lines[0].split(",")
    if entity_column not in head or amount_column not in head or "status" not in head:
        return []
    ie, ia, st = head.index(entity_column), head.index(amount_column), head.index("status")
    out: list[tuple[str, float, str]] = []
    for ln in lines[1:]:
        cells = ln.split(",")
        if len(cells) == len(head):
            try:
                out.append((cells[ie], float(cells[ia]), cells[st]))
            except ValueError:
                continue
    return out


def baseline_follow_up(view: BaselineView, entity_column: str, amount_column: str, list_key: str,
                       total_key: str) -> list[ToolCall]:
    """The baselines' follow-up answer: without the earlier task's result at hand, every entity of the sheet
    and the total of every row (a deliberately rough answer)."""
    rows = [r for path, text in sorted(view.texts.items()) if path.endswith(".csv")
            for r in sheet_rows(text, entity_column, amount_column)]
    answer = {list_key: sorted({e for e, _, _ in rows}), total_key: round(sum(a for _, a, _ in rows), 2)}
    return [ToolCall(name="submit", arguments={"task_id": view.task_id, "answer": answer})]
