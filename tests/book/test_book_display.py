"""What a person reads about the book shows prices as the market writes them, not ticks.

Method: a small book on a 0.01 grid; the reprs and HTML of the book, an order, a fill and a
result are searched for the price in units (``100.50``) and checked not to show the raw tick
count; HTML is checked escaped; a symbol used by two books on different grids falls back to
saying ``ticks`` rather than guessing; ``describe_command`` with a spec writes units.
"""

from __future__ import annotations

from clobkit.book import MarketSpec, OrderBook, Place, describe_command
from clobkit.book.results import Fill


def test_reprs_show_prices_in_units() -> None:
    book = OrderBook(MarketSpec("UNITS", tick="0.01"))
    book.place("alice", "sell", price="100.50", qty=10, client_order_id="a-1")
    result = book.place("bob", "buy", price="100.50", qty=4)
    book.place("bob", "buy", price="99.99", qty=1)
    shown = [repr(book), repr(book.order(1)), repr(result.fills[0]), repr(result)]
    assert all("10050" not in text for text in shown), shown
    assert "bid=99.99, ask=100.50" in repr(book)
    assert (
        repr(book.order(1)) == "Order(#1 (a-1) alice sell 6 @ 100.50, filled=4, cancelled=0, seq=1)"
    )
    assert repr(result.fills[0]) == "Fill(#0 UNITS: bob buys 4 @ 100.50 from alice, seq=2)"
    assert repr(result) == (
        "ApplyResult(filled: order_id=2, seq=2, resting=0, cancelled=0, fills=[4 @ 100.50])"
    )
    for html in (book._repr_html_(), book.order(1)._repr_html_(), result._repr_html_()):
        assert "100.50" in html and "10050" not in html


def test_html_is_escaped() -> None:
    book = OrderBook(MarketSpec("ESC", tick="0.01"))
    book.place("<b>x</b>", "sell", price="1", qty=1)
    result = book.place("y&z", "buy", price="1", qty=1)
    page = result._repr_html_() + result.fills[0]._repr_html_()
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page and "y&amp;z" in page


def test_an_ambiguous_symbol_says_ticks() -> None:
    OrderBook(MarketSpec("TWICE", tick="0.01"))
    OrderBook(MarketSpec("TWICE", tick=1))
    fill = Fill(0, 1, 1, "TWICE", 10050, 1, 2, 1, "b", "a", "buy")
    assert "@ 10050 ticks" in repr(fill)


def test_describe_command_with_a_spec_writes_units() -> None:
    spec = MarketSpec("ACME", tick="0.01")
    command = Place("ACME", "al", "sell", None, 3, order_type="market", protection_price=9999)
    assert describe_command(command, spec) == "place al sell 3 @ market ioc protect 99.99"
