"""``clobkit torture``: real processes, concurrent clients, a random nemesis, then a verdict.

:func:`torture` starts a :class:`~clobkit.proc.ProcessCluster`, keeps
``clients`` sessions busy with orders (places on both sides, cancels, a few
reads), and every second or two lets a seeded nemesis do one thing through
the operating system: SIGKILL the primary or a backup, SIGSTOP a node for a
moment, cut one node off, restart what is down, or now and then SIGKILL
every replica at once and restart them all (only what reached the files
survives that). Otherwise at most ``f`` replicas are faulty at once, so the
cluster can keep committing. After ``seconds`` it
heals everything, lets the calls in flight finish, reads the book once more,
ends every process, and then judges:

* the linearizability checker over the client history (wall-clock times);
* the invariants over the WAL files on disk (one committed sequence, every
  acknowledged write in it: :func:`clobkit.proc.check_disks`).

The run is bounded (``seconds`` plus the calls' timeout plus the checker's
budget) and :class:`TortureReport` says how it went; ``failed`` is true on a
violation or an ``illegal`` verdict (the command then exits 1).

:class:`Workload` is the client side alone, reused by the tests and the
benchmark: it keeps every client with one call in flight.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from clobkit.proc.cluster import ProcessCluster
from clobkit.sim.results import Call

__all__ = ["TortureReport", "Workload", "torture"]


class Workload:
    """Keeps ``clients`` sessions busy on ``cluster``: each always has one call in flight.

    Orders are limit orders around 100.00 (``prices``), both sides unless
    ``side`` is given; ``cancel_share`` of the calls cancel one of the
    client's resting orders, ``read_share`` are reads (depth) by the client.
    """

    def __init__(
        self,
        cluster: ProcessCluster,
        clients: int,
        *,
        seed: int = 0,
        side: str | None = None,
        cancel_share: float = 0.15,
        read_share: float = 0.05,
        prices: tuple[str, ...] = ("99.98", "99.99", "100.00", "100.01", "100.02"),
    ) -> None:
        self.cluster = cluster
        self.users = [f"c{i}" for i in range(clients)]
        self.rng = random.Random(seed)
        self.side = side
        self.cancel_share = cancel_share
        self.read_share = read_share
        self.prices = prices
        self.inflight: dict[str, Call] = {}
        self.calls: list[Call] = []
        self.resting: dict[str, list[int]] = {u: [] for u in self.users}

    def _start(self, user: str) -> None:
        c, rng = self.cluster, self.rng
        roll = rng.random()
        if roll < self.read_share:
            call = c.submit(user, "depth", levels=5)
        elif roll < self.read_share + self.cancel_share and self.resting[user]:
            oid = self.resting[user].pop(rng.randrange(len(self.resting[user])))
            call = c.submit(user, "cancel", order_id=oid)
        else:
            side = self.side or rng.choice(("buy", "sell"))
            call = c.submit(
                user, "place", side=side, price=rng.choice(self.prices), qty=rng.randint(1, 5)
            )
        self.inflight[user] = call
        self.calls.append(call)

    def _collect(self) -> None:
        for user, call in list(self.inflight.items()):
            if call.done:
                del self.inflight[user]
                placed = call.kind == "place" and call.outcome == "ok" and call.error is None
                if placed and call.value.resting_qty > 0:
                    self.resting[user].append(call.value.order_id)

    def _any_done(self) -> bool:
        return any(call.done for call in self.inflight.values())

    def run(self, seconds: float, *, keep_going: bool = True) -> None:
        """Pump for ``seconds``, starting a new call whenever a client's call ends."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self._collect()
            if keep_going:
                for user in self.users:
                    if user not in self.inflight:
                        self._start(user)
            self.cluster.pump(0.01, until=self._any_done)
        self._collect()

    def drain(self, seconds: float) -> None:
        """Pump without new calls until none is in flight (or ``seconds`` pass)."""
        self.cluster.run_until(lambda: all(c.done for c in self.inflight.values()), seconds)
        self._collect()

    def acked_writes(self) -> list[Call]:
        """Writes whose outcome is ``ok`` (the cluster promised they are durable)."""
        return [c for c in self.calls if c.kind != "depth" and c.outcome == "ok"]


@dataclass
class TortureReport:
    """How a torture run went: counts, faults, the checker's verdict, the invariants."""

    nodes: int
    clients: int
    seconds: float
    calls: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    verdict: str = "not run"
    check: Any = None
    violations: list[Any] = field(default_factory=list)
    max_view: int = 0
    acked_writes: int = 0
    wall_s: float = 0.0
    check_s: float = 0.0
    error: str = ""

    @property
    def failed(self) -> bool:
        """True on an invariant violation, an ``illegal`` verdict or an error."""
        return bool(self.violations) or self.verdict == "illegal" or bool(self.error)

    def rows(self) -> list[tuple[str, str]]:
        """The summary table, as (what, value) rows."""
        rows = [
            ("replicas / clients", f"{self.nodes} / {self.clients}"),
            ("seconds of load", f"{self.seconds:g}"),
            ("wall time (s)", f"{self.wall_s:.1f}"),
        ]
        for key in sorted(self.calls):
            rows.append((f"calls {key}", str(self.calls[key])))
        rows.append(("acknowledged writes", str(self.acked_writes)))
        for key in sorted(self.faults):
            rows.append((f"nemesis {key}", str(self.faults[key])))
        rows.append(("highest view", str(self.max_view)))
        how = ""
        if self.check is not None and self.verdict == "ok":
            how = " (claimed order verified)" if self.check.states_explored == 0 else " (search)"
        rows.append(("checker verdict", f"{self.verdict}{how} in {self.check_s:.1f} s"))
        rows.append(("invariant violations (on disk)", str(len(self.violations))))
        for kind, count in sorted(Counter(v.kind for v in self.violations).items()):
            rows.append((f"  {kind}", str(count)))
        if self.error:
            rows.append(("error", self.error))
        return rows

    def table(self) -> str:
        """:meth:`rows` as aligned text."""
        width = max(len(k) for k, _ in self.rows())
        return "\n".join(f"{k.ljust(width)}  {v}" for k, v in self.rows())


def _nemesis(c: ProcessCluster, rng: random.Random, report: TortureReport) -> None:
    """One random fault, keeping at most f replicas faulty (down, paused or cut off)."""
    names = list(c.replica_names)
    for n in names:
        c.alive(n)
    faulty = {n for n in names if c._state[n] != "up"} | {link.split(">")[0] for link in c._blocked}
    budget = c.config.f - len(faulty)
    roll = rng.random()
    if budget <= 0 or roll < 0.25:
        # Repair: restart the dead, resume the paused, heal the cuts.
        for n in names:
            if c._state[n] == "down":
                c.restart(n)
                report.faults["restart"] += 1
            elif c._state[n] == "paused":
                c.resume(n)
                report.faults["resume"] += 1
        if c._blocked:
            c.heal()
            report.faults["heal"] += 1
        return
    primary = c.primary
    healthy = [n for n in names if n not in faulty]
    if roll < 0.32 and not faulty:
        # Every process at once (a whole-cluster crash): only what reached the files survives.
        for n in names:
            c.kill(n)
        for n in names:
            c.restart(n)
        report.faults["kill -9 all + restart"] += 1
    elif roll < 0.5 and primary in healthy:
        c.kill(primary)
        report.faults["kill -9 primary"] += 1
    elif roll < 0.7:
        victim = rng.choice([n for n in healthy if n != primary] or healthy)
        c.kill(victim)
        report.faults["kill -9 backup"] += 1
    elif roll < 0.85:
        c.pause(rng.choice(healthy))
        report.faults["pause"] += 1
    else:
        victim = rng.choice(healthy)
        c.partition({victim}, set(names) - {victim})
        report.faults["partition"] += 1


def torture(
    nodes: int = 3,
    seconds: float = 60.0,
    clients: int = 8,
    *,
    seed: int = 0,
    path: str | None = None,
    check_timeout_s: float = 60.0,
    fault_every_s: tuple[float, float] = (0.8, 2.0),
) -> TortureReport:
    """Run one torture session (see the module docstring); never leaves a process behind."""
    t0 = time.monotonic()
    rng = random.Random(seed)
    report = TortureReport(nodes, clients, seconds)
    cluster = ProcessCluster(nodes, path=path, timeout_ms=8_000, seed=seed)
    try:
        work = Workload(cluster, clients, seed=seed)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            work.run(min(rng.uniform(*fault_every_s), max(0.0, end - time.monotonic())))
            if time.monotonic() < end:
                _nemesis(cluster, rng, report)
        # Calm down: everything back up and connected, then let the calls finish.
        for n in cluster.replica_names:
            cluster.alive(n)
            if cluster._state[n] == "paused":
                cluster.resume(n)
            elif cluster._state[n] == "down":
                cluster.restart(n)
        cluster.heal()
        work.drain(cluster.timeout_us / 1e6 + 2)
        final = cluster.submit("reader", "live_orders")
        cluster.run_until(lambda: final.done, cluster.timeout_us / 1e6 + 1)
        report.max_view = max(int(r.get("view", 0)) for r in cluster.node_rows())
        report.calls = Counter(f"{c.kind} {c.outcome}" for c in cluster_calls(work, final))
        report.acked_writes = len(cluster.acks)
    except Exception as exc:
        report.error = f"{type(exc).__name__}: {exc}"[:300]
    finally:
        cluster.close()
    report.violations = list(cluster.disk_violations or [])
    t_check = time.monotonic()
    try:
        report.check = cluster.check(timeout_s=check_timeout_s)
        report.verdict = report.check.verdict
    except Exception as exc:
        report.error = report.error or f"checker: {type(exc).__name__}: {exc}"[:300]
    report.check_s = time.monotonic() - t_check
    report.wall_s = time.monotonic() - t0
    return report


def cluster_calls(work: Workload, *extra: Call) -> list[Call]:
    """Every call the workload made, plus ``extra``."""
    return [*work.calls, *extra]


def add_parser(commands: Any) -> None:
    """Register ``clobkit torture`` on the CLI's sub-parsers (called by :mod:`clobkit.cli`)."""

    def positive(text: str) -> float:
        value = float(text)
        if not value > 0:
            raise ValueError(text)
        return value

    p = commands.add_parser(
        "torture",
        help="real processes, kill -9 and partitions under load, then the checker's verdict",
        description="Start one OS process per replica (TCP on 127.0.0.1, real fsync), keep "
        "CLIENTS clients busy for SECONDS while a random nemesis kills (SIGKILL), pauses "
        "(SIGSTOP), partitions and restarts replicas; then check linearizability and the WAL "
        "files on disk. Exits 1 on a violation. Every process is ended.",
    )
    p.add_argument("--nodes", type=int, choices=(3, 5), default=3, help="replicas (default 3)")
    p.add_argument("--seconds", type=positive, default=60.0, help="seconds of load (default 60)")
    p.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    p.add_argument("--seed", type=int, default=0, help="seed of the nemesis and the workload")
    p.add_argument("--check-timeout", type=positive, default=120.0, help="checker budget, seconds")
    p.set_defaults(run=torture_command)


def torture_command(args: Any, out: Any = None) -> int:
    """Run ``clobkit torture`` and print the summary table; 1 on a violation."""
    import sys

    out = sys.stdout if out is None else out
    if args.clients < 1:
        print("clients must be >= 1", file=out)
        return 2
    print(
        f"clobkit torture: {args.nodes} processes, {args.clients} clients, {args.seconds:g} s "
        f"of load with a random nemesis (seed {args.seed})",
        file=out,
        flush=True,
    )
    report = torture(
        args.nodes,
        args.seconds,
        args.clients,
        seed=args.seed,
        check_timeout_s=args.check_timeout,
    )
    print(report.table(), file=out)
    for v in report.violations[:10]:
        print(f"VIOLATION {v}", file=out)
    if report.check is not None and report.verdict == "illegal":
        print(report.check.explanation, file=out)
    verdict = "FAIL" if report.failed else "PASS"
    print(
        f"{verdict}: linearizability {report.verdict}, {len(report.violations)} violations",
        file=out,
    )
    return 1 if report.failed else 0
