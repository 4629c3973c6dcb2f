"""Client calls, the part every host shares: checking a call's arguments, building the book
command (or read query) and its history input, and turning a session's outcome into what
the caller gets back.

The simulated :class:`~clobkit.sim.cluster.Cluster` and the real-process
:class:`~clobkit.proc.ProcessCluster` both use these, so a call means the same in both:
:func:`build_command` and :func:`build_query` raise (changing nothing) for bad arguments;
:func:`settle` decodes an outcome once (the book's result, the recorded output, the error a
rejected order raises). Each host then records the acknowledgement its own way.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from operator import itemgetter
from typing import Any, NamedTuple

from clobkit.book import (
    ApplyResult,
    Cancel,
    MarketSpec,
    Modify,
    Place,
    decode_result,
)
from clobkit.book.names import check_user
from clobkit.book.records import (
    command_input,
    depth_output,
    fills_output,
    orders_output,
    write_output,
)
from clobkit.errors import ClobError, InvalidArgument, InvalidType, OrderRejected, Unavailable
from clobkit.replication.client import Outcome
from clobkit.replication.messages import Reply
from clobkit.replication.step import Message, Step
from clobkit.sim.results import Call, CommandResult, for_people

__all__ = [
    "CALL_ARGUMENTS",
    "NO_STEP",
    "READ_KINDS",
    "WRITE_KINDS",
    "ClientNode",
    "Settled",
    "build_command",
    "build_query",
    "read_output",
    "rejection",
    "settle",
]

WRITE_KINDS = ("place", "cancel", "modify")
_DECIMAL_MEMO_SIZE = 1024  # the distinct Decimal prices a build_command memo keeps
_PLAIN_PLACE = frozenset({"side", "price", "qty"})
# command_input()'s last six fields of a plain limit order: order_type, tif, stp,
# protection_price, post_only, order_id (no client order id).
_PLAIN_PLACE_TAIL = ("limit", "gtc", None, None, False, None)
READ_KINDS = ("fills", "live_orders", "depth")

#: The keyword arguments each kind of call takes (built once: submit() is on every call's path).
CALL_ARGUMENTS: dict[str, frozenset[str]] = {
    "place": frozenset(
        {
            "side",
            "price",
            "qty",
            "order_type",
            "tif",
            "order_id",
            "stp",
            "protection_price",
            "post_only",
            "client_order_id",
        }
    ),
    "cancel": frozenset({"order_id", "client_order_id"}),
    "modify": frozenset({"order_id", "price", "qty", "client_order_id"}),
    "fills": frozenset({"user"}),
    "live_orders": frozenset({"user"}),
    "depth": frozenset({"levels"}),
}


def build_command(
    spec: MarketSpec,
    kind: str,
    user: str,
    args: dict[str, Any],
    decimal_ticks: dict[Decimal, int] | None = None,
) -> tuple[Any, tuple[Any, ...]]:
    """Validate a write and build (book command, history input). Raises, changes nothing.

    ``decimal_ticks``: a caller's memo of the ``Decimal`` prices already converted for
    ``spec`` (``Decimal`` prices go through ``Fraction``, the slow general path; a cluster
    sees the same few prices again and again). Only conversions that succeeded are kept,
    and only for ``Decimal`` (equal ``Decimal`` values have equal ticks).

    >>> from decimal import Decimal
    >>> memo = {}
    >>> spec = MarketSpec("ACME", tick="0.01")
    >>> build_command(spec, "place", "al", {"side": "buy", "price": Decimal("1.5"), "qty": 2},
    ...               memo)[0].price, memo
    (150, {Decimal('1.5'): 150})
    """
    symbol = spec.symbol
    if kind == "place" and args.keys() <= _PLAIN_PLACE:
        # The common call (side, price and qty; every other field its default), in short.
        price = args.get("price")
        qty = args.get("qty")
        if qty is None:
            raise InvalidArgument("qty is required")
        # (_price_ticks(spec, price, decimal_ticks), its memo look-up inline)
        ticks = (
            decimal_ticks.get(price)
            if type(price) is Decimal and decimal_ticks is not None
            else None
        )
        if ticks is None and price is not None:
            ticks = _price_ticks(spec, price, decimal_ticks)
        lots = spec.qty_to_lots(qty, "qty")
        side = args.get("side")
        command = Place(symbol, user, side, ticks, lots)  # type: ignore[arg-type]
        # (command_input(command), inline for this plain limit order: every default field
        # in the recorded order; tests/sim/test_sim_submit_fast.py compares the two)
        return command, ("place", symbol, user, side, ticks, lots, *_PLAIN_PLACE_TAIL)
    if kind == "place":
        side = args.get("side")
        qty = args.get("qty")
        if qty is None:
            raise InvalidArgument("qty is required")
        order_type = args.get("order_type", "limit")
        price = args.get("price")
        ticks = None if price is None else _price_ticks(spec, price, decimal_ticks)
        lots = spec.qty_to_lots(qty, "qty")
        protection = args.get("protection_price")
        command = Place(
            symbol,
            user,
            side,  # type: ignore[arg-type]
            ticks,
            lots,
            order_type=order_type,
            tif=args.get("tif", "gtc"),
            order_id=args.get("order_id"),
            stp=args.get("stp"),
            protection_price=None
            if protection is None
            else spec.price_to_ticks(protection, "protection_price"),
            post_only=args.get("post_only", False),
            client_order_id=args.get("client_order_id"),
        )
        return command, command_input(command)
    if kind == "cancel":
        cancel = Cancel(symbol, user, args.get("order_id"), args.get("client_order_id"))
        return cancel, command_input(cancel)
    if kind == "modify":
        price = args.get("price")
        qty = args.get("qty")
        new_ticks = None if price is None else spec.price_to_ticks(price, "price")
        new_lots = None if qty is None else spec.qty_to_lots(qty, "qty")
        order_id: Any = args.get("order_id")
        modify = Modify(
            symbol,
            user,
            order_id,
            price=new_ticks,
            qty=new_lots,
            client_order_id=args.get("client_order_id"),
        )
        return modify, command_input(modify)
    raise AssertionError(kind)


def _price_ticks(spec: MarketSpec, price: object, memo: dict[Decimal, int] | None) -> int:
    """``spec.price_to_ticks(price, "price")``, through ``memo`` for a ``Decimal``."""
    if type(price) is not Decimal or memo is None:
        return spec.price_to_ticks(price, "price")
    known = memo.get(price)
    if known is None:
        known = spec.price_to_ticks(price, "price")
        if len(memo) >= _DECIMAL_MEMO_SIZE:
            memo.clear()
        memo[price] = known
    return known


def build_query(
    symbol: str, kind: str, args: dict[str, Any]
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """Validate a read and build (machine query, history input)."""
    if kind in ("fills", "live_orders"):
        user = args.get("user")
        if user is not None:
            check_user(user)
        recorded = "fills" if kind == "fills" else "orders"
        return (kind, symbol, user), (recorded, symbol, user)
    if kind == "depth":
        levels = args.get("levels", 10)
        if isinstance(levels, bool) or not isinstance(levels, int):
            raise InvalidType(f"levels must be an int, got {levels!r}")
        if levels < 1:
            raise InvalidArgument(f"levels must be >= 1, got {levels!r}")
        return ("depth", symbol, levels), ("depth", symbol, levels)
    raise AssertionError(kind)


def read_output(kind: str, value: Any) -> Any:
    """The history output of a read (the recorded form of :mod:`clobkit.book.records`)."""
    if kind == "fills":
        return fills_output(value)
    if kind == "live_orders":
        return orders_output(value)
    return depth_output(value)


class Settled(NamedTuple):
    """What a finished call gives back: ``outcome`` (``"ok"`` or ``"fail"``), the caller's
    ``value``, the history ``output``, the log ``op`` it was served at, and the ``error``
    the caller sees (a rejected order's :class:`~clobkit.errors.OrderRejected`). A named
    tuple (one is built per call)."""

    outcome: str
    value: Any
    output: Any
    op: int | None
    error: ClobError | None


def settle(call: Call, outcome: Outcome, spec: MarketSpec, *, people: bool = True) -> Settled:
    """Decode a session's ``ok``/``fail`` ``outcome`` for ``call`` (an ``unknown`` one is the
    host's to explain). A write's value is a :class:`~clobkit.sim.results.CommandResult`; a
    read's is in market units when ``people`` (else the book's ticks and lots). O(result).

    >>> from clobkit.replication.client import Outcome
    >>> from clobkit.sim.results import Call
    >>> call = Call("depth", "alice", ("depth", "ACME", 1), 0, 10, 0)
    >>> empty = {"bids": [], "asks": []}
    >>> outcome = Outcome(1, "read", "ok", empty, 3, "", 0, 9, 1)
    >>> done = settle(call, outcome, MarketSpec("ACME"))
    >>> done.outcome, done.op, done.output
    ('ok', 3, ((), ()))
    """
    assert outcome.status in ("ok", "fail"), outcome.status
    if outcome.status == "fail":
        error = Unavailable(
            f"{call.kind} by {call.client_id} was refused before it could apply: "
            f"{outcome.error or 'refused'}"
        )
        return Settled("fail", None, None, None, error)
    if call.kind in WRITE_KINDS:
        op = outcome.op
        if type(op) is not int:
            op = int(op or 0)
        result = decode_result(outcome.value)
        rejected = None if result.accepted else rejection(result)
        # (Settled(...) without the named tuple's __new__ frame: one per call)
        settled: Settled = _new_tuple(
            Settled, ("ok", CommandResult(result, op, spec), write_output(result), op, rejected)
        )
        return settled
    value = for_people(call.kind, outcome.value, spec) if people else outcome.value
    seen = None if outcome.op is None else int(outcome.op)
    return Settled("ok", value, read_output(call.kind, outcome.value), seen, None)


_new_tuple: Any = tuple.__new__
_handle_of = itemgetter(0)  # an Outcome's handle


def rejection(result: ApplyResult) -> ClobError | None:
    """The error a caller sees for the book's rejected ``result`` (what
    ``result.raise_for_reason()`` raises), or ``None`` if it raises nothing. O(1).

    >>> from clobkit.book import OrderBook
    >>> book = OrderBook(MarketSpec("ACME"))
    >>> rejection(book.apply(Cancel("ACME", "al", 7), 1, 0))
    UnknownOrder('unknown_order: no live order has this order id ...')
    """
    try:
        result.raise_for_reason()
    except OrderRejected as exc:
        return exc
    return None


#: The Step of a participant call that asks for nothing: no messages, events, delay, timer or
#: sync. Shared, so it cannot change: its lists are empty tuples (an append raises).
_NONE: Any = ()
NO_STEP: Step = Step(_NONE, _NONE, 0, None, _NONE, None)


class ClientNode:
    """A client session as a host participant: after each message or tick it hands every
    call whose outcome is known to ``resolve(call, outcome, now)``, in the order the calls
    were made (``pending`` maps the session's handles to their calls)."""

    def __init__(
        self,
        client_id: str,
        session: Any,
        resolve: Callable[[Call, Outcome, int], None],
    ) -> None:
        self.resolve = resolve
        self.client_id = client_id
        self.session = session
        self.pending: dict[Any, Call] = {}
        #: the simulator's host running this node (set by the cluster that adds it)
        self.host: Any = None

    def handle(self, message: Message, now: int) -> Step:
        session = self.session
        if type(message) is Reply and not session.finished:
            # The reply that ends a write (one per command), for a session that records no
            # trace: ClientSession.reply_quiet() takes it in one frame when it leaves nothing
            # to send, and the call resolves at once; the host gets the empty Step.
            outcome = session.reply_quiet(message, now)
            if outcome is not None:
                call = self.pending.pop(outcome.handle, None)
                if call is not None:
                    self.resolve(call, outcome, now)
                return NO_STEP
        step: Step = session.handle(message, now)
        finished = session.finished
        if finished:
            if len(finished) == 1:  # (self.poll(now), inline: a reply ends one call at most)
                outcome = finished.pop()
                call = self.pending.pop(outcome.handle, None)
                if call is not None:
                    self.resolve(call, outcome, now)
            else:
                self.poll(now)
        return step

    def tick(self, now: int) -> Step:
        session = self.session
        step: Step = session.tick(now)
        if session.finished:
            self.poll(now)
        return step

    def poll(self, now: int) -> None:
        """Resolve the pending calls whose outcomes the session recorded since the last poll
        (``session.finished``), oldest call first; outcomes of calls no longer pending (given
        up on by their deadline) are dropped. O(calls finished)."""
        finished = self.session.finished
        if len(finished) > 1:
            # Several ended in one step (a tick's timeouts): in the order they were made.
            # Handles grow with every call, so that is handle order.
            finished.sort(key=_handle_of)
        pending = self.pending
        while finished:
            # One at a time off the list: a callback that raises leaves the rest for the
            # next poll.
            outcome = finished.pop(0)
            call = pending.pop(outcome.handle, None)
            if call is not None:
                self.resolve(call, outcome, now)
