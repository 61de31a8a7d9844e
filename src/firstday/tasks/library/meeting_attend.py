"""Meeting attend: be at a meeting on time; the task itself is given only in the meeting.

The objective only says which meeting to attend. Its notes (seen by attending) name a batch of
procurement requests and what to do with it: summarise it, flag the requests that break the
procurement rules (a rules file, with rules and thresholds that vary per instance) and total them, or
total it per category or per department. Medium and hard restrict the work to pending requests (and
hard to one week), so approved, rejected and cancelled requests are distractors; on hard the amount
must be computed (quantity x unit price + shipping) and the file is hidden with a colleague the notes
name (meeting -> colleague -> file).

Fixed against the reference: the ground truth is computed from the generated requests by the very
rule the notes and the rules file state (never empty, no ties for "largest"/"top"); the meeting is
placed after the task arrives, apart from the trainee's other required meetings and in a free room.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from firstday.errors import DayFullError, GenerationError
from firstday.tasks.checks import AttendedCheck, SubmissionCheck
from firstday.tasks.family import BaselineView, GenContext, ask, estimate_minutes, register
from firstday.tasks.model import Checkpoint, Clue, TaskInstance
from firstday.timefmt import fmt
from firstday.world.assets import Fact, FileAsset, MeetingAsset
from firstday.world.company import Employee
from firstday.world.tools import ToolCall

VARIANTS = ("summarise", "filter", "total", "by_department")
KEY_BATCH = "meeting_attend:batch:"  # day-wide: batch ids already used
# keys other families keep in the day-wide set (meeting_booking's room and people reservations)
KEY_BOOKED_ROOM = "meeting_booking:room:"
KEY_BOOKED_BUSY = ("meeting_booking:busy:", "meeting_booking:known:")
MARGIN = 20  # minutes kept between this meeting and the trainee's other required meetings
LATEST_END_GAP = 75  # the meeting ends this long before the day ends: the work after it must still fit

CATALOGUE: dict[str, tuple[tuple[str, float, float, int], ...]] = {
    # category -> (item, min unit price, max unit price, max quantity)
    "Office supplies": (("Printer paper (box)", 18, 45, 40), ("Whiteboard markers (pack)", 6, 15, 30),
                        ("Notebooks (pack)", 9, 25, 30), ("Toner cartridge", 55, 140, 12)),
    "IT hardware": (("Laptop", 850, 2100, 6), ("Monitor", 160, 480, 10), ("Docking station", 120, 290, 10),
                    ("Headset", 45, 190, 15)),
    "Software": (("Design tool licence", 90, 640, 12), ("Analytics seat", 120, 900, 10),
                 ("Security scanner subscription", 300, 1800, 3)),
    "Furniture": (("Office chair", 140, 620, 10), ("Standing desk", 320, 980, 6), ("Filing cabinet", 90, 260, 6)),
    "Catering": (("Team lunch", 12, 28, 40), ("Coffee beans (kg)", 14, 36, 20), ("Workshop snacks", 4, 12, 50)),
    "Training": (("Online course seat", 60, 450, 10), ("Conference ticket", 350, 1400, 4)),
}
VENDOR_A = ("North", "Blue", "Summit", "Bright", "Oak", "River", "Prime", "Metro", "Cedar", "Atlas", "Nova",
            "Harbor", "Swift", "Granite", "Silver", "Clear")
VENDOR_B = ("Supplies", "Tech", "Office", "Trading", "Solutions", "Wholesale", "Systems", "Direct", "Partners",
            "Goods")
STATUSES_OTHER = ("approved", "rejected", "cancelled")
TOPICS = ("procurement check-in", "budget sync", "purchasing review", "spend review", "supplier sync",
          "requests triage")
RULE_KEYS = ("quote", "vendor", "unit_cap", "lead_time")


@dataclass(frozen=True)
class Request:
    request_id: str
    date: dt.date
    needed_by: dt.date
    department: str
    requester: str
    item: str
    category: str
    vendor: str
    quantity: int
    unit_price: float
    shipping: float
    quote_ref: str
    status: str

    @property
    def amount(self) -> float:
        return round(self.quantity * self.unit_price + self.shipping, 2)


@dataclass(frozen=True)
class Rules:
    quote_limit: int
    approved_vendors: tuple[str, ...]
    cap_category: str
    unit_cap: int
    lead_days: int

    def text(self, key: str) -> str:
        return {
            "quote": f"A request whose amount is above {self.quote_limit} must carry a supplier quote "
                     "(a non-empty quote_ref).",
            "vendor": "Only approved vendors may be used: " + ", ".join(self.approved_vendors) + ".",
            "unit_cap": f"The unit price of an item in the category {self.cap_category} may not exceed "
                        f"{self.unit_cap}.",
            "lead_time": f"The needed_by date must be at least {self.lead_days} days after the request date.",
        }[key]

    def broken(self, key: str, r: Request) -> bool:
        if key == "quote":
            return r.amount > self.quote_limit and not r.quote_ref
        if key == "vendor":
            return r.vendor not in self.approved_vendors
        if key == "unit_cap":
            return r.category == self.cap_category and r.unit_price > self.unit_cap
        return (r.needed_by - r.date).days < self.lead_days


def _overlap(a0: int, a1: int, b0: int, b1: int) -> bool:
    return a0 < b1 and b0 < a1


def _reservations(ctx: GenContext, prefix: str) -> list[list[str]]:
    return [k[len(prefix):].split(":") for k in sorted(ctx.used_paths) if k.startswith(prefix)]


def _place_meeting(ctx: GenContext, duration: int) -> tuple[int, int, str]:
    """Start, duration and a free room: after the task arrives, clear of the trainee's other required
    meetings, and early enough that the work after it fits in the day. A crowded day falls back to a
    shorter meeting and a smaller margin."""
    rng = ctx.rng
    # clear of the trainee's other required meetings and of the times it must be at its desk (status_watch)
    required = [(m.start, m.end) for m in ctx.meetings if m.trainee_required] + list(ctx.desk_windows)
    booked = _reservations(ctx, KEY_BOOKED_ROOM)
    lead = rng.randint(20, 50)
    tries = ((duration, MARGIN, lead, LATEST_END_GAP), (20, MARGIN, 20, LATEST_END_GAP), (20, 10, 15, LATEST_END_GAP),
             (15, 5, 10, LATEST_END_GAP - 25))
    for dur, margin, min_lead, end_gap in tries:
        first = -(-(ctx.arrival + min_lead) // 5) * 5
        for start in range(first, ctx.day_end - end_gap - dur + 1, 5):
            end = start + dur
            if any(_overlap(start - margin, end + margin, a, b) for a, b in required):
                continue
            taken = {m.room for m in ctx.meetings if _overlap(start, end, m.start, m.end)}
            taken.update(r for r, a, b in booked if _overlap(start, end, int(a), int(b)))
            rooms = [r.name for r in ctx.company.rooms if r.name not in taken and r.capacity >= 5]
            if rooms:
                return start, dur, rng.choice(rooms)
    raise DayFullError("meeting_attend: no free time and room for the meeting today")


def _busy_people(ctx: GenContext, start: int, end: int) -> set[str]:
    """People who are elsewhere then, or whose time another task already described."""
    busy = {h for m in ctx.meetings if _overlap(start, end, m.start, m.end) for h in [m.organizer, *m.attendees]}
    for prefix in KEY_BOOKED_BUSY:
        busy.update(h for h, a, b in _reservations(ctx, prefix) if _overlap(start, end, int(a), int(b)))
    return busy


def _money(x: float) -> float:
    return round(x + 0.0, 2)


@register
class MeetingAttend:
    name = "meeting_attend"
    title = "Meeting attend"
    description = ("Attend a meeting on time; the meeting's notes give the real task: summarise a batch of "
                   "procurement requests, flag those breaking the procurement rules and total them, or total "
                   "them per category or per department.")
    domains = ("information", "scheduling")
    modalities = ("calendar", "table", "text", "dialogue")
    variants = VARIANTS
    knobs: ClassVar[dict[str, str]] = {
        "requests": "rows in the batch: easy 8-10, medium 14-18, hard 22-30",
        "scope": "easy: every request; medium: only pending ones (approved, rejected and cancelled requests "
                 "are distractors); hard: pending ones dated in one week",
        "amount": "easy/medium: an amount column; hard: no amount column, amount = quantity x unit price + "
                  "shipping (stated in the notes)",
        "hops": "easy/medium: the notes give the file's path; hard: the file is hidden and the notes name the "
                "colleague who shares it (meeting -> colleague -> file)",
        "rules": "filter: rules in force easy 1, medium 2, hard 3 plus a suspended rule whose breaches are "
                 "distractors; medium/hard also put rule breaches on out-of-scope requests",
    }

    # --- generation -------------------------------------------------------------------------------
    def generate(self, ctx: GenContext) -> TaskInstance:
        rng = ctx.rng
        level = {"easy": 0, "medium": 1, "hard": 2}[ctx.difficulty]
        tid = ctx.task_id
        company = ctx.company
        batch = self._batch_id(ctx)
        duration = rng.choice((20, 30, 30, 45))
        start, duration, room = _place_meeting(ctx, duration)
        end = start + duration
        mid = f"{tid}-m"

        # people: the organiser runs purchasing; the holder (hard) shares the file
        dept_names = [d.name for d in company.departments]
        buy_dept = next(d for d in ("Procurement", "Operations", "Finance") if d in dept_names)
        busy = _busy_people(ctx, start, end)
        staff = [e for e in company.members_of(buy_dept) if e.handle not in busy]
        if not staff:
            staff = [e for e in company.employees if e.department != "Executive" and e.handle not in busy]
        if not staff:
            raise DayFullError("meeting_attend: nobody is free to run the meeting then")
        organizer = rng.choice(staff)
        others = [e for e in company.employees if e.handle not in busy and e.handle != organizer.handle
                  and e.department != "Executive"]
        attendees = sorted(e.handle for e in rng.sample(others, min(len(others), rng.randint(1, 3))))
        finance = [e for e in company.employees if e.department in (buy_dept, "Finance")
                   and e.handle != organizer.handle and e.department != "Executive"]
        holder: Employee = rng.choice(finance or [e for e in company.employees if e.handle != organizer.handle])

        # the data
        rules = self._rules(rng)
        active: list[str] = []
        suspended: str | None = None
        if ctx.variant == "filter":
            keys = list(RULE_KEYS)
            rng.shuffle(keys)
            active = keys[: level + 1]
            suspended = keys[3] if level == 2 else None
        for _attempt in range(50):  # rare ties ("largest", "top department") are drawn again
            requests, window = self._requests(ctx, rules, active, suspended, level)
            in_scope = [r for r in requests if self._in_scope(r, level, window)]
            truth = self._truth(ctx.variant, in_scope, rules, active)
            if truth is not None:
                break
        else:
            raise GenerationError("meeting_attend: could not draw a batch with a unique answer")
        answers, fields = truth

        # files
        year_month = f"{requests[0].date.year}_{requests[0].date.month:02d}"
        csv_path = ctx.path("/shared/procurement", f"requests_{batch.lower()}_{year_month}", "csv")
        rules_path = ctx.path("/shared/procurement", "procurement_rules", "md") if ctx.variant == "filter" else ""
        files = [FileAsset(path=csv_path, content=self._csv(requests, level), media_type="text/csv",
                           hidden=level == 2, clue_ids=[f"{tid}-requests"])]
        clues = [
            Clue(clue_id=f"{tid}-meeting", description="the real task, its scope and the answer format",
                 location="meeting", where=f"attend {mid} at {fmt(start)}"),
            Clue(clue_id=f"{tid}-requests", description="the batch of procurement requests", location="file",
                 where=csv_path + (f", shared by {holder.handle}" if level == 2 else ""),
                 hops=2 if level == 2 else 1),
        ]
        if ctx.variant == "filter":
            files.append(FileAsset(path=rules_path, content=self._rules_doc(rules, active, suspended),
                                   media_type="text/markdown", clue_ids=[f"{tid}-rules"]))
            clues.append(Clue(clue_id=f"{tid}-rules", description="the procurement rules in force and their "
                              "parameters", location="file", where=rules_path))
        facts: list[Fact] = []
        if level == 2:
            facts.append(Fact(
                fact_id=f"{tid}-share", holder=holder.handle, topic=f"request batch {batch}",
                keywords=["request", "requests", "batch", "file", "share", "procurement"], require_any=[batch],
                reply=f"Here you go: I've shared the request batch {batch} with you: {csv_path}",
                clue_ids=[f"{tid}-holder"], shares_files=[csv_path]))
            clues.append(Clue(clue_id=f"{tid}-holder", description=f"{holder.handle} shares the batch file",
                              location="colleague", where=f"ask {holder.handle}, as the meeting notes say"))

        notes = self._notes(ctx.variant, level, batch, csv_path, rules_path, holder, window)
        meeting = MeetingAsset(
            meeting_id=mid, title=f"{organizer.department} {rng.choice(TOPICS)}", start=start, end=end, room=room,
            organizer=organizer.handle, attendees=attendees, trainee_required=True, notes=notes,
            clue_ids=[f"{tid}-meeting"])

        # the oracle: attend, (ask for the file,) read, submit
        plan = [ToolCall(name="attend_meeting", arguments={"meeting_id": mid})]
        if level == 2:
            plan += ask(holder.handle,
                        f"Hi {holder.first_name}, could you share the request batch {batch} file with me?")
        plan.append(ToolCall(name="read_file", arguments={"path": csv_path}))
        if rules_path:
            plan.append(ToolCall(name="read_file", arguments={"path": rules_path}))
        plan.append(ToolCall(name="submit", arguments={"task_id": tid, "answer": self._answer(ctx.variant, answers)}))
        effort = (start - ctx.arrival) + duration + estimate_minutes(plan[1:], company)

        base = [f"{tid}-meeting", f"{tid}-requests", *([f"{tid}-holder"] if level == 2 else []),
                *([f"{tid}-rules"] if ctx.variant == "filter" else [])]
        hint = ("The task and its answer format were given in the meeting; the requests it names are in the "
                "batch file" + (" and the rules in the procurement rules file." if rules_path else "."))
        checkpoints = [Checkpoint(
            cp_id="attended", description="attended the meeting on time", weight=1.0, answer_bearing=False,
            check=AttendedCheck(meeting_id=mid, max_late=5),
            feedback="The meeting was on your calendar: join it when it starts (attend_meeting).")]
        for key, (desc, compare, tol, weight) in fields.items():
            checkpoints.append(Checkpoint(
                cp_id=key.replace(".", "-").replace(" ", "_").lower(), description=desc, weight=weight,
                clue_ids=base, check=SubmissionCheck(field=key, expected=key, compare=compare, tolerance=tol),
                feedback=hint))
        objective = (
            f"{organizer.name} ({organizer.handle}) has invited you to the meeting '{meeting.title}' today at "
            f"{fmt(start)} in {room} (meeting id {mid}). Attend it on time: the task for you will be explained "
            "there. Then do that task and submit the result in the format given in the meeting.")
        return ctx.instance(
            self, objective=objective, effort_minutes=effort, files=files, facts=facts, meetings=[meeting],
            clues=clues, checkpoints=checkpoints, solution=plan, answers=answers)

    @staticmethod
    def _batch_id(ctx: GenContext) -> str:
        while True:
            batch = f"PB-{ctx.rng.randint(1000, 9999)}"
            if KEY_BATCH + batch not in ctx.used_paths:
                ctx.used_paths.add(KEY_BATCH + batch)
                return batch

    @staticmethod
    def _rules(rng: random.Random) -> Rules:
        vendors = sorted({f"{rng.choice(VENDOR_A)} {rng.choice(VENDOR_B)}" for _ in range(12)})
        approved = tuple(sorted(rng.sample(vendors, max(3, len(vendors) - 3))))
        category = rng.choice(("IT hardware", "Furniture", "Software"))
        cap = {"IT hardware": 1500, "Furniture": 700, "Software": 1000}[category] - rng.choice((0, 100, 200))
        return Rules(quote_limit=rng.choice((1000, 1500, 2000, 2500)), approved_vendors=approved,
                     cap_category=category, unit_cap=cap, lead_days=rng.choice((5, 7, 10)))

    @staticmethod
    def _in_scope(r: Request, level: int, window: tuple[dt.date, dt.date]) -> bool:
        if level == 0:
            return True
        if r.status != "pending":
            return False
        return level == 1 or window[0] <= r.date <= window[1]

    def _requests(self, ctx: GenContext, rules: Rules, active: list[str], suspended: str | None,
                  level: int) -> tuple[list[Request], tuple[dt.date, dt.date]]:
        rng = ctx.rng
        n = rng.randint(*((8, 10), (14, 18), (22, 30))[level])
        month = rng.randint(1, 12)
        first = dt.date(2025, month, 1)
        # three working weeks from the first Monday of the month
        monday = first + dt.timedelta(days=(7 - first.weekday()) % 7)
        days = [monday + dt.timedelta(days=w * 7 + d) for w in range(3) for d in range(5)]
        week = rng.randrange(3)
        window = (days[week * 5], days[week * 5 + 4])
        depts = [d.name for d in ctx.company.departments if d.name != "Executive"]
        unapproved = sorted({f"{rng.choice(VENDOR_A)} {rng.choice(VENDOR_B)}" for _ in range(8)}
                            - set(rules.approved_vendors))
        if not unapproved:
            unapproved = ["Quickbuy Imports"]
        ids: set[str] = set()

        def new_id() -> str:
            while True:
                rid = f"PR-{rng.randint(10000, 99999)}"
                if rid not in ids:
                    ids.add(rid)
                    return rid

        def clean(scope: bool) -> Request:
            """A request that breaks no rule (whichever rules are in force)."""
            category = rng.choice(sorted(CATALOGUE))
            item, lo, hi, qmax = rng.choice(CATALOGUE[category])
            if category == rules.cap_category:
                hi = min(hi, rules.unit_cap - 10)
                lo = min(lo, hi - 5)
            price = round(rng.uniform(lo, hi), 2)
            qty = rng.randint(1, qmax)
            shipping = round(rng.uniform(5, 60), 2) if level == 2 else 0.0
            if scope or level == 0:
                status = "pending"
                date = rng.choice(days[week * 5: week * 5 + 5] if level == 2 else days)
            else:
                status = rng.choice(("pending", *STATUSES_OTHER)) if level == 2 else rng.choice(STATUSES_OTHER)
                pool = days if status != "pending" else [d for d in days if not window[0] <= d <= window[1]]
                date = rng.choice(pool)
            dept = rng.choice(depts)
            who = rng.choice(ctx.company.members_of(dept)).name
            r = Request(new_id(), date, date + dt.timedelta(days=rules.lead_days + rng.randint(0, 20)), dept, who,
                        item, category, rng.choice(rules.approved_vendors), qty, price, shipping, "", status)
            if r.amount > rules.quote_limit or rng.random() < 0.3:
                r = replace(r, quote_ref=f"Q-{rng.randint(1000, 9999)}")
            return r

        def breach(r: Request, key: str) -> Request:
            if key == "quote":
                qty = r.quantity
                while round(qty * r.unit_price + r.shipping, 2) <= rules.quote_limit:
                    qty += max(1, qty // 2)
                return replace(r, quantity=qty, quote_ref="")
            if key == "vendor":
                return replace(r, vendor=rng.choice(unapproved))
            if key == "unit_cap":
                item = rng.choice(CATALOGUE[rules.cap_category])[0]
                r = replace(r, category=rules.cap_category, item=item,
                            unit_price=round(rules.unit_cap * rng.uniform(1.05, 1.4), 2), quantity=rng.randint(1, 3))
                if r.amount > rules.quote_limit and not r.quote_ref:
                    r = replace(r, quote_ref=f"Q-{rng.randint(1000, 9999)}")
                return r
            return replace(r, needed_by=r.date + dt.timedelta(days=rng.randint(0, rules.lead_days - 1)))

        n_scope = n if level == 0 else max(5, round(n * (0.6 if level == 1 else 0.45)))
        rows = [clean(True) for _ in range(n_scope)] + [clean(False) for _ in range(n - n_scope)]
        scope_idx = list(range(n_scope))
        rng.shuffle(scope_idx)
        out_idx = list(range(n_scope, n))
        rng.shuffle(out_idx)
        for key in active:  # every rule in force is broken in scope at least once; a clean request remains
            for _ in range(rng.randint(1, 2 if level < 2 else 3)):
                if len(scope_idx) > 1:
                    i = scope_idx.pop()
                    rows[i] = breach(rows[i], key)
            if level and out_idx:
                i = out_idx.pop()
                rows[i] = breach(rows[i], key)
        if suspended is not None:
            for _ in range(rng.randint(1, 2)):
                if len(scope_idx) > 1:
                    i = scope_idx.pop()
                    rows[i] = breach(rows[i], suspended)
        if not active and level and out_idx:
            # the largest request overall is out of scope: "largest" and totals over everything fail
            i = out_idx.pop()
            r = rows[i]
            rows[i] = replace(r, quantity=r.quantity * 4 + 10, quote_ref=r.quote_ref or f"Q-{rng.randint(1000, 9999)}")
        rows.sort(key=lambda r: (r.date, r.request_id))
        return rows, window

    @staticmethod
    def _truth(variant: str, scope: list[Request], rules: Rules,
               active: list[str]) -> tuple[dict[str, Any], dict[str, tuple[str, str, float, float]]] | None:
        """Hidden answers and the checked fields: field -> (description, comparison, tolerance, weight);
        ``None`` if the batch has no unique answer."""
        if not scope:
            return None
        if variant == "summarise":
            amounts = sorted((r.amount for r in scope), reverse=True)
            if len(amounts) > 1 and amounts[0] == amounts[1]:
                return None
            largest = max(scope, key=lambda r: r.amount)
            return ({"count": len(scope), "total": _money(sum(r.amount for r in scope)),
                     "largest": largest.request_id},
                    {"count": ("number of requests in scope", "number_close", 0.0, 1.0),
                     "total": ("total amount of the requests in scope", "number_close", 0.0005, 1.0),
                     "largest": ("id of the largest request in scope", "equals", 0.0, 1.0)})
        if variant == "filter":
            bad = [r for r in scope if any(rules.broken(k, r) for k in active)]
            if not bad or len(bad) == len(scope):
                return None
            return ({"violations": sorted(r.request_id for r in bad),
                     "total": _money(sum(r.amount for r in bad))},
                    {"violations": ("ids of the requests in scope that break a rule in force", "set_equals", 0.0,
                                    2.0),
                     "total": ("total amount of those requests", "number_close", 0.0005, 1.0)})
        key = "category" if variant == "total" else "department"
        groups: dict[str, float] = {}
        for r in scope:
            g = r.category if key == "category" else r.department
            groups[g] = groups.get(g, 0.0) + r.amount
        groups = {g: _money(v) for g, v in sorted(groups.items())}
        outer = "totals" if variant == "total" else "by_department"
        answers: dict[str, Any] = {f"{outer}.{g}": v for g, v in groups.items()}
        fields = {f"{outer}.{g}": (f"total amount for {g}", "number_close", 0.0005, 1.0) for g in groups}
        if variant == "by_department":
            ranked = sorted(groups.values(), reverse=True)
            if len(ranked) < 2 or ranked[0] == ranked[1]:
                return None
            answers["top_department"] = max(groups, key=lambda g: groups[g])
            fields["top_department"] = ("the department with the highest total", "equals", 0.0, 1.0)
        return answers, fields

    @staticmethod
    def _answer(variant: str, answers: dict[str, Any]) -> dict[str, Any]:
        """The submission the notes ask for, built from the flat hidden answers."""
        out: dict[str, Any] = {}
        for key, value in answers.items():
            if "." in key:
                outer, inner = key.split(".", 1)
                out.setdefault(outer, {})[inner] = value
            else:
                out[key] = value
        return out

    @staticmethod
    def _csv(rows: list[Request], level: int) -> str:
        cols = ["request_id", "date", "needed_by", "department", "requester", "item", "category", "vendor",
                "quantity", "unit_price", *(["shipping"] if level == 2 else ["amount"]), "quote_ref", "status"]
        lines = [",".join(cols)]
        for r in rows:
            money = [f"{r.shipping:.2f}"] if level == 2 else [f"{r.amount:.2f}"]
            lines.append(",".join([r.request_id, r.date.isoformat(), r.needed_by.isoformat(), r.department,
                                   r.requester, r.item, r.category, r.vendor, str(r.quantity), f"{r.unit_price:.2f}",
                                   *money, r.quote_ref, r.status]))
        return "\n".join(lines) + "\n"

    @staticmethod
    def _rules_doc(rules: Rules, active: list[str], suspended: str | None) -> str:
        lines = ["# Procurement rules", "",
                 "Every purchase request must follow the rules in force below. A request that breaks any of "
                 "them is a violation.", "", "## Rules in force", ""]
        lines += [f"- P{i}: {rules.text(k)}" for i, k in enumerate(active, start=1)]
        if suspended is not None:
            lines += ["", "## Suspended this month (do not apply)", "",
                      f"- P{len(active) + 1}: {rules.text(suspended)}"]
        lines += ["", "Rules not listed as in force do not apply."]
        return "\n".join(lines) + "\n"

    @staticmethod
    def _notes(variant: str, level: int, batch: str, csv_path: str, rules_path: str, holder: Employee,
               window: tuple[dt.date, dt.date]) -> str:
        where = (f"{holder.name} ({holder.handle}) has the request batch {batch} file: ask them to share it."
                 if level == 2 else f"The request batch {batch} is in {csv_path}.")
        scope = {0: "Take every request in the batch.",
                 1: "Only requests with status pending count; ignore approved, rejected and cancelled ones.",
                 2: f"Only requests with status pending dated {window[0].isoformat()} to {window[1].isoformat()} "
                    "(inclusive) count; ignore everything else."}[level]
        amount = ("A request's amount is the amount column." if level < 2 else
                  "A request's amount is quantity x unit_price + shipping.")
        what = {
            "summarise": 'Summarise them: submit {"count": <number of requests>, "total": <sum of their amounts>, '
                         '"largest": "<request_id of the largest amount>"}.',
            "filter": f"Check them against the procurement rules in {rules_path} (only the rules in force) and "
                      'submit {"violations": ["<request_id>", ...], "total": <sum of the amounts of those '
                      "requests>} listing every request that breaks at least one rule in force.",
            "total": 'Total the amounts per category: submit {"totals": {"<category>": <total>, ...}} with '
                     "every category that has a request.",
            "by_department": 'Total the amounts per requesting department: submit {"by_department": '
                             '{"<department>": <total>, ...}, "top_department": "<department with the highest '
                             'total>"} with every department that has a request.',
        }[variant]
        return (f"We went through the purchasing backlog. Action for the trainee: {where} {scope} {amount} "
                f"{what} Amounts in the currency of the file, rounded to cents.")

    # --- baseline ---------------------------------------------------------------------------------
    def baseline(self, view: BaselineView) -> list[ToolCall]:
        """The heuristic never sees the meeting's notes here: if it found a requests table anyway it
        summarises every row of it, else it submits an empty summary."""
        table = next((t for p, t in sorted(view.texts.items()) if re.search(r"/requests_[\w-]+\.csv$", p)), "")
        rows = [r.split(",") for r in table.strip().splitlines()[1:]] if table else []
        answer: dict[str, Any] = {"count": len(rows), "total": 0.0, "largest": ""}
        if rows and len(rows[0]) == 13:
            amounts = {r[0]: float(r[10]) for r in rows}
            answer = {"count": len(rows), "total": _money(sum(amounts.values())),
                      "largest": max(amounts, key=lambda k: amounts[k])}
        return [ToolCall(name="submit", arguments={"task_id": view.task_id, "answer": answer})]
