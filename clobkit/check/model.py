"""Operations and sequential models: what the linearizability checker judges against.

A history is a list of :class:`Operation` records seen at the client boundary: who called,
with what input, when the call started and when it returned (simulated µs), and what the client
got back. A :class:`Model` is the sequential specification of the object those clients talk to:
``init()`` builds the initial state and ``step(state, input, output)`` says whether ``output`` is
what the object would answer in ``state`` and which state follows. The checker looks for one
order of the operations, consistent with real time, in which every step is legal.

States must be hashable (the checker memoises ``(linearized set, state)`` pairs), or the model
gives ``key(state)``, a compact hashable stand-in such as a digest, or ``equal(a, b)`` for
states that can only be compared. Steps must be pure: same state and input, same answer.

**The memo-key contract.** The checker treats two states with equal keys (or ``equal``
states) as one: it explores from the first and skips the second. That is sound only if no
future can tell them apart. So ``key`` must be a *complete* function of everything that
decides future outputs: if ``key(a) == key(b)`` then for every input and output,
``step(a, input, output)`` and ``step(b, input, output)`` agree on legality and lead to states
whose keys are equal again. A key may leave out what no output ever shows (a timestamp no
client compares) and must keep everything else; a key that leaves out something an output
depends on merges a state that could go on with one that cannot, and the checker may then
answer ``"illegal"`` for a linearizable history (a false alarm). The same holds for ``equal``.
``tests/check/test_check_model_keys.py`` checks the contract for every model shipped here.

An operation whose outcome is unknown (the client timed out) has ``return_=None``: it may have
taken effect at any moment after its call, or never, and its output was never seen. The checker
then calls ``step(state, input, UNKNOWN_OUTPUT)``; a model answers ``(True, next_state)`` for it
whenever the input could take effect at all. (A model that rejects ``UNKNOWN_OUTPUT`` only loses
the option of linearizing that operation, which is right for reads: an unseen read changes
nothing.)

The models shipped here are :func:`register_model` (one value, read and write) and
:func:`kv_model` (a map of registers, checked key by key).

>>> m = register_model()
>>> m.step(0, ("w", 3), None)
(True, 3)
>>> m.step(3, ("r", None), 2)
(False, 3)
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from clobkit.errors import MalformedHistory

__all__ = [
    "UNKNOWN_OUTPUT",
    "MalformedHistory",
    "Model",
    "Operation",
    "kv_model",
    "register_model",
]


class _UnknownOutput:
    """The type of :data:`UNKNOWN_OUTPUT` (a singleton)."""

    _instance: _UnknownOutput | None = None

    def __new__(cls) -> _UnknownOutput:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN_OUTPUT"

    def __reduce__(self) -> str:
        return "UNKNOWN_OUTPUT"


UNKNOWN_OUTPUT: Any = _UnknownOutput()
"""Passed to ``Model.step`` as the output of an operation whose outcome is unknown."""


@dataclass(frozen=True, slots=True, repr=False)
class Operation:
    """One client call as the client saw it.

    ``call`` and ``return_`` are simulated µs (ints) with ``call <= return_``. ``return_=None``
    means the outcome is unknown: the call may have taken effect at any time after ``call`` or
    never, and ``output`` is ignored.

    ``hint`` (optional int) says where the server placed the call: the op number a write
    committed at, or the op (commit) number whose state a read reflected. The checker first
    tries the order the hints give and keeps it only if it checks out (see
    :func:`~clobkit.check.check_operations`); a wrong hint costs time, never a verdict.

    >>> Operation(client_id=1, input=("r", None), call=5, output=1, return_=20).unknown
    False
    >>> Operation(client_id=0, input=("w", 1), call=0, output=None, return_=None).unknown
    True
    """

    client_id: Any
    input: Any
    call: int
    output: Any
    return_: int | None
    hint: int | None = None

    def __repr__(self) -> str:
        hint = "" if self.hint is None else f", hint={self.hint!r}"
        return (
            f"Operation(client_id={self.client_id!r}, input={self.input!r}, call={self.call!r}, "
            f"output={self.output!r}, return_={self.return_!r}{hint})"
        )

    @property
    def unknown(self) -> bool:
        """True when the client never learned the outcome (timed out)."""
        return self.return_ is None

    def validate(self) -> None:
        """Raise :class:`MalformedHistory` unless times are ints, ``call <= return_`` and
        ``hint`` is an int or None."""
        if not isinstance(self.call, int) or isinstance(self.call, bool):
            raise MalformedHistory(f"call must be an int (µs), got {self.call!r}")
        if self.return_ is not None:
            if not isinstance(self.return_, int) or isinstance(self.return_, bool):
                raise MalformedHistory(f"return_ must be an int (µs) or None, got {self.return_!r}")
            if self.return_ < self.call:
                raise MalformedHistory(
                    f"return_ must be >= call, got call={self.call} return_={self.return_}"
                )
        if self.hint is not None and (
            not isinstance(self.hint, int) or isinstance(self.hint, bool)
        ):
            raise MalformedHistory(f"hint must be an int or None, got {self.hint!r}")


StepFn = Callable[[Any, Any, Any], tuple[bool, Any]]
PartitionFn = Callable[[list[Operation]], Sequence[Sequence[Operation]]]


def _describe_operation_default(op: Operation) -> str:
    if op.unknown:
        return f"{op.input!r} by client {op.client_id!r} (outcome unknown)"
    return f"{op.input!r} by client {op.client_id!r} returned {op.output!r}"


@dataclass(frozen=True)
class Model:
    """A sequential specification: ``init() -> state`` and ``step(state, input, output)``.

    ``step`` returns ``(legal, next_state)``. Optional parts: ``partition(ops)`` splits a history
    into independent parts checked one by one (P-compositionality); ``equal(a, b)`` compares
    states (default ``==``); ``key(state)`` gives a compact hashable memo key (default: the
    state itself, which must then be hashable; it must obey the memo-key contract in the
    module docstring: equal keys, equal futures); ``describe_operation(op)`` and
    ``describe_state(state)`` word the checker's explanations; ``read_only(input)`` may say
    that an input never changes any state (a read): the checker then places such an operation
    as soon as it is legal instead of trying every position, which is sound only if the claim
    holds in every state (it is double-checked: a step that changed the state is not forced);
    ``runner()`` may return a fresh mutable replayer in the initial state,
    ``run(input, output) -> legal``, that the checker uses to verify a hinted order in one
    pass without keeping states (it must agree with ``init``/``step``; default: one built
    from them).

    >>> counter = Model(init=lambda: 0, step=lambda s, inp, out: (True, s + 1), name="counter")
    >>> counter
    Model('counter')
    """

    init: Callable[[], Any]
    step: StepFn
    partition: PartitionFn | None = None
    equal: Callable[[Any, Any], bool] | None = None
    key: Callable[[Any], Hashable] | None = None
    describe_operation: Callable[[Operation], str] | None = None
    describe_state: Callable[[Any], str] | None = None
    name: str = field(default="model")
    read_only: Callable[[Any], bool] | None = None
    runner: Callable[[], Callable[[Any, Any], bool]] | None = None

    def __post_init__(self) -> None:
        for attr in ("init", "step"):
            if not callable(getattr(self, attr)):
                raise MalformedHistory(f"{attr} must be callable, got {getattr(self, attr)!r}")
        optional = (
            "partition",
            "equal",
            "key",
            "describe_operation",
            "describe_state",
            "read_only",
            "runner",
        )
        for attr in optional:
            value = getattr(self, attr)
            if value is not None and not callable(value):
                raise MalformedHistory(f"{attr} must be callable or None, got {value!r}")

    def __repr__(self) -> str:
        return f"Model({self.name!r})"

    def new_runner(self) -> Callable[[Any, Any], bool]:
        """A fresh replayer ``run(input, output) -> legal`` in the initial state (``runner``
        if the model has one, else one built from ``init`` and ``step``).

        >>> run = register_model().new_runner()
        >>> run(("w", 2), None), run(("r", None), 2), run(("r", None), 0)
        (True, True, False)
        """
        if self.runner is not None:
            return self.runner()
        state = self.init()
        step = self.step

        def run(inp: Any, out: Any) -> bool:
            nonlocal state
            legal, new_state = step(state, inp, out)
            if legal:
                state = new_state
            return bool(legal)

        return run

    def operation_text(self, op: Operation) -> str:
        """Words for ``op`` (the model's ``describe_operation`` or a generic phrase)."""
        if self.describe_operation is not None:
            return self.describe_operation(op)
        return _describe_operation_default(op)

    def state_text(self, state: Any) -> str:
        """Words for ``state`` (the model's ``describe_state`` or ``repr``, cut to 80 chars)."""
        text = self.describe_state(state) if self.describe_state is not None else repr(state)
        return text if len(text) <= 80 else text[:77] + "..."


# -- the register ------------------------------------------------------------


def _register_step(state: Any, inp: Any, out: Any) -> tuple[bool, Any]:
    try:
        kind = inp[0]
    except (TypeError, IndexError, KeyError):
        kind = None  # not a tuple (None, a number...): rejected below, naming the input
    if kind == "w":
        return True, inp[1]
    if kind == "r":
        # An unknown read changes nothing, so accepting it never matters; accept for symmetry.
        return (out is UNKNOWN_OUTPUT or out == state), state
    if kind == "cas":
        if out is UNKNOWN_OUTPUT:
            return True, (inp[2] if state == inp[1] else state)
        swapped = state == inp[1]
        return out == swapped, (inp[2] if swapped else state)
    raise MalformedHistory(
        f"register input must be ('w', v), ('r', None) or ('cas', old, new), got {inp!r}"
    )


def _register_describe(op: Operation) -> str:
    kind = op.input[0] if isinstance(op.input, tuple) and op.input else op.input
    who = f"client {op.client_id}"
    if kind == "w":
        tail = " (outcome unknown)" if op.unknown else ""
        return f"write({op.input[1]!r}) by {who}{tail}"
    if kind == "r":
        return f"read by {who}" + (
            " (outcome unknown)" if op.unknown else f" returned {op.output!r}"
        )
    return _describe_operation_default(op)


def register_model(initial: Any = 0) -> Model:
    """A single read/write register starting at ``initial``.

    Inputs: ``("w", value)`` (output ignored), ``("r", None)`` (output: the value read) and
    ``("cas", expected, new)`` (output: ``True`` if it swapped). Values must be hashable.

    >>> from clobkit.check import check_operations
    >>> ops = [Operation(0, ("w", 1), 0, None, 10), Operation(1, ("r", None), 20, 0, 30)]
    >>> check_operations(register_model(), ops).verdict
    'illegal'
    """
    return Model(
        init=lambda: initial,
        step=_register_step,
        describe_operation=_register_describe,
        describe_state=lambda s: f"the register at {s!r}",
        name="register",
        read_only=lambda inp: isinstance(inp, tuple | list) and len(inp) > 0 and inp[0] == "r",
    )


# -- the key-value store -----------------------------------------------------


def _kv_step(state: Any, inp: Any, out: Any) -> tuple[bool, Any]:
    # After partitioning by key, a part's state is the value of its one key (None: absent).
    kind = inp[0]
    if kind == "put":
        return True, inp[2]
    if kind == "get":
        return (out is UNKNOWN_OUTPUT or out == state), state
    raise MalformedHistory(f"kv input must be ('put', k, v) or ('get', k, None), got {inp!r}")


def _kv_partition(ops: list[Operation]) -> list[list[Operation]]:
    parts: dict[Any, list[Operation]] = {}
    for op in ops:  # dicts keep first-seen order, so parts come out deterministically
        if not isinstance(op.input, tuple) or len(op.input) != 3:
            raise MalformedHistory(f"kv input must be a 3-tuple, got {op.input!r}")
        parts.setdefault(op.input[1], []).append(op)
    return list(parts.values())


def _kv_describe(op: Operation) -> str:
    kind, k, v = op.input
    who = f"client {op.client_id}"
    tail = " (outcome unknown)" if op.unknown else ""
    if kind == "put":
        return f"put({k!r}, {v!r}) by {who}{tail}"
    if op.unknown:
        return f"get({k!r}) by {who}{tail}"
    return f"get({k!r}) by {who} returned {op.output!r}"


def kv_model() -> Model:
    """A key-value map of registers, checked one key at a time (absent keys read as ``None``).

    Inputs: ``("put", key, value)`` (output ignored) and ``("get", key, None)`` (output: the
    value, or ``None`` if the key was never written). Keys and values must be hashable.

    >>> from clobkit.check import check_operations
    >>> ops = [Operation("a", ("put", "x", 1), 0, None, 10),
    ...        Operation("b", ("get", "y", None), 0, None, 10),
    ...        Operation("b", ("get", "x", None), 20, 1, 30)]
    >>> check_operations(kv_model(), ops).verdict
    'ok'
    """
    return Model(
        init=lambda: None,
        step=_kv_step,
        partition=_kv_partition,
        describe_operation=_kv_describe,
        describe_state=lambda s: f"the key at {s!r}",
        name="kv",
        read_only=lambda inp: inp[0] == "get",
    )
