"""A tiny deterministic delivery loop for driving replicas and client sessions by hand.

Not the simulator (that is ``clobkit.sim``): just enough to tell protocol
stories exactly. Messages travel with a fixed latency and are delivered in
(time, sequence) order; timers fire at the ``wake_at_us`` each participant
asked for. Tests control the network explicitly: ``partition``/``heal`` cut
links, ``hold`` parks matching messages (to deliver later with ``release``,
modelling a delayed packet), ``drop`` loses them. Every delivery and every
interesting trace event is written to ``self.lines``, the transcript the
golden files record.
"""

from __future__ import annotations

import heapq
import random
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from clobkit.replication import ClientSession, ClusterConfig, KvMachine, Replica
from clobkit.replication.envelope import decode_envelope
from clobkit.replication.messages import (
    Commit,
    CommitOk,
    DoViewChange,
    EntryReply,
    GetEntry,
    GetState,
    NewState,
    Prepare,
    PrepareOk,
    Read,
    ReadReply,
    Recovery,
    RecoveryResponse,
    Reply,
    Request,
    StartView,
    WriteBack,
    WriteBackOk,
)
from clobkit.replication.step import Message, Step, TraceEvent
from clobkit.storage import FILE_HEADER_SIZE, RECORD_HEADER_SIZE, MemoryDisk, MemoryStore
from clobkit.storage.wal import WAL_FILE

Predicate = Callable[[Message], bool]

TRANSCRIPT_EVENTS = {
    "commit",
    "view_change_start",
    "primary",
    "start_view",
    "join_view",
    "truncate",
    "state_transfer",
    "install_snapshot",
    "snapshot",
    "recover",
    "repair",
    "repair_truncate",
    "repaired",
    "learner_start",
    "learner_caught_up",
    "client_invoke",
    "client_return",
    "rebuild",
}


def _entries(entries: tuple[Any, ...]) -> str:
    parts = []
    for e in entries:
        env = decode_envelope(e.payload)
        parts.append(
            f"{e.op}@v{e.view}:{'noop' if env.noop else env.payload.decode(errors='replace')}"
        )
    return "[" + " ".join(parts) + "]"


def describe(m: Message) -> str:
    """One stable line about a message (for transcripts)."""
    head = f"{m.kind} v{m.view}"
    if isinstance(m, Request):
        return f"{head} #{m.request_number} {m.payload.decode(errors='replace')}"
    if isinstance(m, Reply):
        text = m.reply.decode(errors="replace")
        return f"{head} #{m.request_number} ok={m.ok} op={m.op} {text}{m.error}"
    if isinstance(m, Prepare):
        return f"{head} op={m.op} commit={m.commit} {_entries(m.entries)}"
    if isinstance(m, PrepareOk):
        return f"{head} op={m.op} commit={m.commit}"
    if isinstance(m, Commit | CommitOk):
        return f"{head} commit={m.commit} probe={m.probe}"
    if isinstance(m, DoViewChange):
        return (
            f"{head} lnv={m.last_normal_view} op={m.op} commit={m.commit} base={m.base_op}"
            f"{' +snap' if m.snapshot else ''} {_entries(m.entries)}"
        )
    if isinstance(m, StartView | NewState):
        return (
            f"{head} op={m.op} commit={m.commit} base={m.base_op}"
            f"{f' +snap@{m.snapshot.op}' if m.snapshot else ''} {_entries(m.entries)}"
        )
    if isinstance(m, GetState | GetEntry):
        return f"{head} op={m.op}"
    if isinstance(m, EntryReply):
        return f"{head} op={m.op} have={m.entry is not None} vouched={m.vouched}"
    if isinstance(m, Recovery):
        return head
    if isinstance(m, RecoveryResponse):
        snap = f" +snap@{m.snapshot.op}" if m.snapshot else ""
        return f"{head} op={m.op} commit={m.commit} state={m.has_state}{snap}"
    if isinstance(m, Read):
        return f"{head} id={m.read_id} {m.mode} {m.query!r}"
    if isinstance(m, ReadReply):
        return f"{head} id={m.read_id} ok={m.ok} commit={m.commit} op={m.op} {m.result!r}{m.error}"
    if isinstance(m, WriteBack | WriteBackOk):
        return f"{head} id={m.read_id} commit={m.commit}"
    return head


def describe_event(e: TraceEvent) -> str:
    fields = " ".join(f"{k}={v!r}" for k, v in e.fields.items() if k != "time_us")
    return f"{e.node} * {e.kind} {fields}".rstrip()


@dataclass
class Net:
    """Replicas n0..n{n-1} on MemoryDisks, client sessions, a message heap and timers."""

    n: int = 3
    seed: int = 0
    latency_us: int = 1_000
    config_kwargs: dict[str, Any] = field(default_factory=dict)
    record: bool = True
    batching: bool = True
    machine_factory: Callable[[], Any] = KvMachine

    def __post_init__(self) -> None:
        self.config = ClusterConfig("t", self.n, **self.config_kwargs)
        self.now = 0
        self.disks = {i: MemoryDisk(seed=i) for i in range(self.n)}
        self.replicas: dict[int, Replica | None] = {}
        self.clients: dict[str, ClientSession] = {}
        self.timers: dict[str, int] = {}
        self.heap: list[tuple[int, int, Message]] = []
        self.seq = 0
        self.blocked: set[tuple[str, str]] = set()
        self.hold_rules: list[Predicate] = []
        self.drop_rules: list[Predicate] = []
        self.held: list[Message] = []
        self.lines: list[str] = []
        self.events: list[tuple[int, TraceEvent]] = []
        self.incarnation: dict[int, int] = {}
        self.commit_seen: dict[tuple[str, str, str], int] = {}
        self.replaced: set[int] = set()
        for i in range(self.n):
            self.start(i)

    # -- participants ----------------------------------------------------------------

    def store(self, i: int) -> MemoryStore:
        return MemoryStore(
            self.disks[i],
            cluster_id="t",
            replica_id=i,
            sync_policy=self.config.sync_policy,
            sync_latency_us=100,
            write_latency_us_per_kib=0,
        )

    def start(self, i: int, *, learner: bool = False) -> Replica:
        inc = self.incarnation.get(i, 0) + 1
        self.incarnation[i] = inc
        rng = random.Random(self.seed * 1_000 + i * 10 + inc)
        r = Replica(
            self.config,
            i,
            self.store(i),
            self.machine_factory(),
            rng=rng,
            now=self.now,
            learner=learner,
        )
        self.replicas[i] = r
        self.apply(r.name, r.tick(self.now))
        return r

    def r(self, i: int) -> Replica:
        replica = self.replicas[i]
        assert replica is not None, f"n{i} is crashed"
        return replica

    def up(self) -> list[Replica]:
        return [r for r in self.replicas.values() if r is not None]

    def client(self, cid: str, **kw: Any) -> ClientSession:
        if cid not in self.clients:
            self.clients[cid] = ClientSession(
                self.config, cid, rng=random.Random(zlib.crc32(cid.encode()) + self.seed), **kw
            )
        return self.clients[cid]

    # -- faults ----------------------------------------------------------------------

    def crash(self, i: int, *, torn_bytes: int | None = None) -> None:
        r = self.r(i)
        r.store.crash(torn_bytes)
        self.replicas[i] = None
        self.timers.pop(r.name, None)
        self.note(f"n{i} * CRASH")

    def power_loss_all(self) -> None:
        for i in range(self.n):
            if self.replicas[i] is not None:
                self.crash(i)

    def restart(self, i: int) -> Replica:
        self.note(f"n{i} * RESTART")
        # A replaced disk that crashed before its learner saved anything is still empty: it
        # comes back as a learner, never as a founding voter.
        probe = self.store(i)
        learner = i in self.replaced and probe.load_metadata() is None
        probe.close()
        return self.start(i, learner=learner)

    def replace(self, i: int) -> Replica:
        """Crash ``n{i}`` (if up) and bring it back on an empty disk, as a learner."""
        if self.replicas.get(i) is not None:
            self.crash(i)
        self.disks[i] = MemoryDisk(seed=100 + i)
        self.replaced.add(i)
        self.note(f"n{i} * REPLACE (empty disk)")
        return self.start(i, learner=True)

    def corrupt_entry(self, i: int, op: int) -> None:
        """Flip a payload bit of op ``op`` in crashed ``n{i}``'s WAL (no compaction assumed)."""
        assert self.replicas[i] is None
        store = self.store(i)
        offset = FILE_HEADER_SIZE
        for e in store.wal.entries(store.wal.first_op, op - 1):
            offset += RECORD_HEADER_SIZE + len(e.payload)
        store.close()
        self.disks[i].flip_bit(WAL_FILE, offset + RECORD_HEADER_SIZE + 2, 0)
        self.note(f"n{i} * CORRUPT op {op}")

    def partition(self, *groups: Iterable[str]) -> None:
        sets = [set(g) for g in groups]
        names = [f"n{i}" for i in range(self.n)]
        for a in names:
            for b in names:
                if a != b and not any(a in g and b in g for g in sets):
                    self.blocked.add((a, b))
        self.note(f"PARTITION {' | '.join(','.join(sorted(g)) for g in sets)}")

    def cut(self, a: str, b: str) -> None:
        self.blocked |= {(a, b), (b, a)}
        self.note(f"CUT {a}<->{b}")

    def heal(self) -> None:
        self.blocked.clear()
        self.note("HEAL")

    def hold(self, pred: Predicate) -> None:
        self.hold_rules.append(pred)

    def drop(self, pred: Predicate) -> None:
        self.drop_rules.append(pred)

    def release(self, pred: Predicate | None = None) -> None:
        keep = []
        for m in self.held:
            if pred is None or pred(m):
                self.push(m, self.now)
            else:
                keep.append(m)
        self.held = keep
        self.hold_rules = []

    # -- delivery ----------------------------------------------------------------------

    def note(self, text: str) -> None:
        if self.record:
            self.lines.append(f"t={self.now:>8} {text}")

    def push(self, m: Message, at: int) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (at, self.seq, m))

    def apply(self, node: str, step: Step) -> None:
        for e in step.events:
            self.events.append((self.now, e))
            if self.record and e.kind in TRANSCRIPT_EVENTS:
                self.note(describe_event(e))
        for m in step.messages:
            self.push(m, self.now + step.delay_us + self.latency_us)
        if step.wake_at_us is not None:
            self.timers[node] = step.wake_at_us
        elif node.startswith("client:"):
            self.timers.pop(node, None)

    def participant(self, name: str) -> Replica | ClientSession | None:
        if name.startswith("client:"):
            return self.clients.get(name[len("client:") :])
        if name.startswith("n") and name[1:].isdigit() and int(name[1:]) < self.n:
            return self.replicas.get(int(name[1:]))
        return None

    def _admit(self, m: Message, suffix: str = "") -> bool:
        """Apply the partitions and the drop/hold rules to ``m``; note it if it arrives."""
        if (m.source, m.target) in self.blocked:
            return False
        if any(rule(m) for rule in self.drop_rules):
            self.note(f"{m.source} -> {m.target} DROPPED {describe(m)}")
            return False
        if any(rule(m) for rule in self.hold_rules):
            self.held.append(m)
            self.note(f"{m.source} -> {m.target} HELD {describe(m)}")
            return False
        if self.record and not self._is_heartbeat(m):
            self.note(f"{m.source} -> {m.target} {describe(m)}{suffix}")
        return True

    def deliver(self, m: Message) -> None:
        target = self.participant(m.target)
        if target is not None and self._admit(m):
            self.apply(m.target, target.handle(m, self.now))

    def deliver_batch(self, batch: list[Message]) -> None:
        target = self.participant(batch[0].target)
        if not isinstance(target, Replica):
            for m in batch:
                self.deliver(m)
            return
        kept = [m for m in batch if self._admit(m, " (batched)")]
        if kept:
            self.apply(target.name, target.handle_batch(kept, self.now))

    def _is_heartbeat(self, m: Message) -> bool:
        """Commit/CommitOk rounds that bring no news are left out of transcripts."""
        if not isinstance(m, Commit | CommitOk):
            return False
        key = (m.kind, m.source, m.target)
        news = m.commit > self.commit_seen.get(key, -1)
        self.commit_seen[key] = max(self.commit_seen.get(key, -1), m.commit)
        return not news

    def next_time(self) -> int | None:
        times = list(self.timers.values())
        if self.heap:
            times.append(self.heap[0][0])
        return min(times) if times else None

    def run_until(self, t_end: int) -> None:
        while True:
            t = self.next_time()
            if t is None or t > t_end:
                break
            self.now = max(self.now, t)
            if self.heap and self.heap[0][0] <= t:
                _, _, m = heapq.heappop(self.heap)
                batch = [m]
                # Messages for one replica arriving at the same instant go in one batch (as the
                # simulator's host does while a replica is busy): one sync, one Prepare.
                while self.batching and self.heap and self.heap[0][0] == t:
                    if self.heap[0][2].target != m.target or m.target.startswith("client:"):
                        break
                    batch.append(heapq.heappop(self.heap)[2])
                if len(batch) == 1:
                    self.deliver(m)
                else:
                    self.deliver_batch(batch)
                continue
            for name in sorted(self.timers):
                if self.timers[name] <= t:
                    p = self.participant(name)
                    del self.timers[name]
                    if p is not None:
                        self.apply(name, p.tick(self.now))
                    break
        self.now = max(self.now, t_end)

    def run(self, us: int) -> None:
        self.run_until(self.now + us)

    # -- client helpers -------------------------------------------------------------------

    def submit(self, cid: str, payload: bytes) -> int:
        c = self.client(cid)
        handle, step = c.submit(payload, self.now)
        self.apply(c.name, step)
        return handle

    def put(self, cid: str, key: str, value: str) -> int:
        return self.submit(cid, KvMachine.append(key, value))

    def read(self, cid: str, query: Any, mode: str | None = None) -> int:
        c = self.client(cid)
        handle, step = c.read(query, self.now, mode)  # type: ignore[arg-type]
        self.apply(c.name, step)
        return handle

    def wait(self, cid: str, handle: int, limit_us: int = 5_000_000) -> Any:
        """Run until ``handle`` finishes (or ``limit_us`` passes); returns its Outcome."""
        c = self.clients[cid]
        end = self.now + limit_us
        while c.result(handle) is None and self.now < end:
            t = self.next_time()
            if t is None:
                break
            self.run_until(min(t, end))
        return c.result(handle)

    def primaries(self) -> list[int]:
        return [r.index for r in self.up() if r.is_primary]

    def committed_log(self, i: int) -> list[tuple[int, int, bytes]]:
        r = self.r(i)
        return [(row.op, row.view, row.payload) for row in r.log if row.committed]
