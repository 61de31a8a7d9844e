"""Dashboard triage: read a monitoring dashboard screenshot, find the degraded service, grade the incident
by the runbook and page the owning team's on-call engineer.

Which service is degraded, and by how much, exists only in the screenshot (a rendered PNG: panels with
sparklines or gauges, big current values, status lamps). The runbook (text) states the alert threshold and
the severity bands; the on-call rota is known only to a colleague in Engineering. Status lamps follow
team-specific rules, so at medium and hard a lamp can mislead (amber or red on a healthy value): the value
decides, as the runbook says.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, ClassVar

from PIL import Image, ImageDraw

from firstday.tasks.checks import MessageOnlyCheck, SubmissionCheck
from firstday.tasks.family import BaselineView, GenContext, ask, referral, register
from firstday.tasks.library._image_kit import RGB, grain, jitter, text, text_width
from firstday.tasks.model import Checkpoint, Clue, TaskInstance
from firstday.world.assets import Fact, FileAsset
from firstday.world.images import ImageSpec, register_renderer
from firstday.world.tools import ToolCall

KEY_SERVICE = "dashboard_triage:service:"  # a degraded service already taken by an incident of the day

SERVICES = (
    "checkout-api", "search-svc", "auth-gateway", "billing-worker", "notify-hub", "inventory-db", "media-cdn",
    "reports-etl", "edge-proxy", "recs-engine", "mail-relay", "ledger-core", "profile-api", "geo-lookup",
    "cart-service", "pricing-api", "session-store", "upload-svc", "feed-builder", "webhooks-out",
)
TEAMS = ("Payments", "Search", "Identity", "Platform", "Messaging", "Data", "Storefront", "Mobile", "Growth",
         "Catalog")
SEVERITIES = ("SEV1", "SEV2", "SEV3")


@dataclass(frozen=True)
class Metric:
    """How a variant's metric looks and how the runbook grades it."""

    key: str
    label: str
    unit: str
    decimals: int
    higher_is_worse: bool
    thresholds: tuple[float, ...]  # alert thresholds to choose from
    normal: tuple[float, float]  # healthy range as fractions of the threshold (or absolute, for availability)


METRICS: dict[str, Metric] = {
    "error_rate": Metric("error_rate", "error rate (5 min)", "%", 1, True, (2.0, 3.0, 5.0), (0.05, 0.45)),
    "latency_p95": Metric("latency_p95", "p95 latency", "ms", 0, True, (600.0, 800.0, 1000.0), (0.12, 0.5)),
    "availability": Metric("availability", "availability (1 h)", "%", 2, False, (99.5, 99.0), (99.9, 100.0)),
    "queue_depth": Metric("queue_depth", "queue backlog", "msgs", 0, True, (5000.0, 8000.0, 10000.0), (0.02, 0.4)),
}
VARIANTS = tuple(METRICS)


def fmt_value(m: Metric, v: float) -> str:
    if m.key == "queue_depth":
        return f"{v:,.0f}"
    return f"{v:.{m.decimals}f}"


def bands(m: Metric, threshold: float) -> tuple[float, float]:
    """(SEV2 bound, SEV1 bound): beyond the first a SEV2, beyond the second a SEV1."""
    if m.higher_is_worse:
        k = (2.0, 4.0) if m.key == "error_rate" else (1.5, 2.5) if m.key == "latency_p95" else (2.0, 5.0)
        return threshold * k[0], threshold * k[1]
    return round(threshold - 0.5, 2), round(threshold - 1.5, 2)


def base_severity(m: Metric, threshold: float, v: float) -> str:
    sev2, sev1 = bands(m, threshold)
    if m.higher_is_worse:
        return "SEV1" if v >= sev1 else "SEV2" if v >= sev2 else "SEV3"
    return "SEV1" if v < sev1 else "SEV2" if v < sev2 else "SEV3"


def is_degraded(m: Metric, threshold: float, v: float) -> bool:
    return v > threshold if m.higher_is_worse else v < threshold


def severity(m: Metric, threshold: float, v: float, tier: int, tier_rule: bool) -> str:
    """The runbook's rule: the band of the value, one level milder for tier-2 services if the rule is on."""
    sev = base_severity(m, threshold, v)
    if tier_rule and tier == 2:
        sev = SEVERITIES[min(2, SEVERITIES.index(sev) + 1)]
    return sev


def _value_in(m: Metric, threshold: float, sev: str, rng: random.Random) -> float:
    """A degraded value well inside the band of ``sev`` (clear margins, so reading it is unambiguous)."""
    sev2, sev1 = bands(m, threshold)
    if m.higher_is_worse:
        lo, hi = {"SEV3": (threshold, sev2), "SEV2": (sev2, sev1), "SEV1": (sev1, sev1 * 1.6)}[sev]
    else:
        lo, hi = {"SEV3": (sev2, threshold), "SEV2": (sev1, sev2), "SEV1": (sev1 - 3.0, sev1)}[sev]
    span = hi - lo
    v = rng.uniform(lo + 0.2 * span, hi - 0.2 * span)
    return round(v, m.decimals) if m.decimals else float(round(v))


def _healthy(m: Metric, threshold: float, rng: random.Random, near: bool) -> float:
    if not m.higher_is_worse:
        lo, hi = (threshold + 0.15, threshold + 0.35) if near else m.normal
        return round(rng.uniform(lo, hi), m.decimals)
    lo, hi = (0.7, 0.9) if near else m.normal
    v = threshold * rng.uniform(lo, hi)
    return round(v, m.decimals) if m.decimals else float(round(v))


def _series(m: Metric, threshold: float, v: float, degraded: bool, rng: random.Random) -> list[float]:
    """30 points ending at the current value; a degraded service ramps up (or down) over the last third."""
    n = 30
    base = _healthy(m, threshold, rng, near=False) if degraded else v
    out = []
    for i in range(n - 1):
        if degraded and i > n * 0.6:
            f = (i - n * 0.6) / (n * 0.4)
            x = base + (v - base) * f
        else:
            x = base
        wobble = abs(threshold) * 0.04 if m.higher_is_worse else 0.03
        out.append(x + rng.uniform(-wobble, wobble))
    out.append(v)
    return [round(x, 3) for x in out]


# --- rendering ----------------------------------------------------------------------------------------------
THEMES: tuple[dict[str, RGB], ...] = (
    {"bg": (22, 24, 29), "panel": (34, 37, 44), "text": (222, 226, 232), "muted": (140, 146, 158),
     "grid": (52, 56, 66), "line": (115, 191, 105)},
    {"bg": (244, 245, 247), "panel": (255, 255, 255), "text": (30, 34, 40), "muted": (110, 116, 128),
     "grid": (226, 229, 234), "line": (50, 116, 217)},
    {"bg": (15, 32, 54), "panel": (24, 46, 74), "text": (232, 238, 246), "muted": (150, 170, 196),
     "grid": (40, 64, 96), "line": (96, 200, 230)},
)
LAMPS: dict[str, RGB] = {"green": (56, 176, 86), "amber": (236, 168, 38), "red": (222, 60, 56)}


@register_renderer("dashboard_triage.board")
def render_board(params: dict[str, Any]) -> Image.Image:
    rng = random.Random(params["seed"])
    theme = THEMES[params["theme"]]
    m = METRICS[params["metric"]]
    panels: list[dict[str, Any]] = params["panels"]
    cols = params["cols"]
    rows = (len(panels) + cols - 1) // cols
    pw, ph, gap, top = params["panel_w"], params["panel_h"], 10, 46
    w, h = cols * pw + (cols + 1) * gap, top + rows * ph + (rows + 1) * gap
    img = Image.new("RGB", (w, h), theme["bg"])
    d = ImageDraw.Draw(img)
    text(img, (gap + 2, 12), params["title"], 18, theme["text"], bold=True)
    sub = f"last 30 min  ·  refreshed {params['clock']}"
    text(img, (w - gap - text_width(sub, 12) - 4, 17), sub, 12, theme["muted"])
    fs = params["font_scale"]
    for i, p in enumerate(panels):
        cx, cy = gap + (i % cols) * (pw + gap), top + gap + (i // cols) * (ph + gap)
        d.rounded_rectangle((cx, cy, cx + pw, cy + ph), radius=6, fill=theme["panel"])
        text(img, (cx + 10, cy + 8), p["service"], int(15 * fs), theme["text"], bold=True)
        text(img, (cx + 10, cy + 12 + int(16 * fs)), f"team {p['team']}  ·  tier {p['tier']}", int(11 * fs),
             theme["muted"])
        lamp = LAMPS[p["lamp"]]
        d.ellipse((cx + pw - 24, cy + 10, cx + pw - 12, cy + 22), fill=lamp)
        value = fmt_value(m, p["value"])
        big = int(30 * fs)
        vy = cy + 16 + int(30 * fs)
        text(img, (cx + 10, vy), value, big, theme["text"])
        text(img, (cx + 14 + text_width(value, big), vy + big - int(14 * fs)), m.unit, int(13 * fs), theme["muted"])
        text(img, (cx + 10, vy + big + 6), m.label, int(11 * fs), theme["muted"])
        # the chart: a sparkline along the bottom, or a gauge on the right for availability
        if m.key == "availability":
            r = min(pw // 5, ph // 3)
            gx, gy = cx + pw - r - 16, cy + ph - 18
            d.arc((gx - r, gy - r, gx + r, gy + r), 180, 360, fill=theme["grid"], width=9)
            frac = max(0.0, min(1.0, (p["value"] - 95.0) / 5.0))
            d.arc((gx - r, gy - r, gx + r, gy + r), 180, 180 + 180 * frac, fill=lamp, width=9)
            text(img, (gx - r - 2, gy + 2), "95", 10, theme["muted"])
            text(img, (gx + r - 14, gy + 2), "100", 10, theme["muted"])
            series = p["series"]
            x0, x1, y0, y1 = cx + 10, gx - r - 14, cy + ph - 30, cy + ph - 10
        else:
            series = p["series"]
            x0, x1, y0, y1 = cx + 10, cx + pw - 10, cy + ph - 42, cy + ph - 10
        lo, hi = min(series), max(series)
        if hi - lo < 1e-9:
            hi = lo + 1.0
        d.line((x0, y1, x1, y1), fill=theme["grid"], width=1)
        pts = [(x0 + (x1 - x0) * k / (len(series) - 1), y1 - (y1 - y0) * (s - lo) / (hi - lo))
               for k, s in enumerate(series)]
        colour = lamp if p["lamp"] != "green" else jitter(theme["line"], rng, 10)
        d.line(pts, fill=colour, width=2)
    return grain(img, rng, params["noise"], cell=4)


# --- the family ---------------------------------------------------------------------------------------------
KEY_INCIDENT = "dashboard_triage:incident:"


@register
class DashboardTriage:
    name = "dashboard_triage"
    title = "Dashboard triage"
    description = (
        "Read a monitoring dashboard screenshot to find the degraded service, grade the incident by the runbook, "
        "and page the owning team's on-call engineer (the rota is known in Engineering)."
    )
    domains = ("inquiry", "information")
    modalities = ("image", "text", "dialogue")
    variants = VARIANTS
    knobs: ClassVar[dict[str, str]] = {
        "panels": "service panels on the dashboard: easy 4, medium 6, hard 9",
        "lamps": "easy: only the degraded service's lamp is red; medium: one healthy service near the threshold "
        "shows amber; hard: two near-threshold services with amber or red lamps, and the degraded one's lamp may "
        "be amber (the value decides)",
        "tier rule": "medium and hard runbooks grade tier-2 services one level milder (one more reasoning step)",
        "runbook": "easy: its path is in the objective; medium: on the shared drive, unnamed; hard: hidden, "
        "shared by the rota keeper",
        "hops": "the rota: easy a named colleague; medium the head of Engineering; hard the head refers you to the "
        "rota keeper (two hops)",
    }

    def generate(self, ctx: GenContext) -> TaskInstance:
        rng = ctx.rng
        level = {"easy": 0, "medium": 1, "hard": 2}[ctx.difficulty]
        m = METRICS[ctx.variant]
        threshold = rng.choice(m.thresholds)
        tier_rule = level >= 1
        n_panels = (4, 6, 9)[level]
        services = rng.sample(SERVICES, n_panels)
        n_teams = min(len(TEAMS), max(3, n_panels - rng.randint(1, 2)))
        teams = rng.sample(TEAMS, n_teams)
        owner = {s: teams[i] if i < n_teams else rng.choice(teams) for i, s in enumerate(services)}
        tiers = {s: rng.choice((1, 1, 2)) for s in services}
        # two incidents of one day on the same service could be paged with one message: keep them apart (the
        # day-wide used_paths set doubles as the registry of claimed values, as in floor_plan_booking)
        free = [s for s in services if f"{KEY_SERVICE}{s}" not in ctx.used_paths] or services
        bad = rng.choice(free)
        ctx.used_paths.add(f"{KEY_SERVICE}{bad}")
        if tier_rule and rng.random() < 0.5:
            tiers[bad] = 2
        target = rng.choice(SEVERITIES)
        # choose the value band so that the rule, tier included, yields a severity of any level
        band = target
        if tier_rule and tiers[bad] == 2:
            band = {"SEV1": "SEV1", "SEV2": "SEV1", "SEV3": rng.choice(("SEV2", "SEV3"))}[target]
        bad_value = _value_in(m, threshold, band, rng)
        sev = severity(m, threshold, bad_value, tiers[bad], tier_rule)
        near = [s for s in services if s != bad][: level + (1 if level == 2 else 0)]
        panels: list[dict[str, Any]] = []
        for s in services:
            if s == bad:
                v = bad_value
                lamp = "red" if level < 2 else rng.choice(("red", "amber"))
            elif s in near:
                v = _healthy(m, threshold, rng, near=True)
                lamp = "amber" if level < 2 else rng.choice(("amber", "red"))
            else:
                v = _healthy(m, threshold, rng, near=False)
                lamp = "green"
            assert is_degraded(m, threshold, v) == (s == bad)
            panels.append({"service": s, "team": owner[s], "tier": tiers[s], "value": v, "lamp": lamp,
                           "series": _series(m, threshold, v, s == bad, rng)})
        # the incident id makes colleagues' facts specific to this task (several triage tasks may share a day)
        while True:
            incident = f"INC-{rng.randint(1000, 9999)}"
            if KEY_INCIDENT + incident not in ctx.used_paths:
                ctx.used_paths.add(KEY_INCIDENT + incident)
                break

        eng = ctx.company.department("Engineering")
        head = ctx.company.employee(eng.head)
        others = [h for h in eng.members if h != eng.head]
        keeper = ctx.company.employee(rng.choice(others)) if others else head
        holder = head if level == 1 else keeper
        pool = [e for e in ctx.company.employees if e.handle not in (ctx.company.trainee.handle, holder.handle)]
        engineers = [e for e in pool if e.department == "Engineering"]
        rest = [e for e in pool if e.department != "Engineering"]
        rng.shuffle(engineers)
        rng.shuffle(rest)
        oncall_people = (engineers + rest)[:n_teams]
        oncall = {t: oncall_people[i % len(oncall_people)] for i, t in enumerate(teams)}
        page = oncall[owner[bad]]

        tid = ctx.task_id
        img_path = ctx.path("/shared/engineering/dashboards", f"prod_overview_{incident.lower()}", "png")
        runbook_path = ctx.path("/shared/engineering", "incident_runbook", "md")
        theme = rng.randrange(len(THEMES))
        cols = (2, 3, 3)[level]
        params: dict[str, Any] = {
            "seed": rng.getrandbits(32), "theme": theme, "metric": m.key, "panels": panels, "cols": cols,
            "panel_w": (330, 240, 240)[level] + rng.randint(-12, 12), "panel_h": 150 + rng.randint(0, 16),
            "font_scale": rng.choice((0.95, 1.0, 1.05)), "noise": rng.choice((0.0, 0.03, 0.05)),
            "title": rng.choice(("Production overview", "Service health", "Prod status board", "Core services")),
            "clock": f"{rng.randint(9, 16):02d}:{rng.randint(0, 59):02d}",
            # what the answer is read from (checked to be absent from every text of the day)
            "deciding": [f"{fmt_value(m, bad_value)} {m.unit}"],
        }
        alt_lines = [f"Dashboard '{params['title']}' ({m.label}, {m.unit}), one panel per service:"]
        alt_lines += [f"- {p['service']} (team {p['team']}, tier {p['tier']}): {fmt_value(m, p['value'])} {m.unit}, "
                      f"status lamp {p['lamp']}" for p in panels]
        sev2, sev1 = bands(m, threshold)
        cmp_word, worse = ("above", "at or above") if m.higher_is_worse else ("below", "below")
        runbook = [
            "# Incident triage runbook (production dashboards)",
            "",
            f"A service is **degraded** when its {m.label} is {cmp_word} {fmt_value(m, threshold)} {m.unit}. "
            "Judge by the value on the panel: status lamps follow team-specific rules and are not the alert rule.",
            "",
            "Severity of a degraded service:",
            f"- SEV1: {m.label} {worse} {fmt_value(m, sev1)} {m.unit}",
            f"- SEV2: {m.label} {worse} {fmt_value(m, sev2)} {m.unit}",
            "- SEV3: any other degraded value",
        ]
        if tier_rule:
            runbook.append("- Tier-2 services are graded one level milder (SEV1 becomes SEV2, SEV2 becomes SEV3; "
                           "SEV3 stays SEV3).")
        runbook += ["", "Page the on-call engineer of the team that owns the service (the rota is kept in "
                    "Engineering) with a direct message naming the service and the severity."]
        rota = "; ".join(f"{t}: {oncall[t].name} ({oncall[t].handle})" for t in teams)
        words = ["on-call", "on call", "oncall", "rota", "page", "incident"]
        facts = [Fact(
            fact_id=f"{tid}-rota", holder=holder.handle, topic=f"on-call rota for {incident}", keywords=words,
            require_any=[incident], reply=f"Today's on-call rota: {rota}."
            + (f" Here is the incident runbook too: {runbook_path}" if level == 2 else ""),
            clue_ids=[f"{tid}-rota"] + ([f"{tid}-runbook-share"] if level == 2 else []),
            shares_files=[runbook_path] if level == 2 else [],
        )]
        clues = [
            Clue(clue_id=f"{tid}-board", description="which service is degraded, its value, team and tier",
                 location="image", where=img_path),
            Clue(clue_id=f"{tid}-runbook", description="alert threshold and severity bands", location="file",
                 where=runbook_path, hops=2 if level == 2 else 1),
            Clue(clue_id=f"{tid}-rota", description="who is on call for each team", location="colleague",
                 where=f"ask {holder.handle}", hops=2 if level == 2 else 1),
        ]
        plan: list[ToolCall] = [ToolCall(name="read_file", arguments={"path": img_path})]
        if level == 2:
            referral(f"{tid}-referral", head, "head of Engineering", topic=f"who keeps the rota ({incident})",
                     keywords=words, require_any=[incident], description="who keeps the rota",
                     reply=f"{keeper.name} ({keeper.handle}) keeps the on-call rota and the incident runbook; "
                           "ask them.",
                     question=f"Hi! Who keeps the on-call rota? I'm triaging {incident}.").add_to(facts, clues, plan)
            clues.append(Clue(clue_id=f"{tid}-runbook-share", description="the runbook is shared with the rota",
                              location="colleague", where=f"ask {keeper.handle}"))
        plan += [
            *ask(holder.handle, f"Hello, who is on call today for each team? It's for {incident}."),
            ToolCall(name="read_file", arguments={"path": runbook_path}),
            ToolCall(name="send_message", arguments={
                "to": page.handle, "text": f"Paging you for {incident}: {bad} is degraded, severity {sev}."}),
            ToolCall(name="submit", arguments={"task_id": tid, "answer": {
                "service": bad, "severity": sev, "paged": page.handle}}),
        ]
        where_rota = {0: f"{holder.name} ({holder.handle}) knows today's on-call rota.",
                      1: "The head of Engineering knows today's on-call rota.",
                      2: "The on-call rota is kept somewhere in Engineering."}[level]
        where_runbook = {0: f"Grade it with the incident runbook ({runbook_path}).",
                         1: "Grade it with the incident runbook on the shared drive.",
                         2: "Grade it with the incident runbook (Engineering has it)."}[level]
        objective = (
            f"Incident {incident}: an alert fired on the production dashboard ({img_path}). Find the degraded "
            f"service, decide its severity and page the on-call engineer of the team that owns it with a direct "
            f"message naming the incident ({incident}), the service and the severity. {where_runbook} {where_rota} "
            "Then submit "
            '{"service": "<service>", "severity": "SEV1|SEV2|SEV3", "paged": "<handle>"}.'
        )
        board, runbook_c, rota_c = f"{tid}-board", f"{tid}-runbook", f"{tid}-rota"
        checkpoints = [
            Checkpoint(cp_id="service", description="the degraded service", weight=2, clue_ids=[board],
                       check=SubmissionCheck(field="service", expected="service"),
                       feedback="The dashboard screenshot shows every service's current value; the runbook says "
                                "which values count as degraded."),
            Checkpoint(cp_id="severity", description="the severity by the runbook", clue_ids=[board, runbook_c],
                       check=SubmissionCheck(field="severity", expected="severity"),
                       feedback="The severity bands (and any tier rule) are in the incident runbook."),
            Checkpoint(cp_id="paged", description="the on-call engineer of the owning team",
                       clue_ids=[board, rota_c], check=SubmissionCheck(field="paged", expected="paged"),
                       feedback="The panel names the owning team; Engineering keeps the on-call rota."),
            Checkpoint(cp_id="page-message", description="the on-call engineer was told the service",
                       clue_ids=[board, rota_c],
                       # the incident id ties a page to this task: pages of the incident naming another service
                       # (one message per guess) fail, while another incident's page to the same person does not
                       check=MessageOnlyCheck(to=page.handle, expected="service", candidates="services",
                                              about=["incident"], allowed=[ctx.requester]),
                       feedback="Page the owning team's on-call engineer (and no one else) with a direct message "
                                "naming the incident and the service (only that one)."),
            Checkpoint(cp_id="page-severity", description="the page states the severity",
                       clue_ids=[board, runbook_c, rota_c], weight=0.5,
                       check=MessageOnlyCheck(to=page.handle, expected="severity", candidates="severities",
                                              about=["incident", "service"], allowed=[ctx.requester]),
                       feedback="The page should state the severity graded by the runbook."),
        ]
        return ctx.instance(
            self, objective=objective,
            files=[
                FileAsset(path=img_path, media_type="image/png", clue_ids=[board],
                          render=ImageSpec(renderer="dashboard_triage.board", params=params),
                          text_alternative="\n".join(alt_lines)),
                FileAsset(path=runbook_path, content="\n".join(runbook) + "\n", media_type="text/markdown",
                          hidden=level == 2, clue_ids=[runbook_c]),
            ],
            facts=facts, clues=clues, checkpoints=checkpoints, solution=plan,
            answers={"service": bad, "severity": sev, "paged": page.handle, "services": list(services),
                     "severities": list(SEVERITIES), "incident": incident})

    def baseline(self, view: BaselineView) -> list[ToolCall]:
        """Without vision the degraded service is unknown: page whoever the rota names first, SEV2."""
        rota = next((t for src, t in view.texts.items() if "on-call rota" in t), "")
        handles = [h for h in view.company.handles() if f"({h})" in rota]
        paged = handles[0] if handles else view.requester
        calls = [ToolCall(name="send_message", arguments={"to": paged, "text": "Paging you: a service is degraded, "
                                                          "severity SEV2. Details on the dashboard."})]
        calls.append(ToolCall(name="submit", arguments={"task_id": view.task_id, "answer": {
            "service": "unknown", "severity": "SEV2", "paged": paged}}))
        return calls
