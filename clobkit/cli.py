"""The ``clobkit`` command line: ``python -m clobkit <command>``.

Each command is a small function that takes parsed arguments and returns an
exit code; :func:`main` parses ``argv`` with :mod:`argparse`, so bad
arguments get a usage message and exit code 2. Arguments argparse cannot judge
alone (a negative seed, a report path in a missing directory or over an
existing file) are checked by :func:`argument_errors` before anything runs:
one ``clobkit <command>: error: ...`` line per problem, exit code 2.

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

__all__ = ["main", "build_parser", "argument_errors"]


def _say(out: TextIO, text: str = "") -> None:
    print(text, file=out)


def _table(frame: object) -> str:
    """A DataFrame as plain text (no index), for a terminal."""
    to_string = frame.to_string  # type: ignore[attr-defined]
    return str(to_string(index=False)) if len(frame) else "(none)"  # type: ignore[arg-type]


def _people_table(frame: Any, spec: Any, columns: list[str]) -> str:
    """``columns`` of a fills/orders frame, prices written as the market spec writes them."""
    shown = frame[columns].copy()
    shown["price"] = [spec.format_price(int(t)) for t in frame["price_ticks"].tolist()]
    return _table(shown)


def _nodes_table(cluster: Any) -> str:
    frame = cluster.nodes_df()
    keep = [c for c in ("node", "role", "status", "view", "op", "commit") if c in frame.columns]
    return _table(frame[keep])


def demo(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """A short narrated scenario: trade, crash the primary, view change, nothing lost."""
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
            fills = ", ".join(f"{f.qty} @ {f.price}" for f in result.fills)
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
        fill_columns = ["fill_id", "seq", "price", "qty", "taker_user", "maker_user"]
        _say(out, _people_table(cluster.fills_df(), cluster.market, fill_columns))
        _say(out)
        _say(out, "Live orders (price-time priority, bids first):")
        order_columns = ["order_id", "user", "side", "price", "qty", "original_qty_lots", "seq"]
        _say(out, _people_table(cluster.live_orders_df(), cluster.market, order_columns))
        _say(out)
        committed_ops = {op for op, _view, _payload in cluster.committed_log()}
        lost = [r.op for r in acked if r.op not in committed_ops]
        verdict = cluster.history.check().verdict
        _say(out, f"Acknowledged orders: {len(acked)}; missing from the committed log: {len(lost)}")
        _say(out, f"Linearizability checker on what the clients saw: {verdict}")
        return 0 if not lost and verdict == "ok" else 1
    finally:
        cluster.close()


def _run_options(args: argparse.Namespace) -> dict[str, Any]:
    """The simulation options shared by ``campaign``, ``replay`` and ``report``."""
    options: dict[str, Any] = {
        "nodes": args.nodes,
        "ops": args.ops,
        "read_mode": args.read_mode,
        "unsafe": tuple(args.switch),
    }
    return options


_FAILED = ("illegal", "violation", "error")  # verdicts that mean a bug was found
_LISTED = 5  # failing seeds printed by ``campaign`` before "... and N more"


def _unsafe_settings(args: argparse.Namespace) -> list[str]:
    """The unsafe settings of a run: switches, and the read mode if it is not linearizable."""
    settings = list(dict.fromkeys(args.switch))
    if args.read_mode == "quorum-highest-seq":
        settings.append(f"read mode {args.read_mode}")
    return settings


def _exit_code(args: argparse.Namespace, verdicts: Any) -> int:
    """1 only when a safe configuration failed (illegal, violation or error); with an
    unsafe setting on, finding anomalies is the point. ``campaign`` and ``replay`` agree."""
    if _unsafe_settings(args):
        return 0
    return 1 if any(v in _FAILED for v in verdicts) else 0


def _replay_line(args: argparse.Namespace, seed: int) -> str:
    """The ``clobkit replay`` command that re-runs ``seed`` with the options of ``args``."""
    parts = ["clobkit", "replay", str(seed)]
    if args.nodes != 3:
        parts += ["--nodes", str(args.nodes)]
    if args.ops != 200:
        parts += ["--ops", str(args.ops)]
    if args.read_mode != "quorum":
        parts += ["--read-mode", args.read_mode]
    for switch in dict.fromkeys(args.switch):
        parts += ["--switch", switch]
    return " ".join(parts)


def campaign_command(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """Run many seeds; exit 1 if a run fails with no unsafe setting on."""
    import time
    from concurrent.futures import ProcessPoolExecutor

    from clobkit.check.campaigns import campaign

    seeds = range(args.first_seed, args.first_seed + args.seeds)
    options = _run_options(args)
    started = time.perf_counter()
    if args.workers > 1:
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            frame = campaign(seeds, executor=pool, progress=not args.quiet, **options)
        workers = f"{args.workers} worker processes"
    else:
        frame = campaign(seeds, progress=not args.quiet, **options)
        workers = "1 process"
    elapsed = time.perf_counter() - started
    counts = frame["verdict"].value_counts()
    _say(out)
    _say(
        out,
        f"campaign: {len(frame)} seeds x {args.nodes} nodes, ~{args.ops} ops each, on {workers}",
    )
    unsafe = ", ".join(_unsafe_settings(args)) or "none"
    _say(out, f"read mode {args.read_mode}; unsafe settings: {unsafe}")
    for verdict in ("ok", "illegal", "violation", "unknown", "error"):
        _say(out, f"  {verdict:<10} {int(counts.get(verdict, 0)):>6}")
    runs = float(frame["wall_time_s"].sum())
    _say(
        out,
        f"  wall time  {elapsed:.1f} s elapsed ({len(frame) * 60 / max(elapsed, 1e-9):.0f} "
        f"seeds/min); the runs themselves took {runs:.1f} s in all",
    )
    failing = frame[frame["verdict"] != "ok"]
    if len(failing):
        _say(out)
        _say(out, "Re-run a failing seed with:")
        for seed, verdict in zip(
            failing["seed"].head(_LISTED), failing["verdict"].head(_LISTED), strict=True
        ):
            _say(out, f"  {_replay_line(args, int(seed))}    # {verdict}")
        if len(failing) > _LISTED:
            more = [str(int(s)) for s in failing["seed"].iloc[_LISTED:]]
            shown = ", ".join(more[:20]) + (", ..." if len(more) > 20 else "")
            _say(out, f"  ... and {len(more)} more (seeds {shown})")
    return _exit_code(args, frame["verdict"])


def replay_command(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """Re-run one seed and print its trace summary and verdict; exit 1 only when a safe
    configuration fails (as ``campaign``)."""
    from clobkit.check.campaigns import replay

    run = replay(seed=args.seed, **_run_options(args))
    try:
        _say(out, f"replay of seed {args.seed}: verdict {run.verdict}")
        _say(out, f"  re-run with: {_replay_line(args, args.seed)}")
        _say(out, f"  or in Python: {run.repro}")
        unsafe = ", ".join(_unsafe_settings(args)) or "none"
        _say(out, f"  read mode {args.read_mode}; unsafe settings: {unsafe}")
        if run.cluster is None:
            _say(out, f"  the run raised: {run.error}")
            return _exit_code(args, [run.verdict])
        cluster = run.cluster
        _say(out, f"  simulated time {cluster.now_us / 1000:.1f} ms; faults {len(run.faults)}")
        _say(
            out, f"  trace digest {run.trace_digest[:16]}; history digest {run.history_digest[:16]}"
        )
        kinds = cluster.trace.to_frame()["kind"].value_counts().sort_index()
        _say(out, "  trace records by kind:")
        for kind, count in kinds.items():
            _say(out, f"    {kind:<22} {int(count):>7}")
        if run.check is not None:
            _say(out, f"  linearizability: {run.check.verdict}")
            if run.check.verdict in ("illegal", "unknown"):
                _say(out, f"    {run.check.explanation}")
        _say(out, f"  invariant violations: {len(run.violations)}")
        for violation in run.violations[:5]:
            _say(out, f"    {violation.kind}: {violation.detail}")
        if len(run.violations) > 5:
            _say(out, f"    ... and {len(run.violations) - 5} more")
        if run.error:
            _say(out, f"  error: {run.error}")
        _say(out)
        _say(out, _nodes_table(cluster))
    finally:
        if run.cluster is not None:
            run.cluster.close()
    return _exit_code(args, [run.verdict])


def argument_errors(args: argparse.Namespace) -> list[str]:
    """What is wrong with parsed arguments, one message per problem (empty: all good).

    Checked before a command runs, so a bad path is reported at once, not after a whole
    simulation.

    >>> parser = build_parser()
    >>> argument_errors(parser.parse_args(["replay", "-5"]))
    ['seed must be a non-negative integer, got -5']
    >>> argument_errors(parser.parse_args(["report", "3", "-o", "no_such_dir/x.html"]))
    ["-o no_such_dir/x.html: the directory 'no_such_dir' does not exist"]
    """
    from pathlib import Path

    errors = []
    for name, flag in (("seed", "seed"), ("first_seed", "--first-seed")):
        value = getattr(args, name, None)
        if value is not None and value < 0:
            label = "--seed" if args.command == "demo" else flag
            errors.append(f"{label} must be a non-negative integer, got {value}")
    if args.command == "report":
        target = Path(args.output)
        parent = target.parent
        if target.is_dir():
            errors.append(f"-o {args.output}: is a directory; give a file name such as run.html")
        elif not parent.is_dir():
            errors.append(f"-o {args.output}: the directory '{parent}' does not exist")
        elif target.exists() and not args.force:
            errors.append(f"-o {args.output}: the file exists; add --force to overwrite it")
    return errors


def report_command(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """Write the standalone HTML report of one seed."""
    from clobkit.report import write_report

    path = write_report(args.seed, args.output, **_run_options(args))
    _say(out, f"wrote {path} ({path.stat().st_size // 1024} KiB); open it in any browser")
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    from clobkit.replication import READ_MODES, UNSAFE_SWITCHES

    parser.add_argument(
        "--nodes", type=int, choices=(3, 5, 7), default=3, help="replicas (default 3)"
    )
    parser.add_argument(
        "--ops", type=_positive, default=200, help="client calls per run (default 200)"
    )
    parser.add_argument(
        "--read-mode", choices=sorted(READ_MODES), default="quorum", help="default quorum"
    )
    parser.add_argument(
        "--switch",
        action="append",
        default=[],
        choices=sorted(UNSAFE_SWITCHES),
        metavar="NAME",
        help="turn on an unsafe teaching switch (repeatable): "
        + ", ".join(sorted(UNSAFE_SWITCHES)),
    )


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

    p_campaign = commands.add_parser(
        "campaign",
        help="run many seeded runs with random faults and check each",
        description="Run one simulated run per seed (random workload, random faults), check "
        "invariants and linearizability, print a summary. Exits 1 when a run fails with no "
        "unsafe switch on.",
    )
    p_campaign.add_argument("--seeds", type=_positive, default=100, help="how many seeds")
    p_campaign.add_argument("--first-seed", type=int, default=0, help="first seed (default 0)")
    p_campaign.add_argument(
        "--workers", type=_positive, default=1, help="worker processes (default 1)"
    )
    p_campaign.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_run_options(p_campaign)
    p_campaign.set_defaults(run=campaign_command)

    p_replay = commands.add_parser(
        "replay",
        help="re-run one seed and print its trace summary and verdict",
        description="Re-run one seed deterministically; print the trace summary and verdict.",
    )
    p_replay.add_argument("seed", type=int, help="the seed to re-run")
    _add_run_options(p_replay)
    p_replay.set_defaults(run=replay_command)

    p_report = commands.add_parser(
        "report",
        help="write a standalone HTML report of one run",
        description="Re-run one seed and write a standalone HTML report (plotly.js inlined: "
        "opens in any browser without Jupyter or the internet).",
    )
    p_report.add_argument("seed", type=int, help="the seed to run")
    p_report.add_argument("-o", "--output", default="report.html", help="default report.html")
    p_report.add_argument("--force", action="store_true", help="overwrite an existing file")
    _add_run_options(p_report)
    p_report.set_defaults(run=report_command)

    from clobkit.proc.torture import add_parser as add_torture_parser  # real processes

    add_torture_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits for --help, --version and usage errors
        return int(exc.code or 0)
    errors = argument_errors(args)
    for message in errors:
        print(f"clobkit {args.command}: error: {message}", file=sys.stderr)
    if errors:
        return 2
    return int(args.run(args))
