"""The environment: one day's world, tasks and tools, and the episode loop."""

from firstday.env.episode import Briefing, DayEnv, EnvConfig, Observation, day_content
from firstday.env.loop import EpisodeResult, run_episode
from firstday.env.trace import TraceEvent, events_of, parse_event, trace_schema_json

__all__ = ["Briefing", "DayEnv", "EnvConfig", "EpisodeResult", "Observation", "TraceEvent", "day_content",
           "events_of", "parse_event", "run_episode", "trace_schema_json"]
