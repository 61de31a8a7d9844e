"""Receipt audit: check a colleague's scanned receipts against the expense policy held by Finance.

The receipts exist only as scans (PNG images: slightly rotated, noisy, in varied layouts and fonts); the
receipt numbers, dates, items, totals and VAT numbers that decide the answer are drawn in the images
and appear in no text. The policy (which rules are in force, their ids and limits) is a hidden file that
a Finance colleague shares on request. The ground truth is computed from the generated receipts with
the same predicates the policy states; every rule in force has at least one violator by construction,
near misses and patterns of rules that are not in force are distractors on medium and hard.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from PIL import Image, ImageDraw

from firstday.tasks.checks import SubmissionCheck
from firstday.tasks.family import BaselineView, GenContext, ask, referral, register
from firstday.tasks.library._image_kit import add_noise, fit, font, freetype_width, jitter, rotate, speckle
from firstday.tasks.model import Checkpoint, Clue, TaskInstance
from firstday.world.assets import Fact, FileAsset
from firstday.world.images import ImageSpec, register_renderer
from firstday.world.tools import ToolCall

RENDERER = "receipt_audit.receipt"
VARIANTS = ("over_limit", "alcohol", "vat_number", "weekend")
CATEGORIES = ("meal", "taxi", "hotel", "train", "supplies")
KIND_LINE = {"meal": "Restaurant & Bar", "taxi": "Taxi service", "hotel": "Hotel", "train": "Rail tickets",
             "supplies": "Stationery & office supplies"}
MERCHANTS = {
    "meal": ("Trattoria Roma", "The Copper Kettle", "Bistro Lumiere", "Green Fork", "Harbour Grill", "Casa Nova",
             "The Olive Tree", "Noodle House"),
    "taxi": ("City Cabs", "Blue Line Taxi", "Metro Cars", "Yellow Star Taxi", "Airport Express Cars"),
    "hotel": ("Hotel Meridian", "Parkside Inn", "Grand Central Hotel", "Riverside Lodge", "Hotel Aurora"),
    "train": ("National Rail", "Intercity Rail", "Coastline Trains", "Northern Express"),
    "supplies": ("Office World", "Paper & Pen", "Desk Depot", "Stationery Box"),
}
STREETS = ("High Street", "Station Road", "Market Square", "King's Road", "Mill Lane", "Harbour Way", "Park Avenue")
# (item, low cents, high cents); the first item of a non-meal category carries most of the total
ITEMS = {
    "meal": (("Soup of the day", 500, 900), ("Caesar salad", 800, 1300), ("Grilled salmon", 1500, 2400),
             ("Pasta carbonara", 1100, 1600), ("Club sandwich", 700, 1200), ("Burger and fries", 1200, 1700),
             ("Espresso", 200, 400), ("Sparkling water", 200, 500), ("Lemonade", 300, 500),
             ("Cheesecake", 500, 800)),
    "taxi": (("Fare", 0, 0), ("Waiting time", 200, 600), ("Booking fee", 100, 300)),
    "hotel": (("Room, 1 night", 0, 0), ("Breakfast", 1200, 2000), ("City tax", 200, 500)),
    "train": (("Standard return", 0, 0), ("Seat reservation", 300, 600)),
    "supplies": (("Printer paper A4", 0, 0), ("Notebooks", 300, 900), ("Whiteboard markers", 400, 900),
                 ("Sticky notes", 200, 500)),
}
ALCOHOL = (("House red wine", 600, 900), ("Glass of prosecco", 700, 1000), ("Pint of lager", 500, 700),
           ("Bottle of beer", 400, 700), ("Gin and tonic", 800, 1100), ("Glass of white wine", 600, 900))
SOFT_LOOKALIKES = (("Ginger beer", 300, 500), ("Alcohol-free beer", 400, 600))
LIMIT_CHOICES = {"meal": (4500, 6000, 7500), "taxi": (3500, 5000, 6000), "hotel": (14000, 16000, 19000),
                 "train": (9000, 12000, 15000), "supplies": (5000, 7500, 10000)}
LEVELS = {"easy": 0, "medium": 1, "hard": 2}


@dataclass
class Receipt:
    number: str
    category: str
    merchant: str
    address: str
    date: dt.date
    time: str
    items: list[tuple[str, int, int]] = field(default_factory=list)  # (name, qty, unit cents)
    vat_rate: int = 20
    vat_number: str | None = None
    card: str = "0000"
    date_style: int = 0

    @property
    def total(self) -> int:
        return sum(q * c for _, q, c in self.items)

    def date_text(self) -> str:
        if self.date_style == 0:
            return self.date.isoformat()
        if self.date_style == 1:
            return self.date.strftime("%d %b %Y")
        return self.date.strftime("%b %d, %Y")


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


@dataclass(frozen=True)
class Rule:
    key: str
    title: str
    text: str
    test: Callable[[Receipt], bool]


def _rules(limits: dict[str, int], vat_threshold: int, level: int) -> dict[str, Rule]:
    alcohol_names = {a for a, _, _ in ALCOHOL}
    limit_text = ", ".join(f"{c} {money(v).removesuffix('.00')}" for c, v in limits.items())
    soft = " Soft drinks are fine, including ginger beer and alcohol-free beer." if level == 2 else ""
    return {
        "over_limit": Rule("over_limit", "Over the limit",
                           f"The receipt's total is above the limit for its category (EUR): {limit_text}. "
                           "The category is what the merchant is: a restaurant or bar is a meal, a taxi firm is a "
                           "taxi, a hotel is a hotel, a rail company is train travel, a stationer is supplies.",
                           lambda r: r.total > limits[r.category]),
        "alcohol": Rule("alcohol", "Alcohol",
                        "The receipt includes an alcoholic drink (wine, beer, lager, prosecco, cider, spirits "
                        "or cocktails): alcohol is never reimbursed." + soft,
                        lambda r: any(n in alcohol_names for n, _, _ in r.items)),
        "vat_number": Rule("vat_number", "Missing VAT number",
                           f"The receipt's total is EUR {money(vat_threshold).removesuffix('.00')} or more and the "
                           "receipt does not show the supplier's VAT number.",
                           lambda r: r.total >= vat_threshold and r.vat_number is None),
        "weekend": Rule("weekend", "Weekend expense",
                        "The receipt is dated on a Saturday or a Sunday (look the date up: receipts do not print "
                        "the weekday).",
                        lambda r: r.date.weekday() >= 5),
    }


def _vat_number(rng: random.Random) -> str:
    cc = rng.choice(("GB", "DE", "FR", "NL", "IE", "ES"))
    digits = "".join(str(rng.randrange(10)) for _ in range(9))
    return f"{cc} {digits[:3]} {digits[3:7]} {digits[7:]}" if cc == "GB" else f"{cc}{digits}"


def _fill_items(rng: random.Random, r: Receipt, target: int) -> None:
    """Items whose total is exactly ``target`` cents (the main item or a meal's last dish absorbs the rest)."""
    cat = r.category
    if cat == "meal":
        dishes = list(ITEMS["meal"])
        rng.shuffle(dishes)
        picked: list[tuple[str, int, int]] = []
        for name, lo, hi in dishes:
            price = rng.randint(lo // 10, hi // 10) * 10
            qty = 1 if rng.random() < 0.75 else 2
            if sum(q * c for _, q, c in picked) + qty * price > target - 300:
                continue
            picked.append((name, qty, price))
            if len(picked) >= 4:
                break
        rest = target - sum(q * c for _, q, c in picked)
        unpicked = [d for d in dishes if d[0] not in {p[0] for p in picked}] or dishes
        main = min(unpicked, key=lambda d: abs((d[1] + d[2]) // 2 - rest))
        picked.append((main[0], 1, rest))
        rng.shuffle(picked)
        r.items = picked
        return
    main, *extras = ITEMS[cat]
    items: list[tuple[str, int, int]] = []
    for name, lo, hi in extras:
        if rng.random() < 0.6:
            items.append((name, 1, rng.randint(lo // 10, hi // 10) * 10))
    extra = sum(c for _, _, c in items)
    if target - extra < target // 2:
        items = []
        extra = 0
    r.items = [(main[0], 1, target - extra), *items]


def _with_item(rng: random.Random, r: Receipt, pick: tuple[str, int, int]) -> None:
    """Add ``pick`` to a meal receipt, taking its price off the largest dish (so the total is unchanged)."""
    name, lo, hi = pick
    price = rng.randint(lo // 10, hi // 10) * 10
    i = max(range(len(r.items)), key=lambda k: r.items[k][1] * r.items[k][2])
    n, q, c = r.items[i]
    if c - price >= 300:
        r.items[i] = (n, q, c - price)
    r.items.insert(rng.randrange(len(r.items) + 1), (name, 1, price))


@register
class ReceiptAudit:
    name = "receipt_audit"
    title = "Receipt audit"
    description = ("Audit a colleague's scanned receipts (images only) against the expense policy that Finance "
                   "shares on request, and report the receipts breaking each rule.")
    domains = ("information",)
    modalities = ("image", "text", "dialogue")
    variants = VARIANTS
    knobs: ClassVar[dict[str, str]] = {
        "rules": "rules in the policy: easy 1, medium 2, hard 3 (the variant's rule is always R1)",
        "receipts": "scanned receipts in the claim: easy 4, medium 6, hard 8",
        "hops": "easy: the policy holder is named; medium: ask the head of Finance; hard: the head of Finance "
                "refers you to the colleague who maintains the policy (two hops)",
        "distractors": "medium and hard add near misses (just under a limit, no VAT number under the threshold, "
                       "a Friday or Monday) and receipts breaking rules that are not in force; hard adds soft "
                       "drinks that look like alcohol (ginger beer, alcohol-free beer)",
        "scan": "rotation and noise grow with difficulty (easy up to 1.5 degrees, hard up to 4)",
    }

    def generate(self, ctx: GenContext) -> TaskInstance:
        rng = ctx.rng
        level = LEVELS[ctx.difficulty]
        tid = ctx.task_id
        limits = {c: rng.choice(v) for c, v in LIMIT_CHOICES.items()}
        vat_threshold = rng.choice((2000, 2500, 3000))
        rules = _rules(limits, vat_threshold, level)
        active = [ctx.variant, *rng.sample([r for r in VARIANTS if r != ctx.variant], level)]
        inactive = [r for r in VARIANTS if r not in active]
        n = (4, 6, 8)[level]
        month = rng.randint(1, 11)
        days = [dt.date(2025, month, 1) + dt.timedelta(days=i) for i in range(28)]
        weekdays = [d for d in days if d.weekday() < 5]
        weekends = [d for d in days if d.weekday() >= 5]
        near_weekend = [d for d in days if d.weekday() in (0, 4)]

        numbers: list[str] = []
        while len(numbers) < n:
            num = str(rng.randint(100000, 999999))
            if num not in numbers:
                numbers.append(num)
        cats = ["meal", "meal", *rng.choices(CATEGORIES, k=n - 2)]
        rng.shuffle(cats)
        receipts: list[Receipt] = []
        for num, cat in zip(numbers, cats, strict=True):
            r = Receipt(number=num, category=cat, merchant=rng.choice(MERCHANTS[cat]),
                        address=f"{rng.randint(1, 180)} {rng.choice(STREETS)}", date=rng.choice(weekdays),
                        time=f"{rng.randint(7, 22):02d}:{rng.randrange(60):02d}",
                        vat_rate=rng.choice((10, 20)) if cat == "meal" else 20, vat_number=_vat_number(rng),
                        card=f"{rng.randint(0, 9999):04d}", date_style=rng.randrange(3))
            _fill_items(rng, r, rng.randint(int(limits[cat] * 0.3) // 10, int(limits[cat] * 0.85) // 10) * 10)
            receipts.append(r)

        def by_category(cat: str | None, pool: list[Receipt]) -> Receipt | None:
            cands = [r for r in pool if cat is None or r.category == cat]
            return rng.choice(cands) if cands else None

        def inject(rule: str, r: Receipt) -> None:
            if rule == "over_limit":
                _fill_items(rng, r, rng.randint(int(limits[r.category] * 1.08) // 10,
                                                int(limits[r.category] * 1.6) // 10) * 10)
            elif rule == "alcohol":
                _with_item(rng, r, rng.choice(ALCOHOL))
            elif rule == "vat_number":
                if r.total < vat_threshold:
                    hi = max(vat_threshold + 500, int(limits[r.category] * 0.9))
                    _fill_items(rng, r, rng.randint(vat_threshold // 10, hi // 10) * 10)
                r.vat_number = None
            else:
                r.date = rng.choice(weekends)

        def near_miss(rule: str, r: Receipt) -> None:
            if rule == "over_limit":
                _fill_items(rng, r, rng.randint(int(limits[r.category] * 0.9) // 10, limits[r.category] // 10) * 10)
            elif rule == "alcohol" and level == 2:
                _with_item(rng, r, rng.choice(SOFT_LOOKALIKES))
            elif rule == "vat_number":
                _fill_items(rng, r, rng.randint(800, vat_threshold - 10) // 10 * 10)
                r.vat_number = None
            elif rule == "weekend":
                r.date = rng.choice(near_weekend)

        pool = list(receipts)
        rng.shuffle(pool)
        for rule in active:
            for _ in range(rng.randint(1, 1 + level // 2 + (1 if n >= 6 else 0))):
                want = "meal" if rule == "alcohol" else None
                pick = by_category(want, pool) or by_category(want, receipts)
                if pick is not None:
                    inject(rule, pick)
                    if pick in pool:
                        pool.remove(pick)
        if level:
            for rule in active:
                want = "meal" if rule == "alcohol" else None
                pick = by_category(want, pool)
                if pick is not None:
                    near_miss(rule, pick)
                    pool.remove(pick)
            for rule in inactive[:level]:
                want = "meal" if rule == "alcohol" else None
                pick = by_category(want, pool)
                if pick is not None:
                    inject(rule, pick)
                    pool.remove(pick)
        # ground truth: the policy's own predicates over the receipts as generated
        ids = [f"R{i}" for i in range(1, len(active) + 1)]
        truth = {rid: sorted(r.number for r in receipts if rules[key].test(r))
                 for rid, key in zip(ids, active, strict=True)}
        assert all(truth.values()), "every rule in force has a violator by construction"

        claimant = rng.choice([e for e in ctx.company.employees
                               if e.department not in ("Finance", "Executive") and e.handle != ctx.requester])
        surname = claimant.name.split()[-1].lower()
        folder = ctx.path("/shared/expenses", f"claim_{surname}_2025_{month:02d}", "d").removesuffix(".d")
        policy_path = ctx.path("/shared/finance", "expense_policy", "md")
        files: list[FileAsset] = []
        rotation = (1.5, 2.5, 4.0)[level]
        for i, r in enumerate(receipts, start=1):
            params = self._params(rng, r, rotation, level)
            files.append(FileAsset(
                path=f"{folder}/receipt_{i}.png", media_type="image/png",
                render=ImageSpec(renderer=RENDERER, params=params),
                text_alternative=self._alt(r), clue_ids=[f"{tid}-receipts"],
            ))
        policy = [f"# Expense policy ({dt.date(2025, month, 1):%B %Y})", "",
                  "Audit every receipt of a claim. A receipt breaks a rule if it matches the rule's description; "
                  "report receipts by the receipt number printed on them. The rules in force are:", ""]
        policy += [f"- {rid} ({rules[k].title}): {rules[k].text}" for rid, k in zip(ids, active, strict=True)]
        policy += ["", "Anything not listed above is reimbursable this month."]
        files.append(FileAsset(path=policy_path, content="\n".join(policy) + "\n", media_type="text/markdown",
                               hidden=True, clue_ids=[f"{tid}-policy"]))

        finance = ctx.company.department("Finance")
        holder = ctx.company.employee(rng.choice(finance.members[1:]) if level != 1 else finance.head)
        head = ctx.company.employee(finance.head)
        keywords = ["expense policy", "expenses policy", "expense rules", "policy", "expenses"]
        facts = [Fact(fact_id=f"{tid}-policy", holder=holder.handle, topic="expense policy", keywords=keywords,
                      reply=f"Here you go, I've shared the expense policy: {policy_path}",
                      clue_ids=[f"{tid}-holder"], shares_files=[policy_path])]
        clues = [
            Clue(clue_id=f"{tid}-policy", description="the rules in force, their ids and limits", location="file",
                 where=f"{policy_path}, shared by {holder.handle} (Finance)", hops=2 if level == 2 else 1),
            Clue(clue_id=f"{tid}-holder", description="the policy is shared on request", location="colleague",
                 where=f"ask {holder.handle}"),
            Clue(clue_id=f"{tid}-receipts", description="receipt numbers, dates, items, totals, VAT numbers",
                 location="image", where=f"the scans in {folder}/"),
        ]
        plan: list[ToolCall] = []
        if level == 2:
            referral(f"{tid}-referral", head, "head of Finance", topic="who keeps the expense policy",
                     keywords=keywords, description="who maintains the expense policy",
                     reply=f"{holder.name} ({holder.handle}) maintains the expense policy; ask them.",
                     question="Hi! Who keeps the expense policy?").add_to(facts, clues, plan)
        plan += [
            *ask(holder.handle, "Hello, could you share the expense policy with me?"),
            ToolCall(name="read_file", arguments={"path": policy_path}),
            *[ToolCall(name="read_file", arguments={"path": f.path}) for f in files if f.is_image],
            ToolCall(name="submit", arguments={"task_id": tid, "answer": {"violations": truth}}),
        ]
        where = {0: f"{holder.name} ({holder.handle}) in Finance has the expense policy.",
                 1: "The Finance team can give you the expense policy.",
                 2: "Finance owns the expense policy."}[level]
        objective = (
            f"{claimant.name} submitted an expense claim with {n} scanned receipts in {folder}/ "
            f"(receipt_1.png to receipt_{n}.png). Audit them against the expense policy. {where} Submit "
            '{"violations": {"<rule id>": ["<receipt number>", ...]}} with one entry for every rule in the '
            "policy; identify each receipt by the receipt number printed on it (digits only)."
        )
        checkpoints = [
            Checkpoint(cp_id=f"rule-{rid}", description=f"receipts breaking {rid} ({rules[k].title})",
                       clue_ids=[f"{tid}-policy", f"{tid}-receipts"],
                       check=SubmissionCheck(field=f"violations.{rid}", expected=f"violations.{rid}",
                                             compare="set_equals"),
                       feedback="The rules are in the expense policy (Finance shares it); the receipt numbers, "
                                "dates and amounts are on the scans.")
            for rid, k in zip(ids, active, strict=True)
        ]
        return ctx.instance(
            self, objective=objective, files=files, facts=facts, clues=clues, checkpoints=checkpoints, solution=plan,
            answers={f"violations.{rid}": v for rid, v in truth.items()})

    @staticmethod
    def _params(rng: random.Random, r: Receipt, rotation: float, level: int) -> dict[str, Any]:
        return {
            "seed": rng.randint(0, 2**31 - 1),
            "merchant": r.merchant, "kind": KIND_LINE[r.category], "address": r.address,
            "date": r.date_text(), "time": r.time, "number": r.number,
            "number_label": rng.choice(("Receipt No.", "Rcpt #", "Bill no:", "Receipt", "Ticket no.")),
            "items": [[n, q, money(c)] for n, q, c in r.items], "total": money(r.total),
            "vat_rate": r.vat_rate, "vat": money(round(r.total * r.vat_rate / (100 + r.vat_rate))),
            "vat_number": r.vat_number, "card": r.card,
            "rotation": round(rng.uniform(-rotation, rotation), 2), "noise": 3 + 2 * level,
            "deciding": [r.number, r.date_text(), money(r.total)] + ([r.vat_number] if r.vat_number else []),
        }

    @staticmethod
    def _alt(r: Receipt) -> str:
        items = "; ".join(f"{q} x {n} {money(q * c)}" for n, q, c in r.items)
        vat = f"VAT number: {r.vat_number}." if r.vat_number else "No VAT number is printed."
        return (f"Scanned receipt. {r.merchant} ({KIND_LINE[r.category]}), {r.address}. Date: {r.date_text()} "
                f"{r.time}. Receipt number: {r.number}. Items: {items}. Total: EUR {money(r.total)} (incl. VAT "
                f"{r.vat_rate}%). {vat} Paid by card ending {r.card}.")

    def baseline(self, view: BaselineView) -> list[ToolCall]:
        """Parse the policy's rule ids and, if receipts were read as text, apply rough detectors."""
        policy = next((t for p, t in view.texts.items() if "expense_policy" in p), "")
        receipts = [t for t in view.texts.values() if t.startswith("[image") and "Receipt number:" in t]
        violations: dict[str, list[str]] = {}
        for line in policy.splitlines():
            m = re.match(r"- (R\d+) \((.+?)\)", line)
            if not m:
                continue
            title = m.group(2).lower()
            hits = []
            for t in receipts:
                num = re.search(r"Receipt number: (\d+)", t)
                if num is None:
                    continue
                low = t.lower()
                if ("alcohol" in title and any(w in low for w in ("wine", "beer", "lager", "prosecco", "gin"))) or \
                        ("vat" in title and "no vat number" in low):
                    hits.append(num.group(1))  # ignores thresholds and lookalikes: deliberately rough
            violations[m.group(1)] = hits
        if not violations:
            violations = {"R1": []}
        return [ToolCall(name="submit", arguments={"task_id": view.task_id, "answer": {"violations": violations}})]


@register_renderer(RENDERER)
def render_receipt(p: dict[str, Any]) -> Image.Image:
    rng = random.Random(p["seed"])
    head = rng.randint(18, 24)
    body = rng.randint(13, 16)
    pad = rng.randint(14, 22)
    width = rng.randint(300, 370)
    line_h = body + rng.randint(5, 8)
    lines = 9 + len(p["items"]) + (1 if p["vat_number"] else 0)
    height = pad * 2 + head + 12 + lines * line_h + 30
    paper = jitter((250, 248, 238), rng, 6)
    ink = jitter((40, 40, 48), rng, 20)
    img = Image.new("RGB", (width, height), paper)
    d = ImageDraw.Draw(img)
    centred = rng.random() < 0.6
    upper = rng.random() < 0.5

    def line(y: int, text: str, size: int, *, centre: bool = False, bold: bool = False) -> None:
        x = (width - freetype_width(text, size)) // 2 if centre else pad
        d.text((x, y), text, font=font(size), fill=ink, stroke_width=1 if bold else 0, stroke_fill=ink)

    def pair(y: int, left: str, right: str, size: int, bold: bool = False) -> None:
        d.text((pad, y), left, font=font(size), fill=ink, stroke_width=1 if bold else 0, stroke_fill=ink)
        d.text((width - pad - freetype_width(right, size), y), right, font=font(size), fill=ink,
               stroke_width=1 if bold else 0, stroke_fill=ink)

    def rule(y: int) -> None:
        if rng.random() < 0.5:
            for x in range(pad, width - pad, 8):
                d.line((x, y, x + 4, y), fill=ink, width=1)
        else:
            d.line((pad, y, width - pad, y), fill=ink, width=1)

    y = pad
    line(y, p["merchant"].upper() if upper else p["merchant"], head, centre=centred, bold=True)
    y += head + 6
    line(y, p["kind"], body - 2, centre=centred)
    y += line_h
    line(y, p["address"], body - 2, centre=centred)
    y += line_h + 4
    rule(y)
    y += 8
    pair(y, p["date"], p["time"], body)
    y += line_h
    line(y, f"{p['number_label']} {p['number']}", body)
    y += line_h + 2
    rule(y)
    y += 8
    for name, qty, price in p["items"]:
        label = f"{qty} x {name}" if qty > 1 or rng.random() < 0.4 else name
        pair(y, label, price, body)
        y += line_h
    rule(y + 2)
    y += 10
    pair(y, "TOTAL EUR" if upper else "Total EUR", p["total"], body + 3)  # no stroke: bold digits blur
    y += line_h + 4
    pair(y, f"incl. VAT {p['vat_rate']}%", p["vat"], body - 2)
    y += line_h
    if p["vat_number"]:
        line(y, f"{rng.choice(('VAT No:', 'VAT reg.', 'VAT ID'))} {p['vat_number']}", body - 2)
        y += line_h
    line(y, f"Card **** {p['card']}", body - 2)
    y += line_h
    line(y, rng.choice(("Thank you!", "Thank you for your visit", "Please come again")), body - 2, centre=True)
    speckle(d, rng, (width, height), 40, [jitter((150, 150, 150), rng, 30)], radii=(0, 0, 1))
    bed = jitter(rng.choice(((70, 70, 75), (200, 200, 205), (120, 95, 70))), rng, 10)
    margin = rng.randint(20, 50)
    canvas = Image.new("RGB", (width + 2 * margin, height + 2 * margin), bed)
    canvas.paste(img, (margin + rng.randint(-10, 10), margin + rng.randint(-10, 10)))
    canvas = rotate(canvas, float(p["rotation"]), bed)
    return fit(add_noise(canvas, p["seed"], float(p["noise"])))
