"""Shelf stock count: count the boxes of each listed product in a shelf photo and file the reorder.

The counts exist only in the photo (a rendered PNG of a shelf unit: rows of coloured, labelled boxes,
promo signs hiding parts of some boxes, uneven light, grain and a slight tilt). Which products belong to
the aisle and the reorder rule (a threshold, per-product minimums or par levels) are in the aisle's stock
list, which Operations shares on request.
"""

from __future__ import annotations

import random
from typing import Any, ClassVar

from PIL import Image, ImageDraw

from firstday.tasks.checks import SubmissionCheck
from firstday.tasks.family import BaselineView, GenContext, ask, referral, register
from firstday.tasks.library._image_kit import RGB, grain, jitter, text, text_width, tilt
from firstday.tasks.model import Checkpoint, Clue, TaskInstance
from firstday.world.assets import Fact, FileAsset
from firstday.world.images import ImageSpec, register_renderer
from firstday.world.tools import ToolCall

PRODUCTS = (
    "Oat Milk", "Rice Cakes", "Green Tea", "Dark Roast", "Corn Flakes", "Pasta Shells", "Tomato Soup",
    "Olive Oil", "Sea Salt", "Peanut Mix", "Dish Soap", "Hand Wash", "Paper Towels", "Trail Bars", "Lemon Soda",
    "Spring Water", "Rye Crisps", "Choc Chips", "Granola", "Baked Beans", "Tuna Cans", "Herbal Tea", "Coffee Pods",
    "Cat Treats",
)
BOX_COLOURS: tuple[RGB, ...] = (
    (200, 52, 48), (40, 110, 190), (46, 150, 80), (232, 170, 40), (130, 70, 160), (236, 120, 40), (30, 150, 160),
    (150, 100, 60), (210, 80, 140), (90, 90, 100), (120, 170, 50), (60, 60, 150),
)
VARIANTS = ("single_threshold", "per_product_min", "par_level", "two_bays")
KEY_AISLE = "shelf_stock_count:aisle:"
ROW_CAPACITY = 8  # boxes per shelf row (the widest boxes still fit a 700 px photo)


# --- rendering ----------------------------------------------------------------------------------------------
@register_renderer("shelf_stock_count.shelf")
def render_shelf(params: dict[str, Any]) -> Image.Image:
    rng = random.Random(params["seed"])
    w, h = params["width"], params["height"]
    wall: RGB = tuple(params["wall"])
    img = Image.new("RGB", (w, h), wall)
    d = ImageDraw.Draw(img)
    looks: dict[str, dict[str, Any]] = params["looks"]
    rows: list[list[str]] = params["rows"]
    frame: RGB = tuple(params["frame"])
    margin = 26
    row_h = (h - 2 * margin) // len(rows)
    d.rectangle((margin - 14, margin - 10, margin - 4, h - margin + 14), fill=frame)
    d.rectangle((w - margin + 4, margin - 10, w - margin + 14, h - margin + 14), fill=frame)
    for r, row in enumerate(rows):
        base_y = margin + (r + 1) * row_h - 12
        x = margin + rng.randint(0, 10)
        for name in row:
            look = looks[name]
            bw, bh = look["w"] + rng.randint(-2, 2), min(look["h"] + rng.randint(-2, 2), row_h - 22)
            colour = jitter(tuple(look["colour"]), rng, 10)
            y0 = base_y - bh
            d.rectangle((x, y0, x + bw, base_y), fill=colour, outline=jitter((40, 40, 40), rng, 10))
            d.rectangle((x + bw - 5, y0 + 1, x + bw - 1, base_y - 1), fill=tuple(max(0, c - 40) for c in colour))
            # the label band with the product name (two lines), and a barcode under it
            ly = y0 + 6
            d.rectangle((x + 3, ly, x + bw - 7, ly + 30), fill=(246, 244, 236))
            for i, word in enumerate(name.split()[:2]):
                size = look["font"]
                tw = text_width(word, size)
                text(img, (x + 3 + (bw - 10 - tw) / 2, ly + 2 + i * (size + 2)), word, size, (25, 25, 30))
            bx = x + 6
            while bx < x + bw - 10 and ly + 44 < base_y - 4:
                d.line((bx, ly + 35, bx, ly + 44), fill=(30, 30, 30), width=rng.choice((1, 1, 2)))
                bx += rng.choice((2, 3, 4))
            x += bw + rng.randint(2, 7)
        # the shelf plank and its front edge
        d.rectangle((margin - 4, base_y, w - margin + 4, base_y + 12), fill=jitter(frame, rng, 6))
        d.line((margin - 4, base_y + 12, w - margin + 4, base_y + 12), fill=(30, 30, 30), width=1)
    for sign in params["signs"]:  # promo signs hanging over the lower part of some boxes
        sx, sy, sw, sh = sign["box"]
        d.rounded_rectangle((sx, sy, sx + sw, sy + sh), radius=4, fill=tuple(sign["colour"]), outline=(20, 20, 20))
        text(img, (sx + 6, sy + 4), sign["text"], 14, (255, 255, 255), bold=True)
    # uneven light: darker towards one side
    shade = Image.linear_gradient("L").rotate(params["light_angle"]).resize((w, h))
    img = Image.composite(img, Image.new("RGB", (w, h), (0, 0, 0)), shade.point(lambda v: 255 - v // 5))
    img = tilt(img, params["tilt"], wall)
    return grain(img, rng, params["noise"], cell=4)


def _sign_boxes(rows: list[list[str]], looks: dict[str, dict[str, Any]], width: int, height: int,
                n: int, rng: random.Random) -> list[dict[str, Any]]:
    """Promo signs over the lower half of some box positions (never over a label band)."""
    margin = 26
    row_h = (height - 2 * margin) // len(rows)
    out = []
    for _ in range(n):
        r = rng.randrange(len(rows))
        base_y = margin + (r + 1) * row_h - 12
        top = base_y - min(min(looks[p]["h"] for p in rows[r]) if rows[r] else 60, row_h - 22) + 50
        sx = rng.randint(margin + 10, width - margin - 110)
        out.append({"box": [sx, top, rng.randint(70, 100), max(18, base_y - top + 4)],
                    "colour": list(rng.choice(((210, 30, 40), (240, 140, 0), (20, 120, 60)))),
                    "text": rng.choice(("SALE", "-20%", "NEW", "2 FOR 1", "PROMO"))})
    return out


# --- the family ---------------------------------------------------------------------------------------------
@register
class ShelfStockCount:
    name = "shelf_stock_count"
    title = "Shelf stock count"
    description = (
        "Count each listed product's boxes in a shelf photo and file a reorder for those under the "
        "Operations stock list's threshold."
    )
    domains = ("information", "inquiry")
    modalities = ("image", "text", "dialogue")
    variants = VARIANTS
    knobs: ClassVar[dict[str, str]] = {
        "products": "products on the aisle's list: easy 4, medium 6, hard 8",
        "layout": "easy: each product's boxes side by side; medium: a product may sit in two places; hard: boxes "
        "mixed along the rows, two products share a colour (read the labels) and a product not on the list is "
        "on the shelf",
        "occlusion": "promo signs hiding the lower part of boxes: easy 0, medium 1, hard 2-3",
        "rows": "shelf rows: easy 3, medium and hard 4",
        "hops": "stock list: easy a named planner; medium the head of the department; hard the head refers you "
        "to the planner (two hops)",
    }

    def generate(self, ctx: GenContext) -> TaskInstance:
        rng = ctx.rng
        level = {"easy": 0, "medium": 1, "hard": 2}[ctx.difficulty]
        variant = ctx.variant
        n_products = (4, 6, 8)[level]
        names = rng.sample(PRODUCTS, n_products + 1)
        listed, foreign = names[:n_products], names[n_products]
        while True:
            counts = {p: rng.choice((0, 1, 2, 2, 3, 3, 4, 5, 6, 7)) for p in listed}
            if variant == "single_threshold" or variant == "two_bays":
                threshold = rng.randint(2, 4)
                limit = dict.fromkeys(listed, threshold)
            else:
                limit = {p: rng.randint(2, 5) for p in listed}
                if variant == "par_level":
                    limit = {p: rng.randint(4, 8) for p in listed}
            low = sorted(p for p in listed if counts[p] < limit[p])
            room = ROW_CAPACITY * (3 if level == 0 else 4) * (2 if variant == "two_bays" else 1)
            if 0 < len(low) < n_products and sum(counts.values()) + 2 <= room:
                break
        # aisle code: makes the colleague's fact and the paths specific to this task
        while True:
            aisle = f"{rng.choice('ABCDEFGH')}{rng.randint(2, 19)}"
            if KEY_AISLE + aisle not in ctx.used_paths:
                ctx.used_paths.add(KEY_AISLE + aisle)
                break
        colours = rng.sample(BOX_COLOURS, n_products + 1)
        if level == 2:
            colours[1] = colours[0]  # two products in the same packaging colour: read the labels
        looks = {p: {"colour": list(colours[i]), "w": rng.randint(58, 70), "h": rng.randint(64, 92),
                     "font": rng.choice((10, 11))} for i, p in enumerate(names)}
        n_rows = 3 if level == 0 else 4
        bays = ("A", "B") if variant == "two_bays" else ("A",)
        on_shelf = dict(counts)
        if level == 2:
            on_shelf[foreign] = rng.randint(1, 2)
        # split each product's boxes over the bays, then lay each bay's boxes out in rows
        per_bay: dict[str, dict[str, int]] = {b: {} for b in bays}
        for p, c in on_shelf.items():
            first = rng.randint(0, c) if len(bays) == 2 else c
            per_bay["A"][p] = first
            if len(bays) == 2:
                per_bay["B"][p] = c - first
        # a bay holds at most its rows' capacity (the total fits both, as drawn above): boxes over it go to the
        # other bay, the most plentiful product first (a full bay used to loop forever laying out its rows)
        for src, dst in (("A", "B"), ("B", "A")) if len(bays) == 2 else ():
            while sum(per_bay[src].values()) > ROW_CAPACITY * n_rows:
                p = max(sorted(per_bay[src]), key=lambda q: per_bay[src][q])
                per_bay[src][p] -= 1
                per_bay[dst][p] += 1
        images: list[dict[str, Any]] = []
        for b in bays:
            groups = [[p] * c for p, c in per_bay[b].items() if c]
            if level >= 1:  # split some groups in two places
                split: list[list[str]] = []
                for g in groups:
                    if len(g) >= 3 and rng.random() < 0.5:
                        k = rng.randint(1, len(g) - 1)
                        split += [g[:k], g[k:]]
                    else:
                        split.append(g)
                groups = split
            rng.shuffle(groups)
            units = groups
            if level == 2:  # boxes mixed along the rows: runs of one to three boxes
                seq = [p for g in groups for p in g]
                for _ in range(len(seq) // 4):
                    i, j = rng.randrange(len(seq)), rng.randrange(len(seq))
                    seq[i], seq[j] = seq[j], seq[i]
                units = []
                while seq:
                    k = rng.randint(1, 3)
                    units.append(seq[:k])
                    seq = seq[k:]
            width, height = 720 + rng.randint(-20, 20), (470, 560)[min(level, 1)]
            rows: list[list[str]] = [[] for _ in range(n_rows)]
            for unit in units:  # each run onto the emptiest shelf (split only if it does not fit)
                rest = list(unit)
                while rest:
                    r = min(range(n_rows), key=lambda i: (len(rows[i]), i))
                    room = ROW_CAPACITY - len(rows[r])
                    rows[r] += rest[:room]
                    rest = rest[room:]
            if level == 2:
                for row in rows:
                    if rng.random() < 0.3:
                        rng.shuffle(row)
            assert sum(len(x) for x in rows) == sum(per_bay[b].values())
            signs = _sign_boxes(rows, looks, width, height, (0, 1, rng.randint(2, 3))[level], rng)
            images.append({
                "seed": rng.getrandbits(32), "width": width, "height": height, "rows": rows, "looks": looks,
                "signs": signs, "wall": list(jitter(rng.choice(((232, 228, 218), (214, 222, 228), (236, 232, 236))),
                                                      rng, 8)),
                "frame": list(rng.choice(((160, 160, 168), (150, 112, 74), (96, 100, 110)))),
                "light_angle": rng.choice((0, 90, 180, 270)), "tilt": round(rng.uniform(-1.6, 1.6), 2),
                "noise": rng.choice((0.03, 0.05, 0.07)),
                "deciding": [_boxes(p, per_bay[b][p]) for p in listed if per_bay[b].get(p, 0)],
            })

        dept_name = next(d for d in ("Operations", "Procurement", "Finance")
                         if d in [x.name for x in ctx.company.departments])
        dept = ctx.company.department(dept_name)
        head = ctx.company.employee(dept.head)
        others = [x for x in dept.members if x != dept.head]
        planner = ctx.company.employee(rng.choice(others)) if others else head
        holder = head if level == 1 else planner

        tid = ctx.task_id
        folder = "/shared/operations/shelf_photos"
        img_paths = [ctx.path(folder, f"aisle_{aisle.lower()}_bay_{b.lower()}", "png") for b in bays]
        list_path = ctx.path("/shared/operations", f"aisle_{aisle.lower()}_stock_list", "md")
        stock_list = [f"# Stock list, aisle {aisle}", ""]
        if variant in ("single_threshold", "two_bays"):
            stock_list += [f"Reorder every listed product with fewer than {limit[listed[0]]} boxes on the shelf"
                           + (" (count both bays together)." if variant == "two_bays" else "."), "",
                           "Products stocked in this aisle:"]
            stock_list += [f"- {p}" for p in sorted(listed)]
        elif variant == "per_product_min":
            stock_list += ["Reorder a listed product when it has fewer boxes on the shelf than its minimum.", "",
                           "| product | minimum boxes |", "|---|---|"]
            stock_list += [f"| {p} | {limit[p]} |" for p in sorted(listed)]
        else:
            stock_list += ["Reorder a listed product when it has fewer boxes on the shelf than its par level; "
                           "order the difference (par level minus boxes on the shelf).", "",
                           "| product | par level |", "|---|---|"]
            stock_list += [f"| {p} | {limit[p]} |" for p in sorted(listed)]
        stock_list += ["", "Products not on this list are stocked by another team: do not count or order them."]

        quantities = {p: limit[p] - counts[p] for p in low}
        answer: dict[str, Any] = {"counts": counts, "reorder": low}
        if variant == "par_level":
            answer["quantities"] = quantities
        list_clue, board = f"{tid}-list", f"{tid}-photo"
        words = ["stock list", "stock", "reorder", "threshold", "shelf", "aisle", "par level", "minimum"]
        facts = [Fact(fact_id=f"{tid}-list", holder=holder.handle, topic=f"stock list of aisle {aisle}",
                      keywords=words, require_any=[aisle, f"aisle {aisle}"],
                      reply=f"Here is the stock list for aisle {aisle}: {list_path}",
                      clue_ids=[f"{tid}-holder"], shares_files=[list_path])]
        clues = [
            Clue(clue_id=board, description="how many boxes of each product are on the shelf", location="image",
                 where=", ".join(img_paths)),
            Clue(clue_id=list_clue, description="the aisle's products and reorder rule", location="file",
                 where=f"{list_path}, shared by {holder.handle}", hops=2 if level == 2 else 1),
            Clue(clue_id=f"{tid}-holder", description="the stock list is shared on request", location="colleague",
                 where=f"ask {holder.handle}"),
        ]
        plan: list[ToolCall] = [ToolCall(name="read_file", arguments={"path": p}) for p in img_paths]
        if level == 2:
            referral(f"{tid}-referral", head, f"head of {dept_name}", topic=f"who keeps aisle {aisle}'s list",
                     keywords=words, require_any=[aisle, f"aisle {aisle}"], description="who keeps the stock list",
                     reply=f"{planner.name} ({planner.handle}) plans the stock for aisle {aisle}; "
                           "ask them for the stock list.",
                     question=f"Hi! Who keeps the stock list for aisle {aisle}?").add_to(facts, clues, plan)
        plan += [
            *ask(holder.handle, f"Hello, could you share the stock list for aisle {aisle}?"),
            ToolCall(name="read_file", arguments={"path": list_path}),
            ToolCall(name="submit", arguments={"task_id": tid, "answer": answer}),
        ]
        where = {0: f"{holder.name} ({holder.handle}) in {dept_name} has the aisle's stock list.",
                 1: f"The {dept_name} team has the aisle's stock list.",
                 2: f"{dept_name} keeps the aisle's stock list."}[level]
        photos = " and ".join(img_paths)
        fmt = '{"counts": {"<product>": <boxes>, ...}, "reorder": ["<product>", ...]'
        if variant == "par_level":
            fmt += ', "quantities": {"<product>": <boxes to order>, ...}'
        objective = (
            f"Stock check for aisle {aisle}: count the boxes of every product on the aisle's stock list in the "
            f"shelf photo{'s' if len(img_paths) > 1 else ''} ({photos}) and file a reorder for the products the "
            f"list's rule says to reorder. {where} Submit {fmt}}} with a count for every listed product."
        )
        checkpoints = [
            Checkpoint(cp_id=f"count-{i + 1}", description=f"boxes of {p}", weight=0.5, clue_ids=[board, list_clue],
                       check=SubmissionCheck(field=f"counts.{p}", expected=f"counts.{p}", compare="number_close"),
                       feedback="Count the boxes in the shelf photo; the stock list says which products to count.")
            for i, p in enumerate(sorted(listed))
        ]
        checkpoints.append(Checkpoint(
            cp_id="reorder", description="the products to reorder", weight=2, clue_ids=[board, list_clue],
            check=SubmissionCheck(field="reorder", expected="reorder", compare="set_equals"),
            feedback="Compare each count with the rule in the aisle's stock list."))
        answers: dict[str, Any] = {f"counts.{p}": counts[p] for p in listed}
        answers["reorder"] = low
        if variant == "par_level":
            for i, p in enumerate(low):
                checkpoints.append(Checkpoint(
                    cp_id=f"quantity-{i + 1}", description=f"boxes of {p} to order", weight=0.5,
                    clue_ids=[board, list_clue],
                    check=SubmissionCheck(field=f"quantities.{p}", expected=f"quantities.{p}",
                                          compare="number_close"),
                    feedback="The stock list's par levels say how many boxes to order."))
                answers[f"quantities.{p}"] = quantities[p]
        files = [
            FileAsset(path=path, media_type="image/png", clue_ids=[board],
                      render=ImageSpec(renderer="shelf_stock_count.shelf", params=spec),
                      text_alternative=_alternative(aisle, bay, spec))
            for path, bay, spec in zip(img_paths, bays, images, strict=True)
        ]
        files.append(FileAsset(path=list_path, content="\n".join(stock_list) + "\n", media_type="text/markdown",
                               hidden=True, clue_ids=[list_clue]))
        return ctx.instance(
            self, objective=objective, files=files, facts=facts, clues=clues, checkpoints=checkpoints, solution=plan,
            answers=answers)

    def baseline(self, view: BaselineView) -> list[ToolCall]:
        """Without vision: the listed products (if the list was shared) with a guessed count of 2 each."""
        listing = next((t for p, t in view.texts.items() if p.endswith("_stock_list.md")), "")
        products = [ln[2:].strip() for ln in listing.splitlines() if ln.startswith("- ")]
        products += [ln.split("|")[1].strip() for ln in listing.splitlines()
                     if ln.startswith("| ") and not ln.startswith("| product")]
        counts = dict.fromkeys(products, 2)
        answer: dict[str, Any] = {"counts": counts, "reorder": products[:1]}
        return [ToolCall(name="submit", arguments={"task_id": view.task_id, "answer": answer})]


def _boxes(product: str, n: int) -> str:
    return f"{product}: {n} box{'' if n == 1 else 'es'}"


def _alternative(aisle: str, bay: str, spec: dict[str, Any]) -> str:
    lines = [f"Photo of aisle {aisle}, bay {bay}: a shelf unit with {len(spec['rows'])} shelves of boxes, each "
             "box labelled with its product name."]
    for i, row in enumerate(spec["rows"]):
        runs: list[list[Any]] = []
        for p in row:
            if runs and runs[-1][0] == p:
                runs[-1][1] += 1
            else:
                runs.append([p, 1])
        lines.append(f"Shelf {i + 1} (from the top), left to right: "
                     + (", ".join(f"{p} x{n}" for p, n in runs) or "empty"))
    if spec["signs"]:
        lines.append(f"{len(spec['signs'])} promo sign(s) hang in front of the lower part of some boxes.")
    totals: dict[str, int] = {}
    for row in spec["rows"]:
        for p in row:
            totals[p] = totals.get(p, 0) + 1
    lines.append("Boxes in this photo: " + "; ".join(_boxes(p, n) for p, n in sorted(totals.items())))
    return "\n".join(lines)
