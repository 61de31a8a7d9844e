"""Event planning: plan a team outing — the date everyone can make, its cost and travel distance, or the
cheapest plan that follows HR's outing policy.

Every team member's availability (and dietary need) is known only to them; on hard, some members leave
their calendar to their manager (two hops). Venues and lunch places are in a table on the drive; the
distances between places are in a distance table (easy) or only on a route map image (medium, hard),
where the shortest route may pass through junctions.

Fixed against the reference: exactly one date suits everyone (dates are ISO strings, compared exactly);
the metrics are computed from the generated data (shortest routes, headcount × prices); the optimal plan
is unique by construction and the cheapest venue or lunch alone never satisfies the policy.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import random
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from PIL import Image, ImageDraw

from firstday.errors import GenerationError
from firstday.tasks.checks import SubmissionCheck
from firstday.tasks.family import BaselineView, GenContext, ask, register
from firstday.tasks.library import _image_kit as kit
from firstday.tasks.model import Checkpoint, Clue, TaskInstance
from firstday.world.assets import Fact, FileAsset
from firstday.world.company import Department
from firstday.world.images import ImageSpec, register_renderer
from firstday.world.tools import GROUP_MESSAGE_COST, ToolCall

VARIANTS = ("common_date", "plan_metrics", "optimal_plan")
KEY_EVENT = "event_planning:event:"
KEY_TEAM = "event_planning:team:"
EVENTS = ("summer outing", "team day", "autumn outing", "spring outing", "offsite day", "team away day",
          "celebration day", "team building day")
VENUES = ("Harbour Kayak Club", "Pine Ridge Climbing", "Old Mill Escape Rooms", "Lakeside Bowling", "City Art Studio",
          "Riverside Go-Karts", "Botanical Gardens Tour", "Skyline Trampoline Park", "Maritime Museum",
          "Greenfield Archery", "Cookery School", "Vineyard Walk")
RESTAURANTS = ("Olive & Thyme", "The Copper Pot", "Saffron House", "Blue Harbour Grill", "Green Fork",
               "Nonna's Kitchen", "Tokyo Table", "The Garden Cafe", "Market Hall Deli", "Casa Lupe")
JUNCTIONS = ("Central Station", "Market Square", "North Bridge", "Park Gate", "Ferry Pier")
UNAVAILABLE_REASONS = ("I'm on leave", "I have a customer visit", "I'm at a conference", "I have a medical appointment",
                       "I'm covering the support rota", "I'm travelling for work")


@dataclass(frozen=True)
class Place:
    name: str
    kind: str  # office / venue / lunch / junction
    capacity: int = 0
    price: int = 0
    vegetarian: bool = True


def shortest(edges: list[tuple[str, str, float]], src: str) -> dict[str, float]:
    return all_shortest(edges, [src])[src]


def all_shortest(edges: list[tuple[str, str, float]], sources: list[str]) -> dict[str, dict[str, float]]:
    """Shortest road distance from each of ``sources`` to every place (Dijkstra, each sum rounded to 0.1 km as a
    reader adding the map's labels would); the adjacency is built once for all sources."""
    adj: dict[str, list[tuple[str, float]]] = {}
    for a, b, w in edges:
        adj.setdefault(a, []).append((b, w))
        adj.setdefault(b, []).append((a, w))
    inf = math.inf
    out: dict[str, dict[str, float]] = {}
    for src in sources:
        dist = {src: 0.0}
        heap = [(0.0, src)]
        while heap:
            d, u = heapq.heappop(heap)
            if d > dist.get(u, inf):
                continue
            for v, w in adj.get(u, ()):
                nd = round(d + w, 1)
                if nd < dist.get(v, inf):
                    dist[v] = nd
                    heapq.heappush(heap, (nd, v))
        out[src] = dist
    return out


@register_renderer("event_planning.route_map")
def render_route_map(params: dict[str, Any]) -> Image.Image:
    """A simple city route map: places as symbols with names, roads as lines labelled with their length."""
    rng = random.Random(params["seed"])
    width, height = int(params["width"]), int(params["height"])
    land = rng.choice(((238, 236, 226), (232, 240, 228), (240, 238, 232)))
    img = Image.new("RGB", (width, height), land)
    draw = ImageDraw.Draw(img)
    # scenery: a few parks and a water body, behind everything
    for _ in range(rng.randint(2, 4)):
        x, y = rng.randrange(width), rng.randrange(height)
        draw.ellipse((x - 40, y - 25, x + rng.randint(30, 70), y + rng.randint(20, 40)), fill=(205, 226, 196))
    if rng.random() < 0.7:
        y0 = rng.randint(height // 3, height - 40)
        draw.polygon([(0, y0), (width, y0 + rng.randint(-40, 40)), (width, height), (0, height)],
                     fill=(206, 222, 238))
    pos: dict[str, tuple[int, int]] = {k: (int(v[0]), int(v[1])) for k, v in params["nodes"].items()}
    kinds: dict[str, str] = params["kinds"]
    road = rng.choice(((120, 120, 120), (150, 110, 80), (90, 100, 130)))
    small, label = rng.choice((12, 13)), rng.choice((13, 14))
    for a, b, _w in params["edges"]:
        (x0, y0), (x1, y1) = pos[a], pos[b]
        draw.line((x0, y0, x1, y1), fill=road, width=rng.choice((3, 4)))
    colours = {"office": (200, 40, 40), "venue": (40, 90, 180), "lunch": (230, 140, 20), "junction": (90, 90, 90)}
    Box = tuple[float, float, float, float]

    def hits(b: Box, boxes: list[Box]) -> bool:
        return any(b[0] < o[2] and o[0] < b[2] and b[1] < o[3] and o[1] < b[3] for o in boxes)

    # name labels first (as boxes), then each road's length label where it covers no name and no other length
    title = str(params["title"])
    taken: list[Box] = [(8, 8, 20 + kit.advance(title, label), 30)]
    names: list[tuple[str, float, float]] = []
    for name, (x, y) in pos.items():
        tw = kit.advance(name, label)
        tx = min(max(4, x - tw / 2), width - tw - 4)
        ty = y + 12 if y < height - 60 else y - 28
        names.append((name, tx, ty))
        taken.append((tx - 2, ty - 1, tx + tw + 2, ty + 15))
        taken.append((x - 10, y - 10, x + 10, y + 10))
    lengths: list[tuple[str, float, float]] = []
    for a, b, w in params["edges"]:
        (x0, y0), (x1, y1) = pos[a], pos[b]
        text = f"{w:.1f} km"
        tw = kit.advance(text, small)
        spot = None
        norm = max(1.0, math.hypot(x1 - x0, y1 - y0))
        px, py = -(y1 - y0) / norm, (x1 - x0) / norm  # unit normal: labels may sit just beside the road
        for t, off in [(t, 0) for t in (0.5, 0.4, 0.6, 0.3, 0.7, 0.25, 0.75)] + \
                [(t, o) for t in (0.5, 0.35, 0.65) for o in (16, -16, 24, -24)]:
            mx, my = x0 + (x1 - x0) * t + px * off, y0 + (y1 - y0) * t + py * off
            box = (mx - tw / 2 - 4, my - 9, mx + tw / 2 + 4, my + 9)
            if not hits(box, taken):
                spot = (mx, my, box)
                break
        if spot is None:
            mx, my = (x0 + x1) / 2, (y0 + y1) / 2
            spot = (mx, my, (mx - tw / 2 - 4, my - 9, mx + tw / 2 + 4, my + 9))
        taken.append(spot[2])
        lengths.append((text, spot[0] - tw / 2, spot[1]))
    for name, (x, y) in pos.items():
        kind = kinds[name]
        c = colours[kind]
        if kind == "office":
            draw.rectangle((x - 9, y - 9, x + 9, y + 9), fill=c, outline=(0, 0, 0))
        elif kind == "venue":
            draw.ellipse((x - 8, y - 8, x + 8, y + 8), fill=c, outline=(0, 0, 0))
        elif kind == "lunch":
            draw.polygon([(x, y - 10), (x + 9, y + 7), (x - 9, y + 7)], fill=c, outline=(0, 0, 0))
        else:
            draw.ellipse((x - 5, y - 5, x + 5, y + 5), fill=(255, 255, 255), outline=c, width=2)
    for place, nx, ny in names:
        draw.rectangle((nx - 2, ny - 1, nx + kit.advance(place, label) + 2, ny + 15), fill=(255, 255, 255))
        kit.text(img, (nx, ny), place, label, (10, 10, 10))
    for text, tx, my in lengths:  # on top: a road's length is never hidden
        draw.rectangle((tx - 3, my - 8, tx + kit.advance(text, small) + 3, my + 8), fill=(255, 255, 250),
                       outline=road)
        kit.text(img, (tx, my - 7), text, small, (20, 20, 20))
    draw.rectangle(taken[0], fill=(255, 255, 255), outline=(80, 80, 80))
    kit.text(img, (14, 12), title, label, (0, 0, 0))
    ly = height - 24
    draw.rectangle((0, ly - 4, width, height), fill=(255, 255, 255))
    x = 10
    for kind, text in (("office", "office"), ("venue", "activity venue"), ("lunch", "lunch place"),
                       ("junction", "junction")):
        draw.ellipse((x, ly + 2, x + 12, ly + 14), fill=colours[kind])
        kit.text(img, (x + 16, ly), text, small, (30, 30, 30))
        x += 34 + int(kit.advance(text, small))
    kit.text(img, (x + 10, ly), "road lengths in km", small, (30, 30, 30))
    return img


def _layout(rng: random.Random, names: list[str], width: int, height: int) -> dict[str, tuple[int, int]]:
    pos: dict[str, tuple[int, int]] = {}
    for n in names:
        for _ in range(500):
            p = (rng.randint(70, width - 70), rng.randint(60, height - 70))
            if all(math.dist(p, q) > 120 for q in pos.values()):
                pos[n] = p
                break
        else:
            raise GenerationError("event_planning: no room for the map")
    return pos


def _segments_cross(p1: tuple[int, int], p2: tuple[int, int], p3: tuple[int, int], p4: tuple[int, int]) -> bool:
    def ccw(a: tuple[int, int], b: tuple[int, int], c: tuple[int, int]) -> int:
        v = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
        return (v > 0) - (v < 0)

    if len({p1, p2, p3, p4}) < 4:
        return False
    return ccw(p1, p2, p3) * ccw(p1, p2, p4) < 0 and ccw(p3, p4, p1) * ccw(p3, p4, p2) < 0


def _road_graph(rng: random.Random, pos: dict[str, tuple[int, int]], scale: float) -> list[tuple[str, str, float]]:
    """A planar-ish road network: short edges first (no crossings), every place connected."""
    names = list(pos)
    pairs = sorted(((math.dist(pos[a], pos[b]), a, b) for i, a in enumerate(names) for b in names[i + 1:]))
    edges: list[tuple[str, str, float]] = []
    parent = {n: n for n in names}

    def find(x: str) -> str:
        while parent[x] != x:
            x = parent[x]
        return x

    for d, a, b in pairs:
        if any(_segments_cross(pos[a], pos[b], pos[c], pos[e]) for c, e, _ in edges):
            continue
        joins = find(a) != find(b)
        if joins or (len(edges) < len(names) + 3 and rng.random() < 0.6):
            edges.append((a, b, round(d * scale * rng.uniform(1.05, 1.3), 1)))
            parent[find(a)] = find(b)
    if len({find(n) for n in names}) != 1:
        raise GenerationError("event_planning: the road map is not connected")
    return edges


@register
class EventPlanning:
    name = "event_planning"
    title = "Event planning"
    description = ("Plan a team outing: find the one date every member can make (ask each of them), report a plan's "
                   "cost and travel distance from a venue table and a route map, or find the cheapest plan that "
                   "follows HR's outing policy.")
    domains = ("scheduling", "inquiry", "strategy")
    modalities = ("dialogue", "table", "image")
    variants = VARIANTS
    knobs: ClassVar[dict[str, str]] = {
        "team": "members to ask: easy 3-5, medium 5-8, hard 7 or more (a whole department)",
        "dates": "candidate weekdays: easy 5, medium 8, hard 10; members state busy dates or (medium, hard) only "
                 "their free dates",
        "hops": "hard: one or two members leave their calendar to their manager (two hops)",
        "distances": "easy: a distance table; medium: a route map image with junctions (shortest routes); hard: "
                     "a bigger map with more junctions",
        "places": "venues/lunch places: easy 3/3, medium 4/3, hard 5/4; optimal_plan adds capacity, vegetarian and "
                  "distance limits from the outing policy (HR)",
    }

    def generate(self, ctx: GenContext) -> TaskInstance:
        rng = ctx.rng
        level = {"easy": 0, "medium": 1, "hard": 2}[ctx.difficulty]
        variant = ctx.variant
        tid = ctx.task_id
        company = ctx.company
        free_events = [e for e in EVENTS if KEY_EVENT + e not in ctx.used_paths]
        event = rng.choice(free_events) if free_events else f"{rng.choice(EVENTS)} {tid}"
        ctx.used_paths.add(KEY_EVENT + event)
        dept = self._team(ctx, level)
        ctx.used_paths.add(KEY_TEAM + dept.name)
        team = [company.employee(h) for h in dept.members]
        title = f"{dept.name} {event}"

        # --- dates: exactly one suits everyone ---------------------------------------------------------------
        n_dates = (5, 8, 10)[level]
        month = rng.choice((5, 6, 9, 10))
        first = dt.date(2025, month, 1)
        days = [first + dt.timedelta(days=i) for i in range(31) if (first + dt.timedelta(days=i)).month == month]
        weekdays = [d for d in days if d.weekday() < 5]
        start_i = rng.randint(0, len(weekdays) - n_dates)
        dates = weekdays[start_i:start_i + n_dates]
        # any candidate, the first included: the dates are listed in calendar order, so the common one's position
        # must be uniform or "take the first/last date" would beat chance (tests/test_position_bias.py)
        common = rng.choice(dates)
        busy: dict[str, set[dt.date]] = {e.handle: set() for e in team}
        for d in dates:
            if d != common:
                for e in rng.sample(team, rng.randint(1, min(2, len(team)))):
                    busy[e.handle].add(d)
        for e in team:  # a few extra busy days, never the common one
            extra = [d for d in dates if d != common]
            busy[e.handle].update(rng.sample(extra, rng.randint(0, 2)))
        vegetarian = {e.handle for e in team if rng.random() < 0.25}
        deferring = []
        if level == 2:
            can = [e for e in team if e.manager is not None and e.manager in dept.members and e.handle != dept.head]
            deferring = rng.sample(can, min(len(can), rng.randint(1, 2)))

        # --- places ---------------------------------------------------------------------------------------------
        headcount = len(team)
        n_venue, n_lunch = ((3, 3), (4, 3), (5, 4))[level]
        venues = [Place(n, "venue", rng.choice((8, 10, 12, 16, 20, 30)), rng.randint(12, 60)) for n in
                  rng.sample(VENUES, n_venue)]
        lunches = [Place(n, "lunch", rng.choice((8, 10, 12, 16, 24, 40)), rng.randint(14, 45), rng.random() < 0.6)
                   for n in rng.sample(RESTAURANTS, n_lunch)]
        office = Place(f"{company.name.split()[0]} office", "office")
        junctions = [Place(n, "junction") for n in rng.sample(JUNCTIONS, (0, 2, 3)[level])]
        width, height = 760, 540
        places = [office, *venues, *lunches, *junctions]
        edges: list[tuple[str, str, float]] = []
        direct: dict[str, dict[str, float]] = {}  # easy: the shortest distances of the table that was kept
        for _attempt in range(200):
            try:
                pos = _layout(rng, [p.name for p in places], width, height)
                if level == 0:  # the table lists every needed distance directly, and each is the shortest
                    pairs = [(office, v) for v in venues] + [(v, lu) for v in venues for lu in lunches] + \
                        [(lu, office) for lu in lunches]
                    edges = [(a.name, b.name, round(math.dist(pos[a.name], pos[b.name]) * 0.02
                                                    * rng.uniform(1.05, 1.15), 1)) for a, b in pairs]
                    direct = all_shortest(edges, [p.name for p in (office, *venues, *lunches)])
                    if any(direct[a][b] < w for a, b, w in edges):
                        continue
                else:
                    edges = _road_graph(rng, pos, 0.02)
            except GenerationError:
                continue
            break
        else:
            raise GenerationError("event_planning: no map")
        # (easy: every place is a source of ``direct`` already, there are no junctions)
        dist = direct if level == 0 else all_shortest(edges, [p.name for p in places])

        def trip(v: Place, lu: Place) -> float:
            return round(dist[office.name][v.name] + dist[v.name][lu.name] + dist[lu.name][office.name], 1)

        def cost(v: Place, lu: Place) -> int:
            return headcount * (v.price + lu.price)

        answers: dict[str, Any] = {"date": common.isoformat()}
        policy: list[str] = []
        chosen: tuple[Place, Place] | None = None
        if variant == "plan_metrics":
            chosen = (rng.choice(venues), rng.choice(lunches))
        elif variant == "optimal_plan":
            chosen, policy, venues, lunches = self._optimal(rng, venues, lunches, headcount, bool(vegetarian), trip,
                                                            cost)
        if chosen is not None:
            answers.update(total_cost=cost(*chosen), total_distance=trip(*chosen))
            if variant == "optimal_plan":
                answers.update(venue=chosen[0].name, restaurant=chosen[1].name)

        # --- files -----------------------------------------------------------------------------------------
        slug = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")
        files: list[FileAsset] = []
        places_path = ctx.path("/shared/facilities", f"outing_places_{slug}", "csv")
        rows = ["name,type,capacity,price_per_person,vegetarian_options"]
        rows += [f"{p.name},{'activity venue' if p.kind == 'venue' else 'lunch place'},{p.capacity},{p.price},"
                 f"{'yes' if p.vegetarian else 'no'}" for p in sorted([*venues, *lunches], key=lambda p: p.name)]
        map_path = ""
        plan: list[ToolCall] = []
        clues: list[Clue] = []
        facts: list[Fact] = []
        if variant != "common_date":
            files.append(FileAsset(path=places_path, content="\n".join(rows) + "\n", media_type="text/csv",
                                   clue_ids=[f"{tid}-places"]))
            clues.append(Clue(clue_id=f"{tid}-places", description="venue and lunch prices and capacities",
                              location="file", where=places_path))
            plan.append(ToolCall(name="read_file", arguments={"path": places_path}))
            if level == 0:
                map_path = ctx.path("/shared/facilities", f"outing_distances_{slug}", "csv")
                table = ["from,to,km"] + [f"{a},{b},{w:.1f}" for a, b, w in edges]
                files.append(FileAsset(path=map_path, content="\n".join(table) + "\n", media_type="text/csv",
                                       clue_ids=[f"{tid}-distances"]))
                clues.append(Clue(clue_id=f"{tid}-distances", description="distances between places",
                                  location="file", where=map_path))
            else:
                map_path = ctx.path("/shared/facilities", f"outing_route_map_{slug}", "png")
                kinds = {p.name: p.kind for p in places}
                params = {"seed": rng.randrange(2**31), "width": width, "height": height,
                          "nodes": {k: list(v) for k, v in pos.items()}, "kinds": kinds,
                          "edges": [[a, b, w] for a, b, w in edges], "title": f"Route map: {title}",
                          "deciding": [f"{w:.1f} km" for _, _, w in edges]}
                alt = ("Route map (roads and their lengths; a route may pass through other places):\n" +
                       "\n".join(f"{a} - {b}: {w:.1f} km" for a, b, w in edges))
                files.append(FileAsset(path=map_path, media_type="image/png",
                                       render=ImageSpec(renderer="event_planning.route_map", params=params),
                                       text_alternative=alt, clue_ids=[f"{tid}-distances"]))
                clues.append(Clue(clue_id=f"{tid}-distances", description="road lengths between places",
                                  location="image", where=map_path))
            plan.append(ToolCall(name="read_file", arguments={"path": map_path}))

        # --- who knows what ----------------------------------------------------------------------------------
        avail_words = ["available", "availability", "free", "dates", "date", "outing", "join"]
        fmt_d = dt.date.isoformat
        for e in team:
            own_busy = sorted(busy[e.handle])
            free = [d for d in dates if d not in busy[e.handle]]
            if level == 0 or rng.random() < 0.5:
                say = (f"I can't make {', '.join(map(fmt_d, own_busy))} ({rng.choice(UNAVAILABLE_REASONS)}); any "
                       "other date works for me" if own_busy else "any of the dates works for me")
            else:
                say = f"I'm only free on {', '.join(map(fmt_d, free))}"
            diet = " I'm vegetarian, by the way." if e.handle in vegetarian else " No dietary needs."
            cid = f"{tid}-avail-{e.handle}"
            if e in deferring:
                mgr = company.employee(e.manager or "")
                facts.append(Fact(fact_id=f"{tid}-ref-{e.handle}", holder=e.handle, topic="who knows my calendar",
                                  keywords=avail_words, require_any=[event],
                                  reply=f"For the {title}: my manager {mgr.name} ({mgr.handle}) keeps my calendar "
                                        f"for those weeks, please ask them.{diet}",
                                  clue_ids=[f"{tid}-ref-{e.handle}"]))
                facts.append(Fact(fact_id=cid, holder=mgr.handle, topic=f"{e.handle}'s dates",
                                  keywords=avail_words, require_any=[e.first_name, e.name, e.handle],
                                  reply=f"For the {title}: {e.name} "
                                        + (f"can't make {', '.join(map(fmt_d, own_busy))}; other dates are fine."
                                           if own_busy else "is free on all of the dates."),
                                  clue_ids=[cid]))
                clues.append(Clue(clue_id=f"{tid}-ref-{e.handle}", description=f"{mgr.handle} knows {e.handle}'s "
                                  "dates", location="colleague", where=f"ask {e.handle}"))
                clues.append(Clue(clue_id=cid, description=f"{e.handle}'s dates", location="colleague",
                                  where=f"ask {mgr.handle}", hops=2))
            else:
                facts.append(Fact(fact_id=cid, holder=e.handle, topic=f"my dates for the {title}",
                                  keywords=avail_words, require_any=[event], reply=f"For the {title}: {say}.{diet}",
                                  clue_ids=[cid]))
                clues.append(Clue(clue_id=cid, description=f"{e.handle}'s dates", location="colleague",
                                  where=f"ask {e.handle}"))
        question = f"Hi all! For the {title}, which of these dates are you available: {', '.join(map(fmt_d, dates))}?"
        plan.insert(0, ToolCall(name="send_message", arguments={"to": [e.handle for e in team], "text": question}))
        slowest = max(e.reply_delay for e in team)
        if slowest > GROUP_MESSAGE_COST:
            plan.insert(1, ToolCall(name="wait", arguments={"minutes": slowest - GROUP_MESSAGE_COST}))
        for e in deferring:
            mgr = company.employee(e.manager or "")
            plan += ask(mgr.handle, f"Hi, which dates is {e.name} ({e.handle}) available for the "
                                    f"{title}?")
        avail_ids = [f"{tid}-avail-{e.handle}" for e in team]
        policy_path = ""
        if variant == "optimal_plan":
            hr = company.department("HR")
            holder = company.employee(hr.head if level else rng.choice(hr.members[1:]))
            policy_path = ctx.path("/shared/hr", f"outing_policy_{slug}", "md")
            files.append(FileAsset(path=policy_path, content="\n".join(policy) + "\n", media_type="text/markdown",
                                   hidden=True, clue_ids=[f"{tid}-policy"]))
            facts.append(Fact(fact_id=f"{tid}-policy", holder=holder.handle, topic="team outing policy",
                              keywords=["outing policy", "policy", "team outing", "rules"], require_any=[event],
                              reply=f"Here's the outing policy that applies to the {title}: {policy_path}",
                              clue_ids=[f"{tid}-policy-holder"], shares_files=[policy_path]))
            clues += [Clue(clue_id=f"{tid}-policy", description="limits on the plan", location="file",
                           where=policy_path),
                      Clue(clue_id=f"{tid}-policy-holder", description="HR shares the outing policy",
                           location="colleague", where=f"ask {holder.handle}")]
            plan += [*ask(holder.handle, f"Hello, could you share the outing policy for the {title}?"),
                     ToolCall(name="read_file", arguments={"path": policy_path})]
            who_policy = f"{holder.name} ({holder.handle}) in HR" if level == 0 else "HR"
        members = ", ".join(f"{e.name} ({e.handle})" for e in team) if level < 2 else f"everyone in {dept.name}"
        date_txt = f"The candidate dates are {', '.join(map(fmt_d, dates))}."
        if variant == "common_date":
            objective = (f"Find the date for the {title}: the one candidate date on which every member of the team "
                         f"({members}) is available. {date_txt} Only each person knows their own calendar. "
                         'Submit {"date": "YYYY-MM-DD"}.')
            cps = [Checkpoint(cp_id="date", description="the date everyone can make", weight=2.0, clue_ids=avail_ids,
                              check=SubmissionCheck(field="date", expected="date"),
                              feedback="Ask every team member which dates they can make; some leave it to their "
                                       "manager.")]
        elif variant == "plan_metrics":
            assert chosen is not None
            dist_src = map_path
            objective = (f"The {title} is planned: an activity at {chosen[0].name}, then lunch at {chosen[1].name}, "
                         f"for the whole team ({members}), travelling office -> venue -> lunch -> office by the "
                         f"shortest roads. Find the date everyone can make ({date_txt.lower()[:-1]}; ask each "
                         f"person), and report the total cost (headcount x (activity price + lunch price); headcount "
                         f"= the team, without you) from {places_path} and the total travel distance from "
                         f"{dist_src}. Submit "
                         '{"date": "YYYY-MM-DD", "total_cost": <number>, "total_distance": <km>}.')
            cps = self._metric_checkpoints(tid, avail_ids)
        else:
            assert chosen is not None
            objective = (f"Plan the {title} for the whole team ({members}): pick the date everyone can make "
                         f"({date_txt.lower()[:-1]}; ask each person), an activity venue and a lunch place from "
                         f"{places_path}, travelling office -> venue -> lunch -> office by the shortest roads "
                         f"({map_path}). Choose the cheapest plan (headcount x (activity price + lunch price); "
                         f"headcount = the team, without you) that follows HR's outing policy; {who_policy} has it. "
                         'Submit {"date": "YYYY-MM-DD", "venue": "<name>", "restaurant": "<name>", '
                         '"total_cost": <number>, "total_distance": <km>}.')
            cps = self._metric_checkpoints(tid, avail_ids)
            dep = [f"{tid}-policy", f"{tid}-distances", *avail_ids]
            cps += [Checkpoint(cp_id="venue", description="the venue of the cheapest allowed plan", clue_ids=dep,
                               check=SubmissionCheck(field="venue", expected="venue"),
                               feedback="Apply every limit of the outing policy, then compare costs."),
                    Checkpoint(cp_id="restaurant", description="the lunch place of the cheapest allowed plan",
                               clue_ids=dep, check=SubmissionCheck(field="restaurant", expected="restaurant"),
                               feedback="Apply every limit of the outing policy (ask people about dietary needs).")]
            for cp in cps:
                if cp.cp_id in ("total-cost", "total-distance"):
                    cp.clue_ids = sorted(set(cp.clue_ids) | {f"{tid}-policy"})
        plan.append(ToolCall(name="submit", arguments={"task_id": tid, "answer": dict(answers)}))
        return ctx.instance(
            self, objective=objective, files=files, facts=facts, clues=clues, checkpoints=cps, solution=plan,
            answers=answers)

    @staticmethod
    def _metric_checkpoints(tid: str, avail_ids: list[str]) -> list[Checkpoint]:
        return [
            Checkpoint(cp_id="date", description="the date everyone can make", clue_ids=avail_ids,
                       check=SubmissionCheck(field="date", expected="date"),
                       feedback="Ask every team member which dates they can make."),
            Checkpoint(cp_id="total-cost", description="the plan's total cost", clue_ids=[f"{tid}-places"],
                       check=SubmissionCheck(field="total_cost", expected="total_cost", compare="number_close",
                                             tolerance=0.001),
                       feedback="Headcount times the activity and lunch prices per person, from the places table."),
            Checkpoint(cp_id="total-distance", description="the plan's total travel distance",
                       clue_ids=[f"{tid}-distances"],
                       check=SubmissionCheck(field="total_distance", expected="total_distance",
                                             compare="number_close", tolerance=0.01),
                       feedback="Add the shortest road distances of the three legs; read them from the map."),
        ]

    @staticmethod
    def _team(ctx: GenContext, level: int) -> Department:
        lo, hi = ((3, 5), (5, 8), (7, 99))[level]
        depts = [d for d in ctx.company.departments if d.name != "Executive"]
        fresh = [d for d in depts if KEY_TEAM + d.name not in ctx.used_paths] or depts
        fit = [d for d in fresh if lo <= len(d.members) <= hi]
        if fit:
            return ctx.rng.choice(fit)
        target = (lo + min(hi, 12)) / 2
        return min(fresh, key=lambda d: (abs(len(d.members) - target), d.name))

    @staticmethod
    def _optimal(rng: random.Random, venues: list[Place], lunches: list[Place], headcount: int, veg: bool,
                 trip: Any, cost: Any) -> tuple[tuple[Place, Place], list[str], list[Place], list[Place]]:
        """Set the policy's distance limit and adjust prices until the cheapest allowed plan is unique and is
        not simply the cheapest venue with the cheapest lunch place."""
        for _ in range(200):
            trips = sorted(trip(v, lu) for v in venues for lu in lunches)
            limit = math.ceil(trips[len(trips) // 2 + rng.randint(-1, 1)])
            ok = sorted((cost(v, lu), v.name, lu.name) for v in venues for lu in lunches
                        if v.capacity >= headcount and lu.capacity >= headcount and trip(v, lu) <= limit
                        and (lu.vegetarian or not veg))
            naive = min((cost(v, lu), v.name, lu.name) for v in venues for lu in lunches)
            if len(ok) >= 2 and ok[0][0] < ok[1][0] and ok[0] != naive:
                v = next(x for x in venues if x.name == ok[0][1])
                lu = next(x for x in lunches if x.name == ok[0][2])
                policy = ["# Team outing policy", "",
                          "- Everyone on the team goes: the activity venue and the lunch place must each hold the "
                          "whole team (capacity at least the headcount).",
                          f"- The whole trip (office -> venue -> lunch -> office, shortest roads) must not exceed "
                          f"{limit} km.",
                          "- If anyone on the team is vegetarian, the lunch place must have vegetarian options.",
                          "- Among the plans that follow these rules, choose the cheapest."]
                return (v, lu), policy, venues, lunches
            # reshuffle prices and capacities and try again
            venues = [Place(p.name, p.kind, rng.choice((8, 10, 12, 16, 20, 30)), rng.randint(12, 60)) for p in venues]
            lunches = [Place(p.name, p.kind, rng.choice((8, 10, 12, 16, 24, 40)), rng.randint(14, 45),
                             rng.random() < 0.6) for p in lunches]
            if headcount > 30:
                venues = [Place(p.name, p.kind, headcount + rng.randint(-2, 10), p.price) for p in venues]
                lunches = [Place(p.name, p.kind, headcount + rng.randint(-2, 10), p.price, p.vegetarian)
                           for p in lunches]
        raise GenerationError("event_planning: no unique optimal plan")

    # --- baseline ---------------------------------------------------------------------------------------
    def baseline(self, view: BaselineView) -> list[ToolCall]:
        """Takes the first candidate date nobody it heard from ruled out (it asks at most four people, and
        only the head of a team the objective names); for plans it picks the cheapest pair from the table
        and cannot read distances from a map."""
        dates = re.findall(r"\d{4}-\d{2}-\d{2}", view.objective.split("candidate dates are")[-1])
        heard = "\n".join(t for p, t in view.texts.items() if not p.startswith("/"))
        ruled_out = set()
        for line in heard.splitlines():
            if "can't make" in line:
                ruled_out.update(re.findall(r"\d{4}-\d{2}-\d{2}", line.split("can't make", 1)[1].split(";")[0]))
        date = next((d for d in dates if d not in ruled_out), dates[0] if dates else "2025-01-01")
        answer: dict[str, Any] = {"date": date}
        table = next((t for p, t in view.texts.items() if "outing_places" in p), "")
        rows = [r.split(",") for r in table.strip().splitlines()[1:]] if table else []
        venues = [r for r in rows if len(r) == 5 and r[1] == "activity venue"]
        lunches = [r for r in rows if len(r) == 5 and r[1] == "lunch place"]
        if "total_cost" in view.objective:
            m = re.search(r"activity at (.+?), then lunch at (.+?), for", view.objective)
            v = next((r for r in venues if m and r[0] == m.group(1)),
                     min(venues, key=lambda r: int(r[3]), default=None))
            lu = next((r for r in lunches if m and r[0] == m.group(2)),
                      min(lunches, key=lambda r: int(r[3]), default=None))
            people = sum(1 for e in view.company.employees if f"({e.handle})" in view.objective)
            if v and lu:
                answer.update(venue=v[0], restaurant=lu[0], total_cost=max(1, people) * (int(v[3]) + int(lu[3])),
                              total_distance=10.0)
        return [ToolCall(name="submit", arguments={"task_id": view.task_id, "answer": answer})]
