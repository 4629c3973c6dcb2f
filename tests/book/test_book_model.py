"""The real OrderBook behaves exactly like the naive ReferenceBook under random command streams.

A Hypothesis RuleBasedStateMachine sends the same commands (every type, good and bad: unknown
ids, wrong owners, explicit order ids too low or used, client order ids duplicated, unknown,
or used to cancel and modify, post-only crossing, FOK unfillable, market orders on an
empty side, every STP mode, modify variants, other markets, prices outside the band) to both
books and after every step asserts equal results, equal fills, equal live orders, the real
book's ``_check()``, and that a rejected command left the digest and ``last_seq`` unchanged.
It also snapshots and restores the real book mid-run and carries on with the copy.
"""

from __future__ import annotations

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from clobkit.book import Cancel, MarketSpec, Modify, Order, OrderBook, Place

from .reference_book import ReferenceBook

SYMBOL = "ACME"
SPEC = MarketSpec(SYMBOL, tick="0.01", lot=1, min_price="0.90", max_price="1.10")
USERS = st.sampled_from(["ann", "bob", "cat"])
SIDES = st.sampled_from(["buy", "sell"])
PRICES = st.integers(min_value=85, max_value=115)  # the band is 90..110 ticks
IN_BAND = st.integers(min_value=95, max_value=105)
QTYS = st.integers(min_value=1, max_value=12)
STPS = st.sampled_from([None, "none", "cancel-taker", "cancel-maker", "cancel-both"])
EXPLICIT_IDS = st.one_of(st.none(), st.integers(min_value=1, max_value=40))
# A few client ids per user, so duplicates among live orders and reuse after an order is
# gone both happen often.
CLIENT_IDS = st.one_of(st.none(), st.none(), st.sampled_from(["c1", "c2", "c3"]))


class BookVersusReference(RuleBasedStateMachine):
    @initialize(
        stp_default=st.sampled_from(["none", "cancel-taker", "cancel-maker", "cancel-both"])
    )
    def start(self, stp_default: str) -> None:
        self.book = OrderBook(SPEC, stp_default=stp_default)
        self.ref = ReferenceBook(SYMBOL, SPEC.min_ticks, SPEC.max_ticks, stp_default)
        self.ids: list[int] = []

    def run(self, command: object, gap: int = 1, ts_us: int | None = None) -> None:
        seq = self.book.last_seq + gap
        ts_us = seq * 10 if ts_us is None else ts_us
        digest_before = self.book.digest()
        fills_before = self.book.fill_count()
        got = self.book.apply(command, seq, ts_us)
        want = self.ref.apply(command, seq, ts_us)
        assert got.accepted == want["accepted"], (command, got, want)
        assert got.reason == want["reason"], (command, got, want)
        assert got.order_id == want["order_id"]
        assert got.status == want["status"], (command, got, want)
        assert got.seq == seq and got.ts_us == ts_us
        event(f"{type(command).__name__}: {got.reason or got.status}")
        if got.stp_cancelled:
            event("stp cancelled a maker")
        if got.accepted:
            assert self.book.last_seq == seq
            assert [tuple(f) for f in got.fills] == list(want["fills"])
            assert got.resting_qty == want["resting_qty"], (command, got, want)
            assert got.cancelled_qty == want["cancelled_qty"], (command, got, want)
            assert got.stp_cancelled == want["stp_cancelled"]
            if got.order_id is not None:
                self.ids.append(got.order_id)
        else:
            assert got.fills == () and got.resting_qty == 0
            assert self.book.digest() == digest_before, "a rejected command changed the state"
            assert self.book.last_seq == self.ref.last_seq
            assert self.book.fill_count() == fills_before

    def some_id(self, data: st.DataObject) -> int:
        if self.ids and data.draw(st.booleans()):
            return data.draw(st.sampled_from(self.ids))
        return data.draw(st.integers(min_value=1, max_value=60))

    @rule(
        user=USERS,
        side=SIDES,
        price=PRICES,
        qty=QTYS,
        tif=st.sampled_from(["gtc", "gtc", "ioc", "fok"]),
        post_only=st.booleans(),
        order_id=EXPLICIT_IDS,
        stp=STPS,
        gap=st.sampled_from([1, 1, 1, 3]),
        cid=CLIENT_IDS,
    )
    def place_limit(self, user, side, price, qty, tif, post_only, order_id, stp, gap, cid) -> None:
        post_only = post_only and tif == "gtc"
        command = Place(
            SYMBOL,
            user,
            side,
            price,
            qty,
            tif=tif,
            order_id=order_id,
            stp=stp,
            post_only=post_only,
            client_order_id=cid,
        )
        self.run(command, gap)

    @rule(user=USERS, side=SIDES, price=IN_BAND, qty=QTYS, cid=CLIENT_IDS)
    def place_passive_gtc(self, user, side, price, qty, cid) -> None:
        # More resting orders make the interesting cases (queues, sweeps) more likely.
        self.run(Place(SYMBOL, user, side, price, qty, client_order_id=cid))

    @rule(
        user=USERS,
        side=SIDES,
        qty=st.integers(min_value=1, max_value=30),
        tif=st.sampled_from(["gtc", "ioc", "fok"]),
        protection=st.one_of(st.none(), PRICES),
        stp=STPS,
        order_id=EXPLICIT_IDS,
    )
    def place_market(self, user, side, qty, tif, protection, stp, order_id) -> None:
        command = Place(
            SYMBOL,
            user,
            side,
            None,
            qty,
            order_type="market",
            tif=tif,
            protection_price=protection,
            stp=stp,
            order_id=order_id,
        )
        self.run(command)

    @rule(data=st.data(), user=USERS)
    def cancel(self, data, user) -> None:
        self.run(Cancel(SYMBOL, user, self.some_id(data)))

    @rule(user=USERS, cid=st.sampled_from(["c1", "c2", "c3"]))
    def cancel_by_client_id(self, user, cid) -> None:
        self.run(Cancel(SYMBOL, user, client_order_id=cid))

    @rule(
        user=USERS,
        cid=st.sampled_from(["c1", "c2", "c3"]),
        price=st.one_of(st.none(), PRICES),
        qty=QTYS,
    )
    def modify_by_client_id(self, user, cid, price, qty) -> None:
        self.run(Modify(SYMBOL, user, price=price, qty=qty, client_order_id=cid))

    @precondition(lambda self: len(self.book) > 0)
    @rule(data=st.data())
    def cancel_own(self, data) -> None:
        order = data.draw(st.sampled_from(self.book.live_orders()))
        self.run(Cancel(SYMBOL, order.user, order.order_id))

    @rule(
        data=st.data(),
        user=USERS,
        price=st.one_of(st.none(), PRICES),
        qty=st.one_of(st.none(), QTYS),
    )
    def modify(self, data, user, price, qty) -> None:
        if price is None and qty is None:
            qty = 1
        self.run(Modify(SYMBOL, user, self.some_id(data), price=price, qty=qty))

    @precondition(lambda self: len(self.book) > 0)
    @rule(
        data=st.data(),
        price_delta=st.sampled_from([None, -3, -1, 0, 1, 3]),
        qty_delta=st.sampled_from([None, -2, -1, 0, 1, 4]),
    )
    def modify_own(self, data, price_delta, qty_delta) -> None:
        order = data.draw(st.sampled_from(self.book.live_orders()))
        price = None if price_delta is None else order.price + price_delta
        qty = None if qty_delta is None else max(1, order.qty + qty_delta)
        if price is None and qty is None:
            qty = order.qty
        self.run(Modify(SYMBOL, order.user, order.order_id, price=price, qty=qty))

    @rule(user=USERS, side=SIDES, price=IN_BAND, qty=QTYS)
    def other_market(self, user, side, price, qty) -> None:
        self.run(Place("OTHER", user, side, price, qty))

    @rule()
    def snapshot_restore(self) -> None:
        data = self.book.snapshot()
        copy = OrderBook.restore(data)
        assert copy.snapshot() == data
        assert copy.digest() == self.book.digest()
        self.book = copy  # keep going with the restored book

    @invariant()
    def agree(self) -> None:
        if not hasattr(self, "book"):
            return
        self.book._check()
        fields = [f for f in Order.__slots__ if f != "spec"]  # spec: display only
        live = [tuple(getattr(o, f) for f in fields) for o in self.book.live_orders()]
        assert live == self.ref.live_orders()
        assert [tuple(f) for f in self.book.fills()] == self.ref.fills
        assert len(self.book) == len(self.ref.orders)
        assert self.book.last_seq == self.ref.last_seq


BookVersusReference.TestCase.settings = settings(
    max_examples=500,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_book_matches_reference = BookVersusReference.TestCase
