"""form_data_entry: the cell-tolerant CSV check, and the skipped form follows from the text alternatives."""

from __future__ import annotations

import pytest

from conftest import seeded_company
from firstday.seeding import make_rng
from firstday.tasks import get_family
from firstday.tasks.checks import CsvRowsCheck
from firstday.tasks.family import GenContext
from firstday.tasks.model import TaskInstance
from firstday.world.records import DayRecord, FileVersion

FAMILY = get_family("form_data_entry")
PATH = "/workspace/log.csv"
ANSWERS = {"rows": [{"form_id": "EXP-1", "amount": 184.5, "items": "Laptop;Webcam", "date": "2025-03-04"}],
           "skipped": ["EXP-9"]}


def record(*contents: str) -> DayRecord:
    versions = [FileVersion(time=0, content="form_id,amount,items,date\n", author="initial")]
    versions += [FileVersion(time=10 + i, content=c, author="trainee") for i, c in enumerate(contents)]
    return DayRecord(files={PATH: versions})


@pytest.mark.parametrize(("content", "ok"), [
    ("form_id,amount,items,date\nEXP-1,184.50,Laptop;Webcam,2025-03-04\n", True),
    ("date,Items,amount,form_id,extra\n2025-03-04, Webcam ; Laptop ,184.5,exp-1,x\n", True),  # order, case, spaces
    ('form_id,amount,items,date\nEXP-1,"184.50",Laptop;Webcam,2025-03-04\n', True),  # quoted
    ("form_id,amount,items,date\nEXP-1,184.51,Laptop;Webcam,2025-03-04\n", False),  # off by a cent
    ("form_id,amount,items,date\nEXP-1,184.50,Laptop,2025-03-04\n", False),  # an item missing
    ("form_id,amount,items,date\nEXP-1,184.50,Laptop;Webcam,04/03/2025\n", False),  # date format
    ("form_id,amount,items,date\nEXP-1,184.50,Laptop;Webcam,2025-03-04\nEXP-1,1,Laptop,2025-03-04\n", False),
    ("form_id,amount\nEXP-1,184.50\n", False),  # columns missing
])
def test_csv_rows_present(content: str, ok: bool) -> None:
    check = CsvRowsCheck(path=PATH, key_column="form_id", expected="rows")
    assert check.evaluate(record(content), "t1", ANSWERS, 100).passed is ok


def test_csv_rows_absent_needs_an_edit() -> None:
    check = CsvRowsCheck(path=PATH, key_column="form_id", aspect="absent", expected="skipped")
    assert not check.evaluate(record(), "t1", ANSWERS, 100).passed  # untouched file: no credit
    assert check.evaluate(record("form_id,amount\nEXP-1,2\n"), "t1", ANSWERS, 100).passed
    assert not check.evaluate(record("form_id,amount\nEXP-9,2\n"), "t1", ANSWERS, 100).passed


def instance(variant: str, seed: int) -> TaskInstance:
    company = seeded_company("forms", seed)
    ctx = GenContext(rng=make_rng("forms-test", variant, seed), company=company, task_id="t1", variant=variant,
                     difficulty="hard", arrival=600, priority="normal", requester=company.mentor)
    return FAMILY.generate(ctx)


@pytest.mark.parametrize("variant", FAMILY.variants)
def test_the_invalid_form_is_the_one_marked_so_in_the_image(variant: str) -> None:
    for seed in range(8):
        inst = instance(variant, seed)
        entered = []
        for f in inst.files:
            if f.is_image:
                alt = f.text_alternative or ""
                form_id = alt.split("\n", 1)[0].rstrip(".").rsplit(" ", 1)[1]
                if "Marked " not in alt and "not signed" not in alt:
                    entered.append(form_id)
        assert sorted(inst.answers["entered"]) == sorted(entered) and len(entered) == 2
