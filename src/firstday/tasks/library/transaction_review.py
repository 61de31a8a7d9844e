"""Transaction review: flag suppliers whose transactions break the rules of a manual held by Finance.

Fixed against the reference: the ground truth is *computed* from the generated table by the same rules
the manual states (never an empty set), rules and thresholds vary per instance, and patterns of rules
that are *not* in today's manual appear as distractors, so guessing without the manual fails.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from firstday.tasks.checks import SubmissionCheck
from firstday.tasks.family import BaselineView, GenContext, ask, referral, register
from firstday.tasks.library._follow_up import FollowUpSpec, baseline_follow_up, build_follow_up
from firstday.tasks.model import Checkpoint, Clue, TaskInstance
from firstday.world.assets import Fact, FileAsset
from firstday.world.tools import ToolCall

SUPPLIER_A = (
    "Apex",
    "Birch",
    "Crown",
    "Delta",
    "Ember",
    "Falcon",
    "Granite",
    "Harbor",
    "Iron",
    "Jade",
    "Kestrel",
    "Lumen",
    "Maple",
    "Nimbus",
    "Orion",
    "Pioneer",
    "Quartz",
    "Redwood",
    "Summit",
    "Titan",
    "Vertex",
    "Willow",
    "Zenith",
    "Cobalt",
    "Atlas",
    "Beacon",
)
SUPPLIER_B = (
    "Metals",
    "Logistics",
    "Foods",
    "Paper",
    "Cleaning",
    "Print",
    "Software",
    "Electric",
    "Freight",
    "Textiles",
    "Packaging",
    "Catering",
    "Security",
    "Office Supply",
    "Tools",
    "Chemicals",
)
SUPPLIER_C = ("Ltd", "Inc", "GmbH", "Co", "LLC", "Group", "SA", "BV")


@dataclass(frozen=True)
class Txn:
    date: dt.date
    supplier: str
    invoice: str
    amount: float
    requested_by: str
    approved_by: str


@dataclass(frozen=True)
class Rule:
    key: str
    title: str
    text: str
    test: Callable[[list[Txn]], bool]


def _rules(threshold: int, split_n: int, round_n: int) -> dict[str, Rule]:
    def split(ts: list[Txn]) -> bool:
        by_day: dict[dt.date, list[Txn]] = defaultdict(list)
        for t in ts:
            if t.amount < threshold:
                by_day[t.date].append(t)
        return any(len(v) >= split_n and sum(t.amount for t in v) > threshold for v in by_day.values())

    return {
        "split_invoices": Rule(
            "split_invoices",
            "Split invoices",
            f"{split_n} or more transactions from one supplier on the same date, each below the approval "
            f"threshold of {threshold}, that together exceed it.",
            split,
        ),
        "round_amounts": Rule(
            "round_amounts",
            "Round amounts",
            f"{round_n} or more transactions from one supplier whose amounts are exact multiples of 1000.",
            lambda ts: sum(1 for t in ts if t.amount % 1000 == 0) >= round_n,
        ),
        "weekend_postings": Rule(
            "weekend_postings",
            "Weekend postings",
            "Any transaction dated on a Saturday or a Sunday.",
            lambda ts: any(t.date.weekday() >= 5 for t in ts),
        ),
        "duplicate_invoices": Rule(
            "duplicate_invoices",
            "Duplicate invoices",
            "The same invoice number appears on two or more transactions.",
            lambda ts: any(c > 1 for c in Counter(t.invoice for t in ts).values()),
        ),
        "self_approval": Rule(
            "self_approval",
            "Self-approval",
            "A transaction approved by the same person who requested it.",
            lambda ts: any(t.requested_by == t.approved_by for t in ts),
        ),
    }


VARIANTS = ("split_invoices", "round_amounts", "weekend_postings", "duplicate_invoices", "self_approval")
DEPENDENT_VARIANTS = ("payment_hold",)


def _inject(
    rule: str,
    rng: random.Random,
    txns: list[Txn],
    supplier: str,
    people: list[str],
    weekdays: list[dt.date],
    weekends: list[dt.date],
    threshold: int,
    split_n: int,
    round_n: int,
) -> list[Txn]:
    def inv() -> str:
        return f"INV-{rng.randint(100000, 999999)}"

    def amount(lo: float, hi: float) -> float:
        return round(rng.uniform(lo, hi), 2)

    a, b = rng.sample(people, 2)
    if rule == "split_invoices":
        d = rng.choice(weekdays)
        part = threshold / split_n
        return [Txn(d, supplier, inv(), amount(part * 1.02, threshold * 0.97), a, b) for _ in range(split_n)]
    if rule == "round_amounts":
        return [
            Txn(rng.choice(weekdays), supplier, inv(), float(rng.randint(1, 9) * 1000), a, b) for _ in range(round_n)
        ]
    if rule == "weekend_postings":
        return [Txn(rng.choice(weekends), supplier, inv(), amount(200, 4000), a, b)]
    if rule == "duplicate_invoices":
        i = inv()
        return [
            Txn(rng.choice(weekdays), supplier, i, amount(200, 4000), a, b),
            Txn(rng.choice(weekdays), supplier, i, amount(200, 4000), a, b),
        ]
    return [Txn(rng.choice(weekdays), supplier, inv(), amount(200, 4000), a, a)]


def _near_miss(
    rule: str,
    rng: random.Random,
    supplier: str,
    people: list[str],
    weekdays: list[dt.date],
    threshold: int,
    split_n: int,
    round_n: int,
) -> list[Txn]:
    """Transactions that look suspicious but do not break ``rule``."""
    a, b = rng.sample(people, 2)
    if rule == "split_invoices":
        d = rng.choice(weekdays)
        return [
            Txn(
                d,
                supplier,
                f"INV-{rng.randint(100000, 999999)}",
                round(rng.uniform(300, threshold / split_n * 0.9), 2),
                a,
                b,
            )
            for _ in range(split_n - 1)
        ]
    if rule == "round_amounts":
        return [
            Txn(
                rng.choice(weekdays),
                supplier,
                f"INV-{rng.randint(100000, 999999)}",
                float(rng.randint(1, 9) * 100 + 50),
                a,
                b,
            )
            for _ in range(round_n)
        ]
    return []


@register
class TransactionReview:
    name = "transaction_review"
    title = "Transaction review"
    description = (
        "Flag suppliers whose transactions break the rules of the finance transaction review manual, "
        "which only Finance can share."
    )
    domains = ("information",)
    modalities = ("table", "dialogue")
    variants = VARIANTS
    dependent_variants = DEPENDENT_VARIANTS
    knobs: ClassVar[dict[str, str]] = {
        "dependent": "variant payment_hold, builds on an earlier transaction_review task: the open payments to "
                     "every supplier it flagged are held, from a list of the payments to every supplier; easy one "
                     "row each, medium and hard up to 2 / 3 rows of which only the open count",
        "rules": "rules in today's manual: easy 1, medium 2, hard 3 (the variant's rule is always one)",
        "suppliers": "suppliers in the table: easy 8, medium 14, hard 22",
        "hops": "who holds the manual: easy named in the objective; medium the Finance head; hard the Finance "
        "head refers you to the colleague who maintains it (two hops)",
        "distractors": "medium and hard add near misses of the active rules and patterns of rules not in the manual",
    }

    def generate(self, ctx: GenContext) -> TaskInstance:
        if ctx.variant in DEPENDENT_VARIANTS:
            return self._follow_up(ctx)
        rng = ctx.rng
        level = {"easy": 0, "medium": 1, "hard": 2}[ctx.difficulty]
        threshold = rng.choice((2000, 5000, 10000))
        split_n, round_n = rng.choice((3, 4)), rng.choice((2, 3))
        rules = _rules(threshold, split_n, round_n)
        active = [ctx.variant, *rng.sample([r for r in VARIANTS if r != ctx.variant], level)]
        inactive = [r for r in VARIANTS if r not in active]
        n_sup = (8, 14, 22)[level]
        names: list[str] = []
        while len(names) < n_sup:
            n = f"{rng.choice(SUPPLIER_A)} {rng.choice(SUPPLIER_B)} {rng.choice(SUPPLIER_C)}"
            if n not in names:
                names.append(n)
        year, quarter = 2025, rng.randint(1, 4)
        first = dt.date(year, 3 * quarter - 2, 1)
        days = [first + dt.timedelta(days=i) for i in range(90)]
        weekdays = [d for d in days if d.weekday() < 5]
        weekends = [d for d in days if d.weekday() >= 5]
        people = [e.name for e in ctx.company.employees if e.department not in ("Finance", "Executive")][:12]
        if len(people) < 4:
            people = [e.name for e in ctx.company.employees][:12]

        txns: list[Txn] = []
        for s in names:
            for _ in range(rng.randint(3, 7)):
                a, b = rng.sample(people, 2)
                amt = round(rng.uniform(120, threshold * 0.6), 2)
                if amt % 100 == 0:
                    amt += 0.37
                txns.append(Txn(rng.choice(weekdays), s, f"INV-{rng.randint(100000, 999999)}", amt, a, b))
        pool = list(names)
        rng.shuffle(pool)
        for r in active:
            for _ in range(rng.randint(1, 2 if level < 2 else 3)):
                if pool:
                    txns += _inject(r, rng, txns, pool.pop(), people, weekdays, weekends, threshold, split_n, round_n)
        if level:
            for r in active:
                if pool:
                    txns += _near_miss(r, rng, pool.pop(), people, weekdays, threshold, split_n, round_n)
            for r in inactive[:level]:
                if pool:
                    txns += _inject(r, rng, txns, pool.pop(), people, weekdays, weekends, threshold, split_n, round_n)
        txns.sort(key=lambda t: (t.date, t.supplier, t.invoice, t.amount))
        by_sup: dict[str, list[Txn]] = defaultdict(list)
        for t in txns:
            by_sup[t.supplier].append(t)
        # the ground truth is computed from the table with the manual's own rules
        ids = [f"R{i}" for i in range(1, len(active) + 1)]
        truth = {
            rid: sorted(s for s, ts in by_sup.items() if rules[r].test(ts)) for rid, r in zip(ids, active, strict=True)
        }
        assert all(truth.values()), "every active rule has at least one violator by construction"

        csv_path = ctx.path("/shared/finance", f"transactions_{year}_q{quarter}", "csv")
        manual_path = ctx.path("/shared/finance", "transaction_review_manual", "md")
        # a reference code unique within the day, so two review tasks never answer for each other
        while True:
            code = f"TRM-{rng.randint(1000, 9999)}"
            if f"transaction_review:code:{code}" not in ctx.used_paths:
                ctx.used_paths.add(f"transaction_review:code:{code}")
                break
        rows = ["date,supplier,invoice,amount,requested_by,approved_by"]
        rows += [
            f"{t.date.isoformat()},{t.supplier},{t.invoice},{t.amount:.2f},{t.requested_by},{t.approved_by}"
            for t in txns
        ]
        manual = [
            f"# Transaction review manual ({year} Q{quarter})",
            "",
            "A supplier must be flagged under a rule if any of its transactions in the period match the rule.",
            "Report suppliers under the rule id. The rules in force this quarter are:",
            "",
        ]
        manual += [f"- {rid} ({rules[r].title}): {rules[r].text}" for rid, r in zip(ids, active, strict=True)]
        manual += ["", "Patterns not listed above are not violations this quarter."]

        finance = ctx.company.department("Finance")
        holder = ctx.company.employee(rng.choice(finance.members[1:]) if level != 1 else finance.head)
        head = ctx.company.employee(finance.head)
        tid = ctx.task_id
        facts = [
            Fact(
                fact_id=f"{tid}-manual",
                holder=holder.handle,
                topic="transaction review manual",
                keywords=["transaction review manual", "review manual", "manual", "transaction rules"],
                require_any=[code],
                reply=f"Sure, I've shared the transaction review manual with you: {manual_path}",
                clue_ids=[f"{tid}-holder"],
                shares_files=[manual_path],
            )
        ]
        clues = [
            Clue(
                clue_id=f"{tid}-manual",
                description="the rules in force and their ids",
                location="file",
                where=f"{manual_path}, shared by {holder.handle} (Finance)",
                hops=2 if level == 2 else 1,
            ),
            Clue(
                clue_id=f"{tid}-holder",
                description="the manual is shared on request",
                location="colleague",
                where=f"ask {holder.handle}",
            ),
        ]
        plan: list[ToolCall] = []
        if level == 2:
            referral(f"{tid}-referral", head, "head of Finance", topic="who keeps the manual",
                     keywords=["transaction review manual", "review manual", "manual"], require_any=[code],
                     description="who maintains the manual",
                     reply=f"I don't keep it myself: {holder.name} ({holder.handle}) maintains the "
                           "transaction review manual.",
                     question=f"Hi! Who keeps the transaction review manual {code}?").add_to(facts, clues, plan)
        plan += [
            *ask(holder.handle, f"Hello, could you share the transaction review manual {code} with me?"),
            ToolCall(name="read_file", arguments={"path": manual_path}),
            ToolCall(name="read_file", arguments={"path": csv_path}),
            ToolCall(name="submit", arguments={"task_id": tid, "answer": {"violations": truth}}),
        ]
        where = {
            0: f"{holder.name} ({holder.handle}) in Finance has the transaction review manual.",
            1: "The Finance team can give you the transaction review manual.",
            2: "Finance owns the transaction review manual.",
        }[level]
        objective = (
            f"Review the supplier transactions in {csv_path} and flag every supplier that breaks a rule "
            f"of the transaction review manual (reference {code}). {where} Submit "
            '{"violations": {"<rule id>": ["<supplier name>", ...]}} with one entry for every rule in the manual.'
        )
        checkpoints = [
            Checkpoint(
                cp_id=f"rule-{rid}",
                description=f"suppliers breaking {rid} ({rules[r].title})",
                clue_ids=[f"{tid}-manual"],
                check=SubmissionCheck(field=f"violations.{rid}", expected=f"violations.{rid}", compare="set_equals"),
                feedback="The rules and their ids are in the transaction review manual; Finance can share it.",
            )
            for rid, r in zip(ids, active, strict=True)
        ]
        return ctx.instance(
            self, objective=objective,
            files=[
                FileAsset(path=csv_path, content="\n".join(rows) + "\n", media_type="text/csv"),
                FileAsset(
                    path=manual_path,
                    content="\n".join(manual) + "\n",
                    media_type="text/markdown",
                    hidden=True,
                    clue_ids=[f"{tid}-manual"],
                ),
            ],
            facts=facts, clues=clues, checkpoints=checkpoints, solution=plan,
            answers={f"violations.{rid}": v for rid, v in truth.items()})

    def _follow_up(self, ctx: GenContext) -> TaskInstance:
        """``payment_hold``: Finance holds the open payments to every supplier an earlier review flagged."""
        earlier = ctx.builds_on
        if earlier is None or earlier.family != self.name or earlier.variant not in VARIANTS:
            raise ValueError("a transaction_review follow-up needs an earlier transaction_review task "
                             "(GenContext.builds_on)")
        flagged = sorted({s for k, v in earlier.answers.items() if k.startswith("violations.") for s in v})
        table = next(f for f in earlier.files if f.path.endswith(".csv"))
        suppliers = sorted({ln.split(",")[1] for ln in str(table.content).strip().splitlines()[1:]})
        spec = FollowUpSpec(
            entities=flagged, candidates=suppliers,
            result_phrase="the suppliers flagged under any rule", request="Finance holds every open payment to them",
            folder="/shared/finance", sheet_stem="open_payments", sheet_name="payments list", entity_column="supplier",
            amount_column="amount", counted_status="open", other_statuses=("paid", "cancelled"),
            list_key="on_hold", total_key="held_amount", amount_range=(200, 9000))
        return build_follow_up(ctx, self, earlier, spec)

    def baseline(self, view: BaselineView) -> list[ToolCall]:
        """Best effort: parse the manual if it was found, apply simple detectors; else guess one rule id."""
        if '"on_hold"' in view.objective:
            return baseline_follow_up(view, "supplier", "amount", "on_hold", "held_amount")
        manual = next((t for p, t in view.texts.items() if "manual" in p), "")
        table = next((t for p, t in view.texts.items() if p.endswith(".csv")), "")
        rows = [r.split(",") for r in table.strip().splitlines()[1:]] if table else []
        violations: dict[str, list[str]] = {}
        for line in manual.splitlines():
            if not line.startswith("- R"):
                continue
            rid = line[2:].split(" ", 1)[0]
            low = line.lower()
            hits: set[str] = set()
            for r in rows:
                if len(r) < 6:
                    continue
                d, sup, inv, amt = dt.date.fromisoformat(r[0]), r[1], r[2], float(r[3])
                if (
                    ("weekend" in low and d.weekday() >= 5)
                    or ("self-approval" in low and r[4] == r[5])
                    or ("round" in low and amt % 1000 == 0)
                ):
                    hits.add(sup)
                if "duplicate" in low and sum(1 for x in rows if x[2] == inv) > 1:
                    hits.add(sup)
                if "split" in low and sum(1 for x in rows if x[1] == sup and x[0] == r[0]) >= 3:
                    hits.add(sup)  # ignores the threshold: a deliberately rough detector
            violations[rid] = sorted(hits)
        if not violations:
            suppliers = sorted({r[1] for r in rows if len(r) > 1})
            violations = {"R1": view.rng.sample(suppliers, min(2, len(suppliers)))}
        return [ToolCall(name="submit", arguments={"task_id": view.task_id, "answer": {"violations": violations}})]
