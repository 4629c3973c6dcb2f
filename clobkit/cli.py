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
from typing import Any, TextIO

from clobkit._version import __version__

__all__ = ["main", "build_parser"]


def _say(out: TextIO, text: str = "") -> None:
    print(text, file=out)


def _table(frame: object) -> str:
    """A DataFrame as plain text (no index), for a terminal."""
    to_string = frame.to_string  # type: ignore[attr-defined]
    return str(to_string(index=False)) if len(frame) else "(none)"  # type: ignore[arg-type]


def _nodes_table(cluster: Any) -> str:
    frame = cluster.nodes_df()
    keep = [c for c in ("node", "role", "status", "view", "op", "commit") if c in frame.columns]
    return _table(frame[keep])


def demo(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """A short narrated scenario: trade, crash the primary, view change, nothing lost."""
    from clobkit.check import book_model, check_operations
    from clobkit.sim import Cluster

    seed = int(args.seed)
    cluster = Cluster(nodes=3, seed=seed, storage="memory")
    try:
        _say(out, f"clobkit demo: a 3-replica order book for ACME (seed {seed}, simulated time)")
        _say(out)
        _say(out, _nodes_table(cluster))
        _say(out)
        _say(out, "1. Trading. Each order is sequenced by the primary, written to a majority of")
        _say(out, "   write-ahead logs, and only then matched and acknowledged.")
        acked = []
        steps = [
            ("alice", "sell", "100.50", 10, "alice offers 10 @ 100.50"),
            ("alice", "sell", "100.75", 5, "alice offers 5 @ 100.75"),
            ("carol", "buy", "100.00", 8, "carol bids 8 @ 100.00"),
            ("bob", "buy", "100.75", 12, "bob buys 12 up to 100.75"),
        ]
        for user, side, price, qty, story in steps:
            result = cluster.place(user, side, price=price, qty=qty)
            acked.append(result)
            fills = ", ".join(
                f"{f.qty} @ {p}" for f, p in zip(result.fills, result.fill_prices, strict=True)
            )
            _say(
                out,
                f"   op {result.op}: {story} -> {result.status}"
                + (f" (traded {fills})" if fills else ""),
            )
        old_primary = cluster.primary
        _say(out)
        _say(out, f"2. The primary {old_primary} crashes. The backups stop hearing its heartbeats,")
        _say(
            out, "   time out, and run a view change: the new primary adopts the most complete log"
        )
        _say(out, "   held by a majority, so nothing acknowledged can be lost.")
        cluster.crash(old_primary)
        cluster.run(ms=300)
        new_primary = cluster.primary
        if new_primary is None:  # pragma: no cover - the default timeouts elect within 300 ms
            _say(out, "   no primary yet; running longer")
            cluster.run(ms=1000)
            new_primary = cluster.primary
        view = cluster.nodes[new_primary].view if new_primary else None
        _say(out, f"   new primary: {new_primary} in view {view}")
        _say(out)
        _say(out, _nodes_table(cluster))
        _say(out)
        _say(out, "3. Trading goes on with the new primary.")
        result = cluster.place("dave", "sell", price="100.00", qty=3)
        acked.append(result)
        _say(out, f"   op {result.op}: dave sells 3 @ 100.00 -> {result.status}")
        _say(out)
        _say(out, "Fills (read through a majority quorum; each trade at the resting price):")
        _say(out, _table(cluster.fills_df()))
        _say(out)
        _say(out, "Live orders (price-time priority, bids first):")
        _say(out, _table(cluster.live_orders_df()))
        _say(out)
        committed_ops = {op for op, _view, _payload in cluster.committed_log()}
        lost = [r.op for r in acked if r.op not in committed_ops]
        verdict = check_operations(
            book_model(cluster.market), cluster.history.to_check_history().operations()
        ).verdict
        _say(out, f"Acknowledged orders: {len(acked)}; missing from the committed log: {len(lost)}")
        _say(out, f"Linearizability checker on what the clients saw: {verdict}")
        return 0 if not lost and verdict == "ok" else 1
    finally:
        cluster.close()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with one sub-command per user story."""
    parser = argparse.ArgumentParser(
        prog="clobkit",
        description="Learn and explore a replicated central limit order book.",
    )
    parser.add_argument("--version", action="version", version=f"clobkit {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    p_demo = commands.add_parser(
        "demo",
        help="trade on a 3-replica cluster, crash the primary, watch the view change",
        description="A narrated scenario in the terminal: trade, crash the primary, "
        "view change, nothing lost.",
    )
    p_demo.add_argument("--seed", type=int, default=1, help="simulation seed (default 1)")
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
