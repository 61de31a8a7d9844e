"""One episode: an agent living through one day of one scenario.

``DayEnv`` binds a day's world, tasks and tools. Each turn the agent receives an observation (the
clock, every notification that has come due, and the results of its previous calls) and returns tool
calls; every call's result is returned. The hidden side of the tasks stays here, out of the tools' reach.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from firstday.caching import IdentityCache
from firstday.env.memory import Lesson, Memory
from firstday.env.trace import (
    TRACE_EVENT,
    AgentErrorData,
    AgentErrorEvent,
    BriefingData,
    BriefingEvent,
    ColleagueReplyLog,
    EndData,
    EndEvent,
    IdleData,
    IdleEvent,
    MemoryData,
    MemoryEvent,
    ObservationData,
    ObservationEvent,
    TaskHint,
    ToolCallData,
    ToolCallEvent,
    ToolResultData,
    ToolResultEvent,
    TraceEvent,
)
from firstday.jsonsafe import json_safe, safe_text
from firstday.sandbox import resolve_backend
from firstday.scoring.cards import DayScore
from firstday.scoring.score import score_day
from firstday.suites.spec import Day, Scenario
from firstday.tasks.family import families
from firstday.tasks.hints import HINT_TIERS as HINT_TIERS  # re-exported: the run options import it from here
from firstday.tasks.hints import HintTier
from firstday.timefmt import fmt
from firstday.trusted import trusted
from firstday.world.company import Company
from firstday.world.records import Notification
from firstday.world.tools import Toolbox, ToolCall, ToolResult, ToolSpec, agent_calls
from firstday.world.world import DayContent, TaskAssets, World

if TYPE_CHECKING:
    from firstday.world.llm_colleague import LLMColleagues

INSTRUCTIONS = """You are {name}, a new trainee in {dept} at {company}. Your mentor is {mentor}.
Today runs from {start} to {end} (virtual time; every action takes minutes). Tasks arrive during the day
with a priority and a deadline; only work delivered before a deadline counts. The information you need is
spread across colleagues, files, calendars and pages: find it and check it rather than guess. Colleagues
answer messages after a delay; use wait to let time pass. Finish each task with submit."""

MEMORY_NOTE = {
    True: "This is day {day} of your training. Your notebook (the notebook tool) keeps what you write in it "
          "across your training days; lessons you drew from earlier days come with the tasks they fit.",
    False: "Your notebook (the notebook tool) keeps notes for today only.",
}

class EnvConfig(BaseModel):
    text_only: bool = Field(default=False, description="replace images with their text alternative")
    costs: dict[str, int] = Field(default_factory=dict, description="override tool costs in minutes")
    max_turns: int = Field(default=1000, ge=1, description="turns before the episode is truncated")
    max_calls_per_turn: int = Field(default=64, ge=1)
    run_timeout_s: float = Field(default=10.0, gt=0, description="wall-clock limit of one run_python call")
    sandbox: Literal["auto", "landlock", "audit"] = Field(
        default="auto", description="run_python's runner: landlock (kernel sandbox), audit (audit hook only, not a "
                                    "security boundary), or auto (landlock where available); see docs/code-runner.md")
    require_sandbox: bool = Field(
        default=False, description="refuse to run (an error up front) rather than fall back to the audit runner")
    colleague_model: str | None = Field(
        default=None, description="LLM colleagues: a model name such as openai/gpt-4o-mini (None: deterministic)")
    colleague_options: dict[str, Any] = Field(
        default_factory=dict, description="LLM colleagues' model settings (base_url, temperature, timeout_s, ...)")
    memory: bool = Field(
        default=False, description="continual learning: the notebook and reflection lessons carry over between "
                                   "the days of a scenario (days then run in order); see docs/learning.md")
    hints: HintTier = Field(
        default="none", description="tiered hints delivered with each task: none, where (to look), whom (to ask), "
                                    "steps (step by step); see docs/hints.md")


class Briefing(BaseModel):
    scenario_id: str
    day_index: int
    trainee: str
    trainee_name: str
    department: str
    mentor: str
    company: str
    day_start: str
    day_end: str
    instructions: str
    tools: list[ToolSpec]
    memory: bool = Field(default=False, description="notebook and lessons carry over from earlier days")
    notes_carried: int = Field(default=0, description="notebook entries carried in from earlier days")
    lessons_carried: int = Field(default=0, description="lessons carried in from earlier days")


class Observation(BaseModel):
    time: int
    clock: str
    notifications: list[Notification] = Field(default_factory=list)
    results: list[ToolResult] = Field(default_factory=list)
    lessons: list[Lesson] = Field(
        default_factory=list, description="with memory: lessons from earlier days relevant to tasks that just arrived")
    hints: list[TaskHint] = Field(default_factory=list,
                                  description="with hints: a hint for each task that just arrived")
    done: bool = False
    truncated: bool = False


_company_digests: IdentityCache[Company, hashlib._Hash] = IdentityCache()
_day_digests: IdentityCache[Day, tuple[Company, str]] = IdentityCache()


def day_hash(scenario: Scenario, day: Day) -> str:
    """Content hash of what an episode is run on: the company and the day's instances (a paired control
    run must see the same hash for every episode).

    Cached by the identity of the company and the day (every trial of a loaded scenario reuses them;
    serialising both cost about half a millisecond per episode): scenarios are not changed in place
    once episodes run on them (the runner shares one loaded scenario between its episodes already).
    """
    company = scenario.company
    cached = _day_digests.get(day, lambda d: (company, _day_digest(company, d)))
    if cached[0] is not company:  # the same day under another company: not cached
        return _day_digest(company, day)
    return cached[1]


def _day_digest(company: Company, day: Day) -> str:
    h = _company_digests.get(company, lambda c: hashlib.sha256(c.model_dump_json().encode())).copy()
    h.update(day.model_dump_json().encode())
    return h.hexdigest()


def day_content(scenario: Scenario, day: Day) -> DayContent:
    """The day's public content. A task's files, facts, meetings and pages enter the world when it arrives
    (the stream is sealed); those of a task arriving at the start of the day are there from the start."""
    first = [t for t in day.tasks if t.arrival <= day.day_start]
    return DayContent(
        company=scenario.company,
        tasks=[t.public() for t in day.tasks],
        files=[f for t in first for f in t.files],
        facts=[f for t in first for f in t.facts],
        meetings=[*day.meetings, *(m for t in first for m in t.meetings)],
        pages=[p for t in first for p in t.pages],
        follow_ups=list(day.follow_ups),
        day_start=day.day_start, day_end=day.day_end,
        on_arrival={t.task_id: TaskAssets(files=list(t.files), facts=list(t.facts), meetings=list(t.meetings),
                                          pages=list(t.pages))
                    for t in day.tasks if t.arrival > day.day_start},
    )


class DayEnv:
    """One day of one scenario. ``memory`` (with ``config.memory``) is what the trainee carries in from
    its earlier days of this scenario; without it (or with memory off) the day starts with nothing."""

    def __init__(self, scenario: Scenario, day: Day, config: EnvConfig | None = None,
                 memory: Memory | None = None) -> None:
        self.scenario, self.day = scenario, day
        self.config = config or EnvConfig()
        if memory is not None and memory.scenario_id != scenario.scenario_id:
            raise ValueError(f"memory of scenario {memory.scenario_id} handed to scenario {scenario.scenario_id}")
        self.memory = (memory or Memory(scenario_id=scenario.scenario_id)) if self.config.memory else None
        self.offered: set[str] = set()  # lessons already offered today
        self.score_card: DayScore | None = None
        families()  # families register their image renderers on import
        self.world = World(day_content(scenario, day), text_only=self.config.text_only,
                           notebook=self.memory.notebook if self.memory else None, day_index=day.day_index)
        # resolved now: with require_sandbox, a kernel without Landlock is an error before the day starts
        resolve_backend(self.config.sandbox, self.config.require_sandbox)
        self.tools = Toolbox(self.world, self.config.costs, run_timeout_s=self.config.run_timeout_s,
                             sandbox=self.config.sandbox, require_sandbox=self.config.require_sandbox)
        self.trace: list[TraceEvent] = []
        self.turns = 0
        self.truncated = False
        self.llm_colleagues: LLMColleagues | None = None
        if self.config.colleague_model:
            from firstday.world.llm_colleague import colleagues_from_config

            self.llm_colleagues = colleagues_from_config(self.world, self.config.colleague_model,
                                                         self.config.colleague_options, seed=scenario.seed)

    @property
    def done(self) -> bool:
        return self.world.ended or self.truncated

    def briefing(self) -> Briefing:
        c = self.scenario.company
        mentor = c.employee(c.mentor)
        text = INSTRUCTIONS.format(name=c.trainee.name, dept=c.trainee.department, company=c.name,
                                   mentor=f"{mentor.name} ({mentor.handle})", start=fmt(self.day.day_start),
                                   end=fmt(self.day.day_end))
        text += "\n" + MEMORY_NOTE[self.memory is not None].format(day=self.day.day_index + 1)
        return Briefing(
            scenario_id=self.scenario.scenario_id, day_index=self.day.day_index, trainee=c.trainee.handle,
            trainee_name=c.trainee.name, department=c.trainee.department, mentor=c.mentor, company=c.name,
            day_start=fmt(self.day.day_start), day_end=fmt(self.day.day_end), instructions=text,
            tools=self.tools.specs, memory=self.memory is not None,
            notes_carried=len(self.memory.notebook) if self.memory else 0,
            lessons_carried=len(self.memory.lessons) if self.memory else 0,
        )

    def _log(self, event: TraceEvent) -> None:
        self.trace.append(event)

    def _log_result(self, res: ToolResult) -> None:
        # built here from the toolbox's result: no validation needed (one per call)
        data = trusted(ToolResultData, {"id": res.call_id, "name": res.name, "ok": res.ok, "content": res.content,
                                        "images": [i.path for i in res.images], "started": res.started,
                                        "ended": res.ended})
        self._log(trusted(ToolResultEvent, {"t": self.world.now, "type": "tool_result", "data": data}))

    def _observe(self, results: list[ToolResult]) -> Observation:
        notes, _ = self.world.take_observation()
        lessons: list[Lesson] = []
        hints: list[TaskHint] = []
        arrived = [n.task for n in notes if n.task is not None and n.kind in ("task", "interruption")]
        if arrived and self.memory is not None and self.memory.lessons:
            for task in arrived:
                found = self.memory.retrieve(task, exclude=self.offered)
                self.offered.update(lesson.lesson_id for lesson in found)
                lessons += found
        if arrived and self.config.hints != "none":
            from firstday.tasks.hints import task_hint

            instances = {t.task_id: t for t in self.day.tasks}
            for task in arrived:
                text = task_hint(instances[task.task_id], self.scenario.company, self.config.hints)
                if text:
                    hints.append(TaskHint(task_id=task.task_id, tier=self.config.hints, text=text))
        now = self.world.now
        obs = trusted(Observation, {"time": now, "clock": fmt(now), "notifications": notes, "results": results,
                                    "lessons": lessons, "hints": hints, "done": self.done,
                                    "truncated": self.truncated})
        # the lists as handed over (the models in them are not changed afterwards, except a reply's text by
        # LLM colleagues: settle() records that)
        data = trusted(ObservationData, {"notifications": list(notes), "lessons": lessons, "hints": hints,
                                         "colleague_replies": []})
        self._log(trusted(ObservationEvent, {"t": now, "type": "observation", "data": data}))
        return obs

    def reset(self) -> Observation:
        now = self.world.now
        self._log(BriefingEvent(t=now, data=BriefingData(
            scenario_id=self.scenario.scenario_id, day_index=self.day.day_index,
            trainee=self.scenario.company.trainee.handle)))
        if self.memory is not None:
            # copies of the lists: the notebook grows during the day
            self._log(MemoryEvent(t=now, data=MemoryData(days=list(self.memory.days), notes=list(self.memory.notebook),
                                                         lessons=list(self.memory.lessons))))
        return self._observe([])

    def step(self, calls: list[ToolCall]) -> Observation:
        """Execute the agent's calls. Each is admitted first (``agent_calls``: strings made safe, non-JSON
        arguments refused as a tool error); anything but a list of ToolCall raises ``AgentOutputError``."""
        calls = agent_calls(calls)
        if self.done:
            # every call is answered, even after the end (never silently dropped)
            now = self.world.now
            late = [ToolResult(call_id=c.id, name=c.name, ok=False, started=now, ended=now,
                               content="error: not executed: the episode is over") for c in calls]
            return Observation(time=now, clock=fmt(now), results=late, done=True, truncated=self.truncated)
        self.turns += 1
        results: list[ToolResult] = []
        if not calls:
            # an agent with nothing to do idles until the next event
            self._log(IdleEvent(t=self.world.now, data=IdleData()))
            nxt = self.world.events.next_time()
            self.world.advance_to(min(max(nxt if nxt is not None else self.world.day_end, self.world.now),
                                      self.world.day_end))
        for call in calls[: self.config.max_calls_per_turn]:
            # the call as admitted (its fields safe to record): no validation needed
            data = trusted(ToolCallData, {"id": call.id, "name": call.name, "arguments": call.arguments})
            self._log(trusted(ToolCallEvent, {"t": self.world.now, "type": "tool_call", "data": data}))
            res = self.tools.execute(call)
            results.append(res)
            self._log_result(res)
            if self.world.ended:
                break
        for call in calls[len(results):]:
            why = "the day ended before this call" if self.world.ended else (
                f"more than {self.config.max_calls_per_turn} calls in one turn")
            res = ToolResult(call_id=call.id, name=call.name, ok=False, content=f"error: not executed: {why}",
                             started=self.world.now, ended=self.world.now)
            results.append(res)
            self._log_result(res)
        if self.turns >= self.config.max_turns and not self.world.ended:
            self.truncated = True
        return self._observe(results)

    async def settle(self, obs: Observation) -> Observation:
        """Finish the world's asynchronous work before the agent sees ``obs``: with LLM colleagues, their
        replies in it are rephrased (awaited here, so the event loop is never blocked)."""
        if self.llm_colleagues is not None and obs.notifications:
            entries = await self.llm_colleagues.rewrite(obs.notifications)
            event = next((e for e in reversed(self.trace) if type(e) is ObservationEvent), None)
            if entries and event is not None:
                event.data.notifications = list(obs.notifications)  # (their text rewritten)
                event.data.colleague_replies = [ColleagueReplyLog.model_validate(e) for e in entries]
        return obs

    async def aclose(self) -> None:
        if self.llm_colleagues is not None:
            await self.llm_colleagues.aclose()

    def memory_after(self) -> Memory | None:
        """The memory to carry into the next day (today's notebook added; lessons are added by the
        reflection step): None with memory off."""
        if self.memory is None:
            return None
        return self.memory.model_copy(update={
            "days": [*self.memory.days, self.day.day_index],
            "notebook": [n.model_copy() for n in self.world.notebook.notes]})

    def log_event(self, type_: Literal["feedback", "reflection"], data: dict[str, Any]) -> None:
        """Record a step of the learning protocol (after the day's end) in the trace: a
        :class:`~firstday.env.trace.FeedbackEvent` or :class:`~firstday.env.trace.ReflectionEvent` of
        ``data`` (which may hold what the agent's reflection returned: made JSON-safe)."""
        self._log(TRACE_EVENT.validate_python({"t": self.world.now, "type": type_, "data": json_safe(data)}))

    def record_agent_error(self, message: str) -> None:
        # the message quotes the agent's own exception, which may hold anything
        self._log(AgentErrorEvent(t=self.world.now, data=AgentErrorData(message=safe_text(message))))

    def record_agent_info(self, index: int, info: object) -> None:
        """Put what the agent says about itself (``trace_info()``) into the trace event at ``index`` (the
        briefing or the end event; any other is left as it is), made JSON-safe (it comes from the agent's
        code: objects, cycles, surrogates)."""
        event = self.trace[index]
        if type(event) is BriefingEvent or type(event) is EndEvent:
            event.data.agent = json_safe(info)

    def _calls(self) -> list[tuple[str, Any, int, int]]:
        """The day's tool calls, in order, with when each started and ended (for the scheduling figures)."""
        calls: list[tuple[str, Any, int, int]] = []
        pending: tuple[str, Any] | None = None
        for e in self.trace:
            if type(e) is ToolCallEvent:
                pending = (e.data.name, e.data.arguments)
            elif type(e) is ToolResultEvent and pending is not None:
                calls.append((*pending, e.data.started, e.data.ended))
                pending = None
        return calls

    def score(self) -> DayScore:
        self.world.record.end_time = self.world.now
        card = score_day(self.scenario.scenario_id, self.day, self.world.record, calls=self._calls(),
                         company=self.scenario.company)
        self._log(EndEvent(t=self.world.now, data=EndData(turns=self.turns, truncated=self.truncated)))
        self.score_card = card
        return card
