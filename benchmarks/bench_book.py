"""Order book throughput and memory: clobkit's OrderBook against a minimal reference engine and PyPI peers.

Workload (seeded): passive limit posts 1..50 ticks behind a random-walking mid (~59 %),
cancels of random live orders (~31 %), aggressive limit orders priced through 1-3 opposite
levels with a quantity up to what those levels hold (~10 %); 100 users. After a warm-up of
6,000 posts, a cancel turns into a post with probability 1 - resting/6,000, which keeps
the book at ~5,500 resting orders (the nominal 55/35/10 mix would drain it). Posts can
cross too when the mid has moved, so about 18 % of all ops trade. The workload is
generated once by running the reference engine, so every cancel targets a live order and
the reference fills are the ground truth every engine is checked against.

Engines, in one process:

* ``clobkit``: ``OrderBook.apply(command, seq, ts_us)`` with prebuilt commands (the
  replica's hot path: validation, results, column-wise fill log included).
* ``clobkit-apply-built``: the same, but each ``Place``/``Cancel`` is built (and so
  validated) inside the timed loop, as a replica decoding its log or a script does.
* ``clobkit-public``: what a user calls: ``book.place(user, side, price="1000.50",
  qty=5)`` and ``book.cancel(user, order_id)`` on a market with tick ``0.01``, prices as
  the strings a person types (parsing, validation, the result's ``raise_for_reason``).
* ``clobkit-public-int``: the same calls with ``int`` prices on a market whose tick is 1
  (``price=100050``), the other type a person types.
* ``reference``: the minimal engine below (sorted price list, dict price -> deque, dict
  id -> order; no validation, fills kept as 4-tuples).
* PyPI peers, each behind a small adapter, skipped with a reason if unavailable:
  ``fastlob``, ``cython-orderbook`` (compiled with Cython), ``lightmatchingengine``,
  ``pyorderbook``.

Timing: every engine run is paired with an adjacent reference run (alternating which goes
first) and "x reference" is the median of the paired ratios; clobkit gets 2R+1 pairs, the
peers R. ops/s are medians of each engine's own runs. Runs are timed in process CPU time
(``time.process_time``) by default: on a shared VM a wall-clock run also counts the time
the process sat descheduled behind other jobs, which swung paired ratios by 2x here;
``--clock wall`` uses ``time.perf_counter`` instead.

Memory: tracemalloc over 100,000 resting orders, every input (commands, and the sequence
numbers that become clobkit's order ids, like the reference's prebuilt id ints) built before
tracing starts; ``bytes_per_resting_order_seq_ints_traced`` repeats the old measurement,
which made clobkit's sequence-number ints while tracing.

JSON keys (besides rates and peers): ``ratio_to_reference`` (prebuilt commands),
``ratio_apply_built``, ``ratio_public_api`` (string prices), ``ratio_public_api_int``,
``bytes_per_resting_order``; and the floor of the built path: ``build_ns`` (CPU ns to build
one command with the real validated ``Place``/``Cancel`` and with the cheapest unchecked
constructs: a namedtuple class, a ``__slots__`` class, a function returning a tuple),
``build_budget_ns_at_0_6`` (what a 0.6 built ratio leaves for building, given the prebuilt
op) and ``reference_ns_per_op``. ``--run-only "build:<construct>"`` runs one of those loops
(``--ops`` builds) for instruction counts.

Usage: ``python benchmarks/bench_book.py [--quick] [--json PATH] [--ops N] [--repeats R]
[--clock cpu|wall] [--no-peers] [--bytecodes N] [--run-only PATH [--setup-only]]``
(``--no-peers``: clobkit and the reference only, for A/B runs of two trees; ``--bytecodes
N``: also the Python bytecodes each path executes per op over the first N ops, a
load-independent count, JSON key ``bytecodes_per_op``; ``--run-only PATH``: prepare one path
on the first ``--ops`` ops, run it once and exit, for instruction counts under valgrind).
"""

from __future__ import annotations

import argparse
import bisect
import gc
import json
import os
import random
import statistics
import sys
import time
import tracemalloc
from collections import deque, namedtuple
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from clobkit.book import Cancel, MarketSpec, OrderBook, Place

SYMBOL = "ACME"
TARGET_RESTING = 6_000

# An op: ("post"|"take", order_id, user, is_buy, price_ticks, qty_lots) or ("cancel", order_id).
Op = tuple[Any, ...]
Fill4 = tuple[int, int, int, int]  # (taker_order_id, maker_order_id, price_ticks, qty_lots)


# -- the minimal reference engine ------------------------------------------------------


class RefOrder:
    __slots__ = ("is_buy", "order_id", "price", "qty", "user")

    def __init__(self, order_id: int, user: str, is_buy: bool, price: int, qty: int) -> None:
        self.order_id = order_id
        self.user = user
        self.is_buy = is_buy
        self.price = price
        self.qty = qty


class ReferenceEngine:
    """Price-time matching with the simplest fast structures; no validation, no results."""

    def __init__(self) -> None:
        self.bid_prices: list[int] = []  # ascending; best bid last
        self.ask_prices: list[int] = []  # ascending; best ask first
        self.bids: dict[int, deque[RefOrder]] = {}
        self.asks: dict[int, deque[RefOrder]] = {}
        self.orders: dict[int, RefOrder] = {}
        self.fills: list[Fill4] = []

    def place(self, order_id: int, user: str, is_buy: bool, price: int, qty: int) -> None:
        fills = self.fills
        orders = self.orders
        if is_buy:
            prices, levels = self.ask_prices, self.asks
            while qty and prices and prices[0] <= price:
                p = prices[0]
                level = levels[p]
                while qty and level:
                    maker = level[0]
                    trade = qty if qty < maker.qty else maker.qty
                    fills.append((order_id, maker.order_id, p, trade))
                    qty -= trade
                    maker.qty -= trade
                    if not maker.qty:
                        level.popleft()
                        del orders[maker.order_id]
                if not level:
                    del levels[p]
                    prices.pop(0)
        else:
            prices, levels = self.bid_prices, self.bids
            while qty and prices and prices[-1] >= price:
                p = prices[-1]
                level = levels[p]
                while qty and level:
                    maker = level[0]
                    trade = qty if qty < maker.qty else maker.qty
                    fills.append((order_id, maker.order_id, p, trade))
                    qty -= trade
                    maker.qty -= trade
                    if not maker.qty:
                        level.popleft()
                        del orders[maker.order_id]
                if not level:
                    del levels[p]
                    prices.pop()
        if qty:
            order = RefOrder(order_id, user, is_buy, price, qty)
            own_levels, own_prices = (
                (self.bids, self.bid_prices) if is_buy else (self.asks, self.ask_prices)
            )
            level = own_levels.get(price)
            if level is None:
                level = own_levels[price] = deque()
                bisect.insort(own_prices, price)
            level.append(order)
            orders[order_id] = order

    def cancel(self, order_id: int) -> None:
        order = self.orders.pop(order_id)
        levels, prices = (
            (self.bids, self.bid_prices) if order.is_buy else (self.asks, self.ask_prices)
        )
        level = levels[order.price]
        level.remove(order)
        if not level:
            del levels[order.price]
            del prices[bisect.bisect_left(prices, order.price)]

    def best(self, is_buy: bool) -> int | None:
        prices = self.bid_prices if is_buy else self.ask_prices
        if not prices:
            return None
        return prices[-1] if is_buy else prices[0]


# -- the workload ------------------------------------------------------------------------


def make_workload(n_ops: int, seed: int) -> tuple[list[Op], list[Fill4], list[int]]:
    """Generate ops by driving the reference engine; returns ops, reference fills, live counts."""
    rng = random.Random(seed)
    users = [f"u{i:02d}" for i in range(100)]
    engine = ReferenceEngine()
    ops: list[Op] = []
    live: list[int] = []  # order ids, for O(1) random choice (swap-remove)
    position: dict[int, int] = {}
    mid = 100_000
    counts = []

    def forget(order_id: int) -> None:
        i = position.pop(order_id)
        last = live.pop()
        if last != order_id:
            live[i] = last
            position[last] = i

    def submit(op: Op) -> None:
        before = len(engine.fills)
        if op[0] == "cancel":
            engine.cancel(op[1])
            forget(op[1])
        else:
            _, order_id, user, is_buy, price, qty = op
            engine.place(order_id, user, is_buy, price, qty)
            for fill in engine.fills[before:]:
                if fill[1] not in engine.orders:  # the maker was filled in full
                    forget(fill[1])
            if order_id in engine.orders:
                position[order_id] = len(live)
                live.append(order_id)
        ops.append(op)

    while len(ops) < n_ops:
        i = len(ops) + 1  # order id of a place == its position (1-based) == its seq
        if rng.random() < 0.02:
            mid += rng.choice((-1, 1))
        r = rng.random()
        if len(live) < TARGET_RESTING and i <= TARGET_RESTING:
            r = 0.0  # warm-up: posts only
        elif 0.55 <= r < 0.90 and rng.random() > len(live) / TARGET_RESTING:
            r = 0.0  # below the target size, some cancels become posts (keeps ~6,000 resting)
        user = users[rng.randrange(100)]
        is_buy = rng.random() < 0.5
        if r < 0.55 or not live:
            distance = rng.randint(1, 50)
            price = mid - distance if is_buy else mid + distance
            submit(("post", i, user, is_buy, price, rng.randint(1, 10)))
        elif r < 0.90:
            submit(("cancel", live[rng.randrange(len(live))]))
        else:
            # Aggressive: price through 1-3 opposite levels; qty up to what those levels hold.
            prices = engine.ask_prices if is_buy else engine.bid_prices
            if not prices:
                submit(("post", i, user, is_buy, mid + (-1 if is_buy else 1), 1))
                counts.append(len(engine.orders))
                continue
            depth = min(rng.choice((1, 1, 2, 2, 3)), len(prices))
            chosen = prices[:depth] if is_buy else prices[-depth:][::-1]
            levels = engine.asks if is_buy else engine.bids
            available = sum(o.qty for p in chosen for o in levels[p])
            qty = rng.randint(1, available)
            submit(("take", i, user, is_buy, chosen[-1], qty))
        counts.append(len(engine.orders))
    return ops, engine.fills, counts


# -- adapters: each turns ops into prebuilt native calls and runs them ----------------------


class Engine:
    name = ""
    note = ""

    def prepare(self, ops: list[Op]) -> Callable[[], Any]:
        """Build everything outside the timed region; return the timed function."""
        raise NotImplementedError

    def fills(self, ops: list[Op]) -> list[Fill4] | None:
        """Run once (untimed) and return fills as Fill4 in our ids, or None if not reported."""
        raise NotImplementedError


class CallListEngine(Engine):
    """An adapter whose ``_build`` turns ops into ``(book, [(fn, arg), ...], orders)``:
    the timed run is just those calls, in order."""

    def _build(self, ops: list[Op]) -> tuple[Any, list[Any], dict[int, Any]]:
        raise NotImplementedError

    def prepare(self, ops: list[Op]) -> Callable[[], Any]:
        _, calls, _ = self._build(ops)

        def run() -> None:
            for fn, arg in calls:
                fn(arg)

        return run


class ClobkitEngine(Engine):
    name = "clobkit"

    def commands(self, ops: list[Op]) -> list[Any]:
        owner = {op[1]: op[2] for op in ops if op[0] != "cancel"}  # a cancel names the owner
        return [
            Cancel(SYMBOL, owner[op[1]], op[1])
            if op[0] == "cancel"
            else Place(SYMBOL, op[2], "buy" if op[3] else "sell", op[4], op[5])
            for op in ops
        ]

    def _book(self, ops: list[Op]) -> tuple[OrderBook, list[tuple[Any, int]]]:
        # Op k (from 1) is applied at seq k; auto order ids equal the seq, and the workload
        # numbers its orders the same way, so cancels name the right ids.
        cmds = self.commands(ops)
        seqs = list(range(1, len(ops) + 1))
        return OrderBook(MarketSpec(SYMBOL, tick="0.01")), list(zip(cmds, seqs, strict=True))

    def prepare(self, ops: list[Op]) -> Callable[[], Any]:
        book, items = self._book(ops)
        apply = book.apply

        def run() -> None:
            for cmd, seq in items:
                apply(cmd, seq, seq)

        return run

    def fills(self, ops: list[Op]) -> list[Fill4]:
        book, items = self._book(ops)
        for cmd, seq in items:
            result = book.apply(cmd, seq, seq)
            assert result.accepted, (cmd, result)
        book._check()
        return [(f.taker_order_id, f.maker_order_id, f.price, f.qty) for f in book.fills()]


def _owners(ops: list[Op]) -> dict[int, str]:
    return {op[1]: op[2] for op in ops if op[0] != "cancel"}  # a cancel names the owner


class ClobkitApplyBuiltEngine(ClobkitEngine):
    """``apply`` with each command built in the timed loop (plain data prepared before)."""

    name = "clobkit-apply-built"
    note = "Place/Cancel built and validated per op"

    def prepare(self, ops: list[Op]) -> Callable[[], Any]:
        book = OrderBook(MarketSpec(SYMBOL, tick="0.01"))
        owner = _owners(ops)
        rows = [
            (0, owner[op[1]], "", op[1], 0, seq)
            if op[0] == "cancel"
            else (1, op[2], "buy" if op[3] else "sell", op[4], op[5], seq)
            for seq, op in enumerate(ops, 1)
        ]
        apply = book.apply

        def run() -> None:
            for kind, user, side, a, b, seq in rows:
                if kind:
                    apply(Place(SYMBOL, user, side, a, b), seq, seq)
                else:
                    apply(Cancel(SYMBOL, user, a), seq, seq)

        return run

    def fills(self, ops: list[Op]) -> list[Fill4]:
        return ClobkitEngine.fills(self, ops)


class ClobkitPublicEngine(Engine):
    """``book.place``/``book.cancel`` with prices as a person types them."""

    name = "clobkit-public"
    note = 'book.place(user, side, price="1000.50", qty=5), book.cancel(user, id)'
    tick = "0.01"

    @staticmethod
    def price(ticks: int) -> Any:
        return f"{ticks // 100}.{ticks % 100:02d}"  # tick 0.01: "1000.50"

    def _calls(self, ops: list[Op]) -> tuple[OrderBook, list[tuple[Any, ...]]]:
        book = OrderBook(MarketSpec(SYMBOL, tick=self.tick))
        owner = _owners(ops)
        price = self.price
        calls = [
            (0, owner[op[1]], op[1], None, None)
            if op[0] == "cancel"
            else (1, op[2], "buy" if op[3] else "sell", price(op[4]), op[5])
            for op in ops
        ]
        return book, calls

    def prepare(self, ops: list[Op]) -> Callable[[], Any]:
        book, calls = self._calls(ops)
        place, cancel = book.place, book.cancel

        def run() -> None:
            for kind, user, a, b, c in calls:
                if kind:
                    place(user, a, price=b, qty=c)
                else:
                    cancel(user, a)

        return run

    def fills(self, ops: list[Op]) -> list[Fill4]:
        book, calls = self._calls(ops)
        for kind, user, a, b, c in calls:
            if kind:
                book.place(user, a, price=b, qty=c)
            else:
                book.cancel(user, a)
        book._check()
        return [(f.taker_order_id, f.maker_order_id, f.price, f.qty) for f in book.fills()]


class ClobkitPublicIntEngine(ClobkitPublicEngine):
    name = "clobkit-public-int"
    note = "book.place(user, side, price=100050, qty=5) on a tick-1 market"
    tick = "1"

    @staticmethod
    def price(ticks: int) -> Any:
        return ticks


CLOBKIT_PATHS = ("clobkit", "clobkit-apply-built", "clobkit-public", "clobkit-public-int")


class ReferenceAdapter(Engine):
    name = "reference"

    def prepare(self, ops: list[Op]) -> Callable[[], Any]:
        engine = ReferenceEngine()
        place, cancel = engine.place, engine.cancel
        calls = [(cancel, (op[1],)) if op[0] == "cancel" else (place, tuple(op[1:])) for op in ops]

        def run() -> None:
            for fn, args in calls:
                fn(*args)

        return run

    def fills(self, ops: list[Op]) -> list[Fill4]:
        engine = ReferenceEngine()
        for op in ops:
            engine.cancel(op[1]) if op[0] == "cancel" else engine.place(*op[1:])
        return engine.fills


class LightMatchingAdapter(Engine):
    name = "lightmatchingengine"

    def __init__(self) -> None:
        from lightmatchingengine.lightmatchingengine import LightMatchingEngine, Side

        self.cls, self.side = LightMatchingEngine, Side

    def _run(self, ops: list[Op], collect: bool) -> list[Fill4]:
        engine = self.cls()
        add, cancel = engine.add_order, engine.cancel_order
        buy, sell = self.side.BUY, self.side.SELL
        theirs: dict[int, int] = {}
        ours: dict[int, int] = {}
        out: list[Fill4] = []
        for op in ops:
            if op[0] == "cancel":
                cancel(theirs[op[1]], SYMBOL)
            else:
                _, order_id, _user, is_buy, price, qty = op
                order, trades = add(SYMBOL, price, qty, buy if is_buy else sell)
                theirs[order_id] = order.order_id
                if collect:
                    ours[order.order_id] = order_id
                    for t in trades:
                        if t.order_id != order.order_id:  # passive (maker) executions
                            out.append((order_id, ours[t.order_id], t.trade_price, t.trade_qty))
        return out

    def prepare(self, ops: list[Op]) -> Callable[[], Any]:
        return lambda: self._run(ops, False)

    def fills(self, ops: list[Op]) -> list[Fill4]:
        return self._run(ops, True)


class CythonOrderbookAdapter(CallListEngine):
    name = "cython-orderbook"
    note = "compiled (Cython); stamps each trade with datetime.now()"

    def __init__(self) -> None:
        from cython_orderbook import Order, OrderBook, OrderSide

        self.book_cls, self.order_cls, self.sides = OrderBook, Order, OrderSide

    def _build(self, ops: list[Op]) -> tuple[Any, list[Any], dict[int, Any]]:
        bid, ask = self.sides.BID, self.sides.ASK
        orders: dict[int, Any] = {}
        calls = []
        book = self.book_cls()
        add, cancel = book.add_limit_order, book.cancel_order
        for op in ops:
            if op[0] == "cancel":
                calls.append((cancel, orders[op[1]].order_id))
            else:
                _, order_id, _user, is_buy, price, qty = op
                order = self.order_cls(
                    side=bid if is_buy else ask, price=price, original_quantity=qty
                )
                orders[order_id] = order
                calls.append((add, order))
        return book, calls, orders

    def fills(self, ops: list[Op]) -> list[Fill4]:
        book, calls, orders = self._build(ops)
        for fn, arg in calls:
            fn(arg)
        ours = {o.order_id: k for k, o in orders.items()}
        return [
            (ours[t.aggressor_id], ours[t.filler_id], int(t.price), int(t.quantity_filled))
            for t in book.trade_log
        ]


class PyOrderbookAdapter(CallListEngine):
    name = "pyorderbook"
    note = "Decimal prices, uuid4 ids"

    def __init__(self) -> None:
        import logging

        import pyorderbook

        logging.getLogger("pyorderbook").setLevel(logging.WARNING)
        self.mod = pyorderbook

    def _build(self, ops: list[Op]) -> tuple[Any, list[Any], dict[int, Any]]:
        mod = self.mod
        book = mod.Book()
        orders: dict[int, Any] = {}
        calls = []
        for op in ops:
            if op[0] == "cancel":
                calls.append((book.cancel, orders[op[1]]))
            else:
                _, order_id, _user, is_buy, price, qty = op
                order = (mod.bid if is_buy else mod.ask)(SYMBOL, price / 100, qty)
                orders[order_id] = order
                calls.append((book.match, order))
        return book, calls, orders

    def fills(self, ops: list[Op]) -> list[Fill4]:
        _, calls, orders = self._build(ops)
        ours = {o.id: k for k, o in orders.items()}
        out: list[Fill4] = []
        for fn, arg in calls:
            blotter = fn(arg)
            if blotter is not None:
                for t in blotter.trades:
                    price = int(t.fill_price * 100)
                    out.append(
                        (
                            ours[t.incoming_order_id],
                            ours[t.standing_order_id],
                            price,
                            t.fill_quantity,
                        )
                    )
        return out


class FastlobAdapter(Engine):
    name = "fastlob"
    note = "reports fills per order as {price: qty} (no maker ids): compared aggregated"

    def __init__(self) -> None:
        import logging

        import fastlob

        logging.disable(logging.INFO)  # fastlob logs every step at INFO
        self.mod = fastlob

    def _build(self, ops: list[Op]) -> tuple[Any, list[Any]]:
        mod = self.mod
        lob = mod.Orderbook(name="bench")
        calls = []
        for op in ops:
            if op[0] == "cancel":
                calls.append(("cancel", op[1]))
            else:
                _, order_id, _user, is_buy, price, qty = op
                side = mod.OrderSide.BID if is_buy else mod.OrderSide.ASK
                calls.append(("place", order_id, mod.OrderParams(side, price / 100, qty)))
        return lob, calls

    def _run(self, lob: Any, calls: list[Any], collect: bool) -> dict[int, dict[int, int]]:
        theirs: dict[int, str] = {}
        process, cancel = lob.process, lob.cancel
        out: dict[int, dict[int, int]] = {}
        lob.start()
        try:
            for call in calls:
                if call[0] == "cancel":
                    cancel(theirs[call[1]])
                else:
                    result = process(call[2])
                    theirs[call[1]] = result.orderid()
                    executed = result._execprices  # execprices() fails on None
                    if collect and executed:
                        out[call[1]] = {int(p * 100): int(q) for p, q in executed.items() if q}
        finally:
            lob.stop()
        return out

    def prepare(self, ops: list[Op]) -> Callable[[], Any]:
        lob, calls = self._build(ops)
        return lambda: self._run(lob, calls, False)

    def fills(self, ops: list[Op]) -> list[Fill4] | None:
        return None

    def aggregated(self, ops: list[Op]) -> dict[int, dict[int, int]]:
        lob, calls = self._build(ops)
        return self._run(lob, calls, True)


def aggregate(fills: list[Fill4]) -> dict[int, dict[int, int]]:
    out: dict[int, dict[int, int]] = {}
    for taker, _maker, price, qty in fills:
        per = out.setdefault(taker, {})
        per[price] = per.get(price, 0) + qty
    return out


# -- measurements ----------------------------------------------------------------------------


def bytes_per_resting_order(n: int, engine: str, seqs_traced: bool = False) -> float:
    """tracemalloc growth while ``n`` non-crossing orders rest (commands built beforehand).

    Every input is made before tracing starts, for both engines: the reference's order ids
    are ints in its prebuilt argument tuples, and clobkit's order ids are the sequence
    numbers it is given, so those ints are prebuilt too. ``seqs_traced=True`` is the old
    measurement, which made clobkit's sequence numbers (28-byte ints above 256) while
    tracing and so charged them to clobkit alone.
    """
    rng = random.Random(7)
    specs = []
    for i in range(1, n + 1):
        is_buy = i % 2 == 0
        distance = rng.randint(1, 500)
        specs.append(
            (
                i,
                f"u{rng.randrange(100):02d}",
                is_buy,
                100_000 + (-distance if is_buy else distance),
                rng.randint(1, 10),
            )
        )
    if engine == "clobkit":
        cmds = [Place(SYMBOL, u, "buy" if b else "sell", p, q) for _, u, b, p, q in specs]
        items = None if seqs_traced else list(zip(cmds, range(1, n + 1), strict=True))
        book = OrderBook(MarketSpec(SYMBOL, tick="0.01"))
        gc.collect()
        tracemalloc.start()
        start = tracemalloc.get_traced_memory()[0]
        apply = book.apply
        for seq, cmd in enumerate(cmds, 1) if items is None else ((s, c) for c, s in items):
            apply(cmd, seq, seq)
        used = tracemalloc.get_traced_memory()[0] - start
        tracemalloc.stop()
        assert len(book) == n
    else:
        ref = ReferenceEngine()
        gc.collect()
        tracemalloc.start()
        start = tracemalloc.get_traced_memory()[0]
        for args in specs:
            ref.place(*args)
        used = tracemalloc.get_traced_memory()[0] - start
        tracemalloc.stop()
        assert len(ref.orders) == n
    return used / n


def bytecodes_per_op(engines: list[Engine], ops: list[Op]) -> dict[str, float]:
    """Python bytecodes each engine executes per op (``sys.settrace`` opcode events).

    A deterministic proxy for interpreter work: unlike a timing it does not move with the
    load of a shared machine, so two trees can be compared on a busy VM. It counts nothing
    done in C (a ``dict`` lookup, ``bisect``), so it is a guide for A/B runs, not a rate.
    """
    count = 0

    def local(frame: Any, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "opcode":
            count += 1
        return local

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        frame.f_trace_lines = False
        return local

    out = {}
    for engine in engines:
        run = engine.prepare(ops)
        count = 0
        sys.settrace(tracer)
        try:
            run()
        finally:
            sys.settrace(None)
        out[engine.name] = count / len(ops)
    return out


# -- the floor of a command built per op --------------------------------------------------

_FIELDS = [
    *("market", "user", "side", "price", "qty", "order_type", "tif", "order_id", "stp"),
    *("protection_price", "post_only", "client_order_id"),
]
_DEFAULTS = ("limit", "gtc", None, None, None, False, None)
# Place's twelve fields with no checks at all, as the two cheapest classes CPython 3.11 offers.
_PlainPlace = namedtuple("_PlainPlace", _FIELDS, defaults=_DEFAULTS)  # type: ignore[misc]


class _SlotsPlace:
    __slots__ = tuple(_FIELDS)

    def __init__(
        self,
        market: str,
        user: str,
        side: str,
        price: int | None,
        qty: int,
        order_type: str = "limit",
        tif: str = "gtc",
        order_id: int | None = None,
        stp: str | None = None,
        protection_price: int | None = None,
        post_only: bool = False,
        client_order_id: str | None = None,
    ) -> None:
        self.market = market
        self.user = user
        self.side = side
        self.price = price
        self.qty = qty
        self.order_type = order_type
        self.tif = tif
        self.order_id = order_id
        self.stp = stp
        self.protection_price = protection_price
        self.post_only = post_only
        self.client_order_id = client_order_id


def _place_tuple(
    market: str,
    user: str,
    side: str,
    price: int | None,
    qty: int,
    order_type: str = "limit",
    tif: str = "gtc",
    order_id: int | None = None,
    stp: str | None = None,
    protection_price: int | None = None,
    post_only: bool = False,
    client_order_id: str | None = None,
) -> tuple[Any, ...]:
    return (
        market, user, side, price, qty, order_type, tif, order_id, stp, protection_price,
        post_only, client_order_id,
    )  # fmt: skip


#: The constructs the build floor times: the built path's ``Place(SYMBOL, user, side,
#: price, qty)`` and ``Cancel(SYMBOL, user, order_id)``, and the same five arguments given to
#: the cheapest unchecked constructs CPython 3.11 has for twelve fields.
BUILDERS = (
    "Place (validated)",
    "Cancel (validated)",
    "namedtuple class, no checks",
    "__slots__ class + __init__, no checks",
    "function returning a tuple",
)


def _build_loop(name: str, n: int) -> Callable[[], None]:
    """A loop that builds ``n`` commands with construct ``name`` (or ``"empty loop"``) and
    drops each at once, the call written in the loop so nothing else is measured."""
    users = [f"u{i % 100:02d}" for i in range(n)]

    def place() -> None:
        for u in users:
            Place(SYMBOL, u, "buy", 100_050, 5)

    def cancel() -> None:
        for u in users:
            Cancel(SYMBOL, u, 7)

    def plain() -> None:
        for u in users:
            _PlainPlace(SYMBOL, u, "buy", 100_050, 5)

    def slots() -> None:
        for u in users:
            _SlotsPlace(SYMBOL, u, "buy", 100_050, 5)

    def function() -> None:
        for u in users:
            _place_tuple(SYMBOL, u, "buy", 100_050, 5)

    def empty() -> None:
        for _ in users:
            pass

    loops = (place, cancel, plain, slots, function, empty)
    return dict(zip((*BUILDERS, "empty loop"), loops, strict=True))[name]


def build_floor(repeats: int, clock: Callable[[], float], n: int = 50_000) -> dict[str, float]:
    """CPU ns per command built, for each construct in :data:`BUILDERS`, minus an empty loop
    of the same shape (each repeat runs every construct once, in turn; medians)."""
    names = [*BUILDERS, "empty loop"]
    runs: dict[str, list[float]] = {k: [] for k in names}
    for _ in range(repeats):
        for name in names:
            loop = _build_loop(name, n)
            gc.collect()
            t0 = clock()
            loop()
            runs[name].append((clock() - t0) * 1e9 / n)
    empty = statistics.median(runs["empty loop"])
    return {k: statistics.median(runs[k]) - empty for k in BUILDERS}


def run_only(path: str, n_ops: int, seed: int, setup_only: bool) -> None:
    """Prepare one path and run it once, nothing else (no timing, no output).

    Under ``valgrind --tool=callgrind`` the instructions of a run minus those of the same
    command with ``--setup-only`` are the path's own (``PYTHONHASHSEED=0`` makes both runs
    identical up to the replay): a count that does not move with the machine's load and,
    unlike ``--bytecodes``, includes the work done in C (allocation, GC, dict lookups).
    """
    if path.startswith("build:"):  # a build-floor loop: --run-only "build:<construct>"
        if path[6:] not in (*BUILDERS, "empty loop"):  # (the empty loop is the baseline)
            raise SystemExit(f"--run-only: one of build:{', build:'.join(BUILDERS)}")
        loop = _build_loop(path[6:], n_ops)
        gc.collect()
        if not setup_only:
            loop()
        return
    paths: dict[str, type[Engine]] = {
        "clobkit": ClobkitEngine,
        "clobkit-apply-built": ClobkitApplyBuiltEngine,
        "clobkit-public": ClobkitPublicEngine,
        "clobkit-public-int": ClobkitPublicIntEngine,
        "reference": ReferenceAdapter,
    }
    if path not in paths:
        raise SystemExit(f"--run-only: unknown path {path!r}; one of {', '.join(paths)}")
    ops, _, _ = make_workload(n_ops, seed)
    run = paths[path]().prepare(ops)
    gc.collect()
    if not setup_only:
        run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller run, < 60 s")
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    parser.add_argument("--ops", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument(
        "--no-peers", action="store_true", help="clobkit paths and the reference only (A/B runs)"
    )
    parser.add_argument(
        "--bytecodes",
        type=int,
        default=0,
        metavar="N",
        help="also count Python bytecodes per op over the first N ops (deterministic A/B)",
    )
    parser.add_argument(
        "--clock",
        choices=("cpu", "wall"),
        default="cpu",
        help="cpu: process CPU time (default; robust to other jobs); wall: perf_counter",
    )
    parser.add_argument(
        "--run-only",
        metavar="PATH",
        default=None,
        help="prepare one path (clobkit, clobkit-apply-built, clobkit-public, "
        "clobkit-public-int or reference) on the first --ops ops, run it once and exit: for "
        "instruction counts under valgrind (see benchmarks/README.md)",
    )
    parser.add_argument(
        "--setup-only", action="store_true", help="with --run-only: prepare but do not run"
    )
    args = parser.parse_args()
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    n_ops = args.ops or (60_000 if args.quick else 200_000)
    if args.run_only:
        run_only(args.run_only, n_ops, args.seed, args.setup_only)
        return
    repeats = args.repeats or (3 if args.quick else 5)

    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cpus; ops={n_ops}, repeats={repeats}, "
        f"seed={args.seed}, clock={args.clock}"
    )
    ops, ref_fills, counts = make_workload(n_ops, args.seed)
    kinds = {k: sum(1 for op in ops if op[0] == k) for k in ("post", "cancel", "take")}
    steady = counts[len(counts) // 10 :]
    print(
        "workload: "
        + ", ".join(f"{k} {v / len(ops):.0%}" for k, v in kinds.items())
        + f"; resting orders median {statistics.median(steady):.0f} (min {min(steady)}, max {max(steady)}); fills {len(ref_fills)}"
    )

    engines: list[Engine] = [
        ClobkitEngine(),
        ClobkitApplyBuiltEngine(),
        ClobkitPublicEngine(),
        ClobkitPublicIntEngine(),
        ReferenceAdapter(),
    ]
    skipped: dict[str, str] = {}
    peer_classes: list[type[Engine]] = [
        FastlobAdapter,
        CythonOrderbookAdapter,
        LightMatchingAdapter,
        PyOrderbookAdapter,
    ]
    for cls in [] if args.no_peers else peer_classes:
        try:
            engines.append(cls())
        except Exception as exc:  # any import or API failure means "skip it"
            skipped[cls.name] = f"{type(exc).__name__}: {exc}"
            print(f"skip {cls.name}: {skipped[cls.name]}")

    # Correctness first: each engine's fills against the reference (untimed).
    agree: dict[str, bool | None] = {}
    for engine in list(engines):
        try:
            if isinstance(engine, FastlobAdapter):
                agree[engine.name] = engine.aggregated(ops) == aggregate(ref_fills)
            else:
                got = engine.fills(ops)
                agree[engine.name] = None if got is None else got == ref_fills
        except Exception as exc:
            skipped[engine.name] = f"failed on the workload: {type(exc).__name__}: {exc}"
            print(f"skip {engine.name}: {skipped[engine.name]}")
            engines.remove(engine)
    print("fills agree with the reference: " + ", ".join(f"{k}={v}" for k, v in agree.items()))

    # Each repeat times every engine right next to a reference run (alternating which goes
    # first), so a load spike on these shared cores hits both sides of a ratio alike; the
    # ratio reported is the median of those paired ratios.
    timings: dict[str, list[float]] = {e.name: [] for e in engines}
    paired: dict[str, list[float]] = {e.name: [] for e in engines}
    reference = next(e for e in engines if e.name == "reference")

    def timed(engine: Engine) -> float:
        run = engine.prepare(ops)
        gc.collect()
        t0 = clock()
        run()
        elapsed = clock() - t0
        timings[engine.name].append(elapsed)
        return elapsed

    for r in range(2 * repeats + 1):
        for i, engine in enumerate(e for e in engines if e is not reference):
            if engine.name not in CLOBKIT_PATHS and r >= repeats:
                continue  # clobkit's paths get more repeats than the peers
            if (r + i) % 2:
                t_engine, t_ref = timed(engine), timed(reference)
            else:
                t_ref, t_engine = timed(reference), timed(engine)
            paired[engine.name].append(t_ref / t_engine)
    medians = {k: statistics.median(v) for k, v in timings.items()}
    ref_rate = len(ops) / medians["reference"]
    print(
        f"\n{'engine':<22}{'ops/s (median)':>16}{'x reference':>14}  note (x reference = median paired ratio)"
    )
    results = {}
    ratios = {}
    for engine in engines:
        rate = len(ops) / medians[engine.name]
        results[engine.name] = rate
        ratios[engine.name] = 1.0 if engine is reference else statistics.median(paired[engine.name])
        print(f"{engine.name:<22}{rate:>16,.0f}{ratios[engine.name]:>14.2f}  {engine.note}")
    spread = paired["clobkit"]
    print(
        f"clobkit paired ratios: min {min(spread):.2f}, median {statistics.median(spread):.2f}, max {max(spread):.2f}"
    )

    bytecodes: dict[str, float] = {}
    if args.bytecodes:
        first = ops[: args.bytecodes]
        bytecodes = bytecodes_per_op(
            [e for e in engines if e.name in (*CLOBKIT_PATHS, "reference")], first
        )
        print(
            f"\nPython bytecodes per op (first {len(first):,} ops): "
            + ", ".join(f"{k} {v:.1f}" for k, v in bytecodes.items())
        )

    n_mem = 20_000 if args.quick else 100_000
    mem_book = bytes_per_resting_order(n_mem, "clobkit")
    mem_book_old = bytes_per_resting_order(n_mem, "clobkit", seqs_traced=True)
    mem_ref = bytes_per_resting_order(n_mem, "reference")
    print(
        f"\nbytes per resting order ({n_mem:,} resting, tracemalloc, inputs prebuilt): "
        f"clobkit {mem_book:.0f}, reference {mem_ref:.0f} "
        f"(clobkit with its seq ints made while tracing: {mem_book_old:.0f})"
    )
    # The floor of the built path: what building a command costs by the cheapest constructs,
    # against the budget a 0.6 ratio leaves (benchmarks/README.md, "Issue 13, fifth round").
    floor = build_floor(repeats, clock)
    ref_ns = 1e9 / ref_rate
    prebuilt_ns = 1e9 / results["clobkit"]
    places = sum(1 for op in ops if op[0] != "cancel") / len(ops)
    budget = ref_ns / 0.6 - prebuilt_ns
    print(
        f"\nbuilding one command (CPU ns, median of {repeats}, minus an empty loop); reference "
        f"op {ref_ns:.0f} ns, prebuilt apply {prebuilt_ns:.0f} ns; a 0.6 built ratio leaves "
        f"{budget:.0f} ns per op for building ({places:.0%} places):"
    )
    for name, ns in floor.items():
        print(f"  {name:<40}{ns:>8.0f} ns  ({ns / ref_ns:.2f} of a reference op)")
    peer_names = [e.name for e in engines if e.name not in (*CLOBKIT_PATHS, "reference")]
    for path in CLOBKIT_PATHS:
        if path in ratios:
            behind = [p for p in peer_names if ratios[p] >= ratios[path]]
            print(
                f"{path}: x reference {ratios[path]:.2f}; "
                + (f"NOT ahead of {', '.join(behind)}" if behind else "ahead of every peer run")
            )

    figures = {
        "book_ops_per_s": results["clobkit"],
        "reference_ops_per_s": ref_rate,
        "ratio_to_reference": ratios["clobkit"],
        "ratio_to_reference_paired_all": paired["clobkit"],
        "ratio_apply_built": ratios.get("clobkit-apply-built"),
        "ratio_public_api": ratios.get("clobkit-public"),
        "ratio_public_api_int": ratios.get("clobkit-public-int"),
        "paths_ops_per_s": {k: v for k, v in results.items() if k in CLOBKIT_PATHS},
        "paths_ratio_paired_all": {k: paired[k] for k in CLOBKIT_PATHS if k in paired},
        "bytes_per_resting_order": mem_book,
        "bytes_per_resting_order_seq_ints_traced": mem_book_old,
        "reference_bytes_per_resting_order": mem_ref,
        "fills_agree": all(bool(agree.get(k)) for k in CLOBKIT_PATHS),
        "peer_fills_agree": {k: v for k, v in agree.items() if k in peer_names},
        "peers_ops_per_s": {k: v for k, v in results.items() if k in peer_names},
        "peers_ratio_to_reference": {k: v for k, v in ratios.items() if k in peer_names},
        "skipped": skipped,
        "ops": len(ops),
        "repeats": repeats,
        "resting_orders_median": statistics.median(steady),
        "seed": args.seed,
        "clock": args.clock,
        "bytecodes_per_op": bytecodes,
        "build_ns": floor,
        "build_budget_ns_at_0_6": budget,
        "reference_ns_per_op": ref_ns,
    }
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(figures, fh, indent=2, sort_keys=True)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
