"""The cheap size checks of tool arguments agree with the exact measure they stand in for.

``_json_fits`` must answer exactly ``len(json.dumps(value, default=str)) <= limit``, and
``_flat_and_small`` may only say yes to arguments whose serialised length is within
``MAX_ARGUMENT_CHARS``. Both run on every tool call, so a wrong bound would either let oversized
arguments through or refuse valid ones.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import firstday.world.tools as tools_module
from firstday.world.tools import _flat_and_small, _json_fits

FUZZ = settings(max_examples=400, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# characters whose escapes are longest: controls, quotes, non-BMP (a surrogate pair), plus ordinary ones
texts = st.text(alphabet=st.sampled_from(["a", "é", "\"", "\\", "\n", "\x00", "😀", "中", " "]), max_size=30)
scalars = (st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers(-(10**20), 10**20)
           | texts)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
                           | st.dictionaries(texts, inner, max_size=4), max_leaves=20)


def _exact(value: Any) -> int:
    return len(json.dumps(value, default=str))


@FUZZ
@given(value=json_values, limit=st.integers(0, 400))
def test_json_fits_is_exactly_the_serialised_length_check(value: Any, limit: int) -> None:
    assert _json_fits(value, limit) == (_exact(value) <= limit)


@FUZZ
@given(args=st.dictionaries(texts, scalars, max_size=6), limit=st.integers(2, 600))
def test_flat_and_small_never_admits_arguments_over_the_limit(args: dict[str, Any], limit: int) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tools_module, "MAX_ARGUMENT_CHARS", limit)
        if _flat_and_small(args):
            assert _exact(args) <= limit


def test_flat_and_small_takes_the_usual_call_and_leaves_the_rest_to_the_full_checks() -> None:
    assert _flat_and_small({"path": "/docs/a.md", "line": 3, "draft": False, "note": None})
    assert not _flat_and_small({"items": [1, 2]})  # nested: the depth check must see it
    assert not _flat_and_small({"n": 10**30})  # a huge int: measured exactly
    assert not _flat_and_small(["a"])
    assert not _flat_and_small({1: "a"})
    assert not _flat_and_small({"text": "x" * tools_module.MAX_ARGUMENT_CHARS})


# the longest serialisations per item: the bounds must hold with equality-close values, at the limit
WORST_CASES: list[Any] = [
    "😀" * 25, "\x00" * 25, {"😀" * 5: "😀" * 5}, -1.2345678901234567e-308, -(10**15 - 1), [None, True, False],
    {"😀": -1.2345678901234567e-308}, {"\x00" * 3: -(10**15 - 1)}, ["😀" * 3, ["😀"], {"😀": ["😀"]}],
]


@pytest.mark.parametrize("value", WORST_CASES, ids=range(len(WORST_CASES)))
def test_json_fits_at_the_exact_limit(value: Any) -> None:
    n = _exact(value)
    assert _json_fits(value, n) and not _json_fits(value, n - 1)


@pytest.mark.parametrize("args", [{"😀" * 4: "😀" * 9}, {"\x00": -1.2345678901234567e-308}, {"😀" * 7: None},
                                  {"a": "😀" * 20, "😀": -(10**15 - 1)}])
def test_flat_and_small_at_the_exact_limit(args: dict[str, Any]) -> None:
    n = _exact(args)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tools_module, "MAX_ARGUMENT_CHARS", n - 1)
        assert not _flat_and_small(args)
