"""Vendor comparison: pick the best vendor for a purchase under Procurement's weighted scoring rubric.

Quotes are files on the drive; the rubric (criteria weights, how price is counted, knock-out rules) is in
a procurement policy that Procurement shares on request. The ground truth is computed from the quotes by
the rubric's own formulas and is made unambiguous (clear margins); the cheapest quote never wins, so
guessing by price fails. Medium adds a superseded quote; at hard one quote lacks a value that only the
buyer who spoke to the vendor can confirm, and the winner depends on it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import ClassVar

from firstday.errors import GenerationError
from firstday.tasks.checks import SubmissionCheck
from firstday.tasks.family import BaselineView, GenContext, ask, referral, register
from firstday.tasks.model import Checkpoint, Clue, TaskInstance
from firstday.world.assets import Fact, FileAsset
from firstday.world.tools import ToolCall

VARIANTS = ("weighted", "knockout", "total_cost", "volume_discount")
KEY_RFQ = "vendor_comparison:rfq:"
VENDORS = ("Arcadia Supply", "Brightline Systems", "Corvus Trading", "Dunmore & Co", "Eastgate Solutions",
           "Fairhaven Goods", "Greywood Partners", "Halcyon Tech", "Ironbridge Ltd", "Juniper Works",
           "Keel Industrial", "Larkspur Group", "Marlow Equipment", "Northstar Direct")
ITEMS = (("laptops", (700, 1600)), ("office chairs", (150, 600)), ("monitors", (150, 500)),
         ("headsets", (40, 200)), ("label printers", (200, 700)), ("standing desks", (300, 900)))
# criterion -> (label, higher is better)
CRITERIA: dict[str, tuple[str, bool]] = {
    "price": ("price", False), "delivery": ("delivery lead time", False),
    "warranty": ("warranty", True), "support": ("support rating", True),
}
CERTS = ("ISO 9001", "ISO 14001", "ISO 27001")
ASK = "Could you share the procurement scoring policy for comparing vendor quotes (RFQ {rfq})?"


@dataclass
class Quote:
    vendor: str
    unit_price: int
    delivery: int  # days
    warranty: int  # months
    support: float  # 1-5
    certs: list[str] = field(default_factory=list)
    install: int = 0
    annual_fee: int = 0
    tiers: list[tuple[int, int]] = field(default_factory=list)  # (min quantity, unit price)


@dataclass
class Rubric:
    weights: dict[str, int]
    qty: int
    years: int = 3
    must_cert: str | None = None
    max_delivery: int | None = None

    def price(self, q: Quote, variant: str) -> int:
        if variant == "volume_discount":
            unit = [p for m, p in q.tiers if self.qty >= m][-1]
            return unit * self.qty
        base = q.unit_price * self.qty
        if variant == "total_cost":
            return base + q.install + self.years * q.annual_fee
        return base

    def excluded(self, q: Quote) -> bool:
        return (self.must_cert is not None and self.must_cert not in q.certs) or (
            self.max_delivery is not None and q.delivery > self.max_delivery)

    def scores(self, quotes: list[Quote], variant: str) -> dict[str, float]:
        ok = [q for q in quotes if not self.excluded(q)]
        raw = {q.vendor: {"price": float(self.price(q, variant)), "delivery": float(q.delivery),
                          "warranty": float(q.warranty), "support": q.support} for q in ok}
        out: dict[str, float] = {}
        for v, vals in raw.items():
            total = 0.0
            for c, w in self.weights.items():
                higher = CRITERIA[c][1]
                best = max(r[c] for r in raw.values()) if higher else min(r[c] for r in raw.values())
                total += w * (vals[c] / best if higher else best / vals[c])
            out[v] = round(total, 2)
        return out


def _quote_text(q: Quote, rfq: str, item: str, variant: str, version: int, missing: str | None,
                buyer: str, rng: random.Random) -> str:
    issued = f"2025-06-{rng.randint(1, 9) + 10 * (version - 1):02d}"  # a revision is always issued later
    lines = [f"# Quotation for {rfq}: {item}", f"Vendor: {q.vendor}", f"Version: {version} (issued {issued})",
             ""]
    if variant == "volume_discount":
        lines.append("Unit price by order quantity:")
        lines += [f"- {m}+ units: ${p:,} per unit" for m, p in q.tiers]
    else:
        lines.append(f"Unit price: ${q.unit_price:,}")
    if variant == "total_cost":
        lines.append(f"One-off installation and setup: ${q.install:,}")
        lines.append(f"Annual support contract: ${q.annual_fee:,} per year")
    if missing == "delivery":
        lines.append(f"Delivery lead time: to be confirmed (our account manager confirmed it by phone with {buyer})")
    else:
        lines.append(f"Delivery lead time: {q.delivery} days")
    lines.append(f"Warranty: {q.warranty} months")
    lines.append(f"Customer support rating (independent survey): {q.support:.1f} / 5")
    lines.append(f"Certifications: {', '.join(q.certs) if q.certs else 'none'}")
    lines += ["", rng.choice(("Prices exclude VAT.", "Valid for 30 days.", "Payment terms: 30 days net.",
                              "Delivery to your main office included."))]
    return "\n".join(lines) + "\n"


@register
class VendorComparison:
    name = "vendor_comparison"
    title = "Vendor comparison"
    description = (
        "Choose the best vendor for a purchase from the quotes on the drive, scored with the weighted rubric "
        "of the procurement policy that Procurement holds."
    )
    domains = ("strategy", "information")
    modalities = ("text", "dialogue")
    variants = VARIANTS
    knobs: ClassVar[dict[str, str]] = {
        "vendors": "quotes to compare: easy 3, medium 4, hard 5",
        "criteria": "weighted criteria in the rubric: easy 2, medium 3, hard 4",
        "price_rule": "how price counts, by variant: unit price x quantity; 'total_cost' adds installation and "
        "years of support; 'volume_discount' takes the tier for the quantity",
        "knockouts": "'knockout': a required certification (and at medium/hard a maximum lead time) exclude "
        "vendors, including the one that would otherwise win",
        "distractors": "medium and hard add a superseded earlier quote of one vendor",
        "clarification": "hard: one quote's lead time is 'to be confirmed' with a named buyer, and the winner "
        "depends on it",
        "hops": "who holds the policy: easy named; medium the Procurement head; hard the head refers you to "
        "the category manager (two hops)",
    }

    def generate(self, ctx: GenContext) -> TaskInstance:
        rng, company, tid, variant = ctx.rng, ctx.company, ctx.task_id, ctx.variant
        level = {"easy": 0, "medium": 1, "hard": 2}[ctx.difficulty]
        n_vendors, n_criteria = (3, 4, 5)[level], (2, 3, 4)[level]
        rfq = f"RFQ-{rng.randint(100, 999)}"
        while KEY_RFQ + rfq in ctx.used_paths:
            rfq = f"RFQ-{rng.randint(100, 999)}"
        ctx.used_paths.add(KEY_RFQ + rfq)
        item, (lo, hi) = rng.choice(ITEMS)

        for _attempt in range(400):
            others = [c for c in CRITERIA if c != "price"]
            crits = ["price", *rng.sample(others, n_criteria - 1)]
            cuts = sorted(rng.sample(range(1, 20), n_criteria - 1))
            parts = [b - a for a, b in zip([0, *cuts], [*cuts, 20], strict=True)]
            weights = {c: 5 * p for c, p in zip(crits, parts, strict=True)}  # multiples of 5, sum 100
            rubric = Rubric(weights, qty=rng.choice((40, 60, 120, 150, 300)), years=rng.choice((2, 3, 4)))
            quotes = []
            for v in rng.sample(VENDORS, n_vendors):
                q = Quote(v, rng.randint(lo, hi), rng.randint(5, 45), rng.choice((12, 24, 36, 48, 60)),
                          round(rng.uniform(2.5, 5.0), 1), sorted(rng.sample(CERTS, rng.randint(0, 3))))
                if variant == "total_cost":
                    q.install = rng.randint(5, 40) * 100
                    q.annual_fee = rng.randint(10, 80) * 100
                if variant == "volume_discount":
                    p1 = q.unit_price
                    q.tiers = [(1, p1), (50, round(p1 * rng.uniform(0.8, 0.97))),
                               (150, round(p1 * rng.uniform(0.6, 0.85)))]
                    q.tiers[2] = (150, min(q.tiers[2][1], q.tiers[1][1]))
                quotes.append(q)
            if variant == "knockout":
                rubric.must_cert = rng.choice(CERTS)
                if level:
                    rubric.max_delivery = rng.choice((20, 25, 30))
            if not self._good(rubric, quotes, variant):
                continue
            missing: Quote | None = None
            if level == 2:
                missing = self._needs_clarification(rng, rubric, quotes, variant)
                if missing is None:
                    continue
            break
        else:
            raise GenerationError("vendor_comparison: no unambiguous instance found")
        scores = rubric.scores(quotes, variant)
        ranked = sorted(scores, key=lambda v: -scores[v])
        winner, runner_up = ranked[0], ranked[1]
        excluded = sorted(q.vendor for q in quotes if rubric.excluded(q))

        # --- people ---------------------------------------------------------------------------------
        dept_name = next(d for d in ("Procurement", "Finance") if any(x.name == d for x in company.departments))
        dept = company.department(dept_name)
        head = company.employee(dept.head)
        members = [company.employee(h) for h in dept.members[1:]]
        keeper = rng.choice(members) if level == 2 else head
        buyer = rng.choice([m for m in members if m.handle != keeper.handle] or members)

        # --- files ----------------------------------------------------------------------------------
        folder = f"/shared/procurement/quotes/{rfq.lower()}"
        files: list[FileAsset] = []
        quote_paths: list[str] = []
        # medium/hard: one vendor revised its quote; the earlier version (better looking) no longer counts
        revised = rng.choice([q for q in quotes if q is not missing]) if level else None  # never leak the unknown
        for q in quotes:
            slug = f"{folder}/{q.vendor.lower().replace(' & ', '-').replace(' ', '-')}"
            if q is revised:
                stale = Quote(q.vendor, max(lo // 2, int(q.unit_price * 0.8)), max(3, q.delivery - 5),
                              q.warranty + 12, min(5.0, q.support + 0.3), list(CERTS), q.install // 2,
                              q.annual_fee // 2, [(m, int(p * 0.8)) for m, p in q.tiers])
                files.append(FileAsset(path=f"{slug}-v1.md", media_type="text/markdown",
                                       content=_quote_text(stale, rfq, item, variant, 1, None, "", rng)))
                quote_paths.append(f"{slug}-v1.md")
            path = f"{slug}-v2.md" if q is revised else f"{slug}.md"
            files.append(FileAsset(path=path, media_type="text/markdown", content=_quote_text(
                q, rfq, item, variant, 2 if q is revised else 1, "delivery" if q is missing else None,
                f"{buyer.name} ({buyer.handle})", rng)))
            quote_paths.append(path)

        policy_path = ctx.path("/shared/procurement", "vendor_scoring_policy", "md")
        doc = [f"# Procurement policy: scoring vendor quotes ({dept_name})", "",
               "Only the latest version of each vendor's quote counts.", ""]
        if rubric.must_cert or rubric.max_delivery:
            doc.append("Knock-out rules (a vendor failing one is excluded before scoring):")
            if rubric.must_cert:
                doc.append(f"- the vendor must hold {rubric.must_cert} certification;")
            if rubric.max_delivery:
                doc.append(f"- the delivery lead time must be at most {rubric.max_delivery} days.")
            doc.append("")
        price_rule = {
            "weighted": "unit price x quantity ordered",
            "knockout": "unit price x quantity ordered",
            "total_cost": f"total cost of ownership over {rubric.years} years: unit price x quantity + "
                          f"installation + {rubric.years} x the annual support contract",
            "volume_discount": "the unit price of the quantity tier the order falls in x quantity ordered",
        }[variant]
        doc.append("Each criterion is scored against the best remaining quote on it:")
        doc.append(f"- price ({price_rule}): lowest price / vendor's price")
        for c in crits[1:]:
            label, higher = CRITERIA[c]
            unit = {"delivery": "days", "warranty": "months", "support": "of 5"}[c]
            doc.append(f"- {label} ({unit}): " + ("vendor's value / highest value" if higher else
                                                  "lowest value / vendor's value"))
        doc += ["", "Total score = sum over the criteria of weight x criterion score (weights in points, "
                    "summing to 100). The highest total wins.", "", "| criterion | weight |", "|---|---|"]
        doc += [f"| {CRITERIA[c][0]} | {w} |" for c, w in weights.items()]
        files.append(FileAsset(path=policy_path, content="\n".join(doc) + "\n", media_type="text/markdown",
                               hidden=True, clue_ids=[f"{tid}-policy"]))

        question = ASK.format(rfq=rfq)
        facts = [Fact(fact_id=f"{tid}-policy", holder=keeper.handle, topic="vendor scoring policy",
                      keywords=["scoring policy", "procurement policy", "scoring", "rubric", "vendor quotes",
                                rfq.lower()],
                      reply=f"Here is our procurement policy for scoring vendor quotes: {policy_path}",
                      clue_ids=[f"{tid}-keeper"], shares_files=[policy_path])]
        clues = [Clue(clue_id=f"{tid}-policy", description="criteria, weights and rules", location="file",
                      where=f"{policy_path}, shared by {keeper.handle}", hops=2 if level == 2 else 1),
                 Clue(clue_id=f"{tid}-keeper", description="the policy is shared on request", location="colleague",
                      where=f"ask {keeper.handle}")]
        plan: list[ToolCall] = [ToolCall(name="read_file", arguments={"path": p}) for p in quote_paths]
        if level == 2:
            referral(f"{tid}-referral", head, f"head of {dept_name}", topic="who keeps the scoring policy",
                     keywords=["scoring policy", "procurement policy", "scoring", "rubric"],
                     description="who keeps the scoring policy",
                     reply=f"{keeper.name} ({keeper.handle}) is our category manager and keeps the "
                           "scoring policy; please ask them.",
                     question=question).add_to(facts, clues, plan)
        plan += [*ask(keeper.handle, question),
                 ToolCall(name="read_file", arguments={"path": policy_path})]
        deps = [f"{tid}-policy"]
        if missing is not None:
            token = missing.vendor.split()[0].lower()
            facts.append(Fact(fact_id=f"{tid}-lead-time", holder=buyer.handle, topic=f"{missing.vendor} lead time",
                              keywords=["lead time", "delivery", "confirmed", token],
                              require_any=[token],
                              reply=f"Yes, {missing.vendor} confirmed a delivery lead time of {missing.delivery} days "
                                    f"for {rfq}.",
                              clue_ids=[f"{tid}-lead-time"]))
            clues.append(Clue(clue_id=f"{tid}-lead-time", description=f"{missing.vendor}'s lead time",
                              location="colleague", where=f"ask {buyer.handle} (named in the quote)"))
            plan += ask(buyer.handle, f"What delivery lead time did {missing.vendor} confirm for {rfq}?")
            deps.append(f"{tid}-lead-time")
        answer: dict[str, object] = {"vendor": winner, "runner_up": runner_up, "score": scores[winner]}
        if variant == "knockout":
            answer["excluded"] = excluded
        plan.append(ToolCall(name="submit", arguments={"task_id": tid, "answer": answer}))

        hint = "Score the latest quotes with the weights and rules of Procurement's vendor scoring policy."
        checkpoints = [
            Checkpoint(cp_id="winner", description="the best vendor", weight=2.0, clue_ids=deps,
                       check=SubmissionCheck(field="vendor", expected="vendor"), feedback=hint),
            Checkpoint(cp_id="runner-up", description="the second-best vendor", weight=1.0, clue_ids=deps,
                       check=SubmissionCheck(field="runner_up", expected="runner_up"), feedback=hint),
            Checkpoint(cp_id="score", description="the winner's total score", weight=1.0, clue_ids=deps,
                       check=SubmissionCheck(field="score", expected="score", compare="number_close",
                                             tolerance=0.002), feedback=hint),
        ]
        answers: dict[str, object] = {"vendor": winner, "runner_up": runner_up, "score": scores[winner]}
        if variant == "knockout":
            checkpoints.append(Checkpoint(
                cp_id="excluded", description="the vendors knocked out", weight=1.0, clue_ids=deps,
                check=SubmissionCheck(field="excluded", expected="excluded", compare="set_equals"), feedback=hint))
            answers["excluded"] = excluded
        where = {0: f"{keeper.name} ({keeper.handle}) in {dept_name} keeps the vendor scoring policy.",
                 1: f"The head of {dept_name} can give you the procurement policy for scoring vendor quotes.",
                 2: f"{dept_name} owns the procurement policy for scoring vendor quotes."}[level]
        objective = (
            f"We need {rubric.qty} {item} ({rfq}). Compare the vendor quotes in {folder}/ "
            f"({', '.join(sorted(quote_paths))}) with the procurement scoring policy and pick the best vendor. "
            f"{where} Submit {{\"vendor\": \"<name>\", \"runner_up\": \"<name>\", \"score\": <the winner's total "
            f"score>" + (", \"excluded\": [\"<vendors knocked out>\"]" if variant == "knockout" else "") + "}."
        )
        return ctx.instance(
            self, objective=objective, files=files, facts=facts, clues=clues, checkpoints=checkpoints, solution=plan,
            answers=answers)

    @staticmethod
    def _good(rubric: Rubric, quotes: list[Quote], variant: str) -> bool:
        """Unambiguous (clear margins), and neither the cheapest nor, for knock-outs, the unrestricted best wins."""
        scores = rubric.scores(quotes, variant)
        if len(scores) < 2:
            return False
        ranked = sorted(scores.values(), reverse=True)
        if ranked[0] - ranked[1] < 1.5 or (len(ranked) > 2 and ranked[1] - ranked[2] < 1.0):
            return False
        winner = max(scores, key=lambda v: scores[v])
        cheapest = min(quotes, key=lambda q: rubric.price(q, variant)).vendor
        if winner == cheapest:
            return False
        if variant == "knockout":
            free = Rubric(rubric.weights, rubric.qty, rubric.years)
            free_scores = free.scores(quotes, variant)
            best_free = max(free_scores, key=lambda v: free_scores[v])
            if best_free == winner or not any(rubric.excluded(q) for q in quotes):
                return False
        return True

    def _needs_clarification(self, rng: random.Random, rubric: Rubric, quotes: list[Quote],
                             variant: str) -> Quote | None:
        """A quote whose unknown lead time decides the winner (its best and worst plausible values differ)."""
        if "delivery" not in rubric.weights and rubric.max_delivery is None:
            return None
        for q in rng.sample(quotes, len(quotes)):
            if rubric.excluded(q) and rubric.must_cert and rubric.must_cert not in q.certs:
                continue  # excluded anyway: its lead time would not matter
            outcomes = set()
            for days in (5, 45):
                alt = [Quote(x.vendor, x.unit_price, days if x is q else x.delivery, x.warranty, x.support, x.certs,
                             x.install, x.annual_fee, x.tiers) for x in quotes]
                s = rubric.scores(alt, variant)
                outcomes.add(max(s, key=lambda v: s[v]) if s else "")
            if len(outcomes) > 1:
                return q
        return None

    def baseline(self, view: BaselineView) -> list[ToolCall]:
        """Score the latest quotes with the policy's weights if it was found, counting price as the first unit
        price x quantity (tiers, extra costs, knock-outs and unconfirmed values ignored); else cheapest wins."""
        import re

        qty_match = re.search(r"We need (\d+) ", view.objective)
        qty = int(qty_match.group(1)) if qty_match else 1
        values: dict[str, dict[str, float]] = {}
        for path, text in view.texts.items():
            if "/quotes/" not in path:
                continue
            vendor = re.search(r"^Vendor: (.+)$", text, re.M)
            price = re.search(r"\$([\d,]+)", text)
            if not vendor or not price:
                continue
            vals = {"price": float(price.group(1).replace(",", "")) * qty}
            for key, pattern in (("delivery", r"lead time: (\d+) days"), ("warranty", r"Warranty: (\d+)"),
                                 ("support", r"rating.*?: ([\d.]+) /")):
                m = re.search(pattern, text)
                vals[key] = float(m.group(1)) if m else 30.0
            values.setdefault(vendor.group(1), vals)  # rough: the first version read counts
        policy = next((t for p, t in view.texts.items() if "scoring_policy" in p), "")
        weights = {c: float(m.group(1)) for c, (label, _) in CRITERIA.items()
                   if (m := re.search(rf"^\| {label} \| (\d+) \|$", policy, re.M))} or {"price": 100.0}
        scores: dict[str, float] = {}
        for v, vals in values.items():
            total = 0.0
            for c, w in weights.items():
                col = [x[c] for x in values.values()]
                total += w * (vals[c] / max(col) if CRITERIA[c][1] else min(col) / vals[c])
            scores[v] = round(total, 2)
        ranked = sorted(scores, key=lambda v: -scores[v])
        answer: dict[str, object] = {"vendor": ranked[0] if ranked else view.rng.choice(VENDORS),
                                     "runner_up": ranked[1] if len(ranked) > 1 else "",
                                     "score": scores[ranked[0]] if ranked else 100}
        return [ToolCall(name="submit", arguments={"task_id": view.task_id, "answer": answer})]
