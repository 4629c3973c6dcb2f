"""Proves ``json_line`` (the JSON-lines writer of histories, with json's C encoder built once)
writes exactly the text of ``json.dumps(value, ensure_ascii=False, separators=(",", ":"))``:
Hypothesis draws nested lists, tuples and str-keyed dicts of every JSON scalar (non-ASCII and
escaped strings, ints past 2**64, floats with NaN and infinities), and values json cannot
write must raise the same ``TypeError``, after which the writer still writes the same text."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clobkit.sim.history import ClientHistory
from clobkit.sim.trace import json_line


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**64, max_value=2**200)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.lists(inner, max_size=5).map(tuple)
        | st.dictionaries(st.text(max_size=5), inner, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(values)
def test_json_line_writes_what_json_dumps_writes(value: Any) -> None:
    assert json_line(value) == dumps(value)


@pytest.mark.parametrize("bad", [{1, 2}, b"x", object(), [1, {"a": {3}}]])
def test_what_json_cannot_write_raises_the_same_error_and_the_writer_carries_on(bad: Any) -> None:
    with pytest.raises(TypeError) as theirs:
        dumps(bad)
    with pytest.raises(TypeError) as ours:
        json_line(bad)
    assert str(ours.value) == str(theirs.value)
    assert json_line([bad is None, "é"]) == dumps([bad is None, "é"])


def test_a_history_written_with_it_is_the_text_json_dumps_gives() -> None:
    # ClientHistory.to_jsonl writes each row with json_line: the lines are json.dumps' lines.
    h = ClientHistory()
    i = h.invoke("ålice", ("place", "buy", 10, 'a"b\\'), 3)
    h.complete(i, "ok", [("fill", 2**70), {"k": {2, 1}}, b"\x01"], 9, hint=4)
    h.invoke("bob", ("fills", None), 5)
    for line in h.to_jsonl().splitlines():
        assert dumps(json.loads(line)) == line
