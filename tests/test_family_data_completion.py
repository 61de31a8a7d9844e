"""data_completion: expected cells follow from the handbook and the lookup table an agent can obtain, and the
CSV check accepts reformatted numbers but not changed, missing or untouched cells."""

from __future__ import annotations

import csv
import io
import math
import re

import pytest

from conftest import single_task_day
from firstday.tasks.checks import CsvCheck
from firstday.tasks.model import TaskInstance
from firstday.world.records import DayRecord, FileVersion

VARIANTS = ("sales", "inventory", "finance", "logistics", "web_metrics")


def _task(variant: str, difficulty: str, seed: int) -> TaskInstance:
    _scenario, day = single_task_day(("data_completion", variant, difficulty), seed, label="dc-test")
    assert len(day.tasks) == 1
    return day.tasks[0]


def _completed(task: TaskInstance) -> str:
    return next(str(c.arguments["content"]) for c in task.solution if c.name == "write_file"
                and isinstance(c.arguments, dict))


def _recompute_lookup(task: TaskInstance, rows: list[dict[str, str]]) -> dict[int, float]:
    """The lookup column from the holder's reply, the handbook's formula and the file's own cells."""
    reply = next(f.reply for f in task.facts if f.fact_id.endswith("-lookup"))
    table = {k.strip(): float(v) for k, v in re.findall(r"([A-Za-z][\w ]*?): (\d+(?:\.\d+)?)", reply.split("):", 1)[1])}
    out = {}
    for i, r in enumerate(rows):
        if task.variant == "sales":
            out[i] = float(r["revenue"]) * table[r["region"]] / 100
        elif task.variant == "inventory":
            out[i] = float(r["closing_stock"]) * table[r["category"]]
        elif task.variant == "finance":
            out[i] = float(r["actual"]) * table[r["currency"]]
        elif task.variant == "logistics":
            out[i] = float(r["chargeable_kg"]) * table[r["carrier"]]
        else:
            out[i] = float(r["conversions"]) * table[r["channel"]]
    return out


@pytest.mark.parametrize("variant", VARIANTS)
def test_lookup_column_follows_from_the_colleagues_table(variant: str) -> None:
    for seed in range(5):
        task = _task(variant, "hard", seed)
        rows = list(csv.DictReader(io.StringIO(_completed(task))))
        want = _recompute_lookup(task, rows)
        col = next(k for k in task.answers if k.startswith("filled.") and k.split(".")[1] in
                   ("commission", "stock_value", "actual_eur", "freight_cost", "conversion_value"))
        for i, _c, value in task.answers[col]:
            assert math.isclose(value, round(want[i], 2), abs_tol=0.011), (seed, i)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_blanks_exist_and_given_cells_match_the_completed_file(variant: str, difficulty: str) -> None:
    for seed in range(3):
        task = _task(variant, difficulty, seed)
        original = list(csv.DictReader(io.StringIO(task.answers["original"])))
        done = list(csv.DictReader(io.StringIO(_completed(task))))
        blanks = sum(1 for r in original for v in r.values() if v == "")
        expected = sum(len(v) for k, v in task.answers.items() if k.startswith("filled."))
        assert blanks == expected > 0
        assert len([k for k in task.answers if k.startswith("filled.")]) == {"easy": 1, "medium": 2, "hard": 3}[
            difficulty]
        for a, b in zip(original, done, strict=True):
            assert all(a[c] in ("", b[c]) for c in a)


def _record(path: str, original: str, edited: str | None) -> DayRecord:
    record = DayRecord()
    record.files[path] = [FileVersion(time=540, content=original, author="initial")]
    if edited is not None:
        record.files[path].append(FileVersion(time=600, content=edited, author="trainee"))
    return record


def test_csv_check_semantics() -> None:
    task = _task("finance", "medium", 0)
    path = next(f.path for f in task.files if f.path.endswith(".csv"))
    original, done = task.answers["original"], _completed(task)
    checks = [cp.check for cp in task.checkpoints if isinstance(cp.check, CsvCheck)]
    filled = [c for c in checks if c.aspect == "filled"]
    preserved = next(c for c in checks if c.aspect == "preserved")

    def passes(check: CsvCheck, content: str | None) -> bool:
        return check.evaluate(_record(path, original, content), task.task_id, task.answers, 700).passed

    assert all(passes(c, done) for c in checks)
    assert not any(passes(c, None) for c in checks), "the untouched file must not score"
    # numbers written without trailing zeros (as pandas does) are the same cells
    reformatted = re.sub(r"(\.\d)0\b", r"\1", done)
    assert passes(preserved, reformatted) and all(passes(c, reformatted) for c in filled)
    # a changed given cell breaks "preserved"; a wrong filled cell breaks its column
    rows = list(csv.reader(io.StringIO(done)))
    rows[1][3] = str(float(rows[1][3]) + 1)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    assert not passes(preserved, buf.getvalue())
    key = next(k for k in task.answers if k.startswith("filled."))
    i, col, value = task.answers[key][0]
    records = list(csv.DictReader(io.StringIO(done)))
    records[i][col] = str(round(value + 0.05, 2))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    assert not passes(next(c for c in filled if c.expected == key), buf.getvalue())
