"""Data completion: fill the blank cells of a CSV in the workspace by the formulas of the data handbook.

Five domains (sales, inventory, finance, logistics, web metrics), each with three derived columns whose
formulas the handbook states with per-company conventions (the sign of a variance, a rounding rule, a
conversion factor, a speed). The third derived column needs a lookup table (commission rates, unit costs,
exchange rates, carrier rates, values per conversion) that only one colleague knows.

Fixed against the reference: expected cells are computed from the generated inputs by the handbook's
formulas (never hand-set), every instance has blanks (the untouched file scores 0), the given cells must
stay as they were, filled cells are checked within half a rounding unit, and the handbook and lookup
tables are the company's (the same for every task of a scenario), so two tasks never disagree.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from firstday.seeding import make_rng
from firstday.tasks.checks import CsvCheck, SubmittedCheck
from firstday.tasks.family import BaselineView, GenContext, ask, register
from firstday.tasks.model import Checkpoint, Clue, TaskInstance
from firstday.world.assets import Fact, FileAsset
from firstday.world.company import Company, Employee
from firstday.world.tools import ToolCall

VARIANTS = ("sales", "inventory", "finance", "logistics", "web_metrics")
Row = dict[str, Any]


@dataclass(frozen=True)
class Derived:
    name: str
    formula: str  # as the handbook states it
    decimals: int
    compute: Callable[[Row], float]


@dataclass(frozen=True)
class Domain:
    key: str
    title: str
    columns: list[str]  # every column, in file order
    decimals: dict[str, int]  # numeric input columns -> decimals (text columns are absent)
    derived: list[Derived]  # the last one needs the lookup table
    lookup_column: str  # the input column the lookup is keyed by
    lookup_name: str  # e.g. "commission rates"
    lookup_unit: str
    lookup: dict[str, float]
    holder_departments: tuple[str, ...]
    make_row: Callable[[random.Random, int], Row]


def _fmt(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}" if decimals else str(round(value))


def _domain(key: str, rng: random.Random) -> Domain:
    """The domain's dataset with this company's conventions and lookup table (``rng`` is company-level)."""
    if key == "sales":
        regions = ("North", "South", "East", "West", "Central")
        rates = {r: rng.choice((2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0)) for r in regions}
        pct_margin = rng.random() < 0.5
        products = ("Desk lamp", "Office chair", "Laptop stand", "Monitor arm", "Notebook set", "Headset",
                    "Webcam", "Keyboard", "Mouse", "Cable kit", "Standing mat", "Whiteboard")

        def sales_row(r: random.Random, i: int) -> Row:
            price = round(r.uniform(8, 420), 2)
            return {"order_id": f"SO-{r.randint(10000, 99999)}", "region": r.choice(regions),
                    "product": r.choice(products), "units": r.randint(1, 80), "unit_price": price,
                    "discount_pct": r.choice((0, 0, 5, 10, 15)), "unit_cost": round(price * r.uniform(0.4, 0.75), 2)}

        margin = (Derived("gross_margin", "gross_margin = (revenue - units x unit_cost) / revenue x 100, a "
                          "percentage rounded to 1 decimal", 1,
                          lambda x: (x["revenue"] - x["units"] * x["unit_cost"]) / x["revenue"] * 100)
                  if pct_margin else
                  Derived("gross_margin", "gross_margin = revenue - units x unit_cost, rounded to 2 decimals", 2,
                          lambda x: x["revenue"] - x["units"] * x["unit_cost"]))
        return Domain(
            "sales", "Sales orders",
            ["order_id", "region", "product", "units", "unit_price", "discount_pct", "unit_cost", "revenue",
             "gross_margin", "commission"],
            {"units": 0, "unit_price": 2, "discount_pct": 0, "unit_cost": 2},
            [Derived("revenue", "revenue = units x unit_price x (1 - discount_pct / 100), rounded to 2 decimals", 2,
                     lambda x: x["units"] * x["unit_price"] * (1 - x["discount_pct"] / 100)),
             margin,
             Derived("commission", "commission = revenue x the region's commission rate (a percentage), rounded "
                     "to 2 decimals", 2, lambda x: x["revenue"] * rates[x["region"]] / 100)],
            "region", "commission rates", "% of revenue", rates, ("Sales", "Finance"), sales_row)
    if key == "inventory":
        cats = ("Electronics", "Furniture", "Stationery", "Packaging", "Spare parts")
        costs = {c: round(rng.uniform(1.5, 240), 2) for c in cats}
        floor_days = rng.random() < 0.5

        def inv_row(r: random.Random, i: int) -> Row:
            opening, received = r.randint(0, 900), r.randint(0, 600)
            return {"sku": f"SKU-{r.randint(1000, 9999)}", "category": r.choice(cats), "opening_stock": opening,
                    "received": received, "shipped": r.randint(0, opening + received),
                    "avg_daily_demand": round(r.uniform(0.5, 40), 1)}

        cover = (Derived("days_of_cover", "days_of_cover = closing_stock / avg_daily_demand, rounded DOWN to a "
                         "whole number of days", 0, lambda x: math.floor(x["closing_stock"] / x["avg_daily_demand"]))
                 if floor_days else
                 Derived("days_of_cover", "days_of_cover = closing_stock / avg_daily_demand, rounded to 1 decimal", 1,
                         lambda x: x["closing_stock"] / x["avg_daily_demand"]))
        return Domain(
            "inventory", "Inventory positions",
            ["sku", "category", "opening_stock", "received", "shipped", "avg_daily_demand", "closing_stock",
             "days_of_cover", "stock_value"],
            {"opening_stock": 0, "received": 0, "shipped": 0, "avg_daily_demand": 1},
            [Derived("closing_stock", "closing_stock = opening_stock + received - shipped", 0,
                     lambda x: x["opening_stock"] + x["received"] - x["shipped"]),
             cover,
             Derived("stock_value", "stock_value = closing_stock x the category's unit cost, rounded to 2 decimals",
                     2, lambda x: x["closing_stock"] * costs[x["category"]])],
            "category", "unit costs", "per unit", costs, ("Operations", "Procurement", "Finance"), inv_row)
    if key == "finance":
        currencies = ("EUR", "USD", "GBP", "CHF", "SEK")
        fx = {"EUR": 1.0, "USD": round(rng.uniform(0.85, 0.97), 4), "GBP": round(rng.uniform(1.12, 1.2), 4),
              "CHF": round(rng.uniform(1.0, 1.08), 4), "SEK": round(rng.uniform(0.085, 0.095), 4)}
        actual_minus = rng.random() < 0.5
        centres = ("Engineering", "Sales", "Marketing", "Operations", "HR", "Facilities", "IT")

        def fin_row(r: random.Random, i: int) -> Row:
            budget = round(r.uniform(1000, 90000), 2)
            return {"account": str(r.randint(6000, 6999)), "cost_centre": r.choice(centres),
                    "currency": r.choice(currencies), "budget": budget,
                    "actual": round(budget * r.uniform(0.7, 1.3), 2)}

        variance = (Derived("variance", "variance = actual - budget, rounded to 2 decimals", 2,
                            lambda x: x["actual"] - x["budget"]) if actual_minus else
                    Derived("variance", "variance = budget - actual (positive means under budget), rounded to 2 "
                            "decimals", 2, lambda x: x["budget"] - x["actual"]))
        return Domain(
            "finance", "Budget vs actuals",
            ["account", "cost_centre", "currency", "budget", "actual", "variance", "variance_pct", "actual_eur"],
            {"budget": 2, "actual": 2},
            [variance,
             Derived("variance_pct", "variance_pct = variance / budget x 100, rounded to 1 decimal", 1,
                     lambda x: x["variance"] / x["budget"] * 100),
             Derived("actual_eur", "actual_eur = actual x the currency's exchange rate to EUR, rounded to 2 decimals",
                     2, lambda x: x["actual"] * fx[x["currency"]])],
            "currency", "exchange rates to EUR", "EUR per unit", fx, ("Finance",), fin_row)
    if key == "logistics":
        carriers = ("Swift Freight", "Northline", "Cargo Express", "Blue Route", "Parcel Pro")
        per_kg = {c: round(rng.uniform(0.35, 2.4), 2) for c in carriers}
        factor = rng.choice((167, 200, 250))
        speed, handling = rng.choice((400, 500, 600)), rng.choice((0, 1))

        def log_row(r: random.Random, i: int) -> Row:
            return {"shipment_id": f"SH-{r.randint(10000, 99999)}", "carrier": r.choice(carriers),
                    "distance_km": r.randint(40, 2600), "weight_kg": round(r.uniform(0.5, 900), 1),
                    "volume_m3": round(r.uniform(0.01, 3.5), 2)}

        return Domain(
            "logistics", "Shipments",
            ["shipment_id", "carrier", "distance_km", "weight_kg", "volume_m3", "chargeable_kg", "transit_days",
             "freight_cost"],
            {"distance_km": 0, "weight_kg": 1, "volume_m3": 2},
            [Derived("chargeable_kg", f"chargeable_kg = the larger of weight_kg and volume_m3 x {factor}, rounded "
                     "to 1 decimal", 1, lambda x: max(x["weight_kg"], x["volume_m3"] * factor)),
             Derived("transit_days", f"transit_days = distance_km / {speed} rounded UP to a whole day"
                     + (", plus 1 handling day" if handling else ""), 0,
                     lambda x: math.ceil(x["distance_km"] / speed) + handling),
             Derived("freight_cost", "freight_cost = chargeable_kg x the carrier's rate per kg, rounded to 2 "
                     "decimals", 2, lambda x: x["chargeable_kg"] * per_kg[x["carrier"]])],
            "carrier", "carrier rates", "per kg", per_kg, ("Operations", "Procurement", "Finance"), log_row)
    channels = ("Organic", "Paid search", "Email", "Social", "Referral")
    values = {c: round(rng.uniform(4, 95), 2) for c in channels}
    fraction = rng.random() < 0.5
    pages = ("/pricing", "/signup", "/blog", "/docs", "/contact", "/features", "/careers", "/download", "/demo",
             "/partners", "/about", "/support")

    def web_row(r: random.Random, i: int) -> Row:
        sessions = r.randint(200, 50000)
        return {"page": r.choice(pages), "channel": r.choice(channels), "sessions": sessions,
                "bounces": r.randint(sessions // 10, sessions * 4 // 5), "conversions": r.randint(0, sessions // 12)}

    bounce = (Derived("bounce_rate", "bounce_rate = bounces / sessions as a FRACTION (not a percentage), rounded to "
                      "3 decimals", 3, lambda x: x["bounces"] / x["sessions"]) if fraction else
              Derived("bounce_rate", "bounce_rate = bounces / sessions x 100, a percentage rounded to 1 decimal", 1,
                      lambda x: x["bounces"] / x["sessions"] * 100))
    return Domain(
        "web_metrics", "Web metrics",
        ["page", "channel", "sessions", "bounces", "conversions", "bounce_rate", "conversion_rate",
         "conversion_value"],
        {"sessions": 0, "bounces": 0, "conversions": 0},
        [bounce,
         Derived("conversion_rate", "conversion_rate = conversions / sessions x 100, a percentage rounded to 2 "
                 "decimals", 2, lambda x: x["conversions"] / x["sessions"] * 100),
         Derived("conversion_value", "conversion_value = conversions x the channel's value per conversion, rounded "
                 "to 2 decimals", 2, lambda x: x["conversions"] * values[x["channel"]])],
        "channel", "values per conversion", "per conversion", values,
        ("Marketing", "Data Science", "Product", "Finance"), web_row)


def _company_domains(company: Company) -> dict[str, Domain]:
    """The company's handbook: the same conventions and lookup tables for every task of the scenario."""
    return {k: _domain(k, make_rng("data_completion", company.name, company.trainee.handle, k)) for k in VARIANTS}


def _holder(company: Company, domain: Domain) -> Employee:
    """Who keeps the domain's lookup table (stable for the company)."""
    names = [d.name for d in company.departments]
    dept = next((d for d in domain.holder_departments if d in names), "Finance")
    rng = make_rng("data_completion", company.name, domain.key, "holder")
    members = company.members_of(dept)
    return rng.choice(members[1:] or members)


def _handbook(company: Company, domains: dict[str, Domain]) -> str:
    lines = ["# Data handbook", "",
             "How the derived columns of our recurring datasets are computed. Compute from the cells as given; "
             "a derived column used by another is used as rounded.", ""]
    for d in domains.values():
        holder = _holder(company, d)
        lines += [f"## {d.title} ({d.key} files)", ""]
        lines += [f"- {x.formula}" for x in d.derived]
        lines += ["", f"The {d.lookup_name} ({d.lookup_unit}, by {d.lookup_column}) are kept by {holder.name} "
                      f"({holder.handle}, {holder.department}): ask them.", ""]
    return "\n".join(lines)


@register
class DataCompletion:
    name = "data_completion"
    title = "Data completion"
    description = ("Fill the blank cells of a CSV in the workspace by the data handbook's formulas, leaving every "
                   "other cell as it is; some columns need a lookup table only one colleague knows.")
    domains = ("information",)
    modalities = ("table", "text", "dialogue")
    variants = VARIANTS
    knobs: ClassVar[dict[str, str]] = {
        "columns": "derived columns with blanks: easy 1, medium 2, hard 3 (the third needs the lookup table)",
        "rows": "rows: easy 10-12, medium 16-22, hard 24-32; blanks per column 3-6 (the lookup column: all)",
        "handbook": "easy: its path is in the objective; medium: on the shared drive, not named; hard: hidden, "
                    "the head of the owning department shares it",
        "hops": "hard: handbook (from a department head) -> the colleague it names -> the lookup table",
        "conventions": "per company: sign of a variance, rounding down or to a decimal, percentage or fraction, "
                       "volumetric factor, transit speed; the handbook covers all five datasets (distractors)",
    }

    def generate(self, ctx: GenContext) -> TaskInstance:
        rng = ctx.rng
        level = {"easy": 0, "medium": 1, "hard": 2}[ctx.difficulty]
        tid = ctx.task_id
        company = ctx.company
        domains = _company_domains(company)
        dom = domains[ctx.variant]
        holder = _holder(company, dom)
        n_rows = rng.randint(*((10, 12), (16, 22), (24, 32))[level])

        # rows: inputs, then derived values (each as rounded, so later formulas use what the file shows)
        rows: list[Row] = []
        for i in range(n_rows):
            row = dom.make_row(rng, i)
            for d in dom.derived:
                row[d.name] = round(d.compute(row), d.decimals)
            rows.append(row)
        decimals = {**dom.decimals, **{d.name: d.decimals for d in dom.derived}}

        blank_cols = [rng.choice(dom.derived[:2]).name] if level == 0 else [d.name for d in dom.derived[: level + 1]]
        blanks: dict[str, list[int]] = {}
        for col in blank_cols:
            if col == dom.derived[2].name:
                blanks[col] = list(range(n_rows))  # a visible value would give a rate away
            else:
                blanks[col] = sorted(rng.sample(range(n_rows), rng.randint(3, min(6, n_rows - 2))))

        def cell(row: Row, col: str, blank: bool) -> str:
            if blank:
                return ""
            v = row[col]
            return _fmt(v, decimals[col]) if col in decimals else str(v)

        def render(filled: bool) -> str:
            lines = [",".join(dom.columns)]
            for i, row in enumerate(rows):
                lines.append(",".join(cell(row, c, not filled and i in blanks.get(c, ())) for c in dom.columns))
            return "\n".join(lines) + "\n"

        original, completed = render(False), render(True)
        period = f"2025_q{rng.randint(1, 4)}"
        csv_path = ctx.path("/workspace/data", f"{dom.key}_{period}", "csv")
        hb_path = ctx.path("/shared/analytics", "data_handbook", "md")
        hb_clue, lk_clue, hb_ref = f"{tid}-handbook", f"{tid}-lookup", f"{tid}-handbook-holder"
        files = [
            FileAsset(path=csv_path, content=original, media_type="text/csv", clue_ids=[f"{tid}-data"]),
            FileAsset(path=hb_path, content=_handbook(company, domains), media_type="text/markdown",
                      hidden=level == 2, clue_ids=[hb_clue]),
        ]
        clues = [
            Clue(clue_id=f"{tid}-data", description="the dataset", location="file", where=csv_path),
            Clue(clue_id=hb_clue, description="the formulas and conventions", location="file", where=hb_path,
                 hops=2 if level == 2 else 1),
        ]
        facts: list[Fact] = []
        plan: list[ToolCall] = []
        hb_owner = company.employee(company.department("Finance").head)
        owner_dept = "Finance"
        if level == 2:
            names = [d.name for d in company.departments]
            owner_dept = next(d for d in ("Data Science", "Finance") if d in names)
            hb_owner = company.employee(company.department(owner_dept).head)
            facts.append(Fact(fact_id=hb_ref, holder=hb_owner.handle, topic="the data handbook",
                              keywords=["data handbook", "handbook", "formulas", "formula"],
                              reply=f"Of course, I've shared the data handbook with you: {hb_path}",
                              clue_ids=[hb_ref], shares_files=[hb_path]))
            clues.append(Clue(clue_id=hb_ref, description="the handbook is shared on request", location="colleague",
                              where=f"ask {hb_owner.handle} (head of {owner_dept})"))
            plan += ask(hb_owner.handle, f"Hi {hb_owner.first_name}, could you share the data handbook "
                                         "with me?")
        plan += [ToolCall(name="read_file", arguments={"path": hb_path}),
                 ToolCall(name="read_file", arguments={"path": csv_path})]
        lookup_col = dom.derived[2].name
        if lookup_col in blank_cols:
            table = "; ".join(f"{k}: {v:g}" for k, v in dom.lookup.items())
            # the same words for every task of the domain: the company's table, identical replies
            facts.append(Fact(fact_id=lk_clue, holder=holder.handle, topic=dom.lookup_name,
                              keywords=[dom.lookup_name, "table", "lookup", "current", "rates", "costs"],
                              require_any=[dom.lookup_name],
                              reply=f"Here are the current {dom.lookup_name} ({dom.lookup_unit}, by "
                                    f"{dom.lookup_column}): {table}.", clue_ids=[lk_clue]))
            clues.append(Clue(clue_id=lk_clue, description=f"the {dom.lookup_name}", location="colleague",
                              where=f"ask {holder.handle}, as the handbook says", hops=3 if level == 2 else 2))
            plan += ask(holder.handle, f"Hi {holder.first_name}, could you send me the current "
                                       f"{dom.lookup_name}?")
        plan += [ToolCall(name="write_file", arguments={"path": csv_path, "content": completed}),
                 ToolCall(name="submit", arguments={"task_id": tid, "answer": {"file": csv_path}})]

        answers: dict[str, Any] = {"original": original}
        checkpoints: list[Checkpoint] = []
        base = [f"{tid}-data", hb_clue, *([hb_ref] if level == 2 else [])]
        for col in blank_cols:
            dec = decimals[col]
            answers[f"filled.{col}"] = [[i, col, rows[i][col]] for i in blanks[col]]
            needs = [*base, *([lk_clue] if col == lookup_col else [])]
            checkpoints.append(Checkpoint(
                cp_id=f"filled-{col}", description=f"the blank {col} cells are right", weight=1.0, clue_ids=needs,
                check=CsvCheck(path=csv_path, aspect="filled", expected=f"filled.{col}",
                               abs_tol=0.6 * 10 ** -dec if dec else 0.01, rel_tol=1e-9),
                feedback=f"The formula for {col} and its rounding are in the data handbook"
                         + (f"; the {dom.lookup_name} come from the colleague it names." if col == lookup_col
                            else ".")))
        checkpoints += [
            Checkpoint(cp_id="preserved", description="every given cell is unchanged", weight=1.0,
                       answer_bearing=False, clue_ids=[f"{tid}-data"],
                       check=CsvCheck(path=csv_path, aspect="preserved", expected="original"),
                       feedback="Fill only the blank cells; keep every other cell, row and column as it was."),
            Checkpoint(cp_id="submitted", description="the completed file was reported", weight=0.5,
                       answer_bearing=False, check=SubmittedCheck(),
                       feedback="Submit once the file is saved."),
        ]
        where = {0: f"Follow the formulas of the data handbook ({hb_path}).",
                 1: "Follow the formulas of the data handbook on the shared drive.",
                 2: f"Follow the formulas of the data handbook; the {owner_dept} team keeps it."}[level]
        cols = ", ".join(blank_cols)
        objective = (f"The {dom.title.lower()} file {csv_path} has blank cells in the column(s) {cols}. Fill every "
                     f"blank cell. {where} Leave every other cell as it is and save the file in place, then "
                     f'submit {{"file": "{csv_path}"}}.')
        return ctx.instance(
            self, objective=objective, extra_minutes=10, files=files, facts=facts, clues=clues,
            checkpoints=checkpoints, solution=plan, answers=answers)

    def baseline(self, view: BaselineView) -> list[ToolCall]:
        """Fill each blank with the mean of its column's given cells (a rough guess), save, submit."""
        m = re.search(r"(/workspace/data/[\w.-]+\.csv)", view.objective)
        if m is None or m.group(1) not in view.texts:
            return [ToolCall(name="submit", arguments={"task_id": view.task_id, "answer": {"file": ""}})]
        path = m.group(1)
        lines = [ln.split(",") for ln in view.texts[path].strip().splitlines()]
        header, body = lines[0], lines[1:]
        for j in range(len(header)):
            given = [float(r[j]) for r in body if j < len(r) and re.fullmatch(r"-?\d+(\.\d+)?", r[j])]
            mean = sum(given) / len(given) if given else 0.0
            for r in body:
                if j < len(r) and r[j] == "":
                    r[j] = f"{mean:.2f}"
        content = "\n".join(",".join(r) for r in [header, *body]) + "\n"
        return [ToolCall(name="write_file", arguments={"path": path, "content": content}),
                ToolCall(name="submit", arguments={"task_id": view.task_id, "answer": {"file": path}})]
