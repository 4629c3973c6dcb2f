"""Write-ahead log throughput on the real disk: what durability costs, and what group commit buys.

Measured side by side in one run, interleaved over several repeats (medians), with ~64-byte
payloads, each mode on a fresh FileStore in a temporary directory (under /tmp or --dir):

* ``fsync``: the raw floor, a plain file: ``os.write(64 bytes)`` + ``os.fsync`` in a loop;
* ``fdatasync``: the same with ``os.fdatasync``, which is what the WAL calls (it skips the
  inode timestamps, so on ext4 it can be several times cheaper than ``fsync``);
* ``sync_each``: ``sync_policy="always"``: append one record, ``sync()``, acknowledge it;
* ``group16`` / ``group64`` / ``group256``: ``sync_policy="group"``: append a batch, one
  ``sync()``, then acknowledge the batch. The benchmark asserts that no record is acknowledged
  before the sync that made it durable returned (``op <= wal.synced_op`` and counted in the
  ``SyncInfo``);
* ``never``: ``sync_policy="never"``: append + ``sync()`` that does not fsync (UNSAFE: a crash
  loses acknowledged records; shown for the price of safety only).

Every rate is records acknowledged per second, printed with its ratio to the raw fsync rate.
Target: group commit at batch 64 reaches >= 20x the sync-per-record rate.

Usage: ``python benchmarks/bench_wal.py [--quick] [--json PATH] [--dir DIR] [--repeats R]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from clobkit.storage import FileStore, LogEntry

PAYLOAD = bytes(range(64))
BATCHES = (16, 64, 256)


def bench_fsync(path: str, count: int, sync: Callable[[int], None] = os.fsync) -> float:
    """Raw floor: 64-byte write + ``sync`` (os.fsync) on a plain file; writes per second."""
    fd = os.open(os.path.join(path, "raw.bin"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        start = time.perf_counter()
        for _ in range(count):
            os.write(fd, PAYLOAD)
            sync(fd)
        elapsed = time.perf_counter() - start
    finally:
        os.close(fd)
    return count / elapsed


def bench_store(path: str, policy: str, batch: int, count: int) -> float:
    """Append ``count`` records in batches of ``batch``, one sync per batch; records/s acked."""
    store = FileStore(path, cluster_id="bench", replica_id=0, sync_policy=policy)  # type: ignore[arg-type]
    wal = store.wal
    acknowledged = 0
    op = 0
    try:
        start = time.perf_counter()
        while op < count:
            for _ in range(batch):
                op += 1
                wal.append(LogEntry(1, op, PAYLOAD))
            info = wal.sync()
            # Acknowledge only what this sync returned as durable (or claimed, under "never").
            assert info.records == batch and wal.synced_op == op, "ack before sync"
            assert policy == "never" or info.durable
            acknowledged = op
        elapsed = time.perf_counter() - start
    finally:
        store.close()
    assert acknowledged == op
    return acknowledged / elapsed


def run(root: str, quick: bool, repeats: int) -> dict[str, float]:
    n_sync = 200 if quick else 2000
    n_group = 4096 if quick else 32768
    n_never = 20000 if quick else 100000
    modes: dict[str, Callable[[str], float]] = {
        "fsync": lambda p: bench_fsync(p, n_sync),
        "fdatasync": lambda p: bench_fsync(p, n_sync, getattr(os, "fdatasync", os.fsync)),
        "sync_each": lambda p: bench_store(p, "always", 1, n_sync),
        **{
            f"group{b}": (lambda p, b=b: bench_store(p, "group", b, n_group))  # type: ignore[misc]
            for b in BATCHES
        },
        "never": lambda p: bench_store(p, "never", 1, n_never),
    }
    samples: dict[str, list[float]] = {name: [] for name in modes}
    for round_no in range(repeats):
        for name, fn in modes.items():  # interleaved: every mode once per round
            path = os.path.join(root, f"{name}-{round_no}")
            os.makedirs(path)
            samples[name].append(fn(path))
            shutil.rmtree(path)
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller run, < 60 s")
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    parser.add_argument(
        "--dir", default=None, help="directory on the disk to measure (default /tmp)"
    )
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args()
    repeats = args.repeats or (3 if args.quick else 7)
    root = tempfile.mkdtemp(prefix="clobkit-bench-wal-", dir=args.dir or "/tmp")
    try:
        rates = run(root, args.quick, repeats)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    fsync = rates["fsync"]
    print(f"WAL throughput, 64-byte payloads, medians of {repeats} interleaved repeats, dir {root}")
    print(f"{'mode':<10} {'records/s':>12} {'x fsync':>9} {'x sync_each':>12}")
    for name, rate in rates.items():
        print(f"{name:<10} {rate:>12,.0f} {rate / fsync:>9.2f} {rate / rates['sync_each']:>12.1f}")
    ratio = rates["group64"] / rates["sync_each"]
    print(
        f"group64 / sync_each = {ratio:.1f}x (target >= 20x): {'OK' if ratio >= 20 else 'MISSED'}"
    )
    if args.json:
        figures = {f"{name}_per_s": rate for name, rate in rates.items()}
        figures["group64_over_sync_each"] = ratio
        figures.update({f"{name}_over_fsync": rate / fsync for name, rate in rates.items()})
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2, sort_keys=True)


if __name__ == "__main__":
    main()
