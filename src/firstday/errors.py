"""Error types. Every error a user can cause says what is wrong and how to fix it."""

from __future__ import annotations


class FirstdayError(Exception):
    """Base class for errors raised by firstday."""


class ConfigError(FirstdayError):
    """A spec, preset, option or file given by the user is invalid."""


class UnknownNameError(ConfigError):
    """A name (family, preset, agent, model provider, tool) is not registered. ``how_to_add`` says how to install
    or register one (for the kinds plug-ins can add)."""

    def __init__(self, kind: str, name: str, known: list[str], how_to_add: str = "") -> None:
        self.kind, self.name, self.known = kind, name, known
        listed = ", ".join(sorted(known)) if known else "none registered"
        kinds = kind[:-1] + "ies" if kind.endswith("y") else kind + "s"  # "family" -> "families"
        remedy = f"; {how_to_add}" if how_to_add else ""
        super().__init__(f"unknown {kind} {name!r}; known {kinds}: {listed}{remedy}")


def plugin_hint(kind: str, group: str, register: str) -> str:
    """How to add a name of ``kind`` that plug-ins can provide: install it, or register it in the process."""
    return (f"if another package provides this {kind}, install it (it registers under the '{group}' entry point "
            f"group); or register one in your own code with {register}")


class ToolError(FirstdayError):
    """A tool call was refused. The message is shown to the agent."""


class GenerationError(FirstdayError):
    """A family produced an invalid task instance (a bug in the family, not user input)."""


class DayFullError(GenerationError):
    """The day drawn so far leaves no room for this task (every slot or room it needs is taken). Not a defect:
    the day generator leaves the task out and lists it in the day's ``dropped``, as it does for a task whose
    deadline cannot be met."""


class SaveError(FirstdayError):
    """Finished episodes could not be saved in the run folder (a full disk, say): the run stops."""


class InfrastructureError(FirstdayError):
    """The environment could not do its part (e.g. the code sandbox could not start): not the agent's fault.

    The runner counts it as an *infrastructure* error only when the environment raised it while carrying
    out the agent's tool calls; the same class raised by the agent's own code is an agent error
    (docs/scoring.md, "Error attribution")."""


class CircuitOpen(FirstdayError):
    """A model endpoint failed too many episodes of a run in a row, so the run stopped instead of burning every
    episode's retries on it (finished episodes are saved; the CLI exits with code 3)."""
