"""Seeded fault campaigns: many simulated runs, each judged by invariants and the checker.

One *run* is a pure function of its seed and options: build a :class:`~clobkit.sim.Cluster`
on simulated disks, start a :class:`~clobkit.sim.workload.RandomWorkload` (a few concurrent
users placing, cancelling, modifying and reading), schedule a
:func:`~clobkit.sim.faults.random_faults` schedule drawn from the cluster's ``"faults"``
stream (crashes with torn writes, restarts, disk replacements, pauses, partitions, loss,
duplication), run through the fault window, heal everything (:meth:`Cluster.settle`), and
judge it twice: the cluster invariants (:mod:`clobkit.check.invariants`) and the client
history against one sequential order book (:func:`~clobkit.check.book_model` and
:func:`~clobkit.check.check_operations`). The verdict is ``"violation"`` if an invariant
broke, else the checker's ``"ok"``, ``"illegal"`` or ``"unknown"`` (a budget ran out: never
counted as ok); ``"error"`` if the run raised (a protocol assertion, say).

:func:`campaign` maps that function over seeds, serially or on any
:class:`concurrent.futures.Executor` (a ``ProcessPoolExecutor``, or a Dask cluster's
``client.get_executor()``): the work item :func:`run_seed` is a top-level function of plain
arguments, and a run depends on nothing but them, so every executor gives the same frame
except ``wall_time_s``. :func:`replay` re-runs one seed in-process and keeps everything (the
cluster, its trace, the check result); :func:`shrink` reduces a failing run to fewer faults
and fewer operations while it still fails.

>>> import clobkit as ck
>>> df = ck.campaign(seeds=range(2), ops=40, progress=False)
>>> list(df.verdict)
['ok', 'ok']
>>> r = ck.replay(seed=1, ops=40)
>>> r.verdict, r.history_digest == df.history_digest[1]
('ok', True)
"""

from __future__ import annotations

import html
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from clobkit.check.invariants import (
    LiveInvariants,
    Violation,
    check_invariants,
    violations_frame,
    violations_html,
)
from clobkit.errors import InvalidArgument, InvalidType
from clobkit.sim.faults import SWARM_KINDS

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from clobkit.check.checker import CheckResult
    from clobkit.sim.cluster import Cluster
    from clobkit.sim.faults import Fault

__all__ = [
    "CAMPAIGN_COLUMNS",
    "DEFAULT_FAULT_KINDS",
    "RunOptions",
    "RunResult",
    "campaign",
    "replay",
    "run_seed",
    "shrink",
]

DEFAULT_FAULT_KINDS = SWARM_KINDS
"""Fault kinds a campaign draws from by default: every kind of
:func:`~clobkit.sim.faults.swarm_faults` (each seed uses its own subset)."""

CAMPAIGN_COLUMNS = {
    "seed": "int64",
    "nodes": "int64",
    "ops": "int64",
    "faults": "int64",
    "fault_kinds": "str",
    "swarm": "str",
    "beyond_f": "bool",
    "verdict": "str",
    "violations": "int64",
    "first_violation": "str",
    "linearizable": "str",
    "states": "int64",
    "sim_time_us": "int64",
    "wall_time_s": "float64",
    "history_digest": "str",
    "repro": "str",
}
"""Columns of the :func:`campaign` frame and their pandas dtypes, in order."""

VERDICTS = ("ok", "illegal", "unknown", "violation", "error")


@dataclass(frozen=True)
class RunOptions:
    """Everything one run depends on besides its seed (plain, picklable values).

    ``ops`` is the number of client calls (split across ``users``); ``fault_us`` the length
    of the fault window; the workload is spread over it. ``schedule`` replaces the random
    fault schedule (a tuple of :class:`~clobkit.sim.faults.Fault`, used by shrinking).
    """

    nodes: int = 3
    ops: int = 200
    users: int = 4
    faults: tuple[str, ...] = DEFAULT_FAULT_KINDS
    unsafe: tuple[str, ...] = ()
    read_mode: str = "quorum"
    check_timeout_s: float = 600.0
    max_states: int = 10_000
    fault_us: int = 1_500_000
    settle_ms: int = 2_000
    timeout_ms: int = 4_000
    storage: str = "memory"
    schedule: tuple[Fault, ...] | None = None
    scenario: str | None = None

    def repro(self, seed: int) -> str:
        """The one-line ``ck.replay(...)`` call that re-runs ``seed`` with these options."""
        if self.scenario is not None:
            return self.scenario
        defaults = RunOptions()
        parts = [f"seed={seed}", f"nodes={self.nodes}", f"ops={self.ops}"]
        names = (
            "users", "faults", "unsafe", "read_mode", "fault_us", "settle_ms", "timeout_ms",
            "check_timeout_s", "max_states", "storage",
        )  # fmt: skip
        for name in names:
            value = getattr(self, name)
            if name in ("unsafe", "read_mode") or value != getattr(defaults, name):
                parts.append(f"{name}={value!r}")
        if self.schedule is not None:
            parts.append(f"schedule={_schedule_repr(self.schedule)}")
        return f"ck.replay({', '.join(parts)})"


def _schedule_repr(schedule: Sequence[Fault]) -> str:
    items = []
    for f in schedule:
        args = ", ".join(
            "frozenset({" + ", ".join(repr(x) for x in sorted(a)) + "})"
            if isinstance(a, frozenset | set)
            else repr(a)
            for a in f.args
        )
        comma = "," if len(f.args) == 1 else ""
        items.append(f"Fault({f.at_us}, {f.action!r}, ({args}{comma}))")
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def _options(
    nodes: int,
    ops: int,
    users: int,
    faults: Iterable[str],
    unsafe: Iterable[str],
    read_mode: str,
    check_timeout_s: float,
    max_states: int,
    fault_us: int,
    settle_ms: int,
    timeout_ms: int,
    storage: str,
    schedule: Iterable[Fault] | None,
) -> RunOptions:
    """Validate campaign/replay options (raises InvalidArgument / InvalidType, naming them)."""
    from clobkit.replication.config import READ_MODES, UNSAFE_SWITCHES
    from clobkit.sim.faults import Fault

    for name, value, low in (
        ("nodes", nodes, 1),
        ("ops", ops, 1),
        ("users", users, 1),
        ("max_states", max_states, 1),
        ("fault_us", fault_us, 0),
        ("settle_ms", settle_ms, 0),
        ("timeout_ms", timeout_ms, 1),
    ):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidType(f"{name} must be an int, got {value!r}")
        if value < low:
            raise InvalidArgument(f"{name} must be >= {low}, got {value!r}")
    if nodes not in (1, 3, 5, 7):
        raise InvalidArgument(f"nodes must be one of (1, 3, 5, 7), got {nodes!r}")
    if isinstance(faults, str) or isinstance(unsafe, str):
        raise InvalidType("faults and unsafe must be collections of names, not a str")
    fault_kinds = tuple(faults)
    allowed = set(DEFAULT_FAULT_KINDS)
    bad = sorted(set(fault_kinds) - allowed)
    if bad:
        raise InvalidArgument(f"faults has unknown kind(s) {bad}; known: {sorted(allowed)}")
    switches = tuple(sorted(set(unsafe)))
    bad = sorted(set(switches) - UNSAFE_SWITCHES)
    if bad:
        raise InvalidArgument(
            f"unsafe has unknown switch(es) {bad}; known: {sorted(UNSAFE_SWITCHES)}"
        )
    if read_mode not in READ_MODES:
        raise InvalidArgument(f"read_mode must be one of {READ_MODES}, got {read_mode!r}")
    if isinstance(check_timeout_s, bool) or not isinstance(check_timeout_s, int | float):
        raise InvalidType(f"check_timeout_s must be a number, got {check_timeout_s!r}")
    if not check_timeout_s > 0:
        raise InvalidArgument(f"check_timeout_s must be > 0, got {check_timeout_s!r}")
    if storage not in ("memory", "file"):
        raise InvalidArgument(f"storage must be 'memory' or 'file', got {storage!r}")
    sched = None
    if schedule is not None:
        sched = tuple(schedule)
        for f in sched:
            if not isinstance(f, Fault):
                raise InvalidType(f"schedule must hold Fault objects, got {f!r}")
    return RunOptions(
        nodes=nodes,
        ops=ops,
        users=users,
        faults=fault_kinds,
        unsafe=switches,
        read_mode=read_mode,
        check_timeout_s=float(check_timeout_s),
        max_states=max_states,
        fault_us=fault_us,
        settle_ms=settle_ms,
        timeout_ms=timeout_ms,
        storage=storage,
        schedule=sched,
    )


# -- one run ----------------------------------------------------------------------------


@dataclass
class RunResult:
    """One seeded run, kept whole: the cluster, its history, the verdicts, and how to re-run it.

    ``verdict`` as in :data:`CAMPAIGN_COLUMNS` (``"ok"``, ``"illegal"``, ``"unknown"``,
    ``"violation"``, ``"error"``); ``check`` is the checker's
    :class:`~clobkit.check.CheckResult` (``None`` if the run raised); ``violations`` the
    invariant violations; ``faults`` the schedule applied; ``row`` the campaign frame row.
    """

    seed: int
    options: RunOptions
    cluster: Cluster | None
    check: CheckResult | None
    violations: list[Violation]
    faults: list[Fault]
    verdict: str
    error: str = ""
    wall_time_s: float = 0.0
    trace_digest: str = ""
    history_digest: str = ""
    shrunk_from: RunResult | None = field(default=None, repr=False)
    swarm: str = ""
    beyond_f: bool = False

    @property
    def schedule_calls(self) -> str:
        """The fault schedule as the :class:`~clobkit.sim.Cluster` calls it makes, one per
        line with its simulated time (the workload runs beside them; ``repro`` replays both).
        """
        return "\n".join(f"at {f.at_us / 1000:>8.1f} ms: {f.as_call()}" for f in self.faults)

    @property
    def ok(self) -> bool:
        """True when the run passed every check (verdict ``"ok"``)."""
        return self.verdict == "ok"

    @property
    def failed(self) -> bool:
        """True for ``"illegal"`` or ``"violation"``: a safety bug was found."""
        return self.verdict in ("illegal", "violation")

    @property
    def history(self) -> Any:
        """The cluster's client history (:class:`~clobkit.sim.history.ClientHistory`)."""
        return None if self.cluster is None else self.cluster.history

    @property
    def repro(self) -> str:
        """The one-line ``ck.replay(...)`` that re-runs this exact run."""
        return self.options.repro(self.seed)

    @property
    def row(self) -> dict[str, Any]:
        """This run as one :func:`campaign` row (a dict keyed by :data:`CAMPAIGN_COLUMNS`)."""
        c = self.cluster
        first = str(self.violations[0]) if self.violations else self.error
        return {
            "seed": self.seed,
            "nodes": self.options.nodes,
            "ops": 0 if c is None else len(c.history),
            "faults": len(self.faults),
            "fault_kinds": ",".join(sorted({f.action for f in self.faults})),
            "swarm": self.swarm,
            "beyond_f": self.beyond_f,
            "verdict": self.verdict,
            "violations": len(self.violations),
            "first_violation": first[:300],
            "linearizable": "" if self.check is None else self.check.verdict,
            "states": 0 if self.check is None else self.check.states_explored,
            "sim_time_us": 0 if c is None else c.now_us,
            "wall_time_s": round(self.wall_time_s, 4),
            "history_digest": self.history_digest,
            "repro": self.repro,
        }

    def violations_df(self) -> pd.DataFrame:
        """The invariant violations as a DataFrame (columns ``kind, detail, time_us, nodes``)."""
        return violations_frame(self.violations)

    def shrink(self, max_attempts: int = 60) -> RunResult:
        """A smaller run that still fails (see :func:`shrink`); ``self`` if it passed."""
        return _shrink(self, max_attempts)

    def __repr__(self) -> str:
        extra = ""
        if self.violations:
            extra = f" violations={len(self.violations)} first={self.violations[0].kind}"
        elif self.error:
            extra = f" error={self.error[:60]!r}"
        ops = 0 if self.cluster is None else len(self.cluster.history)
        unsafe = f" unsafe={list(self.options.unsafe)}" if self.options.unsafe else ""
        return (
            f"<RunResult seed={self.seed} {self.verdict} ops={ops} faults={len(self.faults)}"
            f"{unsafe} read_mode={self.options.read_mode}{extra}>"
        )

    def _repr_html_(self) -> str:
        colour = {"ok": "#1a7f37"}.get(self.verdict, "#cf222e")
        if self.verdict == "unknown":
            colour = "#9a6700"
        rows = [
            ("verdict", f"<b style='color:{colour}'>{html.escape(self.verdict)}</b>"),
            ("linearizable", html.escape("" if self.check is None else self.check.verdict)),
            ("violations", str(len(self.violations))),
            ("operations", str(0 if self.cluster is None else len(self.cluster.history))),
            ("faults", str(len(self.faults))),
            ("repro", f"<code>{html.escape(self.repro)}</code>"),
        ]
        if self.error:
            rows.append(("error", html.escape(self.error)))
        if self.check is not None and self.check.explanation:
            rows.append(("explanation", html.escape(self.check.explanation)))
        body = "".join(
            f"<tr><th style='text-align:left'>{k}</th><td style='text-align:left'>{v}</td></tr>"
            for k, v in rows
        )
        table = violations_html(self.violations) if self.violations else ""
        return f"<div><table>{body}</table>{table}</div>"


def _build(
    seed: int, options: RunOptions, *, trace: bool = True
) -> tuple[Cluster, LiveInvariants, list[Fault], Any]:
    """A cluster with workload and faults scheduled (nothing has run yet). ``trace=False``
    (campaign rows) skips the message trace: it changes no behaviour, only what is kept."""
    from clobkit.sim.cluster import Cluster
    from clobkit.sim.faults import Swarm, swarm_faults
    from clobkit.sim.workload import RandomWorkload

    c = Cluster(
        options.nodes,
        seed=seed,
        storage=options.storage,
        read_mode=options.read_mode,
        unsafe=options.unsafe,
        timeout_ms=options.timeout_ms,
        trace=trace,
    )
    c.monitor.strict = False  # collect violations; the campaign reports them
    live = LiveInvariants.attach(c)
    users = [f"u{i}" for i in range(options.users)]
    per_user = max(1, options.ops // options.users)
    # Spread each user's calls over the fault window (mean think time ~ window / calls);
    # calls take time too, so with many calls the later ones run after the heal. Packing
    # more calls into the faults makes long-pending calls overlap many others, which the
    # book checker pays for steeply (see benchmarks/README.md).
    think = max(1_000, 2 * options.fault_us // per_user)
    # Swarm testing reaches the workload too: some seeds read much more than others.
    shape = c.world.streams.stream("workload-shape")
    read_weight = shape.choice((0.15, 0.15, 0.4, 0.6))
    mix = {"place": 0.6, "cancel": 0.2, "modify": 0.05, "read": read_weight}
    RandomWorkload(c, users=users, ops_per_user=per_user, think_us_max=think, mix=mix).start()
    swarm = Swarm((), (), 0, False)
    if options.schedule is not None:
        faults = list(options.schedule)
    elif options.faults and options.fault_us > 0:
        kinds = options.faults
        faults, swarm = swarm_faults(
            c.world.streams.stream("faults"),
            c.replica_names,
            duration_us=options.fault_us,
            kinds=kinds,
        )
    else:
        faults = []
    c.schedule_faults(faults)
    _read_bursts(c, faults, shape)
    return c, live, faults, swarm


def _start(workload: Any) -> None:
    workload.start()


_BURST_AFTER = frozenset({"crash", "bounce", "restart", "lose_file", "partition", "isolate"})


def _read_bursts(c: Cluster, faults: Sequence[Fault], rng: Any) -> None:
    """Reads bunched around view changes and restarts, where read bugs hide: after about
    half of the crashes, restarts and partitions, a few readers read back to back."""
    from clobkit.sim.workload import RandomWorkload

    burst = 0
    for fault in faults:
        if fault.action not in _BURST_AFTER or rng.random() < 0.5:
            continue
        burst += 1
        readers = RandomWorkload(
            c,
            users=[f"r{burst}.{i}" for i in range(rng.randint(1, 3))],
            seed_name=f"reads:{burst}",
            mix={"read": 1.0},
            ops_per_user=rng.randint(2, 5),
            think_us_max=rng.choice((2_000, 20_000, 80_000)),
        )
        c.world.schedule(fault.at_us + rng.randint(0, 100_000), _start, readers)


def _judge(
    seed: int,
    options: RunOptions,
    run: Callable[[Cluster], None],
    built: tuple[Any, ...] | None = None,
    *,
    trace: bool = True,
) -> RunResult:
    """Build (or take ``built``), ``run``, and judge one cluster; never raises for a
    failure of the system under test.

    The whole run, judging included, goes with the garbage collector's first threshold
    raised (:func:`~clobkit.sim.world.collecting_less_often`), not only the simulation's
    ``World.run`` calls: at the default threshold the end-of-run checks, reading the history
    and the digest allocated enough to pay a dozen young collections and a middle one per
    seed, and a full collection every few seeds (benchmarks/README.md, "fifth cut").
    """
    from clobkit.sim.world import collecting_less_often

    with collecting_less_often():
        return _judge_now(seed, options, run, built, trace=trace)


def _judge_now(
    seed: int,
    options: RunOptions,
    run: Callable[[Cluster], None],
    built: tuple[Any, ...] | None,
    *,
    trace: bool,
) -> RunResult:
    from clobkit.check.book_model import book_model
    from clobkit.check.checker import check_operations
    from clobkit.check.history import History
    from clobkit.sim.faults import Swarm

    t0 = time.perf_counter()
    if built is None:
        built = _build(seed, options, trace=trace)
    c, live, faults = built[:3]
    # (a staged scenario hands over (cluster, invariants, faults): no swarm was drawn)
    swarm = built[3] if len(built) > 3 else Swarm((), (), 0, False)
    check = None
    violations: list[Violation] = []
    error = ""
    try:
        run(c)
        violations = check_invariants(c, live)
        # (what c.history.to_check_history() gives, without writing and parsing JSON)
        ops = History.from_client_history(c.history).operations()
        check = check_operations(
            book_model(c.market),
            ops,
            timeout_s=options.check_timeout_s,
            max_states=options.max_states,
        )
    except Exception as exc:  # any failure of the system under test is a verdict
        error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    if error:
        verdict = "error"
    elif violations:
        verdict = "violation"
    else:
        assert check is not None
        verdict = check.verdict
    return RunResult(
        seed=seed,
        options=options,
        cluster=c,
        check=check,
        violations=violations,
        faults=faults,
        verdict=verdict,
        error=error,
        wall_time_s=time.perf_counter() - t0,
        trace_digest=c.trace.digest() if trace else "",
        history_digest=c.history.digest(),
        swarm=str(swarm),
        beyond_f=swarm.beyond_f,
    )


def _run_to_end(options: RunOptions) -> Callable[[Cluster], None]:
    total = max(1, options.ops // options.users) * options.users

    def run(c: Cluster) -> None:
        c.run(us=options.fault_us + 100_000)
        c.settle(ms=options.settle_ms)
        # Users that spent long in timeouts finish their calls now (bounded: a cluster
        # without a majority makes every call time out, which still ends it).
        c.run(ms=600_000, until=lambda cl: len(cl.history) >= total)
        c.run()  # every call has an outcome (each has a deadline)

    return run


def _execute(seed: int, options: RunOptions, *, trace: bool = True) -> RunResult:
    return _judge(seed, options, _run_to_end(options), trace=trace)


def run_seed(seed: int, options: RunOptions) -> dict[str, Any]:
    """One run, as a campaign row (the picklable work item executors run).

    >>> run_seed(3, RunOptions(ops=20))["verdict"]
    'ok'
    """
    result = _execute(seed, options, trace=False)
    row = result.row
    if result.cluster is not None:
        result.cluster.close()
    return row


def _run_chunk(seeds: list[int], options: RunOptions) -> list[dict[str, Any]]:
    """Several seeds in one work item (less executor overhead per seed)."""
    return [run_seed(s, options) for s in seeds]


# -- public entry points ----------------------------------------------------------------


def replay(
    seed: int,
    *,
    nodes: int = 3,
    ops: int = 200,
    users: int = 4,
    faults: Iterable[str] = DEFAULT_FAULT_KINDS,
    unsafe: Iterable[str] = (),
    read_mode: str = "quorum",
    check_timeout_s: float = 600.0,
    max_states: int = 10_000,
    fault_us: int = 1_500_000,
    settle_ms: int = 2_000,
    timeout_ms: int = 4_000,
    storage: str = "memory",
    schedule: Iterable[Fault] | None = None,
) -> RunResult:
    """Re-run one seed deterministically and keep everything (cluster, trace, check result).

    Same options as :func:`campaign`; ``schedule`` replaces the random fault schedule.
    The same arguments give the same history and trace, byte for byte. Cost: one simulated
    run plus one check (bounded by ``check_timeout_s`` / ``max_states``).

    Raises :class:`~clobkit.errors.InvalidArgument` / ``InvalidType`` for bad options.

    >>> r = replay(seed=5, ops=30, faults=("crash",))
    >>> r.verdict, r.repro
    ('ok', "ck.replay(seed=5, nodes=3, ops=30, faults=('crash',), unsafe=(), read_mode='quorum')")
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidArgument(f"seed must be an int >= 0, got {seed!r}")
    options = _options(
        nodes, ops, users, faults, unsafe, read_mode, check_timeout_s, max_states,
        fault_us, settle_ms, timeout_ms, storage, schedule,
    )  # fmt: skip
    return _execute(seed, options)


def campaign(
    seeds: Iterable[int] = range(1000),
    *,
    nodes: int = 3,
    ops: int = 200,
    users: int = 4,
    faults: Iterable[str] = DEFAULT_FAULT_KINDS,
    unsafe: Iterable[str] = (),
    read_mode: str = "quorum",
    executor: Executor | None = None,
    progress: bool = True,
    check_timeout_s: float = 600.0,
    max_states: int = 10_000,
    fault_us: int = 1_500_000,
    settle_ms: int = 2_000,
    timeout_ms: int = 4_000,
    storage: str = "memory",
    chunk: int | None = None,
) -> pd.DataFrame:
    """Run and check one seeded simulation per seed; one row per seed, in seed order.

    Each run: ``nodes`` replicas, ``users`` concurrent clients making about ``ops`` calls
    spread over a ``fault_us`` window of random faults of the kinds in ``faults``, then a
    heal and ``settle_ms`` of quiet (a call gives up after ``timeout_ms`` of simulated time:
    long enough that most calls outlive the faults, since timed-out places are what make the
    book checker search hard); judged by the cluster invariants and the
    linearizability checker (budget per seed: ``max_states`` memoised states, which is
    deterministic, and ``check_timeout_s`` of wall time as a backstop that should not fire
    first, since it would make the frame depend on the machine; an exhausted budget is
    verdict ``"unknown"``, never ``"ok"``). Columns and dtypes:
    :data:`CAMPAIGN_COLUMNS`; ``df.attrs["options"]`` holds the options. A failing seed
    prints its one-line ``ck.replay(...)`` (unless ``progress=False``) and keeps it in
    ``repro``.

    ``executor``: any :class:`concurrent.futures.Executor` (``ProcessPoolExecutor``, or
    ``dask.distributed.Client(...).get_executor()``); seeds go out in chunks of ``chunk``
    (default: about four chunks per worker). The frame is the same on every executor except
    ``wall_time_s``. Progress: a ``tqdm.auto`` bar (a widget in Jupyter) when tqdm is
    installed and ``progress`` is true.

    Raises ``InvalidArgument`` / ``InvalidType`` for bad options (nothing runs).

    >>> df = campaign(seeds=[4, 5], ops=30, faults=("crash", "loss"), progress=False)
    >>> list(df.columns) == list(CAMPAIGN_COLUMNS), list(df.seed)
    (True, [4, 5])
    """
    seed_list = list(seeds)
    for s in seed_list:
        if isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise InvalidArgument(f"seeds must be ints >= 0, got {s!r}")
    if executor is not None and not isinstance(executor, Executor):
        raise InvalidType(f"executor must be a concurrent.futures.Executor, got {executor!r}")
    if chunk is not None and (isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1):
        raise InvalidArgument(f"chunk must be an int >= 1, got {chunk!r}")
    options = _options(
        nodes, ops, users, faults, unsafe, read_mode, check_timeout_s, max_states,
        fault_us, settle_ms, timeout_ms, storage, None,
    )  # fmt: skip
    bar = _progress_bar(len(seed_list), progress)
    rows: dict[int, dict[str, Any]] = {}

    def collect(batch: list[dict[str, Any]]) -> None:
        for row in batch:
            rows[row["seed"]] = row
            if row["verdict"] != "ok" and progress:
                line = f"seed {row['seed']}: {row['verdict']}: {row['repro']}"
                if bar is not None:
                    bar.write(line, file=sys.stderr)
                else:
                    print(line, file=sys.stderr)
        if bar is not None:
            bar.update(len(batch))

    try:
        if executor is None:
            for s in seed_list:
                collect([run_seed(s, options)])
        else:
            from concurrent.futures import as_completed

            workers = getattr(executor, "_max_workers", None) or 2
            size = chunk or max(1, min(16, len(seed_list) // (4 * workers) or 1))
            chunks = [seed_list[i : i + size] for i in range(0, len(seed_list), size)]
            futures = [executor.submit(_run_chunk, part, options) for part in chunks]
            for future in as_completed(futures):
                collect(future.result())
    finally:
        if bar is not None:
            bar.close()
    return _frame([rows[s] for s in seed_list], options)


def _progress_bar(total: int, enabled: bool) -> Any:
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is optional
        return None
    return tqdm(total=total, desc="campaign", unit="seed")


def _frame(rows: list[dict[str, Any]], options: RunOptions) -> pd.DataFrame:
    import pandas as pd

    data = {
        col: pd.array([r[col] for r in rows], dtype=dtype)
        for col, dtype in CAMPAIGN_COLUMNS.items()
    }
    df = pd.DataFrame(data)
    df.attrs["options"] = {k: v for k, v in options.__dict__.items() if k != "schedule"}
    return df


# -- shrinking ----------------------------------------------------------------------------


def shrink(
    seed: int,
    *,
    max_attempts: int = 60,
    **options: Any,
) -> RunResult:
    """Reduce a failing run to a small one that still fails; deterministic and bounded.

    Re-runs ``replay(seed, **options)``; if it fails (``"illegal"`` or ``"violation"``),
    tries, in order, fewer operations (halving ``ops``) and smaller fault schedules (drop
    halves, then quarters, ... then single faults: delta debugging), keeping each change
    that still fails. At most ``max_attempts`` re-runs. Returns the smallest failing run
    (``result.shrunk_from`` is the original); a passing run is returned as it is.
    """
    return _shrink(replay(seed, **options), max_attempts)


def _shrink(result: RunResult, max_attempts: int) -> RunResult:
    if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 0:
        raise InvalidArgument(f"max_attempts must be an int >= 0, got {max_attempts!r}")
    if not result.failed or result.options.scenario is not None:
        return result  # a staged scenario has no random schedule or workload to shrink
    best = result
    attempts = 0

    def attempt(options: RunOptions) -> bool:
        nonlocal best, attempts
        attempts += 1
        candidate = _execute(result.seed, options)
        if candidate.failed:
            if best is not result and best.cluster is not None:
                best.cluster.close()
            best = candidate
            return True
        if candidate.cluster is not None:
            candidate.cluster.close()
        return False

    # 1. Fewer operations (the workload keeps its random stream, so a prefix of the calls).
    while attempts < max_attempts and best.options.ops > best.options.users:
        smaller = max(best.options.users, best.options.ops // 2)
        if not attempt(replace(best.options, ops=smaller, schedule=tuple(best.faults))):
            break
    # 2. Fewer faults: remove chunks of the schedule, largest chunks first.
    schedule = list(best.faults)
    size = max(1, len(schedule) // 2)
    while attempts < max_attempts and schedule:
        removed_any = False
        start = 0
        while start < len(schedule) and attempts < max_attempts:
            trial = schedule[:start] + schedule[start + size :]
            if attempt(replace(best.options, schedule=tuple(trial))):
                schedule = trial
                removed_any = True
            else:
                start += size
        if size == 1:
            if not removed_any:
                break
        else:
            size = max(1, size // 2)
    best.shrunk_from = result
    return best
