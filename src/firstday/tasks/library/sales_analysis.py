"""Sales analysis: answer questions over quarterly sales files by the definitions of the analysis handbook.

The handbook says what counts as a sale (completed, not refunded or cancelled, and at least a minimum
amount: smaller orders are samples), how averages are rounded and that ties are all listed. Questions:
the top seller(s) of a quarter, the average sale and who beats it, who grew their number of sales from one
quarter to the next, and a region's total with the top region.

Fixed against the reference: every answer is computed from the generated files by the handbook's own
definitions (never empty; money in integer cents, so ties are exact), statuses and sample orders that do
not count are distractors, and the handbook's minimum amount varies per instance.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, ClassVar

from firstday.errors import GenerationError
from firstday.tasks.checks import SubmissionCheck
from firstday.tasks.family import BaselineView, GenContext, ask, register
from firstday.tasks.library._follow_up import FollowUpSpec, baseline_follow_up, build_follow_up
from firstday.tasks.model import Checkpoint, Clue, TaskInstance
from firstday.world.assets import Fact, FileAsset
from firstday.world.tools import ToolCall

VARIANTS = ("top_sellers", "average", "quarter_growth", "region_total")
DEPENDENT_VARIANTS = ("bonus_payout",)
# per variant of the earlier task: the answer key of its result and the result in words (for a follow-up)
RESULTS = {"top_sellers": ("top_sellers", "the top seller(s) of the quarter"),
           "average": ("above_average", "the people whose own average sale is above the quarter's average sale"),
           "quarter_growth": ("grew", "the people who made more sales in the later quarter"),
           "region_total": ("top_region", "the region(s) with the highest total")}
REGIONS = ("North", "South", "East", "West", "Central")
PRODUCTS = (("Starter plan", 90, 250), ("Team plan", 300, 900), ("Enterprise plan", 1500, 6000),
            ("Support add-on", 40, 180), ("Training day", 600, 1400), ("Hardware kit", 200, 1200))
OTHER_STATUSES = ("refunded", "cancelled", "pending")


@dataclass(frozen=True)
class Sale:
    date: dt.date
    employee: str
    region: str
    product: str
    units: int
    unit_cents: int
    status: str

    @property
    def cents(self) -> int:
        return self.units * self.unit_cents


def _money(cents: int) -> float:
    return round(cents / 100, 2)


@register
class SalesAnalysis:
    name = "sales_analysis"
    title = "Sales analysis"
    description = ("Answer questions over quarterly sales files (top sellers, averages, quarter-over-quarter "
                   "growth, region totals) by the definitions of the sales analysis handbook.")
    domains = ("information", "strategy")
    modalities = ("table", "text", "dialogue")
    variants = VARIANTS
    dependent_variants = DEPENDENT_VARIANTS
    knobs: ClassVar[dict[str, str]] = {
        "dependent": "variant bonus_payout, builds on an earlier sales_analysis task: the bonus of the people "
                     "(regions) of its result, from a bonus sheet listing everyone; easy one row each, medium and "
                     "hard up to 2 / 3 rows of which only the approved count",
        "data": "sales people easy 6, medium 9, hard 12; quarter files easy 2, medium 3, hard 4; rows per "
                "quarter about 5 per person",
        "distractors": "rows that are not sales: easy cancelled; medium also refunded; hard also pending and "
                       "sample orders below the handbook's minimum amount; hard top_sellers has a tie",
        "handbook": "easy: its path is in the objective; medium: on the shared drive, not named; hard: hidden, "
                    "the head of Sales (or Finance) shares it",
    }

    def generate(self, ctx: GenContext) -> TaskInstance:
        if ctx.variant in DEPENDENT_VARIANTS:
            return self._follow_up(ctx)
        rng = ctx.rng
        level = {"easy": 0, "medium": 1, "hard": 2}[ctx.difficulty]
        tid = ctx.task_id
        company = ctx.company
        n_people, n_q = (6, 9, 12)[level], (2, 3, 4)[level]
        names = [e.name for e in rng.sample(company.employees, min(n_people, len(company.employees)))]
        home = {n: rng.choice(REGIONS) for n in names}
        min_cents = 0 if level == 0 else rng.choice((50, 100, 150)) * 100
        statuses = ("cancelled",) if level == 0 else ("refunded", "cancelled") if level == 1 else OTHER_STATUSES
        quarters = list(range(1, n_q + 1))

        def counts(s: Sale) -> bool:
            return s.status == "completed" and s.cents >= min_cents

        sales: dict[int, list[Sale]] = {}
        for q in quarters:
            first = dt.date(2025, 3 * q - 2, 1)
            rows: list[Sale] = []
            for name in names:
                for _ in range(rng.randint(2, 8)):
                    product, lo, hi = rng.choice(PRODUCTS)
                    status = "completed" if rng.random() < 0.8 else rng.choice(statuses)
                    region = home[name] if rng.random() < 0.85 else rng.choice(REGIONS)
                    rows.append(Sale(first + dt.timedelta(days=rng.randrange(90)), name, region, product,
                                     rng.randint(1, 5), rng.randint(lo * 100, hi * 100), status))
                if level == 2 and rng.random() < 0.5:  # a sample order: completed but below the minimum
                    rows.append(Sale(first + dt.timedelta(days=rng.randrange(90)), name, home[name],
                                     "Support add-on", 1, rng.randint(1000, min_cents - 100), "completed"))
            sales[q] = rows

        answers, fields, question, fmt_answer = self._question(ctx.variant, rng, sales, names, counts, level, quarters)

        # files
        paths = {q: ctx.path("/shared/sales", f"sales_2025_q{q}", "csv") for q in quarters}
        files: list[FileAsset] = []
        for q in quarters:
            rows = sorted(sales[q], key=lambda s: (s.date, s.employee, s.product, s.cents))
            lines = ["date,employee,region,product,units,unit_price,amount,status"]
            lines += [f"{s.date.isoformat()},{s.employee},{s.region},{s.product},{s.units},{s.unit_cents / 100:.2f},"
                      f"{s.cents / 100:.2f},{s.status}" for s in rows]
            files.append(FileAsset(path=paths[q], content="\n".join(lines) + "\n", media_type="text/csv",
                                   clue_ids=[f"{tid}-data"]))
        hb_path = ctx.path("/shared/sales", "sales_analysis_handbook", "md")
        minimum = (f" and its amount is at least {min_cents // 100}: smaller orders are free samples and never "
                   "count") if min_cents else ""
        handbook = "\n".join([
            "# Sales analysis handbook", "",
            "## What counts as a sale",
            f"A row of a quarterly sales file is a sale only if its status is completed{minimum}. Refunded, "
            "cancelled and pending rows are never sales.", "",
            "## Measures",
            "- A person's total is the sum of the amounts of their sales in the period.",
            "- The average sale is the mean amount of the sales in the period, rounded to 2 decimals.",
            "- A person's number of sales is how many sales they have in the period.",
            "- Regions are the region column of each sale.", "",
            "## Ties",
            "When several people (or regions) tie for a top place, list every one of them.", "",
            "## Reporting", "Amounts in the file's currency, rounded to cents.", ""])
        files.append(FileAsset(path=hb_path, content=handbook, media_type="text/markdown", hidden=level == 2,
                               clue_ids=[f"{tid}-handbook"]))
        clues = [Clue(clue_id=f"{tid}-data", description="the quarterly sales files", location="file",
                      where=", ".join(paths.values())),
                 Clue(clue_id=f"{tid}-handbook", description="what counts as a sale, rounding and ties",
                      location="file", where=hb_path, hops=2 if level == 2 else 1)]
        facts: list[Fact] = []
        plan: list[ToolCall] = []
        dept_names = [d.name for d in company.departments]
        owner_dept = "Sales" if "Sales" in dept_names else "Finance"
        if level == 2:
            head = company.employee(company.department(owner_dept).head)
            facts.append(Fact(fact_id=f"{tid}-share", holder=head.handle, topic="sales analysis handbook",
                              keywords=["sales analysis handbook", "analysis handbook", "handbook"],
                              reply=f"Sure, I've shared the sales analysis handbook with you: {hb_path}",
                              clue_ids=[f"{tid}-holder"], shares_files=[hb_path]))
            clues.append(Clue(clue_id=f"{tid}-holder", description="the handbook is shared on request",
                              location="colleague", where=f"ask {head.handle} (head of {owner_dept})"))
            plan += ask(head.handle, f"Hi {head.first_name}, could you share the sales analysis "
                                     "handbook with me?")
        plan.append(ToolCall(name="read_file", arguments={"path": hb_path}))
        plan += [ToolCall(name="read_file", arguments={"path": paths[q]}) for q in quarters]
        plan.append(ToolCall(name="submit", arguments={"task_id": tid, "answer": fmt_answer}))

        needs = [f"{tid}-data", f"{tid}-handbook", *([f"{tid}-holder"] if level == 2 else [])]
        checkpoints = [
            Checkpoint(cp_id=key.replace("_", "-"), description=desc, weight=weight, clue_ids=needs,
                       check=SubmissionCheck(field=key, expected=key, compare=compare, tolerance=tol),
                       feedback="What counts as a sale, how to round and how to treat ties are in the sales "
                                "analysis handbook.")
            for key, (desc, compare, tol, weight) in fields.items()]
        where = {0: f"Use the definitions of the sales analysis handbook ({hb_path}).",
                 1: "Use the definitions of the sales analysis handbook on the shared drive.",
                 2: f"Use the definitions of the sales analysis handbook; the {owner_dept} team has it."}[level]
        files_text = ", ".join(paths[q] for q in quarters)
        objective = f"Using the quarterly sales files ({files_text}), {question} {where}"
        return ctx.instance(
            self, objective=objective, extra_minutes=10, files=files, facts=facts, clues=clues,
            checkpoints=checkpoints, solution=plan, answers=answers)

    def _follow_up(self, ctx: GenContext) -> TaskInstance:
        """``bonus_payout``: Sales pays a bonus to the people (or regions) of an earlier task's result."""
        earlier = ctx.builds_on
        if earlier is None or earlier.family != self.name or earlier.variant not in RESULTS:
            raise ValueError("a sales_analysis follow-up needs an earlier sales_analysis task (GenContext.builds_on)")
        key, phrase = RESULTS[earlier.variant]
        regions = earlier.variant == "region_total"
        rows = [ln.split(",") for f in earlier.files if f.path.endswith(".csv")
                for ln in str(f.content).strip().splitlines()[1:]]
        candidates = sorted({r[2] if regions else r[1] for r in rows if len(r) == 8})
        spec = FollowUpSpec(
            entities=list(earlier.answers[key]), candidates=candidates, result_phrase=phrase,
            request="Sales pays each of them a bonus pool" if regions else "Sales pays each of them a bonus",
            folder="/shared/sales", sheet_stem="bonus_sheet", sheet_name="bonus sheet",
            entity_column="region" if regions else "employee", amount_column="bonus", counted_status="approved",
            other_statuses=("withdrawn", "pending"), list_key="bonus_recipients", total_key="bonus_total",
            amount_range=(800, 5000) if regions else (150, 900))
        return build_follow_up(ctx, self, earlier, spec)

    @staticmethod
    def _question(variant: str, rng: Any, sales: dict[int, list[Sale]], names: list[str], counts: Any, level: int,
                  quarters: list[int]) -> tuple[dict[str, Any], dict[str, tuple[str, str, float, float]], str,
                                                dict[str, Any]]:
        """Answers, checked fields (field -> description, comparison, tolerance, weight), the question and
        the oracle's submission. Redraws nothing: the data are nudged until every answer is non-empty."""
        if variant == "top_sellers":
            q = rng.choice(quarters)
            if level == 2:  # a tie at the top: the runner-up gets one more sale worth the difference
                totals = SalesAnalysis._totals(sales[q], counts)
                ranked = sorted(totals.items(), key=lambda kv: -kv[1])
                if len(ranked) > 1 and ranked[0][1] > ranked[1][1]:
                    gap = ranked[0][1] - ranked[1][1]
                    sale = next(s for s in sales[q] if s.employee == ranked[1][0])
                    extra = Sale(sale.date, sale.employee, sale.region, "Training day", 1, gap, "completed")
                    if counts(extra):
                        sales[q].append(extra)
            totals = SalesAnalysis._totals(sales[q], counts)
            best = max(totals.values())
            top = sorted(n for n, c in totals.items() if c == best)
            return ({"top_sellers": top, "total": _money(best)},
                    {"top_sellers": (f"the top seller(s) of Q{q}", "set_equals", 0.0, 2.0),
                     "total": ("the top seller's total", "number_close", 1e-4, 1.0)},
                    f"who sold the most (highest total) in Q{q} 2025, and how much? Submit "
                    '{"top_sellers": ["<name>", ...], "total": <their total>}.',
                    {"top_sellers": top, "total": _money(best)})
        if variant == "average":
            q = rng.choice(quarters)
            real = [s for s in sales[q] if counts(s)]
            avg = round(sum(s.cents for s in real) / len(real) / 100, 2)
            per: dict[str, list[int]] = defaultdict(list)
            for s in real:
                per[s.employee].append(s.cents)
            above = sorted(n for n, v in per.items() if sum(v) / len(v) / 100 > avg)
            if not above:  # only if every person's average is the same (never seen)
                raise GenerationError("sales_analysis: nobody is above the average sale")
            return ({"average_sale": avg, "above_average": above},
                    {"average_sale": (f"the average sale of Q{q}", "number_close", 1e-4, 1.0),
                     "above_average": ("the people whose own average sale is above it", "set_equals", 0.0, 1.0)},
                    f"what was the average sale in Q{q} 2025, and whose own average sale was above it? Submit "
                    '{"average_sale": <amount>, "above_average": ["<name>", ...]}.',
                    {"average_sale": avg, "above_average": above})
        if variant == "quarter_growth":
            qa = rng.choice(quarters[:-1])
            qb = qa + 1
            ca, cb = SalesAnalysis._numbers(sales[qa], counts), SalesAnalysis._numbers(sales[qb], counts)
            grew = sorted(n for n in names if cb.get(n, 0) > ca.get(n, 0))
            if not grew:  # someone must have grown: the closest one makes enough extra sales in the later quarter
                n = min(names, key=lambda x: (ca.get(x, 0) - cb.get(x, 0), x))
                s = next(x for x in sales[qb] if x.employee == n)
                for _ in range(ca.get(n, 0) - cb.get(n, 0) + 1):
                    sales[qb].append(Sale(s.date, n, s.region, "Team plan", 2, 50000, "completed"))
                cb = SalesAnalysis._numbers(sales[qb], counts)
                grew = sorted(n for n in names if cb.get(n, 0) > ca.get(n, 0))
            change = sum(cb.values()) - sum(ca.values())
            return ({"grew": grew, "change": change},
                    {"grew": (f"who made more sales in Q{qb} than in Q{qa}", "set_equals", 0.0, 2.0),
                     "change": ("the change in the number of sales", "number_close", 0.0, 1.0)},
                    f"which people made more sales in Q{qb} 2025 than in Q{qa}, and by how much did the team's "
                    "number of sales change between the two quarters (negative if it fell)? Submit "
                    '{"grew": ["<name>", ...], "change": <number>}.',
                    {"grew": grew, "change": change})
        by_region: dict[str, int] = defaultdict(int)
        for q in quarters:
            for s in sales[q]:
                if counts(s):
                    by_region[s.region] += s.cents
        best = max(by_region.values())
        top = sorted(r for r, c in by_region.items() if c == best)
        # a region with sales that is not the top one (so the two answers are independent), if there is one
        region = rng.choice(sorted(r for r in by_region if r not in top) or top)
        total = _money(by_region[region])
        return ({"region_total": total, "top_region": top},
                {"region_total": (f"the total of {region}", "number_close", 1e-4, 1.0),
                 "top_region": ("the region(s) with the highest total", "set_equals", 0.0, 1.0)},
                f"what is the total of the {region} region over all these quarters of 2025, and which region has "
                'the highest total? Submit {"region_total": <amount>, "top_region": ["<region>", ...]}.',
                {"region_total": total, "top_region": top})

    @staticmethod
    def _totals(rows: list[Sale], counts: Any) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for s in rows:
            if counts(s):
                out[s.employee] += s.cents
        return dict(out)

    @staticmethod
    def _numbers(rows: list[Sale], counts: Any) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for s in rows:
            if counts(s):
                out[s.employee] += 1
        return dict(out)

    def baseline(self, view: BaselineView) -> list[ToolCall]:
        """Treats every row of the files it read as a sale (it ignores the handbook's definition)."""
        if "bonus_recipients" in view.objective:
            column = "region" if "regions" in view.objective or "region(s)" in view.objective else "employee"
            return baseline_follow_up(view, column, "bonus", "bonus_recipients", "bonus_total")
        rows: list[tuple[int, str, str, float]] = []  # quarter, employee, region, amount
        for path, text in sorted(view.texts.items()):
            m = re.search(r"_q(\d)\.csv$", path)
            if m:
                for ln in text.strip().splitlines()[1:]:
                    c = ln.split(",")
                    if len(c) == 8:
                        rows.append((int(m.group(1)), c[1], c[2], float(c[6])))
        qm = re.search(r"Q(\d)", view.objective)
        q = int(qm.group(1)) if qm else 1
        totals: dict[str, float] = defaultdict(float)
        numbers: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        regions: dict[str, float] = defaultdict(float)
        for rq, who, region, amount in rows:
            numbers[rq][who] += 1
            regions[region] += amount
            if rq == q:
                totals[who] += amount
        top = [max(totals, key=lambda k: totals[k])] if totals else []
        qa = min(numbers) if numbers else 0
        grew = sorted(n for n, c in numbers.get(qa + 1, {}).items() if c > numbers.get(qa, {}).get(n, 0))
        rm = re.search(r"total of the (\w+) region", view.objective)
        answer = {"top_sellers": top, "total": round(max(totals.values()), 2) if totals else 0,
                  "average_sale": round(sum(totals.values()) / max(1, sum(numbers.get(q, {}).values())), 2),
                  "above_average": top, "grew": grew, "change": 0,
                  "region_total": round(regions.get(rm.group(1), 0.0), 2) if rm else 0,
                  "top_region": [max(regions, key=lambda k: regions[k])] if regions else []}
        return [ToolCall(name="submit", arguments={"task_id": view.task_id, "answer": answer})]
