"""Values from agents and models made safe to keep, show and save as UTF-8 JSON.

Anything an agent or a model sends may hold what JSON or UTF-8 cannot: lone surrogates (JSON
``"\\ud800"`` decodes to one), bytes, arbitrary objects, cycles, NaN, integers of thousands of digits,
nesting thousands deep. Saved in a trace, any of them would make the episode unsaveable. Three helpers:

* :func:`safe_text` - a string with every lone surrogate replaced by U+FFFD (other text unchanged);
  used once where text from an agent or a model enters the environment;
* :func:`checked_json` - a tool call's arguments as a JSON value (strings made safe), or
  :class:`NotJSON` saying what is wrong: strict, for what the tools act on;
* :func:`json_safe` - any value coerced into a JSON value that can always be saved (unknown objects
  become short descriptions): lenient, for what is only recorded (agent info, refused arguments) and
  for the saver's last line of defence.

All three are iterative or depth-bounded: none of them can raise ``RecursionError``.
"""

from __future__ import annotations

import math
import re
import traceback
from typing import Any

REPLACEMENT = "\ufffd"
_SURROGATES = re.compile("[\ud800-\udfff]")
#: integers beyond this many decimal digits are refused (JSON readers lose them; str() of 4,300+ digits raises)
MAX_INT_DIGITS = 100
_MAX_INT = 10**MAX_INT_DIGITS


def safe_text(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD, so it encodes as UTF-8; a str subclass
    comes back as a plain str. Text without surrogates is returned as it is (the same object)."""
    if type(text) is not str:
        text = str.__str__(text)  # the base method: a subclass's own __str__ is never called
    if not needs_care(text):
        return text
    return _SURROGATES.sub(REPLACEMENT, text)


def needs_care(text: str) -> bool:
    """Whether ``text`` (a plain str) holds a lone surrogate: O(1) for ASCII text (the usual case);
    otherwise the UTF-8 encoder finds out (several times faster than a regular expression)."""
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def type_name(value: object) -> str:
    """The name of ``value``'s type, safe to show (a metaclass could make ``__name__`` anything)."""
    try:
        name = type.__dict__["__name__"].__get__(type(value))
    except Exception:
        return "?"
    return safe_text(name)[:80] if isinstance(name, str) else "?"


class NotJSON(ValueError):
    """Tool-call arguments that are not plain JSON; the message says what is wrong, for the agent."""


def checked_json(value: Any, *, max_depth: int, max_nodes: int, max_chars: int) -> Any:
    """``value`` if it is plain JSON (exact str, int, float, bool, None, list, tuple, dict with str keys),
    with lone surrogates replaced in its strings (keys too; str subclasses become str); else
    :class:`NotJSON`. Limits: lists and dicts nested at most ``max_depth`` levels, at most ``max_nodes``
    values in all, at most ``max_chars`` characters in all its strings and keys (each takes at least that
    many characters of JSON; a bound that also keeps the walk linear), finite floats, integers of at most
    ``MAX_INT_DIGITS`` digits.

    The walk is iterative and checks the depth before going deeper, so a cyclic or 10,000-deep value
    is refused without recursion; the node budget bounds shared sub-values (a DAG that would unfold
    into billions of values). A value needing no change is returned as it is (no copy).
    """
    dirty = False  # a string must be replaced: rebuild (bounded by the checks, so recursion is safe)
    nodes = chars = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        v, depth = stack.pop()
        nodes += 1
        if nodes > max_nodes:
            raise NotJSON(f"arguments too large (more than {max_nodes} values)")
        t = type(v)
        if t is str:
            chars += len(v)
            if chars > max_chars:
                raise NotJSON(f"arguments too large (more than {max_chars} characters of text)")
            dirty = dirty or needs_care(v)
        elif v is None or t is bool:
            pass
        elif t is int:
            if not -_MAX_INT < v < _MAX_INT:
                raise NotJSON(f"arguments hold an integer of more than {MAX_INT_DIGITS} digits")
        elif t is float:
            if not math.isfinite(v):
                raise NotJSON(f"arguments hold the number {v!r} (NaN and infinities are not JSON)")
        elif t is dict or t is list or t is tuple:
            if depth >= max_depth:
                raise NotJSON(f"arguments are nested too deeply ({max_depth} levels at most)")
            if nodes + len(stack) + len(v) > max_nodes:  # every item will be counted: refuse before walking them
                raise NotJSON(f"arguments too large (more than {max_nodes} values)")
            if t is dict:
                for k in v:
                    if type(k) is not str:
                        if not issubclass(type(k), str):
                            raise NotJSON(f"arguments hold a key of type {type_name(k)} (object keys must be strings)")
                        chars += str.__len__(k)
                        if chars > max_chars:
                            raise NotJSON(f"arguments too large (more than {max_chars} characters of text)")
                        dirty = True
                    else:
                        chars += len(k)
                        if chars > max_chars:
                            raise NotJSON(f"arguments too large (more than {max_chars} characters of text)")
                        dirty = dirty or needs_care(k)
                stack.extend((x, depth + 1) for x in v.values())
            else:
                stack.extend((x, depth + 1) for x in v)
        elif issubclass(t, str):  # (isinstance could call a hostile __class__)
            chars += str.__len__(v)
            if chars > max_chars:
                raise NotJSON(f"arguments too large (more than {max_chars} characters of text)")
            dirty = True
        else:
            raise NotJSON(f"arguments hold a value of type {type_name(v)} (only strings, numbers, booleans, "
                          "null, lists and objects can be sent)")
    return _rebuilt(value) if dirty else value


def _rebuilt(v: Any) -> Any:
    """A checked value with its strings made safe (recursion bounded by the depth check)."""
    t = type(v)
    if t is dict:
        return {safe_text(k): _rebuilt(x) for k, x in v.items()}
    if t is list or t is tuple:
        return [_rebuilt(x) for x in v]
    if issubclass(t, str):
        return safe_text(v)
    return v


#: limits of :func:`json_safe`'s output: deeper parts, further items and longer strings are cut
SAFE_DEPTH = 64
SAFE_NODES = 100_000
SAFE_CHARS = 1_000_000


def json_safe(value: Any, *, max_chars: int = SAFE_CHARS, max_depth: int = SAFE_DEPTH,
              max_nodes: int = SAFE_NODES) -> Any:
    """Any value as a JSON value that serialises without fail: strings made safe (and cut at
    ``max_chars``), dict keys as strings, tuples and sets as lists, NaN and infinities as None, huge
    integers, bytes and other objects as a short description; parts nested deeper than ``max_depth``
    and values past ``max_nodes`` are replaced by a marker. Never raises (a value whose repr fails is
    described by its type) and never recurses deeper than ``max_depth``."""
    budget = [max_nodes]
    return _coerce(value, max_depth, budget, max_chars)


def _coerce(v: Any, depth: int, budget: list[int], max_chars: int) -> Any:
    """``depth``: the levels still allowed below this value."""
    budget[0] -= 1
    if budget[0] < 0:
        return "[left out: too many values]"
    t = type(v)
    if t is str:
        return safe_text(v if len(v) <= max_chars else v[:max_chars] + "[cut]")
    if v is None or t is bool:
        return v
    if t is int:
        return v if -_MAX_INT < v < _MAX_INT else f"[integer of {v.bit_length()} bits]"
    if t is float:
        return v if math.isfinite(v) else None
    if issubclass(t, dict | list | tuple | set | frozenset):  # by type: isinstance could call a hostile __class__
        if depth <= 0:
            return "[left out: nested too deeply]"
        try:
            if issubclass(t, dict):
                items = list(dict.items(v))  # the base methods: a subclass's overrides are not called
                return {_key(k, max_chars): _coerce(x, depth - 1, budget, max_chars) for k, x in items}
            seq = list.copy(v) if issubclass(t, list) else list(tuple.__iter__(v)) if issubclass(t, tuple) else list(v)
            return [_coerce(x, depth - 1, budget, max_chars) for x in seq]
        except Exception:
            return f"[unreadable {type_name(v)}]"
    if issubclass(t, str):
        return _coerce(str.__str__(v), depth, budget, max_chars)
    return describe(v, min(max_chars, 200))


def _key(k: Any, max_chars: int) -> str:
    if issubclass(type(k), str):
        text = str.__str__(k)
        return safe_text(text[:max_chars])
    return describe(k, min(max_chars, 200))


def describe(v: Any, max_chars: int = 200) -> str:
    """A short printable description of an object (its repr, cut), never an exception."""
    try:
        text = repr(v)
        if not isinstance(text, str):
            raise TypeError
        text = str.__str__(text)
    except Exception:
        return f"[{type_name(v)} object]"
    return safe_text(text if len(text) <= max_chars else text[:max_chars] + "...")


def exception_text(exc: BaseException, limit: int = 4_000) -> str:
    """``"Type: message"`` of an exception raised by an agent's code, safe to save and show: its
    ``__str__`` may fail, return a non-string, hold lone surrogates or be enormous."""
    try:
        message = safe_text(str(exc))
    except Exception:
        message = "[the exception's message could not be read]"
    text = f"{type_name(exc)}: {message}" if message else type_name(exc)
    if len(text) > limit:
        text = text[:limit] + "[cut]"
    return safe_text(text)


def traceback_text(limit: int = 5) -> str:
    """The traceback of the exception being handled, safe to save (formatting an agent's exception may
    itself fail)."""
    try:
        return safe_text(traceback.format_exc(limit=limit))
    except Exception:
        return "[the traceback could not be formatted]"
