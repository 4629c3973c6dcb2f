"""Why a cluster may not answer, in words: who is down, paused, cut off, learning or
repairing, and whether a majority can still talk and vote.

:meth:`Cluster.diagnose <clobkit.sim.cluster.Cluster.diagnose>` shows this, and every
``OutcomeUnknown``/``Unavailable`` a call raises ends with it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from clobkit.sim.cluster import Cluster

__all__ = ["diagnose", "largest_connected"]


def diagnose(cluster: Cluster, client: str | None = None) -> str:
    """Why the cluster may not answer: who is down, paused or cut off.

    ``client`` (``"client:alice"``) also names the replicas that client
    cannot reach. Cost: O(2 ** nodes) (the largest connected group).

    >>> from clobkit.sim import Cluster
    >>> c = Cluster(3, seed=1, storage="memory")
    >>> diagnose(c)
    'a majority can still talk (n0, n1, n2), ...: every replica is up and connected; ...'
    >>> c.crash("n1"); c.crash("n2")
    >>> diagnose(c)
    'no majority of 3 replicas reachable (2 needed): n1, n2 down'
    """
    names = cluster.replica_names
    hosts = cluster.world.hosts
    net = cluster.world.network
    down = [n for n in names if hosts[n].status == "crashed"]
    paused = [n for n in names if hosts[n].status == "paused"]
    alive = [n for n in names if hosts[n].status == "up"]
    quorum = cluster.config.quorum
    best = largest_connected(alive, net.can_reach)
    parts = []
    if down:
        parts.append(f"{', '.join(down)} down")
    if paused:
        parts.append(f"{', '.join(paused)} paused")
    if client is not None:
        cut = [n for n in alive if not (net.can_reach(client, n) and net.can_reach(n, client))]
        if cut:
            parts.append(f"{', '.join(cut)} unreachable from {client}")
    cut_off = [n for n in alive if n not in best]
    if cut_off and len(best) < len(alive):
        parts.append(f"{', '.join(cut_off)} cut off from the others by a partition")
    statuses = {n: getattr(hosts[n].participant, "status", "normal") for n in alive + paused}
    learners = [n for n in names if statuses.get(n) == "learner"]
    repairing = [n for n in names if statuses.get(n) == "recovering"]
    if learners:
        parts.append(f"{', '.join(learners)} learning (a learner waits for a primary's state)")
    if repairing:
        parts.append(f"{', '.join(repairing)} repairing corrupt log entries")
    state = "; ".join(parts) if parts else "every replica is up and connected"
    if len(best) < quorum:
        return f"no majority of {len(names)} replicas reachable ({quorum} needed): {state}"
    voters = [n for n in best if statuses.get(n) in ("normal", "view_change")]
    if len(voters) < quorum:
        return (
            f"no majority of {len(names)} replicas can vote ({quorum} needed, "
            f"{len(voters)} can: {', '.join(voters) or 'none'}): {state}; learners and "
            f"repairing replicas count in no quorum, so this stays stuck until enough "
            f"replicas with intact disks are restarted or reconnected"
        )
    return (
        f"a majority can still talk ({', '.join(best)}), so it may be changing views or "
        f"the network is losing messages: {state}; try run(ms=...) and call again"
    )


def largest_connected(names: list[str], can_reach: Callable[[str, str], bool]) -> list[str]:
    """The largest subset of ``names`` whose members all reach each other both ways."""
    best: list[str] = []
    n = len(names)
    for mask in range(1, 1 << n):
        group = [names[i] for i in range(n) if mask >> i & 1]
        if len(group) <= len(best):
            continue
        if all(can_reach(a, b) for a in group for b in group if a != b):
            best = group
    return best
