"""Slide reconcile: compare the figures on a slide (an image) with the spreadsheet they came from.

The slide's figures exist only in the slide image (a rendered PNG: title, a themed table, footer). The
spreadsheet is a CSV on the drive (at hard, the current export is hidden and only a stale draft is visible;
Finance shares the current one). The trainee reports which rows disagree and by how much (slide minus
spreadsheet). In the `rounded_thousands` variant the slide shows thousands, so a row agrees when the
spreadsheet value rounds to the slide's figure: differences below the rounding are not mismatches.
"""

from __future__ import annotations

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

VARIANTS = ("single_column", "quarterly", "rounded_thousands")
TOPICS = (
    ("Revenue by region", "region", ("North", "South", "East", "West", "Central", "Nordics", "Benelux", "Iberia",
                                      "Alpine", "Baltics", "Balkans", "Islands", "Coastal", "Highlands")),
    ("Headcount cost by team", "team", ("Sales", "Support", "Platform", "Data", "Design", "Finance", "Legal",
                                         "Facilities", "Research", "Marketing", "Security", "Mobile", "Web", "QA")),
    ("Spend by category", "category", ("Travel", "Software", "Hardware", "Training", "Events", "Consulting",
                                        "Office", "Marketing", "Recruiting", "Insurance", "Logistics", "Cloud",
                                        "Telecom", "Catering")),
)
THEMES: tuple[dict[str, RGB], ...] = (
    {"bg": (255, 255, 255), "bar": (28, 64, 120), "head": (222, 232, 246), "zebra": (246, 248, 252),
     "text": (30, 32, 40), "accent": (240, 150, 30)},
    {"bg": (250, 248, 244), "bar": (120, 36, 60), "head": (240, 224, 228), "zebra": (246, 242, 240),
     "text": (40, 30, 34), "accent": (60, 140, 120)},
    {"bg": (32, 36, 44), "bar": (60, 160, 150), "head": (52, 60, 72), "zebra": (40, 45, 55),
     "text": (232, 236, 240), "accent": (250, 200, 80)},
)
KEY_DECK = "slide_reconcile:deck:"


def fmt_cell(v: int, thousands: bool) -> str:
    return f"{round(v / 1000):,}k" if thousands else f"{v:,}"


@register_renderer("slide_reconcile.slide")
def render_slide(params: dict[str, Any]) -> Image.Image:
    rng = random.Random(params["seed"])
    th = THEMES[params["theme"]]
    rows: list[list[str]] = params["cells"]
    cols: list[str] = params["columns"]
    w = 800
    row_h = params["row_h"]
    h = min(600, 150 + row_h * (len(rows) + 1) + 40)
    img = Image.new("RGB", (w, h), th["bg"])
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, w, 64), fill=th["bar"])
    text(img, (36, 14), params["title"], 24, (255, 255, 255), bold=True)
    text(img, (36, 78), params["subtitle"], 14, th["text"])
    d.rectangle((36, 100, 96, 104), fill=th["accent"])
    x0, x1, y = 36, w - 36, 118
    label_w = params["label_w"]
    col_w = (x1 - x0 - label_w) / len(cols)
    d.rectangle((x0, y, x1, y + row_h), fill=th["head"])
    text(img, (x0 + 10, y + (row_h - 15) / 2), params["label_header"], 14, th["text"], bold=True)
    for j, c in enumerate(cols):
        cx = x0 + label_w + (j + 1) * col_w - 12
        text(img, (cx - text_width(c, 14) - len(c), y + (row_h - 15) / 2), c, 14, th["text"], bold=True)
    size = params["font"]
    for i, row in enumerate(rows):
        y = 118 + (i + 1) * row_h
        if i % 2 == 1:
            d.rectangle((x0, y, x1, y + row_h), fill=th["zebra"])
        text(img, (x0 + 10, y + (row_h - size) / 2 - 1), row[0], size, th["text"])
        for j, cell in enumerate(row[1:]):
            cx = x0 + label_w + (j + 1) * col_w - 12
            text(img, (cx - text_width(cell, size), y + (row_h - size) / 2 - 1), cell, size, th["text"])
    d.line((x0, 118 + (len(rows) + 1) * row_h, x1, 118 + (len(rows) + 1) * row_h), fill=th["bar"], width=2)
    foot = f"{params['company']}  ·  confidential  ·  {params['slide_no']}"
    text(img, (36, h - 26), foot, 11, th["text"])
    if params["unit_note"]:
        text(img, (w - 36 - text_width(params["unit_note"], 12), h - 26), params["unit_note"], 12, th["text"])
    return grain(img, rng, params["noise"], cell=4)


@register
class SlideReconcile:
    name = "slide_reconcile"
    title = "Slide reconcile"
    description = (
        "Reconcile the figures in a slide (image) with the spreadsheet they came from: which rows disagree, "
        "and by how much."
    )
    domains = ("information",)
    modalities = ("image", "table", "dialogue")
    variants = VARIANTS
    knobs: ClassVar[dict[str, str]] = {
        "rows": "table rows: easy 5, medium 8, hard 11",
        "mismatches": "rows that disagree: easy 1, medium 2, hard 3",
        "order": "easy: the spreadsheet lists rows in slide order; medium and hard: shuffled",
        "near misses": "rounded_thousands: rows whose spreadsheet value differs from the slide only below the "
        "rounding (they agree); medium 1, hard 2",
        "source": "easy and medium: the spreadsheet's path is in the objective; hard: only a stale draft is "
        "visible, Finance shares the current export on request",
    }

    def generate(self, ctx: GenContext) -> TaskInstance:
        rng = ctx.rng
        level = {"easy": 0, "medium": 1, "hard": 2}[ctx.difficulty]
        variant = ctx.variant
        title, label_header, pool = rng.choice(TOPICS)
        n_rows, n_bad = (5, 8, 11)[level], (1, 2, 3)[level]
        labels = rng.sample(pool, n_rows)
        cols = ["Q1", "Q2", "Q3", "Q4"] if variant == "quarterly" else [rng.choice(("FY 2025", "Total", "Amount"))]
        thousands = variant == "rounded_thousands"
        lo, hi = (200_000, 9_000_000) if thousands else (1_200, 98_000)
        # never exactly half a thousand: "rounds to the nearest thousand" must not be ambiguous
        sheet = {r: [v + (v % 1000 == 500) for v in (rng.randint(lo, hi) for _ in cols)] for r in labels}
        slide = {r: list(v) for r, v in sheet.items()}
        bad = rng.sample(labels, n_bad)
        diffs: dict[str, int] = {}
        for r in bad:
            j = rng.randrange(len(cols))
            delta = rng.choice((-1, 1)) * (rng.randint(3, 60) * 1000 if thousands else rng.randint(10, 4000))
            if sheet[r][j] + delta < 1000:
                delta = -delta  # the slide's figure stays positive (and keeps its thousands separator)
            if thousands:
                slide_k = round(sheet[r][j] / 1000) + delta // 1000
                slide[r][j] = slide_k * 1000  # what the slide shows, in units
                diffs[r] = slide_k * 1000 - sheet[r][j]
            else:
                slide[r][j] = sheet[r][j] + delta
                diffs[r] = delta
        if thousands:
            for r in labels:
                if r not in bad:  # agree: the slide shows the rounded figure
                    slide[r] = [round(v / 1000) * 1000 for v in sheet[r]]
            # near misses: the sheet moved a little after the slide was made, within the rounding
            for r in [x for x in labels if x not in bad][: (0, 1, 2)[level]]:
                k = round(sheet[r][0] / 1000) * 1000
                sheet[r][0] = k + rng.choice((-1, 1)) * rng.randint(50, 400)
        # the truth, recomputed from what the slide shows by the rule the objective states
        def shown(r: str, j: int) -> int:
            return round(slide[r][j] / 1000) if thousands else slide[r][j]

        def sheet_cmp(r: str, j: int) -> int:
            return round(sheet[r][j] / 1000) if thousands else sheet[r][j]

        truth = {r: sum((shown(r, j) - sheet_cmp(r, j)) * (1000 if thousands else 1) for j in range(len(cols)))
                 for r in labels if any(shown(r, j) != sheet_cmp(r, j) for j in range(len(cols)))}
        if thousands:  # slide (in units, as shown) minus the spreadsheet's exact value
            truth = {r: sum(shown(r, j) * 1000 - sheet[r][j] for j in range(len(cols))
                            if shown(r, j) != sheet_cmp(r, j)) for r in truth}
        assert sorted(truth) == sorted(bad), (truth, bad)

        while True:
            deck = f"D{rng.randint(100, 999)}"
            if KEY_DECK + deck not in ctx.used_paths:
                ctx.used_paths.add(KEY_DECK + deck)
                break
        tid = ctx.task_id
        stem = title.lower().replace(" ", "_")
        slide_path = ctx.path("/shared/reports/decks", f"deck_{deck.lower()}_slide", "png")
        sheet_path = ctx.path("/shared/finance", f"{stem}_{deck.lower()}", "csv")
        cells = [[r, *(fmt_cell(v, thousands) for v in slide[r])] for r in labels]
        unit = "EUR thousands" if thousands else "EUR"
        params: dict[str, Any] = {
            "seed": rng.getrandbits(32), "theme": rng.randrange(len(THEMES)), "title": title,
            "subtitle": rng.choice(("Board update", "Quarterly business review", "Management summary"))
            + f" - {unit}", "columns": cols, "cells": cells, "label_header": label_header.capitalize(),
            "row_h": (34, 30, 28)[level] + rng.randint(0, 3), "font": rng.choice((14, 15)),
            "label_w": rng.randint(200, 260), "company": ctx.company.name, "slide_no": rng.randint(3, 19),
            "unit_note": "figures rounded to thousands" if thousands else "", "noise": rng.choice((0.0, 0.02)),
            "deciding": [fmt_cell(slide[r][j], thousands) for r in bad for j in range(len(cols))
                         if slide[r][j] != sheet[r][j]],
        }
        alt = [f"Slide '{title}' ({params['subtitle']}), a table with columns {label_header}, "
               + ", ".join(cols) + ":"]
        alt += [f"- {c[0]}: " + ", ".join(f"{col} {v}" for col, v in zip(cols, c[1:], strict=True)) for c in cells]
        if thousands:
            alt.append("Footnote: figures rounded to thousands.")
        order = list(labels)
        if level >= 1:
            rng.shuffle(order)
        header = f"{label_header}," + ",".join(c.lower().replace(" ", "_") for c in cols)
        csv_text = header + "\n" + "".join(f"{r}," + ",".join(str(v) for v in sheet[r]) + "\n" for r in order)
        files = [FileAsset(path=slide_path, media_type="image/png", clue_ids=[f"{tid}-slide"],
                           render=ImageSpec(renderer="slide_reconcile.slide", params=params),
                           text_alternative="\n".join(alt))]
        clues = [Clue(clue_id=f"{tid}-slide", description="the figures on the slide", location="image",
                      where=slide_path),
                 Clue(clue_id=f"{tid}-sheet", description="the spreadsheet's figures", location="file",
                      where=sheet_path, hops=2 if level == 2 else 1)]
        facts: list[Fact] = []
        plan: list[ToolCall] = [ToolCall(name="read_file", arguments={"path": slide_path})]
        files.append(FileAsset(path=sheet_path, content=csv_text, media_type="text/csv", hidden=level == 2,
                               clue_ids=[f"{tid}-sheet"]))
        if level == 2:
            draft_path = ctx.path("/shared/finance", f"{stem}_{deck.lower()}_draft", "csv")
            draft = {r: [max(lo, v + rng.randint(-5000, 5000) * (100 if thousands else 1)) for v in sheet[r]]
                     for r in labels}
            files.append(FileAsset(path=draft_path, media_type="text/csv", content=header + "\n" + "".join(
                f"{r}," + ",".join(str(v) for v in draft[r]) + "\n" for r in order)))
            finance = ctx.company.department("Finance")
            others = [x for x in finance.members if x != finance.head]
            holder = ctx.company.employee(rng.choice(others) if others else finance.head)
            facts.append(Fact(
                fact_id=f"{tid}-sheet", holder=holder.handle, topic=f"current export for deck {deck}",
                keywords=["spreadsheet", "export", "figures", "deck", "slide", "current", "latest", "reconcile"],
                require_any=[deck], reply=f"The draft is stale; the current export for deck {deck} is {sheet_path}",
                clue_ids=[f"{tid}-holder"], shares_files=[sheet_path]))
            clues.append(Clue(clue_id=f"{tid}-holder", description="Finance shares the current export",
                              location="colleague", where=f"ask {holder.handle}"))
            plan += ask(holder.handle, f"Hi, could you share the current spreadsheet export for deck {deck}?")
            where = (f"Use the current spreadsheet export for deck {deck}; the one on the drive is a stale draft "
                     "and Finance has the current one.")
        else:
            where = f"The spreadsheet is {sheet_path}."
        plan += [ToolCall(name="read_file", arguments={"path": sheet_path}),
                 ToolCall(name="submit", arguments={"task_id": tid, "answer": {
                     "rows": sorted(truth), "differences": truth}})]
        rule = (" The slide shows thousands: a row agrees when each spreadsheet value rounds to the slide's figure "
                "(to the nearest thousand); for a row that disagrees, report the slide's figure in units minus the "
                "spreadsheet value, summed over its disagreeing cells." if thousands else
                " For a row that disagrees, report the slide's figure minus the spreadsheet's, summed over its cells.")
        objective = (
            f"Deck {deck}: reconcile the table on the slide {slide_path} ('{title}') with the spreadsheet it was "
            f"built from. {where}{rule} Submit "
            '{"rows": ["<row label>", ...], "differences": {"<row label>": <slide minus spreadsheet>, ...}}.'
        )
        checkpoints = [Checkpoint(
            cp_id="rows", description="the rows that disagree", weight=2, clue_ids=[f"{tid}-slide", f"{tid}-sheet"],
            check=SubmissionCheck(field="rows", expected="rows", compare="set_equals"),
            feedback="Compare every figure on the slide with the spreadsheet, row by row.")]
        answers: dict[str, Any] = {"rows": sorted(truth)}
        for i, r in enumerate(sorted(truth)):
            answers[f"differences.{r}"] = truth[r]
            checkpoints.append(Checkpoint(
                cp_id=f"difference-{i + 1}", description=f"how much row {r} is off", weight=0.5,
                clue_ids=[f"{tid}-slide", f"{tid}-sheet"],
                check=SubmissionCheck(field=f"differences.{r}", expected=f"differences.{r}",
                                      compare="number_close"),
                feedback="The difference is the slide's figure minus the spreadsheet's."))
        return ctx.instance(
            self, objective=objective, files=files, facts=facts, clues=clues, checkpoints=checkpoints, solution=plan,
            answers=answers)

    def baseline(self, view: BaselineView) -> list[ToolCall]:
        """Without the slide's figures: flag the spreadsheet's largest row, difference unknown (0)."""
        table = next((t for p, t in view.texts.items() if p.endswith(".csv")), "")
        rows = [ln.split(",") for ln in table.strip().splitlines()[1:] if "," in ln]
        top = max(rows, key=lambda r: sum(float(x) for x in r[1:] if x.replace(".", "").isdigit()), default=None)
        flagged = [top[0]] if top else []
        return [ToolCall(name="submit", arguments={"task_id": view.task_id, "answer": {
            "rows": flagged, "differences": dict.fromkeys(flagged, 0)}})]
