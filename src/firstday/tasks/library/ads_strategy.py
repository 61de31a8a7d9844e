"""Ads strategy: choose ad placements under a budget to maximise exposure (a 0/1 knapsack).

The trainee gets a table of candidate placements (channel, map cell, weeks, cost). The user density of
each map cell exists *only* in heatmap images (colour-scaled city maps with a legend); the exposure
formula, the reach factor of each approved channel, the contingency reserve and (on some variants) extra
rules live in a media handbook held by Marketing (or, in a company without Marketing, by the department
the objective names).

Fixed against the reference: the heatmaps are rendered maps read through a colour legend, not grids of
printed numbers; the optimum is computed from the generated data by the handbook's own rule, is unique by
a clear margin (so a correct plan never loses to a tie), and never equals "take everything" or nothing;
unapproved channels are distractors that look attractive; hard instances add a one-placement-per-cell rule.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from PIL import Image, ImageDraw

from firstday.errors import GenerationError
from firstday.tasks.checks import SubmissionCheck
from firstday.tasks.family import BaselineView, GenContext, ask, referral, register
from firstday.tasks.library import _image_kit as kit
from firstday.tasks.model import Checkpoint, Clue, TaskInstance
from firstday.world.assets import Fact, FileAsset
from firstday.world.images import ImageSpec, register_renderer
from firstday.world.tools import ToolCall

VARIANTS = ("single_heatmap", "multi_region", "time_of_day", "budget_split")
KEY_CAMPAIGN = "ads_strategy:campaign:"

CAMPAIGNS = (
    "Spring launch", "Summer sale", "Back to school", "Autumn refresh", "Winter warmers", "Grand opening",
    "Loyalty relaunch", "Holiday gifting", "New app release", "Weekend market", "City cycling", "Green commute",
    "Fresh bakery", "Late night menu", "Student discount", "Family days", "Fitness month", "Coffee club",
)
AREAS = ("Riverside", "Old Town", "Harbourfront", "Northgate", "Eastfield", "Westbrook", "Millbrook",
         "Hillcrest", "Southport", "Lakeside")
OUTDOOR = ("Billboard", "Bus shelter", "Street banner", "Poster wall")
DIGITAL = ("Mobile geo-ads", "Digital kiosk", "Transit screen", "Social geo-targeting")
UNAPPROVED = ("Radio spot", "Flyer drop", "Skywriting", "Blimp banner")
SLOTS = ("morning", "evening")
SLOT_HOURS = {"morning": "07:00-10:00", "evening": "17:00-20:00"}
HOLDER_DEPTS = ("Marketing", "Sales", "Product", "Operations", "Finance")
MARGIN = 0.02  # the optimum beats every other feasible plan by at least 2 % of its exposure

PALETTES: dict[str, tuple[tuple[int, int, int], ...]] = {
    "heat": ((255, 247, 188), (254, 196, 79), (236, 112, 20), (204, 50, 30), (110, 10, 20)),
    "ocean": ((236, 246, 250), (158, 202, 225), (66, 146, 198), (33, 90, 170), (8, 40, 100)),
    "viridis": ((253, 231, 37), (94, 201, 98), (33, 145, 140), (59, 82, 139), (68, 1, 84)),
    "plum": ((252, 240, 250), (230, 170, 210), (200, 90, 170), (140, 30, 120), (70, 0, 60)),
    "forest": ((247, 252, 230), (190, 230, 150), (110, 190, 90), (40, 130, 60), (0, 70, 40)),
}


@dataclass(frozen=True)
class Option:
    option_id: str
    channel: str
    area: str
    cell: str
    slot: str  # "" unless the variant has time slots
    weeks: int
    cost: int


@dataclass(frozen=True)
class Heatmap:
    area: str
    slot: str
    cols: int
    rows: int
    bins: list[list[int]]  # bins[row][col] -> legend index

    def cell_bin(self, cell: str) -> int:
        return self.bins[int(cell[1:]) - 1][ord(cell[0]) - 65]


def _palette(name: str, n: int) -> list[tuple[int, int, int]]:
    anchors = PALETTES[name]
    out = []
    for i in range(n):
        x = i / (n - 1) * (len(anchors) - 1)
        k = min(int(x), len(anchors) - 2)
        f = x - k
        a, b = anchors[k], anchors[k + 1]
        out.append((round(a[0] + (b[0] - a[0]) * f), round(a[1] + (b[1] - a[1]) * f), round(a[2] + (b[2] - a[2]) * f)))
    return out


@register_renderer("ads_strategy.heatmap")
def render_heatmap(params: dict[str, Any]) -> Image.Image:
    """A district map coloured by user density, with street lines, a river and a colour legend."""
    rng = random.Random(params["seed"])
    cols, rows = int(params["cols"]), int(params["rows"])
    bins: list[list[int]] = params["bins"]
    values: list[int] = params["legend"]
    colours = _palette(str(params["palette"]), len(values))
    cell = rng.choice((54, 60, 66, 72))
    margin_l, margin_t = 34, 74
    legend_right = rng.random() < 0.6
    map_w, map_h = cols * cell, rows * cell
    title_font, small, label = rng.choice((17, 18, 20)), rng.choice((12, 13)), rng.choice((13, 14))
    title_w = int(max(kit.advance(str(params["title"]), title_font), kit.advance(str(params["subtitle"]), small)))
    width = max(margin_l + map_w + (150 if legend_right else 24), margin_l + title_w + 16, margin_l + 420)
    height = margin_t + map_h + (30 if legend_right else 34 + 26 * math.ceil(len(values) / 4) + 10)
    bg = rng.choice(((255, 255, 255), (248, 247, 242), (244, 246, 250)))
    img = Image.new("RGB", (width, height), bg)
    draw = ImageDraw.Draw(img)
    kit.text(img, (margin_l, 8), str(params["title"]), title_font, (30, 30, 30))
    kit.text(img, (margin_l, 32), str(params["subtitle"]), small, (90, 90, 90))
    for r in range(rows):
        for c in range(cols):
            x0, y0 = margin_l + c * cell, margin_t + r * cell
            draw.rectangle((x0, y0, x0 + cell, y0 + cell), fill=colours[bins[r][c]])
    # streets: thin light lines along some cell borders and one diagonal avenue (decoration, never covering a cell)
    street = (250, 250, 250)
    for c in range(cols + 1):
        x = margin_l + c * cell
        draw.line((x, margin_t, x, margin_t + map_h), fill=street, width=rng.choice((1, 2)))
    for r in range(rows + 1):
        y = margin_t + r * cell
        draw.line((margin_l, y, margin_l + map_w, y), fill=street, width=rng.choice((1, 2)))
    if params.get("river", True):
        y = margin_t + rng.randint(1, rows - 1) * cell
        pts = [(margin_l + i * cell / 2, y + rng.choice((-3, -2, 2, 3))) for i in range(2 * cols + 1)]
        draw.line(pts, fill=(120, 160, 200), width=3)
    for c in range(cols):
        kit.text(img, (margin_l + c * cell + cell // 2 - 4, margin_t - 17), chr(65 + c), label, (40, 40, 40))
    for r in range(rows):
        kit.text(img, (10, margin_t + r * cell + cell // 2 - 7), str(r + 1), label, (40, 40, 40))
    order = list(range(len(values)))
    if params.get("legend_descending"):
        order.reverse()
    unit = str(params.get("unit", "users per sq km"))
    if legend_right:
        lx, ly = margin_l + map_w + 16, margin_t
        kit.text(img, (lx, ly - 18), unit, small, (60, 60, 60))
        for k, i in enumerate(order):
            y = ly + k * 24
            draw.rectangle((lx, y, lx + 22, y + 18), fill=colours[i], outline=(80, 80, 80))
            kit.text(img, (lx + 30, y + 2), f"{values[i]:,}", label, (30, 30, 30))
    else:
        lx, ly = margin_l, margin_t + map_h + 14
        kit.text(img, (lx, ly), unit, small, (60, 60, 60))
        for k, i in enumerate(order):
            x, y = lx + (k % 4) * 100, ly + 18 + (k // 4) * 26
            draw.rectangle((x, y, x + 22, y + 18), fill=colours[i], outline=(80, 80, 80))
            kit.text(img, (x + 28, y + 2), f"{values[i]:,}", label, (30, 30, 30))
    # light sensor noise: a few hundred speckles (seeded)
    px = img.load()
    assert px is not None
    for _ in range(int(params.get("noise", 300))):
        x, y = rng.randrange(width), rng.randrange(height)
        r0, g0, b0 = px[x, y]  # type: ignore[misc]
        d = rng.randint(-18, 18)
        px[x, y] = (max(0, min(255, r0 + d)), max(0, min(255, g0 + d)), max(0, min(255, b0 + d)))
    angle = float(params.get("rotate", 0.0))
    if angle:
        img = img.rotate(angle, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=bg)
    return img


def _density_field(rng: random.Random, cols: int, rows: int, n_bins: int) -> list[list[int]]:
    """Bins that look like a city: a few hotspots fading outwards, plus noise; every bin level tends to appear."""
    spots = [(rng.uniform(0, cols - 1), rng.uniform(0, rows - 1), rng.uniform(1.2, 2.8))
             for _ in range(rng.randint(1, 3))]
    raw = [[max(math.exp(-((c - x) ** 2 + (r - y) ** 2) / (2 * s * s)) for x, y, s in spots)
            + rng.uniform(-0.12, 0.12) for c in range(cols)] for r in range(rows)]
    flat = sorted(v for row in raw for v in row)
    lo, hi = flat[0], flat[-1]
    return [[min(n_bins - 1, max(0, int((v - lo) / (hi - lo + 1e-9) * n_bins))) for v in row] for row in raw]


def best_plans(exposure: list[int], cost: list[int], budget: int, groups: list[str] | None) -> tuple[int, int, int]:
    """(best exposure, its mask, best exposure of any *other* feasible plan) by branch and bound.

    ``groups``: if given, at most one option per group (the one-per-cell rule)."""
    n = len(exposure)
    order = sorted(range(n), key=lambda i: (-exposure[i] / cost[i], i))
    ex = [exposure[i] for i in order]
    co = [cost[i] for i in order]
    gr = [groups[i] for i in order] if groups else None
    top: list[tuple[int, int]] = [(-1, -1), (-1, -1)]  # (exposure, mask in sorted order), best first

    def bound(i: int, room: int) -> float:
        total = 0.0
        for j in range(i, n):
            if co[j] <= room:
                room -= co[j]
                total += ex[j]
            else:
                return total + ex[j] * room / co[j]
        return total

    def offer(value: int, mask: int) -> None:
        if value > top[0][0]:
            top[1], top[0] = top[0], (value, mask)
        elif value > top[1][0]:
            top[1] = (value, mask)

    def dfs(i: int, room: int, value: int, mask: int, used: frozenset[str]) -> None:
        if i == n:
            offer(value, mask)
            return
        if value + bound(i, room) < top[1][0]:
            return
        if co[i] <= room and not (gr and gr[i] in used):
            dfs(i + 1, room - co[i], value + ex[i], mask | (1 << i), used | ({gr[i]} if gr else frozenset()))
        dfs(i + 1, room, value, mask, used)

    dfs(0, budget, 0, 0, frozenset())
    real = sum(1 << order[k] for k in range(n) if top[0][1] >> k & 1)
    return top[0][0], real, top[1][0]


@register
class AdsStrategy:
    name = "ads_strategy"
    title = "Ads strategy"
    description = (
        "Choose ad placements within a budget to maximise exposure; user density exists only in heatmap images "
        "and the exposure formula in a media handbook held by Marketing."
    )
    domains = ("strategy", "information")
    modalities = ("image", "table", "dialogue")
    variants = VARIANTS
    knobs: ClassVar[dict[str, str]] = {
        "options": "approved candidate placements: easy 7-8, medium 10-11, hard 12-14 (budget_split: 2 more)",
        "legend": "density levels in the heatmap legend: easy 5, medium 6, hard 7 (finer colour steps)",
        "maps": "multi_region: easy 2 districts, medium/hard 3; time_of_day: a morning and an evening map",
        "hops": "who holds the handbook: easy named in the objective; medium the department head; hard the head "
                "refers you to the colleague who maintains it (two hops)",
        "distractors": "medium and hard add placements on channels the handbook does not approve; hard adds the "
                       "one-placement-per-cell rule and slightly rotated, noisier maps",
    }

    def generate(self, ctx: GenContext) -> TaskInstance:
        rng = ctx.rng
        level = {"easy": 0, "medium": 1, "hard": 2}[ctx.difficulty]
        variant = ctx.variant
        tid = ctx.task_id
        free = [c for c in CAMPAIGNS if KEY_CAMPAIGN + c not in ctx.used_paths]
        campaign = rng.choice(free) if free else f"{rng.choice(CAMPAIGNS)} {tid}"
        ctx.used_paths.add(KEY_CAMPAIGN + campaign)
        slug = re.sub(r"[^a-z0-9]+", "_", campaign.lower()).strip("_")

        # --- maps -----------------------------------------------------------------------------------------
        n_bins = 5 + level
        step = rng.choice((100, 150, 200, 250))
        base = rng.choice((1, 2)) * step
        legend = [base + i * step for i in range(n_bins)]
        areas = rng.sample(AREAS, 2 if level == 0 else 3) if variant == "multi_region" else [rng.choice(AREAS)]
        slots = list(SLOTS) if variant == "time_of_day" else [""]
        maps: list[Heatmap] = []
        for area in areas:
            cols, rows = rng.randint(5, 7), rng.randint(4, 5)
            for slot in slots:
                maps.append(Heatmap(area, slot, cols, rows, _density_field(rng, cols, rows, n_bins)))

        # --- the handbook: reach factors, reserve, rules --------------------------------------------------
        channels = rng.sample(OUTDOOR, 2 + (level > 0)) + rng.sample(DIGITAL, 2 + (level > 0))
        reach = {ch: rng.choice((1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0)) for ch in channels}
        unapproved = rng.sample(UNAPPROVED, 2) if level else []
        reserve = rng.choice((5, 10, 15, 20))
        outdoor_share = rng.choice((40, 50, 60)) if variant == "budget_split" else 0
        one_per_cell = level == 2

        def density(o: Option) -> int:
            hm = next(m for m in maps if m.area == o.area and m.slot == o.slot)
            return legend[hm.cell_bin(o.cell)]

        def exposure(o: Option) -> int:
            return round(density(o) * reach[o.channel] * o.weeks)

        n_opt = (rng.randint(7, 8), rng.randint(10, 11), rng.randint(12, 14))[level] + 2 * (variant == "budget_split")
        solved = None
        for _attempt in range(400):
            options = self._options(rng, maps, channels, unapproved, n_opt, variant)
            groups = [f"{o.area}:{o.cell}" for o in options]
            total = sum(o.cost for o in options if o.channel in reach)
            budget = max(1, round(total * rng.uniform(0.32, 0.5) / 1000)) * 1000
            planning = budget * (100 - reserve) // 100
            solved = self._solve(options, groups, planning, outdoor_share, exposure, one_per_cell, reach)
            if solved is not None:
                break
        if solved is None:
            raise GenerationError("ads_strategy: no instance with a unique optimum")
        chosen, budgets = solved
        total_cost = sum(o.cost for o in chosen)
        total_exposure = sum(exposure(o) for o in chosen)
        selected = sorted(o.option_id for o in chosen)

        # --- files ----------------------------------------------------------------------------------------
        csv_path = ctx.path("/shared/marketing", f"ad_options_{slug}", "csv")
        handbook_path = ctx.path("/shared/marketing", f"media_handbook_{slug}", "md")
        header = ["option_id", "channel"] + (["district"] if len(areas) > 1 else []) + ["cell"] + \
            (["time_slot"] if variant == "time_of_day" else []) + ["weeks", "cost_usd"]
        rows_csv = [",".join(header)]
        for o in options:
            row = [o.option_id, o.channel] + ([o.area] if len(areas) > 1 else []) + [o.cell] + \
                ([o.slot] if variant == "time_of_day" else []) + [str(o.weeks), str(o.cost)]
            rows_csv.append(",".join(row))
        palette = rng.choice(sorted(PALETTES))
        files = [FileAsset(path=csv_path, content="\n".join(rows_csv) + "\n", media_type="text/csv")]
        map_paths: list[str] = []
        for hm in maps:
            stem = re.sub(r"[^a-z0-9]+", "_", hm.area.lower()) + (f"_{hm.slot}" if hm.slot else "") + "_density"
            path = ctx.path(f"/shared/marketing/heatmaps/{slug}", stem, "png")
            map_paths.append(path)
            when = f", {hm.slot} {SLOT_HOURS[hm.slot]}" if hm.slot else ""
            title = f"{hm.area}: mobile user density{when}"
            params = {
                "seed": rng.randrange(2**31), "cols": hm.cols, "rows": hm.rows, "bins": hm.bins, "legend": legend,
                "palette": palette, "title": title, "subtitle": f"Average weekday, {campaign} planning data",
                "legend_descending": rng.random() < 0.5, "noise": (150, 300, 600)[level],
                "rotate": rng.choice((-1.5, -1.0, 1.0, 1.5)) if level == 2 else 0.0, "unit": "users per sq km",
                "river": rng.random() < 0.7,
            }
            alt_rows = [f"row {r + 1}: " + ", ".join(f"{chr(65 + c)}{r + 1} {legend[hm.bins[r][c]]}"
                                                     for c in range(hm.cols)) for r in range(hm.rows)]
            # what an answer is read from: each cell's density, drawn only as a colour (listed for the tests)
            params["deciding"] = [f"{chr(65 + c)}{r + 1} {legend[hm.bins[r][c]]}"
                                  for r in range(hm.rows) for c in range(hm.cols)]
            alt = (f"Heatmap '{title}'. Grid columns A-{chr(64 + hm.cols)}, rows 1-{hm.rows}. User density per cell "
                   f"(users per sq km, the legend value of each cell's colour):\n" + "\n".join(alt_rows))
            files.append(FileAsset(path=path, media_type="image/png",
                                   render=ImageSpec(renderer="ads_strategy.heatmap", params=params),
                                   text_alternative=alt, clue_ids=[f"{tid}-density"]))
        handbook = self._handbook(campaign, reach, reserve, outdoor_share, one_per_cell, variant)
        files.append(FileAsset(path=handbook_path, content=handbook, media_type="text/markdown", hidden=True,
                               clue_ids=[f"{tid}-handbook"]))

        # --- who holds the handbook -----------------------------------------------------------------------
        dept_name = next(d for d in HOLDER_DEPTS if any(x.name == d for x in ctx.company.departments))
        dept = ctx.company.department(dept_name)
        head = ctx.company.employee(dept.head)
        holder = head if level == 1 else ctx.company.employee(rng.choice(dept.members[1:]))
        words = ["media handbook", "handbook", "exposure formula", "exposure", "reach factor"]
        facts = [Fact(fact_id=f"{tid}-handbook", holder=holder.handle, topic=f"media handbook for {campaign}",
                      keywords=words, require_any=[campaign],
                      reply=f"Here is the media handbook for the {campaign} campaign: {handbook_path}",
                      clue_ids=[f"{tid}-holder"], shares_files=[handbook_path])]
        clues = [
            Clue(clue_id=f"{tid}-handbook", description="exposure formula, reach factors, reserve and rules",
                 location="file", where=f"{handbook_path}, shared by {holder.handle}", hops=2 if level == 2 else 1),
            Clue(clue_id=f"{tid}-holder", description="the handbook is shared on request", location="colleague",
                 where=f"ask {holder.handle} ({dept_name})"),
            Clue(clue_id=f"{tid}-density", description="user density of each map cell", location="image",
                 where=", ".join(map_paths)),
        ]
        plan: list[ToolCall] = []
        if level == 2:
            referral(f"{tid}-referral", head, f"head of {dept_name}", topic=f"who keeps the {campaign} handbook",
                     keywords=words, require_any=[campaign], description="who maintains the handbook",
                     reply=f"{holder.name} ({holder.handle}) maintains the media handbook for the "
                           f"{campaign} campaign; please ask them.",
                     question=f"Hi! Who keeps the media handbook for the {campaign} campaign?",
                     ).add_to(facts, clues, plan)
        plan += [
            *ask(holder.handle,
                 f"Hello, could you share the media handbook (exposure formula) for the {campaign} campaign?"),
            ToolCall(name="read_file", arguments={"path": handbook_path}),
            ToolCall(name="read_file", arguments={"path": csv_path}),
            *[ToolCall(name="read_file", arguments={"path": p}) for p in map_paths],
        ]
        answer: dict[str, Any] = {"selected": selected, "total_cost": total_cost, "total_exposure": total_exposure}
        answers: dict[str, Any] = {"selected": selected, "total_cost": total_cost, "total_exposure": total_exposure}
        if variant == "budget_split":
            answer["budgets"] = {"outdoor": budgets[0], "digital": budgets[1]}
            answers["budgets.outdoor"], answers["budgets.digital"] = budgets
        else:
            answer["planning_budget"] = budgets[0]
            answers["planning_budget"] = budgets[0]
        plan.append(ToolCall(name="submit", arguments={"task_id": tid, "answer": answer}))

        where = {0: f"{holder.name} ({holder.handle}) in {dept_name} has the media handbook.",
                 1: f"The {dept_name} team can share the media handbook.",
                 2: f"{dept_name} owns the media handbook."}[level]
        maps_txt = ", ".join(map_paths)
        budget_field = ('"budgets": {"outdoor": <number>, "digital": <number>}' if variant == "budget_split"
                        else '"planning_budget": <number>')
        objective = (
            f"Plan the {campaign} ad campaign: from the candidate placements in {csv_path}, choose the set that "
            f"maximises total exposure within the campaign budget of ${budget:,}. User density for each map cell is "
            f"shown in the heatmap{'s' if len(map_paths) > 1 else ''} {maps_txt}. The exposure formula, the approved "
            f"channels and the budget rules are in the media handbook for the {campaign} campaign. {where} Submit "
            f'{{{budget_field}, "selected": ["<option_id>", ...], "total_cost": <number>, '
            f'"total_exposure": <number>}}.'
        )
        cps = [
            Checkpoint(cp_id="selection", description="the chosen placements are the optimal set", weight=3.0,
                       clue_ids=[f"{tid}-handbook", f"{tid}-density"],
                       check=SubmissionCheck(field="selected", expected="selected", compare="set_equals"),
                       feedback="Exposure needs each cell's density from the heatmaps and the handbook's formula and "
                                "rules; compare every plan that fits the budget."),
            Checkpoint(cp_id="total-cost", description="the plan's total cost", clue_ids=[f"{tid}-handbook",
                                                                                            f"{tid}-density"],
                       check=SubmissionCheck(field="total_cost", expected="total_cost", compare="number_close",
                                             tolerance=0.001),
                       feedback="The total cost is the sum of the chosen placements' costs."),
            Checkpoint(cp_id="total-exposure", description="the plan's total exposure",
                       clue_ids=[f"{tid}-handbook", f"{tid}-density"],
                       check=SubmissionCheck(field="total_exposure", expected="total_exposure",
                                             compare="number_close", tolerance=0.01),
                       feedback="Apply the handbook's exposure formula with densities read from the heatmap legend."),
        ]
        if variant == "budget_split":
            cps += [Checkpoint(cp_id=f"budget-{g}", description=f"the {g} budget", weight=0.5,
                               clue_ids=[f"{tid}-handbook"],
                               check=SubmissionCheck(field=f"budgets.{g}", expected=f"budgets.{g}",
                                                     compare="number_close", tolerance=0.001),
                               feedback="The media handbook says how the budget is reserved and split.")
                    for g in ("outdoor", "digital")]
        else:
            cps.append(Checkpoint(cp_id="planning-budget", description="the budget left after the reserve",
                                  clue_ids=[f"{tid}-handbook"],
                                  check=SubmissionCheck(field="planning_budget", expected="planning_budget",
                                                        compare="number_close", tolerance=0.001),
                                  feedback="The media handbook says how much of the budget must be held back."))
        return ctx.instance(
            self, objective=objective, extra_minutes=10, files=files, facts=facts, clues=clues, checkpoints=cps,
            solution=plan, answers=answers)

    # --- generation helpers ---------------------------------------------------------------------------
    @staticmethod
    def _options(rng: random.Random, maps: list[Heatmap], channels: list[str], unapproved: list[str], n: int,
                 variant: str) -> list[Option]:
        out: list[Option] = []
        seen: set[tuple[str, str, str, str]] = set()
        n_bad = len(unapproved)
        while len(out) < n + n_bad:
            hm = rng.choice(maps)
            cell = f"{chr(65 + rng.randrange(hm.cols))}{rng.randrange(hm.rows) + 1}"
            bad = len(out) >= n
            ch = unapproved[len(out) - n] if bad else channels[len(out) % len(channels)]
            key = (ch, hm.area, cell, hm.slot)
            if key in seen:
                continue
            seen.add(key)
            weeks = rng.randint(1, 4)
            # unapproved channels look cheap for what they seem to offer
            cost = rng.randint(8, 25) * 100 if bad else rng.randint(12, 60) * 100
            out.append(Option("", ch, hm.area, cell, hm.slot, weeks, cost))
        rng.shuffle(out)
        return [Option(f"P{i + 1:02d}", o.channel, o.area, o.cell, o.slot, o.weeks, o.cost) for i, o in enumerate(out)]

    @staticmethod
    def _solve(options: list[Option], groups: list[str], planning: int, outdoor_share: int,
               exposure: Any, one_per_cell: bool, reach: dict[str, float]) -> tuple[list[Option], list[int]] | None:
        """The optimal approved plan, or ``None`` if it is not unique by a clear margin or is trivial."""
        approved = [i for i, o in enumerate(options) if o.channel in reach]
        if outdoor_share:
            outdoor_budget = planning * outdoor_share // 100
            parts = [([i for i in approved if options[i].channel in OUTDOOR], outdoor_budget),
                     ([i for i in approved if options[i].channel in DIGITAL], planning - outdoor_budget)]
        else:
            parts = [(approved, planning)]
        chosen: list[Option] = []
        for idx, budget in parts:
            exp = [exposure(options[i]) for i in idx]
            cost = [options[i].cost for i in idx]
            best, mask, second = best_plans(exp, cost, budget, [groups[i] for i in idx] if one_per_cell else None)
            picked = [idx[k] for k in range(len(idx)) if mask >> k & 1]
            if best <= 0 or second >= best * (1 - MARGIN) or len(picked) < 2 or len(picked) == len(idx):
                return None
            chosen += [options[i] for i in picked]
        if one_per_cell and len({groups[options.index(o)] for o in chosen}) != len(chosen):
            return None
        budgets = [p[1] for p in parts] if outdoor_share else [planning]
        return chosen, budgets

    @staticmethod
    def _handbook(campaign: str, reach: dict[str, float], reserve: int, outdoor_share: int, one_per_cell: bool,
                  variant: str) -> str:
        lines = [f"# Media handbook: {campaign} campaign", "",
                 "## Exposure", "",
                 "The exposure of a placement is: exposure = density x reach factor x weeks, where density is the "
                 "user density (users per sq km) of the placement's map cell, read from the campaign heatmap as the "
                 "legend value of the cell's colour" +
                 (" (use the map of the placement's district)" if variant == "multi_region" else "") +
                 (" (use the map of the placement's time slot)" if variant == "time_of_day" else "") + ".",
                 "A plan's exposure is the sum of its placements' exposures.", "",
                 "## Approved channels and reach factors", ""]
        lines += [f"- {ch}: reach factor {r:g}" for ch, r in sorted(reach.items())]
        lines += ["", "Channels not listed above are not approved for this campaign: never plan them.", "",
                  "## Budget rules", "",
                  f"- Hold back {reserve}% of the campaign budget as a contingency reserve; the planning budget is the "
                  "rest, and the plan's total cost must not exceed it."]
        if outdoor_share:
            outdoor = ", ".join(c for c in OUTDOOR)
            lines.append(f"- Split the planning budget: {outdoor_share}% for outdoor channels ({outdoor}), the rest "
                         "for digital channels. Each group's placements must fit within its own part; leftover money "
                         "does not move between the parts.")
        if one_per_cell:
            lines.append("- At most one placement per map cell" +
                         (" of a district" if variant == "multi_region" else "") +
                         (" (whatever the time slot)" if variant == "time_of_day" else "") + ".")
        lines.append("- Choose the plan with the highest total exposure that respects these rules.")
        return "\n".join(lines) + "\n"

    # --- baseline ---------------------------------------------------------------------------------------
    def baseline(self, view: BaselineView) -> list[ToolCall]:
        """Reads the handbook if it was shared (reserve, split, reach factors) but cannot see the heatmaps: it
        assumes every cell has the same density and picks the best plan under that assumption."""
        handbook = next((t for p, t in view.texts.items() if "media_handbook" in p), "")
        table = next((t for p, t in view.texts.items() if p.endswith(".csv")), "")
        m = re.search(r"\$([\d,]+)", view.objective)
        budget = int(m.group(1).replace(",", "")) if m else 0
        r = re.search(r"Hold back (\d+)%", handbook)
        planning = budget * (100 - int(r.group(1))) // 100 if r else budget
        reach = {k: float(v) for k, v in re.findall(r"^- (.+?): reach factor ([\d.]+)", handbook, re.M)}
        rows = [x.split(",") for x in table.strip().splitlines()] if table else []
        head = rows[0] if rows else []
        options = [dict(zip(head, x, strict=False)) for x in rows[1:]]
        usable = [o for o in options if not reach or o.get("channel") in reach]
        exp = [round(1000 * reach.get(o.get("channel", ""), 1.0) * int(o.get("weeks", "1") or 1)) for o in usable]
        cost = [int(o.get("cost_usd", "1") or 1) for o in usable]
        selected: list[str] = []
        if usable:
            _, mask, _ = best_plans(exp, cost, planning, None)
            selected = [usable[k]["option_id"] for k in range(len(usable)) if mask >> k & 1]
        total_cost = sum(int(o.get("cost_usd", "0")) for o in usable if o.get("option_id") in selected)
        answer: dict[str, Any] = {"selected": selected, "total_cost": total_cost,
                                  "total_exposure": sum(exp[k] for k, o in enumerate(usable)
                                                        if o.get("option_id") in selected)}
        s = re.search(r"Split the planning budget: (\d+)%", handbook)
        if s:
            outdoor = planning * int(s.group(1)) // 100
            answer["budgets"] = {"outdoor": outdoor, "digital": planning - outdoor}
        else:
            answer["planning_budget"] = planning
        return [ToolCall(name="submit", arguments={"task_id": view.task_id, "answer": answer})]
