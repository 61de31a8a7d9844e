"""Form data entry: type filled-in forms (scanned paper forms or web-form screenshots) into a log.

Every value exists only in the form images: handwriting on scanned paper (wobbly glyphs, ink colours,
a slight tilt, grain) or inputs, ticked checkboxes and radio buttons in a web-form screenshot. The
data-entry guide (text) gives the target columns, the formats (dates as YYYY-MM-DD, lists joined with
';') and, at hard, which forms must not be entered (stamped VOID, unsigned, or cancelled).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any, ClassVar

from PIL import Image, ImageDraw

from firstday.tasks.checks import CsvRowsCheck, SubmissionCheck
from firstday.tasks.family import BaselineView, GenContext, ask, register
from firstday.tasks.library._image_kit import RGB, grain, hand_text, jitter, text, text_width, tilt
from firstday.tasks.model import Checkpoint, Clue, TaskInstance
from firstday.world.assets import Fact, FileAsset
from firstday.world.company import FIRST_NAMES, LAST_NAMES
from firstday.world.images import ImageSpec, register_renderer
from firstday.world.tools import ToolCall

VARIANTS = ("expense_claim", "equipment_request", "visitor_registration")
CATEGORIES = ("Travel", "Meals", "Lodging", "Supplies", "Training")
PURPOSES = ("client visit", "team offsite lunch", "conference fee", "train to head office", "printer toner",
            "hotel for trade fair", "taxi to airport", "workshop materials", "customer dinner", "course books")
ITEMS = ("Laptop", "Monitor", "Keyboard", "Headset", "Docking station", "Webcam")
PRIORITIES = ("Low", "Normal", "High")
VISITOR_COMPANIES = ("Nordlicht Labs", "Bluefin Consulting", "Kestrel Audit", "Orchid Media", "Tidewater Legal",
                     "Helix Robotics", "Marlow Catering", "Sable Security", "Quillstone Press", "Vireo Systems")
BADGES = ("Visitor", "Contractor", "Press")
KEY_BATCH = "form_data_entry:batch:"

SPEC: dict[str, dict[str, Any]] = {
    "expense_claim": {"title": "Expense claim form", "prefix": "EXP", "style": "paper", "dept": ("Finance",),
                      "csv": "/workspace/finance/expense_log.csv",
                      "columns": ("form_id", "date", "employee", "category", "amount", "purpose")},
    "equipment_request": {"title": "Equipment request", "prefix": "REQ", "style": "web",
                          "dept": ("IT", "Engineering"), "csv": "/workspace/it/equipment_requests.csv",
                          "columns": ("request_id", "requester", "team", "items", "quantity", "needed_by",
                                      "priority")},
    "visitor_registration": {"title": "Visitor registration", "prefix": "VIS", "style": "paper",
                             "dept": ("Facilities", "HR"), "csv": None,
                             "columns": ("visitor", "company", "host", "date", "arrival", "badge", "nda")},
}


# --- rendering ----------------------------------------------------------------------------------------------
def _tick(d: ImageDraw.ImageDraw, x: float, y: float, s: int, ink: RGB, rng: random.Random) -> None:
    """A hand-drawn tick or cross in a box at (x, y) of size s."""
    if rng.random() < 0.5:
        d.line((x + 2, y + s * 0.55, x + s * 0.4, y + s - 2, x + s + 3, y - 3), fill=ink, width=2)
    else:
        d.line((x + 1, y + 1, x + s - 1, y + s - 1), fill=ink, width=2)
        d.line((x + s - 1, y + 1, x + 1, y + s - 1), fill=ink, width=2)


def _stamp(img: Image.Image, label: str, rng: random.Random) -> Image.Image:
    w, h = img.size
    size = 64
    layer = Image.new("L", (text_width(label, size) + 40, size + 40), 0)
    text(layer, (20, 14), label, size, 255, bold=True)  # type: ignore[arg-type]
    ImageDraw.Draw(layer).rectangle((6, 6, layer.size[0] - 6, layer.size[1] - 6), outline=255, width=5)
    layer = layer.rotate(rng.uniform(12, 28), expand=True, resample=Image.Resampling.BILINEAR)
    mask = layer.point(lambda v: v * 6 // 10)
    red = Image.new("RGB", layer.size, (200, 30, 36))
    img.paste(red, (w // 2 - layer.size[0] // 2 + rng.randint(-60, 60), h // 2 - layer.size[1] // 2), mask)
    return img


@register_renderer("form_data_entry.form")
def render_form(params: dict[str, Any]) -> Image.Image:
    rng = random.Random(params["seed"])
    fields: list[dict[str, Any]] = params["fields"]
    paper = params["style"] == "paper"
    row_h = params["row_h"]
    top = 96 if paper else 118
    w = 640
    h = top + row_h * len(fields) + 90
    if paper:
        bg: RGB = jitter((248, 245, 235), rng, 5)
        img = Image.new("RGB", (w, h), bg)
        d = ImageDraw.Draw(img)
        text(img, (30, 24), params["title"].upper(), 20, (40, 40, 48), bold=True)
        text(img, (30, 52), params["org"], 12, (90, 90, 100))
        no = f"No. {params['form_id']}"
        text(img, (w - 36 - text_width(no, 15), 28), no, 15, (40, 40, 48))
        d.line((30, 76, w - 30, 76), fill=(60, 60, 70), width=2)
    else:
        bg = (236, 239, 244)
        img = Image.new("RGB", (w, h), bg)
        d = ImageDraw.Draw(img)
        d.rectangle((0, 0, w, 30), fill=(52, 56, 64))
        for i, c in enumerate(((236, 95, 87), (245, 190, 60), (98, 197, 84))):
            d.ellipse((12 + i * 18, 10, 22 + i * 18, 20), fill=c)
        d.rounded_rectangle((80, 6, w - 20, 24), radius=6, fill=(76, 80, 90))
        text(img, (92, 8), f"intranet/forms/{params['title'].lower().replace(' ', '-')}", 12, (210, 214, 220))
        d.rounded_rectangle((20, 42, w - 20, h - 14), radius=8, fill=(255, 255, 255), outline=(214, 218, 226))
        text(img, (40, 56), params["title"], 20, (30, 34, 42), bold=True)
        ref = f"Request {params['form_id']}"
        text(img, (w - 44 - text_width(ref, 13), 62), ref, 13, (100, 106, 120))
        if params.get("void"):
            d.rectangle((40, 86, w - 40, 108), fill=(253, 226, 226))
            text(img, (50, 89), f"{params['void']} - this request was withdrawn by the requester", 13,
                 (180, 30, 30), bold=True)
    ink: RGB = tuple(params["ink"])
    label_c: RGB = (70, 72, 84)
    hs = params["hand_size"]
    for i, f in enumerate(fields):
        y = top + i * row_h
        text(img, (36 if paper else 40, y + 8), f["label"] + (":" if paper else ""), 13, label_c)
        x0 = 200
        if f["kind"] in ("text", "hand"):
            if paper:
                d.line((x0, y + 30, w - 40, y + 30), fill=(150, 150, 160), width=1)
                hand_text(img, (x0 + 6 + rng.randint(0, 12), y + 30 - hs - 6), f["value"], hs, ink, rng)
            else:
                d.rounded_rectangle((x0, y + 2, w - 40, y + 32), radius=4, fill=(255, 255, 255),
                                    outline=(196, 200, 210))
                text(img, (x0 + 10, y + 9), f["value"], 14, (28, 30, 36))
        else:  # checkboxes or radio buttons, possibly wrapping onto a second line
            x, yy = x0, y + 8
            for opt in f["options"]:
                ow = 26 + text_width(opt, 13) + 18
                if x + ow > w - 30:
                    x, yy = x0, yy + 22
                box = (x, yy + 1, x + 14, yy + 15)
                on = opt in f["ticked"]
                if f["kind"] == "radio":
                    if paper:
                        d.ellipse(box, outline=label_c, width=1)
                        if on:
                            d.ellipse((x - 5, yy - 4, x + 26 + text_width(opt, 13), yy + 19), outline=ink, width=2)
                    else:
                        d.ellipse(box, outline=(52, 120, 246) if on else (170, 174, 184), width=2)
                        if on:
                            d.ellipse((x + 4, yy + 5, x + 10, yy + 11), fill=(52, 120, 246))
                elif paper:
                    d.rectangle(box, outline=label_c, width=1)
                    if on:
                        _tick(d, x, yy + 1, 14, ink, rng)
                else:
                    d.rounded_rectangle(box, radius=3, fill=(52, 120, 246) if on else (255, 255, 255),
                                        outline=(52, 120, 246) if on else (170, 174, 184))
                    if on:
                        d.line((x + 3, yy + 8, x + 6, yy + 12, x + 12, yy + 4), fill=(255, 255, 255), width=2)
                text(img, (x + 22, yy), opt, 13, (40, 42, 50))
                x += ow
    y = top + row_h * len(fields) + 16
    if paper:
        text(img, (36, y + 8), "Signature:", 13, label_c)
        d.line((200, y + 34, 420, y + 34), fill=(150, 150, 160), width=1)
        if params["signed"]:
            pts: list[tuple[float, float]] = []
            sx = 210.0
            for _ in range(rng.randint(10, 16)):
                pts.append((sx, y + 28 - rng.uniform(0, 22)))
                sx += rng.uniform(6, 14)
            d.line(pts, fill=ink, width=2, joint="curve")
        if params.get("void"):
            img = _stamp(img, params["void"], rng)
        img = tilt(img, params["tilt"], (120, 120, 124))
        return grain(img, rng, params["noise"], cell=4)
    d.rounded_rectangle((40, y, 160, y + 32), radius=6, fill=(52, 120, 246))
    text(img, (60, y + 8), "Submitted", 14, (255, 255, 255))
    return img


# --- the family ---------------------------------------------------------------------------------------------
def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def _date(rng: random.Random) -> dt.date:
    return dt.date(2025, rng.randint(1, 12), rng.randint(1, 28))


def _form(variant: str, rng: random.Random, ctx: GenContext, form_id: str) -> tuple[list[dict[str, Any]],
                                                                                        dict[str, Any], list[str]]:
    """(fields to draw, the row to enter, deciding strings) of one filled-in form."""
    staff = [e for e in ctx.company.employees if e.handle != ctx.company.trainee.handle]
    if variant == "expense_claim":
        who, day = rng.choice(staff), _date(rng)
        cat, purpose = rng.choice(CATEGORIES), rng.choice(PURPOSES)
        amount = round(rng.uniform(12, 900), 2)
        shown_amount = f"{amount:.2f}"
        fields: list[dict[str, Any]] = [
            {"label": "Employee name", "kind": "hand", "value": who.name},
            {"label": "Date of expense", "kind": "hand", "value": day.strftime("%d/%m/%Y")},
            {"label": "Category", "kind": "checks", "options": list(CATEGORIES), "ticked": [cat]},
            {"label": "Amount (EUR)", "kind": "hand", "value": shown_amount},
            {"label": "Purpose", "kind": "hand", "value": purpose},
        ]
        row: dict[str, Any] = {"form_id": form_id, "date": day.isoformat(), "employee": who.name, "category": cat,
                               "amount": amount, "purpose": purpose}
        return fields, row, [form_id, shown_amount]
    if variant == "equipment_request":
        who, day = rng.choice(staff), _date(rng)
        items = [x for x in ITEMS if x in rng.sample(ITEMS, rng.randint(1, 3))]
        qty, prio = rng.randint(1, 4), rng.choice(PRIORITIES)
        shown_day = day.strftime("%d %b %Y")
        fields_web: list[dict[str, Any]] = [
            {"label": "Requester", "kind": "text", "value": who.name},
            {"label": "Team", "kind": "text", "value": who.department},
            {"label": "Items", "kind": "checks", "options": list(ITEMS), "ticked": items},
            {"label": "Quantity of each", "kind": "text", "value": str(qty)},
            {"label": "Needed by", "kind": "text", "value": shown_day},
            {"label": "Priority", "kind": "radio", "options": list(PRIORITIES), "ticked": [prio]},
        ]
        row = {"request_id": form_id, "requester": who.name, "team": who.department, "items": ";".join(items),
               "quantity": qty, "needed_by": day.isoformat(), "priority": prio}
        return fields_web, row, [form_id, shown_day]
    host, day = rng.choice(staff), _date(rng)
    visitor, company = _person(rng), rng.choice(VISITOR_COMPANIES)
    arrival = f"{rng.randint(8, 16):02d}:{rng.choice(range(0, 60, 5)):02d}"
    badge, nda = rng.choice(BADGES), rng.choice(("yes", "no"))
    fields_visit: list[dict[str, Any]] = [
        {"label": "Visitor name", "kind": "hand", "value": visitor},
        {"label": "Company", "kind": "hand", "value": company},
        {"label": "Host (employee)", "kind": "hand", "value": host.name},
        {"label": "Date of visit", "kind": "hand", "value": day.strftime("%d/%m/%Y")},
        {"label": "Arrival time", "kind": "hand", "value": arrival},
        {"label": "Badge type", "kind": "radio", "options": list(BADGES), "ticked": [badge]},
        {"label": "NDA", "kind": "checks", "options": ["NDA signed"], "ticked": ["NDA signed"] if nda == "yes" else []},
    ]
    row = {"visitor": visitor, "company": company, "host": host.name, "date": day.isoformat(), "arrival": arrival,
           "badge": badge, "nda": nda}
    return fields_visit, row, [form_id, company]


def _alternative(title: str, form_id: str, fields: list[dict[str, Any]], signed: bool | None, void: str | None,
                 paper: bool) -> str:
    kind = "Scanned paper form" if paper else "Web form screenshot"
    lines = [f"{kind}: {title}, {'No.' if paper else 'request'} {form_id}."]
    if void:
        lines.append(f"Marked {void}.")
    for f in fields:
        if f["kind"] in ("text", "hand"):
            lines.append(f"{f['label']}: {f['value']}" + (" (handwritten)" if f["kind"] == "hand" else ""))
        else:
            marks = ", ".join(f"[{'x' if o in f['ticked'] else ' '}] {o}" for o in f["options"])
            lines.append(f"{f['label']}: {marks}")
    if signed is not None:
        lines.append("Signature: " + ("signed" if signed else "(blank, not signed)"))
    return "\n".join(lines)


@register
class FormDataEntry:
    name = "form_data_entry"
    title = "Form data entry"
    description = (
        "Type filled-in forms (scanned paper forms or web-form screenshots) into a log in the workspace, or "
        "submit them, following the data-entry guide's formats and rules."
    )
    domains = ("information",)
    modalities = ("image", "table", "text", "dialogue")
    variants = VARIANTS
    knobs: ClassVar[dict[str, str]] = {
        "forms": "forms in the batch: easy 1, medium 2, hard 3 (one of which must not be entered)",
        "invalid form": "hard: one form is stamped VOID (paper) or withdrawn (web), or, for expense claims, may be "
        "unsigned instead; the guide says to skip such forms",
        "guide": "easy: its path is in the objective; medium: on the shared drive, unnamed; hard: hidden, shared by "
        "a colleague in the owning department (who is only named by department)",
    }

    def generate(self, ctx: GenContext) -> TaskInstance:
        rng = ctx.rng
        level = {"easy": 0, "medium": 1, "hard": 2}[ctx.difficulty]
        variant = ctx.variant
        spec = SPEC[variant]
        paper = spec["style"] == "paper"
        while True:
            batch = f"{rng.choice('BCDFGHJKLMNPRSTVWXZ')}{rng.randint(10, 99)}"
            if KEY_BATCH + batch not in ctx.used_paths:
                ctx.used_paths.add(KEY_BATCH + batch)
                break
        n_forms = (1, 2, 3)[level]
        ids: list[str] = []
        while len(ids) < n_forms:
            fid = f"{spec['prefix']}-{rng.randint(10000, 99999)}"
            if fid not in ids:
                ids.append(fid)
        void_index = rng.randrange(n_forms) if level == 2 else None
        unsigned = variant == "expense_claim" and void_index is not None and rng.random() < 0.5
        ink = list(rng.choice(((28, 50, 140), (30, 30, 36), (20, 70, 160))))
        tid = ctx.task_id
        folder = {"expense_claim": "/shared/finance/scans", "equipment_request": "/shared/it/requests",
                  "visitor_registration": "/shared/reception/scans"}[variant]
        files: list[FileAsset] = []
        rows: list[dict[str, Any]] = []
        img_paths: list[str] = []
        form_clues: list[str] = []
        void_ids: list[str] = []
        for i, fid in enumerate(ids):
            fields, row, deciding = _form(variant, rng, ctx, fid)
            is_void = i == void_index
            void_label = None if not is_void or unsigned else ("VOID" if paper else "WITHDRAWN")
            signed = (not (is_void and unsigned)) if paper else None
            params: dict[str, Any] = {
                "seed": rng.getrandbits(32), "style": spec["style"], "title": spec["title"], "form_id": fid,
                "org": f"{ctx.company.name} - internal form", "fields": fields, "row_h": rng.choice((46, 50, 54)),
                "hand_size": rng.choice((17, 18, 19)), "ink": ink, "signed": bool(signed), "void": void_label,
                "tilt": round(rng.uniform(-1.8, 1.8), 2) if paper else 0.0,
                "noise": rng.choice((0.03, 0.05, 0.07)) if paper else 0.0, "deciding": deciding,
            }
            path = ctx.path(folder, f"batch_{batch.lower()}_form_{i + 1}", "png")
            img_paths.append(path)
            clue = f"{tid}-form{i + 1}"
            form_clues.append(clue)
            files.append(FileAsset(path=path, media_type="image/png", clue_ids=[clue],
                                   render=ImageSpec(renderer="form_data_entry.form", params=params),
                                   text_alternative=_alternative(spec["title"], fid, fields, signed, void_label,
                                                                 paper)))
            if is_void:
                void_ids.append(fid)
            else:
                rows.append(row)
        valid_ids = [fid for fid in ids if fid not in void_ids]

        dept_name = next(d for d in spec["dept"] if d in [x.name for x in ctx.company.departments])
        dept = ctx.company.department(dept_name)
        others = [x for x in dept.members if x != dept.head]
        holder = ctx.company.employee(rng.choice(others) if others else dept.head)
        guide_path = ctx.path(folder.rsplit("/", 1)[0], f"{variant}_entry_guide", "md")
        cols = spec["columns"]
        guide = [f"# Data-entry guide: {spec['title'].lower()}s", ""]
        if spec["csv"]:
            guide += [f"Enter each form as one row of {spec['csv']} with the columns {', '.join(cols)} (keep the "
                      "header and the rows already there)."]
        else:
            guide += ["Submit the passes as JSON: {\"pass_ids\": [\"VIS-...\"], \"passes\": {\"VIS-...\": {"
                      + ", ".join(f'"{c}": ...' for c in cols) + "}}}."]
        guide += ["", "Formats:", "- dates as YYYY-MM-DD (paper forms are filled in day/month/year)"]
        if variant == "expense_claim":
            guide += ["- amount: the number only, no currency sign", "- category: the ticked box, as printed"]
        if variant == "equipment_request":
            guide += ["- items: the ticked items as printed, in form order, joined with ';' (no spaces)",
                      "- quantity: a whole number", "- priority: the selected option, as printed"]
        if variant == "visitor_registration":
            guide += ["- arrival: HH:MM, 24-hour", "- badge: the selected option, as printed",
                      "- nda: 'yes' if the NDA box is ticked, else 'no'"]
        guide += ["", "Do not enter forms stamped VOID, withdrawn web requests, or paper forms without a signature."]

        words = ["entry guide", "data-entry guide", "guide", "form", "forms", "batch"]
        facts = [Fact(fact_id=f"{tid}-guide", holder=holder.handle, topic=f"entry guide for batch {batch}",
                      keywords=words, require_any=[batch],
                      reply=f"Here is the data-entry guide for those forms: {guide_path}",
                      clue_ids=[f"{tid}-holder"], shares_files=[guide_path])] if level == 2 else []
        guide_clue = f"{tid}-guide"
        clues = [Clue(clue_id=c, description="the values on one form", location="image", where=p)
                 for c, p in zip(form_clues, img_paths, strict=True)]
        clues.append(Clue(clue_id=guide_clue, description="columns, formats and which forms to skip",
                          location="file", where=guide_path, hops=2 if level == 2 else 1))
        plan: list[ToolCall] = []
        if level == 2:
            clues.append(Clue(clue_id=f"{tid}-holder", description="the guide is shared on request",
                              location="colleague", where=f"ask {holder.handle}"))
            plan += ask(holder.handle, f"Hello, could you share the data-entry guide for form batch {batch}?")
        plan.append(ToolCall(name="read_file", arguments={"path": guide_path}))
        plan += [ToolCall(name="read_file", arguments={"path": p}) for p in img_paths]
        checkpoints: list[Checkpoint] = []
        answers: dict[str, Any] = {"entered": valid_ids}
        key_col = cols[0]
        if spec["csv"]:
            csv_path = ctx.path(spec["csv"].rsplit("/", 1)[0], spec["csv"].rsplit("/", 1)[1].split(".")[0], "csv")
            old_rows = [_form(variant, rng, ctx, f"{spec['prefix']}-{rng.randint(10000, 99999)}")[1]
                        for _ in range(rng.randint(2, 4))]
            old_rows = [r for r in old_rows if r[key_col] not in ids]
            initial = ",".join(cols) + "\n" + "".join(",".join(_cell(r[c]) for c in cols) + "\n" for r in old_rows)
            final = initial + "".join(",".join(_cell(r[c]) for c in cols) + "\n" for r in rows)
            files.append(FileAsset(path=csv_path, content=initial, media_type="text/csv"))
            guide = [ln.replace(spec["csv"], csv_path) for ln in guide]
            plan += [ToolCall(name="read_file", arguments={"path": csv_path}),
                     ToolCall(name="write_file", arguments={"path": csv_path, "content": final})]
            for i, (fid, clue) in enumerate(zip(ids, form_clues, strict=True)):
                if fid in void_ids:
                    answers["skipped"] = [fid]
                    checkpoints.append(Checkpoint(
                        cp_id="skipped", description="the invalid form was not entered", clue_ids=[clue, guide_clue],
                        check=CsvRowsCheck(path=csv_path, key_column=key_col, aspect="absent", expected="skipped"),
                        feedback="The data-entry guide says which forms must not be entered."))
                    continue
                answers[f"row{i + 1}"] = [next(r for r in rows if r[key_col] == fid)]
                checkpoints.append(Checkpoint(
                    cp_id=f"row{i + 1}", description=f"form {i + 1} entered correctly", clue_ids=[clue, guide_clue],
                    check=CsvRowsCheck(path=csv_path, key_column=key_col, expected=f"row{i + 1}"),
                    feedback="Each form is one row; the guide gives the columns and formats."))
            deliverable = f"enter them into {csv_path}, then submit " + '{"entered": ["<form id>", ...]}'
        else:
            passes = dict(zip(valid_ids, rows, strict=True))
            for fid, row in passes.items():
                i = ids.index(fid)
                for c in cols:
                    answers[f"passes.{fid}.{c}"] = row[c]
                    checkpoints.append(Checkpoint(
                        cp_id=f"pass{i + 1}-{c}", description=f"{c} of pass {i + 1}", weight=0.25,
                        clue_ids=[form_clues[i], guide_clue],
                        check=SubmissionCheck(field=f"passes.{fid}.{c}", expected=f"passes.{fid}.{c}"),
                        feedback="Read the form and apply the guide's formats."))
            deliverable = ("submit them as the guide says: " + '{"pass_ids": [...], "passes": {"<pass no.>": {'
                           + ", ".join(f'"{c}": ...' for c in cols) + "}}}")
        plan.append(ToolCall(name="submit", arguments={"task_id": tid, "answer": (
            {"entered": valid_ids} if spec["csv"] else {"pass_ids": valid_ids, "passes": {
                fid: row for fid, row in zip(valid_ids, rows, strict=True)}})}))
        entered_field = "entered" if spec["csv"] else "pass_ids"
        checkpoints.append(Checkpoint(
            cp_id="entered", description="the forms entered", weight=0.5,
            clue_ids=[*form_clues, guide_clue],
            check=SubmissionCheck(field=entered_field, expected="entered", compare="set_equals"),
            feedback="List the numbers of the forms you entered (not the ones the guide says to skip)."))
        files.append(FileAsset(path=guide_path, content="\n".join(guide) + "\n", media_type="text/markdown",
                               hidden=level == 2, clue_ids=[guide_clue]))
        where = {0: f"Follow the data-entry guide ({guide_path}).",
                 1: "Follow the data-entry guide on the shared drive.",
                 2: f"Follow the data-entry guide; {dept_name} has it."}[level]
        noun = "form" if n_forms == 1 else "forms"
        objective = (f"Batch {batch}: {n_forms} filled-in {spec['title'].lower()} {noun} "
                     f"({', '.join(img_paths)}) need to be entered: {deliverable}. {where}")
        return ctx.instance(
            self, objective=objective, files=files, facts=facts, clues=clues, checkpoints=checkpoints, solution=plan,
            answers=answers)

    def baseline(self, view: BaselineView) -> list[ToolCall]:
        """Without vision the values are unknown: save the log as it was (nothing typed in) and submit an empty
        batch."""
        calls = [ToolCall(name="write_file", arguments={"path": p, "content": t}) for p, t in view.texts.items()
                 if p.startswith("/workspace/") and p.endswith(".csv")]
        field = "pass_ids" if "pass_ids" in view.objective else "entered"
        return [*calls, ToolCall(name="submit", arguments={"task_id": view.task_id, "answer": {field: []}})]


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.2f}"
    return str(v)
