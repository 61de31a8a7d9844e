"""Inbox triage: route a batch of emails to their owners under a routing policy held by Support.

A batch of customer and internal emails sits in a shared inbox folder (one file per email, plus an
index). The routing policy — who handles which category, and the special rules that override the
category table — is kept by the Support team and shared on request. The trainee forwards each email to
its owner with ``send_message`` (naming the email id) and submits the whole mapping. A forward counts
only if the email id reached its owner and none of the other owners the policy names (or today's
deputies): sending everything to everyone earns no forward checkpoint.

The ground truth is computed from the generated emails by the policy's own first-match rules. Special
rules (key accounts, refund thresholds, regional sales routing) always change the owner of at least one
email, so routing by topic alone fails; at hard, owners who are out today answer with an auto-reply
naming their deputy, who then owns their emails.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import ClassVar

from firstday.tasks.checks import MessageCheck, SubmissionCheck
from firstday.tasks.family import BaselineView, GenContext, ask, referral, register
from firstday.tasks.model import Checkpoint, Clue, TaskInstance
from firstday.world.assets import Fact, FileAsset
from firstday.world.company import Employee
from firstday.world.tools import ToolCall

VARIANTS = ("topic", "key_accounts", "refund_threshold", "regional_sales")
SPECIALS = ("key_accounts", "refund_threshold", "regional_sales")  # policy order: first match wins
KEY_ID = "inbox_triage:id:"  # + email id: unique within the day
KEY_OWNER = "inbox_triage:owner:"  # + handle: someone who owns mail today (never out)
KEY_OUT = "inbox_triage:out:"  # + handle: someone out of office today (never an owner)


@dataclass(frozen=True)
class Category:
    key: str
    label: str
    description: str
    departments: tuple[str, ...]  # where its owner preferably works
    subjects: tuple[str, ...]
    bodies: tuple[str, ...]


CATEGORIES: tuple[Category, ...] = (
    Category("billing", "Billing", "questions about invoices, charges on a statement or payment methods",
             ("Finance",),
             ("Question about invoice {ref}", "Unexpected charge on our statement", "Updating our payment card"),
             ("Our latest invoice {ref} lists a line item we do not recognise. Could you explain the charge?",
              "We were charged twice for the same month on invoice {ref}. Please check the statement.",
              "We would like to pay by bank transfer instead of card from next month on. How do we switch?")),
    Category("refunds", "Refunds", "requests to get money back for an order or a subscription",
             ("Finance", "Customer Support"),
             ("Refund request for order {ref}", "Requesting a refund", "Money back for cancelled order {ref}"),
             ("We returned order {ref} last week and would like a refund of ${amount}.",
              "The service was not delivered as agreed; please refund the ${amount} we paid for order {ref}.",
              "We cancelled order {ref} within the trial period and ask for our ${amount} back.")),
    Category("technical", "Technical issue", "errors, outages, bugs or anything in the product not working",
             ("Engineering", "IT"),
             ("Dashboard not loading", "Error 500 when exporting", "Login keeps failing"),
             ("Since this morning the dashboard shows a blank page for all our users (ticket {ref}).",
              "Every export ends with an error 500. It started after yesterday's update; reference {ref}.",
              "Our team cannot log in; the page loops back to the sign-in screen. Reference {ref}.")),
    Category("sales", "Sales inquiry", "pricing, quotes, demos or buying more seats",
             ("Sales", "Marketing"),
             ("Pricing for 50 more seats", "Request for a product demo", "Quote for the annual plan"),
             ("We are growing and would like pricing for another 50 seats on our plan.",
              "Could someone walk our team through a demo of the product next week?",
              "Please send us a quote for the annual plan for our whole department.")),
    Category("privacy", "Privacy request", "requests to access, export or delete personal data (GDPR)",
             ("Legal",),
             ("Data deletion request", "Request for a copy of my data", "GDPR request {ref}"),
             ("Under the GDPR I ask you to delete all personal data you hold about me.",
              "Please send me a copy of the personal data your company stores about me.",
              "I would like to know which personal data you process about me and to have it erased.")),
    Category("contracts", "Contracts", "contract renewals, terms and signatures",
             ("Legal", "Procurement"),
             ("Contract renewal {ref}", "Questions on the new terms", "Signature needed on the agreement"),
             ("Our contract {ref} ends next month. We would like to discuss the renewal terms.",
              "Clause 7 of the updated terms is unclear to us. Can we get a marked-up version?",
              "The framework agreement {ref} still needs your countersignature.")),
    Category("careers", "Job application", "applications, CVs and questions about open roles",
             ("HR",),
             ("Application for the analyst role", "Open positions?", "My CV for your consideration"),
             ("Please find my CV attached for the analyst role advertised on your website.",
              "I am interested in working with you. Are there open positions in your operations team?",
              "I would like to apply for the internship programme; my CV is attached.")),
    Category("press", "Press", "journalists, interviews and media requests",
             ("Marketing",),
             ("Interview request", "Media inquiry about your growth", "Comment for an article"),
             ("I am a journalist at a business weekly and would like to interview your CEO.",
              "We are writing a feature on companies in your sector. Could we get a quote?",
              "Could your company comment on the industry survey we publish next week?")),
    Category("security", "Security report", "reports of vulnerabilities or suspected breaches",
             ("Engineering", "IT"),
             ("Possible vulnerability in your login page", "Security issue report {ref}",
              "Suspicious access to our account"),
             ("I found what looks like a cross-site scripting vulnerability on your login page.",
              "Responsible disclosure: an API endpoint returns other customers' records ({ref}).",
              "We noticed logins to our account from an unknown country last night.")),
    Category("it_internal", "Internal IT request", "colleagues asking for laptops, access or password resets",
             ("IT", "Engineering"),
             ("Laptop replacement", "Access to the shared drive", "Password reset please"),
             ("Hi team, my laptop battery no longer holds a charge. Can I get a replacement?",
              "Hi, I need access to the finance folder on the shared drive for the audit.",
              "Hi, I locked myself out after too many attempts. Could you reset my password?")),
)
BY_KEY = {c.key: c for c in CATEGORIES}

REGIONS: dict[str, tuple[str, ...]] = {
    "EMEA": ("Germany", "France", "Kenya", "Spain", "Sweden", "Egypt"),
    "Americas": ("Brazil", "Canada", "Mexico", "Chile", "United States"),
    "APAC": ("Japan", "India", "Australia", "Singapore", "Vietnam"),
}
ORGS = ("Acorn", "Bristle", "Canopy", "Driftwood", "Everglow", "Foxglove", "Glacier", "Hollow", "Inkwell",
        "Jasper", "Kiln", "Lantern", "Marble", "Nettle", "Opal", "Pebble", "Quill", "Rowan", "Saffron",
        "Thistle", "Umber", "Velvet", "Wren", "Yarrow")
ORG_KIND = ("Retail", "Health", "Motors", "Foods", "Studio", "Travel", "Energy", "Media")
PEOPLE = ("Alex Moreno", "Bea Novak", "Carl Jensen", "Dina Haddad", "Erik Sato", "Fay Osei", "Gil Romero",
          "Hana Berg", "Ian Walsh", "Jo Kaplan", "Kim Laine", "Lou Petit", "Max Ferreira", "Nia Obi",
          "Ola Strand", "Pat Kumar", "Quin Doyle", "Rae Lindholm", "Sam Achebe", "Tia Marsh")
ASK = "Could you share the email routing policy for the triage of the shared inbox?"


@dataclass
class Email:
    email_id: str
    category: str
    sender: str
    address: str
    domain: str
    org: str
    country: str
    subject: str
    body: str
    amount: int | None = None


def _region(country: str) -> str:
    return next(r for r, cs in REGIONS.items() if country in cs)


def _reserve_id(ctx: GenContext) -> str:
    while True:
        eid = f"MSG-{ctx.rng.randint(1000, 9999)}"
        if KEY_ID + eid not in ctx.used_paths:
            ctx.used_paths.add(KEY_ID + eid)
            return eid


@dataclass
class Policy:
    topic_owner: dict[str, str]  # category key -> handle
    key_domains: list[str]
    key_owner: str
    refund_limit: int
    refund_big_owner: str
    region_owner: dict[str, str]
    active: list[str]  # special rules in force, in policy order

    def route(self, e: Email) -> tuple[str, str]:
        """(rule that applies, owner handle): the first matching rule of the policy."""
        if "key_accounts" in self.active and e.domain in self.key_domains:
            return "key_accounts", self.key_owner
        if "refund_threshold" in self.active and e.category == "refunds" and (e.amount or 0) > self.refund_limit:
            return "refund_threshold", self.refund_big_owner
        if "regional_sales" in self.active and e.category == "sales":
            return "regional_sales", self.region_owner[_region(e.country)]
        return "topic", self.topic_owner[e.category]


class _People:
    """Draws distinct colleagues for the roles of one task, preferring given departments."""

    def __init__(self, ctx: GenContext, taken: set[str]) -> None:
        self.ctx = ctx
        self.taken = set(taken)
        heads = {d.head for d in ctx.company.departments}
        self.pool = [e for e in ctx.company.employees if e.handle not in heads and e.department != "Executive"
                     and KEY_OUT + e.handle not in ctx.used_paths]

    def draw(self, departments: tuple[str, ...] = (), exclude: tuple[str, ...] = ()) -> Employee:
        pool = [e for e in self.pool if e.handle not in exclude]
        free = [e for e in pool if e.handle not in self.taken]
        if not free:  # tiny company: reuse people rather than fail
            free = pool
        pref = [e for e in free if e.department in departments]
        e = self.ctx.rng.choice(pref or free)
        self.taken.add(e.handle)
        return e


def _email(rng: random.Random, eid: str, cat: Category, org: str, domain: str, country: str,
           amount: int | None, company_domain: str) -> Email:
    ref = f"{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}{rng.randint(10000, 99999)}"
    sender = rng.choice(PEOPLE)
    i = rng.randrange(len(cat.subjects))
    subject = cat.subjects[i].format(ref=ref)
    text = cat.bodies[rng.randrange(len(cat.bodies))].format(ref=ref, amount=f"{amount:,}" if amount else "")
    if cat.key == "it_internal":
        org, domain = "internal", company_domain
    local = sender.lower().replace(" ", ".")
    address = f"{local}@{domain}"
    hour, minute = rng.randint(6, 8), rng.randint(0, 59)
    lines = [f"Email-ID: {eid}", f"From: {sender} <{address}>", f"To: inbox@{company_domain}",
             f"Date: 2025-06-{rng.randint(2, 27):02d} {hour:02d}:{minute:02d}", f"Subject: {subject}", "",
             rng.choice(("Hello,", "Hi there,", "Dear team,", "Good morning,")), "", text, "",
             rng.choice(("Best regards,", "Thanks,", "Kind regards,", "Many thanks,")), sender]
    lines.append(f"{org}, {country}" if cat.key != "it_internal" else f"({country} office)")
    return Email(eid, cat.key, sender, address, domain, org, country, subject, "\n".join(lines) + "\n", amount)


@register
class InboxTriage:
    name = "inbox_triage"
    title = "Inbox triage"
    description = (
        "Route every email of a shared inbox batch to its owner under the Support team's routing policy: "
        "forward each one and submit the mapping."
    )
    domains = ("inquiry", "information")
    modalities = ("text", "table", "dialogue")
    variants = VARIANTS
    knobs: ClassVar[dict[str, str]] = {
        "emails": "emails in the batch: easy 5, medium 8, hard 11",
        "categories": "categories in the policy: easy 4, medium 6, hard 8",
        "special_rules": "rules overriding the category table: the variant's (none for 'topic'), plus one more "
        "at medium and two more at hard",
        "hops": "who holds the policy: easy named in the objective; medium the Support head; hard the head "
        "refers you to the colleague who maintains it (two hops)",
        "out_of_office": "hard: one or two owners are out today; their auto-reply names the deputy who takes "
        "their emails",
        "distractors": "medium and hard add near misses: refunds just under the limit, look-alike domains of "
        "key accounts, sales mail from every region",
    }

    def generate(self, ctx: GenContext) -> TaskInstance:
        rng, company, tid = ctx.rng, ctx.company, ctx.task_id
        level = {"easy": 0, "medium": 1, "hard": 2}[ctx.difficulty]
        n_emails, n_cats = (5, 8, 11)[level], (4, 6, 8)[level]
        others = [s for s in SPECIALS if s != ctx.variant]
        extra = rng.sample(others, min(level, len(others)))
        active = [s for s in SPECIALS if s == ctx.variant or s in extra]

        # categories: the ones the special rules need, then random others
        cats = [c for c in ("refunds",) if "refund_threshold" in active]
        cats += [c for c in ("sales",) if "regional_sales" in active]
        rest = [c.key for c in CATEGORIES if c.key not in cats]
        rng.shuffle(rest)
        cats += rest[: n_cats - len(cats)]
        cats.sort(key=lambda k: [c.key for c in CATEGORIES].index(k))

        support_dept = next(d for d in ("Customer Support", "Operations", "IT", "HR")
                            if any(x.name == d for x in company.departments))
        dept = company.department(support_dept)
        head = company.employee(dept.head)
        holder = company.employee(rng.choice(dept.members[1:])) if level == 2 else head
        busy = {k[len(KEY_OWNER):] for k in sorted(ctx.used_paths) if k.startswith(KEY_OWNER)}
        people = _People(ctx, {holder.handle, head.handle, company.trainee.handle})
        topic_owner = {k: people.draw(BY_KEY[k].departments).handle for k in cats}
        key_owner = people.draw(("Sales", "Customer Support")).handle
        refund_big = people.draw(("Finance",)).handle
        region_owner = {r: people.draw(("Sales", "Marketing")).handle for r in REGIONS}

        company_domain = company.name.lower().replace(" ", "") + ".com"
        orgs = rng.sample(ORGS, 12)
        domains = {o: f"{o.lower()}{rng.choice(ORG_KIND).lower()}.com" for o in orgs}
        key_orgs = orgs[:2]
        key_domains = [domains[o] for o in key_orgs]
        plain_orgs = orgs[2:]
        refund_limit = rng.choice((250, 500, 1000, 2000))
        policy = Policy(topic_owner, key_domains, key_owner, refund_limit, refund_big, region_owner, active)

        # the emails: first those that exercise the special rules (and their near misses), then fillers
        specs: list[tuple[str, str, str, int | None]] = []  # (category, org, country, amount)
        all_countries = [c for cs in REGIONS.values() for c in cs]

        def plain_cat() -> str:
            pool = [c for c in cats if c not in ("refunds", "it_internal")] or cats
            return rng.choice(pool)

        if "key_accounts" in active:
            # a key account writing about something whose topic owner is someone else
            specs.append((plain_cat(), key_orgs[0], rng.choice(all_countries), None))
            if level:
                specs.append((plain_cat(), key_orgs[1], rng.choice(all_countries), None))
        if "refund_threshold" in active:
            specs.append(("refunds", rng.choice(plain_orgs), rng.choice(all_countries),
                          refund_limit + rng.choice((1, 2, 5)) * refund_limit // 10 * rng.randint(1, 9)))
            specs.append(("refunds", rng.choice(plain_orgs), rng.choice(all_countries),
                          refund_limit - rng.randint(1, refund_limit // 5) if level else rng.randint(
                              refund_limit // 10, refund_limit // 2)))
        if "regional_sales" in active:
            regions = list(REGIONS)
            rng.shuffle(regions)
            for r in regions[: 2 + (level > 0)]:
                specs.append(("sales", rng.choice(plain_orgs), rng.choice(REGIONS[r]), None))
        for c in cats:  # every category of the policy appears at least once when there is room
            if len(specs) < n_emails and not any(s[0] == c for s in specs):
                amount = rng.randint(refund_limit // 10, refund_limit // 2) if c == "refunds" else None
                specs.append((c, rng.choice(plain_orgs), rng.choice(all_countries), amount))
        while len(specs) < n_emails:
            c = rng.choice(cats)
            amount = rng.randint(refund_limit // 10, refund_limit * 3) if c == "refunds" else None
            specs.append((c, rng.choice(plain_orgs), rng.choice(all_countries), amount))
        if level and "key_accounts" in active:
            # a look-alike domain of a key account (not on the list)
            i = next((j for j, s in enumerate(specs) if s[1] in plain_orgs and s[0] != "it_internal"), None)
            if i is not None:
                c, _, country, amount = specs[i]
                specs[i] = (c, "lookalike", country, amount)
        rng.shuffle(specs)

        emails: list[Email] = []
        for c, org, country, amount in specs:
            if org == "lookalike":
                dom = key_domains[0].replace(".com", "-group.com")
                org_name = key_orgs[0] + " Group"
            else:
                dom, org_name = domains[org], f"{org} {domains[org][len(org):-4].capitalize()}"
            emails.append(_email(rng, _reserve_id(ctx), BY_KEY[c], org_name, dom, country, amount, company_domain))
        routed = {e.email_id: policy.route(e) for e in emails}
        assert all(r[1] for r in routed.values())
        for s in active:  # every special rule changes the owner of at least one email, by construction
            assert any(rule == s for rule, _ in routed.values()), s

        # out of office (hard): owners of some emails are away; their auto-reply names a deputy
        owner_of = {eid: r[1] for eid, r in routed.items()}
        owners = list(dict.fromkeys(owner_of[e.email_id] for e in emails))
        out: dict[str, Employee] = {}
        if level == 2:
            candidates = [h for h in owners if h not in busy]
            for h in rng.sample(candidates, min(len(candidates), rng.randint(1, 2))):
                if any(d.handle == h for d in out.values()):
                    continue  # already covering for someone else: not away
                # a deputy is never away and never someone else's deputy
                deputy = people.draw((company.employee(h).department,),
                                     exclude=(h, *out, *(d.handle for d in out.values())))
                out[h] = deputy
        truth = {eid: (out[h].handle if h in out else h) for eid, h in owner_of.items()}
        for h in truth.values():
            ctx.used_paths.add(KEY_OWNER + h)
        for h in out:
            ctx.used_paths.add(KEY_OUT + h)

        # files
        folder = f"/shared/inbox/batch-{tid}"  # task ids are unique within the day
        index_path = f"{folder}/index.csv"
        files: list[FileAsset] = []
        index = ["email_id,file,from,subject"]
        for e in emails:
            path = f"{folder}/{e.email_id.lower()}.txt"
            files.append(FileAsset(path=path, content=e.body, media_type="text/plain"))
            index.append(f"{e.email_id},{path},{e.address},\"{e.subject}\"")
        files.insert(0, FileAsset(path=index_path, content="\n".join(index) + "\n", media_type="text/csv"))
        policy_path = ctx.path("/shared/support", "email_routing_policy", "md")

        def who(h: str) -> str:
            return f"{company.employee(h).name} ({h})"

        doc = [f"# Email routing policy ({support_dept})", "",
               "Every email in the shared inbox goes to exactly one owner. Apply the FIRST rule below that "
               "matches the email; forward the email to that owner, naming its email id.", ""]
        n = 1
        if "key_accounts" in active:
            doc.append(f"{n}. Key accounts: any email from the domains {', '.join(key_domains)} goes to the key "
                       f"account manager {who(key_owner)}, whatever it is about. Other domains, even similar "
                       "ones, are not key accounts.")
            n += 1
        if "refund_threshold" in active:
            doc.append(f"{n}. Large refunds: refund requests for more than ${refund_limit:,} go to "
                       f"{who(refund_big)} in Finance. Smaller refunds follow the category table.")
            n += 1
        if "regional_sales" in active:
            parts = [f"{r} ({', '.join(REGIONS[r])}) to {who(region_owner[r])}" for r in REGIONS]
            doc.append(f"{n}. Sales inquiries go by the sender's country (in the signature): " + "; ".join(parts)
                       + ".")
            n += 1
        doc.append(f"{n}. Otherwise, by category:")
        doc.append("")
        doc.append("| category | what it covers | owner |")
        doc.append("|---|---|---|")
        for k in cats:
            cat = BY_KEY[k]
            doc.append(f"| {cat.label} | {cat.description} | {who(topic_owner[k])} |")
        doc += ["", "If an owner is away, their out-of-office reply names the deputy who covers for them; "
                "route their emails to that deputy instead."]
        files.append(FileAsset(path=policy_path, content="\n".join(doc) + "\n", media_type="text/markdown",
                               hidden=True, clue_ids=[f"{tid}-policy"]))

        facts = [Fact(
            fact_id=f"{tid}-policy", holder=holder.handle, topic="email routing policy",
            keywords=["routing policy", "email routing", "triage", "routing", "inbox policy"],
            reply=f"Here you go, I've shared our email routing policy: {policy_path}",
            clue_ids=[f"{tid}-holder"], shares_files=[policy_path],
        )]
        clues = [
            Clue(clue_id=f"{tid}-policy", description="the routing rules and owners", location="file",
                 where=f"{policy_path}, shared by {holder.handle}", hops=2 if level == 2 else 1),
            Clue(clue_id=f"{tid}-holder", description="the routing policy is shared on request",
                 location="colleague", where=f"ask {holder.handle}"),
        ]
        plan: list[ToolCall] = [ToolCall(name="read_file", arguments={"path": index_path})]
        if level == 2:
            referral(f"{tid}-referral", head, f"head of {support_dept}", topic="who keeps the routing policy",
                     keywords=["routing policy", "email routing", "triage", "routing"],
                     description="who maintains the routing policy",
                     reply=f"{holder.name} ({holder.handle}) maintains our email routing policy; please ask them.",
                     question=ASK).add_to(facts, clues, plan)
        plan += [*ask(holder.handle, ASK),
                 ToolCall(name="read_file", arguments={"path": policy_path})]
        plan += [ToolCall(name="read_file", arguments={"path": f.path}) for f in files[1:-1]]

        by_owner: dict[str, list[str]] = {}
        for e in emails:
            by_owner.setdefault(owner_of[e.email_id], []).append(e.email_id)

        def forward(ids: list[str]) -> str:
            subj = {e.email_id: e.subject for e in emails}
            return "Forwarding from the shared inbox for you to handle: " + "; ".join(
                f"{i} ({subj[i]})" for i in ids)

        for h, ids in by_owner.items():
            plan.append(ToolCall(name="send_message", arguments={"to": h, "text": forward(ids)}))
            if h in out:
                d = out[h]
                plan += [ToolCall(name="wait", arguments={"for_message_from": h}),
                         ToolCall(name="send_message", arguments={"to": d.handle, "text": forward(ids)})]
        generic = ["forward", "forwarding", "email", "inbox", "handle", "routing", "customer", "message"]
        for h in dict.fromkeys(truth.values()):
            # owners acknowledge forwards neutrally (a colleague saying "I know nothing about that" to a
            # correct forward would mislead)
            facts.append(Fact(
                fact_id=f"{tid}-ack-{h}", holder=h, topic="forwarded inbox email",
                keywords=[*generic, *[i.lower() for i, o in truth.items() if o == h]],
                reply="Thanks, noted. I'll pick up whatever from the shared inbox is mine.",
            ))
        for h, d in out.items():
            facts.append(Fact(
                fact_id=f"{tid}-ooo-{h}", holder=h, topic="out of office auto-reply",
                keywords=[*generic, *[i.lower() for i in by_owner[h]]],
                reply=f"Automatic reply: I am out of the office today. {d.name} ({d.handle}) is covering my "
                      "inbox emails; please send them there.",
                clue_ids=[f"{tid}-ooo-{h}"],
            ))
            clues.append(Clue(clue_id=f"{tid}-ooo-{h}", description=f"{h} is out; {d.handle} is the deputy",
                              location="colleague", where=f"message {h} (auto-reply)"))
        plan.append(ToolCall(name="submit", arguments={"task_id": tid, "answer": {"routing": truth}}))

        # everyone an email could plausibly be forwarded to: the owners the policy names and today's deputies.
        # An email's id must reach its owner and none of the others (its away owner, whose auto-reply names
        # the deputy, excepted), so forwarding everything to everyone earns no forward checkpoint.
        named = [topic_owner[k] for k in cats]
        named += [key_owner] if "key_accounts" in active else []
        named += [refund_big] if "refund_threshold" in active else []
        named += list(region_owner.values()) if "regional_sales" in active else []
        candidates = sorted({*named, *truth.values(), *out})
        checkpoints: list[Checkpoint] = []
        answers: dict[str, object] = {}
        for e in emails:
            eid, owner = e.email_id, truth[e.email_id]
            deps = [f"{tid}-policy"] + ([f"{tid}-ooo-{owner_of[eid]}"] if owner_of[eid] in out else [])
            answers[f"owner.{eid}"] = owner
            answers[f"id.{eid}"] = eid
            checkpoints.append(Checkpoint(
                cp_id=f"route-{eid}", description=f"owner of {eid}", clue_ids=deps,
                check=SubmissionCheck(field=f"routing.{eid}", expected=f"owner.{eid}", compare="equals"),
                feedback="The owner follows the first matching rule of Support's email routing policy; check "
                         "auto-replies from owners who are away.",
            ))
            checkpoints.append(Checkpoint(
                cp_id=f"forward-{eid}", description=f"{eid} forwarded to its owner", weight=0.5, clue_ids=deps,
                check=MessageCheck(to=owner, expected=f"id.{eid}",
                                   not_to=[h for h in candidates if h not in (owner, owner_of[eid])]),
                feedback="Forward each email to its owner only, with send_message, naming its email id.",
            ))
        where = {0: f"{holder.name} ({holder.handle}) in {support_dept} keeps the email routing policy.",
                 1: f"The head of {support_dept} can give you the email routing policy.",
                 2: f"{support_dept} owns the email routing policy."}[level]
        objective = (
            f"Triage the {len(emails)} emails in the shared inbox batch {folder}/ (listed in {index_path}): "
            f"forward each one to its owner under the email routing policy (to that owner only, not to the "
            f"other owners), naming the email id in your message, and submit the mapping "
            f"{{\"routing\": {{\"<email id>\": \"<owner handle>\", ...}}}}. {where}"
        )
        return ctx.instance(
            self, objective=objective, files=files, facts=facts, clues=clues, checkpoints=checkpoints, solution=plan,
            answers=answers)

    def baseline(self, view: BaselineView) -> list[ToolCall]:
        """Route by matching index subjects against the policy's category table (special rules ignored)."""
        index = next((t for p, t in view.texts.items() if p.endswith("index.csv")), "")
        policy = next((t for p, t in view.texts.items() if "routing_policy" in p), "")
        owners: dict[str, str] = {}
        for line in policy.splitlines():
            cells = [c.strip() for c in line.strip("|").split("|")]
            if len(cells) == 3 and cells[2].endswith(")") and "(" in cells[2]:
                label = cells[0].lower()
                key = next((c.key for c in CATEGORIES if c.label.lower() == label), None)
                if key:
                    owners[key] = cells[2].rsplit("(", 1)[1].rstrip(")")
        routing: dict[str, str] = {}
        for row in index.strip().splitlines()[1:]:
            eid, subject = row.split(",", 1)[0], row.lower()
            guess = next((c.key for c in CATEGORIES if c.key in owners and any(
                s.split("{")[0].lower().strip() in subject for s in c.subjects)), None)
            if guess:
                routing[eid] = owners[guess]
            elif owners:
                routing[eid] = view.rng.choice(sorted(owners.values()))
        if not routing:
            handles = [e.handle for e in view.company.employees]
            routing = {"MSG-0000": view.rng.choice(handles)}
        return [ToolCall(name="submit", arguments={"task_id": view.task_id, "answer": {"routing": routing}})]
