"""A deliberately naive order book used as the oracle for ``OrderBook`` in the model tests.

It keeps every live order in one plain list in priority-time order and answers every
question by scanning or sorting that list: no levels, no index, no lazy deletion, no
incremental totals. FOK is decided by running the match on a deep copy, not by a separate
counting pass. It follows the rules documented in ``OrderBook.apply`` and nothing else.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass


@dataclass
class RefOrder:
    order_id: int
    user: str
    side: str
    price: int
    qty: int
    filled: int
    original: int
    seq: int
    ts_us: int
    client_order_id: str | None = None

    def as_tuple(self) -> tuple[object, ...]:
        cancelled = self.original - self.filled - self.qty
        return (
            self.order_id,
            self.user,
            self.side,
            self.price,
            self.qty,
            self.filled,
            cancelled,
            self.original,
            self.seq,
            self.ts_us,
            self.client_order_id,
        )


class ReferenceBook:
    def __init__(self, symbol: str, min_ticks: int, max_ticks: int, stp_default: str) -> None:
        self.symbol = symbol
        self.min_ticks = min_ticks
        self.max_ticks = max_ticks
        self.stp_default = stp_default
        self.orders: list[RefOrder] = []  # arrival order; position = time priority
        self.fills: list[tuple[object, ...]] = []
        self.last_seq = 0
        self.used_ids: set[int] = set()  # naive: every order id ever accepted

    # -- helpers -------------------------------------------------------------------------

    def find(self, order_id: int) -> RefOrder | None:
        for o in self.orders:
            if o.order_id == order_id:
                return o
        return None

    def ranked(self, side: str) -> list[RefOrder]:
        """Orders of ``side`` best first (stable sort keeps arrival order within a price)."""
        same = [o for o in self.orders if o.side == side]
        if side == "buy":
            return sorted(same, key=lambda o: -o.price)
        return sorted(same, key=lambda o: o.price)

    def live_orders(self) -> list[tuple[object, ...]]:
        return [o.as_tuple() for o in self.ranked("buy") + self.ranked("sell")]

    @staticmethod
    def crosses(side: str, limit: int | None, price: int) -> bool:
        if limit is None:
            return True
        return price <= limit if side == "buy" else price >= limit

    def match(self, side, limit, qty, order_id, user, stp, seq, ts_us):
        opposite = "sell" if side == "buy" else "buy"
        remaining = qty
        fills = []
        stp_cancelled = []
        stopped = False
        while remaining:
            candidates = [o for o in self.ranked(opposite) if self.crosses(side, limit, o.price)]
            if not candidates:
                break
            maker = candidates[0]
            if maker.user == user and stp != "none":
                if stp in ("cancel-maker", "cancel-both"):
                    stp_cancelled.append(maker.order_id)
                    self.orders.remove(maker)
                if stp in ("cancel-taker", "cancel-both"):
                    stopped = True
                    break
                continue
            trade = min(remaining, maker.qty)
            fill = (
                len(self.fills),
                seq,
                ts_us,
                self.symbol,
                maker.price,
                trade,
                order_id,
                maker.order_id,
                user,
                maker.user,
                side,
            )
            self.fills.append(fill)
            fills.append(fill)
            remaining -= trade
            maker.qty -= trade
            maker.filled += trade
            if maker.qty == 0:
                self.orders.remove(maker)
        return remaining, tuple(fills), stopped, tuple(stp_cancelled)

    # -- the state machine -----------------------------------------------------------------

    def apply(self, cmd, seq: int, ts_us: int) -> dict[str, object]:
        result = self._apply(cmd, seq, ts_us)
        if type(cmd).__name__ == "Place" and result["accepted"]:
            self.used_ids.add(result["order_id"])  # ids are never reused
        return result

    def _apply(self, cmd, seq: int, ts_us: int) -> dict[str, object]:
        kind = type(cmd).__name__
        oid = cmd.order_id
        if kind == "Place" and oid is None:
            oid = seq
            while oid in self.used_ids:  # an explicit id took this number earlier
                oid += 1

        def reject(reason: str) -> dict[str, object]:
            return {"accepted": False, "reason": reason, "order_id": oid, "status": "rejected"}

        if cmd.market != self.symbol:
            return reject("market_mismatch")
        if kind == "Place":
            explicit = cmd.order_id is not None
            if explicit and oid <= self.last_seq:
                return reject("order_id_too_low")
            if explicit and oid in self.used_ids:
                return reject("order_id_used")
            cid = cmd.client_order_id
            if cid is not None and any(
                o.user == cmd.user and o.client_order_id == cid for o in self.orders
            ):
                return reject("duplicate_client_order_id")
            assert self.find(oid) is None, "a fresh id is never live"
            limit = cmd.price if cmd.order_type == "limit" else cmd.protection_price
            if limit is not None and not self.min_ticks <= limit <= self.max_ticks:
                return reject("price_out_of_range")
            opposite = "sell" if cmd.side == "buy" else "buy"
            opposite_orders = [o for o in self.orders if o.side == opposite]
            if cmd.order_type == "market" and not opposite_orders:
                return reject("no_liquidity")
            if cmd.post_only and any(
                self.crosses(cmd.side, cmd.price, o.price) for o in opposite_orders
            ):
                return reject("would_take")
            stp = cmd.stp or self.stp_default
            if cmd.tif == "fok":
                trial = copy.deepcopy(self)
                left, _, _, _ = trial.match(cmd.side, limit, cmd.qty, oid, cmd.user, stp, seq, 0)
                if left:
                    return reject("fok_unfillable")
            self.last_seq = seq
            remaining, fills, stopped, stp_cancelled = self.match(
                cmd.side, limit, cmd.qty, oid, cmd.user, stp, seq, ts_us
            )
            filled = cmd.qty - remaining
            rests = remaining and cmd.order_type == "limit" and cmd.tif == "gtc" and not stopped
            if rests:
                self.orders.append(
                    RefOrder(
                        oid,
                        cmd.user,
                        cmd.side,
                        cmd.price,
                        remaining,
                        filled,
                        cmd.qty,
                        seq,
                        ts_us,
                        cmd.client_order_id,
                    )
                )
                status = "partially_filled" if filled else "resting"
                resting, cancelled = remaining, 0
            else:
                status = "cancelled" if remaining else "filled"
                resting, cancelled = 0, remaining
            return {
                "accepted": True,
                "reason": None,
                "order_id": oid,
                "status": status,
                "fills": fills,
                "resting_qty": resting,
                "cancelled_qty": cancelled,
                "stp_cancelled": stp_cancelled,
            }
        if cmd.client_order_id is not None:
            mine = [
                o
                for o in self.orders
                if o.user == cmd.user and o.client_order_id == cmd.client_order_id
            ]
            if not mine:
                return reject("unknown_client_order_id")
            order = mine[0]
            oid = order.order_id
        else:
            order = self.find(oid)
            if order is None:
                return reject("unknown_order")
            if order.user != cmd.user:
                return reject("not_owner")
        if kind == "Cancel":
            self.last_seq = seq
            self.orders.remove(order)
            return {
                "accepted": True,
                "reason": None,
                "order_id": oid,
                "status": "cancelled",
                "fills": (),
                "resting_qty": 0,
                "cancelled_qty": order.qty,
                "stp_cancelled": (),
            }
        # Modify
        price = order.price if cmd.price is None else cmd.price
        qty = order.qty if cmd.qty is None else cmd.qty
        if not self.min_ticks <= price <= self.max_ticks:
            return reject("price_out_of_range")
        self.last_seq = seq
        if price == order.price and qty <= order.qty:
            reduced = order.qty - qty
            order.qty = qty
            return {
                "accepted": True,
                "reason": None,
                "order_id": oid,
                "status": "modified",
                "fills": (),
                "resting_qty": qty,
                "cancelled_qty": reduced,
                "stp_cancelled": (),
            }
        self.orders.remove(order)
        reduced = max(0, order.qty - qty)
        original = order.original + max(0, qty - order.qty)
        remaining, fills, stopped, stp_cancelled = self.match(
            order.side, price, qty, oid, order.user, self.stp_default, seq, ts_us
        )
        resting = 0
        if remaining and not stopped:
            filled = order.filled + qty - remaining
            self.orders.append(
                RefOrder(
                    oid,
                    order.user,
                    order.side,
                    price,
                    remaining,
                    filled,
                    original,
                    seq,
                    ts_us,
                    order.client_order_id,
                )
            )
            resting = remaining
        return {
            "accepted": True,
            "reason": None,
            "order_id": oid,
            "status": "modified",
            "fills": fills,
            "resting_qty": resting,
            "cancelled_qty": reduced + remaining - resting,
            "stp_cancelled": stp_cancelled,
        }
