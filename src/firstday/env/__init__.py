"""The environment: one day's world, tasks and tools, and the episode loop."""

from firstday.env.episode import Briefing, DayEnv, EnvConfig, Observation, TraceEvent, day_content
from firstday.env.loop import EpisodeResult, run_episode

__all__ = ["Briefing", "DayEnv", "EnvConfig", "EpisodeResult", "Observation", "TraceEvent", "day_content",
           "run_episode"]
