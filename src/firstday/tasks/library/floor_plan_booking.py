"""Floor plan booking: book the one meeting room that meets the requester's constraints, read off the
office floor plan (an image: rooms with names, seats and equipment tags, and the teams' open-plan areas).

Which room has which equipment and which room shares a wall with which team's area is shown ONLY on the
plan; ``list_rooms`` gives the real capacities and floors (the plan agrees with them), ``room_schedule``
which rooms are free at the meeting time. The ground truth is computed by the rule the objective states:
among the rooms big enough and free at that time, the one matching every constraint, and instances are
redrawn until exactly one does. Hard instances add a constraint only an invitee knows (step-free access).

Room reservations: the room the oracle books is reserved in the day-wide ``used_paths`` set under
``floor_plan_booking:room:`` and also under ``meeting_booking:room:``, the key the other booking families
(meeting_booking, meeting_attend) already read, so none of them takes the room at that time.
"""

from __future__ import annotations

import random
import re
from typing import Any, ClassVar

from PIL import Image, ImageDraw

from firstday.errors import DayFullError, GenerationError
from firstday.tasks.checks import MeetingCheck
from firstday.tasks.family import BaselineView, GenContext, ask, estimate_minutes, register
from firstday.tasks.library._image_kit import RGB, centered, grain, jitter, text, text_width
from firstday.tasks.model import Checkpoint, Clue, TaskInstance
from firstday.timefmt import fmt
from firstday.world.assets import Fact, FileAsset, MeetingAsset
from firstday.world.company import Room
from firstday.world.images import ImageSpec, register_renderer
from firstday.world.tools import ToolCall

VARIANTS = ("near_team", "feature", "near_and_feature")
FEATURES = ("projector", "whiteboard", "video conferencing")
STEP_FREE = "step-free access"
SHORT = {"projector": "Projector", "whiteboard": "Whiteboard", "video conferencing": "Video conf",
         STEP_FREE: "Step-free"}
TAG_COLOURS: dict[str, RGB] = {"projector": (214, 120, 40), "whiteboard": (70, 110, 190),
                               "video conferencing": (120, 70, 170), STEP_FREE: (30, 140, 80)}
TOPICS = ("Design sprint", "Client demo prep", "Quarterly review", "Hiring panel", "Product walkthrough",
          "Budget workshop", "Partner call", "Team retro", "Training session", "Strategy huddle",
          "Launch rehearsal", "Process workshop", "Vendor pitch", "Planning poker")
KEY_ROOM = "floor_plan_booking:room:"
KEY_TOPIC = "floor_plan_booking:topic:"
KEY_BOOKED_ROOM = "meeting_booking:room:"  # read by meeting_booking and meeting_attend
W = 760
LEAD = 60  # minutes between the end of the task's work and the meeting


def _overlap(a0: int, a1: int, b0: int, b1: int) -> bool:
    return a0 < b1 and b0 < a1


def _reserved(ctx: GenContext, prefix: str) -> list[tuple[str, int, int]]:
    out = []
    for k in sorted(ctx.used_paths):
        if k.startswith(prefix):
            room, a, b = k[len(prefix):].rsplit(":", 2)
            out.append((room, int(a), int(b)))
    return out


def matching_rooms(rooms: list[dict[str, Any]], need: int, free: set[str], team: str | None,
                   wanted: list[str]) -> list[str]:
    """The rule of the objective: big enough, free then, next to ``team``'s area (if asked) and having
    every wanted feature."""
    return [r["name"] for r in rooms if r["capacity"] >= need and r["name"] in free
            and (team is None or team in r["next_to"]) and all(f in r["features"] for f in wanted)]


@register_renderer("floor_plan_booking.plan")
def render_plan(params: dict[str, Any]) -> Image.Image:
    rng = random.Random(params["seed"])
    floors: list[dict[str, Any]] = params["floors"]
    strip_h = min(140, max(104, 520 // max(1, len(floors))))
    top = 44
    height = top + strip_h * len(floors) + 34
    paper = jitter((248, 247, 242), rng, 4)
    img = Image.new("RGB", (W, height), paper)
    d = ImageDraw.Draw(img)
    ink = (40, 44, 52)
    text(img, (20, 12), f"{params['company']} - office floor plan", 18, ink, bold=True)
    for i, floor in enumerate(floors):
        y0 = top + i * strip_h
        d.rectangle((14, y0, W - 14, y0 + strip_h - 8), outline=(90, 90, 95), width=3)
        text(img, (20, y0 + 4), f"Floor {floor['floor']}", 12, (90, 90, 95), bold=True)
        cells: list[dict[str, Any]] = floor["cells"]
        weights = [c["w"] for c in cells]
        x = 70.0
        span = W - 28 - x
        for c, w in zip(cells, weights, strict=True):
            cw = span * w / sum(weights)
            box = (round(x), y0 + 6, round(x + cw), y0 + strip_h - 14)
            if c["kind"] == "team":
                d.rectangle(box, fill=jitter((232, 240, 226), rng, 6))
                for dx in range(box[0] + 8, box[2] - 16, 22):  # desks
                    for dy in (box[1] + 30, box[1] + 56):
                        if dy + 14 < box[3]:
                            d.rectangle((dx, dy, dx + 14, dy + 10), outline=(150, 160, 140), fill=(245, 245, 238))
                d.rectangle(box, outline=(80, 84, 90), width=2)
                centered(img, (box[0], box[3] - 26, box[2], box[3]), f"{c['team']} team", 12, (50, 90, 50),
                         bold=True)
            else:
                d.rectangle(box, fill=jitter((255, 253, 246), rng, 3), outline=(40, 44, 52), width=3)
                # the door: a gap in the wall facing the corridor
                dx = box[0] + (box[2] - box[0]) // 2
                d.line((dx - 8, box[3], dx + 8, box[3]), fill=paper, width=3)
                text(img, (box[0] + 6, box[1] + 4), c["name"], 13, ink, bold=True)
                # seats: a person glyph and the number
                py = box[1] + 24
                d.ellipse((box[0] + 7, py, box[0] + 13, py + 6), fill=(90, 90, 95))
                d.rectangle((box[0] + 6, py + 7, box[0] + 14, py + 13), fill=(90, 90, 95))
                text(img, (box[0] + 19, py - 1), str(c["capacity"]), 11, (60, 60, 66))
                ty = py + 18
                for f in c["features"]:
                    col = TAG_COLOURS[f]
                    label = SHORT[f]
                    tw = text_width(label, 10)
                    d.rounded_rectangle((box[0] + 6, ty, box[0] + 14 + tw, ty + 13), radius=3, fill=col)
                    text(img, (box[0] + 10, ty), label, 10, (255, 255, 255))
                    ty += 15
            x += cw
    text(img, (20, height - 26), "Rooms show seats and equipment. Team areas are open-plan.", 11, (100, 100, 105))
    img = grain(img, rng, float(params.get("noise", 0.0)))
    return img


@register
class FloorPlanBooking:
    name = "floor_plan_booking"
    title = "Floor plan room booking"
    description = ("Book the meeting room that meets the requester's constraints (next to a team's area, "
                   "equipment, accessibility); only the office floor plan image shows which room qualifies.")
    domains = ("scheduling", "information")
    modalities = ("image", "calendar", "dialogue")
    variants = VARIANTS
    knobs: ClassVar[dict[str, str]] = {
        "constraints": "near_team: the room shares a wall with a team's area; feature: it has the named "
                       "equipment (easy 1 item, medium/hard 2); near_and_feature: both",
        "decoys": "medium/hard: a room that matches every stated constraint is already booked then "
                  "(when the company's rooms allow it)",
        "hidden": "hard: an invitee needs step-free access, which only they say when asked; a free room "
                  "matching the stated constraints but without step-free access is the trap where possible",
        "noise": "image grain: easy 0, medium 0.04, hard 0.08",
    }

    def generate(self, ctx: GenContext) -> TaskInstance:
        rng = ctx.rng
        level = {"easy": 0, "medium": 1, "hard": 2}[ctx.difficulty]
        company = ctx.company
        tid = ctx.task_id
        free_topics = [t for t in TOPICS if KEY_TOPIC + t not in ctx.used_paths]
        topic = rng.choice(free_topics) if free_topics else f"{rng.choice(TOPICS)} {tid}"
        ctx.used_paths.add(KEY_TOPIC + topic)
        requester = company.employee(ctx.requester) if any(e.handle == ctx.requester for e in company.employees) \
            else None
        title = f"{topic} ({requester.department})" if requester is not None else topic
        pool = [e for e in company.employees if e.handle != ctx.requester and e.department != "Executive"]
        invitees = sorted(rng.sample(pool, min(len(pool), rng.randint(2, 3))), key=lambda e: e.handle)
        if requester is not None:
            invitees = sorted([*invitees, requester], key=lambda e: e.handle)
        need = len(invitees) + 1
        teams_all = sorted({e.department for e in company.employees if e.department != "Executive"})
        asker = rng.choice([e for e in invitees if e.handle != ctx.requester] or invitees)
        path = ctx.path("/shared/facilities", "office-floor-plan", "png")
        duration = rng.choice((30, 45, 60))
        sketch = self._plan(ctx, path, asker.handle if level == 2 else None, title, 0, duration,
                            company.rooms[0].name, [e.handle for e in invitees])
        effort = estimate_minutes(sketch, company)
        for _ in range(200):
            built = self._attempt(ctx, level, need, teams_all, effort, duration)
            if built is not None:
                break
        else:
            raise GenerationError(f"task {tid}: no floor plan with a unique room")
        start, rooms_attrs, layout, target, team, wanted, blockers = built
        end = start + duration
        ctx.used_paths.add(f"{KEY_ROOM}{target}:{start}:{end}")
        ctx.used_paths.add(f"{KEY_BOOKED_ROOM}{target}:{start}:{end}")

        deciding = [f"{r['name']}: {', '.join(r['features']) or 'no equipment'}" for r in rooms_attrs]
        deciding += [f"{r['name']} shares a wall with the {t} team area" for r in rooms_attrs for t in r["next_to"]]
        alt = ["Office floor plan (rooms with seats and equipment; team areas)."]
        for fl in layout:
            alt.append(f"Floor {fl['floor']}, left to right: " + ", ".join(
                c["name"] if c["kind"] == "room" else f"{c['team']} team area" for c in fl["cells"]))
        for r in rooms_attrs:
            alt.append(f"- {r['name']}: {', '.join(r['features']) or 'no equipment'} (seats {r['capacity']})")
        alt += [f"- {r['name']} shares a wall with the {t} team area" for r in rooms_attrs for t in r["next_to"]]
        params: dict[str, Any] = {"seed": rng.randrange(2**31), "company": company.name, "floors": layout,
                                  "noise": (0.0, 0.04, 0.08)[level], "deciding": deciding}
        files = [FileAsset(path=path, media_type="image/png", clue_ids=[f"{tid}-plan"],
                           render=ImageSpec(renderer="floor_plan_booking.plan", params=params),
                           text_alternative="\n".join(alt))]
        clues = [Clue(clue_id=f"{tid}-plan", description="rooms' equipment and neighbouring team areas",
                      location="file", where=path)]
        facts: list[Fact] = []
        if level == 2:
            facts.append(Fact(
                fact_id=f"{tid}-access", holder=asker.handle, topic=f"room needs for the '{title}'",
                keywords=["room", "need", "needs", "requirement", "requirements", "access", "meeting", topic, title],
                require_any=[topic, title],
                reply=f"Thanks for asking about the '{title}': I use a wheelchair, so the room needs step-free "
                      "access.", clue_ids=[f"{tid}-access"]))
            clues.append(Clue(clue_id=f"{tid}-access", description="an invitee needs step-free access",
                              location="colleague", where=f"ask {asker.handle}"))
        plan = self._plan(ctx, path, asker.handle if level == 2 else None, title, start, duration, target,
                          [e.handle for e in invitees])
        assert estimate_minutes(plan, company) == effort
        parts = []
        if team is not None:
            parts.append(f"shares a wall with the {team} team's area")
        if wanted:
            parts.append("has " + " and ".join(f"a {f}" if f != "video conferencing" else f for f in wanted))
        who = ", ".join(f"{e.name} ({e.handle})" for e in invitees)
        objective = (f"Book a {duration}-minute meeting titled '{title}' today at {fmt(start)} with {who}. "
                     f"Use the meeting room that {' and '.join(parts)}, holds everyone (you included) and is free "
                     f"then; the office floor plan is at {path}.")
        if level == 2:
            objective += f" {asker.name} ({asker.handle}) may have a requirement for the room: ask them first."
        objective += ' Submit {"meeting_id": "<the id book_meeting returns>"}.'
        clue_ids = [c.clue_id for c in clues]
        checkpoints = [
            Checkpoint(cp_id="booked", description="a meeting was booked and its id submitted", weight=1.0,
                       answer_bearing=False, check=MeetingCheck(aspect="exists"),
                       feedback="Book the meeting with book_meeting, then submit the id it returns as meeting_id."),
            Checkpoint(cp_id="start", description="the meeting starts at the requested time", weight=0.5,
                       answer_bearing=False, check=MeetingCheck(aspect="start", expected="start"),
                       feedback="The task says when the meeting starts; book_meeting takes it as 'HH:MM'."),
            Checkpoint(cp_id="invited", description="every named colleague is invited", weight=0.5,
                       answer_bearing=False, check=MeetingCheck(aspect="attendees_include", expected="invited"),
                       feedback="Invite every colleague the task names."),
            Checkpoint(cp_id="room", description="the meeting is in the room that meets every constraint",
                       weight=3.0, clue_ids=clue_ids, check=MeetingCheck(aspect="room", expected="room"),
                       feedback=("The floor plan shows each room's equipment and which team areas it borders; "
                                 "room_schedule shows which rooms are free"
                                 + ("; an invitee may need more from the room." if level == 2 else "."))),
        ]
        deadline = start - 5
        return ctx.instance(
            self, objective=objective, deadline=deadline, latest_deadline=deadline, effort_minutes=effort,
            files=files, facts=facts, meetings=blockers, clues=clues, checkpoints=checkpoints, solution=plan,
            answers={"room": target, "start": start, "invited": [e.handle for e in invitees]})

    def _attempt(self, ctx: GenContext, level: int, need: int, teams_all: list[str], effort: int,
                 duration: int) -> tuple[int, list[dict[str, Any]], list[dict[str, Any]], str, str | None,
                                         list[str], list[MeetingAsset]] | None:
        rng = ctx.rng
        company = ctx.company
        required = [(m.start, m.end) for m in ctx.meetings if m.trainee_required]
        reserved = _reserved(ctx, KEY_ROOM) + _reserved(ctx, KEY_BOOKED_ROOM)
        fits = [r for r in company.rooms if r.capacity >= need]

        def open_rooms(start: int) -> list[Room]:
            """Big-enough rooms with nothing booked or reserved within 15 minutes of the meeting."""
            end = start + duration
            if any(_overlap(start, end, a, b) for a, b in required):
                return []
            taken = {m.room for m in ctx.meetings if _overlap(start - 15, end + 15, m.start, m.end)}
            taken |= {r for r, a, b in reserved if _overlap(start - 15, end + 15, a, b)}
            return [r for r in fits if r.name not in taken]

        # construct, don't retry: draw among the (start, room) pairs that are open; the preferred window
        # leaves LEAD minutes after the work, and when it is full (a late arrival on a busy day) any start
        # the work can still be done before is used
        lo = ctx.arrival + effort + LEAD + sum(max(0, b - a) for a, b in required if a >= ctx.arrival)
        hi = ctx.day_end - duration - 15
        early = ctx.arrival + effort + 10
        grid = [s for s in range(-(-lo // 5) * 5, hi + 1, 5) if open_rooms(s)]
        if not grid:
            grid = [s for s in range(-(-early // 5) * 5, ctx.day_end - duration - 4, 5) if open_rooms(s)]
        if not grid:
            raise DayFullError(f"task {ctx.task_id}: every room big enough for {need} people is taken "
                                  "for the rest of the day")
        start = rng.choice(grid)
        end = start + duration
        booked = {m.room for m in ctx.meetings if _overlap(start, end, m.start, m.end)}
        near_taken = {m.room for m in ctx.meetings if _overlap(start - 15, end + 15, m.start, m.end)}
        near_taken |= {r for r, a, b in reserved if _overlap(start - 15, end + 15, a, b)}
        target = rng.choice(open_rooms(start))
        near = ctx.variant in ("near_team", "near_and_feature")
        feat = ctx.variant in ("feature", "near_and_feature")
        team = rng.choice(teams_all) if near else None
        # layout: a strip per floor, rooms and team areas in a row; the team sits beside the target
        floors = sorted({r.floor for r in company.rooms})
        strips: dict[int, list[dict[str, Any]]] = {f: [] for f in floors}
        for r in company.rooms:
            strips[r.floor].append({"kind": "room", "name": r.name, "capacity": r.capacity, "features": [],
                                    "w": rng.randint(9, 14)})
        for f in floors:
            rng.shuffle(strips[f])
        others = [t for t in teams_all if t != team]
        for t in rng.sample(others, min(len(others), rng.randint(1, 3))):
            cells = strips[rng.choice(floors)]
            cells.insert(rng.randint(0, len(cells)), {"kind": "team", "team": t, "w": rng.randint(11, 16)})
        if team is not None:
            cells = strips[target.floor]
            i = next(k for k, c in enumerate(cells) if c.get("name") == target.name)
            cells.insert(i + rng.choice((0, 1)), {"kind": "team", "team": team, "w": rng.randint(11, 16)})
        by_name: dict[str, dict[str, Any]] = {}
        for f in floors:
            cells = strips[f]
            for k, c in enumerate(cells):
                if c["kind"] == "room":
                    c["features"] = [x for x in (*FEATURES, STEP_FREE) if rng.random() < 0.45]
                    beside = [cells[j] for j in (k - 1, k + 1) if 0 <= j < len(cells)]
                    c["next_to"] = sorted({n["team"] for n in beside if n["kind"] == "team"})
                    by_name[c["name"]] = c
        wanted = rng.sample(FEATURES, 1 if level == 0 else 2) if feat else []
        tcell = by_name[target.name]
        tcell["features"] = sorted(set(tcell["features"]) | set(wanted) | ({STEP_FREE} if level == 2 else set()))
        full = [*wanted, *([STEP_FREE] if level == 2 else [])]
        blockers: list[MeetingAsset] = []
        stated_match = [n for n in matching_rooms(list(by_name.values()), need, set(by_name), team, wanted)
                        if n != target.name]
        # medium/hard: a room matching every constraint is taken then by someone else's meeting
        if level >= 1 and stated_match:
            decoy = rng.choice(stated_match)
            if decoy not in booked and decoy not in near_taken:
                by_name[decoy]["features"] = sorted(set(by_name[decoy]["features"]) | set(full))
                people = sorted(e.handle for e in company.employees if not any(
                    _overlap(start - 15, end + 15, m.start, m.end) and (e.handle == m.organizer
                                                                        or e.handle in m.attendees)
                    for m in ctx.meetings))
                group = rng.sample(people, min(len(people), 3)) or [company.employees[0].handle]
                org = company.employee(group[0])
                blockers.append(MeetingAsset(
                    meeting_id=f"{ctx.task_id}-hold1", title=f"{org.department} workshop",
                    start=start - 5 * rng.randint(0, 3), end=end + 5 * rng.randint(0, 3), room=decoy,
                    organizer=org.handle, attendees=group[1:]))
                booked.add(decoy)
        # hard: a free room matching the stated constraints but without step-free access
        free = {n for n in by_name if n not in booked}
        if level == 2:
            traps = [n for n in matching_rooms(list(by_name.values()), need, free, team, wanted)
                     if n != target.name]
            for n in traps:
                by_name[n]["features"] = [x for x in by_name[n]["features"] if x != STEP_FREE]
        # every other free, big-enough room must miss a constraint
        for n in matching_rooms(list(by_name.values()), need, free, team, full):
            if n == target.name:
                continue
            if full:
                drop = rng.choice(wanted) if wanted else STEP_FREE
                by_name[n]["features"] = [x for x in by_name[n]["features"] if x != drop]
        rooms_attrs = [by_name[r.name] for r in company.rooms]
        if matching_rooms(rooms_attrs, need, free, team, full) != [target.name]:
            return None
        if target.name in booked:
            return None
        rooms_attrs = [{"name": c["name"], "capacity": c["capacity"], "features": list(c["features"]),
                        "next_to": list(c["next_to"])} for c in rooms_attrs]
        layout = [{"floor": f, "cells": [
            {k: v for k, v in c.items() if k != "next_to"} for c in strips[f]]} for f in floors]
        return start, rooms_attrs, layout, target.name, team, wanted, blockers

    @staticmethod
    def _plan(ctx: GenContext, path: str, asker: str | None, title: str, start: int, duration: int, room: str,
              invitees: list[str]) -> list[ToolCall]:
        plan = [ToolCall(name="read_file", arguments={"path": path})]
        if asker is not None:
            plan += ask(asker, f"Hi, I'm booking the room for the '{title}' meeting. Do you have any "
                               "requirement or need for the room, e.g. access?")
        plan += [
            ToolCall(name="list_rooms", arguments={}),
            ToolCall(name="room_schedule", arguments={}),
            ToolCall(name="book_meeting", arguments={"title": title, "start": fmt(start), "duration_minutes": duration,
                                                     "room": room, "attendees": invitees}),
            ToolCall(name="submit", arguments={"task_id": ctx.task_id, "answer": {"meeting_id": title}}),
        ]
        return plan

    def baseline(self, view: BaselineView) -> list[ToolCall]:
        """Without reading the plan: the biggest room at the stated time, everyone named invited."""
        obj = view.objective
        title_m = re.search(r"titled '([^']+)'", obj)
        dur_m = re.search(r"(\d+)-minute", obj)
        at = re.search(r"today at (\d{1,2}:\d{2})", obj)
        if title_m is None or dur_m is None or at is None:
            return [ToolCall(name="submit", arguments={"task_id": view.task_id, "answer": {"meeting_id": "b1"}})]
        people = [e.handle for e in view.company.employees if f"({e.handle})" in obj]
        room = max(view.company.rooms, key=lambda r: r.capacity)
        return [
            ToolCall(name="book_meeting", arguments={"title": title_m.group(1), "start": at.group(1),
                                                     "duration_minutes": int(dur_m.group(1)), "room": room.name,
                                                     "attendees": people}),
            ToolCall(name="submit", arguments={"task_id": view.task_id, "answer": {"meeting_id": title_m.group(1)}}),
        ]
