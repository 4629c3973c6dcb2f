"""The ``clobkit`` command line: ``python -m clobkit <command>``.

Each command is a small function that takes parsed arguments and returns an
exit code; :func:`main` parses ``argv`` with :mod:`argparse`, so bad
arguments get a usage message and exit code 2.

>>> main(["--version"])  # doctest: +ELLIPSIS
clobkit ...
0
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from clobkit._version import __version__

__all__ = ["main", "build_parser"]


def _say(out: TextIO, text: str = "") -> None:
    print(text, file=out)


def _table(frame: object) -> str:
    """A DataFrame as plain text (no index), for a terminal."""
    to_string = frame.to_string  # type: ignore[attr-defined]
    return str(to_string(index=False)) if len(frame) else "(none)"  # type: ignore[arg-type]


def demo(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """A short narrated scenario: orders rest, an aggressive order trades."""
    from clobkit.book import MarketSpec, OrderBook

    book = OrderBook(MarketSpec("ACME", tick="0.01", lot=1))
    _say(out, "clobkit demo: one order book, ACME, tick 0.01, lot 1")
    _say(out)
    steps = [
        ("alice", "sell", "100.50", 10, "alice offers 10 @ 100.50"),
        ("alice", "sell", "100.75", 5, "alice offers 5 more @ 100.75"),
        ("carol", "buy", "100.00", 8, "carol bids 8 @ 100.00"),
        (
            "bob",
            "buy",
            "100.75",
            12,
            "bob buys 12 up to 100.75: takes 10 @ 100.50, then 2 @ 100.75",
        ),
    ]
    for user, side, price, qty, story in steps:
        result = book.place(user, side, price=price, qty=qty)
        _say(out, f"  seq {result.seq}: {story} -> {result.status}, {len(result.fills)} fill(s)")
    _say(out)
    _say(out, "Fills (every trade executes at the resting order's price):")
    _say(out, _table(book.fills_df()))
    _say(out)
    _say(out, "Live orders (price-time priority, bids first):")
    _say(out, _table(book.live_orders_df()))
    _say(out)
    _say(
        out,
        f"Best bid {book.best_bid()}, best ask {book.best_ask()} (ticks); "
        f"digest {book.digest()[:16]}",
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with one sub-command per user story."""
    parser = argparse.ArgumentParser(
        prog="clobkit",
        description="Learn and explore a replicated central limit order book.",
    )
    parser.add_argument("--version", action="version", version=f"clobkit {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    p_demo = commands.add_parser("demo", help="run a short narrated scenario in the terminal")
    p_demo.set_defaults(run=demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits for --help, --version and usage errors
        return int(exc.code or 0)
    return int(args.run(args))
