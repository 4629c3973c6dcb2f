"""Each message check refuses one bad field exactly as the oracle does, the rest being sound.

A compiled check first tests all fields in one expression (exact types, no call) and walks
them one by one for the reason only when that fails, so a slip in the quick expression shows
only when every *other* field is sound: the random messages of
``test_replication_messages_oracle.py`` rarely have that shape. Here every kind starts from a
sound message, and each field in turn takes every hostile value and every good value of
``test_replication_messages_oracle.py`` (the others kept good); the shipped :func:`problem`
and the per-kind ``checks`` must both give the oracle's verdict, with the strings seen so far
remembered and with that memory cleared. Checked by hand: a quick client-id test that forgets
the set of known non-empty strings (so ``""`` passes) fails here and passed the random test.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from clobkit.replication import messages as new
from tests.replication import messages_oracle as old
from tests.replication.test_replication_messages_oracle import GOOD, HOSTILE, KINDS


def _sound(cls: type[Any]) -> dict[str, Any]:
    """Field values of a sound message of ``cls`` (a Prepare ships one entry ending at op)."""
    values = {f.name: GOOD[f.name][0] for f in dataclasses.fields(cls)}
    if "entries" in values:
        values["entries"] = GOOD["entries"][1]  # (entry 1)
        values["op"] = 1
        if "base_op" in values:
            values["base_op"] = 0
    if values.get("entry") is not None:
        values["op"] = values["entry"].op
    return values


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: c.__name__)
def test_one_bad_field_gets_the_oracles_verdict(cls: type[Any]) -> None:
    sound = _sound(cls)
    assert new.problem(cls(**sound)) is None
    for name in sound:
        for value in [*HOSTILE, *GOOD[name]]:
            values = {**sound, name: value}
            expected = old.problem(getattr(old, cls.__name__)(**values))
            for forget in (False, True):
                if forget:
                    new._SHORT.clear()
                message = cls(**values)
                assert new.problem(message) == expected, (name, value, forget)
                if forget:
                    new._SHORT.clear()
                assert new.checks[cls](message) == expected, (name, value, forget)


def test_every_kind_has_a_compiled_check() -> None:
    assert set(new.checks) == set(KINDS)
