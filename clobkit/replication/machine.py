"""The state machines a replica can drive: the protocol, a tiny test machine, and the book.

A replica is generic: it orders opaque command bytes and hands each
*committed* one to a :class:`StateMachine` exactly once, in op order, with the
primary-assigned timestamp. Anything deterministic fits: the same commands in
the same order give the same :meth:`StateMachine.digest` on every replica.

* :class:`KvMachine` is an append-only key/value machine (each command appends
  a value to a key's list and replies with the list's new length). It is small
  enough to reason about in protocol tests: a lost write is a missing value, a
  double apply a repeated one, and its list-append model is easy to check.
* :class:`BookMachine` adapts :class:`clobkit.book.Exchange`: payloads are
  encoded book commands (:func:`clobkit.book.encode_command`), replies encoded
  :class:`~clobkit.book.ApplyResult` s, and queries read fills, live orders,
  depth and single orders.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, Protocol, runtime_checkable

from clobkit.book import ApplyResult, Exchange, MarketSpec, decode_command, encode_result
from clobkit.book.codec import recent_commands
from clobkit.book.commands import Cancel, Modify, Place
from clobkit.errors import InvalidArgument

__all__ = ["BookMachine", "KvMachine", "StateMachine"]


def _empty_reply(_result: object) -> bytes:
    """The reply to an undecodable command (see :meth:`BookMachine.apply_split`)."""
    return b""


# The commands Exchange.apply routes (its own check, for BookMachine.apply_split's copy).
_COMMANDS = (Place, Cancel, Modify)


@runtime_checkable
class StateMachine(Protocol):
    """What a replica applies committed commands to.

    ``apply`` must be deterministic (no clock, no randomness: ``ts_us`` is
    the primary's timestamp carried in the log) and must not raise for a
    well-formed but refused command: it encodes the refusal in its reply.
    ``query`` must not change state. ``restore`` replaces the whole state.

    Optional: ``apply_split(op, ts_us, payload) -> (encode, result)``, applying like
    ``apply`` but leaving the reply unencoded (``encode(result)`` gives the bytes ``apply``
    returns). A replica uses it when the machine has it: a backup, which sends no reply,
    keeps the pair in its client table and never encodes (see
    :class:`~clobkit.replication.client_table.ClientRecord`).
    """

    def apply(self, op: int, ts_us: int, payload: bytes) -> bytes:
        """Apply the command ``payload`` committed at op ``op``; return the encoded reply."""
        ...

    def query(self, query: Any) -> Any:
        """Answer a read-only ``query``; raise ``InvalidArgument`` for a malformed one."""
        ...

    def snapshot(self) -> bytes:
        """The whole state as bytes (deterministic)."""
        ...

    def restore(self, data: bytes) -> None:
        """Replace the state with one produced by :meth:`snapshot`."""
        ...

    def digest(self) -> str:
        """A short hash of the state: equal digests <=> equal states (with high probability)."""
        ...


class KvMachine:
    """An append-only key/value state machine for protocol tests.

    A command is ``KvMachine.append(key, value)`` (bytes); applying it appends
    ``value`` to ``key``'s list and replies with the new length as ASCII
    digits. Queries: ``("get", key)`` -> tuple of values, ``("all",)`` ->
    dict of key -> tuple, ``("ops",)`` -> number of commands applied.
    Appends make every anomaly visible: a lost write is a missing value, a
    double apply a duplicate, a reordering a permuted list.

    >>> m = KvMachine()
    >>> m.apply(1, 0, KvMachine.append("x", "a")), m.apply(2, 0, KvMachine.append("x", "b"))
    (b'1', b'2')
    >>> m.query(("get", "x"))
    ('a', 'b')
    >>> m2 = KvMachine(); m2.restore(m.snapshot()); m2.digest() == m.digest()
    True
    """

    def __init__(self) -> None:
        self._data: dict[str, list[str]] = {}
        self._ops = 0
        self._last_op = 0

    @staticmethod
    def append(key: str, value: str) -> bytes:
        """Encode the command "append ``value`` to ``key``"."""
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidArgument(f"key and value must be str, got {key!r}, {value!r}")
        return json.dumps(["append", key, value]).encode()

    def apply(self, op: int, ts_us: int, payload: bytes) -> bytes:
        """Apply one command; a malformed one changes nothing and replies ``b"error"``. O(1)."""
        assert op > self._last_op, (op, self._last_op)  # ops arrive once, in order
        self._last_op = op
        try:
            verb, key, value = json.loads(payload.decode())
        except (ValueError, TypeError):
            return b"error"
        if verb != "append" or not isinstance(key, str) or not isinstance(value, str):
            return b"error"
        values = self._data.setdefault(key, [])
        values.append(value)
        self._ops += 1
        return str(len(values)).encode()

    def query(self, query: Any) -> Any:
        """Answer ``("get", key)``, ``("all",)`` or ``("ops",)``; else raise ``InvalidArgument``."""
        if isinstance(query, tuple) and len(query) == 2 and query[0] == "get":
            return tuple(self._data.get(str(query[1]), ()))
        if query == ("all",):
            return {k: tuple(v) for k, v in sorted(self._data.items())}
        if query == ("ops",):
            return self._ops
        raise InvalidArgument(f"query must be ('get', key), ('all',) or ('ops',), got {query!r}")

    def snapshot(self) -> bytes:
        """Canonical JSON of the state. O(state)."""
        return json.dumps([self._ops, self._last_op, sorted(self._data.items())]).encode()

    def restore(self, data: bytes) -> None:
        """Replace the state from :meth:`snapshot` bytes."""
        ops, last_op, items = json.loads(data.decode())
        self._ops, self._last_op = int(ops), int(last_op)
        self._data = {str(k): [str(x) for x in v] for k, v in items}

    def digest(self) -> str:
        """Hex BLAKE2b-128 of the snapshot, excluding bookkeeping of the last op number."""
        body = json.dumps([self._ops, sorted(self._data.items())]).encode()
        return hashlib.blake2b(body, digest_size=16).hexdigest()

    def __repr__(self) -> str:
        return f"KvMachine(keys={len(self._data)}, ops={self._ops})"


class BookMachine:
    """The order book as a replicated state machine, over :class:`~clobkit.book.Exchange`.

    Payloads are :func:`clobkit.book.encode_command` bytes; replies are
    :func:`clobkit.book.encode_result` bytes; a rejected command is a reply
    with ``accepted=False`` and changes nothing. Order ids default to the op
    number at which the order was placed. Queries:

    * ``("fills", market, user)`` (``user`` may be ``None``), optionally ``since_seq`` 4th;
    * ``("live_orders", market, user)``;
    * ``("depth", market, levels)``;
    * ``("order", market, order_id)`` (``None`` when unknown);
    * ``("digest",)``.

    >>> from clobkit.book import Place, decode_result, encode_command
    >>> m = BookMachine([MarketSpec("ACME")])
    >>> r = decode_result(m.apply(1, 5, encode_command(Place("ACME", "alice", "buy", 100, 3))))
    >>> r.accepted, r.order_id
    (True, 1)
    >>> [o.qty for o in m.query(("live_orders", "ACME", "alice"))]
    [3]
    """

    def __init__(self, specs: Iterable[MarketSpec] | Exchange) -> None:
        self._exchange = specs if isinstance(specs, Exchange) else Exchange(specs)

    @property
    def exchange(self) -> Exchange:
        """The underlying exchange (read it; mutate only through :meth:`apply`)."""
        return self._exchange

    def apply(self, op: int, ts_us: int, payload: bytes) -> bytes:
        """Decode and apply one command at seq ``op``. O(log levels + fills)."""
        encode, result = self.apply_split(op, ts_us, payload)
        return encode(result)

    def apply_deferred(self, op: int, ts_us: int, payload: bytes) -> Callable[[], bytes]:
        """Apply like :meth:`apply`, but return a function that encodes the reply: a backup,
        which sends no reply, never pays for the encoding (the result is immutable, so a
        later call gives the same bytes).

        >>> from clobkit.book import Place, encode_command
        >>> m = BookMachine([MarketSpec("ACME")])
        >>> reply = m.apply_deferred(1, 5, encode_command(Place("ACME", "al", "buy", 100, 3)))
        >>> reply() == reply()
        True
        """
        encode, result = self.apply_split(op, ts_us, payload)
        return partial(encode, result)

    def apply_split(
        self, op: int, ts_us: int, payload: bytes
    ) -> tuple[Callable[[Any], bytes], ApplyResult | None]:
        """Apply like :meth:`apply`, but return ``(encode, result)``: the reply is
        ``encode(result)`` (:func:`~clobkit.book.encode_result` of the
        :class:`~clobkit.book.ApplyResult`; an undecodable payload gives ``result=None``
        and ``b""``). This is what a replica calls for every committed command: no reply
        object is built, and a backup never encodes. O(log levels + fills).

        >>> from clobkit.book import Place, encode_command
        >>> m = BookMachine([MarketSpec("ACME")])
        >>> encode, result = m.apply_split(1, 5, encode_command(Place("ACME", "al", "buy", 100, 3)))
        >>> result.status, encode(result) == BookMachine([MarketSpec("ACME")]).apply(
        ...     1, 5, encode_command(Place("ACME", "al", "buy", 100, 3)))
        ('resting', True)
        >>> m.apply_split(2, 6, b"junk")
        (<function _empty_reply at ...>, None)
        """
        # (decode_command's memo first, one look-up: another replica decoded this entry)
        if type(payload) is bytes and payload in recent_commands:
            command = recent_commands[payload]
        else:
            try:
                command = decode_command(payload)
            except InvalidArgument:
                # an undecodable command is refused (it does not come from a client API)
                return _empty_reply, None
        # Exchange.apply, spelled out for what every replica applies (a decoded command of
        # a known market at the next seq): one frame fewer per command on every replica.
        # BookMachine is the exchange's replication adapter, so it reads the routing table
        # and advances last_seq itself; anything else takes Exchange.apply, which checks
        # and refuses as documented. tests/replication/test_replication_machine_split.py
        # proves the two paths give the same results, states and last_seq.
        exchange = self._exchange
        books, market = exchange._books, command.market
        if (
            type(command) in _COMMANDS
            and type(market) is str
            and market in books
            and type(op) is int
            and op > exchange._last_seq
        ):
            result = books[market].apply(command, op, ts_us)
            if result.accepted:
                exchange._last_seq = op
            return encode_result, result
        return encode_result, exchange.apply(command, op, ts_us)

    def query(self, query: Any) -> Any:
        """Answer one read-only query (see the class docstring); raises ``InvalidArgument``."""
        if not isinstance(query, tuple) or not query:
            raise InvalidArgument(f"query must be a non-empty tuple, got {query!r}")
        kind = query[0]
        if kind == "digest" and len(query) == 1:
            return self._exchange.digest()
        if len(query) < 2 or not isinstance(query[1], str):
            raise InvalidArgument(f"query must name a market second, got {query!r}")
        book = self._exchange.book(query[1])
        if kind == "fills" and len(query) in (3, 4):
            since = query[3] if len(query) == 4 else None
            return book.fills(user=query[2], since_seq=since)
        if kind == "live_orders" and len(query) == 3:
            return book.live_orders(user=query[2])
        if kind == "depth" and len(query) == 3:
            return book.depth(query[2])
        if kind == "order" and len(query) == 3:
            try:
                return book.order(query[2])
            except KeyError:
                return None
        raise InvalidArgument(f"unknown query {query!r}")

    def snapshot(self) -> bytes:
        """The exchange snapshot bytes. O(state)."""
        return self._exchange.snapshot()

    def restore(self, data: bytes) -> None:
        """Replace the exchange from snapshot bytes."""
        self._exchange = Exchange.restore(data)

    def digest(self) -> str:
        """The exchange digest."""
        return self._exchange.digest()

    def __repr__(self) -> str:
        return f"BookMachine({self._exchange!r})"
