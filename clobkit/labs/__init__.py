"""Graded labs: you write one pure piece of the protocol, and clobkit runs it in place of its own.

Each lab names one module-level function that clobkit calls at exactly one decision point.
:func:`grade` swaps in your function (and restores clobkit's own afterwards, whatever
happens), then judges it three ways, the way DSLabs and Maelstrom judge students' code:

1. **spec cases**: direct calls with known answers;
2. **staged situations**: small clusters or disks driven into the state where the decision
   matters (partitions, dropped messages, crashes, damaged bytes), judged by the cluster's
   invariants and the linearizability checker;
3. a **seeded campaign slice**: random faults over a few seeds; a failing seed is shrunk to a
   small counterexample (its one-line ``ck.replay(...)`` is printed).

The labs:

``"L1"``: client-table deduplication
    ``classify_request(record, request_number) -> "new" | "retry" | "stale"``, replacing
    :func:`clobkit.replication.client_table.classify_request`. ``record`` is the client's
    :class:`~clobkit.replication.client_table.ClientRecord` (or ``None``). The replica asks it
    when a request reaches the primary and when a committed entry is applied.
``"L2"``: fencing and the DoViewChange log choice
    ``choose_log(dvcs) -> (index, message, commit)``, replacing
    :func:`clobkit.replication.view_change.choose_log`. ``dvcs`` maps a replica index to its
    :class:`~clobkit.replication.messages.DoViewChange` (``last_normal_view``, ``op``,
    ``commit``); the new primary adopts the log of ``index`` and the commit number ``commit``.
``"L3"``: ReadIndex reads
    ``primary_read_ready(read, *, confirmed, applied, commit, view_start_op) -> bool``,
    replacing :func:`clobkit.replication.reads.primary_read_ready`: may the primary answer
    a waiting read (``read.read_index``, ``read.probe``) now?
``"L4"``: WAL recovery of a torn tail
    ``classify_tail(tail: bytes) -> "torn" | "corrupt"``, replacing
    :func:`clobkit.storage.format.classify_tail`: the unparseable bytes at the end of a WAL file
    are either a write cut short by power loss (truncate) or a record damaged after it was
    written (report, repair from a peer, never drop).

The reference solutions are clobkit's own functions (:func:`reference`), and they pass:

>>> from clobkit import labs
>>> labs.grade("L1", labs.reference("L1"), verbose=False).passed
True
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from clobkit.errors import InvalidArgument, InvalidType

__all__ = ["LABS", "Check", "GradeReport", "Lab", "grade", "reference", "use"]


@dataclass(frozen=True)
class Lab:
    """One lab: the function you replace (``module.name``) and what it teaches."""

    lab_id: str
    title: str
    module: str
    name: str
    signature: str
    objectives: tuple[str, ...]

    def target(self) -> Any:
        """The module object whose attribute ``name`` is swapped."""
        import importlib

        return importlib.import_module(self.module)


LABS: dict[str, Lab] = {
    "L1": Lab(
        "L1",
        "Client-table deduplication",
        "clobkit.replication.client_table",
        "classify_request",
        "classify_request(record: ClientRecord | None, request_number: int) -> str",
        (
            "explain why a retried request must not execute twice, even across a failover",
            "tell a retry (answer from the table) from a stale request and a new one",
            "see that the client table is replicated state, applied with the log",
        ),
    ),
    "L2": Lab(
        "L2",
        "Fencing and the DoViewChange log choice",
        "clobkit.replication.view_change",
        "choose_log",
        "choose_log(dvcs: dict[int, DoViewChange]) -> tuple[int, DoViewChange, int]",
        (
            "explain why a replica refuses messages from an older view (fencing)",
            "choose the new view's log by (last normal view, op), not by length alone",
            "see how a wrong choice loses an acknowledged order or splits the replicas",
        ),
    ),
    "L3": Lab(
        "L3",
        "ReadIndex reads",
        "clobkit.replication.reads",
        "primary_read_ready",
        "primary_read_ready(read, *, confirmed, applied, commit, view_start_op) -> bool",
        (
            "explain why a primary must confirm its leadership after a read arrives",
            "explain why a new primary serves no read before its view's no-op commits",
            "see a stale read from a deposed primary, caught by the checker",
        ),
    ),
    "L4": Lab(
        "L4",
        "WAL recovery of a torn tail",
        "clobkit.storage.format",
        "classify_tail",
        "classify_tail(tail: bytes) -> str",
        (
            "explain why an unsynced, torn record may be truncated: it was never acknowledged",
            "tell a torn write from a damaged record whose bytes were synced",
            "see how dropping a damaged, acknowledged record loses a committed write",
        ),
    ),
}


def _lab(lab_id: object) -> Lab:
    if not isinstance(lab_id, str):
        raise InvalidType(f"lab must be a lab id string like 'L1', got {lab_id!r}")
    if lab_id not in LABS:
        raise InvalidArgument(f"unknown lab {lab_id!r}; the labs are {sorted(LABS)}")
    return LABS[lab_id]


def reference(lab_id: str) -> Callable[..., Any]:
    """clobkit's own function for the lab (the reference solution).

    >>> reference("L4")(b"CLOB")
    'torn'
    """
    lab = _lab(lab_id)
    if lab_id not in _ORIGINALS:  # saved at first use, before any swap (use() restores it)
        _ORIGINALS[lab_id] = getattr(lab.target(), lab.name)
    return _ORIGINALS[lab_id]


_ORIGINALS: dict[str, Callable[..., Any]] = {}


@contextlib.contextmanager
def use(lab_id: str, fn: Callable[..., Any]) -> Iterator[None]:
    """Run the block with ``fn`` in place of the lab's function; always restored after.

    >>> from clobkit.replication import client_table
    >>> with use("L1", lambda record, number: "new"):
    ...     client_table.classify_request(None, 1)
    'new'
    >>> client_table.classify_request.__name__
    'classify_request'

    Raises ``InvalidArgument`` for an unknown lab and ``InvalidType`` if ``fn`` is not callable.
    """
    lab = _lab(lab_id)
    if not callable(fn):
        raise InvalidType(f"lab {lab_id}: the solution must be a function, got {fn!r}")
    own = reference(lab_id)
    # The lab's module, and every clobkit module that imported the function by name (the
    # replica imports choose_log that way): each must call the student's function.
    import clobkit.replication  # noqa: F401  (the replica, so its by-name imports exist now)

    holders = [lab.target()]
    for name, module in sorted(sys.modules.items()):
        by_name = getattr(module, lab.name, None) is own
        if by_name and name.startswith("clobkit.") and module is not holders[0]:
            holders.append(module)
    for module in holders:
        setattr(module, lab.name, fn)
    try:
        yield
    finally:
        for module in holders:
            setattr(module, lab.name, own)


@dataclass(frozen=True)
class Check:
    """One graded check: its kind (spec, staged, campaign), name, result and evidence."""

    kind: str
    name: str
    passed: bool
    detail: str = ""


@dataclass
class GradeReport:
    """What :func:`grade` found; ``passed`` when every check passed.

    ``counterexample`` is the shrunk failing campaign run (a
    :class:`~clobkit.check.campaigns.RunResult`) or ``None``; :meth:`picture` draws it.
    """

    lab: str
    checks: list[Check] = field(default_factory=list)
    counterexample: Any = None

    @property
    def passed(self) -> bool:
        """True when every check passed."""
        return all(check.passed for check in self.checks)

    def text(self) -> str:
        """The report as printed: one line per check, evidence under each failure."""
        lab = LABS[self.lab]
        lines = [f"Lab {self.lab}: {lab.title}"]
        for check in self.checks:
            mark = "PASS" if check.passed else "FAIL"
            lines.append(f"  {mark}  [{check.kind}] {check.name}")
            if not check.passed and check.detail:
                lines += [f"        {line}" for line in check.detail.splitlines()]
        done = sum(check.passed for check in self.checks)
        lines.append(
            f"{done}/{len(self.checks)} checks passed" + (" - well done." if self.passed else ".")
        )
        return "\n".join(lines)

    def picture(self) -> Any:
        """The counterexample's client history as a timeline figure (``None`` if none)."""
        if self.counterexample is None or self.counterexample.cluster is None:
            return None
        from clobkit.viz import history_timeline

        return history_timeline(self.counterexample.cluster, self.counterexample.check)

    def __repr__(self) -> str:
        done = sum(check.passed for check in self.checks)
        return f"<GradeReport {self.lab} {done}/{len(self.checks)} passed>"


def grade(
    lab_id: str, fn: Callable[..., Any], *, seeds: int = 3, verbose: bool = True
) -> GradeReport:
    """Judge ``fn`` as the solution of lab ``lab_id``; print the report unless ``verbose=False``.

    ``seeds``: how many seeds of the campaign slice to run (the staged situations always run).
    Deterministic: the same function gives the same report. A check that raises fails with
    the exception as its evidence; the lab's own function is restored afterwards.

    Raises ``InvalidArgument`` for an unknown lab or ``seeds < 0`` and ``InvalidType`` if
    ``fn`` is not callable (nothing runs).
    """
    lab = _lab(lab_id)
    if not callable(fn):
        raise InvalidType(f"lab {lab_id}: the solution must be a function, got {fn!r}")
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 0:
        raise InvalidArgument(f"seeds must be an int >= 0, got {seeds!r}")
    from clobkit.labs import _l1, _l2, _l3, _l4

    module = {"L1": _l1, "L2": _l2, "L3": _l3, "L4": _l4}[lab.lab_id]
    report = GradeReport(lab.lab_id)
    reference(lab_id)  # save clobkit's own function before the first swap
    with use(lab_id, fn):
        for kind, name, run in module.checks(fn):
            report.checks.append(_run_check(kind, name, run))
        campaign_check, counterexample = _campaign(module, seeds)
        if campaign_check is not None:
            report.checks.append(campaign_check)
        report.counterexample = counterexample
    if verbose:
        print(report.text())
    return report


def _run_check(kind: str, name: str, run: Callable[[], str | None]) -> Check:
    try:
        problem = run()
    except Exception as exc:  # a student's function may raise anything; that is a failure
        return Check(kind, name, False, f"raised {type(exc).__name__}: {exc}")
    return Check(kind, name, problem is None, problem or "")


def _campaign(module: Any, seeds: int) -> tuple[Check | None, Any]:
    if seeds == 0:
        return None, None
    from clobkit.check.campaigns import campaign, shrink

    options = module.CAMPAIGN
    name = f"campaign: {seeds} seeds, faults {', '.join(options['faults'])}"
    try:
        frame = campaign(seeds=range(1, seeds + 1), progress=False, **options)
    except Exception as exc:
        return Check("campaign", name, False, f"raised {type(exc).__name__}: {exc}"), None
    failing = frame[frame.verdict != "ok"]
    if failing.empty:
        return Check("campaign", name, True), None
    seed = int(failing.seed.iloc[0])
    try:
        small = shrink(seed, max_attempts=12, **options)
    except Exception as exc:
        return Check("campaign", name, False, f"seed {seed} failed; shrinking raised {exc}"), None
    calls = len(small.cluster.history) if small.cluster is not None else 0
    detail = [
        f"{len(failing)} of {seeds} seeds failed; seed {seed} shrunk to {calls} client calls"
        f" and {len(small.faults)} fault(s):",
        f"verdict {small.verdict}; re-run it with {small.repro}",
    ]
    if small.violations:
        detail.append(f"invariant: {small.violations[0]}")
    if small.check is not None and small.check.explanation:
        detail.append(f"checker: {small.check.explanation}")
    return Check("campaign", name, False, "\n".join(detail)), small


def _judge(cluster: Any) -> str | None:
    """None when the cluster's invariants hold and its client history is linearizable."""
    from clobkit.check import book_model, check_operations

    violations = cluster.check()
    if violations:
        return f"invariant violated: {violations[0]}"
    ops = cluster.history.to_check_history().operations()
    result = check_operations(book_model(cluster.market), ops, timeout_s=60)
    if result.verdict != "ok":
        return f"checker: {result.verdict}: {result.explanation}"
    return None
