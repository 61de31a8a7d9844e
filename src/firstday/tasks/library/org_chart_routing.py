"""Org-chart routing: route an approval request along a project's approval chart (an image only).

A project steering chart ("Project Falcon - approval chart") shows company employees in project roles,
boxes joined by reporting lines. It is deliberately NOT the line organisation: the directory's
``manager`` fields describe another structure, and the chart is generated so that the right approver is
never in the requester's directory management chain. The trainee routes a request (with a task-unique
request id) to the approver the rule names: the chart manager, the chart manager's manager, the first
chart manager who is not on leave (a coordinator says who is away), or the first common chart manager of
two people. The ground truth is computed from the generated chart by that rule.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from PIL import Image, ImageDraw

from firstday.tasks.checks import MessageOnlyCheck, SubmissionCheck
from firstday.tasks.family import BaselineView, GenContext, ask, register
from firstday.tasks.library._image_kit import RGB, centered, grain, jitter, speckle, text, text_width, tilt
from firstday.tasks.model import Checkpoint, Clue, TaskInstance
from firstday.world.assets import Fact, FileAsset
from firstday.world.company import Company, Employee
from firstday.world.images import ImageSpec, register_renderer
from firstday.world.tools import ToolCall

RENDERER = "org_chart_routing.chart"
VARIANTS = ("direct_manager", "second_level", "skip_on_leave", "cross_team")
LEVELS = {"easy": 0, "medium": 1, "hard": 2}
PROJECTS = ("Falcon", "Orion", "Harbor", "Juniper", "Atlas", "Beacon", "Cobalt", "Summit", "Meridian", "Kestrel",
            "Lantern", "Pioneer")
WORKSTREAMS = ("Data", "Platform", "Rollout", "Training", "Budget", "Vendor", "Security", "Reporting")
MEMBER_ROLES = ("Analyst", "Specialist", "Coordinator")
DIRECTORS = ("Delivery Director", "Programme Director")
ADVISORS = ("Legal Advisor", "Architecture Advisor", "Compliance Advisor")
SUBJECTS = ("a budget increase for cloud hosting", "a contractor extension", "a change to the rollout date",
            "an exception to the vendor policy", "extra licences for the test team", "travel to the client site",
            "an early purchase order", "overtime for the go-live weekend")


@dataclass
class Box:
    role: str
    person: Employee
    parent: int | None  # index of the chart manager's box
    level: int  # 0 sponsor, 1 director, 2 workstream lead, 3 member
    column: int = 0  # the lead's column (members and leads); directors and sponsor: -1
    children: list[int] = field(default_factory=list)

    @property
    def pair(self) -> str:
        return f"{self.role}: {self.person.name}"


def _structure(rng: random.Random, level: int) -> list[tuple[str, int | None, int, int]]:
    """(role, parent index, level, column) of every box, parents before children."""
    out: list[tuple[str, int | None, int, int]] = [("Executive Sponsor", None, 0, -1)]
    n_dirs = 1 if level == 0 else 2
    for d in (rng.sample(DIRECTORS, 2) if n_dirs == 2 else [rng.choice(DIRECTORS)]):
        out.append((d, 0, 1, -1))
    n_leads = (2, 3, 4)[level]
    streams = rng.sample(WORKSTREAMS, n_leads)
    per_lead = [rng.randint(*((2, 2), (2, 3), (2, 2))[level]) for _ in streams]
    for c, (ws, k) in enumerate(zip(streams, per_lead, strict=True)):
        director = 1 + (0 if n_dirs == 1 else (0 if c < (n_leads + 1) // 2 else 1))
        out.append((f"{ws} Workstream Lead", director, 2, c))
        lead = len(out) - 1
        for role in rng.sample(MEMBER_ROLES, k):
            out.append((f"{ws} {role}", lead, 3, c))
    return out


def _chain(boxes: list[Box], i: int) -> list[int]:
    """Box ``i`` and its chart managers up to the sponsor."""
    out = [i]
    while boxes[out[-1]].parent is not None:
        out.append(boxes[out[-1]].parent)  # type: ignore[arg-type]
    return out


def _directory_chain(company: Company, e: Employee) -> set[str]:
    by_handle = {x.handle: x for x in company.employees}
    out: set[str] = set()
    cur: str | None = e.manager
    while cur and cur not in out:
        out.add(cur)
        cur = by_handle[cur].manager if cur in by_handle else None
    return out


@register
class OrgChartRouting:
    name = "org_chart_routing"
    title = "Org-chart routing"
    description = ("Route an approval request along a project's approval chart (an image only, not the "
                   "line organisation): to the chart manager, two levels up, past people on leave, or to the "
                   "first common chart manager of two people.")
    domains = ("information", "inquiry")
    modalities = ("image", "dialogue")
    variants = VARIANTS
    knobs: ClassVar[dict[str, str]] = {
        "chart": "boxes on the chart: easy 1 director, 2 workstreams (8 boxes); medium 2 directors, 3 workstreams "
                 "(9-12 boxes); hard 2 directors, 4 workstreams (15 boxes) plus a dotted-line advisor",
        "leave": "skip_on_leave: easy the chart manager is away; medium also someone off the chain; hard the "
                 "chart manager and the next one up are both away, plus someone off the chain",
        "cross_team": "easy the two people share the director; medium/hard they may sit under different directors",
        "scan": "hard adds more tilt, grain and specks",
    }

    def generate(self, ctx: GenContext) -> TaskInstance:
        rng = ctx.rng
        level = LEVELS[ctx.difficulty]
        tid = ctx.task_id
        company = ctx.company
        project = next((p for p in rng.sample(PROJECTS, len(PROJECTS))
                        if f"org_chart_routing:project:{p}" not in ctx.used_paths), f"P{tid}")
        ctx.used_paths.add(f"org_chart_routing:project:{project}")
        rid = f"APR-{rng.randint(1000, 9999)}"
        while f"org_chart_routing:rid:{rid}" in ctx.used_paths:
            rid = f"APR-{rng.randint(1000, 9999)}"
        ctx.used_paths.add(f"org_chart_routing:rid:{rid}")

        pool = sorted((e for e in company.employees if e.handle != company.trainee.handle),
                      key=lambda e: e.handle)
        shape = _structure(rng, level)
        while len(shape) + 2 > len(pool):  # keep a coordinator and an advisor off the chart
            drop = max(i for i, s in enumerate(shape) if s[2] == 3)
            shape.pop(drop)
        member_ix = [i for i, s in enumerate(shape) if s[2] == 3]
        # draw until the approver is outside the directory chain of the people the request concerns
        for _attempt in range(200):
            people = rng.sample(pool, len(shape) + 2)
            boxes = [Box(role, people[i], parent, lv, col) for i, (role, parent, lv, col) in enumerate(shape)]
            for i, b in enumerate(boxes):
                if b.parent is not None:
                    boxes[b.parent].children.append(i)
            coordinator, advisor_person = people[-2], people[-1]
            x = rng.choice(member_ix)
            chain = _chain(boxes, x)
            other: int | None = None
            on_leave: list[int] = []
            off_chain_leave: list[int] = []
            if ctx.variant == "direct_manager":
                approver = chain[1]
            elif ctx.variant == "second_level":
                approver = chain[2]
            elif ctx.variant == "skip_on_leave":
                n_away = 2 if level == 2 else 1
                on_leave = chain[1:1 + n_away]
                approver = chain[1 + n_away]
                if level:
                    off_chain_leave = [rng.choice([i for i in range(len(boxes)) if i not in chain])]
            else:
                others = [i for i in member_ix if boxes[i].column != boxes[x].column]
                if level and rng.random() < 0.5:  # prefer someone under the other director
                    far = [i for i in others if boxes[boxes[i].parent].parent != boxes[boxes[x].parent].parent]  # type: ignore[index]
                    others = far or others
                other = rng.choice(others)
                mine = set(_chain(boxes, other))
                approver = next(i for i in chain[1:] if i in mine)
            concerned = [boxes[x].person] + ([boxes[other].person] if other is not None else [])
            if all(boxes[approver].person.handle not in _directory_chain(company, p) for p in concerned):
                break
        target = boxes[approver].person
        xp = boxes[x].person
        advisor: dict[str, Any] | None = None
        if level == 2:
            lead_ix = [i for i, b in enumerate(boxes) if b.level == 2]
            advisor = {"role": f"{rng.choice(ADVISORS)} (dotted line)", "name": advisor_person.name,
                       "to": rng.choice(lead_ix)}

        title = f"Project {project} - approval chart"
        chain_pairs = [boxes[i].pair for i in chain]
        if other is not None:
            chain_pairs += [boxes[i].pair for i in _chain(boxes, other) if boxes[i].pair not in chain_pairs]
        path = ctx.path("/shared/projects", f"{project.lower()}_approval_chart", "png")
        params: dict[str, Any] = {
            "seed": rng.randint(0, 2**31 - 1), "title": title,
            "subtitle": "Project approvals only - not the line organisation",
            "boxes": [{"role": b.role, "name": b.person.name, "parent": b.parent, "level": b.level,
                       "column": b.column} for b in boxes],
            "advisor": advisor, "tilt": round(rng.uniform(-0.6 - level, 0.6 + level), 2),
            "grain": 0.04 + 0.03 * level, "deciding": chain_pairs,
        }
        lines = [f"{b.pair} (reports to {boxes[b.parent].role})" if b.parent is not None
                 else f"{b.pair} (top of the chart)" for b in boxes]
        alt = (f"Org chart image titled '{title}' (project approvals only, not the line organisation). Boxes, "
               "each 'role: name', joined by solid approval lines: " + "; ".join(lines) + "."
               + (f" A dotted advisory line (not part of the approval chain) links {advisor['role']}: "
                  f"{advisor['name']} to {boxes[advisor['to']].role}." if advisor else ""))
        files = [FileAsset(path=path, media_type="image/png", render=ImageSpec(renderer=RENDERER, params=params),
                           text_alternative=alt, clue_ids=[f"{tid}-chart"])]
        clues = [Clue(clue_id=f"{tid}-chart", description="the project approval chart", location="image",
                      where=path)]
        need = [f"{tid}-chart"]
        subject = rng.choice(SUBJECTS)
        facts: list[Fact] = []
        plan: list[ToolCall] = [ToolCall(name="read_file", arguments={"path": path}),
                                ToolCall(name="list_colleagues", arguments={})]
        intro = (f"{xp.name} on Project {project} needs approval for request {rid} ({subject}). Project "
                 f"approvals follow the project's approval chart, not the line organisation: {path}.")
        tail = (f" Send the request to that person in a message quoting {rid}, then submit "
                "{\"approver\": \"<handle>\"}.")
        if ctx.variant == "direct_manager":
            rule = f" The approver is the person {xp.first_name} reports to on that chart."
        elif ctx.variant == "second_level":
            rule = (f" This one needs second-level sign-off: the approver is two levels above {xp.first_name} on "
                    "the chart (the chart manager's own chart manager).")
        elif ctx.variant == "skip_on_leave":
            rule = (f" The approver is {xp.first_name}'s manager on the chart; if that person is on leave, go to "
                    f"the next one up the chart (and again, if needed). {coordinator.name} ({coordinator.handle}), "
                    "the project coordinator, knows who is on leave this week.")
            away = [boxes[i].person.name for i in on_leave + off_chain_leave]
            facts.append(Fact(
                fact_id=f"{tid}-leave", holder=coordinator.handle, topic=f"who on Project {project} is on leave",
                keywords=["leave", "away", "absent", "out of office", "holiday", "vacation"],
                require_any=[project, project.lower(), rid],
                reply=f"For Project {project} this week: {' and '.join(away)} "
                      f"{'are' if len(away) > 1 else 'is'} on leave. Everyone else on the project is in.",
                clue_ids=[f"{tid}-leave"]))
            clues.append(Clue(clue_id=f"{tid}-leave", description="who is on leave this week",
                              location="colleague", where=coordinator.handle))
            need = [*need, f"{tid}-leave"]
            plan += ask(coordinator.handle, f"Hi! Who on Project {project} is on leave this week? (for request {rid})")
        else:
            op = boxes[other].person  # type: ignore[index]
            intro = (f"{xp.name} and {op.name} on Project {project} need approval for a joint request {rid} "
                     f"({subject}). Project approvals follow the project's approval chart, not the line "
                     f"organisation: {path}.")
            rule = (f" A joint request goes to their first common manager on the chart: the lowest person the "
                    f"chart places above both {xp.first_name} and {op.first_name}.")
        objective = intro + rule + tail
        answers: dict[str, Any] = {"approver": target.handle, "request": rid}
        feedback = ("Read the project approval chart (the directory's managers are a different structure)"
                    + (" and ask the coordinator who is on leave." if ctx.variant == "skip_on_leave" else "."))
        checkpoints = [
            Checkpoint(cp_id="routed", description="the request reached the right approver", clue_ids=need,
                       weight=1.0, feedback=feedback,
                       # the request quoted to anyone but the approver and the people the task names fails
                       check=MessageOnlyCheck(to=target.handle, expected="request", allowed=sorted(
                           {ctx.requester, *(p.handle for p in concerned)}
                           | ({coordinator.handle} if ctx.variant == "skip_on_leave" else set())))),
            Checkpoint(cp_id="approver", description="the approver's handle", clue_ids=need, weight=1.0,
                       check=SubmissionCheck(field="approver", expected="approver"), feedback=feedback),
        ]
        plan += [ToolCall(name="send_message", arguments={
                     "to": target.handle,
                     "text": f"Hello {target.first_name}, approval request {rid} for Project {project}: "
                             f"{subject}. Could you approve it?"}),
                 ToolCall(name="submit", arguments={"task_id": tid, "answer": {"approver": target.handle}})]
        return ctx.instance(
            self, objective=objective, files=files, clues=clues, facts=facts, checkpoints=checkpoints, solution=plan,
            answers=answers)

    def baseline(self, view: BaselineView) -> list[ToolCall]:
        """No vision: route to the directory manager of the person named first (wrong by construction),
        or, with the text alternative, to that person's chart manager (right for direct_manager only)."""
        obj = view.objective
        rid = (re.findall(r"APR-\d{4}", obj) or ["APR-0000"])[0]
        person = next((e for e in sorted(view.company.employees, key=lambda e: obj.find(e.name) % 10**6)
                       if e.name in obj), None)
        target = person.manager if person and person.manager else view.requester
        alt = next((t for t in view.texts.values() if "approval chart" in t and "reports to" in t), "")
        if person and alt:
            m = re.search(rf": {re.escape(person.name)} \(reports to ([^)]+)\)", alt)
            if m:
                boss = re.search(rf"{re.escape(m.group(1))}: ([^;(]+) \(", alt)
                hit = next((e for e in view.company.employees if boss and e.name == boss.group(1).strip()), None)
                target = hit.handle if hit else target
        return [ToolCall(name="send_message", arguments={"to": target, "text": f"Approval request {rid}"}),
                ToolCall(name="submit", arguments={"task_id": view.task_id, "answer": {"approver": target}})]


PALETTES: tuple[tuple[RGB, RGB, RGB, RGB], ...] = (
    # top box, director, lead, member fills
    ((32, 64, 120), (70, 110, 170), (196, 216, 240), (236, 242, 250)),
    ((40, 90, 70), (80, 140, 110), (200, 230, 212), (238, 247, 241)),
    ((90, 50, 110), (130, 90, 160), (222, 206, 236), (244, 238, 250)),
    ((120, 70, 30), (170, 110, 60), (242, 220, 196), (250, 243, 235)),
)


@register_renderer(RENDERER)
def render_chart(p: dict[str, Any]) -> Image.Image:
    rng = random.Random(p["seed"])
    width = 800
    boxes: list[dict[str, Any]] = p["boxes"]
    n_cols = max(b["column"] for b in boxes) + 1
    max_members = max(sum(1 for b in boxes if b["level"] == 3 and b["column"] == c) for c in range(n_cols))
    bh, step = 44, rng.randint(54, 60)
    y_lv = [78, 150, 226, 226 + bh + 22]
    height = min(600, y_lv[3] + max_members * step + (48 if p.get("advisor") else 26))
    bg = jitter((250, 250, 248), rng, 4)
    img = Image.new("RGB", (width, height), bg)
    d = ImageDraw.Draw(img)
    pal = rng.choice(PALETTES)
    line = jitter((90, 90, 100), rng, 15)
    text(img, (22, 12), p["title"], 20, pal[0], bold=True)
    text(img, (24, 40), p["subtitle"], 12, (110, 110, 118))
    col_w = (width - 40) / n_cols
    rects: list[tuple[float, float, float, float]] = []
    tops = [i for i, b in enumerate(boxes) if b["level"] == 1]
    for i, b in enumerate(boxes):
        lv = b["level"]
        if lv == 0:
            cx, w = width / 2, 210
        elif lv == 1:
            k = tops.index(i)
            cx, w = width * (k + 1) / (len(tops) + 1), 210
        else:
            cx, w = 20 + col_w * (b["column"] + 0.5), min(190, col_w - 14)
        if lv == 3:
            k = sum(1 for j in range(i) if boxes[j]["level"] == 3 and boxes[j]["column"] == b["column"])
            x0 = cx - w / 2 + 14
            rects.append((x0, y_lv[3] + k * step, cx + w / 2, y_lv[3] + k * step + bh))
        else:
            rects.append((cx - w / 2, y_lv[lv], cx + w / 2, y_lv[lv] + bh))
    # approval lines first, boxes on top
    for i, b in enumerate(boxes):
        if b["parent"] is None:
            continue
        x0, y0, x1, _ = rects[i]
        px0, _, px1, py1 = rects[b["parent"]]
        if b["level"] == 3:  # members hang off a spine on the left of their lead's column
            sx = px0 + 7
            d.line((sx, py1, sx, y0 + bh / 2), fill=line, width=2)
            d.line((sx, y0 + bh / 2, x0, y0 + bh / 2), fill=line, width=2)
        else:
            mid = (py1 + y0) / 2
            d.line(((px0 + px1) / 2, py1, (px0 + px1) / 2, mid), fill=line, width=2)
            d.line(((px0 + px1) / 2, mid, (x0 + x1) / 2, mid), fill=line, width=2)
            d.line(((x0 + x1) / 2, mid, (x0 + x1) / 2, y0), fill=line, width=2)
    for i, b in enumerate(boxes):
        x0, y0, x1, y1 = rects[i]
        fill = pal[min(3, b["level"])]
        dark = b["level"] <= 1
        ink: RGB = (250, 250, 250) if dark else (25, 25, 35)
        d.rectangle((x0 + 3, y0 + 3, x1 + 3, y1 + 3), fill=jitter((205, 205, 210), rng, 5))  # shadow
        d.rectangle((x0, y0, x1, y1), fill=fill, outline=pal[0], width=1)
        size = 13
        while size > 9 and max(text_width(b["name"], size) + len(b["name"]), text_width(b["role"], size - 2)) \
                > x1 - x0 - 8:
            size -= 1
        centered(img, (x0, y0 + 2, x1, y0 + bh / 2 + 2), b["name"], size, ink, bold=True)
        centered(img, (x0, y0 + bh / 2 - 2, x1, y1 - 2), b["role"], size - 2,
                 (225, 230, 240) if dark else (70, 70, 85))
    adv = p.get("advisor")
    if adv:
        tx0, ty0, tx1, _ = rects[adv["to"]]
        ax0, ay0 = 24, 84  # top left, clear of the sponsor and the directors
        ax1, ay1 = ax0 + 176, ay0 + bh
        cx = (tx0 + tx1) / 2
        for yy in range(int(ay1), int(ty0), 8):  # dotted advisory line
            d.line((ax0 + 20, yy, ax0 + 20, min(yy + 4, ty0)), fill=line, width=1)
        for xx in range(int(min(ax0 + 20, cx)), int(max(ax0 + 20, cx)), 8):
            d.line((xx, ty0 - 8, xx + 4, ty0 - 8), fill=line, width=1)
        d.rectangle((ax0, ay0, ax1, ay1), fill=(246, 246, 240), outline=line, width=1)
        centered(img, (ax0, ay0 + 2, ax1, ay0 + bh / 2 + 2), adv["name"], 12, (40, 40, 50), bold=True)
        centered(img, (ax0, ay0 + bh / 2 - 2, ax1, ay1 - 2), adv["role"], 10, (80, 80, 90))
        ly = height - 20
        d.line((24, ly + 6, 60, ly + 6), fill=line, width=2)
        text(img, (66, ly), "approval line", 11, (80, 80, 90))
        for xx in range(170, 206, 8):
            d.line((xx, ly + 6, xx + 4, ly + 6), fill=line, width=1)
        text(img, (212, ly), "advisory only (no approval)", 11, (80, 80, 90))
    speckle(d, rng, (width, height), 30 + int(200 * float(p["grain"])), [(200, 200, 200), (150, 150, 150)])
    img = grain(img, rng, float(p["grain"]))
    return tilt(img, float(p["tilt"]), bg)
