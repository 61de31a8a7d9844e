"""The LLM tool-calling agent (``llm``) and the chat machinery it shares with the ReAct agent.

Each turn the observation becomes messages: one ``tool`` message per call id of the previous turn
(always, so the model sees every result, refusals included), then one ``user`` message with the
clock, the new notifications and any images the tools returned (tool messages cannot carry
images). The model answers with tool calls, which are handed to the environment unchanged
(arguments stay the raw JSON text, so malformed JSON comes back as the environment's error).

Context policy: the system prompt and the briefing are always sent; images older than the last
``keep_images`` image-bearing messages are replaced by a placeholder; when the estimated prompt
exceeds ``context_tokens`` the oldest turns are left out, replaced by one note that lists every task
assigned so far. Budgets: ``max_steps`` model calls and ``max_episode_tokens`` tokens per day; past
either the agent ends its day. A reply without a tool call is answered with a nudge; after
``max_text_only`` such replies in a row the agent lets time pass to the next event instead of stalling.

Memory (``--memory``, docs/learning.md): the first message says how many notebook entries and lessons
the agent carries from its earlier days; lessons offered with a task (``Observation.lessons``) are shown
in the user message where the task arrives; after the day :meth:`ChatAgent.reflect` makes one model call
(counted in the same budget and usage) that shows the mentor feedback and asks for lessons as JSON.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from firstday.agents.base import PublicContext
from firstday.env.episode import Briefing, Observation
from firstday.env.memory import Lesson
from firstday.errors import ConfigError
from firstday.models.base import ModelProvider, ModelRequest, ModelResponse, safe_response
from firstday.models.registry import ModelSettings, provider_from_settings
from firstday.scoring.feedback import MentorFeedback
from firstday.timefmt import fmt
from firstday.world.records import Notification
from firstday.world.tools import ImagePart, ToolCall, ToolResult, ToolSpec

DEFAULT_SYSTEM_PROMPT = """You are an AI agent starting as a new trainee at a company. You act only through the \
tools you are given, and every action costs minutes on the company's virtual clock.
- Tasks arrive during the day as notifications, each with a priority and a deadline. Work on the most urgent \
first and deliver each with the submit tool (or the deliverable the task asks for) before its deadline.
- The information you need is spread over colleagues (send_message, then wait for the reply), files \
(list_files, read_file), meetings, calendars and internal pages. Look it up and check it; do not guess.
- You may call several tools in one turn. When you have nothing to do until a reply, a meeting or a new task, \
call wait.
- When all your tasks are done and no more are expected, call end_day."""

NUDGE = ("You replied without calling a tool. Act only through tool calls: call the next tool you need, "
         "or wait if there is nothing to do until something happens.")
REFLECT_PROMPT = """Your working day is over. Your mentor's feedback on it follows. Distil a few short lessons \
that will help you with tasks of the same kinds on your next days: where to look, whom to ask, what to check. \
Lessons are about how to work, not about today's answers (those change from day to day).
Answer with a JSON list only, one object per lesson: [{"category": "<task kind, as in the feedback>", \
"text": "<the lesson>"}], at most 3 lessons per task kind."""
IMAGE_TOKENS = 800  # rough prompt cost of one image, for the context budget
CHARS_PER_TOKEN = 4


class ChatAgentOptions(BaseModel):
    """Agent options (``--option KEY=VALUE``); the model settings are :class:`ModelSettings`."""

    model_config = ConfigDict(extra="forbid")
    system_prompt: str | None = Field(default=None, description="replaces the default system prompt")
    system_prompt_file: str | None = Field(default=None, description="read the system prompt from this file")
    temperature: float = Field(default=0.0, ge=0)
    max_tokens: int = Field(default=2048, ge=1, description="limit of one reply")
    max_steps: int = Field(default=400, ge=1, description="model calls per day")
    max_episode_tokens: int | None = Field(default=None, ge=1, description="prompt+completion tokens per day")
    context_tokens: int = Field(default=48_000, ge=1000, description="prompt budget; older turns windowed past it")
    keep_images: int = Field(default=2, ge=0, description="image-bearing messages kept with their images")
    reflect_max_tokens: int = Field(default=1024, ge=1, description="limit of the reflection reply (with memory)")
    max_text_only: int = Field(default=2, ge=0, description="text-only replies nudged before time is let pass")
    images: bool = Field(default=True, description="send tool images as image parts (False: a placeholder)")


def _split_options(options: dict[str, Any], opts_cls: type[ChatAgentOptions]) -> tuple[ModelSettings,
                                                                                       ChatAgentOptions]:
    model_keys, agent_keys = set(ModelSettings.model_fields), set(opts_cls.model_fields)
    unknown = sorted(set(options) - model_keys - agent_keys)
    if unknown:
        raise ConfigError(f"unknown agent option(s) {', '.join(unknown)}; known: "
                          f"{', '.join(sorted(model_keys | agent_keys))}")
    settings = ModelSettings.from_options(options)
    try:
        opts = opts_cls.model_validate({k: v for k, v in options.items() if k in agent_keys})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"invalid agent option {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    return settings, opts


def estimate_tokens(message: dict[str, Any]) -> int:
    """A cheap estimate of a message's prompt tokens (4 characters a token, a flat cost per image)."""
    content = message.get("content")
    n = 4
    if isinstance(content, str):
        n += len(content) // CHARS_PER_TOKEN
    elif isinstance(content, list):
        for part in content:
            n += IMAGE_TOKENS if part.get("type") == "image_url" else len(str(part.get("text", ""))) // CHARS_PER_TOKEN
    for tc in message.get("tool_calls") or ():
        n += 8 + len(tc["function"]["arguments"]) // CHARS_PER_TOKEN
    return n


def notification_lines(notes: list[Notification]) -> list[str]:
    return [f"- [{fmt(n.time)}] {n.text}" for n in notes]


def lesson_lines(lessons: list[Lesson], notes: list[Notification]) -> list[str]:
    """Lessons offered with the tasks that just arrived, under the task each is about (by family)."""
    arrived = [n.task for n in notes if n.task is not None]
    groups: dict[tuple[str, ...], list[Lesson]] = {}
    for lesson in lessons:
        fits = tuple(t.task_id for t in arrived if t.category == lesson.category)
        groups.setdefault(fits or tuple(t.task_id for t in arrived), []).append(lesson)
    lines = []
    for ids, group in groups.items():
        label = f"task{'s' if len(ids) > 1 else ''} {', '.join(ids)}" if ids else "your new tasks"
        lines.append(f"Lessons from your earlier days that may apply to {label}:")
        lines += [f"- {lesson.text}" for lesson in group]
    return lines


def parse_lessons(text: str) -> list[dict[str, Any] | str]:
    """A reflection reply as lessons: the JSON list it holds (objects or strings, fenced or not); failing
    that, one lesson per non-empty line (bullets and numbers stripped)."""
    start, end = text.find("["), text.rfind("]")
    if 0 <= start < end:
        try:
            data = json.loads(text[start:end + 1])
        except ValueError:
            data = None
        if isinstance(data, list):
            return [x for x in data if isinstance(x, dict | str)]
    lines = [re.sub(r"^\s*(?:[-*\u2022]|\d+[.)])\s*", "", ln).strip() for ln in text.splitlines()]
    return [ln for ln in lines if ln and not ln.startswith("```") and not ln.endswith(":")]  # no headings


def image_part(img: ImagePart) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": f"data:{img.media_type};base64,{img.data_b64}"}}


class ChatAgent(ABC):
    """Conversation state, context policy and budgets shared by the ``llm`` and ``react`` agents."""

    name = "chat"
    options_class: ClassVar[type[ChatAgentOptions]] = ChatAgentOptions

    @classmethod
    def check_options(cls, options: dict[str, Any]) -> None:
        """Refuse, before a run starts, options this agent cannot work with: no model, unknown or invalid ones
        (each a ConfigError; the runner calls it through :func:`firstday.agents.base.check_agent_options`)."""
        _split_options(dict(options), cls.options_class)

    def __init__(self, ctx: PublicContext, provider: ModelProvider | None = None) -> None:
        self.settings, self.opts = _split_options(dict(ctx.options), self.options_class)
        self.provider = provider or provider_from_settings(self.settings)
        self.memory = ctx.memory
        self.seed = ctx.seed % 2**31  # some servers take 32-bit seeds only
        self.system_prompt = self._system_prompt()
        self.history: list[dict[str, Any]] = []
        self.sizes: list[int] = []
        self.image_msgs: list[int] = []
        self.tasks: dict[str, str] = {}  # task id -> one line, pinned when old turns are windowed out
        self.pending: list[str] = []  # call ids of the last turn, in order
        self.pending_names: dict[str, str] = {}
        self.text_only_streak = 0
        self.steps = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.cost_usd = 0.0
        self.cached_calls = 0
        self.windowed = 0
        self.stopped: str | None = None
        self.idle_note = ""

    # ---- hooks for subclasses ----------------------------------------------------------------------
    def _base_system_prompt(self, tools: list[ToolSpec]) -> str:
        return self.system_prompt

    def _request_tools(self) -> list[dict[str, Any]] | None:
        return None

    def _stop_sequences(self) -> list[str] | None:
        return None

    @abstractmethod
    def _decode(self, response: ModelResponse) -> tuple[dict[str, Any], list[ToolCall], str | None]:
        """(assistant message to keep, tool calls to execute, feedback when there are none)."""

    @abstractmethod
    def _result_messages(self, results: dict[str, ToolResult]) -> tuple[list[dict[str, Any]], list[str]]:
        """The last turn's results: (messages to append, lines for the next user message)."""

    # ---- setup ------------------------------------------------------------------------------------
    def _system_prompt(self) -> str:
        if self.opts.system_prompt_file:
            try:
                return Path(self.opts.system_prompt_file).read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(f"cannot read system_prompt_file: {exc}") from None
        return self.opts.system_prompt or DEFAULT_SYSTEM_PROMPT

    def _append(self, message: dict[str, Any], *, has_images: bool = False) -> None:
        if has_images:
            self.image_msgs.append(len(self.history))
        self.history.append(message)
        self.sizes.append(estimate_tokens(message))

    async def reset(self, briefing: Briefing) -> None:
        self.tools = briefing.tools
        self.system_prompt = self._base_system_prompt(briefing.tools)
        self._append({"role": "system", "content": self.system_prompt})
        carried = ""
        if briefing.memory and (briefing.notes_carried or briefing.lessons_carried):
            carried = (f"\n\nFrom your earlier training days you carry {briefing.notes_carried} notebook "
                       f"entr{'y' if briefing.notes_carried == 1 else 'ies'} (read or search them with the notebook "
                       f"tool) and {briefing.lessons_carried} lesson(s), shown with the tasks they fit.")
        self._append({"role": "user", "content": (
            f"{briefing.instructions}\n\nYou are {briefing.trainee_name} (handle {briefing.trainee}), "
            f"{briefing.department}. Today is day {briefing.day_index + 1}; it runs {briefing.day_start}-"
            f"{briefing.day_end}. Notifications and tool results will follow.{carried}")})

    def trace_info(self) -> dict[str, Any]:
        """Recorded in the trace: the settings at the start, usage and how the day ended at the end."""
        return {
            "agent": self.name, "model": self.settings.model, "base_url": self.settings.base_url,
            "system_prompt": self.system_prompt, "options": self.opts.model_dump(),
            "steps": self.steps, "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
            "cost_usd": round(self.cost_usd, 6), "cached_calls": self.cached_calls,
            "windowed_messages": self.windowed, "stopped": self.stopped,
        }

    def usage(self) -> dict[str, Any]:
        """Tokens and cost of this episode (the runner's optional usage protocol, saved per episode)."""
        return {"input_tokens": self.prompt_tokens, "output_tokens": self.completion_tokens,
                "cost_usd": self.cost_usd, "requests": self.steps}

    # ---- observation -> messages ------------------------------------------------------------------
    def _absorb(self, obs: Observation) -> None:
        by_id = {r.call_id: r for r in obs.results}
        result_lines: list[str] = []
        if self.pending:
            messages, result_lines = self._result_messages(by_id)
            for m in messages:
                self._append(m)
        images: list[tuple[ToolResult, ImagePart]] = [
            (r, img) for cid in self.pending if (r := by_id.get(cid)) is not None for img in r.images]
        self.pending, self.pending_names = [], {}
        for n in obs.notifications:
            if n.task is not None:
                t = n.task
                self.tasks[t.task_id] = (f"{t.task_id} [{t.priority}] due {fmt(t.deadline)} from {t.requester}: "
                                         f"{t.objective}")
        lines = [*result_lines, f"Time: {obs.clock}."]
        if self.idle_note:
            lines.append(self.idle_note)
            self.idle_note = ""
        if obs.notifications:
            lines.append("New notifications:")
            lines += notification_lines(obs.notifications)
        if obs.lessons:
            lines += lesson_lines(obs.lessons, obs.notifications)
        for h in obs.hints:  # tiered hints (docs/hints.md), one per task that just arrived
            lines.append(f"Hint for task {h.task_id} ({h.tier}):\n{h.text}")
        if obs.done:
            lines.append("The day is over.")
        parts: list[dict[str, Any]] = []
        for r, img in images:
            if self.opts.images:
                parts.append({"type": "text", "text": f"Image {img.path} returned by {r.name} (call {r.call_id}):"})
                parts.append(image_part(img))
            else:
                parts.append({"type": "text", "text": f"[image {img.path}: this agent does not send images]"})
        if parts:
            self._append({"role": "user", "content": [{"type": "text", "text": "\n".join(lines)}, *parts]},
                         has_images=self.opts.images)
        else:
            self._append({"role": "user", "content": "\n".join(lines)})

    # ---- context policy ---------------------------------------------------------------------------
    def _view(self) -> list[dict[str, Any]]:
        """The messages sent: old images dropped, oldest turns windowed out past the token budget."""
        keep_imgs = set(self.image_msgs[-self.opts.keep_images:]) if self.opts.keep_images else set()
        msgs = list(self.history)
        sizes = list(self.sizes)
        for i in self.image_msgs:
            if i not in keep_imgs:
                msgs[i] = self._without_images(msgs[i])
                sizes[i] = estimate_tokens(msgs[i])
        budget = self.opts.context_tokens
        head = 2  # system prompt and briefing: always sent
        if sum(sizes) <= budget or len(msgs) <= head + 1:
            return msgs
        pinned = self._pinned_note(0)
        room = budget - sum(sizes[:head]) - estimate_tokens(pinned)
        start = len(msgs) - 1
        total = sizes[start]
        # walk back while the turns fit; never start on a tool message (it must follow its call)
        best = start if msgs[start]["role"] != "tool" else None
        for i in range(len(msgs) - 2, head - 1, -1):
            total += sizes[i]
            if total > room:
                break
            if msgs[i]["role"] != "tool":
                best = i
        if best is None:  # the last turn alone is over budget: send it whole
            best = next(i for i in range(len(msgs) - 1, head - 1, -1) if msgs[i]["role"] != "tool")
        if best <= head:
            return msgs
        self.windowed = max(self.windowed, best - head)
        return [*msgs[:head], self._pinned_note(best - head), *msgs[best:]]

    def _pinned_note(self, omitted: int) -> dict[str, Any]:
        tasks = "\n".join(f"- {line}" for line in self.tasks.values()) or "- none yet"
        return {"role": "user", "content": f"[{omitted} earlier messages are left out to fit the context window. "
                                           f"Tasks assigned to you so far:\n{tasks}]"}

    @staticmethod
    def _without_images(message: dict[str, Any]) -> dict[str, Any]:
        parts = []
        for p in message["content"]:
            if p.get("type") == "image_url":
                parts.append({"type": "text", "text": "[image left out to save context; read the file again to "
                                                      "see it]"})
            else:
                parts.append(p)
        return {**message, "content": parts}

    # ---- the turn ----------------------------------------------------------------------------------
    def _budget_left(self) -> str | None:
        if self.steps >= self.opts.max_steps:
            return f"step budget of {self.opts.max_steps} model calls used up"
        limit = self.opts.max_episode_tokens
        if limit is not None and self.prompt_tokens + self.completion_tokens >= limit:
            return f"token budget of {limit} tokens used up"
        return None

    async def _call(self, messages: list[dict[str, Any]] | None = None, *, tools: bool = True,
                    max_tokens: int | None = None) -> ModelResponse:
        """One model call, counted in the budgets and usage: the conversation by default, or ``messages``
        (then without tools and stop sequences)."""
        request = ModelRequest(
            model=self.provider.model, messages=self._view() if messages is None else messages,
            tools=self._request_tools() if tools else None, temperature=self.opts.temperature, seed=self.seed,
            max_tokens=max_tokens or self.opts.max_tokens, stop=self._stop_sequences() if messages is None else None,
        )
        self.steps += 1
        # providers make replies safe already (ModelProvider.complete); a custom provider may not
        response = safe_response(await self.provider.complete(request, role="agent"))
        self.prompt_tokens += response.usage.prompt_tokens
        self.completion_tokens += response.usage.completion_tokens
        self.cost_usd += 0.0 if response.cached else response.cost_usd
        self.cached_calls += response.cached
        return response

    async def act(self, observation: Observation) -> list[ToolCall]:
        self._absorb(observation)
        if observation.done or self.stopped:
            return []
        for _ in range(self.opts.max_text_only + 1):
            why = self._budget_left()
            if why is not None:
                self.stopped = why
                return [ToolCall(name="end_day", arguments={}, id="budget-end")]
            response = await self._call()
            message, calls, feedback = self._decode(response)
            self._append(message)
            if calls:
                self.text_only_streak = 0
                self.pending = [c.id for c in calls]
                self.pending_names = {c.id: c.name for c in calls}
                return calls
            self.text_only_streak += 1
            if self.text_only_streak > self.opts.max_text_only:
                break
            self._append({"role": "user", "content": feedback or NUDGE})
        # no tool call after the nudges: let time pass to the next event rather than stall
        self.text_only_streak = 0
        self.idle_note = "You made no tool call, so time passed until the next event."
        return []


    async def reflect(self, feedback: MentorFeedback) -> list[dict[str, Any] | str]:
        """The learning protocol's reflection (with memory only): one model call showing the mentor feedback
        and the day's tasks, asking for lessons as JSON (parsed tolerantly: :func:`parse_lessons`). An API
        error raises (the runner records a ReflectionError episode); with the budget used up, no lessons."""
        if not self.memory or self._budget_left() is not None:
            return []
        tasks = "\n".join(f"- {line}" for line in self.tasks.values()) or "- none"
        messages = [{"role": "system", "content": self.system_prompt},
                    {"role": "user", "content": f"{REFLECT_PROMPT}\n\nToday's tasks:\n{tasks}\n\n{feedback.text}"}]
        response = await self._call(messages, tools=False, max_tokens=self.opts.reflect_max_tokens)
        return parse_lessons(response.text or "")


def unique_ids(calls: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """(id, name, arguments) with every id non-empty and distinct (results are matched by id)."""
    seen: set[str] = set()
    out = []
    for i, (cid, name, args) in enumerate(calls):
        new = cid or f"call_{i}"
        while new in seen:
            new = f"{new}_{i}"
        seen.add(new)
        out.append((new, name, args))
    return out


class LLMAgent(ChatAgent):
    """Native tool calling with the tools' JSON schemas."""

    name = "llm"

    def _request_tools(self) -> list[dict[str, Any]] | None:
        return [t.openai_schema() for t in self.tools]

    def _decode(self, response: ModelResponse) -> tuple[dict[str, Any], list[ToolCall], str | None]:
        calls = unique_ids([(c.id, c.name, c.arguments) for c in response.tool_calls])
        message: dict[str, Any] = {"role": "assistant", "content": response.text or None}
        if calls:
            # arguments as the model wrote them: the environment reports malformed JSON back to it
            message["tool_calls"] = [{"id": cid, "type": "function", "function": {"name": name, "arguments": args}}
                                     for cid, name, args in calls]
        elif not response.text:
            message["content"] = ""
        tool_calls = [ToolCall(name=name, arguments=args, id=cid) for cid, name, args in calls]
        return message, tool_calls, None

    def _result_messages(self, results: dict[str, ToolResult]) -> tuple[list[dict[str, Any]], list[str]]:
        out = []
        for cid in self.pending:
            r = results.get(cid)
            content = r.content if r is not None else "error: no result was returned for this call"
            if r is not None and r.images:
                content += f"\n[{len(r.images)} image(s) attached in the next message]"
            out.append({"role": "tool", "tool_call_id": cid, "content": content})
        return out, []
