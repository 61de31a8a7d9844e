"""Website monitor: diagnose a misbehaving internal website from its dashboards and get it fixed.

The trainee opens the site's status dashboard (an intranet page), finds the page (or host) at fault by
the monitoring guide's rule, asks HR who owns the site, and asks the owner to fix it. The owner needs an
approval code from the engineering manager for any production change: the fix (and its change id) is
only confirmed when the owner's message holds both the code and the page at fault (gate tokens), so the
change id in the report proves the whole chain happened.

Fixed against the reference: exactly one page is at fault by the stated rule (computed from the
generated dashboard, never hand-set), near misses and rows excluded by the guide are distractors,
every reply is keyed to the site (two tasks of the family on one day never answer for each other), and
the checks look at what was reported and what reached the owner, not at who was talked to.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from firstday.errors import GenerationError
from firstday.tasks.checks import MessageOnlyCheck, SubmissionCheck
from firstday.tasks.family import BaselineView, GenContext, register
from firstday.tasks.model import Checkpoint, Clue, TaskInstance
from firstday.world.assets import Fact, FileAsset, PageAsset
from firstday.world.company import Employee
from firstday.world.tools import ToolCall

VARIANTS = ("slow_page", "error_rate", "outage", "certificate_expiry")
KEY_SITE = "website_monitor:site:"
KEY_CODE = "website_monitor:code:"
SITES = ("Staff portal", "Expense tool", "Team wiki", "Room booking site", "HR portal", "Customer portal",
         "Merch shop", "Time tracker", "Learning hub", "Travel desk", "Asset register", "Help centre")
PAGES = ("/checkout", "/search", "/login", "/reports", "/dashboard", "/profile", "/orders", "/invoices",
         "/catalog", "/settings", "/upload", "/export", "/calendar", "/inbox", "/billing", "/timesheets",
         "/approvals", "/directory", "/feedback", "/downloads")
HOST_WORDS = ("www", "api", "auth", "pay", "files", "cdn", "admin", "mail", "status", "sso", "docs", "media",
              "assets", "beta", "reports", "shop")
ISSUERS = ("Internal CA", "LetsEncrypt R11", "DigiCert G2", "Sectigo RSA")
SYMPTOM = {"slow_page": "very slow for some people", "error_rate": "showing error pages to some users",
           "outage": "partly unreachable", "certificate_expiry": "about to show certificate warnings"}
SECTION = {"slow_page": "Slow pages", "error_rate": "Server errors", "outage": "Outages",
           "certificate_expiry": "Certificates"}
HR_WORDS = ["owner", "owns", "own", "site owner", "website", "responsible", "register"]
OWNER_WORDS = ["fix", "slow", "error", "errors", "down", "outage", "certificate", "website", "site", "problem",
               "issue", "deploy"]
EM_WORDS = ["approval code", "approval", "code", "production", "change", "fix", "deploy"]


@dataclass
class Board:
    """One dashboard: its columns, rows (cells as text), the thing at fault, and the guide's wording."""

    columns: list[str]
    rows: list[list[str]]
    culprit: str
    rule: str  # the rule as the monitoring guide (or, on easy, the dashboard) states it
    exclusion: str  # hard: what the guide says does not count
    threshold: float  # the number in the rule
    floor: float = 0.0  # the traffic floor in the exclusion (slow_page, error_rate)
    note: str = ""  # a line on the dashboard itself


def _pct(x: float) -> str:
    return f"{x:.2f}%"


def _spread(rng: random.Random, n: int, lo: float, hi: float) -> list[float]:
    return [rng.uniform(lo, hi) for _ in range(n)]


def _slow_page(rng: random.Random, pages: list[str], level: int) -> Board:
    slo = rng.choice((800, 1000, 1200, 1500))
    min_rpm = rng.choice((20, 30, 50))
    culprit, rest = pages[0], pages[1:]
    kinds = ["normal"] * len(rest)
    if level >= 1:
        kinds[0] = "near"
        if len(rest) > 3:
            kinds[1] = "near"
    if level == 2:
        kinds[-1] = "quiet"  # slow but below the traffic floor: the guide excludes it
    rows: list[list[str]] = []
    for page, kind in [(culprit, "culprit"), *zip(rest, kinds, strict=True)]:
        rpm = rng.randint(min_rpm + 10, 900) if kind != "quiet" else rng.randint(1, min_rpm - 5)
        p95 = {"culprit": rng.uniform(1.3, 3.0), "near": rng.uniform(0.85, 0.97), "quiet": rng.uniform(1.4, 3.5),
               "normal": rng.uniform(0.2, 0.7)}[kind] * slo
        p50 = p95 * rng.uniform(0.3, 0.6)
        rows.append([page, str(rpm), str(round(p50)), str(round(p95)), _pct(rng.uniform(0.0, 0.4))])
    return Board(["page", "requests/min", "p50 ms", "p95 ms", "5xx rate"], rows, culprit,
                 rule=f"A page is too slow when its p95 response time is above {slo} ms.",
                 exclusion=f"Pages with fewer than {min_rpm} requests/min are batch endpoints: never flag them, "
                           "however slow.", threshold=slo, floor=min_rpm)


def _error_rate(rng: random.Random, pages: list[str], level: int) -> Board:
    limit = rng.choice((1.0, 2.0, 5.0))
    min_rpm = rng.choice((20, 30, 50))
    culprit, rest = pages[0], pages[1:]
    kinds = ["normal"] * len(rest)
    if level >= 1:
        kinds[0] = "near"
    if level == 2:
        kinds[1] = "client"  # many 4xx: client errors do not count
        kinds[-1] = "quiet"
    rows: list[list[str]] = []
    for page, kind in [(culprit, "culprit"), *zip(rest, kinds, strict=True)]:
        rpm = rng.randint(min_rpm + 10, 900) if kind != "quiet" else rng.randint(1, min_rpm - 5)
        e5 = {"culprit": rng.uniform(2.0, 6.0), "near": rng.uniform(0.7, 0.95), "quiet": rng.uniform(2.0, 8.0),
              "client": rng.uniform(0.0, 0.4), "normal": rng.uniform(0.0, 0.4)}[kind] * limit
        e4 = rng.uniform(3.0, 9.0) * limit if kind == "client" else rng.uniform(0.1, 0.9) * limit
        rows.append([page, str(rpm), _pct(e4), _pct(e5), str(rng.randint(120, 700))])
    return Board(["page", "requests/min", "4xx rate", "5xx rate", "p95 ms"], rows, culprit,
                 rule=f"A page is failing when its 5xx (server error) rate is above {limit:g}%. 4xx responses are "
                      "client errors and never count.",
                 exclusion=f"Pages with fewer than {min_rpm} requests/min are too quiet for a reliable rate: "
                           "never flag them.", threshold=limit, floor=min_rpm)


def _outage(rng: random.Random, pages: list[str], level: int) -> Board:
    n = rng.choice((3, 4))
    checks = 8
    culprit, rest = pages[0], pages[1:]
    kinds = ["normal"] * len(rest)
    if level >= 1:
        kinds[0] = "flap"
        if len(rest) > 3:
            kinds[1] = "short"
    if level == 2:
        kinds[-1] = "maintenance"
    rows: list[list[str]] = []
    for page, kind in [(culprit, "culprit"), *zip(rest, kinds, strict=True)]:
        seq = ["ok"] * checks
        if kind in ("culprit", "maintenance"):
            for i in range(checks - rng.randint(n, n + 2), checks):
                seq[i] = "FAIL"
        elif kind == "short":  # one failure too few at the end
            for i in range(checks - (n - 1), checks):
                seq[i] = "FAIL"
        elif kind == "flap":  # many failures, never n in a row at the end
            for i in rng.sample(range(checks - 1), n):
                seq[i] = "FAIL"
            seq[-1] = "ok"
        elif rng.random() < 0.3:
            seq[rng.randrange(checks - 1)] = "FAIL"
        fails = seq.count("FAIL")
        uptime = 100.0 - fails * rng.uniform(0.3, 0.6)
        state = "planned maintenance" if kind == "maintenance" else "-"
        rows.append([page, " ".join(seq), f"{uptime:.1f}%", state])
    return Board(["page", f"last {checks} health checks (oldest first)", "uptime 24h", "maintenance"], rows,
                 culprit, rule=f"A page is down when its last {n} health checks all failed (FAIL).",
                 exclusion="Pages in planned maintenance are expected to fail their checks: they are not outages.",
                 threshold=n)


def _certificate(rng: random.Random, hosts: list[str], level: int, today: dt.date) -> Board:
    days = rng.choice((14, 21, 30))
    culprit, rest = hosts[0], hosts[1:]
    kinds = ["normal"] * len(rest)
    if level >= 1:
        kinds[0] = "near"
        if len(rest) > 3:
            kinds[1] = "near"
    if level == 2:
        kinds[-1] = "auto"
    rows: list[list[str]] = []
    for host, kind in [(culprit, "culprit"), *zip(rest, kinds, strict=True)]:
        left = {"culprit": rng.randint(1, days - 2), "near": rng.randint(days + 1, days + 6),
                "auto": rng.randint(1, days - 2), "normal": rng.randint(days + 15, 300)}[kind]
        auto = "on" if kind == "auto" or (kind == "normal" and rng.random() < 0.4) else "off"
        rows.append([host, rng.choice(ISSUERS), (today + dt.timedelta(days=left)).isoformat(), auto])
    return Board(["host", "issuer", "expires", "auto-renew"], rows, culprit,
                 rule=f"A certificate must be renewed by hand when it expires within {days} days of today "
                      "(the date at the top of the dashboard).",
                 exclusion="Hosts with auto-renew on renew themselves: ignore them.",
                 threshold=days, note=f"Certificates as of {today.isoformat()}.")


def _at_fault(variant: str, board: Board, level: int) -> list[str]:
    """The rows the guide's rule flags, computed from the dashboard's cells (the ground truth)."""
    limit, floor = board.threshold, board.floor
    flagged: list[str] = []
    for row in board.rows:
        if variant == "slow_page":
            bad = float(row[3]) > limit and (level < 2 or float(row[1]) >= floor)
        elif variant == "error_rate":
            bad = float(row[3].rstrip("%")) > limit and (level < 2 or float(row[1]) >= floor)
        elif variant == "outage":
            n = int(limit)
            bad = row[1].split()[-n:] == ["FAIL"] * n and (level < 2 or row[3] != "planned maintenance")
        else:
            today = dt.date.fromisoformat(board.note.split()[-1].rstrip("."))
            left = (dt.date.fromisoformat(row[2]) - today).days
            bad = 0 <= left <= limit and (level < 2 or row[3] != "on")
        if bad:
            flagged.append(row[0])
    return flagged


def _table(board: Board) -> str:
    lines = [" | ".join(board.columns), " | ".join("---" for _ in board.columns)]
    lines += [" | ".join(r) for r in board.rows]
    return "\n".join(lines)


@register
class WebsiteMonitor:
    name = "website_monitor"
    title = "Website monitor"
    description = ("Diagnose a misbehaving internal website from its status dashboard and get it fixed: HR knows "
                   "the site's owner, and the owner needs an approval code from the engineering manager.")
    domains = ("inquiry", "information")
    modalities = ("web", "table", "dialogue")
    variants = VARIANTS
    knobs: ClassVar[dict[str, str]] = {
        "rows": "pages (hosts) on the dashboard: easy 5, medium 7, hard 9",
        "rule": "easy: the dashboard states the alert rule; medium/hard: only the website monitoring guide "
                "on the shared drive does",
        "distractors": "medium: near misses (just under the threshold, flapping checks, one check too few, "
                       "expiring just after the window); hard adds rows the guide excludes (low traffic, 4xx "
                       "errors, planned maintenance, auto-renew)",
        "hops": "site owner: easy the objective names the HR colleague with the register; medium ask the head of "
                "HR; hard the head of HR refers you to the keeper of the register (two hops). Hard also starts "
                "from the monitoring portal (page -> page) and the engineering manager gives the code only for a "
                "named page",
    }

    def generate(self, ctx: GenContext) -> TaskInstance:
        rng = ctx.rng
        level = {"easy": 0, "medium": 1, "hard": 2}[ctx.difficulty]
        tid = ctx.task_id
        company = ctx.company
        site = self._site(ctx)
        slug = site.lower().replace(" ", "-")
        n_rows = (5, 7, 9)[level]
        today = dt.date(2025, rng.randint(1, 12), rng.randint(1, 28))
        if ctx.variant == "certificate_expiry":
            items = [f"{w}.{slug}.intranet" for w in rng.sample(HOST_WORDS, n_rows)]
        else:
            items = rng.sample(PAGES, n_rows)
        makers: dict[str, Callable[[], Board]] = {
            "slow_page": lambda: _slow_page(rng, items, level),
            "error_rate": lambda: _error_rate(rng, items, level),
            "outage": lambda: _outage(rng, items, level),
            "certificate_expiry": lambda: _certificate(rng, items, level, today),
        }
        board = makers[ctx.variant]()
        rng.shuffle(board.rows)
        flagged = _at_fault(ctx.variant, board, level)
        if flagged != [board.culprit]:
            raise GenerationError(f"website_monitor: expected one row at fault, found {flagged}")
        culprit = board.culprit
        what = "host" if ctx.variant == "certificate_expiry" else "page"

        # people
        hr = company.department("HR")
        eng = company.department("Engineering")
        em = company.employee(eng.head)
        hr_staff = [company.employee(h) for h in hr.members if h != hr.head]
        keeper = company.employee(hr.head) if level == 1 else rng.choice(hr_staff)
        hr_head = company.employee(hr.head)
        owners = [e for e in company.employees if e.department not in ("HR", "Executive") and e.handle != em.handle
                  and e.manager is not None]
        owner: Employee = rng.choice(owners)
        code = self._code(ctx)
        change = f"CHG-{rng.randint(10000, 99999)}"

        # pages and the guide
        status_url = f"http://intranet/status/{slug}"
        portal_url = "http://intranet/monitoring"
        if "website_monitor:page:" + portal_url in ctx.used_paths:
            portal_url = f"{portal_url}/{tid}"
        ctx.used_paths.add("website_monitor:page:" + portal_url)
        head = [f"Status of the {site} ({slug}.intranet), last hour." + (f" {board.note}" if board.note else "")]
        if level == 0:
            head.append(f"Alert rule: {board.rule}")
        pages = [PageAsset(url=status_url, title=f"{site} status", content="\n".join([*head, "", _table(board)]),
                           clue_ids=[f"{tid}-status"])]
        guide_path = ""
        files: list[FileAsset] = []
        if level >= 1:
            guide_path = ctx.path("/shared/engineering", "website_monitoring_guide", "md")
            guide = ["# Website monitoring guide", "",
                     "How to read the status dashboards of our internal websites, and what to escalate."]
            # every kind of problem has its rule (the others' thresholds are drawn too: distractors)
            for kind in VARIANTS:
                b = board if kind == ctx.variant else makers[kind]()
                guide += ["", f"## {SECTION[kind]}", "", b.rule]
                if level == 2:
                    guide += [f"Exception: {b.exclusion}"]
            guide += ["", "## Escalation", "",
                      "Report the affected page (or host) to the site's owner; HR keeps the register of site "
                      "owners. Production changes need an approval code from the engineering manager."]
            files.append(FileAsset(path=guide_path, content="\n".join(guide) + "\n", media_type="text/markdown",
                                   clue_ids=[f"{tid}-guide"]))
        if level == 2:
            others = [s for s in SITES if s != site]
            lines = [f"{s}: healthy, no open alerts" for s in rng.sample(others, 4)]
            lines.append(f"{site}: ALERT, details at {status_url}")
            rng.shuffle(lines)
            pages.append(PageAsset(url=portal_url, title="Monitoring portal",
                                   content="Internal websites, last hour:\n" + "\n".join(lines),
                                   clue_ids=[f"{tid}-portal"]))

        # colleagues' knowledge
        site_keys = [site, slug]
        facts = [Fact(fact_id=f"{tid}-owner", holder=keeper.handle, topic=f"who owns the {site}",
                      keywords=HR_WORDS, require_any=site_keys,
                      reply=f"According to the register of site owners, the {site} is owned by {owner.name} "
                            f"({owner.handle}, {owner.department}).", clue_ids=[f"{tid}-owner"])]
        if level == 2:
            facts.append(Fact(fact_id=f"{tid}-register", holder=hr_head.handle, topic="who keeps the owner register",
                              keywords=HR_WORDS, require_any=site_keys,
                              reply=f"I don't have the register of site owners at hand: {keeper.name} "
                                    f"({keeper.handle}) keeps it.", clue_ids=[f"{tid}-register"]))
        ask_fix = (f"Yes, the {site} is mine. I can deploy a fix, but every production change needs an approval "
                   f"code from our engineering manager, {em.name} ({em.handle}). Send me the code and the exact "
                   f"{what} to fix.")
        facts.append(Fact(fact_id=f"{tid}-needs-code", holder=owner.handle, topic=f"fixing the {site}",
                          keywords=OWNER_WORDS, require_any=site_keys, reply=ask_fix, clue_ids=[f"{tid}-needs-code"]))
        # the same words plus the code score higher: with the code, only the fix fact answers (gated on the
        # code and the culprit); without it, the two tie and the gate reply repeats the request
        facts.append(Fact(fact_id=f"{tid}-fixed", holder=owner.handle, topic=f"deploying the {site} fix",
                          keywords=[*OWNER_WORDS, code], require_any=site_keys, gate_tokens=[code, culprit],
                          gate_reply=ask_fix,
                          reply=f"Thanks! Approval {code} accepted: I've deployed the fix for {culprit} on the {site}. "
                                f"Change id: {change}.", clue_ids=[f"{tid}-change"]))
        facts.append(Fact(
            fact_id=f"{tid}-code", holder=em.handle, topic=f"approval code for the {site} fix",
            keywords=EM_WORDS, require_any=site_keys,
            gate_tokens=[culprit] if level == 2 else [],
            gate_reply=f"Which {what} of the {site} needs the change? Name it and I'll issue the approval code.",
            reply=f"Approved: the approval code for the {site} production fix is {code}.", clue_ids=[f"{tid}-code"]))

        clues = [
            Clue(clue_id=f"{tid}-status", description=f"the {site} status dashboard", location="page",
                 where=status_url + (f", linked from {portal_url}" if level == 2 else ""),
                 hops=2 if level == 2 else 1),
            Clue(clue_id=f"{tid}-owner", description=f"{owner.handle} owns the {site}", location="colleague",
                 where=f"ask {keeper.handle} (HR)", hops=2 if level == 2 else 1),
            Clue(clue_id=f"{tid}-needs-code", description="the owner needs the engineering manager's approval code",
                 location="colleague", where=f"ask {owner.handle}", hops=2),
            Clue(clue_id=f"{tid}-code", description="the approval code", location="colleague",
                 where=f"ask {em.handle} (engineering manager)", hops=3),
            Clue(clue_id=f"{tid}-change", description="the change id of the deployed fix", location="colleague",
                 where=f"send {owner.handle} the code and the {what}", hops=4),
        ]
        if guide_path:
            clues.append(Clue(clue_id=f"{tid}-guide", description="the alert rule", location="file", where=guide_path))
        if level == 2:
            clues.append(Clue(clue_id=f"{tid}-portal", description="the monitoring portal links the dashboard",
                              location="page", where=portal_url))
            clues.append(Clue(clue_id=f"{tid}-register", description=f"{keeper.handle} keeps the owner register",
                              location="colleague", where=f"ask {hr_head.handle} (head of HR)"))

        # the oracle
        plan: list[ToolCall] = []
        if level == 2:
            plan.append(ToolCall(name="open_page", arguments={"url": portal_url}))
        plan.append(ToolCall(name="open_page", arguments={"url": status_url}))
        if guide_path:
            plan.append(ToolCall(name="read_file", arguments={"path": guide_path}))

        def ask(to: Employee, text: str) -> None:
            plan.append(ToolCall(name="send_message", arguments={"to": to.handle, "text": text}))
            plan.append(ToolCall(name="wait", arguments={"for_message_from": to.handle}))

        if level == 2:
            ask(hr_head, f"Hi {hr_head.first_name}, who owns the {site} website?")
        ask(keeper, f"Hi {keeper.first_name}, who owns the {site} website?")
        ask(owner, f"Hi {owner.first_name}, the {site} has a problem with {culprit}. Could you fix it?")
        ask(em, f"Hi {em.first_name}, could I have the approval code for the {site} production fix of {culprit}?")
        ask(owner, f"Here is the approval code {code} from {em.first_name} for the {site} fix of {culprit}.")
        answer = {what: culprit, "owner": owner.handle, "change_id": change}
        plan.append(ToolCall(name="submit", arguments={"task_id": tid, "answer": answer}))

        diag = [f"{tid}-status", *([f"{tid}-guide"] if guide_path else []), *([f"{tid}-portal"] if level == 2 else [])]
        checkpoints = [
            Checkpoint(cp_id="culprit", description=f"the report names the {what} at fault", weight=2.0,
                       clue_ids=diag, check=SubmissionCheck(field=what, expected="culprit", compare="equals"),
                       feedback=f"Compare every row of the {site} status dashboard with the alert rule"
                                + (" in the website monitoring guide." if guide_path else " on the dashboard.")),
            Checkpoint(cp_id="owner", description="the report names the site's owner", weight=1.0,
                       clue_ids=[f"{tid}-owner", *([f"{tid}-register"] if level == 2 else [])],
                       check=SubmissionCheck(field="owner", expected="owner", compare="equals"),
                       feedback="HR keeps the register of site owners."),
            Checkpoint(cp_id="code-delivered", description="the approval code reached the owner", weight=1.0,
                       clue_ids=[f"{tid}-needs-code", f"{tid}-code"],
                       check=MessageOnlyCheck(to=owner.handle, expected="code", allowed=[em.handle]),
                       feedback="The owner cannot deploy without an approval code; ask the owner who issues it."),
            Checkpoint(cp_id="change-id", description="the fix was deployed (its change id is reported)", weight=1.0,
                       clue_ids=[f"{tid}-change"],
                       check=SubmissionCheck(field="change_id", expected="change_id", compare="equals"),
                       feedback="The owner confirms the fix with a change id once they have the code and the "
                                f"{what} to fix."),
        ]
        where = {0: f"{keeper.name} ({keeper.handle}) in HR keeps the register of site owners.",
                 1: "HR keeps the register of site owners.",
                 2: "HR keeps the register of site owners."}[level]
        start = {0: f"Its status dashboard is {status_url}.",
                 1: f"Its status dashboard is {status_url}; what counts as a problem is in the website monitoring "
                    "guide on the shared drive.",
                 2: f"Start from the monitoring portal {portal_url}; what counts as a problem is in the website "
                    "monitoring guide on the shared drive."}[level]
        objective = (
            f"People report that the {site} website is {SYMPTOM[ctx.variant]}. Find the {what} at fault and get it "
            f"fixed by the site's owner. {start} {where} Submit "
            f'{{"{what}": "<the {what} at fault>", "owner": "<the owner\'s handle>", "change_id": "<the change id '
            'the owner gives you for the fix>"}.')
        return ctx.instance(
            self, objective=objective, files=files, facts=facts, pages=pages, clues=clues, checkpoints=checkpoints,
            solution=plan, answers={"culprit": culprit, "owner": owner.handle, "code": code, "change_id": change})

    @staticmethod
    def _site(ctx: GenContext) -> str:
        free = [s for s in SITES if KEY_SITE + s not in ctx.used_paths]
        if not free:
            raise GenerationError("website_monitor: every site already has a task today")
        site = ctx.rng.choice(free)
        ctx.used_paths.add(KEY_SITE + site)
        return site

    @staticmethod
    def _code(ctx: GenContext) -> str:
        while True:
            code = f"APR-{ctx.rng.randint(1000, 9999)}"
            if KEY_CODE + code not in ctx.used_paths:
                ctx.used_paths.add(KEY_CODE + code)
                return code

    def baseline(self, view: BaselineView) -> list[ToolCall]:
        """The heuristic opens no page: it names the owner if HR told it, and guesses the page."""
        what = "host" if '{"host"' in view.objective else "page"
        owner = ""
        for src, text in sorted(view.texts.items()):
            m = re.search(r"is owned by .+? \(([\w.-]+),", text)
            if not src.startswith("/") and m:
                owner = m.group(1)
        guess = view.rng.choice(PAGES) if what == "page" else "www.intranet"
        return [ToolCall(name="submit", arguments={"task_id": view.task_id,
                                                   "answer": {what: guess, "owner": owner, "change_id": ""}})]
