"""Benchmark: the leaf codecs and message objects, each beside its pre-change implementation.

Every figure is CPU nanoseconds per call of the public function (``time.process_time_ns``, so
time spent descheduled on a shared machine does not count), measured in one run, the new and
the old implementation interleaved (new chunk, old chunk, new chunk, ...), medians over the
repeats; ``*_speedup`` is old / new from the same medians. The old implementations are the
test oracles in ``tests/`` (the code as it was at commit 53a6306), not copies in the package.

* ``encode_command_ns``: :func:`clobkit.book.encode_command` over a stream of places and
  cancels like the cluster benchmark's workload (75 % places around a common mid, 25 %
  cancels, 64 users);
* ``decode_command_ns``: :func:`clobkit.book.decode_command` as the replicated path calls it:
  each entry decoded three times (one per replica), each time from its own copy of the bytes;
  ``decode_command_cold_ns`` decodes every entry once, never seen before (the memo misses);
* ``decode_envelope_ns``: :func:`clobkit.replication.decode_envelope`, same three-copies
  pattern (the profile counted six envelope decodes per command);
* ``message_build_ns``: building a message with keywords, as the replica does (the mean of a
  ``Prepare`` of one prebuilt entry and a ``PrepareOk``), and ``problem_ns``: checking such a
  ``Prepare`` with :func:`clobkit.replication.messages.problem` (its entry's envelope not yet
  seen: the first replica to check it pays the decode; the others hit the memo);
* ``encode_result_ns`` / ``decode_result_ns``: :func:`clobkit.book.encode_result` and
  ``decode_result`` on the results of applying the stream to a book;
* ``encode_record_ns`` / ``decode_record_ns``: WAL record framing and checking (two BLAKE2b
  checksums); decoding as for commands: three reads of each record, each from its own copy
  (``decode_record_cold_ns``: each record once, never seen before).

``--quick`` keeps the run under a minute; ``--json PATH`` writes every figure.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from clobkit.book import Cancel, MarketSpec, OrderBook, Place, codec
from clobkit.book.commands import Command
from clobkit.replication import envelope, messages
from clobkit.replication.envelope import Envelope, encode_envelope
from clobkit.storage import format as fmt
from clobkit.storage.base import LogEntry
from tests.book import codec_oracle as old_codec
from tests.replication import envelope_oracle as old_envelope
from tests.replication import messages_oracle as old_messages
from tests.storage.test_storage_format_oracle import old_decode_record, old_encode_record


def workload(n: int, seed: int) -> list[Command]:
    """Places and cancels like bench_cluster's RandomWorkload mix (ticks of 0.01 around 100)."""
    rng = random.Random(seed)
    out: list[Command] = []
    live: list[tuple[str, int]] = []
    for seq in range(1, n + 1):
        if live and rng.random() < 0.25:
            user, oid = live.pop(rng.randrange(len(live)))
            out.append(Cancel("ACME", user, oid))
        else:
            user = f"u{rng.randrange(64)}"
            side = rng.choice(("buy", "sell"))
            out.append(Place("ACME", user, side, 10_000 + rng.randint(-5, 5), rng.randint(1, 20)))
            live.append((user, seq))
    return out


def copies(items: Sequence[bytes], times: int) -> list[bytes]:
    """Each item ``times`` times in a row, every one a distinct bytes object (a fresh read)."""
    return [bytes(bytearray(b)) for b in items for _ in range(times)]


def loop(fn: Callable[[Any], object], items: Sequence[Any]) -> float:
    start = time.process_time_ns()
    for item in items:
        fn(item)
    return (time.process_time_ns() - start) / len(items)


def side_by_side(
    new: Callable[[], float], old: Callable[[], float], repeats: int
) -> tuple[float, float]:
    """Median ns/call of ``new`` and ``old``, alternating which goes first."""
    a: list[float] = []
    b: list[float] = []
    for r in range(repeats):
        if r % 2:
            b.append(old())
            a.append(new())
        else:
            a.append(new())
            b.append(old())
    return statistics.median(a), statistics.median(b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small run (< 60 s)")
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args()
    n = 2_000 if args.quick else 20_000
    repeats = args.repeats or (9 if args.quick else 21)

    commands = workload(n, seed=1)
    encoded = [codec.encode_command(c) for c in commands]
    assert encoded == [old_codec.encode_command(c) for c in commands]  # identical bytes
    distinct = list(dict.fromkeys(encoded))
    three = copies(distinct, 3)
    book = OrderBook(MarketSpec("ACME", tick="0.01", lot=1))
    results = [book.apply(c, seq, seq * 10) for seq, c in enumerate(commands, 1)]
    res_bytes = [codec.encode_result(r) for r in results]
    assert res_bytes == [old_codec.encode_result(r) for r in results]
    envs = [
        encode_envelope(Envelope(f"u{i % 64}", i + 1, 1_000 * i, b)) for i, b in enumerate(encoded)
    ]
    env_three = copies(list(dict.fromkeys(envs)), 3)
    records = [fmt.encode_record(1, i + 1, e) for i, e in enumerate(envs)]
    assert records[:100] == [old_encode_record(1, i + 1, e) for i, e in enumerate(envs[:100])]
    ops = list(enumerate(envs[: n // 4], 1))

    def cold_decode() -> float:
        codec._decoded.clear()
        return loop(codec.decode_command, distinct)

    def warm_decode() -> float:
        codec._decoded.clear()
        return loop(codec.decode_command, three)

    def warm_envelope() -> float:
        envelope._decoded.clear()
        return loop(envelope.decode_envelope, env_three)

    entry_tuples = [(LogEntry(1, op, payload),) for op, payload in ops]

    rec_three = copies(records, 3)

    def warm_record() -> float:
        fmt._records.clear()
        return loop(fmt.decode_record, rec_three)

    def cold_record() -> float:
        fmt._records.clear()
        return loop(fmt.decode_record, records)

    def build(module: Any) -> Callable[[], float]:
        prepare, prepare_ok = module.Prepare, module.PrepareOk

        def run() -> float:
            start = time.process_time_ns()
            for entries in entry_tuples:
                op = entries[0].op
                prepare(
                    cluster_id="c",
                    source="n0",
                    target="n1",
                    view=1,
                    op=op,
                    commit=op - 1,
                    entries=entries,
                )
                prepare_ok(cluster_id="c", source="n1", target="n0", view=1, op=op, commit=op - 1)
            return (time.process_time_ns() - start) / (2 * len(entry_tuples))

        return run  # fmt: skip

    new_prepares = [
        messages.Prepare(
            cluster_id="c", source="n0", target="n1", view=1, op=op, commit=op - 1,
            entries=(LogEntry(1, op, p),),
        )
        for op, p in ops
    ]  # fmt: skip
    old_prepares = [
        old_messages.Prepare(
            cluster_id="c", source="n0", target="n1", view=1, op=op, commit=op - 1,
            entries=(LogEntry(1, op, p),),
        )
        for op, p in ops
    ]  # fmt: skip

    def check_new() -> float:
        envelope._decoded.clear()  # the entries' envelopes are checked from scratch
        return loop(messages.problem, new_prepares)

    def check_old() -> float:
        return loop(old_messages.problem, old_prepares)

    cases: dict[str, tuple[Callable[[], float], Callable[[], float]]] = {
        "encode_command": (
            lambda: loop(codec.encode_command, commands),
            lambda: loop(old_codec.encode_command, commands),
        ),
        "decode_command": (warm_decode, lambda: loop(old_codec.decode_command, three)),
        "decode_command_cold": (cold_decode, lambda: loop(old_codec.decode_command, distinct)),
        "decode_envelope": (warm_envelope, lambda: loop(old_envelope.decode_envelope, env_three)),
        "message_build": (build(messages), build(old_messages)),
        "problem": (check_new, check_old),
        "encode_result": (
            lambda: loop(codec.encode_result, results),
            lambda: loop(old_codec.encode_result, results),
        ),
        "decode_result": (
            lambda: loop(codec.decode_result, res_bytes),
            lambda: loop(old_codec.decode_result, res_bytes),
        ),
        "encode_record": (
            lambda: loop(lambda e: fmt.encode_record(1, 7, e), envs),
            lambda: loop(lambda e: old_encode_record(1, 7, e), envs),
        ),
        "decode_record": (warm_record, lambda: loop(old_decode_record, rec_three)),
        "decode_record_cold": (cold_record, lambda: loop(old_decode_record, records)),
    }
    figures: dict[str, float | int | str] = {
        "commands": n,
        "repeats": repeats,
        "python": sys.version.split()[0],
    }
    print(f"{n:,} commands, {repeats} interleaved repeats, medians (ns per call)")
    print(f"{'':22s}{'new':>10s}{'old':>10s}{'old/new':>9s}")
    for name, (new, old) in cases.items():
        a, b = side_by_side(new, old, repeats)
        figures[f"{name}_ns"] = round(a, 1)
        figures[f"{name}_old_ns"] = round(b, 1)
        figures[f"{name}_speedup"] = round(b / a, 2)
        print(f"{name:22s}{a:10.0f}{b:10.0f}{b / a:8.1f}x")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
