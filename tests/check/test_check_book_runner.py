"""Proves the book model's one-pass runner (the witness replay of ``check_operations``)
judges every step exactly as a replay on the book itself does: the runner answers fills
reads from per-user fill rows it keeps as writes happen; a reference runner here asks the
book's own fill log (``fills_output(book.fills(user))``), as the runner did before. Both
replay campaign histories (safe, and ``no_dedup`` ones that are not linearizable) in the
hinted order, and at every step also judge fills reads of every user (and of all users,
and of a stranger) with the true answer and with altered ones (a row dropped, rows
reversed, a quantity changed): the two must agree on every judgement."""

from __future__ import annotations

from typing import Any

import pytest

from clobkit.book import OrderBook
from clobkit.book.records import fills_output
from clobkit.check.book_model import _judge, book_model
from clobkit.check.campaigns import RunOptions, _execute
from clobkit.check.history import History
from clobkit.check.model import UNKNOWN_OUTPUT


def reference_runner(spec: Any) -> Any:
    """The runner before the fill index: every fills read walks the book's fill log."""
    books: dict[Any, OrderBook] = {}

    def run(inp: Any, out: Any) -> bool:
        book = books.get(inp[1])
        if book is None:
            book = books[inp[1]] = OrderBook(spec)
        return _judge(book, inp, out)[0]

    return run, books


def altered(rows: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    out = []
    if rows:
        out.append(rows[:-1])
        first = rows[0]
        out.append(((first[0], first[1] + 1, *first[2:]), *rows[1:]))
    if len(rows) > 1:
        out.append(tuple(reversed(rows)))
    out.append((*rows, ("x",)))
    return out


@pytest.mark.parametrize("unsafe", [(), ("no_dedup",)])
def test_the_runner_judges_every_step_as_the_book_does(unsafe: tuple[str, ...]) -> None:
    judged = disagreements = 0
    for seed in range(3):
        run = _execute(seed, RunOptions(ops=300, unsafe=unsafe), trace=False)
        assert run.cluster is not None
        spec = run.cluster.market
        ops = History.from_client_history(run.cluster.history).operations()
        run.cluster.close()
        fast = book_model(spec).new_runner()
        slow, books = reference_runner(spec)
        order = sorted(
            range(len(ops)),
            key=lambda i: (ops[i].hint if ops[i].hint is not None else 10**9, ops[i].call, i),
        )
        users = sorted({op.input[2] for op in ops if isinstance(op.input[2], str)})
        for i in order:
            op = ops[i]
            out = UNKNOWN_OUTPUT if op.return_ is None else op.output
            a, b = fast(op.input, out), slow(op.input, out)
            judged += 1
            disagreements += a != b
            book = books.get(spec.symbol)
            if book is None or op.input[0] not in ("place", "cancel", "modify"):
                continue
            for user in [*users, None, "stranger"]:
                truth = fills_output(book.fills(user=user))
                for candidate in [truth, *altered(truth)]:
                    inp = ("fills", spec.symbol, user)
                    a, b = fast(inp, candidate), slow(inp, candidate)
                    judged += 1
                    disagreements += a != b
                    assert a == (candidate is truth), (user, candidate)
    assert disagreements == 0
    assert judged > 1_000
