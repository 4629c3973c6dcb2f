"""Benchmark: the floor of one replicated command, built from clobkit's own pieces.

Issue 14 asks for ``cpu_us_per_command`` <= 35 and ``sim_cluster_over_book`` >= 0.05 on
bench_cluster's memory run (3 nodes, quorum reads, memory disks, trace off, 64 closed-loop
users, 75 % places around a common mid, 25 % cancels). This script answers: what does the work
a committed command cannot do without cost, done with clobkit's real pieces in straight-line
loops, and what is left of 35 us (and of the 0.05 ratio) for everything else?

Over a pre-drawn stream of the same kind of commands (64 users in turn, the workload's draws,
cancels of the user's orders that rested), five cumulative layers, each timed per command in
process CPU (``time.process_time``), medians of interleaved repeats, in one run beside the real
figure (``bench_cluster.cluster_rate("memory", users=64, ...)``'s ``cpu_us_per_command``, and
``bench_cluster.book_rate`` for the ratio; both imported, not copied):

* ``book``: three ``OrderBook.apply`` per command (one book per replica), prebuilt commands;
* ``+codec``: the bytes that cross: the client's ``encode_command``, the primary's ``Envelope``
  and ``encode_envelope``, each replica's command decode on the replicas' own path (the
  ``recent_commands`` memo, else ``decode_command``; the backups take the envelope from the
  ``recent_envelopes`` memo that ``encode_envelope`` fills, as the real replicas do), the
  primary's ``encode_result`` (kept per command, as the client table keeps it);
* ``+wal``: one ``LogEntry`` per command and one checksummed record per replica with the real
  ``encode_record`` (the backups find it in ``recent_records`` first, as ``LogFile.append_many``
  does), appended to each replica's ``MemoryDisk`` with one ``write`` + ``fsync`` per sync, at
  the records per sync the real run has (measured in this run);
* ``+messages``: a ``Request`` and a ``Reply`` per command, and ``Prepare`` (carrying the last
  entries, as many as the real run's Prepares carry) / ``PrepareOk`` / ``Commit`` /
  ``CommitOk`` at the real run's per-command rates (counted in this run with a patched
  ``World.send``), each built with ``Kind.build`` and checked with ``messages.checks`` as on
  arrival, each drawn a latency (``getrandbits`` until below the width, as ``World.send``) and
  pushed on and popped off a heap of ``(time, seq, action, (msg_id, message))`` tuples kept at
  the real run's mean heap size;
* ``+client``: the closed-loop user: the workload's draws for the next command (kind, side,
  offset, size or cancel target, think time), the ``Place``/``Cancel`` built with the real
  classes, the ``HistoryRecord`` appended at the call and replaced at its outcome in a real
  ``ClientHistory`` (as ``Cluster._submit_write``/``_resolve`` do, inline), the reply's
  ``decode_result`` and the user's resting-order list.

What it proves: a lower bound on what clobkit's own pieces cost per committed command, so the
gap to the real figure is the price of everything else (the protocol's bookkeeping and the
simulator). What it does not: it has no view changes, timers, client table look-ups, quorum
tracking, sync scheduling, busy hosts, inboxes, Steps, calls, deadlines, monitor or journal;
every replica applies in the same iteration; it is a floor, not a design. Each layer's loop is
checked after it is timed: the three books end in the reference replay's state (digests), every
reply equals the reference result's encoding and every payload decodes to its command, each
WAL image scans with the real reader to every record with the right envelope, the message
counts are the scheduled ones, and the history holds the pre-drawn inputs, all ``ok``.

The same layers and the real run are also timed with ``gc.disable()`` (measurement only) to
show what the garbage collector adds to each. Also timed, not a layer: the *per-command part*
(``+client`` without anything per message, log entry, record or sync: what several commands per
Request/entry/record/Reply would leave), and single pieces alone. Then the real run is split by
phase with cProfile (inclusive times, normalised to the real CPU per command), and the functions
it runs that the floor never calls are listed by own time (the gap), beside the pieces both
call. ``--instructions`` also counts instructions per command of every loop and of the real run
with valgrind (callgrind, 640 -> 1,920 commands): the figure that does not move with the VM.

``python benchmarks/bench_floor.py [--quick] [--json PATH] [--repeats N] [--instructions]``
(``--quick`` takes well under a minute). JSON keys: ``floor_us_per_command`` (the ``+client``
layer), ``floor_layers_us``, ``floor_increments_us``, ``floor_per_command_part_us``,
``real_cpu_us_per_command``, ``floor_share_of_35``, ``floor_share_of_real``,
``left_for_the_rest_of_35_us``,
``floor_best_sim_cluster_over_book`` (the floor's rate over ``book_rate``),
``floor_best_ratio_same_stream_cpu``, ``book_us_per_apply``, ``book_cmds_per_s``,
``real_sim_cluster_over_book``, the real run's ``messages_per_command``,
``entries_per_prepare``, ``wal_appends_per_command``, ``records_per_append``,
``records_per_sync``, ``syncs_per_command``, ``commit_saves_per_command``,
``mean_heap_events``, the ``*_gc_off`` twins, ``gc_us_per_command_real``/``_floor``,
``pieces_us``, ``phases_us``, ``gap_top10``, ``shared_top10`` and, with ``--instructions``,
``instructions_per_command``.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import cProfile
import dataclasses
import gc
import heapq
import json
import os
import pstats
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench_cluster  # (the real figure: imported, not copied)

from clobkit.book import Cancel, OrderBook, Place
from clobkit.book import codec as _codec
from clobkit.book.codec import (
    decode_command,
    decode_result,
    encode_command,
    encode_result,
    recent_commands,
)
from clobkit.book.records import write_output
from clobkit.replication import envelope as _envelope
from clobkit.replication.envelope import (
    Envelope,
    decode_envelope,
    encode_envelope,
    recent_envelopes,
)
from clobkit.replication.messages import (
    Commit,
    CommitOk,
    Prepare,
    PrepareOk,
    Reply,
    Request,
    checks,
)
from clobkit.replication.step import client_name, replica_name
from clobkit.sim.calls import _PLAIN_PLACE_TAIL
from clobkit.sim.history import ClientHistory, HistoryRecord
from clobkit.sim.world import World, collecting_less_often
from clobkit.storage import format as _format
from clobkit.storage.base import LogEntry
from clobkit.storage.disk import MemoryDisk
from clobkit.storage.format import (
    decode_record,
    encode_file_header,
    encode_record,
    recent_records,
    scan,
)
from clobkit.storage.wal import WAL_FILE, LogFile

SPEC = bench_cluster.SPEC
USERS = 64
MID_TICKS, SPREAD_TICKS, QTY_MAX = 10_000, 5, 10  # RandomWorkload's defaults
KINDS = sorted(bench_cluster.MIX)  # ["cancel", "place"], as RandomWorkload sorts them
CUM_WEIGHTS = [0.25, 1.0]  # itertools.accumulate of the weights, in KINDS order
TOTAL_WEIGHT = 1.0
CLUSTER_ID = "clobkit"  # Cluster's default
LATENCY_LOW, LATENCY_N = 500, 1_001  # Cluster's default network: uniform 500-1,500 us
LAYERS = ("book", "+codec", "+wal", "+messages", "+client")
#: Not a layer: the floor's work that stays per command whatever the batching (see
#: _run_per_command).
PER_COMMAND = "per-command part"
TIMED = (*LAYERS, PER_COMMAND)
TARGET_US = 35.0
#: The real run's cpu_us_per_command on this VM when it is not slowed down (benchmarks/README.md,
#: "Merged main after the fifth cut": 59.5-61.5 us): a reference for reading the floor's share
#: of the real run in us, since the VM's speed moves by up to ~1.7x between runs.
QUIET_REAL_US = 60.0
_new_tuple: Any = tuple.__new__
# (message codes of the per-command schedule)
_PREPARE, _PREPARE_OK, _COMMIT, _COMMIT_OK = 1, 2, 3, 4


# -- the real run's shape ------------------------------------------------------------------


@dataclass
class RealShape:
    """What the real memory run does per committed command (counted, not timed)."""

    commands: int
    messages: dict[str, float]
    entries_per_prepare: float
    wal_appends_per_command: float
    records_per_append: float
    records_per_sync: float
    syncs_per_command: float
    commit_saves_per_command: float
    mean_heap: float


@contextlib.contextmanager
def _patched(owner: Any, name: str, wrapper: Callable[[Any], Any]) -> Iterator[None]:
    original = getattr(owner, name)
    setattr(owner, name, wrapper(original))
    try:
        yield
    finally:
        setattr(owner, name, original)


def measure_shape(commands: int, seed: int = 0) -> RealShape:
    """Count messages by kind, Prepare entries, WAL appends and syncs and the heap's size in
    one real memory run (``World.send``, ``LogFile.append_many``/``sync`` and
    ``MemoryDisk.write`` wrapped for the run only: measurement, the run is the same)."""
    counts: Counter[str] = Counter()
    heap_sizes = [0, 0]  # sum, samples

    def send(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(self: World, message: Any) -> None:
            counts[type(message).__name__] += 1
            if type(message) is Prepare:
                counts["prepare_entries"] += len(message.entries)
            heap_sizes[0] += len(self._heap)
            heap_sizes[1] += 1
            original(self, message)

        return wrapped

    def append_many(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(self: LogFile, entries: Any) -> None:
            counts["wal_append"] += 1
            counts["wal_appended"] += len(entries)
            original(self, entries)

        return wrapped

    def sync(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(self: LogFile) -> Any:
            if self._pending:
                counts["wal_sync"] += 1
                counts["wal_synced"] += len(self._pending)
            return original(self)

        return wrapped

    def write(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(self: MemoryDisk, name: str, offset: int, data: bytes) -> None:
            counts["write:" + name] += 1
            original(self, name, offset, data)

        return wrapped

    _clear_memos()
    with (
        _patched(World, "send", send),
        _patched(LogFile, "append_many", append_many),
        _patched(LogFile, "sync", sync),
        _patched(MemoryDisk, "write", write),
    ):
        _rate, info = bench_cluster.cluster_rate(
            "memory", users=USERS, commands=commands, seed=seed
        )
    ok = info["ok"]
    kinds = ("Request", "Reply", "Prepare", "PrepareOk", "Commit", "CommitOk")
    others = sum(v for k, v in counts.items() if k[0].isupper() and k not in kinds)
    messages = {k: counts[k] / ok for k in kinds}
    messages["other"] = others / ok
    return RealShape(
        commands=ok,
        messages=messages,
        entries_per_prepare=counts["prepare_entries"] / max(1, counts["Prepare"]),
        wal_appends_per_command=counts["wal_append"] / ok,
        records_per_append=counts["wal_appended"] / max(1, counts["wal_append"]),
        records_per_sync=counts["wal_synced"] / max(1, counts["wal_sync"]),
        syncs_per_command=counts["wal_sync"] / ok,
        commit_saves_per_command=counts["write:commit"] / ok,
        mean_heap=heap_sizes[0] / max(1, heap_sizes[1]),
    )


def _clear_memos() -> None:
    """Empty the codec's, the envelope's and the record format's memos (the library clears
    them itself when full): every timed run starts from the same empty memos, so a layer
    does not find the bytes of the previous repeat's identical stream (measurement only)."""
    _codec._decoded.clear()
    _codec._results.clear()
    _envelope._decoded.clear()
    _format._framed.clear()
    _format._records.clear()


# -- the stream ----------------------------------------------------------------------------


@dataclass
class Stream:
    """The pre-drawn commands, their reference replay and the per-command schedule."""

    seed: int
    commands: list[Place | Cancel]
    users: list[str]
    request_numbers: list[int]
    inputs: list[tuple[Any, ...]]  # the history input of each call (as the cluster writes it)
    replies: list[bytes]  # encode_result of the reference book's result
    digest: str  # the reference book's digest after the whole stream
    extras: list[tuple[int, ...]] = field(default_factory=list)  # messages beyond Request/Reply
    sync_due: list[bool] = field(default_factory=list)
    prepare_entries: int = 1
    heap_size: int = 64


def draw_stream(n: int, seed: int = 0, shape: RealShape | None = None) -> Stream:
    """``n`` commands as RandomWorkload draws them (users in turn; the draws of ``_issue`` and
    ``_schedule`` inline, from ``random.Random(seed)``), replayed on a reference book, with
    the schedule of extra messages and syncs at ``shape``'s rates (default: one Prepare,
    PrepareOk, Commit and CommitOk per 5 commands, 9 records per sync)."""
    rng = random.Random(seed)
    getrandbits, rand = rng.getrandbits, rng.random
    names = [f"u{i}" for i in range(USERS)]
    live: dict[str, list[int]] = {u: [] for u in names}
    book = OrderBook(SPEC)
    commands: list[Place | Cancel] = []
    users, numbers, inputs, replies = [], [], [], []
    for i in range(n):
        user = names[i % USERS]
        kind = KINDS[bisect.bisect(CUM_WEIGHTS, rand() * TOTAL_WEIGHT, 0, 1)]
        mine = live[user]
        if kind == "cancel" and not mine:
            kind = "place"
        command: Place | Cancel
        if kind == "place":
            r = getrandbits(2)
            while r >= 2:
                r = getrandbits(2)
            side = ("buy", "sell")[r]
            r = getrandbits(4)
            while r >= 11:
                r = getrandbits(4)
            offset = r - SPREAD_TICKS
            ticks = MID_TICKS + (offset if side == "buy" else -offset)
            r = getrandbits(4)
            while r >= QTY_MAX:
                r = getrandbits(4)
            command = Place("ACME", user, side, ticks, 1 + r)
            inputs.append(("place", "ACME", user, side, ticks, 1 + r, *_PLAIN_PLACE_TAIL))
        else:
            count = len(mine)
            bits = count.bit_length()
            r = getrandbits(bits)
            while r >= count:
                r = getrandbits(bits)
            order_id = mine.pop(r)
            command = Cancel("ACME", user, order_id, None)
            inputs.append(("cancel", "ACME", user, order_id))
        result = book.apply(command, i + 1, i + 1)
        if (
            kind == "place"
            and result.accepted
            and result.resting_qty > 0
            and result.order_id is not None
        ):
            mine.append(result.order_id)
        r = getrandbits(1)  # (the think time: think_us_max=0, randbelow(1))
        while r >= 1:
            r = getrandbits(1)
        commands.append(command)
        users.append(user)
        numbers.append(i // USERS + 1)
        replies.append(encode_result(result))
    stream = Stream(seed, commands, users, numbers, inputs, replies, book.digest())
    schedule(stream, shape)
    return stream


def schedule(stream: Stream, shape: RealShape | None) -> None:
    """Spread the extra messages and the syncs over the stream at ``shape``'s rates."""
    rates = (
        (0.2, 0.2, 0.2, 0.2)
        if shape is None
        else tuple(shape.messages[k] for k in ("Prepare", "PrepareOk", "Commit", "CommitOk"))
    )
    per_sync = 9.0 if shape is None else shape.records_per_sync
    owed = [0.0, 0.0, 0.0, 0.0]
    extras, due = [], []
    for i in range(len(stream.commands)):
        now: list[int] = []
        for k, rate in enumerate(rates):
            owed[k] += rate
            while owed[k] >= 1.0:
                owed[k] -= 1.0
                now.append(k + 1)
        extras.append(tuple(now))
        due.append(int((i + 1) / per_sync) > int(i / per_sync))
    stream.extras, stream.sync_due = extras, due
    stream.prepare_entries = 8 if shape is None else max(1, round(shape.entries_per_prepare))
    stream.heap_size = 64 if shape is None else max(1, round(shape.mean_heap))


# -- the layers ----------------------------------------------------------------------------


@dataclass
class FloorRun:
    """One timed run of one layer, and what it left behind to check."""

    layer: str
    seconds: float
    books: list[OrderBook]
    replies: list[bytes | None]
    disks: list[MemoryDisk] = field(default_factory=list)
    sent: Counter[str] = field(default_factory=Counter)
    history: ClientHistory | None = None
    heap: list[Any] = field(default_factory=list)
    net: random.Random | None = None

    @property
    def us_per_command(self) -> float:
        return self.seconds * 1e6 / len(self.replies)


def _books() -> tuple[list[OrderBook], Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    books = [OrderBook(SPEC) for _ in range(3)]
    return books, books[0].apply, books[1].apply, books[2].apply


def _disks() -> list[MemoryDisk]:
    disks = [MemoryDisk(seed=i) for i in range(3)]
    for disk in disks:
        disk.create(WAL_FILE, encode_file_header(0, 0))
        disk.fsync(WAL_FILE)
        disk.fsync_dir()
    return disks


def _heap(size: int) -> list[Any]:
    """A heap of ``size`` events in the first 1.5 ms, as the simulator's holds in flight."""
    heap = [(t * 1_500 // size, -t, None, None) for t in range(size)]
    heapq.heapify(heap)
    return heap


def _run_book(stream: Stream) -> FloorRun:
    books, a0, a1, a2 = _books()
    commands = stream.commands
    start = time.process_time()
    for op, command in enumerate(commands, start=1):
        a0(command, op, op)
        a1(command, op, op)
        a2(command, op, op)
    seconds = time.process_time() - start
    return FloorRun("book", seconds, books, [None] * len(commands))


def _run_codec(stream: Stream) -> FloorRun:
    books, a0, a1, a2 = _books()
    commands, users, numbers = stream.commands, stream.users, stream.request_numbers
    replies: list[bytes | None] = [None] * len(commands)
    memo, envs = recent_commands, recent_envelopes
    start = time.process_time()
    for i in range(len(commands)):
        op = i + 1
        payload = encode_command(commands[i])  # the client
        env = Envelope(users[i], numbers[i], op, payload)  # the primary
        data = encode_envelope(env)
        command = memo[payload] if payload in memo else decode_command(payload)
        replies[i] = encode_result(a0(command, op, op))
        e1 = envs[data] if data in envs else decode_envelope(data)  # backup 1
        p1 = e1.payload
        a1(memo[p1] if p1 in memo else decode_command(p1), op, op)
        e2 = envs[data] if data in envs else decode_envelope(data)  # backup 2
        p2 = e2.payload
        a2(memo[p2] if p2 in memo else decode_command(p2), op, op)
    seconds = time.process_time() - start
    return FloorRun("+codec", seconds, books, replies)


def _run_wal(stream: Stream) -> FloorRun:
    books, a0, a1, a2 = _books()
    disks = _disks()
    d0, d1, d2 = disks
    commands, users, numbers, due = (
        stream.commands,
        stream.users,
        stream.request_numbers,
        stream.sync_due,
    )
    replies: list[bytes | None] = [None] * len(commands)
    memo, envs, known = recent_commands, recent_envelopes, recent_records
    log: list[LogEntry] = []
    p0: list[bytes] = []
    p1: list[bytes] = []
    p2: list[bytes] = []
    end0 = end1 = end2 = d0.size(WAL_FILE)
    start = time.process_time()
    for i in range(len(commands)):
        op = i + 1
        payload = encode_command(commands[i])
        env = Envelope(users[i], numbers[i], op, payload)
        data = encode_envelope(env)
        entry = LogEntry(0, op, data)  # the primary's entry (its journal; the Prepare's)
        log.append(entry)
        p0.append(encode_record(0, op, data))
        key = (0, op, data)
        p1.append(known[key] if key in known else encode_record(0, op, data))
        p2.append(known[key] if key in known else encode_record(0, op, data))
        command = memo[payload] if payload in memo else decode_command(payload)
        replies[i] = encode_result(a0(command, op, op))
        e1 = envs[data] if data in envs else decode_envelope(data)
        c1 = e1.payload
        a1(memo[c1] if c1 in memo else decode_command(c1), op, op)
        e2 = envs[data] if data in envs else decode_envelope(data)
        c2 = e2.payload
        a2(memo[c2] if c2 in memo else decode_command(c2), op, op)
        if due[i]:
            chunk = b"".join(p0)
            d0.write(WAL_FILE, end0, chunk)
            d0.fsync(WAL_FILE)
            end0 += len(chunk)
            p0.clear()
            chunk = b"".join(p1)
            d1.write(WAL_FILE, end1, chunk)
            d1.fsync(WAL_FILE)
            end1 += len(chunk)
            p1.clear()
            chunk = b"".join(p2)
            d2.write(WAL_FILE, end2, chunk)
            d2.fsync(WAL_FILE)
            end2 += len(chunk)
            p2.clear()
    for disk, pending, end in ((d0, p0, end0), (d1, p1, end1), (d2, p2, end2)):
        if pending:
            disk.write(WAL_FILE, end, b"".join(pending))
            disk.fsync(WAL_FILE)
    seconds = time.process_time() - start
    return FloorRun("+wal", seconds, books, replies, disks)


def _run_messages(stream: Stream) -> FloorRun:
    books, a0, a1, a2 = _books()
    disks = _disks()
    d0, d1, d2 = disks
    commands, users, numbers, due, extras = (
        stream.commands,
        stream.users,
        stream.request_numbers,
        stream.sync_due,
        stream.extras,
    )
    cnames = {u: client_name(u) for u in set(users)}
    n0, backups = replica_name(0), (replica_name(1), replica_name(2))
    width = stream.prepare_entries
    replies: list[bytes | None] = [None] * len(commands)
    memo, envs, known = recent_commands, recent_envelopes, recent_records
    check_request, check_reply = checks[Request], checks[Reply]
    check_prepare, check_prepare_ok = checks[Prepare], checks[PrepareOk]
    check_commit, check_commit_ok = checks[Commit], checks[CommitOk]
    request_build, reply_build = Request.build, Reply.build
    prepare_build, prepare_ok_build = Prepare.build, PrepareOk.build
    commit_build, commit_ok_build = Commit.build, CommitOk.build
    heap = _heap(stream.heap_size)
    push, pop = heapq.heappush, heapq.heappop
    net = random.Random(stream.seed)  # (the network's latency stream)
    getrandbits = net.getrandbits
    arrive = _arrive
    seq = msg_id = now = probe = 0
    sent: Counter[str] = Counter()
    log: list[LogEntry] = []
    p0: list[bytes] = []
    p1: list[bytes] = []
    p2: list[bytes] = []
    end0 = end1 = end2 = d0.size(WAL_FILE)
    start = time.process_time()
    for i in range(len(commands)):
        op = i + 1
        user = users[i]
        cname = cnames[user]
        payload = encode_command(commands[i])
        request = request_build(
            cluster_id=CLUSTER_ID,
            source=cname,
            target=n0,
            view=0,
            client_id=user,
            request_number=numbers[i],
            payload=payload,
        )
        # (World.send: a latency draw, a push; the event loop: a pop; arrival: the check)
        r = getrandbits(10)
        while r >= LATENCY_N:
            r = getrandbits(10)
        seq += 1
        msg_id += 1
        push(heap, (now + LATENCY_LOW + r, seq, arrive, (msg_id, request)))
        now = pop(heap)[0]
        if check_request(request) is not None:
            raise AssertionError(request)
        env = Envelope(user, numbers[i], op, payload)
        data = encode_envelope(env)
        entry = LogEntry(0, op, data)
        log.append(entry)
        p0.append(encode_record(0, op, data))
        key = (0, op, data)
        p1.append(known[key] if key in known else encode_record(0, op, data))
        p2.append(known[key] if key in known else encode_record(0, op, data))
        command = memo[payload] if payload in memo else decode_command(payload)
        reply = replies[i] = encode_result(a0(command, op, op))
        e1 = envs[data] if data in envs else decode_envelope(data)
        c1 = e1.payload
        a1(memo[c1] if c1 in memo else decode_command(c1), op, op)
        e2 = envs[data] if data in envs else decode_envelope(data)
        c2 = e2.payload
        a2(memo[c2] if c2 in memo else decode_command(c2), op, op)
        if due[i]:
            chunk = b"".join(p0)
            d0.write(WAL_FILE, end0, chunk)
            d0.fsync(WAL_FILE)
            end0 += len(chunk)
            p0.clear()
            chunk = b"".join(p1)
            d1.write(WAL_FILE, end1, chunk)
            d1.fsync(WAL_FILE)
            end1 += len(chunk)
            p1.clear()
            chunk = b"".join(p2)
            d2.write(WAL_FILE, end2, chunk)
            d2.fsync(WAL_FILE)
            end2 += len(chunk)
            p2.clear()
        for code in extras[i]:
            backup = backups[op & 1]
            message: Any
            if code == _PREPARE:
                message = prepare_build(
                    cluster_id=CLUSTER_ID,
                    source=n0,
                    target=backup,
                    view=0,
                    op=op,
                    commit=op - 1,
                    entries=tuple(log[-width:]),
                )
                bad = check_prepare(message)
            elif code == _PREPARE_OK:
                message = prepare_ok_build(
                    cluster_id=CLUSTER_ID, source=backup, target=n0, view=0, op=op, commit=op - 1
                )
                bad = check_prepare_ok(message)
            elif code == _COMMIT:
                probe += 1
                message = commit_build(
                    cluster_id=CLUSTER_ID, source=n0, target=backup, view=0, commit=op, probe=probe
                )
                bad = check_commit(message)
            else:
                message = commit_ok_build(
                    cluster_id=CLUSTER_ID, source=backup, target=n0, view=0, commit=op, probe=probe
                )
                bad = check_commit_ok(message)
            if bad is not None:
                raise AssertionError(message)
            r = getrandbits(10)
            while r >= LATENCY_N:
                r = getrandbits(10)
            seq += 1
            msg_id += 1
            push(heap, (now + LATENCY_LOW + r, seq, arrive, (msg_id, message)))
            now = pop(heap)[0]
            sent[type(message).__name__] += 1
        answer = reply_build(
            cluster_id=CLUSTER_ID,
            source=n0,
            target=cname,
            view=0,
            client_id=user,
            request_number=numbers[i],
            ok=True,
            op=op,
            reply=reply,
        )
        r = getrandbits(10)
        while r >= LATENCY_N:
            r = getrandbits(10)
        seq += 1
        msg_id += 1
        push(heap, (now + LATENCY_LOW + r, seq, arrive, (msg_id, answer)))
        now = pop(heap)[0]
        if check_reply(answer) is not None:
            raise AssertionError(answer)
    for disk, pending, end in ((d0, p0, end0), (d1, p1, end1), (d2, p2, end2)):
        if pending:
            disk.write(WAL_FILE, end, b"".join(pending))
            disk.fsync(WAL_FILE)
    seconds = time.process_time() - start
    sent["Request"] = sent["Reply"] = (msg_id - sum(sent.values())) // 2
    return FloorRun("+messages", seconds, books, replies, disks, sent, heap=heap, net=net)


def _arrive(argument: Any) -> None:
    """The event's action (never called: the floor's loop pops, it does not dispatch)."""


def _run_client(stream: Stream) -> FloorRun:
    books, a0, a1, a2 = _books()
    disks = _disks()
    d0, d1, d2 = disks
    n = len(stream.commands)
    numbers, due, extras = stream.request_numbers, stream.sync_due, stream.extras
    names = [f"u{i}" for i in range(USERS)]
    cnames = {u: client_name(u) for u in names}
    live: dict[str, list[int]] = {u: [] for u in names}
    n0, backups = replica_name(0), (replica_name(1), replica_name(2))
    width = stream.prepare_entries
    replies: list[bytes | None] = [None] * n
    memo, envs, known = recent_commands, recent_envelopes, recent_records
    check_request, check_reply = checks[Request], checks[Reply]
    check_prepare, check_prepare_ok = checks[Prepare], checks[PrepareOk]
    check_commit, check_commit_ok = checks[Commit], checks[CommitOk]
    request_build, reply_build = Request.build, Reply.build
    prepare_build, prepare_ok_build = Prepare.build, PrepareOk.build
    commit_build, commit_ok_build = Commit.build, CommitOk.build
    heap = _heap(stream.heap_size)
    push, pop = heapq.heappush, heapq.heappop
    net = random.Random(stream.seed)  # (the network's latency stream)
    getrandbits = net.getrandbits
    user_rng = random.Random(stream.seed)  # the workload's stream: the pre-drawn one again
    draw, rand = user_rng.getrandbits, user_rng.random
    kinds, cum, total, tail = KINDS, CUM_WEIGHTS, TOTAL_WEIGHT, _PLAIN_PLACE_TAIL
    cut = bisect.bisect
    history = ClientHistory(SPEC)
    records, unconverted = history._records, history._unconverted
    arrive = _arrive
    seq = msg_id = now = probe = 0
    sent: Counter[str] = Counter()
    log: list[LogEntry] = []
    p0: list[bytes] = []
    p1: list[bytes] = []
    p2: list[bytes] = []
    end0 = end1 = end2 = d0.size(WAL_FILE)
    start = time.process_time()
    for i in range(n):
        op = i + 1
        # -- the user draws its next command and calls (RandomWorkload._issue, inline)
        user = names[i % USERS]
        kind = kinds[cut(cum, rand() * total, 0, 1)]
        mine = live[user]
        if kind == "cancel" and not mine:
            kind = "place"
        command: Place | Cancel
        if kind == "place":
            r = draw(2)
            while r >= 2:
                r = draw(2)
            side = ("buy", "sell")[r]
            r = draw(4)
            while r >= 11:
                r = draw(4)
            offset = r - SPREAD_TICKS
            ticks = MID_TICKS + (offset if side == "buy" else -offset)
            r = draw(4)
            while r >= QTY_MAX:
                r = draw(4)
            command = Place("ACME", user, side, ticks, 1 + r)
            hist_input: tuple[Any, ...] = ("place", "ACME", user, side, ticks, 1 + r, *tail)
        else:
            count = len(mine)
            bits = count.bit_length()
            r = draw(bits)
            while r >= count:
                r = draw(bits)
            order_id = mine.pop(r)
            command = Cancel("ACME", user, order_id, None)
            hist_input = ("cancel", "ACME", user, order_id)
        index = len(records)
        records.append(
            _new_tuple(HistoryRecord, (index, user, hist_input, now, "pending", None, None, None))
        )
        history._changes += 1
        cname = cnames[user]
        payload = encode_command(command)
        request = request_build(
            cluster_id=CLUSTER_ID,
            source=cname,
            target=n0,
            view=0,
            client_id=user,
            request_number=numbers[i],
            payload=payload,
        )
        r = getrandbits(10)
        while r >= LATENCY_N:
            r = getrandbits(10)
        seq += 1
        msg_id += 1
        push(heap, (now + LATENCY_LOW + r, seq, arrive, (msg_id, request)))
        now = pop(heap)[0]
        if check_request(request) is not None:
            raise AssertionError(request)
        env = Envelope(user, numbers[i], op, payload)
        data = encode_envelope(env)
        entry = LogEntry(0, op, data)
        log.append(entry)
        p0.append(encode_record(0, op, data))
        key = (0, op, data)
        p1.append(known[key] if key in known else encode_record(0, op, data))
        p2.append(known[key] if key in known else encode_record(0, op, data))
        decoded = memo[payload] if payload in memo else decode_command(payload)
        reply = replies[i] = encode_result(a0(decoded, op, op))
        e1 = envs[data] if data in envs else decode_envelope(data)
        c1 = e1.payload
        a1(memo[c1] if c1 in memo else decode_command(c1), op, op)
        e2 = envs[data] if data in envs else decode_envelope(data)
        c2 = e2.payload
        a2(memo[c2] if c2 in memo else decode_command(c2), op, op)
        if due[i]:
            chunk = b"".join(p0)
            d0.write(WAL_FILE, end0, chunk)
            d0.fsync(WAL_FILE)
            end0 += len(chunk)
            p0.clear()
            chunk = b"".join(p1)
            d1.write(WAL_FILE, end1, chunk)
            d1.fsync(WAL_FILE)
            end1 += len(chunk)
            p1.clear()
            chunk = b"".join(p2)
            d2.write(WAL_FILE, end2, chunk)
            d2.fsync(WAL_FILE)
            end2 += len(chunk)
            p2.clear()
        for code in extras[i]:
            backup = backups[op & 1]
            message: Any
            if code == _PREPARE:
                message = prepare_build(
                    cluster_id=CLUSTER_ID,
                    source=n0,
                    target=backup,
                    view=0,
                    op=op,
                    commit=op - 1,
                    entries=tuple(log[-width:]),
                )
                bad = check_prepare(message)
            elif code == _PREPARE_OK:
                message = prepare_ok_build(
                    cluster_id=CLUSTER_ID, source=backup, target=n0, view=0, op=op, commit=op - 1
                )
                bad = check_prepare_ok(message)
            elif code == _COMMIT:
                probe += 1
                message = commit_build(
                    cluster_id=CLUSTER_ID, source=n0, target=backup, view=0, commit=op, probe=probe
                )
                bad = check_commit(message)
            else:
                message = commit_ok_build(
                    cluster_id=CLUSTER_ID, source=backup, target=n0, view=0, commit=op, probe=probe
                )
                bad = check_commit_ok(message)
            if bad is not None:
                raise AssertionError(message)
            r = getrandbits(10)
            while r >= LATENCY_N:
                r = getrandbits(10)
            seq += 1
            msg_id += 1
            push(heap, (now + LATENCY_LOW + r, seq, arrive, (msg_id, message)))
            now = pop(heap)[0]
            sent[type(message).__name__] += 1
        answer = reply_build(
            cluster_id=CLUSTER_ID,
            source=n0,
            target=cname,
            view=0,
            client_id=user,
            request_number=numbers[i],
            ok=True,
            op=op,
            reply=reply,
        )
        r = getrandbits(10)
        while r >= LATENCY_N:
            r = getrandbits(10)
        seq += 1
        msg_id += 1
        push(heap, (now + LATENCY_LOW + r, seq, arrive, (msg_id, answer)))
        now = pop(heap)[0]
        if check_reply(answer) is not None:
            raise AssertionError(answer)
        # -- the client completes the call (Cluster._resolve and RandomWorkload._done, inline)
        result = decode_result(answer.reply)
        rec = records[index]
        unconverted.append((index, write_output))
        records[index] = _new_tuple(
            HistoryRecord, (index, user, rec.input, rec.call_us, "ok", result, now, op)
        )
        history._changes += 1
        if (
            kind == "place"
            and result.accepted
            and result.resting_qty > 0
            and result.order_id is not None
        ):
            mine.append(result.order_id)
        r = draw(1)  # (the think time before the user's next call: think_us_max=0)
        while r >= 1:
            r = draw(1)
    for disk, pending, end in ((d0, p0, end0), (d1, p1, end1), (d2, p2, end2)):
        if pending:
            disk.write(WAL_FILE, end, b"".join(pending))
            disk.fsync(WAL_FILE)
    seconds = time.process_time() - start
    sent["Request"] = sent["Reply"] = (msg_id - sum(sent.values())) // 2
    return FloorRun("+client", seconds, books, replies, disks, sent, history, heap, net)


def _run_per_command(stream: Stream) -> FloorRun:
    """``+client`` without what is per message or per log entry (Request, Reply, Prepare...,
    their checks, latencies and heap events; the envelope; the records and syncs): the
    three applies, the command's and result's codec and the client's work, which remain per
    command however many commands a Request, an entry, a record or a Reply carried."""
    books, a0, a1, a2 = _books()
    n = len(stream.commands)
    names = [f"u{i}" for i in range(USERS)]
    live: dict[str, list[int]] = {u: [] for u in names}
    replies: list[bytes | None] = [None] * n
    memo = recent_commands
    user_rng = random.Random(stream.seed)  # the workload's stream: the pre-drawn one again
    draw, rand = user_rng.getrandbits, user_rng.random
    kinds, cum, total, tail = KINDS, CUM_WEIGHTS, TOTAL_WEIGHT, _PLAIN_PLACE_TAIL
    cut = bisect.bisect
    history = ClientHistory(SPEC)
    records, unconverted = history._records, history._unconverted
    now = 0
    start = time.process_time()
    for i in range(n):
        op = i + 1
        # -- the user draws its next command and calls (RandomWorkload._issue, inline)
        user = names[i % USERS]
        kind = kinds[cut(cum, rand() * total, 0, 1)]
        mine = live[user]
        if kind == "cancel" and not mine:
            kind = "place"
        command: Place | Cancel
        if kind == "place":
            r = draw(2)
            while r >= 2:
                r = draw(2)
            side = ("buy", "sell")[r]
            r = draw(4)
            while r >= 11:
                r = draw(4)
            offset = r - SPREAD_TICKS
            ticks = MID_TICKS + (offset if side == "buy" else -offset)
            r = draw(4)
            while r >= QTY_MAX:
                r = draw(4)
            command = Place("ACME", user, side, ticks, 1 + r)
            hist_input: tuple[Any, ...] = ("place", "ACME", user, side, ticks, 1 + r, *tail)
        else:
            count = len(mine)
            bits = count.bit_length()
            r = draw(bits)
            while r >= count:
                r = draw(bits)
            order_id = mine.pop(r)
            command = Cancel("ACME", user, order_id, None)
            hist_input = ("cancel", "ACME", user, order_id)
        index = len(records)
        records.append(
            _new_tuple(HistoryRecord, (index, user, hist_input, now, "pending", None, None, None))
        )
        history._changes += 1
        payload = encode_command(command)
        decoded = memo[payload] if payload in memo else decode_command(payload)
        reply = replies[i] = encode_result(a0(decoded, op, op))
        a1(memo[payload] if payload in memo else decode_command(payload), op, op)
        a2(memo[payload] if payload in memo else decode_command(payload), op, op)
        # -- the client completes the call (Cluster._resolve and RandomWorkload._done, inline)
        result = decode_result(reply)
        rec = records[index]
        unconverted.append((index, write_output))
        records[index] = _new_tuple(
            HistoryRecord, (index, user, rec.input, rec.call_us, "ok", result, now, op)
        )
        history._changes += 1
        if (
            kind == "place"
            and result.accepted
            and result.resting_qty > 0
            and result.order_id is not None
        ):
            mine.append(result.order_id)
        r = draw(1)  # (the think time before the user's next call: think_us_max=0)
        while r >= 1:
            r = draw(1)
    seconds = time.process_time() - start
    return FloorRun(PER_COMMAND, seconds, books, replies, history=history)


RUNNERS: dict[str, Callable[[Stream], FloorRun]] = {
    "book": _run_book,
    "+codec": _run_codec,
    "+wal": _run_wal,
    "+messages": _run_messages,
    "+client": _run_client,
    PER_COMMAND: _run_per_command,
}


#: What each run claims to have done, as :func:`verify` checks it.
CLAIMS: dict[str, frozenset[str]] = {
    "book": frozenset({"books"}),
    "+codec": frozenset({"books", "replies"}),
    "+wal": frozenset({"books", "replies", "wal"}),
    "+messages": frozenset({"books", "replies", "wal", "messages"}),
    "+client": frozenset({"books", "replies", "wal", "messages", "history"}),
    PER_COMMAND: frozenset({"books", "replies", "history"}),
}


def run_layer(layer: str, stream: Stream, *, gc_off: bool = False) -> FloorRun:
    """Run one layer over ``stream`` from empty memos, under the garbage-collector thresholds
    the simulator runs under (``collecting_less_often``), or with ``gc.disable()``; then
    :func:`verify` it."""
    _clear_memos()
    gc.collect()
    with collecting_less_often():
        if gc_off:
            gc.disable()
        try:
            run = RUNNERS[layer](stream)
        finally:
            if gc_off:
                gc.enable()
    verify(run, stream)
    return run


# -- the checks ----------------------------------------------------------------------------


def verify(run: FloorRun, stream: Stream) -> None:
    """Raise ``AssertionError`` unless ``run`` did the work its layer claims (see the module
    docstring): books, replies, decodes, WAL images, message counts, history."""
    n = len(stream.commands)
    claims = CLAIMS[run.layer]
    digests = [book.digest() for book in run.books]
    assert digests == [stream.digest] * 3, f"{run.layer}: books differ from the reference"
    assert all(book.last_seq <= n for book in run.books)
    if "replies" in claims:
        assert run.replies == stream.replies, f"{run.layer}: replies differ from the reference"
        for command in stream.commands:
            assert decode_command(encode_command(command)) == command
    if "wal" in claims:
        assert len(run.disks) == 3
        # one write and one fsync per scheduled sync (and for the last records), after the
        # file's create, fsync and directory fsync: the disk counts its mutations
        syncs = sum(stream.sync_due) + (0 if stream.sync_due[-1] else 1)
        assert [disk.steps for disk in run.disks] == [3 + 2 * syncs] * 3, f"{run.layer}: syncs"
        for disk in run.disks:
            image = disk.contents(WAL_FILE, durable=True)
            assert image == disk.contents(WAL_FILE), f"{run.layer}: WAL bytes left unsynced"
            found = scan(image)
            assert not found.corrupt and found.torn_start is None and not found.stray
            assert [op for op, *_ in found.records] == list(range(1, n + 1)), run.layer
            for op, view, start, end in found.records:
                entry = decode_record(image[start:end])
                env = decode_envelope(entry.payload)
                assert (entry.op, entry.view, env.ts_us) == (op, view, op) and view == 0
                assert env.client_id == stream.users[op - 1]
                assert env.request_number == stream.request_numbers[op - 1]
                assert decode_command(env.payload) == stream.commands[op - 1]
    if "messages" in claims:
        wanted: Counter[str] = Counter()
        for codes in stream.extras:
            for code in codes:
                wanted[("", "Prepare", "PrepareOk", "Commit", "CommitOk")[code]] += 1
        wanted["Request"] = wanted["Reply"] = n
        assert run.sent == wanted, (run.layer, run.sent, wanted)
        assert len(run.heap) == stream.heap_size
        net = random.Random(stream.seed)  # one latency drawn per message sent
        for _ in range(sum(wanted.values())):
            r = net.getrandbits(10)
            while r >= LATENCY_N:
                r = net.getrandbits(10)
        assert run.net is not None and run.net.getstate() == net.getstate(), "latency draws"
    if "history" in claims:
        history = run.history
        assert history is not None and len(history) == n
        raw = history._records  # (as recorded, before the outputs are converted)
        assert [r.input for r in raw] == stream.inputs, f"{run.layer}: other commands drawn"
        assert {r.outcome for r in raw} == {"ok"}, f"{run.layer}: calls not completed"
        assert all(r.hint == r.index + 1 for r in raw)
        outputs = [r.output for r in history.records()]
        assert outputs == [write_output(decode_result(data)) for data in stream.replies]


# -- measuring -----------------------------------------------------------------------------


def real_run(commands: int, seed: int, *, gc_off: bool = False) -> tuple[float, float]:
    """``(cpu_us_per_command, wall commands/s)`` of bench_cluster's memory run."""
    _clear_memos()
    gc.collect()
    if gc_off:
        gc.disable()
    try:
        rate, info = bench_cluster.cluster_rate("memory", users=USERS, commands=commands, seed=seed)
    finally:
        if gc_off:
            gc.enable()
    return info["cpu_us_per_command"], rate


def piece_loops(stream: Stream) -> dict[str, Callable[[], None]]:
    """One loop over ``stream`` per single piece of the floor (see :func:`pieces`), and
    ``"empty"``: the loop alone."""
    n = len(stream.commands)
    commands, users, numbers = stream.commands, stream.users, stream.request_numbers
    payloads = [encode_command(c) for c in commands]
    book = OrderBook(SPEC)
    results = [book.apply(c, op, op) for op, c in enumerate(commands, start=1)]
    datas = [encode_envelope(Envelope(users[i], numbers[i], i + 1, payloads[i])) for i in range(n)]
    memo = recent_commands

    def empty() -> None:
        for _i in range(n):
            pass

    def enc_command() -> None:
        for c in commands:
            encode_command(c)

    def envelope() -> None:
        for i in range(n):
            encode_envelope(Envelope(users[i], numbers[i], i + 1, payloads[i]))

    def dec_command() -> None:
        for p in payloads:
            _ = memo[p] if p in memo else decode_command(p)

    def enc_result() -> None:
        for r in results:
            encode_result(r)

    def dec_result() -> None:
        for data in stream.replies:
            decode_result(data)

    def record() -> None:
        for i in range(n):
            LogEntry(0, i + 1, datas[i])
            encode_record(0, i + 1, datas[i])

    def place_or_cancel() -> None:
        for c in commands:
            if type(c) is Place:
                Place(c.market, c.user, c.side, c.price, c.qty)
            else:
                Cancel(c.market, c.user, c.order_id, None)

    return {
        "empty": empty,
        "encode_command (client)": enc_command,
        "Envelope + encode_envelope (primary)": envelope,
        "decode_command, memo first (primary)": dec_command,
        "encode_result (primary)": enc_result,
        "decode_result, memo emptied (the client; the real run finds it in the memo)": dec_result,
        "LogEntry + encode_record, full checksums (primary)": record,
        "Place/Cancel built (from fields read off a command)": place_or_cancel,
    }


def pieces(stream: Stream) -> dict[str, float]:
    """CPU us per command of single pieces of the floor, each alone in a loop over ``stream``
    (an empty loop's time subtracted; memos emptied first, as for the layers): what the codec
    layer is made of, and which pieces are per command whatever the batching (the applies and
    the command and result codecs) or per entry or message (the envelope, the record)."""
    n = len(stream.commands)
    loops = piece_loops(stream)

    def timed(loop: Callable[[], None]) -> float:
        _clear_memos()
        with collecting_less_often():
            start = time.process_time()
            loop()
            return time.process_time() - start

    base = timed(loops.pop("empty"))
    return {name: (timed(loop) - base) * 1e6 / n for name, loop in loops.items()}


def gc_us_per_command(commands: int, seed: int) -> tuple[float, float]:
    """CPU in garbage collections per committed command of the real run and of the floor
    (``gc.callbacks``; measurement only)."""
    spent = [0.0, 0.0]

    def callback(phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            spent[1] = time.process_time()
        else:
            spent[0] += time.process_time() - spent[1]

    gc.callbacks.append(callback)
    try:
        _clear_memos()
        gc.collect()
        spent[0] = 0.0
        _rate, info = bench_cluster.cluster_rate(
            "memory", users=USERS, commands=commands, seed=seed
        )
        real = spent[0] * 1e6 / info["ok"]
        stream = draw_stream(commands, seed)
        _clear_memos()
        gc.collect()
        spent[0] = 0.0
        with collecting_less_often():
            floor = RUNNERS["+client"](stream)
        floor_gc = spent[0] * 1e6 / len(floor.replies)
    finally:
        gc.callbacks.remove(callback)
    return real, floor_gc


PHASES: dict[str, tuple[str, ...]] = {
    # phase: the functions whose inclusive time it is (file:function), nested ones of other
    # phases subtracted (see phase_split)
    "client issue (draws, call, Place, encode, Request, send)": ("workload.py:_issue",),
    "Request at the primary (_on_Request but its WAL append)": ("replica.py:_on_Request",),
    "the three applies (_apply_entries: decode, book, encode_result, client table, Reply)": (
        "replica.py:_apply_entries",
    ),
    "WAL appends, syncs and commit-number saves": (
        "wal.py:append_many",
        "wal.py:sync",
        "store.py:save_commit",
    ),
    "Reply at the client and completion (handle, _resolve, _done, next _schedule)": (
        "calls.py:handle",
    ),
    "Prepare/PrepareOk/Commit/CommitOk handlers (but applies and WAL)": (
        "replica.py:_on_Prepare",
        "replica.py:_on_PrepareOk",
        "replica.py:_on_Commit",
        "replica.py:_on_CommitOk",
    ),
    "timers, ticks and deadlines": (
        "host.py:_timer",
        "cluster.py:_deadline_due",
    ),
}


def _key_name(key: tuple[str, int, str]) -> str:
    filename, _line, name = key
    return f"{Path(filename).name}:{name}"


def profile_real(commands: int, seed: int) -> tuple[pstats.Stats, int]:
    """cProfile of one real memory run (after a warm-up run)."""
    bench_cluster.cluster_rate("memory", users=USERS, commands=min(commands, 600), seed=seed)
    _clear_memos()
    profile = cProfile.Profile()
    profile.enable()
    _rate, info = bench_cluster.cluster_rate("memory", users=USERS, commands=commands, seed=seed)
    profile.disable()
    return pstats.Stats(profile), info["ok"]


def profile_floor(stream: Stream) -> pstats.Stats:
    """cProfile of the floor's last layer over ``stream``."""
    _clear_memos()
    profile = cProfile.Profile()
    profile.enable()
    with collecting_less_often():
        RUNNERS["+client"](stream)
    profile.disable()
    return pstats.Stats(profile)


def _total(raw: dict[tuple[str, int, str], Any]) -> float:
    """The profiled time that ``cpu_us_per_command`` measures: ``World._run``'s inclusive time
    (the simulation; bench_cluster's clock starts and stops around ``Cluster.run``), else the
    outermost call's (the floor's loop)."""
    runs = [row[3] for key, row in raw.items() if _key_name(key) == "world.py:_run"]
    return sum(runs) if runs else max(row[3] for row in raw.values())


def phase_split(stats: pstats.Stats, ok: int, cpu_us: float) -> dict[str, float]:
    """Per-command us of each phase of :data:`PHASES`, normalised so that the profile's total
    is ``cpu_us`` (cProfile inflates every call alike). A phase's time is the inclusive time
    of its functions minus the inclusive time of other phases' functions called beneath them
    (an apply under a Commit handler, a WAL append under ``_on_Request``). pstats keeps only
    caller -> callee edges, so "beneath" is found by walking the callers' graph up from the
    other phase's function to this phase's, sharing a function's time among its callers in
    proportion to the time each edge carries (exact where a function has one caller)."""
    raw: dict[tuple[str, int, str], Any] = stats.stats  # type: ignore[attr-defined]
    owner: dict[tuple[str, int, str], str] = {}
    for phase, names in PHASES.items():
        for key in raw:
            if _key_name(key) in names:
                owner[key] = phase
    total = _total(raw)
    scale = cpu_us / (total * 1e6 / ok)

    def beneath(phase: str) -> Callable[[tuple[str, int, str]], float]:
        memo: dict[tuple[str, int, str], float] = {}

        def share(key: tuple[str, int, str]) -> float:
            """The fraction of ``key``'s time that runs beneath a function of ``phase``."""
            found = owner.get(key)
            if found is not None:
                return 1.0 if found == phase else 0.0
            if key in memo:
                return memo[key]
            memo[key] = 0.0  # (a cycle adds nothing)
            callers = raw[key][4]
            whole = sum(edge[3] for edge in callers.values())
            part = sum(edge[3] * share(c) for c, edge in callers.items() if c in raw)
            memo[key] = part / whole if whole > 0 else 0.0
            return memo[key]

        return share

    out: dict[str, float] = {}
    for phase in PHASES:
        share = beneath(phase)
        spent = 0.0
        for key, found in owner.items():
            if found == phase:
                spent += raw[key][3]
            else:  # (its time under this phase's functions: through its callers)
                spent -= sum(e[3] * share(c) for c, e in raw[key][4].items() if c in raw)
        out[phase] = spent * 1e6 / ok * scale
    out["rest: event loop, hosts, dispatch and checks, sends, Steps, syncs' scheduling"] = (
        cpu_us - sum(out.values())
    )
    return out


def _per_command(stats: pstats.Stats, count: int, cpu_us: float) -> dict[str, tuple[float, float]]:
    """``name -> (own us, inclusive us)`` per command, normalised so that the profile's total
    is ``cpu_us`` (as in :func:`phase_split`)."""
    raw = stats.stats  # type: ignore[attr-defined]
    total = _total(raw)
    scale = cpu_us / (total * 1e6 / count)
    rows: dict[str, tuple[float, float]] = {}
    for key, row in raw.items():
        name = _key_name(key) if key[0] != "~" else key[2]
        own, inc = rows.get(name, (0.0, 0.0))
        rows[name] = (own + row[2] * 1e6 / count * scale, inc + row[3] * 1e6 / count * scale)
    return rows


def gap_items(
    real: pstats.Stats, ok: int, cpu_us: float, floor: pstats.Stats, n: int, floor_us: float
) -> tuple[list[tuple[str, float, float]], list[tuple[str, float, float]]]:
    """Where the real run's CPU beyond the floor goes (cProfile, normalised per command):

    * ``beyond``: the ten functions the floor never calls (the protocol's and the simulator's
      frames; the floor's loop does what it needs of them inline) with the most own time:
      ``(name, own us, inclusive us)``;
    * ``shared``: the ten functions both call with the most own time in the real run:
      ``(name, real own us, floor own us)``: the same pieces should cost the same in both.
    """
    r = _per_command(real, ok, cpu_us)
    f = _per_command(floor, n, floor_us)
    beyond = [(k, own, inc) for k, (own, inc) in r.items() if k not in f]
    beyond.sort(key=lambda item: item[1], reverse=True)
    shared = [(k, own, f[k][0]) for k, (own, _inc) in r.items() if k in f]
    shared.sort(key=lambda item: item[1], reverse=True)
    return beyond[:10], shared[:10]


_CHILD = """
import dataclasses, gc, json, operator, sys
sys.path.insert(0, {bench!r})
import bench_cluster, bench_floor as b
from clobkit.sim.world import collecting_less_often
which, n = {which!r}, {n}
if which.startswith("piece:"):
    loops = b.piece_loops(b.draw_stream(n, 0))
    b._clear_memos()
    gc.collect()
    with collecting_less_often():
        operator.call(loops[which[6:]])
    ok = n
elif which == "real":
    bench_cluster.cluster_rate("memory", b.USERS, 200, 0)
    b._clear_memos()
    gc.collect()
    ok = operator.call(bench_cluster.cluster_rate, "memory", b.USERS, n, 0)[1]["ok"]
else:
    shape = b.RealShape(**json.loads({shape!r}))
    b.run_layer(which, b.draw_stream(200, 99, shape))
    stream = b.draw_stream(n, 0, shape)
    b._clear_memos()
    gc.collect()
    with collecting_less_often():
        run = operator.call(b.RUNNERS[which], stream)
    b.verify(run, stream)
    ok = n
print("ok", ok)
"""


def instructions(
    shape: RealShape, short: int = 640, long: int = 1_920, *, with_pieces: bool = True
) -> dict[str, float]:
    """CPU instructions per command of each layer and of the real run: ``valgrind
    --tool=callgrind`` of a child process per run, counting only inside the measured call
    (``--collect-atstart=no --toggle-collect=_operator_call``, the call made through
    ``operator.call``), ``PYTHONHASHSEED=0``; (count of the ``long`` run - count of the
    ``short`` one) / the extra commands, so set-up and warm-up cancel. Deterministic up to
    dict/set probing, unlike CPU times on a shared VM. ``with_pieces``: also each loop of
    :func:`piece_loops` (keys ``"piece:<name>"``)."""
    import os
    import re
    import subprocess
    import tempfile

    bench = str(Path(__file__).resolve().parent)
    env = dict(os.environ, PYTHONHASHSEED="0")
    env["PYTHONPATH"] = str(Path(bench).parent)
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        names = [*TIMED, "real"]
        if with_pieces:
            names += [f"piece:{name}" for name in piece_loops(draw_stream(2, 0)) if name != "empty"]
        for which in names:
            counts = []
            for n in (short, long):
                code = _CHILD.format(
                    bench=bench, which=which, n=n, shape=json.dumps(dataclasses.asdict(shape))
                )
                done = subprocess.run(
                    ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/cg",
                     "--collect-atstart=no", "--toggle-collect=_operator_call",
                     sys.executable, "-c", code],
                    env=env, check=True, capture_output=True, text=True,
                )  # fmt: skip
                found = re.search(r"Collected : (\d+)", done.stderr)
                assert found is not None, done.stderr[-500:]
                counts.append((int(done.stdout.split()[-1]), int(found.group(1))))
            (ok_a, ir_a), (ok_b, ir_b) = counts
            out[which] = (ir_b - ir_a) / (ok_b - ok_a)
            print(f"  instructions per command, {which}: {out[which]:,.0f}", flush=True)
    return out


def measure(n: int, repeats: int, book_n: int, *, log: bool = True) -> dict[str, Any]:
    """Every figure of the module docstring, measured in one run (``n`` commands per run,
    ``repeats`` interleaved repeats, ``book_n`` commands for ``bench_cluster.book_rate``)."""
    shape = measure_shape(n, seed=0)
    # warm-up: imports, caches, specialisation
    real_run(min(n, 600), 0)
    for layer in TIMED:
        run_layer(layer, draw_stream(min(n, 600), 99, shape))

    times: dict[str, list[float]] = {layer: [] for layer in TIMED}
    times_off: dict[str, list[float]] = {layer: [] for layer in TIMED}
    real, real_off, rates, books = [], [], [], []
    piece_times: dict[str, list[float]] = {}
    for r in range(repeats):  # interleaved: each repeat runs everything once, order rotated
        books.append(bench_cluster.book_rate(book_n, seed=r))
        cpu, rate = real_run(n, r)
        real.append(cpu)
        rates.append(rate)
        real_off.append(real_run(n, r, gc_off=True)[0])
        # (the stream is drawn after the real runs and dropped after its layers: objects kept
        # alive across runs would make every older-generation collection dearer)
        stream = draw_stream(n, seed=r, shape=shape)
        order = TIMED[r % len(TIMED) :] + TIMED[: r % len(TIMED)]
        for layer in order:
            times[layer].append(run_layer(layer, stream).us_per_command)
        for layer in order:
            times_off[layer].append(run_layer(layer, stream, gc_off=True).us_per_command)
        for name, us in pieces(stream).items():
            piece_times.setdefault(name, []).append(us)
        del stream
        if log:
            print(
                f"repeat {r + 1}/{repeats}: real {real[-1]:.1f} us/command, floor "
                + ", ".join(f"{k} {v[-1]:.1f}" for k, v in times.items()),
                flush=True,
            )
    gc_real, gc_floor = gc_us_per_command(n, 0)
    per_command_us = statistics.median(times.pop(PER_COMMAND))
    per_command_off = statistics.median(times_off.pop(PER_COMMAND))
    layers_us = {k: statistics.median(v) for k, v in times.items()}
    layers_off = {k: statistics.median(v) for k, v in times_off.items()}
    increments = {
        k: layers_us[k] - (layers_us[LAYERS[i - 1]] if i else 0.0) for i, k in enumerate(LAYERS)
    }
    floor_us = layers_us["+client"]
    real_us = statistics.median(real)
    book_rate = statistics.median(books)
    stats, ok = profile_real(n, 0)
    floor_stats = profile_floor(draw_stream(n, seed=0, shape=shape))
    beyond, shared = gap_items(stats, ok, real_us, floor_stats, n, floor_us)
    return {
        "floor_us_per_command": floor_us,
        "floor_layers_us": layers_us,
        "floor_increments_us": increments,
        "floor_layers_us_gc_off": layers_off,
        "floor_per_command_part_us": per_command_us,
        "floor_per_command_part_us_gc_off": per_command_off,
        "real_cpu_us_per_command": real_us,
        "real_cpu_us_per_command_gc_off": statistics.median(real_off),
        "floor_share_of_35": floor_us / TARGET_US,
        "floor_share_of_real": floor_us / real_us,
        "left_for_the_rest_of_35_us": TARGET_US - floor_us,
        "floor_best_sim_cluster_over_book": (1e6 / floor_us) / book_rate,
        "floor_best_ratio_same_stream_cpu": (layers_us["book"] / 3) / floor_us,
        "real_sim_cluster_over_book": statistics.median(rates) / book_rate,
        "book_us_per_apply": layers_us["book"] / 3,
        "book_cmds_per_s": book_rate,
        "gc_us_per_command_real": gc_real,
        "gc_us_per_command_floor": gc_floor,
        "messages_per_command": shape.messages,
        "entries_per_prepare": shape.entries_per_prepare,
        "wal_appends_per_command": shape.wal_appends_per_command,
        "records_per_append": shape.records_per_append,
        "records_per_sync": shape.records_per_sync,
        "syncs_per_command": shape.syncs_per_command,
        "commit_saves_per_command": shape.commit_saves_per_command,
        "mean_heap_events": shape.mean_heap,
        "shape": dataclasses.asdict(shape),
        "phases_us": phase_split(stats, ok, real_us),
        "pieces_us": {k: statistics.median(v) for k, v in piece_times.items()},
        "gap_top10": [{"name": a, "own_us": b, "inclusive_us": c} for a, b, c in beyond],
        "shared_top10": [{"name": a, "real_own_us": b, "floor_own_us": c} for a, b, c in shared],
        "commands": n,
        "repeats": repeats,
        "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def report(f: dict[str, Any]) -> None:
    """Print the figures of :func:`measure` as tables."""
    layers_us, layers_off, increments = (
        f["floor_layers_us"],
        f["floor_layers_us_gc_off"],
        f["floor_increments_us"],
    )
    floor_us, real_us, real_off_us = (
        f["floor_us_per_command"],
        f["real_cpu_us_per_command"],
        f["real_cpu_us_per_command_gc_off"],
    )
    m = f["messages_per_command"]
    print()
    print(
        f"real run (bench_cluster memory run, {f['commands']:,} commands, 64 users, medians of "
        f"{f['repeats']}): {real_us:.1f} us CPU per committed command (gc off: {real_off_us:.1f})"
    )
    print(
        "  per command: "
        + ", ".join(f"{k} {m[k]:.3f}" for k in m)
        + f"; {f['entries_per_prepare']:.1f} entries per Prepare; WAL appends "
        f"{f['wal_appends_per_command']:.3f} ({f['records_per_append']:.2f} records each), "
        f"syncs {f['syncs_per_command']:.3f} ({f['records_per_sync']:.2f} records each), "
        f"commit-number saves {f['commit_saves_per_command']:.3f}; mean heap "
        f"{f['mean_heap_events']:.0f} events"
    )
    print()
    print(f"{'layer':<12}{'us/command':>12}{'increment':>12}{'gc off':>10}{'share of real':>15}")
    for layer in LAYERS:
        print(
            f"{layer:<12}{layers_us[layer]:>12.2f}{increments[layer]:>12.2f}"
            f"{layers_off[layer]:>10.2f}{layers_us[layer] / real_us:>14.0%}"
        )
    print(f"{'real':<12}{real_us:>12.2f}{real_us - floor_us:>12.2f}{real_off_us:>10.2f}{1:>14.0%}")
    part = f["floor_per_command_part_us"]
    print(
        f"per-command part of the floor (applies, command and result codecs, the client; no "
        f"message, envelope, record or sync): {part:.2f} us ({part / floor_us:.0%} of the floor; "
        f"gc off {f['floor_per_command_part_us_gc_off']:.2f}): what k commands per Request/"
        f"entry/record/Reply would leave, {part:.1f} + {floor_us - part:.1f} / k us"
    )
    print()
    print(
        f"floor {floor_us:.1f} us = {f['floor_share_of_35']:.0%} of the 35 us target; left for "
        f"the protocol's bookkeeping and the simulator: {f['left_for_the_rest_of_35_us']:.1f} us "
        f"(the real run spends {real_us - floor_us:.1f} us beyond the floor)"
    )
    share = f["floor_share_of_real"]
    print(
        f"floor / real run = {share:.2f} in this run's CPU, a ratio that holds when the machine's "
        f"speed moves: the floor fits in 35 us while the real run reads under "
        f"{TARGET_US / share:.0f} us, and with the real run at {QUIET_REAL_US:.0f} us (its "
        f"figure on a quiet VM) it would read {QUIET_REAL_US * share:.1f} us, "
        f"{QUIET_REAL_US * share / TARGET_US:.0%} of 35"
    )
    book_rate = f["book_cmds_per_s"]
    print(
        f"bare book {book_rate:,.0f} commands/s (bench_cluster.book_rate, wall clock): best "
        f"sim_cluster_over_book at the floor {f['floor_best_sim_cluster_over_book']:.3f} (target "
        f"0.05; the real run {f['real_sim_cluster_over_book']:.4f}); 0.05 allows "
        f"{1e6 / (0.05 * book_rate):.1f} us per command"
    )
    print(
        f"same stream, both CPU: {f['book_us_per_apply']:.2f} us per apply in the floor's loop, "
        f"one apply / floor = {f['floor_best_ratio_same_stream_cpu']:.3f}; 0.05 allows "
        f"{20 * f['book_us_per_apply']:.1f} us per command"
    )
    print(
        f"GC: {f['gc_us_per_command_real']:.1f} us per command in the real run (gc.callbacks), "
        f"{f['gc_us_per_command_floor']:.1f} us in the floor; gc.disable() saves "
        f"{real_us - real_off_us:.1f} us (real) and {floor_us - layers_off['+client']:.1f} us "
        "(floor)"
    )
    print()
    print("pieces, each alone over the same stream (us per command):")
    for name, us in f["pieces_us"].items():
        print(f"  {us:>6.2f}  {name}")
    print()
    print(f"real run by phase (cProfile inclusive, normalised to {real_us:.1f} us):")
    for phase, us in f["phases_us"].items():
        print(f"  {us:>6.1f} us {us / real_us:>5.0%}  {phase}")
    gc_us = f["gc_us_per_command_real"]
    print(
        f"  (GC, spread over the rows above where collections ran: {gc_us:.1f} us "
        f"{gc_us / real_us:.0%}, measured with gc.callbacks in an unprofiled run)"
    )
    print()
    print(
        "where the gap lies: the real run's functions the floor never calls, by own time per "
        "command (cProfile, normalised; us own / inclusive):"
    )
    for g in f["gap_top10"]:
        print(f"  {g['own_us']:>6.2f} / {g['inclusive_us']:>6.2f}  {g['name']}")
    print("the pieces both call, by own time per command (us real / floor):")
    for g in f["shared_top10"]:
        print(f"  {g['real_own_us']:>6.2f} / {g['floor_own_us']:>6.2f}  {g['name']}")
    print(f"\nload average: {f['load_average']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run (< 60 s)")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count instructions per command with valgrind (a few minutes)",
    )
    args = parser.parse_args()
    repeats = args.repeats or (3 if args.quick else 7)
    n = 2_000 if args.quick else 6_000
    figures = measure(n, repeats, 20_000 if args.quick else 100_000)
    figures["quick"] = args.quick
    report(figures)
    if args.instructions:
        print("\ninstructions (valgrind callgrind, 640 -> 1,920 commands):")
        shape = RealShape(**figures["shape"])
        counted = instructions(shape)
        figures["instructions_per_command"] = counted
        print(
            f"  floor / real in instructions: {counted['+client'] / counted['real']:.0%}; "
            f"the floor's {counted['+client']:,.0f} against 35 us at the real run's "
            f"{counted['real'] / figures['real_cpu_us_per_command']:,.0f} instructions per us: "
            f"{counted['+client'] / (counted['real'] / figures['real_cpu_us_per_command']):.1f} us"
        )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
