"""``heuristic-learning``: the heuristic baseline plus a rule-based reflection that turns mentor feedback
into lessons (the continual-learning protocol, docs/learning.md, shown offline).

After each day (with memory on) :meth:`LearningHeuristicAgent.reflect` reads the mentor feedback and what
the agent itself saw that day, and writes a few plain-text lessons per task family:

* **documents to read**: the documents a missed checkpoint's "Where to look" note names (``"vendor scoring
  policy"``, ``"incident runbook"``, ...), with the department that keeps it when the note says so;
* **whom to ask**: the head of a department a note names; a colleague who shared a document or was
  named as the one who knows, on a task of that family;
* **behaviours**: follow referrals, ask every colleague the task names, attend the meeting, open the page.

Lessons are plain sentences (an LLM could read them too). On later days the environment offers them
with the tasks they fit (``Observation.lessons``); the agent copies them into its notebook (the
``notebook`` tool) and searches the notebook by the task's family when a task arrives, so both memory
channels are used. It parses the lessons back (quoted document names, department heads, handles and
the behaviour phrases) and extends the heuristic's exploration through the hooks of ``_TaskWorker``
(``_extra_sources``, ``_wants_file``, ``_referrals``). Without lessons it behaves exactly like
``heuristic``, so its control run (memory off) is the plain heuristic.

Only public information is used: the observations, the tool results, the company directory (which
``list_colleagues`` shows anyway) and the feedback; never the hidden side of the scenario.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from dataclasses import dataclass, field

from firstday.agents._paths import DRIVE_PATH
from firstday.agents.base import PublicContext
from firstday.agents.builtin import HeuristicAgent
from firstday.env.episode import Briefing, Observation
from firstday.scoring.feedback import MentorFeedback
from firstday.world.assets import PublicTask
from firstday.world.tools import ToolCall, ToolResult

LESSONS_PER_FAMILY = 6  # new lessons per family and day (the environment offers 5 per task)
MAX_ROW_CONTACTS = 6  # colleagues asked from the marked rows of one document

# nouns that make a phrase a document's name, and the words a document name may not start with
_DOC_NOUNS = ("policy", "manual", "handbook", "runbook", "guide", "chart", "rota", "stock list", "rules file",
              "registry", "register", "catalog", "catalogue", "floor plan", "price list", "table", "legend")
_NOUN = "(?:" + "|".join(re.escape(n) for n in _DOC_NOUNS) + ")"
_DOC = re.compile(rf"((?:[A-Za-z][\w'-]*\s+){{0,3}}{_NOUN}(?:\s+{_NOUN})?)(?![\w-])", re.I)
_LEAD = frozenset(
    "the a an its their each every any this that of and or with in on by from to for read see ask apply check "
    "compare use follow score count per which what is are be keeps shares share gives who knows".split())
_GENERIC_DOCS = frozenset({"policy", "manual", "handbook", "runbook", "guide", "chart", "rota", "table", "legend",
                           "rules file", "registry", "register", "catalog", "catalogue"})
_FILE_STOP = frozenset("file files document md csv txt png jpg pdf shared workspace".split())
_REFERRAL_CUES = re.compile(r"who knows|who does|say who|names? who|will name|ask the (?:owner|coordinator|"
                            r"manager)|leave it to|referr|points? you|keeps? (?:the|their|it)|shares? it|"
                            r"\bask (?:them|him|her)\b|check with|talk to|\bcontact\b|took over|kept by", re.I)
_ROWS = re.compile(r'every row marked (\w+) in the "([^"]+)"')
_URL = re.compile(r"https?://\S+")
_HANDLE = re.compile(r"(?<![\w.])([a-z][a-z0-9-]*\.[a-z][a-z0-9-]*)(?![\w])")

FOLLOW_REFERRALS = "Follow referrals: when a colleague says someone else knows or keeps something, ask that person too."
ASK_EVERYONE = "Ask every colleague the task names (every invitee, every member of the group), not only the first few."
ATTEND = "Attend the meeting the task names: what is said there belongs to the task."
OPEN_PAGE = "Open the page or dashboard the task names (again after it refreshes) and check its values."


def doc_names(note: str) -> list[str]:
    """The document names a feedback note mentions ("Procurement's vendor scoring policy" -> "vendor
    scoring policy"), without the leading articles, possessives and verbs; generic one-word names
    ("the handbook") are kept only when nothing more specific is named."""
    found: list[str] = []
    note = _URL.sub(" ", DRIVE_PATH.sub(" ", note))  # a path names one instance's file, not a kind of document
    for m in _DOC.finditer(note):
        words = m.group(1).split()
        # the name is what follows the last article, verb, possessive or capitalised word
        cut = max((i + 1 for i, w in enumerate(words[:-1])
                   if w.lower() in _LEAD or w.endswith("'s") or w[0].isupper()), default=0)
        name = " ".join(words[cut:]).lower()
        if name and name not in found:
            found.append(name)
    specific = [n for n in found if n not in _GENERIC_DOCS]
    return specific or found


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _tokens(text: str) -> list[str]:
    return [_stem(w) for w in re.findall(r"[a-z0-9]+", text.lower().replace("-", "")) if w not in _FILE_STOP]


def file_matches(doc: str, path: str, objective: str) -> bool:
    """Whether the file at ``path`` looks like the document ``doc``: its name holds the last word of the
    document's name and every other word is in the name or its folder's (for names of three words or more
    one may be missing); words of the file name beyond those must then be words of the objective
    (``meridian_approval_chart.png`` for "project approval chart" on Project Meridian, not the other
    projects' charts)."""
    want = _tokens(doc)
    folder, _, name = path.rpartition("/")
    have = set(_tokens(name))
    if not want or want[-1] not in have:
        return False
    around = have | set(_tokens(folder.rsplit("/", 1)[-1]))
    missing = [w for w in want if w not in around]
    if len(missing) > (1 if len(want) >= 3 else 0):
        return False
    extra = have - set(want)
    return (not extra and not missing) or bool(extra & set(_tokens(objective)))


@dataclass
class Advice:
    """What the lessons of one family tell the agent to do."""

    docs: list[str] = field(default_factory=list)
    ask: list[str] = field(default_factory=list)  # handles
    rows: list[tuple[str, str]] = field(default_factory=list)  # (document, marker): ask whom its marked rows name
    follow_referrals: bool = False
    ask_everyone: bool = False

    def empty(self) -> bool:
        return not (self.docs or self.ask or self.rows or self.follow_referrals or self.ask_everyone)


class LearningHeuristicAgent(HeuristicAgent):
    """The heuristic plus lessons: reads the documents, asks the colleagues and follows the referrals its
    lessons from earlier days name (see the module docstring)."""

    name = "heuristic-learning"

    def __init__(self, ctx: PublicContext) -> None:
        super().__init__(ctx)
        self.memory = ctx.memory
        self.lessons: dict[str, list[str]] = {}  # family -> lesson texts known today (offered or noted)
        self.noted: dict[str, set[str]] = {}  # family -> lesson texts already in the notebook
        self.notebook_used = False  # the notebook holds notes (carried in or written today)
        self.task_family: dict[str, str] = {}
        self.seen: dict[str, list[tuple[str, str]]] = {}  # task id -> (colleague, reply) heard on it
        self.asked: dict[str, set[str]] = {}  # task id -> colleagues asked about it
        self.read_replies: dict[str, int] = {}  # colleague -> their messages already attributed to a task

    async def reset(self, briefing: Briefing) -> None:
        self.notebook_used = briefing.memory and briefing.notes_carried > 0
        await super().reset(briefing)

    async def act(self, observation: Observation) -> list[ToolCall]:
        for lesson in observation.lessons:
            if lesson.category is not None:
                self._learn(lesson.category, lesson.text)
        return await super().act(observation)

    def _learn(self, family: str, text: str) -> None:
        known = self.lessons.setdefault(family, [])
        if text not in known:
            known.append(text)

    # ---- lessons -> advice -------------------------------------------------------------------------
    def advice(self, family: str) -> Advice:
        out = Advice()
        heads = {d.name: d.head for d in self.company.departments}
        handles = {e.handle for e in self.company.employees} - {self.company.trainee.handle}
        for text in self.lessons.get(family, []):
            for doc in re.findall(r'"([^"]+)"', text):
                if doc not in out.docs:
                    out.docs.append(doc)
            for marker, doc in _ROWS.findall(text):
                if (doc, marker) not in out.rows:
                    out.rows.append((doc, marker))
            for dept, head in heads.items():
                if re.search(rf"\bthe head of {re.escape(dept)}\b", text) and head not in out.ask:
                    out.ask.append(head)
            for h in _HANDLE.findall(text):
                if h in handles and h not in out.ask:
                    out.ask.append(h)
            out.follow_referrals |= "follow referrals" in text.lower()
            out.ask_everyone |= text.startswith("Ask every colleague the task names")
        return out

    # ---- the hooks of _TaskWorker ------------------------------------------------------------------
    def _extra_sources(self, task: PublicTask) -> tuple[list[str], list[str]]:
        paths, people = super()._extra_sources(task)
        advice = self.advice(task.category)
        extra = list(advice.ask)
        if advice.ask_everyone:  # the heuristic asks at most four of the people the objective names
            extra += [e.handle for e in self.company.employees
                      if e.handle in task.objective or e.name in task.objective]
            if re.search(r"\b(?:everyone|every member|all members|whole team)\b", task.objective, re.I):
                extra += [m for d in self.company.departments  # the group: as list_colleagues shows it
                          if re.search(rf"\b{re.escape(d.name)}\b", task.objective) for m in d.members]
        people += [h for h in extra if h not in people]
        return paths, people

    def _wants_file(self, task: PublicTask, path: str) -> bool:
        return any(file_matches(doc, path, task.objective) for doc in self.advice(task.category).docs)

    def _referrals(self, task: PublicTask, source: str, text: str) -> list[str]:
        advice = self.advice(task.category)
        known = {e.handle for e in self.company.employees}
        if source.startswith("/"):  # a document: the colleagues its marked rows name, if a lesson says so
            named = [h for doc, marker in advice.rows if file_matches(doc, source, task.objective)
                     for line in text.splitlines() if re.search(rf"\b{re.escape(marker)}\b", line, re.I)
                     for h in _HANDLE.findall(line) if h in known]
            named = list(dict.fromkeys(named))[:MAX_ROW_CONTACTS]
            self.asked.setdefault(task.task_id, set()).update(named)
            return named
        # a colleague's reply: only the messages not yet read for an earlier task or hop
        replies = self.replies.get(source, [])
        reply = "\n".join(replies[self.read_replies.get(source, 0):])
        self.read_replies[source] = len(replies)
        self.seen.setdefault(task.task_id, []).append((source, reply))
        self.asked.setdefault(task.task_id, set()).add(source)
        if not advice.follow_referrals:
            return []
        named = [h for h in dict.fromkeys(_HANDLE.findall(reply)) if h in known and h != source][:2]
        self.asked[task.task_id].update(named)
        return named

    # ---- the notebook ------------------------------------------------------------------------------
    def _work(self, task: PublicTask) -> Generator[ToolCall, ToolResult | None, None]:
        self.task_family[task.task_id] = task.category
        family = task.category
        if self.memory:
            if self.notebook_used:  # read back what earlier tasks and days noted about this family
                res = yield ToolCall(name="notebook", arguments={"action": "search", "query": family})
                for text in self._notes_of(family, res.content if res is not None and res.ok else ""):
                    self.noted.setdefault(family, set()).add(text)
                    self._learn(family, text)
            new = [t for t in self.lessons.get(family, []) if t not in self.noted.get(family, set())]
            if new:
                res = yield ToolCall(name="notebook", arguments={"action": "write", "title": family,
                                                                 "text": "\n".join(new)})
                if res is not None and res.ok:
                    self.noted.setdefault(family, set()).update(new)
                    self.notebook_used = True
        # delegate to the heuristic's worker (send() passes each tool result through)
        gen = super()._work(task)
        try:
            call = next(gen)
            while True:
                result = yield call
                call = gen.send(result)
        except StopIteration:
            return

    @staticmethod
    def _notes_of(family: str, content: str) -> list[str]:
        """The lesson lines of the notes titled ``family`` in a notebook tool result."""
        out: list[str] = []
        mine = False
        for line in content.splitlines():
            head = re.match(r"^\[\d+\] day \d+, \d\d:\d\d · (.*?): (.*)$", line)
            if head:
                mine = head.group(1) == family
                line = head.group(2)
            if mine and line.strip():
                out.append(line.strip())
        return out

    # ---- reflection --------------------------------------------------------------------------------
    def reflect(self, feedback: MentorFeedback) -> list[dict[str, str]]:
        """Lessons (``{"category", "text"}``) from the day's mentor feedback and what the agent saw."""
        lessons: list[dict[str, str]] = []
        per_family: dict[str, list[str]] = {}
        for item in feedback.items:
            if not item.missed:
                continue
            texts = per_family.setdefault(item.category, [])
            for text in self._lessons_for(item.task_id, item.missed):
                known = self.lessons.get(item.category, [])
                if text not in texts and text not in known and len(texts) < LESSONS_PER_FAMILY:
                    texts.append(text)
        for family, texts in per_family.items():
            lessons += [{"category": family, "text": t} for t in texts]
        return lessons

    def _lessons_for(self, task_id: str, missed: list[str]) -> list[str]:
        """The lesson texts for one task, most useful first: documents, whom to ask, behaviours."""
        docs: list[str] = []
        asks: list[str] = []
        behaviours: list[str] = []
        depts = [d.name for d in self.company.departments]
        for entry in missed:
            _, sep, note = entry.partition("Where to look: ")
            if not sep:
                continue
            named = [d for d in depts if re.search(rf"\b{re.escape(d)}\b", note)]
            for doc in doc_names(note):
                text = f'Read the "{doc}" for these tasks: look for a file named like it on the drive (list_files).'
                if named:
                    text += f" If it is not there, ask {named[0]} for it (the head of {named[0]})."
                docs.append(text)
            marked = re.search(r"\bmarked (\w+)", note)
            if marked and re.search(r"\bowner|\bwho knows", note):
                docs += [f'Ask the owner of every row marked {marked.group(1)} in the "{doc}" (the row names '
                         "them)." for doc in doc_names(note)]
            if named and not doc_names(note):
                asks += [f"Ask the head of {d}: they know about these tasks." for d in named]
            low = note.lower()
            if re.search(r"\bask (?:every|each|all)\b|\bevery (?:team member|invitee|person)\b", low):
                behaviours.append(ASK_EVERYONE)
            if _REFERRAL_CUES.search(note):
                behaviours.append(FOLLOW_REFERRALS)
            if "meeting" in low:
                behaviours.append(ATTEND)
            if re.search(r"\bopen\b|\bdashboard\b|\bpage\b|http://", low):
                behaviours.append(OPEN_PAGE)
        # the agent's own experience on this task: who shared documents, who was named as knowing
        people = {e.handle: e.name for e in self.company.employees}
        asked = self.asked.get(task_id, set())
        for handle, reply in self.seen.get(task_id, []):
            shared = [p for p in DRIVE_PATH.findall(reply) if "." in p.rsplit("/", 1)[-1]]
            if shared and handle in people:
                asks.append(f"{people[handle]} ({handle}) shared a document for a task like this "
                            f"({shared[0].rsplit('/', 1)[-1]}): ask them first.")
            for h in dict.fromkeys(_HANDLE.findall(reply)):
                if h in people and h != handle and h not in asked and _REFERRAL_CUES.search(reply) is not None:
                    asks.append(f"{people[h]} ({h}) was named as the one who knows about a task like this: "
                                "ask them, and follow referrals.")
                    behaviours.append(FOLLOW_REFERRALS)
        return list(dict.fromkeys([*docs, *asks, *behaviours]))
