"""floor_plan_booking: the answer room is recomputed from the plan's text alternative and the room bookings."""

from __future__ import annotations

import re

import pytest

from conftest import single_task_day
from firstday.tasks.library.floor_plan_booking import VARIANTS


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("difficulty", ["easy", "hard"])
def test_answer_is_the_unique_room_matching_the_plan(variant: str, difficulty: str) -> None:
    for seed in range(3):
        scenario, day = single_task_day(("floor_plan_booking", variant, difficulty), seed, "fpb-test")
        inst = next(t for t in day.tasks if t.family == "floor_plan_booking")
        alt = inst.files[0].text_alternative or ""
        features = {m.group(1): m.group(2) for m in re.finditer(r"^- (\w[\w ]*?): (.+) \(seats \d+\)$", alt, re.M)}
        beside = {(m.group(1), m.group(2)) for m in re.finditer(r"^- (.+) shares a wall with the (.+) team area$",
                                                                alt, re.M)}
        minutes = re.search(r"(\d+)-minute", inst.objective)
        assert minutes is not None, inst.objective
        start, end = inst.answers["start"], inst.answers["start"] + int(minutes.group(1))
        need = len(inst.answers["invited"]) + 1
        booked = {m.room for m in [*day.meetings, *(m for t in day.tasks for m in t.meetings)]
                  if m.start < end and start < m.end}
        team = re.search(r"shares a wall with the (.+?) team's area", inst.objective)
        wanted = [f for f in ("projector", "whiteboard", "video conferencing") if f in inst.objective]
        if difficulty == "hard":
            wanted.append("step-free access")
        caps = {r.name: r.capacity for r in scenario.company.rooms}
        match = [r for r, feats in features.items() if caps[r] >= need and r not in booked
                 and all(f in feats for f in wanted) and (team is None or (r, team.group(1)) in beside)]
        assert match == [inst.answers["room"]]
