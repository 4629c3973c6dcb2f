"""The witness-first check of a real cluster's history: a claim can cost time, never a verdict.

Method: hand-built histories over one order book (no processes), answered by a real
``OrderBook`` in the claimed order. A claimed order that is a linearization is accepted by a
sequential replay, without search and without one ``Model.step`` (so without the search's
per-step snapshots); a claim that breaks real time, misplaces a write or a read, or misses a
committed entry goes to the full search, which still finds the history linearizable; and a
history with one wrong answer of any kind (a fills, orders or depth read, a write's reply) is
``illegal`` whatever is claimed, because only the search may say so.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest

from clobkit.book import MarketSpec, OrderBook, Place, encode_command
from clobkit.book.records import (
    command_input,
    depth_output,
    fills_output,
    orders_output,
    write_output,
)
from clobkit.check import Model
from clobkit.check.book_model import book_model
from clobkit.proc.witness import check_with_witness, witness_order
from clobkit.replication.envelope import Envelope, encode_envelope
from clobkit.sim.history import ClientHistory

SPEC = MarketSpec("ACME")


def _history(times: list[tuple[int, int]], stale_read: bool = False) -> tuple[Any, ...]:
    """Two places (alice, bob) at ``times``, then a depth read by carol after both."""
    book = OrderBook(SPEC)
    h = ClientHistory()
    payloads, positions, log = {}, {}, []
    for k, (user, (call, ret)) in enumerate(zip(("alice", "bob"), times, strict=True)):
        command = Place("ACME", user, "buy", 100 + k, 1)
        out = write_output(book.apply(command, seq=k + 1, ts_us=k + 1))
        i = h.invoke(user, command_input(command), call)
        h.complete(i, "ok", out, ret)
        payloads[i] = encode_command(command)
        positions[i] = k + 1
        log.append((k + 1, 0, encode_envelope(Envelope(user, 1, k + 1, payloads[i]))))
    seen = depth_output({"bids": [], "asks": []} if stale_read else book.depth(10))
    r = h.invoke("carol", ("depth", "ACME", 10), 100)
    h.complete(r, "ok", seen, 110)
    positions[r] = 2
    return h, positions, log, payloads


# A trading history: resting sells, a buy that crosses two of them, more orders, and one read
# of each kind after every write. Writes are sequential (each returns before the next is
# called); each read overlaps the write before it, so it could go either side of it.
WRITES = [
    ("alice", "sell", 101, 3),
    ("alice", "sell", 100, 2),
    ("bob", "buy", 101, 4),  # takes 2 at 100 and 2 at 101
    ("carol", "buy", 99, 5),
    ("bob", "sell", 99, 1),  # takes 1 from carol's bid
]
READS = (("fills", None), ("orders", None), ("depth", 10), ("fills", "bob"))


def _trading() -> tuple[Any, ...]:
    """A linearizable history, its true claims (ops of writes, commit numbers of reads) and
    the committed log, as a ProcessCluster records them."""
    book = OrderBook(SPEC)
    h = ClientHistory()
    payloads: dict[int, bytes] = {}
    positions: dict[int, int] = {}
    log = []
    t = 0
    for op, (user, side, price, qty) in enumerate(WRITES, start=1):
        command = Place("ACME", user, side, price, qty)
        out = write_output(book.apply(command, seq=op, ts_us=op))
        i = h.invoke(user, command_input(command), t)
        h.complete(i, "ok", out, t + 10)
        payloads[i] = encode_command(command)
        positions[i] = op
        log.append((op, 0, encode_envelope(Envelope(user, 1, op, payloads[i]))))
        for kind, arg in READS:
            if kind == "fills":
                seen: Any = fills_output(book.fills(user=arg))
            elif kind == "orders":
                seen = orders_output(book.live_orders(user=arg))
            else:
                seen = depth_output(book.depth(arg))
            r = h.invoke("dave", (kind, "ACME", arg), t + 5)
            h.complete(r, "ok", seen, t + 15)
            positions[r] = op
        t += 20
    return h, positions, log, payloads


def _wrong(output: Any, kind: str) -> Any:
    """``output`` with one detail no state of the book ever shows (a client told something
    untrue): one more lot resting after a write that filled completely; a fill or a live
    order with one more lot than it had; the best bid level with one order too many."""
    if kind == "write":
        return (*output[:5], output[5] + 1, *output[6:])
    if kind == "depth":
        bids, asks = output
        (price, qty, count), *rest = bids
        return (((price, qty, count + 1), *rest), asks)
    qty_at = 1 if kind == "fills" else 4  # a fill row's qty, an order row's remaining qty
    row = output[-1]
    return (*output[:-1], (*row[:qty_at], row[qty_at] + 1, *row[qty_at + 1 :]))


def _with_output(h: ClientHistory, index: int, output: Any) -> ClientHistory:
    """A copy of ``h`` in which call ``index`` returned ``output``."""
    out = ClientHistory()
    for rec in h:
        i = out.invoke(rec.client_id, rec.input, rec.call_us)
        out.complete(i, rec.outcome, output if i == index else rec.output, rec.return_us)
    return out


def _counting(model: Model) -> tuple[Model, list[int]]:
    """``model`` with its search step counted (the replay must not use it)."""
    calls = [0]
    step = model.step

    def counted(state: Any, inp: Any, out: Any) -> tuple[bool, Any]:
        calls[0] += 1
        return step(state, inp, out)

    return dataclasses.replace(model, step=counted), calls


def test_a_true_claim_is_accepted_without_search() -> None:
    h, positions, log, payloads = _history([(0, 10), (20, 30)])
    result = check_with_witness(book_model(SPEC), h, positions, log, payloads)
    assert result.verdict == "ok" and result.states_explored == 0
    assert result.witness == [[0, 1, 2]]


def test_a_true_claim_is_replayed_without_a_single_search_step() -> None:
    h, positions, log, payloads = _trading()
    model, calls = _counting(book_model(SPEC))
    result = check_with_witness(model, h, positions, log, payloads)
    assert result.verdict == "ok" and result.states_explored == 0
    assert "witness" in result.explanation
    assert calls == [0]  # one mutable book replayed the claim: no per-step state was made
    assert result.witness is not None and len(result.witness[0]) == len(h)


def test_a_claim_against_real_time_goes_to_the_search_which_still_says_ok() -> None:
    h, _positions, log, payloads = _history([(0, 10), (20, 30)])
    # Claim bob's write (called after alice's returned) came first: not a linearization.
    swapped = {0: 2, 1: 1, 2: 2}
    bad_log = [(1, 0, log[1][2]), (2, 0, log[0][2])]
    order, _why = witness_order(h, swapped, bad_log, payloads)
    assert order == [1, 0, 2]
    result = check_with_witness(book_model(SPEC), h, swapped, bad_log, payloads)
    assert result.verdict == "ok" and result.states_explored > 0  # decided by the search
    assert "returned at 10 µs, before op 1" in result.explanation


def test_shuffled_claims_cost_a_search_never_the_verdict() -> None:
    h, positions, _log, payloads = _trading()
    rng = random.Random(19)
    searched = 0
    for _ in range(20):
        claimed = list(positions.values())
        rng.shuffle(claimed)
        shuffled = dict(zip(positions, claimed, strict=True))
        # The log agrees with the shuffled write claims, as a lying server's disk would.
        writes = sorted((op, i) for i, op in shuffled.items() if i in payloads)
        lying_log = [
            (op, 0, encode_envelope(Envelope(h[i].client_id, 1, op, payloads[i])))
            for op, i in writes
        ]
        model, calls = _counting(book_model(SPEC))
        result = check_with_witness(model, h, shuffled, lying_log, payloads)
        assert result.verdict == "ok", (shuffled, result)
        if calls[0]:
            searched += 1
            assert "the claimed order was not used" in result.explanation
    assert searched >= 15  # nearly every shuffle breaks the claim (a few reads may still fit)


def test_a_write_claimed_at_another_op_goes_to_the_search() -> None:
    h, positions, log, payloads = _trading()
    writes = [i for i in positions if i in payloads]
    lying = dict(positions)
    lying[writes[0]], lying[writes[1]] = positions[writes[1]], positions[writes[0]]
    order, why = witness_order(h, lying, log, payloads)
    assert order == [] and "is not the write acknowledged at it" in why
    result = check_with_witness(book_model(SPEC), h, lying, log, payloads)
    assert result.verdict == "ok" and result.states_explored > 0
    assert why in result.explanation


def test_a_read_claimed_before_its_write_goes_to_the_search() -> None:
    # dave's first orders read saw alice's first sell; claiming it at commit 0 puts it before
    # the write it saw: the replay does not reproduce its output.
    h, positions, log, payloads = _trading()
    first_read = next(rec.index for rec in h if rec.input[0] == "orders")
    assert h[first_read].output and positions[first_read] == 1
    early = {**positions, first_read: 0}
    result = check_with_witness(book_model(SPEC), h, early, log, payloads)
    assert result.verdict == "ok" and result.states_explored > 0
    assert "the model answers otherwise at position 0" in result.explanation


def test_a_committed_entry_no_client_asked_for_voids_the_claim() -> None:
    h, positions, log, payloads = _history([(0, 10), (20, 30)])
    extra = (3, 0, encode_envelope(Envelope("mallory", 1, 3, b"\x01junk")))
    order, why = witness_order(h, positions, [*log, extra], payloads)
    assert order == [] and "op 3" in why


def test_only_the_search_says_illegal() -> None:
    h, positions, log, payloads = _history([(0, 10), (20, 30)], stale_read=True)
    result = check_with_witness(book_model(SPEC), h, positions, log, payloads, timeout_s=10)
    assert result.verdict == "illegal" and result.states_explored > 0


def test_a_stale_read_that_claims_an_early_position_is_still_illegal() -> None:
    # The read saw the empty book and claims commit 0; replaying that order reproduces every
    # output, but the read began after both writes returned: real time forbids the claim.
    h, positions, log, payloads = _history([(0, 10), (20, 30)], stale_read=True)
    positions[2] = 0
    result = check_with_witness(book_model(SPEC), h, positions, log, payloads, timeout_s=10)
    assert result.verdict == "illegal"


@pytest.mark.parametrize("kind", ["write", "fills", "orders", "depth"])
def test_one_wrong_answer_of_any_kind_is_illegal_under_the_true_claim(kind: str) -> None:
    # The last write's reply or the last read of ``kind`` is wrong, and no order explains it
    # (every other call returned before it was called, the reads after it are sequential
    # witnesses of the book it changed). The claims are the true order: the replay must
    # compare that output, refuse the claim, and leave the verdict to the search.
    h, positions, log, payloads = _trading()
    target = max(
        rec.index
        for rec in h
        if (rec.index in payloads if kind == "write" else rec.input[0] == kind)
    )
    bad = _with_output(h, target, _wrong(h[target].output, kind))
    result = check_with_witness(book_model(SPEC), bad, positions, log, payloads, timeout_s=30)
    assert result.verdict == "illegal", (kind, result)
    assert result.states_explored > 0 and target in (result.culprits or [])


def test_an_acknowledged_write_the_claim_leaves_out_is_still_judged() -> None:
    # mallory's place was acknowledged with a reply no book gives (7 lots resting of 1), but
    # has no claimed op and is not in the log: the claimed order leaves it out, which only an
    # unknown outcome allows, so the claim is refused and the search finds the reply illegal.
    h, positions, log, payloads = _history([(0, 10), (20, 30)])
    command = Place("ACME", "mallory", "sell", 120, 1)
    i = h.invoke("mallory", command_input(command), 200)
    h.complete(i, "ok", (True, None, 9, "resting", (), 7, 0, ()), 210)
    payloads[i] = encode_command(command)
    order, _why = witness_order(h, positions, log, payloads)
    assert order == [0, 1, 2]  # mallory's write is placed nowhere
    result = check_with_witness(book_model(SPEC), h, positions, log, payloads, timeout_s=10)
    assert result.verdict == "illegal" and result.culprits and i in result.culprits
