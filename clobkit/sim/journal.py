"""The cluster's journal: every user action, in order, so that a run can be replayed.

:func:`journaled` wraps a :class:`~clobkit.sim.cluster.Cluster` method so that each
successful top-level call is appended to ``cluster.journal`` as a :class:`JournalEntry`
(the simulated time, the number of events run, the method and its arguments).
:meth:`~clobkit.sim.cluster.Cluster.fork` replays such a journal on a fresh cluster: actions
at their event counts, and :data:`ADVANCE_ACTIONS` (``run``, ``step``), which only mark that
time advanced, by running the simulator to the next action instead of calling them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from clobkit.errors import InvalidArgument

if TYPE_CHECKING:  # pragma: no cover
    from clobkit.sim.cluster import Cluster

__all__ = ["ADVANCE_ACTIONS", "JournalEntry", "journaled", "replay"]


class JournalEntry(NamedTuple):
    """One user action on a cluster, as :attr:`Cluster.journal` records it.

    ``time_us`` is the simulated time and ``events`` the number of simulator
    events run when the action was made; ``action`` is the :class:`Cluster`
    method (``"submit"``, ``"crash"``, ``"partition"``..., or ``"run"`` /
    ``"step"``, which only mark that time advanced) and ``args`` / ``kwargs``
    its arguments. ``replayable`` is False for an action made from inside the
    simulation (a :class:`~clobkit.sim.workload.RandomWorkload` user, a
    call's ``on_done`` callback): :meth:`Cluster.fork` cannot replay those. A named
    tuple: a workload journals every call it makes.

    >>> JournalEntry(2500, 7, "crash", ("n0",))
    JournalEntry(t=2.5ms, events=7, crash('n0'))
    """

    time_us: int
    events: int
    action: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()
    replayable: bool = True

    def __repr__(self) -> str:
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs]
        flag = "" if self.replayable else ", not replayable"
        return (
            f"JournalEntry(t={self.time_us / 1000:g}ms, events={self.events}, "
            f"{self.action}({', '.join(parts)}){flag})"
        )


_new_tuple: Any = tuple.__new__

# Actions that only mark that time advanced: replay runs the simulator to the next
# action's event count instead of calling them.
ADVANCE_ACTIONS = ("run", "step")


def journaled(method: Callable[..., Any]) -> Callable[..., Any]:
    """Record a successful top-level call of ``method`` in the cluster's journal.

    Calls made by another journaled method (``restart`` crashing first) are
    not recorded; calls made from inside the simulation are recorded as not
    replayable, except faults applied by :meth:`Cluster.schedule_faults`
    (replaying ``schedule_faults`` schedules them again).
    """
    name = method.__name__
    plain = name not in ("partition", "schedule_faults")  # (arguments kept as given)

    @functools.wraps(method)
    def wrapper(self: Cluster, *args: Any, **kwargs: Any) -> Any:
        outer = self._journal_depth == 0
        world = self.world
        time_us, events = world.now_us, world.events_processed
        if plain:
            pass
        elif name == "partition":  # keep the groups (a generator is read once), in a stable order
            args = tuple(
                tuple(sorted(g, key=str))
                if isinstance(g, Iterable) and not isinstance(g, str)
                else g
                for g in args
            )
        elif name == "schedule_faults" and args:
            args = (tuple(args[0]), *args[1:])
        self._journal_depth += 1
        try:
            result = method(self, *args, **kwargs)
        finally:
            self._journal_depth -= 1
        if outer and not (self._sim_depth and self._fault_depth):
            # (JournalEntry(...) without the named tuple's __new__ frame)
            entry = (time_us, events, name, args, tuple(kwargs.items()), self._sim_depth == 0)
            self._journal.append(_new_tuple(JournalEntry, entry))
        return result

    return wrapper


def replay(fork: Cluster, entries: list[JournalEntry], at_us: int, original: Cluster) -> None:
    """Replay ``entries`` (from ``original``'s journal, all at or before ``at_us``) on the
    fresh cluster ``fork``: each action after the same number of simulator events as in the
    original, then run to ``at_us``. With tracing on, the fork's trace must be the
    original's up to ``at_us``, record for record. Cost: the original's work up to ``at_us``.

    Raises ``InvalidArgument`` when the replay diverges (the original was changed around its
    methods, e.g. through ``cluster.world``).
    """
    world = fork.world
    now = original.world.now_us
    for entry in entries:
        while world.events_processed < entry.events and world.step():
            pass
        assert world.events_processed == entry.events, "the replay ran out of events"
        world.now_us = max(world.now_us, entry.time_us)
        if entry.action in ADVANCE_ACTIONS:
            fork._journal.append(entry)
        else:
            getattr(fork, entry.action)(*entry.args, **dict(entry.kwargs))
    if at_us == now:
        while world.events_processed < original.world.events_processed and world.step():
            pass
        world.now_us = max(world.now_us, now)
    else:
        world.run(at_us)
    if original.trace.enabled:
        mine = original.trace
        theirs = fork.trace
        n = len(theirs)
        same = n <= len(mine) and all(mine[i] == theirs[i] for i in range(n))
        if at_us < now:
            same = same and (n == len(mine) or mine[n].time_us > at_us)
        if not same:
            raise InvalidArgument(
                f"the fork's replay diverged from this cluster's trace before {at_us} us: "
                f"the cluster was changed around its methods (e.g. through "
                f"cluster.world), so it cannot be forked"
            )
