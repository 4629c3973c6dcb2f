"""The witness-first check of a real cluster's history: a claim can cost time, never a verdict.

Method: hand-built histories over one order book (no processes). A claimed order that is a
linearization is accepted without search; a claim that breaks real time, or misses a committed
entry, or a history that is not linearizable at all, goes to the full search, which alone may
say ``illegal``.
"""

from __future__ import annotations

from clobkit.book import MarketSpec, OrderBook, Place, encode_command
from clobkit.book.records import command_input, depth_output, write_output
from clobkit.check.book_model import book_model
from clobkit.proc.witness import check_with_witness, witness_order
from clobkit.replication.envelope import Envelope, encode_envelope
from clobkit.sim.history import ClientHistory

SPEC = MarketSpec("ACME")


def _history(times: list[tuple[int, int]], stale_read: bool = False) -> tuple[object, ...]:
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


def test_a_true_claim_is_accepted_without_search() -> None:
    h, positions, log, payloads = _history([(0, 10), (20, 30)])
    result = check_with_witness(book_model(SPEC), h, positions, log, payloads)
    assert result.verdict == "ok" and result.states_explored == 0
    assert result.witness == [[0, 1, 2]]


def test_a_claim_against_real_time_goes_to_the_search_which_still_says_ok() -> None:
    h, _positions, log, payloads = _history([(0, 10), (20, 30)])
    # Claim bob's write (called after alice's returned) came first: not a linearization.
    swapped = {0: 2, 1: 1, 2: 2}
    bad_log = [(1, 0, log[1][2]), (2, 0, log[0][2])]
    order, _why = witness_order(h, swapped, bad_log, payloads)
    assert order == [1, 0, 2]
    result = check_with_witness(book_model(SPEC), h, swapped, bad_log, payloads)
    assert result.verdict == "ok" and result.states_explored > 0  # decided by the search


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
