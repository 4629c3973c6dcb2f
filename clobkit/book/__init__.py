"""The order book layer: market specs, commands, the matching state machine, its codec.

Everything here is pure and deterministic. A :class:`MarketSpec` converts prices and
quantities to integer ticks and lots; :class:`Place`, :class:`Cancel` and :class:`Modify`
are the commands replicas agree on (bytes via :func:`encode_command`); an
:class:`OrderBook` applies them in sequence-number order and reports an
:class:`ApplyResult`; an :class:`Exchange` routes commands to one book per market.

>>> from clobkit.book import MarketSpec, OrderBook
>>> book = OrderBook(MarketSpec("ACME", tick="0.01", lot=1))
>>> book.place("alice", "sell", price="100.50", qty=10).accepted
True
"""

from __future__ import annotations

from clobkit.book.codec import (
    decode_command,
    decode_result,
    describe_command,
    encode_command,
    encode_result,
)
from clobkit.book.commands import Cancel, Command, Modify, Place
from clobkit.book.exchange import Exchange
from clobkit.book.orderbook import OrderBook
from clobkit.book.results import REJECT_REASONS, ApplyResult, Fill, Order
from clobkit.book.spec import MarketSpec

__all__ = [
    "REJECT_REASONS",
    "ApplyResult",
    "Cancel",
    "Command",
    "Exchange",
    "Fill",
    "MarketSpec",
    "Modify",
    "Order",
    "OrderBook",
    "Place",
    "decode_command",
    "decode_result",
    "describe_command",
    "encode_command",
    "encode_result",
]
