"""Every model clobkit ships keeps the memo-key contract of ``Model.key``: states reached by
random walks that share a key answer every random next input with the same output and lead to
states that share a key again (so the checker may merge them); the book model's walks include
no-op modifies, place+cancel, rejected cancels and explicit ids, which is where the old key
(live orders and fills only, no ``last_seq`` or reserved ids) merged states that differ."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import clobkit.check as check
from clobkit.book import Cancel, MarketSpec, Modify, OrderBook, Place
from clobkit.check import Model, kv_model, register_model
from clobkit.check.book_model import (
    book_model,
    depth_output,
    fills_output,
    orders_output,
    write_output,
)

SPEC = MarketSpec("ACME", tick="0.01", lot=1)
Oracle = Callable[[Any, Any, int], Any]  # (state, input, op number) -> the output


# -- per model: random inputs and the output the object would give ----------------------


def register_input(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.4:
        return ("w", rng.randint(0, 2))
    if roll < 0.7:
        return ("r", None)
    return ("cas", rng.randint(0, 2), rng.randint(0, 2))


def register_oracle(state: Any, inp: Any, _op: int) -> Any:
    if inp[0] == "r":
        return state
    if inp[0] == "cas":
        return state == inp[1]
    return None


def kv_input(rng: random.Random) -> Any:
    # One key: kv states are per key after partitioning.
    if rng.random() < 0.5:
        return ("put", "x", rng.randint(0, 2))
    return ("get", "x", None)


def kv_oracle(state: Any, inp: Any, _op: int) -> Any:
    return state if inp[0] == "get" else None


def book_input(rng: random.Random) -> Any:
    roll = rng.random()
    user = rng.choice(["a", "b"])
    oid = rng.randint(1, 8)
    if roll < 0.45:
        explicit = oid if rng.random() < 0.4 else None
        side = rng.choice(["buy", "sell"])
        price, qty = rng.randint(99, 101), rng.randint(1, 3)
        return (
            "place",
            "ACME",
            user,
            side,
            price,
            qty,
            "limit",
            "gtc",
            None,
            None,
            False,
            explicit,
        )
    if roll < 0.65:
        return ("cancel", "ACME", user, oid)  # often rejected: unknown id or another user's
    if roll < 0.8:
        # Small ranges: often a no-op modify (same price or qty), which changes no row.
        if rng.random() < 0.5:
            return ("modify", "ACME", user, oid, rng.randint(99, 101), None)
        return ("modify", "ACME", user, oid, None, rng.randint(1, 3))
    kind = rng.choice(["fills", "orders", "depth"])
    return ("depth", "ACME", 5) if kind == "depth" else (kind, "ACME", rng.choice([None, user]))


def book_oracle(state: Any, inp: Any, op: int) -> Any:
    """What a correct book in ``state`` answers; an auto id is the op number ``op`` (> any
    id the walk names), as the cluster assigns it."""
    book = OrderBook(SPEC) if state is None else state.book()
    kind = inp[0]
    if kind == "fills":
        return fills_output(book.fills(user=inp[2]))
    if kind == "orders":
        return orders_output(book.live_orders(user=inp[2]))
    if kind == "depth":
        return depth_output(book.depth(inp[2]))
    if kind == "place":
        oid = inp[11] if inp[11] is not None else op
        cmd: Any = Place("ACME", inp[2], inp[3], inp[4], inp[5], order_id=oid)
    elif kind == "cancel":
        cmd = Cancel("ACME", inp[2], inp[3])
    else:
        cmd = Modify("ACME", inp[2], inp[3], price=inp[4], qty=inp[5])
    return write_output(book.apply(cmd, seq=book.last_seq + 1, ts_us=book.last_seq + 1))


def book_fingerprint(state: Any) -> Any:
    return state if state is None else state.book().snapshot()


MODELS: dict[str, tuple[Callable[[], Model], Callable[[random.Random], Any], Oracle]] = {
    "register_model": (register_model, register_input, register_oracle),
    "kv_model": (kv_model, kv_input, kv_oracle),
    "book_model": (lambda: book_model(SPEC), book_input, book_oracle),
}


def test_every_shipped_model_is_covered() -> None:
    # A new model added to clobkit.check must be added here too, or this test fails.
    shipped = {name for name in check.__all__ if name.endswith("_model")}
    assert shipped == set(MODELS)


def key_of(model: Model, state: Any) -> Any:
    return state if model.key is None else model.key(state)


def variants(rng: random.Random, inputs: list[Any]) -> list[list[tuple[int, Any]]]:
    """The walk, and walks that should often end in a state with the same key: two adjacent
    inputs swapped, and one extra input (a no-op modify, a rejected cancel...) slipped in.
    Each input keeps its op number (its auto id) in every variant, as in the cluster."""
    walk = [(100 + k, inp) for k, inp in enumerate(inputs)]
    out = [walk]
    if len(walk) >= 2:
        k = rng.randrange(len(walk) - 1)
        out.append([*walk[:k], walk[k + 1], walk[k], *walk[k + 2 :]])
    k = rng.randrange(len(walk) + 1)
    out.append([*walk[:k], (99, rng.choice(inputs) if inputs else None), *walk[k:]])
    return [v for v in out if all(inp is not None for _, inp in v)]


def violations(
    name: str, rng: random.Random, walks: int = 40, probes: int = 12
) -> tuple[list[str], int]:
    """Random walks from ``init``; then, for states sharing a key, random next inputs. Returns
    the broken promises and how many distinct-state pairs shared a key."""
    make, gen, oracle = MODELS[name]
    model = make()
    by_key: dict[Any, list[Any]] = {}

    def fingerprint(state: Any) -> Any:
        return book_fingerprint(state) if name == "book_model" else state

    for _ in range(walks):
        inputs = [gen(rng) for _ in range(rng.randint(1, 6))]
        for walk in variants(rng, inputs):
            state = model.init()
            for op, inp in walk:
                legal, state = model.step(state, inp, oracle(state, inp, op))
                assert legal
                states = by_key.setdefault(key_of(model, state), [])
                if all(fingerprint(s) != fingerprint(state) for s in states):
                    states.append(state)
    broken: list[str] = []
    pairs = 0
    op = 1000
    for states in by_key.values():
        for a, b in itertools.pairwise(states):
            pairs += 1
            for _ in range(probes):
                inp = gen(rng)
                op += 1
                out_a, out_b = oracle(a, inp, op), oracle(b, inp, op)
                if out_a != out_b:
                    broken.append(f"{inp!r}: {out_a!r} != {out_b!r}")
                    continue
                # A fresh model: the book model caches steps by key, which would hide the
                # difference the contract is about.
                fresh = make()
                la, na = fresh.step(a, inp, out_a)
                lb, nb = make().step(b, inp, out_a)
                if not (la and lb and key_of(fresh, na) == key_of(fresh, nb)):
                    broken.append(f"{inp!r}: next states differ")
    return broken, pairs


@settings(max_examples=25, deadline=None)
@given(st.randoms(use_true_random=False))
def test_register_key_contract(rng: random.Random) -> None:
    assert violations("register_model", rng)[0] == []


@settings(max_examples=25, deadline=None)
@given(st.randoms(use_true_random=False))
def test_kv_key_contract(rng: random.Random) -> None:
    assert violations("kv_model", rng)[0] == []


@settings(max_examples=40, deadline=None)
@given(st.randoms(use_true_random=False))
def test_book_key_contract(rng: random.Random) -> None:
    assert violations("book_model", rng)[0] == []


def test_book_walks_do_merge_distinct_states() -> None:
    # Not vacuous: the book model's key does merge different snapshots (seq stamps differ
    # when independent places go in either order), and the probes above compare them.
    pairs = sum(violations("book_model", random.Random(seed))[1] for seed in range(5))
    assert pairs >= 10


def test_the_fill_tape_digest_is_an_exact_function_of_the_rows_in_order() -> None:
    # The book model's key sees the fills only through the tape's running digest: tapes that
    # differ in any field of a row, or in the order of rows, must get different digests (else
    # two states whose fills reads differ could merge), and equal tapes the same digest
    # however the rows were split into steps (else equal states would not merge).
    from clobkit.check.book_model import _Tape

    row = (100, 5, 7, 3, "a", "b", "buy")
    digests = {_Tape(None, None, (row,)).digest}
    for k, value in enumerate(row):
        changed = list(row)
        changed[k] = value + "x" if isinstance(value, str) else value + 1
        digests.add(_Tape(None, None, (tuple(changed),)).digest)
    assert len(digests) == len(row) + 1
    other = (101, 1, 8, 4, "b", "a", "sell")
    both = _Tape(None, None, (row, other))
    assert both.digest != _Tape(None, None, (other, row)).digest
    assert both.digest == _Tape(_Tape(None, None, (row,)), None, (other,)).digest
    assert _Tape(both, None, ()).digest == both.digest and both.count == 2
