"""Hostile input changes nothing: random and mutated messages leave a replica's state untouched.

A replica with some history (a few committed writes, a client table) is hit by
Hypothesis-generated garbage and by valid messages mutated to be hostile
(foreign cluster, misaddressed, unknown sender, malformed fields). After each
message its metadata, WAL bytes, snapshot, machine digest, view, status,
op/commit/applied numbers and client table must be exactly as before, and the
drop counters must say why the message was refused. Bad configurations are
rejected with errors that name the argument.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clobkit.errors import InvalidArgument
from clobkit.replication import ClusterConfig, KvMachine, Replica, majority
from clobkit.replication.envelope import Envelope, encode_envelope
from clobkit.replication.messages import (
    Commit,
    CommitOk,
    DoViewChange,
    GetEntry,
    GetState,
    NewState,
    Prepare,
    PrepareOk,
    PreViewChange,
    PreViewChangeOk,
    Read,
    Recovery,
    Request,
    StartView,
    StartViewChange,
    WriteBack,
    problem,
)
from clobkit.replication.step import Message
from clobkit.storage import LogEntry, Snapshot
from clobkit.storage.wal import WAL_FILE
from tests.replication.harness import Net


def _net() -> Net:
    net = Net(3, record=False)
    for v in "abc":
        net.wait("alice", net.put("alice", "x", v))
    net.run(50_000)
    return net


NET = _net()


def fingerprint(net: Net, i: int) -> tuple[Any, ...]:
    r = net.r(i)
    return (
        r.store.load_metadata(),
        net.disks[i].contents(WAL_FILE),
        r.store.load_snapshot(),
        r.machine.digest(),
        r.view,
        r.status,
        r.op_number,
        r.commit_number,
        r.applied_op,
        r.last_normal_view,
        # (copied field by field: a replica updates its records in place)
        {c: (rec.request_number, rec.op, rec.reply) for c, rec in r.client_table.items()},
    )


def entry(op: int, view: int = 0, value: str = "z") -> LogEntry:
    return LogEntry(
        view, op, encode_envelope(Envelope("mallory", 9, 1, KvMachine.append("x", value)))
    )


def valid_messages(target: str) -> list[Message]:
    """Well-formed messages of every kind addressed to ``target``, from a plausible sender."""
    h = {"cluster_id": "t", "source": "n0", "target": target, "view": 5}
    c = {"cluster_id": "t", "source": "client:mallory", "target": target, "view": 0}
    snap = Snapshot(0, 0, b"")
    return [
        Prepare(**h, op=4, commit=4, entries=(entry(4),)),
        PrepareOk(**h, op=9, commit=9),
        Commit(**h, commit=9, probe=1),
        CommitOk(**h, commit=9, probe=1),
        StartViewChange(**h),
        DoViewChange(
            **h, last_normal_view=5, op=1, commit=1, base_op=0, snapshot=None, entries=(entry(1),)
        ),
        StartView(**h, op=1, commit=1, base_op=0, snapshot=None, entries=(entry(1),)),
        NewState(**h, op=1, commit=1, base_op=0, snapshot=snap, entries=(entry(1),)),
        GetState(**h, op=0),
        GetEntry(**h, op=1),
        Recovery(**h, nonce=1),
        PreViewChange(**h, proposed=6),
        PreViewChangeOk(**h, proposed=6),
        Request(**c, client_id="mallory", request_number=1, payload=KvMachine.append("x", "m")),
        Read(**c, read_id=1, query=("all",), mode="quorum"),
        WriteBack(**c, read_id=1, commit=99),
    ]


def mutate(m: Message, how: str, rnd: random.Random) -> tuple[Message | object, str]:
    """Make ``m`` hostile in one way; returns the message and the expected drop reason."""
    if how == "foreign":
        return dataclasses.replace(m, cluster_id="evil"), "drop:foreign_cluster"
    if how == "misaddressed":
        return dataclasses.replace(m, target="n7"), "drop:misaddressed"
    if how == "unknown_sender":
        source = "n9" if not m.source.startswith("client:") else "n1"
        if isinstance(m, Request):
            source = "client:someone-else"
        return dataclasses.replace(m, source=source), "drop:unknown_sender"
    # malformed: break one field's type or range (re-draw values that happen to be valid)
    for _ in range(50):
        bad_message = _break_one_field(m, rnd)
        if problem(bad_message) is not None:
            return bad_message, "drop:malformed"
    raise AssertionError("could not break the message")


def _break_one_field(m: Message, rnd: random.Random) -> Message:
    fields = [
        f.name
        for f in dataclasses.fields(m)
        if f.name not in ("cluster_id", "target", "source", "query")
    ]
    name = rnd.choice(fields)
    bad = rnd.choice([-1, "x", None, 2.5, True, b"\xff", (1, 2), object()])
    if name == "entries":
        bad = rnd.choice(
            [(entry(3), entry(5)), ("junk",), (LogEntry(0, 1, b"not an envelope"),), [entry(1)]]
        )
    if name == "snapshot":
        bad = rnd.choice(["snap", Snapshot(-1, 0, b"")])
    if name in ("ok", "has_state", "vouched"):
        bad = rnd.choice([1, "yes", None])
    if name == "mode":
        bad = rnd.choice(["fast", 3, None])
    return dataclasses.replace(m, **{name: bad})


@settings(max_examples=150, deadline=None)
@given(
    target=st.integers(0, 2),
    kind=st.integers(0, 13),
    how=st.sampled_from(["foreign", "misaddressed", "unknown_sender", "malformed"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_mutated_messages_change_nothing(target: int, kind: int, how: str, seed: int) -> None:
    net = NET
    replica = net.r(target)
    before = fingerprint(net, target)
    message, reason = mutate(valid_messages(replica.name)[kind], how, random.Random(seed))
    counters = replica.counters.copy()
    step = replica.handle(message, net.now)  # type: ignore[arg-type]
    assert fingerprint(net, target) == before
    assert step.messages == [] and step.delay_us == 0
    assert replica.counters[reason] == counters[reason] + 1


@settings(max_examples=100, deadline=None)
@given(
    garbage=st.one_of(
        st.none(), st.integers(), st.text(), st.binary(), st.lists(st.integers()), st.builds(object)
    )
)
def test_random_garbage_changes_nothing(garbage: object) -> None:
    net = NET
    before = fingerprint(net, 1)
    step = net.r(1).handle(garbage, net.now)  # type: ignore[arg-type]
    assert fingerprint(net, 1) == before and step.messages == []
    bare = Message(cluster_id="t", source="n0", target="n1", view=0)
    step = net.r(1).handle(bare, net.now)
    assert fingerprint(net, 1) == before and step.messages == []


def test_each_valid_message_is_accepted_by_the_validator() -> None:
    """The mutation test above is meaningful only if the unmutated messages pass validation."""
    assert [problem(m) for m in valid_messages("n1")] == [None] * 16


# -- configuration ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"replica_count": 4}, "replica_count"),
        ({"replica_count": 0}, "replica_count"),
        ({"replica_count": True}, "replica_count"),
        ({"read_mode": "fast"}, "read_mode"),
        ({"unsafe": {"no_fencing", "yolo"}}, "yolo"),
        ({"unsafe": "no_fencing"}, "unsafe"),
        ({"heartbeat_us": 0}, "heartbeat_us"),
        ({"view_change_timeout_us_min": 10}, "view_change_timeout_us_min"),
        ({"view_change_timeout_us_max": 1}, "view_change_timeout_us_max"),
        ({"batch_max": -3}, "batch_max"),
        ({"safe_sync_policy": "never"}, "safe_sync_policy"),
        ({"snapshot_every": 0}, "snapshot_every"),
        ({"cluster_id": ""}, "cluster_id"),
    ],
)
def test_bad_config_is_rejected_naming_the_argument(kwargs: dict[str, Any], needle: str) -> None:
    args: dict[str, Any] = {"cluster_id": "c", "replica_count": 3, **kwargs}
    with pytest.raises(InvalidArgument, match=needle):
        ClusterConfig(**args)


def test_majority_intersects_for_every_size() -> None:
    for n in range(1, 16):
        q = majority(n)
        assert 2 * q > n and q <= n and (n == 1 or 2 * (q - 1) <= n)


def test_replica_rejects_a_store_of_another_replica() -> None:
    from clobkit.errors import WrongOwner

    net = Net(3, record=False)
    cfg = net.config
    with pytest.raises((WrongOwner, InvalidArgument)):
        Replica(cfg, 1, net.store(0), KvMachine(), rng=random.Random(0))
    with pytest.raises(InvalidArgument, match="index"):
        Replica(cfg, 3, net.store(0), KvMachine(), rng=random.Random(0))
