"""``CommandResult``'s slot-filling ``__init__`` builds the same object the dataclass built.

Every committed write returns a :class:`~clobkit.sim.results.CommandResult`, so its
``__init__`` sets the three slots through their descriptors instead of the frozen dataclass's
``object.__setattr__``. This compares it with a twin built by the plain frozen-dataclass
``__init__`` (the class as it was): same field values (positional and keyword), signature,
``repr``, equality and hash (with each other, and unequal when a field differs), immutability,
``dataclasses.fields``/``replace``, and the attributes people read (prices in market units).
"""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from clobkit.book import ApplyResult, Fill, MarketSpec
from clobkit.sim.results import CommandResult

SPEC = MarketSpec("ACME", tick="0.01")
FILL = Fill(0, 2, 2, "ACME", 10050, 4, 2, 1, "bob", "alice", "buy")
RESULTS = [
    ApplyResult(True, None, 2, 2, 2, "filled", (FILL,), 0, 0),
    ApplyResult(True, None, 1, 1, 1, "resting", (), 10, 0),
    ApplyResult(False, "unknown_order", 3, 3, 9, "rejected", (), 0, 0),
]


@dataclasses.dataclass(frozen=True, slots=True)
class _Fields:
    result: ApplyResult
    op: int
    spec: MarketSpec


def _as_built_before(result: ApplyResult, op: int, spec: MarketSpec) -> CommandResult:
    """A CommandResult filled by the frozen dataclass ``__init__`` (the old construction)."""
    made = object.__new__(CommandResult)
    old_init = _Fields.__init__  # the same generated code: object.__setattr__ per field
    old_init(made, result, op, spec)  # type: ignore[arg-type]
    return made


def test_the_signature_is_the_dataclass_one() -> None:
    assert str(inspect.signature(CommandResult)) == str(inspect.signature(_Fields))
    assert [f.name for f in dataclasses.fields(CommandResult)] == ["result", "op", "spec"]


@pytest.mark.parametrize("result", RESULTS, ids=lambda r: r.status)
def test_same_object_as_the_dataclass_init(result: ApplyResult) -> None:
    new = CommandResult(result, 7, SPEC)
    old = _as_built_before(result, 7, SPEC)
    assert CommandResult(result=result, op=7, spec=SPEC) == new
    assert (new.result, new.op, new.spec) == (old.result, old.op, old.spec)
    assert new.result is result and new.spec is SPEC
    assert new == old and hash(new) == hash(old) and repr(new) == repr(old)
    assert new != CommandResult(result, 8, SPEC)
    assert (new.status, new.order_id, new.resting_qty, new.fill_prices, new.seq) == (
        old.status,
        old.order_id,
        old.resting_qty,
        old.fill_prices,
        old.seq,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        new.op = 9  # type: ignore[misc]
    assert dataclasses.replace(new, op=9).op == 9 and new.op == 7
    with pytest.raises(TypeError):
        CommandResult(result, 7)  # type: ignore[call-arg]
