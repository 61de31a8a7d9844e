"""Knowledge-base link fix: replace links to retired charts in KB articles with links to their replacements.

The articles sit in the trainee's workspace; the chart registry (shared, read-only) says which charts are
retired and who owns them; only each retired chart's owner knows the id of the chart that replaced it.

Fixed against the reference: every expected article differs from the original (a do-nothing agent scores
0), links to active charts are distractors that must stay untouched, the replacement ids appear nowhere an
agent's tool can reach except in the owners' replies (so a right id is never a lucky guess from the
registry), and ids are unique within a day so two tasks of this family never answer for each other. Hard
instances route some questions through a colleague who moved on, or through the head of an owning team.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import ClassVar

from firstday.errors import GenerationError
from firstday.tasks.checks import FileCheck, FileItemsCheck, SubmittedCheck
from firstday.tasks.family import BaselineView, GenContext, register
from firstday.tasks.model import Checkpoint, Clue, TaskInstance
from firstday.world.assets import Fact, FileAsset
from firstday.world.company import Employee
from firstday.world.tools import ToolCall

LINK_BASE = "https://charts.intranet/c/"
LINK_RE = re.compile(r"https://charts\.intranet/c/(ch-\d{4})")
# the owners' replies use this exact phrasing; the baseline parses it
REPLY_RE = re.compile(r"(ch-\d{4}) was retired; its replacement is (ch-\d{4})")
ARTICLE_RE = re.compile(r"/workspace/kb/[\w.-]*\w\.md")

VARIANTS = ("single_owner", "many_owners", "handover", "team_registry")

# generic words of a chart question; the chart id itself (require_any) is what selects the right fact
KEYWORDS = ("chart", "new id", "retired", "replacement", "replace", "link", "owner", "knowledge base")

METRICS = ("Weekly active users", "Monthly churn", "Invoice aging", "Sales pipeline", "Ticket backlog",
           "Deploy frequency", "Error budget burn", "Headcount", "Hiring funnel", "Inventory turnover",
           "On-time delivery", "Cash runway", "Marketing spend", "Net promoter score", "API latency p95",
           "Gross margin", "Open purchase orders", "Onboarding time", "Warehouse utilisation", "Refund rate",
           "Conversion rate", "Page load time", "Overtime hours", "Training completion", "Expense claims",
           "Lead response time", "Renewal forecast", "Stock-outs", "Support satisfaction", "Build duration")
BREAKDOWNS = ("by region", "by team", "by product line", "by week", "by quarter", "by channel",
              "by customer segment", "trend", "by site", "by month")
ARTICLE_TITLES = (
    "How we report churn", "Month-end close: where the numbers live", "On-call handbook: dashboards to watch",
    "Quarterly business review sources", "Hiring pipeline FAQ", "Support metrics explained",
    "Sales forecasting guide", "Warehouse KPIs at a glance", "Marketing performance primer",
    "Finance reporting cheat sheet", "Engineering health metrics", "Customer success playbook",
    "Weekly leadership update: sources", "Metrics every new joiner should know", "Procurement dashboard tour",
    "Release readiness checklist", "Cost control notes", "Product analytics basics", "Service level reporting",
    "Tracking team objectives",
)
LINK_SENTENCES = (
    "The first place to look is {link}.",
    "For the longer trend, open {link}.",
    "Figures in the weekly update come from {link}; check it before you quote a number.",
    "If a number looks off, compare it with {link} and tell the chart owner.",
    "{link} shows the same data split the way most teams ask for it.",
    "Before the monthly review, take a screenshot of {link} for the slides.",
    "We set our targets against {link}.",
    "Background reading for new joiners: {link}.",
)
FILLER = (
    "This page collects the charts we rely on and explains how to read them.",
    "Numbers refresh every night, so morning figures cover yesterday.",
    "Ask in the team channel if anything here is unclear.",
    "Please do not copy figures into slides without the date they were taken.",
    "Targets are reviewed every quarter with the owning team.",
    "Small gaps between two charts usually come from different refresh times.",
    "Use the filters at the top of each chart rather than exporting raw data.",
)
SECTIONS = ("Where to look", "Day-to-day checks", "Monthly reporting", "Targets", "Troubleshooting",
            "Further reading")


@dataclass
class Chart:
    chart_id: str
    title: str
    status: str  # "active" | "retired"
    registry_owner: str = ""  # the registry's owner cell: a handle, or "<Department> team"
    new_id: str = ""  # retired charts linked from an article only


@dataclass
class Route:
    """How the trainee reaches the holder of some retired charts' new ids.

    ``kind`` is ``direct`` (the registry names the holder), ``handover`` (the registry names ``contact``, who
    moved on and refers to ``holder``) or ``team`` (the registry names a team; its head ``contact`` says which
    member ``holder`` owns each chart).
    """

    kind: str
    contact: Employee
    holder: Employee
    charts: list[Chart] = field(default_factory=list)
    team: str = ""


@dataclass
class Article:
    path: str
    title: str
    links: list[Chart] = field(default_factory=list)  # one entry per link occurrence, in reading order


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _url(chart_id: str) -> str:
    return f"{LINK_BASE}{chart_id}"


def _ids(charts: list[Chart]) -> str:
    ids = [c.chart_id for c in charts]
    return ids[0] if len(ids) == 1 else ", ".join(ids[:-1]) + " and " + ids[-1]


def _plural(charts: list[Chart], one: str, many: str) -> str:
    return one if len(charts) == 1 else many


def _reserve_chart_id(ctx: GenContext) -> str:
    """A chart id unused by any task of the day.

    Two tasks of this family on one day must never share a chart id: an owner asked about it would
    answer for both. The day-wide ``used_paths`` set is the only state tasks share, so ids are recorded
    there under a prefix no drive path can have.
    """
    while True:
        cid = f"ch-{ctx.rng.randint(1000, 9999)}"
        key = f"kb_link_fix:chart:{cid}"
        if key not in ctx.used_paths:
            ctx.used_paths.add(key)
            return cid


def _split(rng: random.Random, items: list[Chart], k: int) -> list[list[Chart]]:
    """Split ``items`` into ``k`` non-empty groups (k <= len(items))."""
    shuffled = list(items)
    rng.shuffle(shuffled)
    groups: list[list[Chart]] = [[c] for c in shuffled[:k]]
    for c in shuffled[k:]:
        groups[rng.randrange(k)].append(c)
    return groups


def _render(rng: random.Random, article: Article, dept: str) -> str:
    """Markdown for an article; each link occurrence in ``article.links`` appears once, in order."""
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    fillers = rng.sample(FILLER, len(FILLER))  # no sentence twice in one article
    lines = [f"# {article.title}", "", f"Last reviewed 2025-{month:02d}-{day:02d}. Maintained by the {dept} team.",
             "", fillers[0], ""]
    links = list(article.links)
    # a repeated chart's second occurrence goes to the closing list, as real KB pages tend to do
    seen: list[str] = []
    body: list[Chart] = []
    related: list[Chart] = []
    for c in links:
        (related if c.chart_id in seen else body).append(c)
        seen.append(c.chart_id)
    sections = rng.sample(SECTIONS, min(len(SECTIONS), max(1, (len(body) + 1) // 2)))
    per = -(-len(body) // len(sections))
    for i, heading in enumerate(sections):
        chunk = body[i * per:(i + 1) * per]
        if not chunk:
            continue
        sentences = [rng.choice(LINK_SENTENCES).format(link=f"[{c.title}]({_url(c.chart_id)})") for c in chunk]
        lines += [f"## {heading}", "", " ".join(sentences)]
        if rng.random() < 0.5:
            lines += ["", fillers[1 + i % (len(fillers) - 1)]]
        lines.append("")
    if related:
        lines += ["## Related charts", ""]
        lines += [f"- [{c.title}]({_url(c.chart_id)})" for c in related]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _fix(text: str, mapping: dict[str, str]) -> str:
    return LINK_RE.sub(lambda m: _url(mapping.get(m.group(1), m.group(1))), text)


@register
class KbLinkFix:
    name = "kb_link_fix"
    title = "Knowledge-base link fix"
    description = ("Replace links to retired charts in knowledge-base articles with links to their replacements; "
                   "only each chart's owner (found through the chart registry) knows the new id.")
    domains = ("inquiry", "information")
    modalities = ("text", "table", "dialogue")
    variants = VARIANTS
    knobs: ClassVar[dict[str, str]] = {
        "articles": "articles to fix: easy 1, medium 2-3, hard 3-4",
        "retired": "distinct retired charts linked: easy 2, medium 3-5, hard 5-8 (every article has at least one)",
        "distractors": "links to active charts that must stay unchanged: easy 1, medium 2-3, hard 3-5; registry rows "
                       "not linked from any article; medium and hard repeat some links",
        "owners": "single_owner one person; many_owners several; handover owners who moved on refer you to their "
                  "successor; team_registry names teams whose heads say which member owns each chart",
        "hops": "easy names one registry contact in the objective; hard adds a handover (two hops) to "
                "single_owner and many_owners",
    }

    def generate(self, ctx: GenContext) -> TaskInstance:
        rng = ctx.rng
        level = {"easy": 0, "medium": 1, "hard": 2}[ctx.difficulty]
        tid = ctx.task_id
        company = ctx.company
        n_articles = (1, rng.randint(2, 3), rng.randint(3, 4))[level]
        n_retired = max(n_articles, (2, rng.randint(3, 5), rng.randint(5, 8))[level])
        n_active = (1, rng.randint(2, 3), rng.randint(3, 5))[level]
        n_unlinked = (2, rng.randint(3, 5), rng.randint(5, 8))[level]

        # charts: titles unique within the task
        titles: list[str] = []
        while len(titles) < n_retired + n_active + n_unlinked:
            t = f"{rng.choice(METRICS)} {rng.choice(BREAKDOWNS)}"
            if t not in titles:
                titles.append(t)
        retired = [Chart(_reserve_chart_id(ctx), titles[i], "retired") for i in range(n_retired)]
        active = [Chart(_reserve_chart_id(ctx), titles[n_retired + i], "active") for i in range(n_active)]
        unlinked = [Chart(_reserve_chart_id(ctx), titles[n_retired + n_active + i],
                          rng.choice(("active", "retired"))) for i in range(n_unlinked)]
        for c in retired:
            c.new_id = _reserve_chart_id(ctx)

        routes = self._routes(ctx, retired, level)
        team_variant = ctx.variant == "team_registry"
        people = [e for e in company.employees if e.department != "Executive"]
        teams = [d.name for d in company.departments if d.name != "Executive"]
        for route in routes:
            for c in route.charts:
                c.registry_owner = f"{route.team} team" if route.kind == "team" else route.contact.handle
        for c in active + unlinked:
            c.registry_owner = f"{rng.choice(teams)} team" if team_variant else rng.choice(people).handle

        # articles: each gets at least one retired link; medium and hard repeat some links
        article_titles = rng.sample(ARTICLE_TITLES, n_articles)
        articles = [Article(ctx.path("/workspace/kb", _slug(t), "md"), t) for t in article_titles]
        order = list(retired)
        rng.shuffle(order)
        for i, c in enumerate(order):
            articles[i if i < n_articles else rng.randrange(n_articles)].links.append(c)
        for c in active:
            rng.choice(articles).links.append(c)
        for a in articles:
            rng.shuffle(a.links)
        for _ in range(level):
            rng.choice(articles).links.append(rng.choice(retired))
        if level == 2:
            rng.choice(articles).links.append(rng.choice(active))

        dept_names = [d.name for d in company.departments if d.name != "Executive"]
        original = {a.path: _render(rng, a, rng.choice(dept_names)) for a in articles}
        mapping = {c.chart_id: c.new_id for c in retired}
        expected = {p: _fix(t, mapping) for p, t in original.items()}
        # every article links a retired chart, so every expected text differs from the original
        assert all(expected[p] != original[p] for p in original)

        registry_path = ctx.path("/shared/charts", "registry", "csv")
        rows = sorted(retired + active + unlinked, key=lambda c: c.chart_id)
        registry = "chart_id,title,status,owner\n" + "".join(
            f"{c.chart_id},{c.title},{c.status},{c.registry_owner}\n" for c in rows)

        def paths_of(charts: list[Chart]) -> list[str]:
            ids = {c.chart_id for c in charts}
            return [a.path for a in articles if any(c.chart_id in ids for c in a.links)]

        facts: list[Fact] = []
        clues = [Clue(clue_id=f"{tid}-registry", description="which linked charts are retired, and who owns them",
                      location="file", where=registry_path)]
        for route in routes:
            hops = 1 if route.kind == "direct" else 2
            for c in route.charts:
                facts.append(Fact(
                    fact_id=f"{tid}-new-{c.chart_id}", holder=route.holder.handle,
                    topic=f"replacement of chart {c.chart_id}", keywords=[*KEYWORDS, c.chart_id],
                    require_any=[c.chart_id, *paths_of([c])],
                    reply=f"{c.chart_id} was retired; its replacement is {c.new_id} ({_url(c.new_id)}).",
                    clue_ids=[f"{tid}-new-{c.chart_id}"],
                ))
                clues.append(Clue(clue_id=f"{tid}-new-{c.chart_id}", description=f"the new id of chart {c.chart_id}",
                                  location="colleague", where=f"ask {route.holder.handle}", hops=hops))
            if route.kind == "handover":
                gone, heir = route.contact, route.holder
                facts.append(Fact(
                    fact_id=f"{tid}-handover-{gone.handle}", holder=gone.handle, topic="who took over my charts",
                    keywords=[*KEYWORDS, *(c.chart_id for c in route.charts)],
                    require_any=[*(c.chart_id for c in route.charts), *paths_of(route.charts)],
                    reply=f"I moved to {gone.department} and no longer look after {_ids(route.charts)}; "
                          f"{heir.name} ({heir.handle}) took over my charts, please ask them.",
                    clue_ids=[f"{tid}-handover-{gone.handle}"],
                ))
                clues.append(Clue(clue_id=f"{tid}-handover-{gone.handle}", location="colleague",
                                  description=f"{gone.handle} moved on; {heir.handle} took over their charts",
                                  where=f"ask {gone.handle}, the owner listed in {registry_path}"))
            elif route.kind == "team":
                head, owner = route.contact, route.holder
                for c in route.charts:
                    facts.append(Fact(
                        fact_id=f"{tid}-who-{c.chart_id}", holder=head.handle, topic=f"who owns chart {c.chart_id}",
                        keywords=[*KEYWORDS, c.chart_id], require_any=[c.chart_id, *paths_of([c])],
                        reply=f"In our team {c.chart_id} is looked after by {owner.name} ({owner.handle}).",
                        clue_ids=[f"{tid}-who-{c.chart_id}"],
                    ))
                    clues.append(Clue(clue_id=f"{tid}-who-{c.chart_id}", location="colleague",
                                      description=f"{owner.handle} owns chart {c.chart_id}",
                                      where=f"ask {head.handle}, head of {route.team}"))

        plan = self._plan(routes, registry_path, [a.path for a in articles], expected, tid)

        checkpoints: list[Checkpoint] = []
        # every chart link of the task (old and new ids): a fixed article may hold only the ones its expected
        # text holds, so writing every link seen into an article does not pass
        links = sorted({_url(c.chart_id) for c in retired + active + unlinked} | {_url(c.new_id) for c in retired})
        answers: dict[str, object] = {"links": links}
        for a in articles:
            answers[f"keep:{a.path}"] = [u for u in links if u in expected[a.path]]
            linked = list({c.chart_id: c for c in a.links if c.status == "retired"}.values())
            for c in linked:
                key = f"new:{a.path}:{c.chart_id}"
                answers[key] = [_url(c.new_id)]
                checkpoints.append(Checkpoint(
                    cp_id=f"new-{a.path.rsplit('/', 1)[-1]}-{c.chart_id}",
                    description=f"the link to retired chart {c.chart_id} in {a.path} points to its replacement",
                    clue_ids=[f"{tid}-new-{c.chart_id}"],
                    check=FileItemsCheck(path=a.path, expected=key, candidates="links", allowed=f"keep:{a.path}"),
                    feedback="The article needs a link to the chart that replaced the retired one, and no link "
                             "to a chart it should not point to; the chart registry names the retired chart's "
                             "owner, who knows the new id.",
                ))
            key = f"text:{a.path}"
            answers[key] = expected[a.path]
            checkpoints.append(Checkpoint(
                cp_id=f"exact-{a.path.rsplit('/', 1)[-1]}", weight=float(len(linked)),
                description=f"{a.path}: every retired chart's link replaced, nothing else changed",
                clue_ids=[f"{tid}-new-{c.chart_id}" for c in linked],
                check=FileCheck(path=a.path, expected=key, compare="equals"),
                feedback="Only links to charts marked retired in the chart registry may change, each to the id "
                         "its owner (named in the chart registry) gives you; every other character of the article "
                         "must stay as it was.",
            ))
        checkpoints.append(Checkpoint(
            cp_id="submitted", description="the fix was reported with submit", weight=0.5, answer_bearing=False,
            check=SubmittedCheck(), feedback="Submit the list of articles you fixed once you are done.",
        ))

        objective = self._objective(ctx, routes, registry_path, [a.path for a in articles], level)
        files = [FileAsset(path=registry_path, content=registry, media_type="text/csv",
                           clue_ids=[f"{tid}-registry"])]
        files += [FileAsset(path=a.path, content=original[a.path], media_type="text/markdown") for a in articles]
        return ctx.instance(
            self, objective=objective, files=files, facts=facts, clues=clues, checkpoints=checkpoints, solution=plan,
            answers=answers)

    # --- generation helpers -------------------------------------------------------------------------
    def _routes(self, ctx: GenContext, retired: list[Chart], level: int) -> list[Route]:
        """Who the registry names for each retired chart, and who really knows its new id."""
        rng = ctx.rng
        company = ctx.company
        pool = [e for e in company.employees if e.department != "Executive"]
        rng.shuffle(pool)
        used: set[str] = set()

        def person() -> Employee:
            for e in pool:
                if e.handle not in used:
                    used.add(e.handle)
                    return e
            raise GenerationError("kb_link_fix needs more colleagues than this company has")

        if ctx.variant == "team_registry":
            n_teams = min(len(retired), (1, 2, rng.randint(2, 3))[level])
            depts = [d for d in company.departments if d.name != "Executive"]
            chosen = rng.sample(depts, n_teams)
            routes: list[Route] = []
            for dept, group in zip(chosen, _split(rng, retired, n_teams), strict=True):
                used.add(dept.head)
                members = [company.employee(h) for h in dept.members if h != dept.head and h not in used]
                if not members:
                    raise GenerationError(f"kb_link_fix needs a member besides the head in {dept.name}")
                n_owners = min(len(members), len(group), 2 if level == 2 else 1)
                owners = rng.sample(members, n_owners)
                used.update(o.handle for o in owners)
                for owner, sub in zip(owners, _split(rng, group, n_owners), strict=True):
                    routes.append(Route("team", company.employee(dept.head), owner, sub, team=dept.name))
            return routes
        if ctx.variant == "single_owner":
            groups = [list(retired)]
            handover = [level == 2]
        elif ctx.variant == "many_owners":
            groups = _split(rng, retired, min(len(retired), (2, rng.randint(2, 3), rng.randint(3, 4))[level]))
            handover = [False] * len(groups)
            if level == 2:
                handover[rng.randrange(len(groups))] = True
        else:  # handover
            groups = _split(rng, retired, min(len(retired), (1, 2, 3)[level]))
            moved = rng.sample(range(len(groups)), (1, 1, 2)[level])
            handover = [i in moved for i in range(len(groups))]
        routes = []
        for group, moved_on in zip(groups, handover, strict=True):
            contact = person()
            holder = person() if moved_on else contact
            routes.append(Route("handover" if moved_on else "direct", contact, holder, group))
        return routes

    @staticmethod
    def _plan(routes: list[Route], registry_path: str, article_paths: list[str], expected: dict[str, str],
              tid: str) -> list[ToolCall]:
        plan = [ToolCall(name="read_file", arguments={"path": registry_path})]
        plan += [ToolCall(name="read_file", arguments={"path": p}) for p in article_paths]
        # first hop: everyone the registry names (a team's head once, for all of the team's charts)
        first: dict[str, list[Chart]] = {}
        contacts: dict[str, Route] = {}
        for r in routes:
            first.setdefault(r.contact.handle, []).extend(r.charts)
            contacts.setdefault(r.contact.handle, r)
        texts: dict[str, str] = {}
        for handle, charts in first.items():
            r = contacts[handle]
            some = _plural(charts, "chart", "charts")
            if r.kind == "team":
                texts[handle] = (
                    f"Hi {r.contact.first_name}, the chart registry {registry_path} lists the {r.team} team as owner "
                    f"of the retired {some} {_ids(charts)}, linked from our knowledge-base articles. "
                    f"Who in your team owns {_plural(charts, 'it', 'them')}?")
            else:
                texts[handle] = (
                    f"Hi {r.contact.first_name}, I'm fixing chart links in our knowledge-base articles. The chart "
                    f"registry {registry_path} lists you as the owner of the retired {some} {_ids(charts)}. "
                    f"What new chart {_plural(charts, 'id replaces it', 'ids replace them')}?")
        for handle, text in texts.items():
            plan.append(ToolCall(name="send_message", arguments={"to": handle, "text": text}))
        for handle in texts:
            plan.append(ToolCall(name="wait", arguments={"for_message_from": handle}))
        # second hop: the successor of an owner who moved on, or the team member the head named
        second: dict[str, list[Chart]] = {}
        via: dict[str, Employee] = {}
        holders: dict[str, Employee] = {}
        for r in routes:
            if r.kind != "direct":
                second.setdefault(r.holder.handle, []).extend(r.charts)
                via[r.holder.handle] = r.contact
                holders[r.holder.handle] = r.holder
        for handle, charts in second.items():
            holder = holders[handle]
            text = (f"Hi {holder.first_name}, {via[handle].name} told me you look after the retired "
                    f"{_plural(charts, 'chart', 'charts')} {_ids(charts)}, linked from our knowledge-base articles. "
                    f"What new chart {_plural(charts, 'id replaces it', 'ids replace them')}?")
            plan.append(ToolCall(name="send_message", arguments={"to": handle, "text": text}))
        for handle in second:
            plan.append(ToolCall(name="wait", arguments={"for_message_from": handle}))
        plan += [ToolCall(name="write_file", arguments={"path": p, "content": expected[p]}) for p in article_paths]
        plan.append(ToolCall(name="submit", arguments={"task_id": tid, "answer": {"articles": article_paths}}))
        return plan

    @staticmethod
    def _objective(ctx: GenContext, routes: list[Route], registry_path: str, paths: list[str], level: int) -> str:
        arts = paths[0] if len(paths) == 1 else ", ".join(paths[:-1]) + " and " + paths[-1]
        text = (f"Some chart links in our knowledge-base articles point to charts that have been retired. Fix the "
                f"links in {arts}. The chart registry {registry_path} lists every chart with its status and owner; "
                f"only a retired chart's owner knows which chart replaced it. Replace each link to a retired chart "
                f"with a link to its replacement ({LINK_BASE}<new id>), keep everything else in the articles "
                'exactly as it is, then submit {"articles": ["<path>", ...]} listing the articles you fixed.')
        team = ctx.variant == "team_registry"
        if level == 0:
            c = routes[0].contact
            if team:
                text += (f" Where the registry names a team, its head knows who owns the chart; {c.name} ({c.handle})"
                         " heads one of the teams listed.")
            else:
                text += f" {c.name} ({c.handle}) is listed as the owner of at least one of the retired charts."
        elif level == 1 and team:
            text += " Where the registry names a team rather than a person, the team's head knows who owns the chart."
        return text

    def baseline(self, view: BaselineView) -> list[ToolCall]:
        """Apply the replacements that colleagues' replies revealed; leave every other link alone.

        Without the article's text (nothing was read) it guesses: it rewrites every chart link to an
        invented id, which is what the unsupported-answer rate must catch.
        """
        mapping: dict[str, str] = {}
        for source, text in view.texts.items():
            if not source.startswith("/"):  # a colleague's replies
                for old, new in REPLY_RE.findall(text):
                    mapping[old] = new
        paths = list(dict.fromkeys(ARTICLE_RE.findall(view.objective)))
        calls: list[ToolCall] = []
        unread: list[str] = []
        for p in paths:
            article = view.texts.get(p)
            if article is None:
                unread.append(p)
                continue
            fixed = _fix(article, mapping)
            if fixed != article:
                calls.append(ToolCall(name="write_file", arguments={"path": p, "content": fixed}))
        if unread:
            shift = view.rng.randint(1, 8999)
            rels = [p[len("/workspace/"):] for p in unread]
            code = (
                "import re\n"
                f"def invent(m):\n    return 'ch-%04d' % ((int(m.group(1)) - 1000 + {shift}) % 9000 + 1000)\n"
                f"for p in {rels!r}:\n"
                "    text = open(p, encoding='utf-8').read()\n"
                "    open(p, 'w', encoding='utf-8').write(re.sub(r'ch-(\\d{4})', invent, text))\n"
            )
            calls.append(ToolCall(name="run_python", arguments={"code": code}))
        calls.append(ToolCall(name="submit", arguments={"task_id": view.task_id, "answer": {"articles": paths}}))
        return calls
