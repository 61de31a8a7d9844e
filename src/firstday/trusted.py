"""Building internal pydantic models without validation, for the per-step hot path.

Validating a small model costs a few microseconds; an episode step builds several (trace events, the
tool result, the observation, notifications) from values the environment itself produced, already of
the right types. :func:`trusted` skips that validation. It is only for such values: anything that comes
from an agent (tool calls, their arguments) is validated where it enters.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

_new = object.__new__
_set = object.__setattr__


def trusted(cls: type[M], fields: dict[str, Any]) -> M:
    """An instance of ``cls`` holding ``fields`` as they are (not copied, not validated).

    ``fields`` must give every field of ``cls``, in declaration order (serialisation follows the order
    of the instance's ``__dict__``), with values of the declared types; ``cls`` must have no private
    attributes, extra fields or validators that change values. A test checks each use against the
    validated constructor.
    """
    obj = _new(cls)
    _set(obj, "__dict__", fields)
    _set(obj, "__pydantic_fields_set__", set(fields))
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", None)
    return obj
