"""Route planning: plan the shortest delivery route through given stops on a road map image.

The road network and every road's length exist only in the map (a rendered PNG: places, roads with
distance labels, closed roads marked with a red cross). The stops come from the objective or the
delivery manifest; the ground truth is the exact optimum over all visiting orders (shortest paths between
places by Dijkstra), and instances are redrawn until that optimum is unique.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from typing import Any, ClassVar

from PIL import Image, ImageDraw

from firstday.tasks.checks import SubmissionCheck
from firstday.tasks.family import BaselineView, GenContext, ask, register
from firstday.tasks.library._image_kit import RGB, grain, text, text_width
from firstday.tasks.model import Checkpoint, Clue, TaskInstance
from firstday.world.assets import Fact, FileAsset
from firstday.world.images import ImageSpec, register_renderer
from firstday.world.tools import ToolCall

PLACES = (
    "Oakridge", "Millbrook", "Harbour Point", "Elm Cross", "Stonebridge", "Westfield", "Kingsmoor", "Ashford",
    "Brookside", "Fernhill", "Lakeview", "Redcliff", "Northgate", "Pine Hollow", "Greywater", "Sunnybank",
    "Old Mill", "Riverside", "Thornbury", "Copper Lane",
)
VARIANTS = ("open_path", "fixed_end", "road_closures")
W, H = 760, 540
KEY_VAN = "route_planning:van:"

Edge = tuple[int, int]


def _crosses(p1: tuple[float, float], p2: tuple[float, float], p3: tuple[float, float],
             p4: tuple[float, float]) -> bool:
    def orient(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> float:
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])

    if {p1, p2} & {p3, p4}:
        return False
    d1, d2 = orient(p3, p4, p1), orient(p3, p4, p2)
    d3, d4 = orient(p1, p2, p3), orient(p1, p2, p4)
    return d1 * d2 < 0 and d3 * d4 < 0


def _seg_dist(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    dx, dy = b[0] - a[0], b[1] - a[1]
    t = max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy)))
    return math.dist(p, (a[0] + t * dx, a[1] + t * dy))


def _graph(rng: random.Random, n: int) -> tuple[list[tuple[float, float]], dict[Edge, int]]:
    """Places spread over the canvas and non-crossing roads (a spanning tree plus near neighbours)."""
    pts: list[tuple[float, float]] = []
    while len(pts) < n:
        p = (rng.uniform(70, W - 90), rng.uniform(70, H - 60))
        if all(math.dist(p, q) > 105 for q in pts):
            pts.append(p)
    cand = sorted((math.dist(pts[i], pts[j]), i, j) for i in range(n) for j in range(i + 1, n))
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    chosen: list[Edge] = []

    def ok(i: int, j: int) -> bool:
        # no crossing roads, and no road brushing past a third place (it would look like it passes through)
        return not any(_crosses(pts[i], pts[j], pts[a], pts[b]) for a, b in chosen) and all(
            _seg_dist(pts[m], pts[i], pts[j]) > 30 for m in range(n) if m not in (i, j))

    for _, i, j in cand:  # Kruskal: connected
        if find(i) != find(j) and ok(i, j):
            parent[find(i)] = find(j)
            chosen.append((i, j))
    for dist, i, j in cand:  # extra roads between near places
        if (i, j) not in chosen and dist < 260 and ok(i, j) and rng.random() < 0.6:
            chosen.append((i, j))
    # road lengths: straight-line distance with a detour factor, so the labels (not the picture) decide
    return pts, {e: max(2, round(math.dist(pts[e[0]], pts[e[1]]) / 22 * rng.uniform(1.0, 1.45))) for e in chosen}


def _shortest(n: int, roads: dict[Edge, int], src: int) -> list[float]:
    adj: dict[int, list[tuple[int, int]]] = {i: [] for i in range(n)}
    for (a, b), w in roads.items():
        adj[a].append((b, w))
        adj[b].append((a, w))
    dist = [math.inf] * n
    dist[src] = 0
    heap = [(0.0, src)]
    while heap:
        d, u = heapq.heappop(heap)
        if d > dist[u]:
            continue
        for v, w in adj[u]:
            if d + w < dist[v]:
                dist[v] = d + w
                heapq.heappush(heap, (d + w, v))
    return dist


def best_routes(n: int, roads: dict[Edge, int], start: int, stops: list[int], end: int | None
                ) -> list[tuple[float, tuple[int, ...]]]:
    """Every visiting order of ``stops`` from ``start`` (ending at ``end`` if given), shortest first."""
    dist = {s: _shortest(n, roads, s) for s in [start, *stops]}
    out = []
    for order in itertools.permutations(stops):
        total = dist[start][order[0]] + sum(dist[a][b] for a, b in itertools.pairwise(order))
        if end is not None:
            total += dist[order[-1]][end]
        out.append((total, order))
    return sorted(out)


# --- rendering ----------------------------------------------------------------------------------------------
PALETTES: tuple[dict[str, RGB], ...] = (
    {"bg": (238, 234, 222), "road": (160, 150, 130), "inner": (252, 250, 244), "park": (206, 226, 190),
     "water": (190, 214, 236), "text": (40, 40, 44)},
    {"bg": (242, 243, 245), "road": (150, 156, 168), "inner": (255, 214, 120), "park": (214, 234, 210),
     "water": (198, 222, 244), "text": (30, 34, 40)},
    {"bg": (226, 232, 222), "road": (120, 126, 120), "inner": (250, 250, 250), "park": (190, 216, 176),
     "water": (176, 204, 230), "text": (36, 40, 36)},
)


@register_renderer("route_planning.map")
def render_map(params: dict[str, Any]) -> Image.Image:
    rng = random.Random(params["seed"])
    pal = PALETTES[params["palette"]]
    img = Image.new("RGB", (W, H), pal["bg"])
    d = ImageDraw.Draw(img)
    for _ in range(params["blobs"]):  # parks and ponds, for realism only
        x, y, r = rng.uniform(0, W), rng.uniform(0, H), rng.uniform(30, 80)
        d.ellipse((x - r, y - r * 0.7, x + r, y + r * 0.7), fill=pal[rng.choice(("park", "water"))])
    pts = [tuple(p) for p in params["points"]]
    for a, b, _, closed in params["roads"]:
        d.line((pts[a], pts[b]), fill=pal["road"], width=9)
        d.line((pts[a], pts[b]), fill=(235, 200, 200) if closed else pal["inner"], width=5)
    taken: list[tuple[float, float, float, float]] = []
    for a, b, _, closed in params["roads"]:
        if closed:  # a red cross a third of the way along, with its word beside it (under the length labels)
            ox, oy = pts[a][0] + (pts[b][0] - pts[a][0]) * 0.3, pts[a][1] + (pts[b][1] - pts[a][1]) * 0.3
            d.line((ox - 8, oy - 8, ox + 8, oy + 8), fill=(210, 30, 30), width=4)
            d.line((ox - 8, oy + 8, ox + 8, oy - 8), fill=(210, 30, 30), width=4)
            text(img, (ox + 10, oy - 6), "CLOSED", 10, (190, 20, 20), bold=True)
            taken.append((ox - 9, oy - 9, ox + 60, oy + 9))
    for a, b, km, _ in params["roads"]:
        mx, my = (pts[a][0] + pts[b][0]) / 2, (pts[a][1] + pts[b][1]) / 2
        label = f"{km} km"
        tw = text_width(label, 12)
        d.rounded_rectangle((mx - tw / 2 - 4, my - 9, mx + tw / 2 + 4, my + 9), radius=4, fill=(255, 255, 255),
                            outline=pal["road"])
        text(img, (mx - tw / 2, my - 8), label, 12, pal["text"])
        taken.append((mx - tw / 2 - 4, my - 9, mx + tw / 2 + 4, my + 9))
    size: int = params["label_size"]
    for i, (name, role) in enumerate(zip(params["names"], params["roles"], strict=True)):
        x, y = float(pts[i][0]), float(pts[i][1])
        if role in ("depot", "end"):
            d.rectangle((x - 10, y - 10, x + 10, y + 10), fill=(40, 60, 140) if role == "depot" else (120, 40, 120),
                        outline=(255, 255, 255), width=2)
        else:
            d.ellipse((x - 7, y - 7, x + 7, y + 7), fill=(220, 90, 50), outline=(255, 255, 255), width=2)
        tw = text_width(name, size) + (len(name) if role in ("depot", "end") else 0)
        spots = [(x + 12, y - size - 8), (x + 12, y + 6), (x - 12 - tw, y - size - 8), (x - 12 - tw, y + 6),
                 (x - tw / 2, y - size - 18), (x - tw / 2, y + 12)]
        if not params["label_above"][i]:
            spots = [spots[1], spots[0], spots[3], spots[2], spots[5], spots[4]]

        def clash(lx: float, ly: float, tw: float = tw) -> float:
            box = (lx - 2, ly, lx + tw + 3, ly + size + 5)
            off = max(0.0, -box[0]) + max(0.0, box[2] - W) + max(0.0, -box[1]) + max(0.0, box[3] - H + 30)
            hits = sum(1 for t in taken if box[0] < t[2] and t[0] < box[2] and box[1] < t[3] and t[1] < box[3])
            return float(hits + off)

        lx, ly = min(spots, key=lambda sp: clash(*sp))
        taken.append((lx - 2, ly, lx + tw + 3, ly + size + 5))
        d.rectangle((lx - 2, ly, lx + tw + 3, ly + size + 4), fill=pal["bg"])
        text(img, (lx, ly), name, size, pal["text"], bold=role in ("depot", "end"))
    text(img, (14, H - 24), params["caption"], 12, pal["text"])
    d.line((W - 120, H - 18, W - 20, H - 18), fill=pal["text"], width=2)
    text(img, (W - 118, H - 34), "not to scale", 11, pal["text"])
    return grain(img, rng, params["noise"], cell=4)


# --- the family ---------------------------------------------------------------------------------------------
@register
class RoutePlanning:
    name = "route_planning"
    title = "Route planning"
    description = "Plan the shortest delivery route through the day's stops on a road map (image)."
    domains = ("strategy",)
    modalities = ("image", "text", "dialogue")
    variants = VARIANTS
    knobs: ClassVar[dict[str, str]] = {
        "places": "places on the map: easy 7, medium 9, hard 11",
        "stops": "stops to visit: easy 3, medium 4, hard 5 (hard: plus a cancelled stop in the manifest)",
        "closures": "road_closures: closed roads, each on the best route of the map without closures: easy 1, "
        "medium and hard 2",
        "manifest": "easy: the stops are in the objective; medium: in a named manifest file with a cancelled stop; "
        "hard: the manifest is hidden and shared by the dispatcher (ask the department)",
    }

    def generate(self, ctx: GenContext) -> TaskInstance:
        rng = ctx.rng
        level = {"easy": 0, "medium": 1, "hard": 2}[ctx.difficulty]
        variant = ctx.variant
        n, k = (7, 9, 11)[level], (3, 4, 5)[level]
        while True:
            pts, roads = _graph(rng, n)
            names = rng.sample(PLACES, n)
            depot = 0
            end = 1 if variant == "fixed_end" else None
            pool = [i for i in range(n) if i not in (depot, end)]
            stops = rng.sample(pool, k)
            closed: list[Edge] = []
            if variant == "road_closures":
                open_best = best_routes(n, roads, depot, stops, end)[0][1]
                used = _path_edges(n, roads, [depot, *open_best])
                rng.shuffle(used)
                for e in used[: (1, 2, 2)[level]]:
                    trial = {x: w for x, w in roads.items() if x != e and x not in closed}
                    if all(math.isfinite(v) for v in _shortest(n, trial, depot)):
                        closed.append(e)
                if not closed:
                    continue
            usable = {e: w for e, w in roads.items() if e not in closed}
            ranked = best_routes(n, usable, depot, stops, end)
            if len(ranked) > 1 and ranked[1][0] - ranked[0][0] >= 1 and math.isfinite(ranked[0][0]):
                break
        total, order = ranked[0]
        route = [names[i] for i in order]
        while True:
            van = f"V{rng.randint(10, 99)}"
            if KEY_VAN + van not in ctx.used_paths:
                ctx.used_paths.add(KEY_VAN + van)
                break
        roles = ["depot" if i == depot else "end" if i == end else "place" for i in range(n)]
        names[depot] = "Depot"
        if end is not None:
            names[end] = "Yard"
        road_list = [[a, b, w, (a, b) in closed] for (a, b), w in sorted(roads.items())]
        deciding = [f"{names[a]} - {names[b]}: {w} km" for a, b, w, _ in road_list]
        params: dict[str, Any] = {
            "seed": rng.getrandbits(32), "palette": rng.randrange(len(PALETTES)), "points": [list(p) for p in pts],
            "roads": road_list, "names": names, "roles": roles, "blobs": rng.randint(2, 5),
            "label_size": rng.choice((12, 13, 14)), "label_above": [rng.random() < 0.5 for _ in range(n)],
            "caption": rng.choice(("Delivery area - road map", "Service area map", "Courier map, north district")),
            "noise": rng.choice((0.0, 0.02, 0.04)), "deciding": deciding,
        }
        alt = [f"Road map '{params['caption']}': places and the roads between them with their lengths. "
               "Depot is the start" + (", Yard the end point." if end is not None else ".")]
        alt += [f"- {names[a]} - {names[b]}: {w} km" + (" (CLOSED)" if c else "") for a, b, w, c in road_list]

        tid = ctx.task_id
        map_path = ctx.path("/shared/logistics/maps", f"van_{van.lower()}_area", "png")
        stop_names = sorted(names[i] for i in stops)
        cancelled = rng.choice([names[i] for i in pool if i not in stops]) if level >= 1 else None
        files = [FileAsset(path=map_path, media_type="image/png", clue_ids=[f"{tid}-map"],
                           render=ImageSpec(renderer="route_planning.map", params=params),
                           text_alternative="\n".join(alt))]
        clues = [Clue(clue_id=f"{tid}-map", description="the roads, their lengths and closures", location="image",
                      where=map_path)]
        facts: list[Fact] = []
        plan: list[ToolCall] = [ToolCall(name="read_file", arguments={"path": map_path})]
        stop_clues: list[str] = []
        if level == 0:
            where = f"The stops are: {', '.join(stop_names)}."
        else:
            manifest_path = ctx.path("/shared/logistics", f"manifest_van_{van.lower()}", "md")
            lines = [f"# Delivery manifest, van {van}", "", "| stop | status |", "|---|---|"]
            rows = [(s, "to deliver") for s in stop_names] + [(str(cancelled), "cancelled by customer")]
            rows.sort()
            lines += [f"| {s} | {st} |" for s, st in rows]
            files.append(FileAsset(path=manifest_path, content="\n".join(lines) + "\n", media_type="text/markdown",
                                   hidden=level == 2, clue_ids=[f"{tid}-manifest"]))
            clues.append(Clue(clue_id=f"{tid}-manifest", description="the stops still to deliver", location="file",
                              where=manifest_path, hops=2 if level == 2 else 1))
            stop_clues.append(f"{tid}-manifest")
            if level == 2:
                dept_name = next(x for x in ("Operations", "Procurement", "Facilities", "Finance")
                                 if x in [d.name for d in ctx.company.departments])
                dept = ctx.company.department(dept_name)
                others = [x for x in dept.members if x != dept.head]
                holder = ctx.company.employee(rng.choice(others) if others else dept.head)
                facts.append(Fact(
                    fact_id=f"{tid}-manifest", holder=holder.handle, topic=f"manifest of van {van}",
                    keywords=["manifest", "delivery", "stops", "van", "route"], require_any=[van],
                    reply=f"Here is van {van}'s delivery manifest: {manifest_path}", clue_ids=[f"{tid}-holder"],
                    shares_files=[manifest_path]))
                clues.append(Clue(clue_id=f"{tid}-holder", description="the manifest is shared on request",
                                  location="colleague", where=f"ask {holder.handle}"))
                plan += ask(holder.handle, f"Hello, could you share the delivery manifest for van {van}?")
                where = f"The stops are in van {van}'s delivery manifest; {dept_name} dispatches the vans."
            else:
                where = f"The stops are in the delivery manifest {manifest_path}."
            plan.append(ToolCall(name="read_file", arguments={"path": manifest_path}))
        plan.append(ToolCall(name="submit", arguments={"task_id": tid, "answer": {"route": route,
                                                                                    "distance": int(total)}}))
        ending = "end at the Yard" if end is not None else "end at the last stop"
        closures = " Closed roads cannot be used." if variant == "road_closures" else ""
        objective = (
            f"Plan van {van}'s delivery route on the map {map_path}: start at the Depot, visit every stop that "
            f"still has to be delivered exactly once, and {ending}, with the shortest total distance (roads may be "
            f"driven through other places).{closures} {where} Submit "
            '{"route": ["<stop>", ...], "distance": <km>} listing the stops in visiting order (without the Depot'
            + (" and the Yard" if end is not None else "") + ")."
        )
        checkpoints = [
            Checkpoint(cp_id="route", description="the stops in the optimal order", weight=2,
                       clue_ids=[f"{tid}-map", *stop_clues],
                       check=SubmissionCheck(field="route", expected="route"),
                       feedback="Read every road's length on the map and compare the possible visiting orders."),
            Checkpoint(cp_id="distance", description="the total distance of the optimal route",
                       clue_ids=[f"{tid}-map", *stop_clues],
                       check=SubmissionCheck(field="distance", expected="distance", compare="number_close"),
                       feedback="Add up the road lengths along the route (the labels on the map)."),
        ]
        return ctx.instance(
            self, objective=objective, files=files, facts=facts, clues=clues, checkpoints=checkpoints, solution=plan,
            answers={"route": route, "distance": int(total)})

    def baseline(self, view: BaselineView) -> list[ToolCall]:
        """Without the map: the stops it knows of, alphabetically, and a guessed distance."""
        stops: list[str] = []
        if "The stops are: " in view.objective:
            stops = view.objective.split("The stops are: ", 1)[1].split(".", 1)[0].split(", ")
        for t in view.texts.values():
            stops += [ln.split("|")[1].strip() for ln in t.splitlines() if "| to deliver |" in ln]
        return [ToolCall(name="submit", arguments={"task_id": view.task_id, "answer": {
            "route": sorted(stops), "distance": 10 * max(1, len(stops))}})]


def _path_edges(n: int, roads: dict[Edge, int], waypoints: list[int]) -> list[Edge]:
    """The roads along shortest paths between consecutive waypoints."""
    adj: dict[int, list[tuple[int, int]]] = {i: [] for i in range(n)}
    for (a, b), w in roads.items():
        adj[a].append((b, w))
        adj[b].append((a, w))
    out: list[Edge] = []
    for s, t in itertools.pairwise(waypoints):
        dist = _shortest(n, roads, t)
        u = s
        while u != t:
            v = min((v for v, w in adj[u] if dist[v] + w == dist[u]), default=None)
            if v is None:
                break
            e = (min(u, v), max(u, v))
            if e not in out:
                out.append(e)
            u = v
    return out
