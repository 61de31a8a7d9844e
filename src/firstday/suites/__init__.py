"""Suites: specs and presets, generation of days and scenarios, and the on-disk suite format."""

from firstday.suites.generate import generate_day, generate_scenario, generate_suite, scenario_hash
from firstday.suites.spec import PRESETS, Day, Scenario, SuiteManifest, SuiteSpec, preset
from firstday.suites.store import GenerationSummary, Suite, load_spec_file, load_suite, save_suite, write_suite

__all__ = [
    "PRESETS", "Day", "GenerationSummary", "Scenario", "Suite", "SuiteManifest", "SuiteSpec", "generate_day",
    "generate_scenario", "generate_suite", "load_spec_file", "load_suite", "preset", "save_suite", "scenario_hash",
    "write_suite",
]
