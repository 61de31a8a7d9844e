"""A Gymnasium environment over firstday's days, for training agents (docs/gym.md).

``FirstdayEnv`` is one working day per episode, chosen from a suite: ``reset`` picks a (scenario,
day) — with ``np_random`` seeded by ``reset(seed=...)``, or as ``options={"scenario": ..., "day": ...}``
— and returns the first observation; each ``step`` takes the turn's tool calls and returns the next
observation. Observations and actions are JSON text, as a chat model reads and writes them:

* an observation is :class:`firstday.env.Observation` as JSON (clock, notifications, tool results,
  lessons, hints, done);
* an action is a JSON list of tool calls ``[{"name": "read_file", "arguments": {"path": ...}}]`` (a
  single call object, a list of dicts or of :class:`ToolCall` are accepted too). An action that is
  not valid is answered like any malformed call: an error result that costs a minute, never a crash.

The reward is sparse: 0 on every step, and the day's checkpoint score (in [0, 1], on-time work only)
when the day ends, with the whole score card in ``info["score"]``. ``terminated`` means the working
day ended; ``truncated`` that ``EnvConfig.max_turns`` was reached. With memory on
(``EnvConfig(memory=True)``), ``info["memory"]`` at the end holds the notebook to carry into the
scenario's next day (``reset(options={"memory": ...})``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, SupportsFloat

from firstday.env.episode import DayEnv, EnvConfig
from firstday.env.memory import Memory
from firstday.errors import ConfigError
from firstday.jsonsafe import describe, exception_text
from firstday.suites.spec import Day, Scenario
from firstday.world.tools import ToolCall

try:
    import gymnasium
    from gymnasium import spaces
except ImportError:  # pragma: no cover - exercised only without the extra
    raise ImportError("the Gymnasium environment needs gymnasium: pip install 'firstday[gym]'") from None

ENV_ID = "firstday/Day-v0"
MAX_TEXT = 50_000_000  # characters: an observation with images (base64) stays far below this


class JsonText(spaces.Space[str]):
    """Any JSON text up to ``max_length`` characters (Gymnasium's ``Text`` space limits the charset)."""

    def __init__(self, max_length: int = MAX_TEXT, seed: int | None = None) -> None:
        super().__init__(shape=None, dtype=None, seed=seed)
        self.max_length = max_length

    def contains(self, x: Any) -> bool:
        if not isinstance(x, str) or len(x) > self.max_length:
            return False
        try:
            json.loads(x)
        except ValueError:
            return False
        return True

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        return "[]"

    @property
    def is_np_flattenable(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"JsonText(max_length={self.max_length})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JsonText) and other.max_length == self.max_length


class ToolCallsSpace(JsonText):
    """Actions: a JSON list of tool calls. ``sample()`` draws one call of a known tool without arguments
    (most are refused for missing arguments: random actions exercise the error paths)."""

    def __init__(self, tool_names: Sequence[str], seed: int | None = None) -> None:
        super().__init__(seed=seed)
        self.tool_names = list(tool_names)

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        name = self.tool_names[int(self.np_random.integers(len(self.tool_names)))]
        return json.dumps([{"name": name, "arguments": {}}])


def parse_action(action: Any) -> list[ToolCall]:
    """The tool calls of an action; what cannot be read becomes one call the toolbox refuses with a clear
    error (so a malformed action costs a minute, as a malformed call does)."""
    raw = action
    try:
        if isinstance(action, str):
            action = json.loads(action) if action.strip() else []
        if isinstance(action, ToolCall | dict):
            action = [action]
        if not isinstance(action, list | tuple):
            raise ValueError("an action is a list of tool calls")
        return [a if isinstance(a, ToolCall) else ToolCall.model_validate(a) for a in action]
    except (ValueError, TypeError, RecursionError) as exc:  # (RecursionError: JSON text nested thousands deep)
        detail = (exception_text(exc).partition(": ")[2].splitlines() or [""])[0][:200]
        return [ToolCall(name="invalid_action", arguments={"action": describe(raw, 500), "problem": detail})]


class FirstdayEnv(gymnasium.Env[str, str]):
    metadata = {"render_modes": ["ansi"]}  # noqa: RUF012  (an instance attribute in gymnasium.Env)

    def __init__(self, suite: str | Path | Sequence[Scenario] | None = None, *, preset: str = "smoke",
                 suite_seed: int = 0, config: EnvConfig | None = None, render_mode: str | None = None) -> None:
        """``suite``: a suite folder, a list of scenarios, or None for the named ``preset`` generated with
        ``suite_seed``. ``config``: the environment settings (text-only, hints, memory, ...)."""
        if render_mode not in (None, "ansi"):
            raise ConfigError(f"render_mode {render_mode!r}: only 'ansi' (text) is supported")
        self.render_mode = render_mode
        self.config = config or EnvConfig()
        self.scenarios = self._load(suite, preset, suite_seed)
        self.days: list[tuple[Scenario, Day]] = [(s, d) for s in self.scenarios for d in s.days]
        if not self.days:
            raise ConfigError("the suite has no days")
        probe = DayEnv(*self.days[0], self.config)
        self.tool_specs = probe.tools.specs
        self.observation_space = JsonText()
        self.action_space = ToolCallsSpace([t.name for t in self.tool_specs])
        self.env: DayEnv | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last = ""

    @staticmethod
    def _load(suite: str | Path | Sequence[Scenario] | None, preset: str, seed: int) -> list[Scenario]:
        from firstday.suites import generate_suite, load_suite
        from firstday.suites import preset as make_preset

        if suite is None:
            return generate_suite(make_preset(preset, seed))
        if isinstance(suite, str | Path):
            loaded = load_suite(suite)
            return [loaded.scenario(sid) for sid in loaded.scenario_ids]
        return list(suite)

    def _pick(self, options: dict[str, Any]) -> tuple[Scenario, Day]:
        sid, day = options.get("scenario"), options.get("day")
        if sid is None and day is None:
            return self.days[int(self.np_random.integers(len(self.days)))]
        for s, d in self.days:
            if (sid is None or s.scenario_id == sid) and (day is None or d.day_index == day):
                return s, d
        raise ConfigError(f"no day {day!r} of scenario {sid!r} in this suite; scenarios: "
                          + ", ".join(s.scenario_id for s in self.scenarios[:10]))

    def _settle(self, env: DayEnv, obs: Any) -> Any:
        if env.llm_colleagues is None:
            return obs
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(env.settle(obs))

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        options = dict(options or {})
        scenario, day = self._pick(options)
        memory = options.get("memory")
        if memory is not None and not isinstance(memory, Memory):
            memory = Memory.model_validate(memory)
        self.close()
        self.env = env = DayEnv(scenario, day, self.config, memory=memory)
        briefing = env.briefing()
        obs = self._settle(env, env.reset())
        self._last = obs.model_dump_json()
        info = {"scenario_id": scenario.scenario_id, "day_index": day.day_index,
                "briefing": briefing.model_dump(mode="json"),
                "tools": [t.openai_schema() for t in briefing.tools]}
        return self._last, info

    def step(self, action: Any) -> tuple[str, SupportsFloat, bool, bool, dict[str, Any]]:
        env = self.env
        if env is None:
            raise RuntimeError("call reset() before step()")
        obs = self._settle(env, env.step(parse_action(action)))
        self._last = obs.model_dump_json()
        reward, info = 0.0, {"time": obs.time, "turns": env.turns}
        if obs.done:
            card = env.score_card or env.score()
            reward = card.metrics.score or 0.0
            info["score"] = card.model_dump(mode="json")
            after = env.memory_after()
            if after is not None:
                info["memory"] = after.model_dump(mode="json")
        return self._last, reward, obs.done and not obs.truncated, obs.truncated, info

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        return self._last

    def close(self) -> None:
        if self.env is not None and self.env.llm_colleagues is not None and self._loop is not None:
            self._loop.run_until_complete(self.env.aclose())
        self.env = None


gymnasium.register(id=ENV_ID, entry_point="firstday.env.gym:FirstdayEnv")
