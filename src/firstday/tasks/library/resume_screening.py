"""Resume screening: shortlist the candidates who meet a role's education, major, experience and skill
requirements.

The requirements come from a job description on the drive, from the hiring manager (who alone knows
them), or from a job description refined by HR's screening guide (related majors, equivalent skills,
how experience is counted). Resumes are text files; on hard, some are scanned CVs that exist only as
images.

Fixed against the reference: the ground truth is *computed* from the generated resumes with the same rule
the requirements state (never hand-set, never empty, never everyone), and every non-qualifying candidate
misses by a near miss (a degree one level short, a related-looking major, a few months of experience
short, one skill missing, internships that do not count) so skimming fails.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from PIL import Image, ImageDraw

from firstday.tasks.checks import SubmissionCheck
from firstday.tasks.family import BaselineView, GenContext, ask, referral, register
from firstday.tasks.library import _image_kit as kit
from firstday.tasks.model import Checkpoint, Clue, TaskInstance
from firstday.world.assets import Fact, FileAsset
from firstday.world.company import Employee
from firstday.world.images import ImageSpec, register_renderer
from firstday.world.tools import ToolCall

VARIANTS = ("job_description", "hiring_manager", "screening_guide")
KEY_ROLE = "resume_screening:role:"
LEVELS = {"Bachelor": 1, "Master": 2, "PhD": 3}
DEGREE_NAMES = {"Bachelor": ("Bachelor of Science", "BSc", "Bachelor's degree"),
                "Master": ("Master of Science", "MSc", "Master's degree"),
                "PhD": ("PhD", "Doctor of Philosophy")}
NOW_Y, NOW_M = 2025, 6  # "present" means June 2025
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Role:
    title: str
    department: str
    majors: tuple[str, ...]  # relevant majors (requirements draw from these)
    related: tuple[str, ...]  # near-miss majors (the screening guide may accept some)
    skills: tuple[str, ...]
    synonyms: dict[str, str]  # equivalent skill -> required skill it stands for (screening guide)
    job_titles: tuple[str, ...]


ROLES = (
    Role("Data Analyst", "Data Science", ("Statistics", "Mathematics", "Economics", "Computer Science"),
         ("Physics", "Business Administration", "Information Systems"),
         ("SQL", "Python", "Tableau", "Excel", "R", "Power BI", "Statistics", "dbt"),
         {"PostgreSQL": "SQL", "Looker": "Tableau", "pandas": "Python"},
         ("Data Analyst", "Business Analyst", "Reporting Analyst", "Junior Analyst")),
    Role("Backend Engineer", "Engineering", ("Computer Science", "Software Engineering", "Computer Engineering"),
         ("Mathematics", "Information Systems", "Electrical Engineering"),
         ("Python", "Go", "PostgreSQL", "Docker", "Kubernetes", "AWS", "Kafka", "Redis"),
         {"Golang": "Go", "MySQL": "PostgreSQL", "GCP": "AWS"},
         ("Software Engineer", "Backend Developer", "Platform Engineer", "Developer")),
    Role("Financial Analyst", "Finance", ("Finance", "Accounting", "Economics"),
         ("Business Administration", "Mathematics", "Statistics"),
         ("Excel", "Financial modelling", "SAP", "SQL", "Forecasting", "IFRS", "Power BI", "VBA"),
         {"Google Sheets": "Excel", "Oracle Financials": "SAP", "US GAAP": "IFRS"},
         ("Financial Analyst", "FP&A Analyst", "Accountant", "Finance Associate")),
    Role("Marketing Specialist", "Marketing", ("Marketing", "Communications", "Business Administration"),
         ("Journalism", "Psychology", "Economics"),
         ("SEO", "Google Analytics", "Copywriting", "HubSpot", "Social media", "A/B testing", "Canva", "SQL"),
         {"Salesforce Marketing Cloud": "HubSpot", "Adobe Analytics": "Google Analytics", "Figma": "Canva"},
         ("Marketing Coordinator", "Content Marketer", "Growth Marketer", "Marketing Assistant")),
    Role("HR Generalist", "HR", ("Human Resources", "Psychology", "Business Administration"),
         ("Sociology", "Law", "Communications"),
         ("Workday", "Recruiting", "Employment law", "Payroll", "Onboarding", "Excel", "HR analytics", "Coaching"),
         {"SAP SuccessFactors": "Workday", "Talent acquisition": "Recruiting", "ADP": "Payroll"},
         ("HR Assistant", "HR Coordinator", "People Partner", "Recruiter")),
    Role("Product Manager", "Product", ("Computer Science", "Business Administration", "Engineering"),
         ("Design", "Economics", "Psychology"),
         ("Roadmapping", "Jira", "User research", "SQL", "A/B testing", "Agile", "Figma", "Stakeholder management"),
         {"Linear": "Jira", "Scrum": "Agile", "Usability testing": "User research"},
         ("Product Manager", "Associate Product Manager", "Product Owner", "Business Analyst")),
)
OTHER_MAJORS = ("History", "Biology", "Chemistry", "Philosophy", "Music", "Geography", "Literature", "Art History")
OTHER_SKILLS = ("Public speaking", "Project management", "Spanish", "German", "Negotiation", "Photoshop", "Teamwork")
UNIVERSITIES = ("University of Leeds", "Delft University of Technology", "University of Toronto", "ETH Zurich",
                "University of Melbourne", "Universidad de Chile", "University of Cape Town",
                "Seoul National University",
                "University of Edinburgh", "McGill University", "KU Leuven", "University of Warsaw",
                "National University of Singapore", "University of Lisbon", "Ohio State University")
EMPLOYERS = ("Acme Corp", "Brightline", "Cobalt Systems", "Driftwood Media", "Evergreen Bank", "Fieldstone",
             "Globex", "Helios Health", "Ironbridge", "Juniper Retail", "Kitestring", "Lattice Labs", "Monarch Foods",
             "Northbeam", "Oakridge Energy", "Pinnacle Insurance", "Quill & Co", "Rivet Logistics")
FIRST = ("Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn", "Robin", "Kim",
         "Lee", "Noa", "Eli", "Mira", "Tom", "Ana", "Ben", "Ida", "Leo", "Zara", "Omar", "Lina", "Raj", "Sofia", "Yuki",
         "Hugo", "Nora", "Ivan", "Maya", "Tariq", "Elena", "Kofi", "Ines", "Pavel", "Chloe", "Diego", "Hana", "Luca")
LAST = ("Abbott", "Baker", "Chowdhury", "Dietrich", "Ekwueme", "Ferreira", "Gallagher", "Holm", "Iwasaki", "Jovanovic",
        "Keller", "Lindgren", "Mbeki", "Nilsson", "Oyelaran", "Pires", "Quintero", "Rasmussen", "Szabo", "Thornton",
        "Ueda", "Vidal", "Whitaker", "Xu", "Yadav", "Zielinski", "Moreno", "Hartmann", "Oduya", "Castell")


@dataclass(frozen=True)
class Degree:
    level: str
    major: str
    name: str
    university: str
    year: int


@dataclass(frozen=True)
class Job:
    title: str
    employer: str
    start: int  # months since year 0 (year * 12 + month - 1)
    end: int | None  # None: present
    internship: bool = False

    def months(self) -> int:
        end = self.end if self.end is not None else NOW_Y * 12 + NOW_M - 1
        return end - self.start


@dataclass
class Candidate:
    name: str
    degrees: list[Degree]
    jobs: list[Job]
    skills: list[str]
    scanned: bool = False
    path: str = ""


@dataclass
class Requirements:
    level: str
    majors: list[str]
    years: int
    skills: list[str]
    related: list[str] = field(default_factory=list)  # screening guide: also accepted
    synonyms: dict[str, str] = field(default_factory=dict)  # screening guide: equivalent -> required
    internships_count: bool = False


def qualifies(c: Candidate, r: Requirements) -> bool:
    """The rule the requirements state, applied to a candidate's data."""
    majors = set(r.majors) | set(r.related)
    edu = any(LEVELS[d.level] >= LEVELS[r.level] and d.major in majors for d in c.degrees)
    months = sum(j.months() for j in c.jobs if r.internships_count or not j.internship)
    have = set(c.skills) | {r.synonyms[s] for s in c.skills if s in r.synonyms}
    return edu and months >= 12 * r.years and all(s in have for s in r.skills)


def _ym(m: int) -> str:
    return f"{MONTHS[m % 12]} {m // 12}"


def _job_line(j: Job) -> str:
    end = "present" if j.end is None else _ym(j.end)
    return f"{j.title}, {j.employer} ({_ym(j.start)} - {end})"


def _degree_line(d: Degree) -> str:
    return f"{d.name} in {d.major}, {d.university}, {d.year}"


def _lines_of(c: Candidate) -> set[str]:
    return {*map(_job_line, c.jobs), *map(_degree_line, c.degrees), ", ".join(c.skills)}


def resume_text(c: Candidate, rng: random.Random) -> list[str]:
    handle = c.name.lower().replace(" ", ".")
    lines = [c.name.upper(), f"{handle}@mailbox.example | +44 7700 9{rng.randint(10000, 99999)}", ""]
    lines += ["EXPERIENCE"]
    lines += [_job_line(j) for j in sorted(c.jobs, key=lambda j: -j.start)]
    lines += ["", "EDUCATION"]
    lines += [_degree_line(d) for d in sorted(c.degrees, key=lambda d: -d.year)]
    lines += ["", "SKILLS", ", ".join(c.skills)]
    return lines


@register_renderer("resume_screening.scanned_cv")
def render_scanned_cv(params: dict[str, Any]) -> Image.Image:
    """A photocopied CV: off-white paper, a typewriter-like layout, toner speckles, a slight skew."""
    rng = random.Random(params["seed"])
    lines: list[str] = params["lines"]
    size = rng.choice((14, 15, 16))

    width = rng.choice((600, 640, 680))
    line_h = size + rng.choice((6, 7, 8))
    height = min(780, 90 + line_h * (len(lines) + 2))
    paper = rng.choice(((250, 248, 240), (244, 242, 236), (252, 252, 248)))
    img = Image.new("RGB", (width, height), paper)
    draw = ImageDraw.Draw(img)
    ink = rng.choice(((30, 30, 30), (20, 24, 40), (45, 40, 35)))
    x, y = rng.randint(36, 56), rng.randint(28, 40)
    kit.text(img, (x, y), lines[0], size + 8, ink)
    y += size + 22
    draw.line((x, y - 6, width - x, y - 6), fill=(120, 120, 120), width=1)
    for ln in lines[1:]:
        if ln.isupper() and ln:
            kit.text(img, (x, y), ln, size + 1, ink, bold=True, bold_spacing=0)
        else:
            kit.text(img, (x + (0 if not ln else 6), y), ln, size, ink)
        y += line_h
    grey = (150, 150, 150)
    draw.point([(rng.randrange(width), rng.randrange(height)) for _ in range(int(params.get("specks", 400)))],
               fill=grey)  # toner dust
    for _ in range(rng.randint(0, 2)):  # faint streaks from the copier glass
        sx = rng.randrange(width)
        draw.line((sx, 0, sx + rng.randint(-8, 8), height), fill=(225, 225, 222), width=1)
    angle = rng.uniform(-1.3, 1.3)
    return img.rotate(angle, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=(90, 90, 90))


def _line_level(line: str) -> int:
    if "PhD" in line or "Doctor" in line:
        return 3
    if "Master" in line or line.startswith("MSc"):
        return 2
    return 1 if "Bachelor" in line or line.startswith("BSc") else 0


def _name(rng: random.Random, taken: set[str]) -> str:
    while True:
        n = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        if n not in taken:
            taken.add(n)
            return n


@register
class ResumeScreening:
    name = "resume_screening"
    title = "Resume screening"
    description = ("Shortlist the candidates whose resumes meet a role's education, major, experience and skill "
                   "requirements (from a job description, the hiring manager, or HR's screening guide).")
    domains = ("information", "inquiry")
    modalities = ("text", "image", "dialogue")
    variants = VARIANTS
    knobs: ClassVar[dict[str, str]] = {
        "candidates": "resumes: easy 6, medium 9, hard 12",
        "skills": "required skills: easy 2, medium 3, hard 4",
        "near_misses": "non-qualifying candidates miss one requirement narrowly; medium/hard add internships that "
                       "do not count and lower degrees in the right major",
        "scans": "hard: about a third of the resumes are scanned CVs (images only)",
        "hops": "hiring_manager/screening_guide: easy the holder is named; medium the department head; hard the "
                "head of HR (or of the department) refers you to the colleague who knows (two hops)",
    }

    def generate(self, ctx: GenContext) -> TaskInstance:
        rng = ctx.rng
        level = {"easy": 0, "medium": 1, "hard": 2}[ctx.difficulty]
        variant = ctx.variant
        tid = ctx.task_id
        present = {d.name for d in ctx.company.departments}
        roles = [r for r in ROLES if r.department in present]  # HR, Engineering and Finance always exist
        free = [r for r in roles if KEY_ROLE + r.title not in ctx.used_paths]
        role = rng.choice(free or roles)
        ctx.used_paths.add(KEY_ROLE + role.title)
        ref = f"REQ-{rng.randint(1000, 9999)}"
        n_skills = 2 + level
        req = Requirements(level=rng.choice(("Bachelor", "Master")) if level < 2 else rng.choice(("Master", "Master",
                                                                                                   "PhD")),
                           majors=sorted(rng.sample(role.majors, 2)), years=rng.randint(2, 5),
                           skills=rng.sample(role.skills, n_skills),
                           internships_count=False)
        if variant == "screening_guide":
            req.related = [rng.choice(role.related)]
            syn = [(k, v) for k, v in role.synonyms.items() if v in req.skills]
            if not syn:  # make sure the guide's equivalence matters: require a skill that has an equivalent
                k, v = rng.choice(sorted(role.synonyms.items()))
                req.skills[0] = v
                syn = [(k, v)]
            req.synonyms = dict(syn)
        n = (6, 9, 12)[level]
        cands = self._candidates(rng, role, req, n, level, variant)
        truth = sorted(c.name for c in cands if qualifies(c, req))

        # --- files -------------------------------------------------------------------------------------
        slug = re.sub(r"[^a-z0-9]+", "_", role.title.lower()).strip("_")
        folder = f"/shared/hr/candidates/{slug}_{ref.lower()}"
        files: list[FileAsset] = []
        n_scan = 0 if level < 2 else max(2, n // 3)
        if n_scan:
            ok = [c for c in cands if c.name in truth]
            bad = [c for c in cands if c.name not in truth]
            picks = [rng.choice(ok), rng.choice(bad)]
            rest = [c for c in cands if c not in picks]
            picks += rng.sample(rest, n_scan - 2)
            for c in picks:
                c.scanned = True
        for c in cands:
            stem = re.sub(r"[^a-z0-9]+", "_", c.name.lower())
            lines = resume_text(c, rng)
            if c.scanned:
                c.path = ctx.path(folder, f"cv_{stem}_scan", "png")
                deciding = [ln for ln in lines[3:] if ln and not ln.isupper()]
                files.append(FileAsset(
                    path=c.path, media_type="image/png",
                    render=ImageSpec(renderer="resume_screening.scanned_cv",
                                     params={"seed": rng.randrange(2**31), "lines": lines, "specks": 500,
                                             "deciding": deciding}),
                    text_alternative="Scanned CV:\n" + "\n".join(lines), clue_ids=[f"{tid}-scans"]))
            else:
                c.path = ctx.path(folder, f"cv_{stem}", "txt")
                files.append(FileAsset(path=c.path, content="\n".join(lines) + "\n"))
        rules_text = self._rules(req, variant)
        jd_path = ctx.path("/shared/hr/jobs", f"{slug}_{ref.lower()}_job_description", "md")
        guide_path = ctx.path("/shared/hr", f"screening_guide_{ref.lower()}", "md")
        clues: list[Clue] = []
        facts: list[Fact] = []
        plan: list[ToolCall] = []
        req_clue = f"{tid}-requirements"
        dept = ctx.company.department(role.department)
        hr = ctx.company.department("HR")
        words = ["requirements", "criteria", "qualifications", "screening", "candidates", "shortlist"]
        if variant == "job_description":
            files.append(FileAsset(path=jd_path, content=self._jd(role, ref, req, rules_text, full=True),
                                   media_type="text/markdown", clue_ids=[req_clue]))
            clues.append(Clue(clue_id=req_clue, description="the requirements and how to count them",
                              location="file", where=jd_path))
            where = f"The requirements are in the job description {jd_path}."
            plan.append(ToolCall(name="read_file", arguments={"path": jd_path}))
        else:
            if variant == "hiring_manager":
                team = dept
                topic = "hiring requirements"
                reply = (f"For {ref} ({role.title}) these are my requirements:\n" + "\n".join(rules_text))
                holder_words = [*words, "hiring manager", "requirements"]
                what = "hiring requirements"
            else:
                team = hr
                files.append(FileAsset(path=jd_path, content=self._jd(role, ref, req, rules_text, full=False),
                                       media_type="text/markdown", clue_ids=[f"{tid}-jd"]))
                clues.append(Clue(clue_id=f"{tid}-jd", description="the base requirements", location="file",
                                  where=jd_path))
                files.append(FileAsset(path=guide_path, content=self._guide(ref, req), media_type="text/markdown",
                                       hidden=True, clue_ids=[req_clue]))
                topic = "screening guide"
                reply = f"Here is the screening guide for {ref}: {guide_path}"
                holder_words = [*words, "screening guide", "guide"]
                what = "the screening guide"
                plan.append(ToolCall(name="read_file", arguments={"path": jd_path}))
            head = ctx.company.employee(team.head)
            holder: Employee = head if level == 1 else ctx.company.employee(rng.choice(team.members[1:]))
            is_guide = variant == "screening_guide"
            facts.append(Fact(fact_id=f"{tid}-holder", holder=holder.handle, topic=f"{topic} for {ref}",
                              keywords=holder_words, require_any=[ref], reply=reply,
                              clue_ids=[f"{tid}-holder"] if is_guide else [req_clue],
                              shares_files=[guide_path] if is_guide else []))
            clues.append(Clue(clue_id=req_clue, description="the requirements and how to count them",
                              location="file" if is_guide else "colleague",
                              where=guide_path if is_guide else f"ask {holder.handle}", hops=2 if level == 2 else 1))
            if is_guide:
                clues.append(Clue(clue_id=f"{tid}-holder", description="the guide is shared on request",
                                  location="colleague", where=f"ask {holder.handle}"))
            if level == 2:
                # the head of HR knows who the hiring manager is; the head of HR says who keeps the guide
                router = ctx.company.employee(hr.head)
                referral(f"{tid}-referral", router, "head of HR", topic=f"who has the {topic}", keywords=holder_words,
                         require_any=[ref], description=f"who has {what}",
                         reply=f"For {ref}, {holder.name} ({holder.handle}) has {what}; please ask them.",
                         question=f"Hi! Who has the {topic} for {ref}?").add_to(facts, clues, plan)
            question = (f"Hello, what are the hiring requirements for {ref} ({role.title})?" if not is_guide else
                   f"Hello, could you share the screening guide for {ref}?")
            plan += ask(holder.handle, question)
            if is_guide:
                plan.append(ToolCall(name="read_file", arguments={"path": guide_path}))
            who = {0: f"{holder.name} ({holder.handle})", 1: f"the head of {team.name}",
                   2: "HR (they know who)"}[level]
            where = (f"Only the hiring manager knows the requirements: ask {who}." if not is_guide else
                     f"The job description is {jd_path}; HR's screening guide for {ref} says how to apply it "
                     f"(related majors, equivalent skills, counting experience): ask {who}.")
        if n_scan:
            clues.append(Clue(clue_id=f"{tid}-scans", description="the scanned resumes' contents", location="image",
                              where=", ".join(c.path for c in cands if c.scanned)))
        plan += [ToolCall(name="read_file", arguments={"path": c.path}) for c in cands]
        plan.append(ToolCall(name="submit", arguments={"task_id": tid,
                                                       "answer": {"selected": truth, "count": len(truth)}}))
        objective = (
            f"Screen the applications for the {role.title} opening ({ref}) and shortlist every candidate who meets "
            f"all the requirements. {where} The resumes: {', '.join(c.path for c in cands)}. Submit "
            '{"selected": ["<candidate full name>", ...], "count": <number shortlisted>} with the names as written '
            "on the resumes.")
        deps = [req_clue] + ([f"{tid}-scans"] if n_scan else []) + ([f"{tid}-jd"] if variant == "screening_guide"
                                                                     else [])
        cps = [Checkpoint(cp_id="shortlist", description="the shortlisted candidates", weight=3.0, clue_ids=deps,
                          check=SubmissionCheck(field="selected", expected="selected", compare="set_equals"),
                          feedback="Check every resume against every requirement, counting experience and "
                                   "equivalences exactly as the requirements say."),
               Checkpoint(cp_id="shortlist-size", description="how many candidates qualify", weight=1.0,
                          clue_ids=deps, check=SubmissionCheck(field="count", expected="count",
                                                               compare="number_close", tolerance=0.0),
                          feedback="Count the candidates who meet every requirement.")]
        return ctx.instance(
            self, objective=objective, files=files, facts=facts, clues=clues, checkpoints=cps, solution=plan,
            answers={"selected": truth, "count": len(truth)})

    # --- candidates -----------------------------------------------------------------------------------
    def _candidates(self, rng: random.Random, role: Role, req: Requirements, n: int, level: int,
                    variant: str) -> list[Candidate]:
        """Candidates that qualify or miss exactly one requirement narrowly; at least two of each."""
        kinds = ["ok", "ok"]
        if variant == "screening_guide":
            kinds += ["ok_related", "ok_synonym", "bad_synonym"]
        kinds += ["level", "major", "years", "skill"] + (["intern"] if level else [])
        while len(kinds) < n:
            kinds.append(rng.choice(["ok", "ok", "level", "major", "years", "skill"] + (["intern"] if level else [])))
        kinds = kinds[:n] if len(kinds) > n else kinds
        if not any(k.startswith("ok") for k in kinds[2:]) and n > 6:
            kinds[-1] = "ok"
        rng.shuffle(kinds)
        taken: set[str] = set()
        seen: set[str] = set()
        out: list[Candidate] = []
        for kind in kinds:
            for _ in range(50):
                c = self._candidate(rng, role, req, kind, level, taken)
                # no two resumes share a line (a scanned CV's content must appear nowhere else)
                keys = _lines_of(c)
                if qualifies(c, req) == kind.startswith("ok") and not keys & seen:
                    seen.update(keys)
                    out.append(c)
                    break
            else:  # pragma: no cover - the construction always succeeds well within 50 tries
                raise RuntimeError(f"resume_screening: could not build a {kind} candidate")
        return out

    def _candidate(self, rng: random.Random, role: Role, req: Requirements, kind: str, level: int,
                   taken: set[str]) -> Candidate:
        name = _name(rng, taken)
        # education
        lvl = req.level if rng.random() < 0.6 else max(req.level, rng.choice(list(LEVELS)), key=LEVELS.__getitem__)
        major = rng.choice(req.majors)
        if kind == "ok_related":
            major = req.related[0]
        if kind == "level":
            lvl = next(k for k, v in LEVELS.items() if v == LEVELS[req.level] - 1) if LEVELS[req.level] > 1 else lvl
            if LEVELS[req.level] == 1:
                kind = "major"  # nothing below a Bachelor: fail on the major instead
        if kind == "major":
            major = rng.choice([m for m in (*role.related, *OTHER_MAJORS)
                                if m not in req.majors and m not in req.related])
        grad = rng.randint(2008, 2019)
        degrees = [Degree(lvl, major, rng.choice(DEGREE_NAMES[lvl]), rng.choice(UNIVERSITIES), grad)]
        if LEVELS[lvl] > 1:  # the degree below, sometimes in an unrelated major
            below = next(k for k, v in LEVELS.items() if v == LEVELS[lvl] - 1)
            bmajor = major if rng.random() < 0.5 else rng.choice(OTHER_MAJORS)
            degrees.append(Degree(below, bmajor, rng.choice(DEGREE_NAMES[below]), rng.choice(UNIVERSITIES),
                                  grad - rng.randint(1, 3)))
        if kind == "level" and level and rng.random() < 0.5:
            # a lower degree in the right major plus a higher one in another field: still not enough
            degrees = [Degree(lvl, rng.choice(req.majors), rng.choice(DEGREE_NAMES[lvl]), rng.choice(UNIVERSITIES),
                              grad)]
        # experience (months), counted back from June 2025 with short gaps
        need = 12 * req.years
        total = need - rng.randint(1, 5) if kind == "years" else need + rng.randint(0, 30)
        jobs = self._jobs(rng, role, total)
        if kind == "intern":  # internships make the naive total reach the bar, the counted one does not
            short = need - rng.randint(1, 6)
            jobs = self._jobs(rng, role, short)
            first = min(j.start for j in jobs)
            length = rng.randint(6, 12)
            jobs.append(Job(f"{rng.choice(role.job_titles)} Intern", rng.choice(EMPLOYERS), first - length - 1,
                            first - 1, internship=True))
        elif level and rng.random() < 0.3:
            first = min(j.start for j in jobs)
            jobs.append(Job(f"{rng.choice(role.job_titles)} Intern", rng.choice(EMPLOYERS), first - 7, first - 1,
                            internship=True))
        # skills
        skills = list(req.skills)
        if kind == "skill":
            skills.remove(rng.choice(req.skills))
        if kind in ("ok_synonym", "bad_synonym"):
            eq, base = rng.choice(sorted(req.synonyms.items()))
            skills.remove(base)
            if kind == "ok_synonym":
                skills.append(eq)
            else:  # an equivalent of a skill that is not the missing one: still missing
                others = [k for k, v in role.synonyms.items() if v != base and k not in skills]
                skills.append(rng.choice(others))
        extra = [s for s in (*role.skills, *OTHER_SKILLS) if s not in skills and s not in req.skills
                 and s not in role.synonyms]
        skills += rng.sample(extra, rng.randint(1, 3))
        rng.shuffle(skills)
        return Candidate(name, degrees, jobs, skills)

    @staticmethod
    def _jobs(rng: random.Random, role: Role, total: int) -> list[Job]:
        """Consecutive jobs ending at present whose lengths sum to ``total`` months."""
        k = 1 if total < 18 else rng.randint(1, 3)
        cuts = sorted(rng.sample(range(6, total - 5), k - 1)) if k > 1 and total > 14 else []
        lengths = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
        end: int | None = None
        cursor = NOW_Y * 12 + NOW_M - 1
        jobs = []
        for i, length in enumerate(lengths):
            start = cursor - length
            jobs.append(Job(rng.choice(role.job_titles), rng.choice(EMPLOYERS), start, end if i == 0 else cursor))
            gap = rng.randint(1, 4)
            cursor = start - gap
            end = cursor
        return jobs

    # --- documents ------------------------------------------------------------------------------------
    @staticmethod
    def _rules(req: Requirements, variant: str) -> list[str]:
        degree = {"Bachelor": "a Bachelor's degree or higher", "Master": "a Master's degree or higher",
                  "PhD": "a PhD"}[req.level]
        lines = [f"- Education: {degree}, in one of these majors: {', '.join(req.majors)} (the degree at the "
                 "required level must itself be in one of them).",
                 f"- Experience: at least {req.years} years of professional experience.",
                 f"- Skills: all of {', '.join(req.skills)}."]
        if variant != "screening_guide":
            lines.append("- Experience is the total length of the jobs on the resume, in months (current jobs "
                         "up to Jun 2025); internships do not count. A job's length is its end month minus its "
                         "start month (Jan 2020 - Mar 2020 is 2 months).")
        return lines

    @staticmethod
    def _jd(role: Role, ref: str, req: Requirements, rules: list[str], full: bool) -> str:
        body = [f"# {role.title} ({ref})", "", f"The {role.department} team is hiring a {role.title}.", "",
                "## Requirements", ""]
        body += rules if full else rules[:3]
        body += ["", "Candidates must meet every requirement to be shortlisted."]
        if not full:
            body.append("HR's screening guide for this opening explains how to apply these requirements.")
        return "\n".join(body) + "\n"

    @staticmethod
    def _guide(ref: str, req: Requirements) -> str:
        lines = [f"# Screening guide for {ref}", "",
                 f"- Related majors also accepted for the education requirement: {', '.join(req.related)}.",
                 "- Equivalent skills (a candidate listing the left one meets the right one): " +
                 "; ".join(f"{k} counts as {v}" for k, v in sorted(req.synonyms.items())) + ". No other "
                 "equivalences apply.",
                 "- Experience is the total length of the jobs on the resume, in months (current jobs up to "
                 "Jun 2025). Internships do not count. A job's length is its end month minus its "
                 "start month (Jan 2020 - Mar 2020 is 2 months).",
                 "- A candidate is shortlisted only if every requirement of the job description is met."]
        return "\n".join(lines) + "\n"

    # --- baseline ---------------------------------------------------------------------------------------
    def baseline(self, view: BaselineView) -> list[ToolCall]:
        """Applies the requirements it found (job description or the manager's reply) to the text resumes it
        read, taking the listed skills literally and counting whole years (end year minus start year,
        internships included). Scanned resumes and unknown requirements are skipped."""
        req_text = "\n".join(t for p, t in sorted(view.texts.items()) if not p.startswith("/shared/hr/candidates"))
        level_m = re.search(r"(Bachelor|Master)'s degree or higher|a (PhD)", req_text)
        majors_m = re.search(r"in one of these majors: ([^()]+?) \(", req_text)
        years_m = re.search(r"at least (\d+) years", req_text)
        skills_m = re.search(r"Skills: all of ([^\n]+?)\.\n?", req_text)
        selected: list[str] = []
        for path, text in sorted(view.texts.items()):
            if not path.startswith("/shared/hr/candidates") or not path.endswith(".txt"):
                continue
            lines = text.splitlines()
            name = lines[0].title() if lines else ""
            ok = True
            if level_m and majors_m:
                want = LEVELS[level_m.group(1) or level_m.group(2)]
                majors = [m.strip() for m in majors_m.group(1).split(",")]
                ok &= any(_line_level(ln) >= want for ln in lines if any(m in ln for m in majors))
            if years_m:
                years = 0
                for a, b in re.findall(r"\(\w{3} (\d{4}) - (?:\w{3} )?(\d{4}|present)\)", text):
                    years += (2025 if b == "present" else int(b)) - int(a)
                ok &= years >= int(years_m.group(1))
            if skills_m:
                ok &= all(s.strip() in text for s in skills_m.group(1).split(","))
            if ok and (level_m or skills_m):
                selected.append(name)
        if not selected:
            names = [t.splitlines()[0].title() for p, t in sorted(view.texts.items())
                     if p.startswith("/shared/hr/candidates") and t]
            selected = view.rng.sample(names, min(2, len(names)))
        return [ToolCall(name="submit", arguments={"task_id": view.task_id,
                                                   "answer": {"selected": selected, "count": len(selected)}})]
