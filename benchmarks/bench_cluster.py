"""Benchmark: the simulated 3-node cluster against the bare book and against raw fsync.

What it measures, all in one run, interleaved, medians of several repeats:

* ``book_cmds_per_s``: ``OrderBook.apply`` on a stream of places and cancels (no replication);
* ``sim_cluster_cmds_per_s``: the same kind of commands submitted by many concurrent simulated
  clients to a 3-node :class:`clobkit.sim.Cluster` with in-memory disks (trace and invariant
  monitor off), counted when the client has its committed reply; wall-clock rate;
* ``fsync_per_s``: raw ``write`` + ``os.fsync`` of a small record to a file in a temp dir;
* ``durable_cluster_cmds_per_s``: the cluster on real WAL files (``storage="file"``, group commit),
  1024 concurrent clients with 4 commands each, in both modes, so batches form (real fsyncs are
  counted: commands per fsync, and per file name in ``real_fsyncs_by_file``);
* ``commit_latency_us``: the median simulated latency of one client's sequential places, with a
  constant one-way network latency and sync latency, next to ``2 * one_way + sync`` (one round trip
  plus a sync, the cost of replication itself).

* ``cpu_us_per_command``: process CPU time (``time.process_time``) per committed command of the
  memory run (3 nodes, quorum reads, memory disks, trace off): less sensitive than wall-clock
  rates to other processes sharing the machine (target <= 35);
* ``python_calls_per_command``: Python function calls (cProfile's count, builtins included) per
  committed command of the memory run at 64 clients, 6,000 commands, seed 2: the same number on
  every run of the same code, so it compares two versions where CPU timings on a shared machine
  cannot (it is what ``/work/campaign/calls.py`` reports);
* ``commands_per_real_fsync``: committed commands per real fsync of the durable run (group
  commit; target >= 40);
* ``durable_fsync_share_of_wall``: the share of the durable run's wall time spent inside real
  fsync calls (the rest is CPU: why ``durable_cluster_over_fsync`` follows the CPU).

Ratios: ``sim_cluster_over_book`` (target >= 0.05, issue 14) and ``durable_cluster_over_fsync``
(target >= 20: each fsync covers many commands). ``--quick`` keeps the run under a minute; ``--json PATH``
writes every figure.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from clobkit.book import Cancel, MarketSpec, OrderBook, Place
from clobkit.sim import Cluster
from clobkit.sim.workload import RandomWorkload

SPEC = MarketSpec("ACME", tick="0.01", lot=1)
MIX = {"place": 0.75, "cancel": 0.25}
#: The durable run: this many closed-loop clients, each submitting this many commands.
DURABLE_USERS = 1024
DURABLE_COMMANDS_PER_USER = 4


def book_rate(commands: int, seed: int) -> float:
    """Commands per second of the bare book on a place/cancel stream like the workload's."""
    rng = random.Random(seed)
    stream = []
    live: list[tuple[str, int]] = []
    for seq in range(1, commands + 1):
        if live and rng.random() < 0.25:
            user, oid = live.pop(rng.randrange(len(live)))
            stream.append(Cancel("ACME", user, oid))
        else:
            side = rng.choice(("buy", "sell"))
            off = rng.randint(-5, 5)
            user = f"u{rng.randrange(64)}"
            stream.append(
                Place(
                    "ACME",
                    user,
                    side,
                    10_000 + (off if side == "buy" else -off),
                    rng.randint(1, 10),
                    order_id=seq,
                )
            )
            live.append((user, seq))
    book = OrderBook(SPEC)
    apply = book.apply
    start = time.perf_counter()
    for seq, command in enumerate(stream, start=1):
        apply(command, seq, seq)
    return commands / (time.perf_counter() - start)


class FsyncCounter:
    """Counts real ``os.fsync``/``os.fdatasync`` calls, the wall time inside them, and the calls
    per file name (``by_file``; Linux names the file behind a descriptor in ``/proc/self/fd``,
    elsewhere every call counts under ``"?"``), while installed (benchmark only)."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self.by_file: collections.Counter[str] = collections.Counter()
        self._fsync, self._fdatasync = os.fsync, getattr(os, "fdatasync", os.fsync)

    def _counted(self, real: Callable[[int], None]) -> Callable[[int], None]:
        """``real`` (os.fsync or os.fdatasync), counted: the call, its file name, its time."""

        def sync(fd: int) -> None:
            self.count += 1
            try:
                name = os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))
            except OSError:
                name = "?"
            self.by_file[name] += 1
            start = time.perf_counter()
            real(fd)
            self.seconds += time.perf_counter() - start

        return sync

    def __enter__(self) -> FsyncCounter:
        os.fsync = self._counted(self._fsync)
        if hasattr(os, "fdatasync"):
            os.fdatasync = self._counted(self._fdatasync)
        return self

    def __exit__(self, *exc: object) -> None:
        os.fsync = self._fsync
        if hasattr(os, "fdatasync"):
            os.fdatasync = self._fdatasync


def cluster_rate(
    storage: str, users: int, commands: int, seed: int
) -> tuple[float, dict[str, Any]]:
    """Committed commands per wall-clock second of a 3-node cluster under a closed-loop load."""
    c = Cluster(3, seed=seed, storage=storage, check=False, trace=False, timeout_ms=20_000)
    per_user = max(1, commands // users)
    w = RandomWorkload(
        c, users=[f"u{i}" for i in range(users)], ops_per_user=per_user, think_us_max=0, mix=MIX
    )
    w.start()
    with FsyncCounter() as fsyncs:
        cpu_start = time.process_time()
        start = time.perf_counter()
        c.run(until=lambda _: w.completed >= users * per_user)
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
    ok = w.outcomes.get("ok", 0)
    info = {
        "ok": ok,
        "sim_ms": c.now_us / 1000,
        "primary_batches": c.world.hosts["n0"].batches,
        "primary_handled": c.world.hosts["n0"].messages_handled,
        "real_fsyncs": fsyncs.count,
        "real_fsyncs_by_file": dict(fsyncs.by_file.most_common()),
        "commands_per_real_fsync": ok / fsyncs.count if fsyncs.count else None,
        # how much of the run's wall time the real fsyncs took (the rest is CPU)
        "fsync_share_of_wall": fsyncs.seconds / elapsed,
        "cpu_us_per_command": cpu * 1e6 / ok if ok else None,
        "users": users,
    }
    c.close()
    return ok / elapsed, info


def python_calls_per_command(commands: int = 6_000, seed: int = 2) -> float:
    """Python function calls per committed command of the memory run (deterministic: the same
    count on every run of the same code; cProfile's count, builtins included)."""
    cluster_rate("memory", users=64, commands=600, seed=0)  # (imports and caches warmed first)
    profile = cProfile.Profile()
    profile.enable()
    try:
        _rate, info = cluster_rate("memory", users=64, commands=commands, seed=seed)
    finally:
        profile.disable()
    profile.create_stats()
    calls = sum(row[1] for row in profile.stats.values())  # type: ignore[attr-defined]
    return float(calls / info["ok"])


def fsync_rate(count: int) -> float:
    """Raw small write + os.fsync per second in a temp directory."""
    with tempfile.TemporaryDirectory(prefix="clobkit-bench-") as tmp:
        fd = os.open(os.path.join(tmp, "f"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            record = b"x" * 64
            start = time.perf_counter()
            for _ in range(count):
                os.write(fd, record)
                os.fsync(fd)
            return count / (time.perf_counter() - start)
        finally:
            os.close(fd)


def commit_latency(one_way_us: int, sync_us: int, places: int, read_mode: str) -> float:
    """Median simulated latency of sequential places with constant network and disk costs."""
    c = Cluster(
        3,
        seed=1,
        storage="memory",
        read_mode=read_mode,
        latency="constant",
        latency_us_min=one_way_us,
        sync_latency_us=sync_us,
        check=False,
        trace=False,
    )
    lat = []
    for i in range(places):
        call = c.submit("lat", "place", side="buy", price=str(1 + i % 50), qty=1)
        c.run()
        assert call.outcome == "ok", call
        lat.append(call.latency_us)
    c.close()
    return float(statistics.median(lat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run (< 60 s)")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args()
    quick = args.quick
    repeats = args.repeats or (3 if quick else 5)
    book_n = 20_000 if quick else 100_000
    mem_n = 2_000 if quick else 6_000
    # The durable run's shape is the same in both modes: 1,024 clients with 4 commands each
    # (before, --quick gave each client one command, so that nearly all of them shared the
    # first group commit and commands_per_real_fsync read about twice the full run's figure).
    file_n = DURABLE_USERS * DURABLE_COMMANDS_PER_USER
    fsync_n = 300 if quick else 1_000

    book, mem, fs, dur, cpu = [], [], [], [], []
    mem_info: dict[str, Any] = {}
    dur_info: dict[str, Any] = {}
    for r in range(repeats):  # interleaved so that machine noise hits every figure alike
        book.append(book_rate(book_n, seed=r))
        rate, mem_info = cluster_rate("memory", users=64, commands=mem_n, seed=r)
        mem.append(rate)
        cpu.append(mem_info["cpu_us_per_command"])
        fs.append(fsync_rate(fsync_n))
        rate, dur_info = cluster_rate("file", users=DURABLE_USERS, commands=file_n, seed=r)
        dur.append(rate)
        print(
            f"repeat {r + 1}/{repeats}: book {book[-1]:,.0f}/s  sim cluster {mem[-1]:,.0f}/s  "
            f"fsync {fs[-1]:,.0f}/s  durable cluster {dur[-1]:,.0f}/s",
            flush=True,
        )
    one_way, sync = 500, 1_000
    places = 20 if quick else 50
    quorum_us = commit_latency(one_way, sync, places, "quorum")
    primary_us = commit_latency(one_way, sync, places, "primary")
    floor = 2 * one_way + sync
    calls_per_command = python_calls_per_command()
    latency = {
        "one_way_us": one_way,
        "sync_us": sync,
        "round_trip_plus_sync_us": floor,
        "commit_latency_us": quorum_us,
        "commit_latency_over_round_trip_plus_sync": quorum_us / floor,
        "commit_latency_primary_read_mode_us": primary_us,
        "commit_latency_primary_read_mode_over_round_trip_plus_sync": primary_us / floor,
    }
    figures = {
        "book_cmds_per_s": statistics.median(book),
        "sim_cluster_cmds_per_s": statistics.median(mem),
        "fsync_per_s": statistics.median(fs),
        "durable_cluster_cmds_per_s": statistics.median(dur),
        "sim_cluster_over_book": statistics.median(mem) / statistics.median(book),
        "cpu_us_per_command": statistics.median(cpu),
        "python_calls_per_command": calls_per_command,
        "commands_per_real_fsync": dur_info["commands_per_real_fsync"],
        "durable_cluster_over_fsync": statistics.median(dur) / statistics.median(fs),
        "durable_fsync_share_of_wall": dur_info["fsync_share_of_wall"],
        "repeats": repeats,
        "quick": quick,
        "sim_cluster_last_run": mem_info,
        "durable_cluster_last_run": dur_info,
        **latency,
    }
    print()
    print(f"bare book             {figures['book_cmds_per_s']:>12,.0f} commands/s")
    print(
        f"sim cluster (memory)  {figures['sim_cluster_cmds_per_s']:>12,.0f} commands/s   "
        f"ratio to book {figures['sim_cluster_over_book']:.3f}  (target >= 0.05)"
    )
    print(
        f"  process CPU per committed command: {figures['cpu_us_per_command']:.1f} us "
        "(3 nodes, quorum reads, memory disks, trace off; target <= 35)"
    )
    print(
        f"  Python calls per committed command: {calls_per_command:.1f} "
        "(cProfile, 64 clients, 6,000 commands, seed 2; deterministic)"
    )
    print(f"raw fsync             {figures['fsync_per_s']:>12,.0f} fsyncs/s")
    print(
        f"durable cluster (file){figures['durable_cluster_cmds_per_s']:>12,.0f} commands/s   "
        f"ratio to fsync {figures['durable_cluster_over_fsync']:.2f}  (target >= 20)"
    )
    print(
        f"  commands per real fsync: {dur_info['commands_per_real_fsync']:.1f} "
        f"({dur_info['users']} clients x {DURABLE_COMMANDS_PER_USER} commands; group commit; "
        f"target >= 40); {100 * dur_info['fsync_share_of_wall']:.1f} % of the run's wall time in fsync"
    )
    by_file = ", ".join(f"{name} {n}" for name, n in dur_info["real_fsyncs_by_file"].items())
    print(f"  real syncs by file (last repeat): {by_file}")
    print(
        f"commit latency        {quorum_us:>12,.0f} us simulated, read_mode=quorum "
        f"({quorum_us / floor:.2f}x one round trip + sync = {floor} us; one-way {one_way} us, "
        f"sync {sync} us)"
    )
    print(
        f"                      {primary_us:>12,.0f} us simulated, read_mode=primary "
        f"({primary_us / floor:.2f}x)"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
