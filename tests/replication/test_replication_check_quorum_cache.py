"""A primary skips CheckQuorum only while its last answer provably still holds.

``Replica._on_Request`` asks ``_primary_has_quorum()`` only when ``now`` has reached
``_quorum_known_until`` (set by the last True answer: the time the (quorum - 1)-th latest
backup answer leaves the window). Seeded random scripts drive a real primary (3 and 5
replicas) with backup acknowledgements (``PrepareOk``/``CommitOk``) from random backups, with
silences shorter and longer than the window, and client requests in between. Before every
request the truth is computed from scratch (a majority, the primary included, answered within
``view_change_timeout_us_min``): the request must be logged exactly when it holds and refused
with ``no_quorum`` exactly when it does not, and ``now < _quorum_known_until`` must never
hold when the truth is False.
"""

from __future__ import annotations

import random

import pytest

from clobkit.replication import ClusterConfig, KvMachine
from clobkit.replication.messages import CommitOk, PrepareOk, Reply, Request
from clobkit.replication.replica import Replica
from clobkit.replication.step import client_name, replica_name
from clobkit.storage import MemoryStore


def _truth(r: Replica, now: int) -> bool:
    window = r.config.view_change_timeout_us_min
    heard = 1 + sum(1 for t in r._acked_at.values() if now - t < window)
    return heard >= r.config.quorum


@pytest.mark.parametrize("n", [3, 5])
@pytest.mark.parametrize("seed", range(6))
def test_requests_follow_a_fresh_check_quorum(n: int, seed: int) -> None:
    rng = random.Random(seed)
    cfg = ClusterConfig("q", n)
    window = cfg.view_change_timeout_us_min
    r = Replica(
        cfg, 0, MemoryStore(cluster_id="q", replica_id=0), KvMachine(), rng=random.Random(1)
    )
    now = 0
    r.tick(now)
    assert r.is_primary
    request_number = 0
    outcomes = {True: 0, False: 0}
    for _ in range(400):
        now += rng.choice([1, 10, 1_000, window // 3, window // 2, window - 1, window, window + 7])
        if rng.random() < 0.5:
            backup = rng.randrange(1, n)
            header = {"cluster_id": "q", "source": replica_name(backup), "target": "n0", "view": 0}
            if rng.random() < 0.5:
                ack: PrepareOk | CommitOk = PrepareOk(**header, op=r.op_number, commit=0)
            else:
                ack = CommitOk(**header, commit=0, probe=0)
            r.handle(ack, now)
            continue
        truth = _truth(r, now)
        assert truth or now >= r._quorum_known_until, (seed, now)
        request_number += 1
        before = r.op_number
        step = r.handle(
            Request(
                cluster_id="q",
                source=client_name("c"),
                target="n0",
                view=0,
                client_id="c",
                request_number=request_number,
                payload=KvMachine.append("k", str(request_number)),
            ),
            now,
        )
        refused = [m for m in step.messages if isinstance(m, Reply) and m.error == "no_quorum"]
        assert (r.op_number == before + 1, bool(refused)) == (truth, not truth), (seed, now)
        outcomes[truth] += 1
    assert outcomes[True] > 20 and outcomes[False] > 20  # both answers were exercised
