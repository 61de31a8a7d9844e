"""Whiteboard actions: turn a photo of a whiteboard's action items into a list, reminders or a filter.

The photo (an image only) shows numbered action items in marker handwriting: each with an owner (a
first name) and a due time today or a weekday; on medium and hard some items are struck through (done)
and a "parking lot" corner lists ideas without owners. Owners are identified by first names that are
unique in the company, so the directory maps them to handles. The ground truth is computed from the
items as drawn: open items only.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from PIL import Image, ImageDraw

from firstday.tasks.checks import MessageOnlyCheck, SubmissionCheck
from firstday.tasks.family import BaselineView, GenContext, register
from firstday.tasks.library._image_kit import (
    RGB,
    add_noise,
    fit,
    freetype_width,
    handwrite,
    jitter,
    rotate,
    speckle,
)
from firstday.tasks.model import Checkpoint, Clue, TaskInstance
from firstday.timefmt import fmt
from firstday.world.assets import FileAsset
from firstday.world.company import Employee
from firstday.world.images import ImageSpec, register_renderer
from firstday.world.tools import ToolCall

RENDERER = "whiteboard_actions.board"
VARIANTS = ("action_list", "reminders", "by_department")
LEVELS = {"easy": 0, "medium": 1, "hard": 2}
ACTIONS = (
    "Update pricing sheet", "Send recap to client", "Book venue for offsite", "Fix onboarding checklist",
    "Draft Q3 budget", "Review vendor contract", "Call back supplier", "Clean up CRM duplicates",
    "Prepare demo data", "Write release notes", "Collect survey results", "Order new laptops",
    "Check invoice backlog", "Plan hiring interviews", "Share meeting slides", "Renew software licences",
    "Test backup restore", "Update team wiki", "Schedule training", "Reply to audit questions",
)
PARKING = ("Team lunch idea?", "New logo", "Office plants", "Hackathon in autumn", "4-day week pilot",
           "Coffee machine", "Quiet room")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
TOPICS = ("Sprint retro", "Weekly planning", "Project kickoff", "Ops review", "Launch prep", "Customer day debrief")
MARKERS: tuple[RGB, ...] = ((25, 60, 170), (20, 20, 25), (190, 30, 35), (20, 120, 60))


def _photo_stem(topic: str) -> str:
    return f"whiteboard_{topic.lower().replace(' ', '_')}"


def _free_topic(rng: random.Random, used_paths: set[str]) -> str:
    """A meeting topic no other whiteboard of the day has: reminders name their meeting, and the name is what
    ties a reminder to its task when two whiteboards remind the same person."""
    free = [t for t in TOPICS if f"/shared/photos/{_photo_stem(t)}.png" not in used_paths]
    if free:
        return rng.choice(free)
    topic = rng.choice(TOPICS)
    n = 2
    while f"/shared/photos/{_photo_stem(f'{topic} {n}')}.png" in used_paths:
        n += 1
    return f"{topic} {n}"


@dataclass
class Item:
    number: int
    action: str
    owner: Employee
    due_minute: int | None  # today, or None when due on a weekday
    due_day: str
    done: bool = False

    def due(self) -> str:
        return fmt(self.due_minute) if self.due_minute is not None else self.due_day

    def written_due(self, style: int) -> str:
        """The due as written on the board (hard writes '3:30pm' and 'Fri')."""
        if self.due_minute is None:
            return self.due_day[:3] if style else self.due_day
        if not style:
            return fmt(self.due_minute)
        h, m = divmod(self.due_minute, 60)
        return f"{(h - 1) % 12 + 1}:{m:02d}{'pm' if h >= 12 else 'am'}"


def _unique_first_names(employees: list[Employee]) -> list[Employee]:
    count: dict[str, int] = {}
    for e in employees:
        count[e.first_name] = count.get(e.first_name, 0) + 1
    return [e for e in employees if count[e.first_name] == 1]


@register
class WhiteboardActions:
    name = "whiteboard_actions"
    title = "Whiteboard actions"
    description = ("Read the action items off a whiteboard photo (an image only): list their owners and due "
                   "times, remind the owners of today's items, or pick the items of one department.")
    domains = ("information", "scheduling")
    modalities = ("image", "dialogue")
    variants = VARIANTS
    knobs: ClassVar[dict[str, str]] = {
        "items": "action items on the board: easy 3-4, medium 5-6, hard 7-8",
        "distractors": "medium and hard strike 1-2 items through (done: leave them out) and add a parking-lot "
                       "corner of ideas without owners",
        "writing": "hard writes times as '3:30pm' and weekdays abbreviated ('Fri'), with more slant and skew",
    }

    def generate(self, ctx: GenContext) -> TaskInstance:
        rng = ctx.rng
        level = LEVELS[ctx.difficulty]
        tid = ctx.task_id
        people = _unique_first_names([e for e in ctx.company.employees
                                      if e.department != "Executive" and e.handle != ctx.company.trainee.handle])
        n = rng.randint(*((3, 4), (5, 6), (7, 8))[level])
        n_done = 0 if level == 0 else rng.randint(1, 2)
        dept = ""
        if ctx.variant == "by_department":
            depts = sorted({e.department for e in people},
                           key=lambda d: (-sum(1 for e in people if e.department == d), d))
            dept = rng.choice(depts[:3])
            ours = [e for e in people if e.department == dept]
            others = [e for e in people if e.department != dept]
            k = rng.randint(1, min(len(ours), max(1, (n - n_done) // 2)))
            owners = [rng.choice(ours) for _ in range(k + n_done)] + [rng.choice(others) for _ in range(n - k - n_done)]
        else:
            pool = rng.sample(people, min(len(people), max(2, n - 2)))
            owners = [rng.choice(pool) for _ in range(n)]
        rng.shuffle(owners)
        actions = rng.sample(ACTIONS, n)
        after = ctx.arrival + 90
        today = list(range(((after + 14) // 15) * 15, 17 * 60 + 1, 15)) or [min(1065, ((after + 14) // 15) * 15)]
        items: list[Item] = []
        for i in range(n):
            if today and rng.random() < 0.6:
                items.append(Item(i + 1, actions[i], owners[i], rng.choice(today), ""))
            else:
                items.append(Item(i + 1, actions[i], owners[i], None, rng.choice(WEEKDAYS)))
        # items struck through (done): never all the interesting ones
        for it in rng.sample(items, n_done):
            it.done = True
        open_items = [it for it in items if not it.done]
        if ctx.variant == "reminders" and not any(it.due_minute is not None for it in open_items):
            it = rng.choice(open_items)
            it.due_minute = rng.choice(today)
        if ctx.variant == "by_department" and not any(it.owner.department == dept for it in open_items):
            open_items[0].owner = rng.choice([e for e in people if e.department == dept])

        style = 1 if level == 2 else 0
        topic = _free_topic(rng, ctx.used_paths)
        lines = [f"{it.number}. {it.action} - {it.owner.first_name} - {it.written_due(style)}" for it in items]
        path = ctx.path("/shared/photos", _photo_stem(topic), "png")
        parking = rng.sample(PARKING, 3) if level else []
        params: dict[str, Any] = {
            "seed": rng.randint(0, 2**31 - 1), "title": f"{topic} - actions", "lines": lines,
            "done": [it.done for it in items], "parking": parking,
            "rotation": round(rng.uniform(-1.5 - 1.5 * level, 1.5 + 1.5 * level), 2),
            "slant": round(rng.uniform(-3, 3) * (1 + level / 2), 2), "noise": 2 + level,
            "deciding": lines,
        }
        alt = (f"Photo of a whiteboard titled '{topic} - actions'. Numbered action items (item - owner - due): "
               + "; ".join(ln + (" [struck through: done]" if it.done else "") for ln, it in zip(lines, items,
                                                                                                   strict=True))
               + "." + (f" In a corner, under 'Parking lot': {', '.join(parking)}." if parking else ""))
        files = [FileAsset(path=path, media_type="image/png", render=ImageSpec(renderer=RENDERER, params=params),
                           text_alternative=alt, clue_ids=[f"{tid}-board"])]
        clues = [Clue(clue_id=f"{tid}-board", description="the action items, owners and due times",
                      location="image", where=path)]
        need = [f"{tid}-board"]
        due_fmt = "the due time today as HH:MM (24 h), or the weekday name (e.g. Friday) if not due today"
        plan: list[ToolCall] = [ToolCall(name="read_file", arguments={"path": path}),
                                ToolCall(name="list_colleagues", arguments={})]
        answers: dict[str, Any] = {}
        checkpoints: list[Checkpoint] = []
        struck = " Items struck through are done: leave them out." if level else ""
        feedback = "Read the whiteboard photo; owners are first names (the directory gives handles)."
        if ctx.variant == "action_list":
            answers["open"] = [str(it.number) for it in open_items]
            answer: dict[str, Any] = {
                "open": answers["open"],
                "items": {str(it.number): {"owner": it.owner.handle, "due": it.due()} for it in open_items}}
            checkpoints.append(Checkpoint(cp_id="open-items", description="exactly the open items are listed",
                                          clue_ids=need, weight=1.0,
                                          check=SubmissionCheck(field="open", expected="open", compare="set_equals"),
                                          feedback=feedback))
            for it in open_items:
                answers[f"owner.{it.number}"] = it.owner.handle
                answers[f"due.{it.number}"] = it.due()
                checkpoints += [
                    Checkpoint(cp_id=f"owner-{it.number}", description=f"owner of item {it.number}", clue_ids=need,
                               check=SubmissionCheck(field=f"items.{it.number}.owner",
                                                     expected=f"owner.{it.number}"), feedback=feedback),
                    Checkpoint(cp_id=f"due-{it.number}", description=f"due of item {it.number}", clue_ids=need,
                               check=SubmissionCheck(field=f"items.{it.number}.due", expected=f"due.{it.number}"),
                               feedback=feedback),
                ]
            objective = (f"Here is a photo of the whiteboard from the {topic.lower()} meeting: {path}. Write up its "
                         "action items: submit {\"open\": [\"<item number>\", ...], \"items\": {\"<item number>\": "
                         f"{{\"owner\": \"<handle>\", \"due\": \"<due>\"}}}}}} with {due_fmt}.{struck}")
            plan.append(ToolCall(name="submit", arguments={"task_id": tid, "answer": answer}))
        elif ctx.variant == "reminders":
            due_today = [it for it in open_items if it.due_minute is not None]
            owners_today = sorted({it.owner.handle for it in due_today})
            answers["reminded"] = owners_today
            answers["times"] = sorted({fmt(it.due_minute) for it in items if it.due_minute is not None})
            answers["topic"] = topic
            earliest = {h: fmt(min(it.due_minute or 0 for it in due_today if it.owner.handle == h))
                        for h in owners_today}
            for h in owners_today:
                mine = sorted(it.due_minute or 0 for it in due_today if it.owner.handle == h)
                answers[f"time.{h}"] = fmt(mine[0])
                checkpoints.append(Checkpoint(
                    cp_id=f"remind-{h}", description=f"{h} reminded with their earliest due time today",
                    clue_ids=need, feedback=feedback,
                    # owners due at the same time may get the same time; anyone else may not, and a reminder
                    # listing every time on the whiteboard is no reminder; the meeting's name ties a reminder to
                    # this whiteboard, so reminders of it with other times (one guess each) fail too
                    check=MessageOnlyCheck(to=h, expected=f"time.{h}", candidates="times", about=["topic"], allowed=[
                        o for o in owners_today if o != h and earliest[o] == earliest[h]])))
                plan.append(ToolCall(name="send_message", arguments={
                    "to": h, "text": f"Reminder from the {topic.lower()} whiteboard: your action item is due "
                                     f"today at {fmt(mine[0])}."}))
            checkpoints.append(Checkpoint(cp_id="reminded", description="exactly the owners due today",
                                          clue_ids=need, check=SubmissionCheck(field="reminded", expected="reminded",
                                                                               compare="set_equals"),
                                          feedback=feedback))
            objective = (f"Here is a photo of the whiteboard from the {topic.lower()} meeting: {path}. Send each "
                         "person who owns an open action item due today a message reminding them of it, naming "
                         f"the meeting ({topic.lower()}) and the due time as HH:MM (24 h; their earliest one if "
                         "several), then submit "
                         f"{{\"reminded\": [\"<handle>\", ...]}}.{struck}")
            plan.append(ToolCall(name="submit", arguments={"task_id": tid, "answer": {"reminded": owners_today}}))
        else:
            ours_open = [it for it in open_items if it.owner.department == dept]
            answers["items"] = [str(it.number) for it in ours_open]
            answers["earliest"] = min(ours_open, key=lambda it: (it.due_minute is None, it.due_minute or 0,
                                                                 WEEKDAYS.index(it.due_day) if it.due_day else 0,
                                                                 it.number)).due()
            checkpoints += [
                Checkpoint(cp_id="dept-items", description=f"the open items owned by {dept}", clue_ids=need,
                           weight=2.0, check=SubmissionCheck(field="items", expected="items", compare="set_equals"),
                           feedback=feedback),
                Checkpoint(cp_id="earliest", description="the earliest due of those items", clue_ids=need,
                           check=SubmissionCheck(field="earliest_due", expected="earliest"), feedback=feedback),
            ]
            objective = (f"Here is a photo of the whiteboard from the {topic.lower()} meeting: {path}. The {dept} "
                         f"team wants its share: submit {{\"items\": [\"<item number>\", ...], \"earliest_due\": "
                         f"\"<due>\"}} with the numbers of the open items owned by people in {dept} and the "
                         f"earliest due among them ({due_fmt}; today comes before any weekday, and weekdays run "
                         f"Monday to Friday).{struck}")
            plan.append(ToolCall(name="submit", arguments={"task_id": tid, "answer": {
                "items": answers["items"], "earliest_due": answers["earliest"]}}))
        return ctx.instance(
            self, objective=objective, files=files, clues=clues, checkpoints=checkpoints, solution=plan,
            answers=answers)

    def baseline(self, view: BaselineView) -> list[ToolCall]:
        """No vision: parse the text alternative if it was read, else submit item numbers 1 and 2."""
        alt = next((t for t in view.texts.values() if "whiteboard titled" in t), "")
        numbers = re.findall(r"(\d+)\. [^;]+?(?=;|\.$| In a corner)", alt) or ["1", "2"]
        obj = view.objective
        answer: dict[str, Any]
        if '"reminded"' in obj:
            answer = {"reminded": []}
        elif '"earliest_due"' in obj:
            answer = {"items": numbers[:2], "earliest_due": "Friday"}
        else:
            answer = {"open": numbers, "items": {}}
        return [ToolCall(name="submit", arguments={"task_id": view.task_id, "answer": answer})]


@register_renderer(RENDERER)
def render_board(p: dict[str, Any]) -> Image.Image:
    rng = random.Random(p["seed"])
    width, height = rng.choice(((700, 500), (720, 520), (680, 500)))
    board = jitter((246, 247, 244), rng, 5)
    img = Image.new("RGB", (width, height), board)
    d = ImageDraw.Draw(img)
    # glare: a soft lighter band, and ghosts of old writing
    gx = rng.randint(0, width)
    d.polygon([(gx - 200, height), (gx, 0), (gx + 180, 0), (gx - 20, height)], fill=jitter((252, 252, 250), rng, 2))
    for _ in range(4):
        x, y = rng.randint(0, width - 200), rng.randint(60, height - 40)
        handwrite(img, (x, y), rng.choice(("xx", "todo", "v2", "->", "ok")), 20, (225, 226, 228), rng)
    main_colour = rng.choice(MARKERS)
    size = rng.randint(20, 24)
    slant = float(p["slant"])
    handwrite(img, (36, 24), p["title"], size + 6, rng.choice(MARKERS), rng, slant)
    y = 24 + size + 34
    lines: list[str] = p["lines"]
    parking: list[str] = p["parking"]
    col_w = width - (225 if parking else 30)
    step = min(size + 20, (height - y - 20) // max(1, len(lines)))
    for line, done in zip(lines, p["done"], strict=True):
        colour = jitter(main_colour if rng.random() < 0.75 else rng.choice(MARKERS), rng, 12)
        x0 = 36 + rng.randint(-4, 8)
        line_size = size
        while line_size > 14 and x0 + freetype_width(line, line_size) * 1.15 + 20 > col_w:
            line_size -= 1  # keep clear of the parking lot and the frame
        x1 = handwrite(img, (x0, y), line, line_size, colour, rng, slant)
        x1 = min(x1, col_w + 200)
        if done:
            yy = y + size // 2 + 2
            d.line((x0 - 4, yy + rng.randint(-2, 2), x1, yy + rng.randint(-2, 2)), fill=colour, width=3)
        y += step
    if parking:
        px = width - 210
        d.rectangle((px, 70, width - 20, 90 + 34 * (len(parking) + 1)), outline=(120, 120, 130), width=2)
        handwrite(img, (px + 10, 80), "Parking lot", size - 4, (120, 120, 130), rng, slant)
        for i, idea in enumerate(parking):
            handwrite(img, (px + 10, 114 + 34 * i), idea, size - 6, (90, 90, 100), rng, slant)
    # the frame and the wall behind the board
    wall = jitter(rng.choice(((190, 180, 165), (170, 175, 180), (200, 195, 185))), rng, 10)
    framed = Image.new("RGB", (width + 40, height + 40), wall)
    fd = ImageDraw.Draw(framed)
    fd.rectangle((8, 8, width + 31, height + 31), fill=(150, 152, 158))
    framed.paste(img, (20, 20))
    speckle(ImageDraw.Draw(framed), rng, (width + 40, height + 40), 60, [(200, 200, 200)], radii=(0, 0, 1))
    out = rotate(framed, float(p["rotation"]), wall)
    out = out.crop((10, 10, out.width - 10, out.height - 10))
    return add_noise(fit(out), int(p["seed"]), float(p["noise"]))
