"""Status watch: keep an eye on a dashboard that refreshes at known times and act when a threshold is crossed.

The dashboard is an intranet page whose content changes during the day (``PageAsset.versions``): before
the refresh it shows harmless values, after it the values that decide the task. Thresholds and owners
are in an alerting runbook held by Engineering. The trainee must look again after the refresh (a
value read earlier is simply wrong), report, and message the owner of every service in breach within
``ALERT_WITHIN`` minutes of the refresh that shows the breach (an alert sent just before the deadline is
too late; the breach-deciding refresh is kept clear of the trainee's required meetings); the
oracle's plan waits for the refresh time with ``wait(until=...)``, which the oracle and the day
generator treat as "this task is blocked until then" (other work goes on meanwhile).
"""

from __future__ import annotations

import re
from typing import ClassVar

from firstday.tasks.checks import MessageOnlyCheck, SubmissionCheck
from firstday.tasks.family import BaselineView, GenContext, ask, referral, register
from firstday.tasks.model import Checkpoint, Clue, TaskInstance
from firstday.timefmt import fmt
from firstday.world.assets import Fact, FileAsset, PageAsset, PageVersion
from firstday.world.company import Employee
from firstday.world.tools import ToolCall

VARIANTS = ("breach", "all_clear", "multi_service", "trend")
KEY_SERVICE = "status_watch:service:"  # used_paths keys: the services a watch of the day shows
KEY_ALERT = "status_watch:alert:"  # used_paths keys: the services a watch of the day alerts about
KEY_URL = "status_watch:url:"
SERVICES = ("checkout-api", "search", "billing-worker", "auth", "image-resizer", "notifications", "reporting",
            "inventory-sync", "payments-gateway", "email-relay", "recommendations", "export-jobs")
# metric -> (low, high) range of ordinary values, and the threshold range
METRICS: dict[str, tuple[tuple[float, float], tuple[int, int]]] = {
    "disk usage": ((40.0, 78.0), (80, 92)),
    "CPU load": ((20.0, 70.0), (75, 90)),
    "memory usage": ((35.0, 75.0), (80, 92)),
    "error rate": ((0.1, 1.5), (2, 5)),
}
ASK = "Could you share the alerting runbook for the {metric} dashboard?"
ALERT_WITHIN = 30  # minutes after the refresh that shows the breach within which the owner must be alerted
REACT_MINUTES = 15  # what looking at the refreshed page and alerting takes: kept clear of required meetings
MEETING_LEAD = 10  # minutes before a required meeting when the trainee is already on the way to it


def _v(x: float) -> str:
    return f"{x:.1f}"


def _page(metric: str, rows: list[dict[str, float]], times: list[int], nxt: int | None) -> str:
    """The dashboard: one column per refresh so far (the latest last), as it keeps the day's readings."""
    lines = [f"Last refreshed: {fmt(times[-1])}" + (f" (next refresh {fmt(nxt)})" if nxt else ""), "",
             f"{metric} (%) at each refresh:", "",
             "| service | " + " | ".join(fmt(t) for t in times) + " |", "|---|" + "---|" * len(times)]
    lines += [f"| {s} | " + " | ".join(_v(r[s]) for r in rows) + " |" for s in rows[0]]
    return "\n".join(lines) + "\n"


@register
class StatusWatch:
    name = "status_watch"
    title = "Status watch"
    description = (
        "Watch a dashboard that refreshes later in the day; after the refresh, report what it shows and "
        "alert the owners of services whose values cross the alerting runbook's thresholds."
    )
    domains = ("inquiry", "information")
    modalities = ("web", "text", "dialogue")
    variants = VARIANTS
    knobs: ClassVar[dict[str, str]] = {
        "services": "services on the dashboard: easy 3, medium 4, hard 6 (only some are watched, except in "
        "'multi_service')",
        "refreshes": "'trend': easy 3 refreshes, medium/hard 4 with a one-off spike before the real alert; other "
        "variants one refresh",
        "near_misses": "medium and hard: values just under their threshold after the refresh (and another "
        "service breaching while the watched one is fine, in 'all_clear')",
        "hops": "who holds the runbook: easy named; medium the head of Engineering; hard the head refers you to "
        "the SRE who keeps it, and owners are only on the service catalog page it points to",
        "timing": "the values that decide the task appear only after the refresh time stated in the objective; "
        f"alerts count only within {ALERT_WITHIN} minutes of the refresh that shows the breach",
    }

    def generate(self, ctx: GenContext) -> TaskInstance:
        rng, company, tid, variant = ctx.rng, ctx.company, ctx.task_id, ctx.variant
        level = {"easy": 0, "medium": 1, "hard": 2}[ctx.difficulty]
        metric = rng.choice(list(METRICS))
        (lo, hi), (tlo, thi) = METRICS[metric]
        n_services = (3, 4, 6)[level]
        # services no other watch of the day shows: an alert names its service, and two watches of one service
        # alerting one owner the same day could not be told apart
        watched_today = {k[len(KEY_SERVICE):] for k in ctx.used_paths if k.startswith(KEY_SERVICE)}
        alerted_today = {k[len(KEY_ALERT):] for k in ctx.used_paths if k.startswith(KEY_ALERT)}
        fresh = [s for s in SERVICES if s not in watched_today]
        if len(fresh) >= n_services:
            services = rng.sample(fresh, n_services)
        else:
            # too few left (e.g. two hard watches and a medium one: 16 rows, 12 services): the watched service
            # first from the fresh ones, then services others show but never alert about, those last. Drawn from
            # all at once, a watch could alert about another's service: one owner, two values (seed 6003 s035)
            spare = [s for s in SERVICES if s in watched_today and s not in alerted_today]
            taken = [s for s in SERVICES if s in alerted_today]
            services = (rng.sample(fresh, len(fresh)) + rng.sample(spare, len(spare))
                        + rng.sample(taken, len(taken)))[:n_services]
        ctx.used_paths.update(KEY_SERVICE + s for s in services)
        thresholds = {s: float(rng.randint(tlo, thi)) for s in services}
        before = {s: round(rng.uniform(lo, hi), 1) for s in services}

        eng = company.department("Engineering")
        head = company.employee(eng.head)
        keeper = company.employee(rng.choice(eng.members[1:])) if level == 2 else head
        pool = [e for e in company.employees if e.handle not in (head.handle, keeper.handle, company.trainee.handle)
                and e.department in ("Engineering", "IT", "Data Science")]
        pool = pool or [e for e in company.employees if e.handle not in (head.handle, keeper.handle)
                        and e.department != "Executive"]
        owners: dict[str, Employee] = {s: rng.choice(pool) for s in services}

        def above(s: str) -> float:
            return round(thresholds[s] + rng.uniform(0.3, 9.0 if metric != "error rate" else 3.0), 1)

        def below(s: str, near: bool) -> float:
            gap = rng.uniform(0.2, 1.0) if near else rng.uniform(2.0, 8.0 if metric != "error rate" else 1.5)
            return round(max(0.1, thresholds[s] - gap), 1)

        # --- what the refreshes show ---------------------------------------------------------------
        watched = services[0]
        refreshes = 1 if variant != "trend" else (3 if level == 0 else 4)
        rows_after: list[dict[str, float]] = []
        for _ in range(refreshes):
            rows_after.append({s: below(s, near=level > 0 and rng.random() < 0.5) for s in services})
        if variant == "breach":
            rows_after[0][watched] = above(watched)
            breached = [watched]
        elif variant == "all_clear":
            rows_after[0][watched] = below(watched, near=level > 0)
            breached = []
            if level:  # another (unwatched) service breaches: not this task's concern
                rows_after[0][services[1]] = above(services[1])
        elif variant == "multi_service":
            # never a service another watch of the day alerts about (all of them when the services were fresh)
            free = [s for s in services if s not in alerted_today] or services
            breached = sorted(rng.sample(free, min(len(free), rng.randint(1, 2 if n_services > 3 else 1))))
            for s in breached:
                rows_after[0][s] = above(s)
        else:
            # above/below the threshold at each refresh; at medium/hard a one-off spike may come first
            patterns = ([False, True, True], [True, True, False]) if level == 0 else (
                [True, False, True, True], [False, True, True, False])
            pattern = rng.choice(patterns)
            for k, is_above in enumerate(pattern):
                rows_after[k][watched] = above(watched) if is_above else below(watched, near=level > 0)
            breached = [watched]
        alert_index = 0
        if variant == "trend":
            flags = [rows_after[k][watched] > thresholds[watched] for k in range(refreshes)]
            alert_index = next(k for k in range(1, refreshes) if flags[k] and flags[k - 1])
        # the ground truth is computed from the shown values by the runbook's rule
        final = rows_after[0]
        truth_breached = sorted(s for s in services if final[s] > thresholds[s])
        watched_set = services if variant == "multi_service" else [watched]
        assert variant == "trend" or [s for s in truth_breached if s in watched_set] == breached

        # --- times ---------------------------------------------------------------------------------
        pre_plan_minutes = 40 if level == 2 else 25  # reading and asking before the refresh matters
        first = -(-(ctx.arrival + pre_plan_minutes + rng.randint(20, 60)) // 5) * 5
        step = 20
        last_allowed = ctx.day_end - 45 - step * (refreshes - 1)
        first = min(first, last_allowed)
        # the refresh that shows the breach comes when the trainee can react to it: not just before or during
        # a required meeting (later if possible, else earlier, never eating into the time to get the runbook)
        busy = [(m.start - MEETING_LEAD, m.end) for m in ctx.meetings if m.trainee_required]

        def clash(f: int) -> bool:
            t = f + step * alert_index
            return any(t < end and t + REACT_MINUTES > start for start, end in busy)

        earliest = -(-(ctx.arrival + pre_plan_minutes + 20) // 5) * 5
        options = [*range(first, last_allowed + 1, 5), *range(first - 5, earliest - 1, -5)]
        first = next((f for f in options if not clash(f)), first)
        times = [first + step * k for k in range(refreshes)]
        if breached:  # a required meeting placed later today (by another task) must not take the trainee away
            ctx.desk_windows.append((times[alert_index] - MEETING_LEAD, times[alert_index] + REACT_MINUTES))

        url = f"http://intranet/dashboards/{metric.replace(' ', '-').lower()}"
        if KEY_URL + url in ctx.used_paths:
            url = f"{url}-{tid}"
        ctx.used_paths.add(KEY_URL + url)
        start_shown = ctx.day_start if ctx.arrival - 60 < ctx.day_start else ctx.arrival - 60
        # each refresh shows the readings of the day so far (so a refresh seen late is not lost)
        versions = [PageVersion(time=t, content=_page(metric, [before, *rows_after[: k + 1]],
                                                      [start_shown, *times[: k + 1]],
                                                      times[k + 1] if k + 1 < refreshes else None),
                                clue_ids=[f"{tid}-r{j + 1}" for j in range(k + 1)])
                    for k, t in enumerate(times)]
        pages = [PageAsset(url=url, title=f"{metric.capitalize()} dashboard",
                           content=_page(metric, [before], [start_shown], times[0]), versions=versions)]

        # --- runbook, people -----------------------------------------------------------------------
        runbook_path = ctx.path("/shared/engineering", f"alerting_runbook_{metric.replace(' ', '_').lower()}", "md")
        catalog_url = "http://intranet/service-catalog"
        if KEY_URL + catalog_url in ctx.used_paths:
            catalog_url = f"{catalog_url}-{tid}"
        ctx.used_paths.add(KEY_URL + catalog_url)
        rule = ("A service is in breach when its value is ABOVE its threshold at two consecutive refreshes; the "
                "alert time is the refresh at which this first happens." if variant == "trend" else
                "A service is in breach when its value after a refresh is ABOVE its threshold.")
        doc = [f"# Alerting runbook: {metric} (Engineering)", "", rule,
               "When a service is in breach, message its owner with the service name and the value shown.", ""]
        if level == 2:
            doc.append(f"Service owners are listed in the service catalog: {catalog_url}")
            doc += ["", "| service | threshold (%) |", "|---|---|"]
            doc += [f"| {s} | {_v(thresholds[s])} |" for s in services]
            pages.append(PageAsset(url=catalog_url, title="Service catalog", clue_ids=[f"{tid}-catalog"],
                                   content="| service | owner |\n|---|---|\n" + "\n".join(
                                       f"| {s} | {owners[s].name} ({owners[s].handle}) |" for s in services) + "\n"))
        else:
            doc += ["| service | threshold (%) | owner |", "|---|---|---|"]
            doc += [f"| {s} | {_v(thresholds[s])} | {owners[s].name} ({owners[s].handle}) |" for s in services]
        files = [FileAsset(path=runbook_path, content="\n".join(doc) + "\n", media_type="text/markdown",
                           hidden=True, clue_ids=[f"{tid}-runbook"])]
        question = ASK.format(metric=metric)
        mslug = metric.split()[0].lower()
        facts = [Fact(fact_id=f"{tid}-runbook", holder=keeper.handle, topic="alerting runbook",
                      keywords=["alerting runbook", "runbook", "thresholds", "alerting", f"{metric} dashboard"],
                      require_any=[mslug, "runbook"],
                      reply=f"Here's the alerting runbook for the {metric} dashboard: {runbook_path}",
                      clue_ids=[f"{tid}-holder"], shares_files=[runbook_path])]
        clues = [Clue(clue_id=f"{tid}-runbook", description="thresholds, rule and owners", location="file",
                      where=f"{runbook_path}, shared by {keeper.handle}", hops=2 if level == 2 else 1),
                 Clue(clue_id=f"{tid}-holder", description="the runbook is shared on request", location="colleague",
                      where=f"ask {keeper.handle}")]
        clues += [Clue(clue_id=f"{tid}-r{k + 1}", description=f"the values after the refresh at {fmt(t)}",
                       location="page", where=f"open {url} at or after {fmt(t)}") for k, t in enumerate(times)]
        plan: list[ToolCall] = [ToolCall(name="open_page", arguments={"url": url})]
        if level == 2:
            referral(f"{tid}-referral", head, "head of Engineering", topic="who keeps the runbook",
                     keywords=["alerting runbook", "runbook", "thresholds", "alerting"],
                     description="who keeps the runbook",
                     reply=f"{keeper.name} ({keeper.handle}) on the SRE side keeps our alerting runbooks; "
                           "please ask them.",
                     question=question).add_to(facts, clues, plan)
            clues.append(Clue(clue_id=f"{tid}-catalog", description="service owners", location="page",
                              where=f"open {catalog_url} (named in the runbook)"))
        plan += [*ask(keeper.handle, question),
                 ToolCall(name="read_file", arguments={"path": runbook_path})]
        if level == 2:
            plan.append(ToolCall(name="open_page", arguments={"url": catalog_url}))
        look = alert_index + 1 if variant == "trend" else 1
        plan += [ToolCall(name="wait", arguments={"until": fmt(times[look - 1])}),
                 ToolCall(name="open_page", arguments={"url": url})]
        shown = rows_after[alert_index] if variant == "trend" else final
        alerts = list(breached)
        ctx.used_paths.update(KEY_ALERT + s for s in alerts)
        by_owner: dict[str, list[str]] = {}
        for s in alerts:
            by_owner.setdefault(owners[s].handle, []).append(s)
        for h, svcs in by_owner.items():
            text = f"Alert from the {metric} dashboard: " + "; ".join(
                f"{s} is at {_v(shown[s])}% (threshold {_v(thresholds[s])}%)" for s in svcs)
            plan.append(ToolCall(name="send_message", arguments={"to": h, "text": text}))
        for h in by_owner:
            facts.append(Fact(fact_id=f"{tid}-ack-{h}", holder=h, topic="dashboard alert",
                              keywords=["alert", "dashboard", "threshold", *[s for s in by_owner[h]]],
                              require_any=[mslug, *by_owner[h]],
                              reply="Thanks for the heads-up, I'm looking into it."))

        answers: dict[str, object] = {}
        deps_page = [f"{tid}-r{k + 1}" for k in range(look)]
        deps_rule = [f"{tid}-runbook", *deps_page]
        deps_owner = [*deps_rule, *([f"{tid}-catalog"] if level == 2 else [])]
        hint_page = f"Open {url} again after its refresh; the values before it do not count."
        hint_rule = "Compare with the thresholds and rule of Engineering's alerting runbook for this dashboard."
        checkpoints: list[Checkpoint] = []
        if variant in ("breach", "all_clear"):
            answer: dict[str, object] = {"service": watched, "value": final[watched], "breached": bool(breached)}
            answers.update({"value": final[watched], "breached": bool(breached)})
            checkpoints += [
                Checkpoint(cp_id="value", description=f"{watched} after the refresh", clue_ids=deps_page,
                           check=SubmissionCheck(field="value", expected="value", compare="number_close",
                                                 tolerance=0.0005), feedback=hint_page),
                Checkpoint(cp_id="breached", description="whether it is in breach", clue_ids=deps_rule,
                           check=SubmissionCheck(field="breached", expected="breached"), feedback=hint_rule),
            ]
        elif variant == "multi_service":
            answer = {"breached": breached, "values": {s: final[s] for s in services}}
            answers["breached"] = breached
            checkpoints.append(Checkpoint(
                cp_id="breached", description="the services in breach", weight=2.0, clue_ids=deps_rule,
                check=SubmissionCheck(field="breached", expected="breached", compare="set_equals"),
                feedback=hint_rule))
        else:
            answer = {"service": watched, "alert_at": fmt(times[alert_index]), "value": shown[watched]}
            answers.update({"alert_at": fmt(times[alert_index]), "value": shown[watched]})
            checkpoints += [
                Checkpoint(cp_id="alert-at", description="the refresh at which the alert is due", weight=2.0,
                           clue_ids=deps_rule, check=SubmissionCheck(field="alert_at", expected="alert_at"),
                           feedback=hint_rule + " Look at every refresh."),
                Checkpoint(cp_id="value", description="the value at the alert", clue_ids=deps_page,
                           check=SubmissionCheck(field="value", expected="value", compare="number_close",
                                                 tolerance=0.0005), feedback=hint_page),
            ]
        readings = [before, *rows_after]
        for s in alerts:
            answers[f"notify.{s}"] = _v(shown[s])
            answers[f"name.{s}"] = s
            # what a hedging alert about s would list: the other services' readings; not s's own history (an
            # alert may say where it came from) nor what the owner's alert rightly names (values, thresholds)
            rightly = {_v(shown[o]) for o in by_owner[owners[s].handle]} | {
                _v(thresholds[o]) for o in by_owner[owners[s].handle]} | {_v(r[s]) for r in readings}
            answers[f"others.{s}"] = sorted({_v(r[o]) for r in readings for o in services if o != s} - rightly)
            checkpoints.append(Checkpoint(
                cp_id=f"notify-{s}", description=f"the owner of {s} was alerted with the value in time", weight=1.5,
                clue_ids=deps_owner,
                # only messages naming the service count: its value alone is too common a number; a message
                # about it stating another reading, or one per guess, fails
                check=MessageOnlyCheck(to=owners[s].handle, expected=f"notify.{s}", about=[f"name.{s}"],
                                       candidates=f"others.{s}", every_message=True,
                                       visible_from=times[alert_index], within_minutes=ALERT_WITHIN),
                feedback=f"Message the service's owner (runbook or service catalog) with the value shown, within "
                         f"{ALERT_WITHIN} minutes of the refresh that shows the breach."))
        plan.append(ToolCall(name="submit", arguments={"task_id": tid, "answer": answer}))

        when = (f"It refreshes at {fmt(times[0])}" if refreshes == 1 else
                f"It refreshes at {', '.join(fmt(t) for t in times[:-1])} and {fmt(times[-1])}")
        where = {0: f"{keeper.name} ({keeper.handle}) keeps the alerting runbook (thresholds and owners).",
                 1: "The head of Engineering can give you the alerting runbook (thresholds and owners).",
                 2: "Engineering keeps the alerting runbook (thresholds and owners)."}[level]
        if variant in ("breach", "all_clear"):
            what = (f"Keep an eye on {watched} on the {metric} dashboard {url}. {when}; check it after the refresh, "
                    f"and if {watched} is in breach under the alerting runbook, alert its owner with the value "
                    f"within {ALERT_WITHIN} minutes of the change. "
                    f"Submit {{\"service\": \"{watched}\", \"value\": <its {metric} after the refresh>, "
                    "\"breached\": true|false}.")
        elif variant == "multi_service":
            what = (f"Watch every service on the {metric} dashboard {url}. {when}; check it after the refresh and "
                    "alert the owner of each service in breach under the alerting runbook, with its value, within "
                    f"{ALERT_WITHIN} minutes of the change. Submit "
                    "{\"breached\": [\"<service>\", ...], \"values\": {\"<service>\": <value>, ...}}.")
        else:
            what = (f"Watch {watched} on the {metric} dashboard {url}. {when}; check it, and when the "
                    "alerting runbook says an alert is due, alert the owner with the value within "
                    f"{ALERT_WITHIN} minutes of that refresh. Submit "
                    f"{{\"service\": \"{watched}\", \"alert_at\": \"<HH:MM of that refresh>\", \"value\": <value>}}.")
        return ctx.instance(
            self, objective=f"{what} {where}", latest_deadline=min(ctx.day_end - 15, times[-1] + 60), files=files,
            facts=facts, pages=pages, clues=clues, checkpoints=checkpoints, solution=plan, answers=answers)

    def baseline(self, view: BaselineView) -> list[ToolCall]:
        """Without opening the dashboard: report the watched service as in breach at its runbook threshold."""
        runbook = next((t for p, t in view.texts.items() if "alerting_runbook" in p), "")
        m = re.search(r"(?:eye on|Watch) (\S+) on the", view.objective)
        service = m.group(1) if m else ""
        value: float = 0.0
        for line in runbook.splitlines():
            cells = [c.strip() for c in line.strip("|").split("|")]
            if len(cells) >= 2 and cells[0] == service:
                value = float(cells[1]) if cells[1].replace(".", "", 1).isdigit() else value
        answer: dict[str, object] = {"service": service, "value": value, "breached": view.rng.random() < 0.5,
                                     "breached_services": [], "alert_at": "12:00"}
        if "every service" in view.objective:
            answer = {"breached": [], "values": {}}
        return [ToolCall(name="submit", arguments={"task_id": view.task_id, "answer": answer})]
