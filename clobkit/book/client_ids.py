"""Client order ids of live orders: ``order id -> client id`` and ``(user, client id) -> order id``.

A client order id (FIX ClOrdID) is the client's own name for an order, unique among that
user's *live* orders, so the index holds only live orders that have one: an order leaving
the book (cancelled, filled, cancelled by self-trade prevention) leaves the index too, and
its client id is free again. The index is empty unless clients use client ids, and the
book's hot paths test ``if client_ids:`` before touching it; :class:`ClientIds` is a
``dict`` (order id -> client id) so that test is a C-level length check, not a call.

>>> ids = ClientIds()
>>> ids.remember("alice", "bid-1", 7)
>>> ids.find("alice", "bid-1"), ids.get(7), ids.find("bob", "bid-1")
(7, 'bid-1', None)
>>> ids.forget(7, "alice"); bool(ids)
False
"""

from __future__ import annotations

__all__ = ["ClientIds"]


class ClientIds(dict[int, str]):
    """Order id -> client id of live orders, plus the reverse index. O(1) per operation."""

    __slots__ = ("_orders",)

    def __init__(self) -> None:
        super().__init__()
        self._orders: dict[tuple[str, str], int] = {}  # (user, client id) -> order id

    def find(self, user: str, client_order_id: str) -> int | None:
        """The live order id ``user`` calls ``client_order_id``, or ``None``."""
        return self._orders.get((user, client_order_id))

    def remember(self, user: str, client_order_id: str, order_id: int) -> None:
        """Index a resting order's client id (the caller checked it is free)."""
        assert (user, client_order_id) not in self._orders
        self._orders[(user, client_order_id)] = order_id
        self[order_id] = client_order_id

    def forget(self, order_id: int, user: str) -> None:
        """Drop the client id of an order leaving the book, if it has one."""
        client_order_id = self.pop(order_id, None)
        if client_order_id is not None:
            del self._orders[(user, client_order_id)]

    def _check(self, owner_of: dict[int, str]) -> None:
        """Assert both maps agree and name live orders of the right user."""
        assert len(self._orders) == len(self)
        for (user, cid), order_id in self._orders.items():
            assert owner_of[order_id] == user, "a client id maps to its user's order"
            assert self[order_id] == cid, "the two maps agree"
