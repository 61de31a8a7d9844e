"""Attendance statistics: figures from a month's clock-in log under the per-department attendance policy.

The trainee computes late arrivals and early leaves, absences, overtime hours or remote days from a
clock-in log (one row per employee per working day) by the rules of the attendance policy manual, which HR
shares on request: core hours, grace minutes, unpaid break, overtime threshold and minimum block, remote-day
cap and warning limit all differ per department. Days a manager approved as make-up days count as regular
office days; only the managers (on hard: the colleague each manager delegated approvals to) know them.

Fixed against the reference: every figure is computed from the generated log by the manual's own rules
(never zero, no list empty), the manual carries a reference code unique within the day so two tasks of the
family never answer for each other, and near misses (clock-ins exactly at the grace limit, approved leave)
are distractors from medium on.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any, ClassVar

from firstday.tasks.checks import SubmissionCheck
from firstday.tasks.family import BaselineView, GenContext, ask, referral, register
from firstday.tasks.library._follow_up import FollowUpSpec, baseline_follow_up, build_follow_up
from firstday.tasks.model import Checkpoint, Clue, TaskInstance
from firstday.world.assets import Fact, FileAsset
from firstday.world.company import Employee
from firstday.world.tools import ToolCall

VARIANTS = ("late_early", "absences", "overtime", "remote_days")
DEPENDENT_VARIANTS = ("payroll_adjustment",)
# per variant of the earlier task: the answer key of its result, the result in words, and what payroll does
RESULTS = {"late_early": ("warned", "the employees who earn a punctuality warning",
                          "Payroll withholds the attendance bonus of each of them"),
           "absences": ("absent_employees", "the employees with at least one absence",
                        "Payroll deducts the unexcused absences of each of them"),
           "overtime": ("top_overtime", "the employee(s) with the most overtime",
                        "Payroll pays the overtime of each of them"),
           "remote_days": ("over_cap", "the employees over their department's remote-day cap",
                           "Payroll charges the remote-work allowance back to each of them")}
YEAR = 2025
MANUAL_KEYWORDS = ["attendance policy manual", "attendance manual", "policy manual", "manual"]
APPROVAL_KEYWORDS = ["make-up approvals", "make-up days", "approvals", "make-up"]
COLUMNS = "date,employee,department,mode,clock_in,clock_out"


@dataclass(frozen=True)
class Policy:
    start: int  # core start, minutes after midnight
    end: int  # core end
    grace: int  # minutes after start still on time
    break_minutes: int  # unpaid break deducted from working time
    ot_after: int  # daily working minutes beyond which overtime starts
    ot_block: int  # a day's overtime counts only if it is at least this many minutes
    remote_cap: int  # remote days allowed per month
    warning_limit: int  # late arrivals + early leaves that earn a punctuality warning


@dataclass
class Row:
    date: dt.date
    employee: str
    department: str
    mode: str  # office | remote | leave
    clock_in: int | None
    clock_out: int | None


@dataclass
class Figures:
    late: int = 0
    early: int = 0
    absent: int = 0
    overtime: int = 0  # minutes
    remote: int = 0
    dates: dict[str, list[str]] = field(default_factory=dict)


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_hhmm(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def figures(rows: list[Row], policies: dict[str, Policy], approved: set[tuple[str, dt.date]]) -> dict[str, Figures]:
    """The manual's rules, applied to the log (the ground truth)."""
    out: dict[str, Figures] = {}
    for r in rows:
        f = out.setdefault(r.employee, Figures())
        p = policies[r.department]
        if (r.employee, r.date) in approved or r.mode == "leave":
            continue  # a make-up day counts as a regular office day; approved leave is not an absence
        if r.clock_in is None or r.clock_out is None:
            f.absent += 1
            continue
        f.late += r.clock_in > p.start + p.grace
        f.early += r.clock_out < p.end
        extra = r.clock_out - r.clock_in - p.break_minutes - p.ot_after
        f.overtime += extra if extra >= p.ot_block else 0
        f.remote += r.mode == "remote"
    return out


def _policies(rng: random.Random, departments: list[str]) -> dict[str, Policy]:
    out: dict[str, Policy] = {}
    while len(out) < len(departments):
        start = rng.choice((480, 510, 540, 570))
        grace = rng.choice((0, 5, 10, 15))
        if any(p.start == start and p.grace == grace for p in out.values()):
            continue  # departments must differ where it matters most
        brk = rng.choice((30, 45, 60))
        end = start + rng.choice((480, 510, 540))
        out[departments[len(out)]] = Policy(
            start=start, end=end, grace=grace, break_minutes=brk, ot_after=rng.choice((450, 480, 510)),
            ot_block=rng.choice((15, 30, 60)), remote_cap=rng.choice((3, 4, 6, 8)),
            warning_limit=rng.choice((3, 4, 5)))
    return out


def _day(rng: random.Random, p: Policy, remote_rate: float, level: int) -> tuple[str, int | None, int | None]:
    r = rng.random()
    if r < 0.04:
        return "office", None, None  # no clock-in
    if level and r < 0.08:
        return "leave", None, None
    mode = "remote" if rng.random() < remote_rate else "office"
    x = rng.random()
    if x < 0.13:
        cin = p.start + p.grace + rng.randint(1, 50)
    elif level and x < 0.2:
        cin = p.start + p.grace  # exactly at the limit: on time
    else:
        cin = p.start + rng.randint(-25, p.grace)
    y = rng.random()
    if y < 0.09:
        cout = p.end - rng.randint(5, 90)
    elif level and y < 0.13:
        cout = p.end  # exactly at the end of core hours: not an early leave
    elif y < 0.33:
        cout = p.end + rng.randint(20, 150)
    else:
        cout = p.end + rng.randint(0, 25)
    return mode, cin, cout


@register
class AttendanceStatistics:
    name = "attendance_statistics"
    title = "Attendance statistics"
    description = ("Compute attendance figures (late arrivals and early leaves, absences, overtime hours, remote "
                   "days) from a month's clock-in log under the per-department attendance policy manual that HR "
                   "holds, minus the make-up days the managers approved.")
    domains = ("information", "inquiry")
    modalities = ("table", "text", "dialogue")
    variants = VARIANTS
    dependent_variants = DEPENDENT_VARIANTS
    knobs: ClassVar[dict[str, str]] = {
        "dependent": "variant payroll_adjustment, builds on an earlier attendance_statistics task: payroll's "
                     "adjustment of the employees of its result, from a sheet listing everyone in the log; easy one "
                     "row each, medium and hard up to 2 / 3 rows of which only the confirmed count",
        "data": "departments in the log easy 2, medium 2, hard 3; employees easy 6, medium 9, hard 12; one row per "
                "employee per working day of one month of 2025",
        "distractors": "medium and hard add approved-leave rows (not absences) and clock-ins/outs exactly at the "
                       "grace limit or the end of core hours (on time)",
        "manual": "hidden; easy: the HR holder is named in the objective; medium: HR has it (ask the head of HR); "
                  "hard: the head of HR refers you to the colleague who maintains it (two hops)",
        "approvals": "make-up approvals easy 2, medium 3, hard 5; easy: the managers are named in the objective; "
                     "medium: 'each department's manager'; hard: only the manual says who approves, and each "
                     "manager refers you to the colleague they delegated approvals to (two hops)",
    }

    def generate(self, ctx: GenContext) -> TaskInstance:
        if ctx.variant in DEPENDENT_VARIANTS:
            return self._follow_up(ctx)
        rng = ctx.rng
        company = ctx.company
        level = {"easy": 0, "medium": 1, "hard": 2}[ctx.difficulty]
        tid = ctx.task_id
        n_dept, n_emp, n_appr = (2, 2, 3)[level], (6, 9, 12)[level], (2, 3, 5)[level]
        pool = sorted(d.name for d in company.departments if d.name not in ("HR", "Executive") and len(d.members) >= 3)
        depts = rng.sample(pool, min(n_dept, len(pool)))
        policies = _policies(rng, depts)
        staff: list[Employee] = []
        for i, d in enumerate(depts):
            share = n_emp // len(depts) + (1 if i < n_emp % len(depts) else 0)
            members = company.members_of(d)
            staff += rng.sample(members, min(share, len(members)))
        dept_of = {e.name: e.department for e in staff}
        month = rng.randint(1, 12)
        month_name = calendar.month_name[month]
        days = [dt.date(YEAR, month, d) for d in range(1, calendar.monthrange(YEAR, month)[1] + 1)]
        workdays = [d for d in days if d.weekday() < 5]

        log: dict[tuple[str, dt.date], Row] = {}
        for e in staff:
            rate = rng.choice((0.05, 0.15, 0.3, 0.45))
            for day in workdays:
                mode, cin, cout = _day(rng, policies[e.department], rate, level)
                log[(e.name, day)] = Row(day, e.name, e.department, mode, cin, cout)
        target = rng.choice(depts)
        in_target = [e.name for e in staff if e.department == target]

        def relevant(r: Row) -> bool:
            p = policies[r.department]
            if r.mode == "leave":
                return False
            if ctx.variant == "absences":
                return r.clock_in is None
            if r.clock_in is None or r.clock_out is None:
                return False
            if ctx.variant == "late_early":
                return r.clock_in > p.start + p.grace or r.clock_out < p.end
            if ctx.variant == "overtime":
                return r.clock_out - r.clock_in - p.break_minutes - p.ot_after >= p.ot_block
            return r.mode == "remote"

        # first make every answer non-trivial without approvals, so the asked department has days to approve
        self._settle(ctx.variant, rng, log, policies, set(), target, in_target, workdays)
        # make-up approvals fall on days that matter for the question, half of them in the asked department
        # on days that change its first figure (late arrivals for late_early)
        candidates = [r for r in log.values() if relevant(r)]
        in_t = [r for r in candidates if r.department == target and (
            ctx.variant != "late_early" or (r.clock_in or 0) > policies[target].start + policies[target].grace)]
        chosen = rng.sample(in_t, min(len(in_t), (n_appr + 1) // 2))
        rest = [r for r in candidates if r not in chosen]
        chosen += rng.sample(rest, min(len(rest), n_appr - len(chosen)))
        approved = {(r.employee, r.date) for r in chosen}

        answers = self._settle(ctx.variant, rng, log, policies, approved, target, in_target, workdays)
        rows = sorted(log.values(), key=lambda r: (r.date, r.department, r.employee))

        # a reference code unique within the day, so two attendance tasks never answer for each other
        while True:
            code = f"ATT-{rng.randint(1000, 9999)}"
            if f"attendance_statistics:code:{code}" not in ctx.used_paths:
                ctx.used_paths.add(f"attendance_statistics:code:{code}")
                break
        csv_path = ctx.path("/shared/hr", f"clock_in_log_{YEAR}_{month:02d}", "csv")
        manual_path = ctx.path("/shared/hr", "attendance_policy_manual", "md")
        lines = [COLUMNS] + [
            f"{r.date.isoformat()},{r.employee},{r.department},{r.mode},"
            f"{'' if r.clock_in is None else hhmm(r.clock_in)},{'' if r.clock_out is None else hhmm(r.clock_out)}"
            for r in rows]
        manual = self._manual(code, month_name, policies, level)

        hr = company.department("HR")
        hr_head = company.employee(hr.head)
        holder = company.employee(rng.choice(hr.members[1:])) if level != 1 else hr_head
        facts: list[Fact] = [Fact(
            fact_id=f"{tid}-manual", holder=holder.handle, topic="attendance policy manual",
            keywords=MANUAL_KEYWORDS, require_any=[code],
            reply=f"Here you go, I've shared the attendance policy manual {code} with you: {manual_path}",
            clue_ids=[f"{tid}-manual-holder"], shares_files=[manual_path])]
        clues = [
            Clue(clue_id=f"{tid}-log", description="the month's clock-in log", location="file", where=csv_path),
            Clue(clue_id=f"{tid}-manual", description="per-department rules (core hours, grace, break, overtime, "
                 "remote cap, warning limit)", location="file", where=f"{manual_path}, shared by {holder.handle}",
                 hops=2 if level == 2 else 1),
            Clue(clue_id=f"{tid}-manual-holder", description="the manual is shared on request", location="colleague",
                 where=f"ask {holder.handle} (HR)"),
        ]
        plan: list[ToolCall] = []
        if level == 2:
            referral(f"{tid}-manual-referral", hr_head, "head of HR", topic="who keeps the attendance manual",
                     keywords=MANUAL_KEYWORDS, require_any=[code], description="who maintains the manual",
                     reply=f"{holder.name} ({holder.handle}) maintains the attendance policy manual; "
                           "please ask them.",
                     question=f"Hi! Who keeps the attendance policy manual {code}?").add_to(facts, clues, plan)
        plan += ask(holder.handle, f"Hello, could you share the attendance policy manual {code}?")

        # make-up approvals: each department's manager (hard: the colleague they delegated them to)
        approval_clues: list[str] = []
        heads: list[Employee] = []
        keepers: list[Employee] = []
        for d in depts:
            head = company.employee(company.department(d).head)
            keeper = company.employee(rng.choice(company.department(d).members[1:])) if level == 2 else head
            heads.append(head)
            keepers.append(keeper)
            mine = sorted((day, who) for who, day in approved if dept_of[who] == d)
            listed = "; ".join(f"{who} on {day.isoformat()}" for day, who in mine)
            text = (f"make-up days I approved for {d} in {month_name} {YEAR} ({code}): {listed}." if mine else
                    f"I approved no make-up days for {d} in {month_name} {YEAR} ({code}).")
            cid = f"{tid}-approvals-{len(approval_clues) + 1}"
            approval_clues.append(cid)
            facts.append(Fact(fact_id=cid, holder=keeper.handle, topic=f"make-up approvals of {d}",
                              keywords=APPROVAL_KEYWORDS, require_any=[code], reply=text[0].upper() + text[1:],
                              clue_ids=[cid]))
            clues.append(Clue(clue_id=cid, description=f"the make-up days approved in {d}", location="colleague",
                              where=f"ask {keeper.handle}", hops=2 if level == 2 else 1))
            if level == 2:
                facts.append(Fact(
                    fact_id=f"{cid}-referral", holder=head.handle, topic=f"who keeps {d}'s make-up approvals",
                    keywords=APPROVAL_KEYWORDS, require_any=[code],
                    reply=f"I've delegated make-up approvals to {keeper.name} ({keeper.handle}); please ask them.",
                    clue_ids=[f"{cid}-referral"]))
                clues.append(Clue(clue_id=f"{cid}-referral", description=f"who keeps {d}'s approvals",
                                  location="colleague", where=f"ask {head.handle} (manager of {d})"))
        makeup_request = (f"Hi! Could you send me the make-up approvals (make-up days) for {month_name} {YEAR} "
                          f"(reference {code})?")
        rounds = [heads, keepers] if level == 2 else [heads]
        for people in rounds:
            plan += [ToolCall(name="send_message", arguments={"to": p.handle, "text": makeup_request}) for p in people]
            plan += [ToolCall(name="wait", arguments={"for_message_from": p.handle}) for p in people]
        plan += [ToolCall(name="read_file", arguments={"path": manual_path}),
                 ToolCall(name="read_file", arguments={"path": csv_path}),
                 ToolCall(name="submit", arguments={"task_id": tid, "answer": dict(answers)})]

        needs = [f"{tid}-log", f"{tid}-manual", *approval_clues]
        fields = self._fields(ctx.variant, target)
        checkpoints = [
            Checkpoint(cp_id=key.replace("_", "-"), description=desc, weight=weight, clue_ids=needs,
                       check=SubmissionCheck(field=key, expected=key, compare=how, tolerance=tol),
                       feedback="The per-department rules are in HR's attendance policy manual; the make-up days "
                                "come from each department's manager.")
            for key, (desc, how, tol, weight) in fields.items()]
        where_manual = {0: f"{holder.name} ({holder.handle}) in HR has the attendance policy manual.",
                        1: "HR has the attendance policy manual.",
                        2: "The rules are in HR's attendance policy manual."}[level]
        where_appr = {0: "Make-up days approved by the managers (" + ", ".join(
                          f"{h.name} for {d}" for h, d in zip(heads, depts, strict=True)) + ") do not count.",
                      1: "Make-up days approved by each department's manager do not count.",
                      2: ""}[level]
        question = self._question(ctx.variant, target)
        objective = (f"Using the clock-in log {csv_path} for {month_name} {YEAR}, {question} "
                     f"Apply the attendance policy manual (reference {code}). {where_manual} {where_appr}".strip())
        return ctx.instance(
            self, objective=objective, extra_minutes=10,
            files=[FileAsset(path=csv_path, content="\n".join(lines) + "\n", media_type="text/csv",
                             clue_ids=[f"{tid}-log"]),
                   FileAsset(path=manual_path, content=manual, media_type="text/markdown", hidden=True,
                             clue_ids=[f"{tid}-manual"])],
            facts=facts, clues=clues, checkpoints=checkpoints, solution=plan, answers=answers)

    def _follow_up(self, ctx: GenContext) -> TaskInstance:
        """``payroll_adjustment``: payroll adjusts the pay of the employees of an earlier task's result."""
        earlier = ctx.builds_on
        if earlier is None or earlier.family != self.name or earlier.variant not in RESULTS:
            raise ValueError("an attendance_statistics follow-up needs an earlier attendance_statistics task "
                             "(GenContext.builds_on)")
        key, phrase, request = RESULTS[earlier.variant]
        log = next(f for f in earlier.files if f.path.endswith(".csv"))
        staff = sorted({ln.split(",")[1] for ln in str(log.content).strip().splitlines()[1:]})
        spec = FollowUpSpec(
            entities=list(earlier.answers[key]), candidates=staff, result_phrase=phrase, request=request,
            folder="/shared/hr", sheet_stem="payroll_adjustments", sheet_name="payroll adjustments sheet",
            entity_column="employee", amount_column="adjustment", counted_status="confirmed",
            other_statuses=("draft", "reversed"), list_key="employees", total_key="adjustment_total",
            amount_range=(40, 600))
        return build_follow_up(ctx, self, earlier, spec)

    # --- ground truth ---------------------------------------------------------------------------------
    @staticmethod
    def _settle(variant: str, rng: random.Random, log: dict[tuple[str, dt.date], Row], policies: dict[str, Policy],
                approved: set[tuple[str, dt.date]], target: str, in_target: list[str],
                workdays: list[dt.date]) -> dict[str, Any]:
        """Compute the answers; where one would be zero or empty, make an unapproved office day of someone
        count (deterministically) and recompute, so no answer is ever trivial."""
        def free_days(who: str) -> list[Row]:
            """Unapproved office days of ``who`` with nothing to count: on time, not early."""
            out = []
            for d in workdays:
                r, p = log[(who, d)], policies[log[(who, d)].department]
                if (who, d) not in approved and r.mode == "office" and r.clock_in is not None and \
                        r.clock_out is not None and r.clock_in <= p.start + p.grace and r.clock_out >= p.end:
                    out.append(r)
            return out

        for _ in range(200):
            figs = figures(list(log.values()), policies, approved)
            tgt = [figs[n] for n in in_target]
            names = sorted(figs)
            if variant == "late_early":
                warned = sorted(n for n in names if figs[n].late + figs[n].early >= policies[log[(n, workdays[0])]
                                                                                          .department].warning_limit)
                late, early = sum(f.late for f in tgt), sum(f.early for f in tgt)
                if late and early and warned:
                    return {"late_arrivals": late, "early_leaves": early, "warned": warned}
                if not late or not early:
                    row = rng.choice(free_days(rng.choice(in_target)))
                else:  # nobody is warned: the closest employee gets one more late arrival
                    row = rng.choice(free_days(max(names, key=lambda n: (figs[n].late + figs[n].early, n))))
                p = policies[row.department]
                if not late:
                    row.clock_in = p.start + p.grace + rng.randint(5, 40)
                elif not early:
                    row.clock_out = p.end - rng.randint(10, 60)
                else:
                    row.clock_in = p.start + p.grace + rng.randint(5, 40)
            elif variant == "absences":
                absent = sorted(n for n in names if figs[n].absent)
                total = sum(f.absent for f in tgt)
                if total and absent:
                    return {"absences": total, "absent_employees": absent}
                row = rng.choice(free_days(rng.choice(in_target)))
                row.clock_in = row.clock_out = None
            elif variant == "overtime":
                total = sum(f.overtime for f in tgt)
                best = max(f.overtime for f in figs.values())
                if total and best:
                    return {"overtime_hours": round(total / 60, 2),
                            "top_overtime": sorted(n for n in names if figs[n].overtime == best)}
                row = rng.choice(free_days(rng.choice(in_target)))
                p = policies[row.department]
                worked = p.break_minutes + p.ot_after + p.ot_block + rng.randint(10, 60)
                row.clock_out = (row.clock_in or p.start) + worked
            else:
                over = sorted(n for n in names if figs[n].remote > policies[log[(n, workdays[0])]
                                                                           .department].remote_cap)
                total = sum(f.remote for f in tgt)
                if total and over:
                    return {"remote_days": total, "over_cap": over}
                who = rng.choice(in_target) if not total else max(names, key=lambda n: (figs[n].remote, n))
                rng.choice(free_days(who)).mode = "remote"
        raise AssertionError("attendance_statistics: could not make every answer non-trivial")

    @staticmethod
    def _fields(variant: str, target: str) -> dict[str, tuple[str, Any, float, float]]:
        if variant == "late_early":
            return {"late_arrivals": (f"late arrivals in {target}", "number_close", 0.0, 1.0),
                    "early_leaves": (f"early leaves in {target}", "number_close", 0.0, 1.0),
                    "warned": ("employees who earn a punctuality warning", "set_equals", 0.0, 2.0)}
        if variant == "absences":
            return {"absences": (f"absences in {target}", "number_close", 0.0, 1.0),
                    "absent_employees": ("employees with at least one absence", "set_equals", 0.0, 1.0)}
        if variant == "overtime":
            return {"overtime_hours": (f"overtime hours in {target}", "number_close", 1e-3, 1.0),
                    "top_overtime": ("the employee(s) with the most overtime", "set_equals", 0.0, 1.0)}
        return {"remote_days": (f"counted remote days in {target}", "number_close", 0.0, 1.0),
                "over_cap": ("employees over their department's remote-day cap", "set_equals", 0.0, 2.0)}

    @staticmethod
    def _question(variant: str, target: str) -> str:
        if variant == "late_early":
            return (f"count the late arrivals and the early leaves in {target}, and list every employee in the log "
                    'who earns a punctuality warning. Submit {"late_arrivals": <n>, "early_leaves": <n>, '
                    '"warned": ["<name>", ...]}.')
        if variant == "absences":
            return (f"count the absences in {target}, and list every employee in the log with at least one "
                    'absence. Submit {"absences": <n>, "absent_employees": ["<name>", ...]}.')
        if variant == "overtime":
            return (f"compute the total overtime hours in {target} (2 decimals), and name the employee(s) in the log "
                    'with the most overtime. Submit {"overtime_hours": <hours>, "top_overtime": ["<name>", ...]}.')
        return (f"count the remote days in {target}, and list every employee in the log who is over their "
                'department\'s remote-day cap. Submit {"remote_days": <n>, "over_cap": ["<name>", ...]}.')

    @staticmethod
    def _manual(code: str, month_name: str, policies: dict[str, Policy], level: int) -> str:
        who = ("each department's manager (managers may delegate approvals to a colleague in their team)"
               if level == 2 else "each department's manager")
        lines = [
            f"# Attendance policy manual ({month_name} {YEAR}, reference {code})", "",
            "## Rules (all departments)",
            "- Working time of a day = clock-out - clock-in - the department's unpaid break.",
            "- Late arrival: a clock-in later than core start + the grace minutes. A clock-in exactly at that "
            "limit is on time.",
            "- Early leave: a clock-out earlier than the end of core hours. Late arrivals and early leaves count on "
            "office and remote days alike.",
            "- Absence: a working day whose row has no clock-in. A row whose mode is `leave` is approved leave, "
            "not an absence.",
            "- Overtime: on each day, the working time beyond the department's daily overtime threshold; a day's "
            "overtime counts only if it is at least the department's minimum block (then all of it counts). "
            "Report overtime in hours.",
            "- Remote day: a day whose mode is `remote`. An employee is over the cap when their remote days exceed "
            "the department's monthly remote-day cap.",
            "- Punctuality warning: an employee whose late arrivals + early leaves reach the department's warning "
            "limit gets a warning.",
            f"- Make-up days: {who} approves make-up days. An approved make-up day counts as a regular office day: "
            "no late arrival, early leave, absence, overtime or remote day is counted for it.", "",
            "## Department policies", "",
            "| department | core hours | grace (min) | unpaid break (min) | overtime after (h) | minimum overtime "
            "block (min) | remote-day cap | warning limit |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for d, p in policies.items():
            lines.append(f"| {d} | {hhmm(p.start)}-{hhmm(p.end)} | {p.grace} | {p.break_minutes} | "
                         f"{p.ot_after / 60:g} | {p.ot_block} | {p.remote_cap} | {p.warning_limit} |")
        return "\n".join(lines) + "\n"

    # --- baseline -----------------------------------------------------------------------------------------
    def baseline(self, view: BaselineView) -> list[ToolCall]:
        """Applies the manual if it found it (else 09:00-17:00, no grace, 8 h), and never the make-up days."""
        if '"adjustment_total"' in view.objective:
            return baseline_follow_up(view, "employee", "adjustment", "employees", "adjustment_total")
        manual = next((t for p, t in view.texts.items() if p.endswith(".md") and "attendance" in p), "")
        table = next((t for p, t in view.texts.items() if p.endswith(".csv")), "")
        policies: dict[str, Policy] = {}
        for ln in manual.splitlines():
            c = [x.strip() for x in ln.strip("|").split("|")]
            if len(c) == 8 and "-" in c[1] and c[2].isdigit():
                s, e = c[1].split("-")
                policies[c[0]] = Policy(parse_hhmm(s), parse_hhmm(e), int(c[2]), int(c[3]), int(float(c[4]) * 60),
                                        int(c[5]), int(c[6]), int(c[7]))
        default = Policy(540, 1020, 0, 60, 480, 1, 5, 3)
        rows: list[Row] = []
        for ln in table.strip().splitlines()[1:]:
            c = ln.split(",")
            if len(c) == 6:
                rows.append(Row(dt.date.fromisoformat(c[0]), c[1], c[2], c[3],
                                parse_hhmm(c[4]) if c[4] else None, parse_hhmm(c[5]) if c[5] else None))
        for r in rows:
            policies.setdefault(r.department, default)
        figs = figures(rows, policies, set())
        target = next((d for d in sorted(policies) if f"in {d}" in view.objective), "")
        dept = {r.employee: r.department for r in rows}
        tgt = [f for n, f in figs.items() if dept[n] == target]
        best = max((f.overtime for f in figs.values()), default=0)
        answer = {
            "late_arrivals": sum(f.late for f in tgt), "early_leaves": sum(f.early for f in tgt),
            "warned": sorted(n for n, f in figs.items() if f.late + f.early >= policies[dept[n]].warning_limit),
            "absences": sum(f.absent for f in tgt), "absent_employees": sorted(n for n, f in figs.items() if f.absent),
            "overtime_hours": round(sum(f.overtime for f in tgt) / 60, 2),
            "top_overtime": sorted(n for n, f in figs.items() if f.overtime == best),
            "remote_days": sum(f.remote for f in tgt),
            "over_cap": sorted(n for n, f in figs.items() if f.remote > policies[dept[n]].remote_cap),
        }
        return [ToolCall(name="submit", arguments={"task_id": view.task_id, "answer": answer})]
