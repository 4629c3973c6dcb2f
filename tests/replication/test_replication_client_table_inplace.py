"""The client table updated in place agrees everywhere, and only the primary encodes replies.

A replica keeps one ``ClientRecord`` per client and updates it when it applies that client's
next request (no record per command); a backup leaves the reply unencoded (the machine's
result and its encoder). Three book replicas run several requests per client through a
failover: every replica's table must hold, per client, the last request number and op it
applied and the reply bytes the client received; a backup's records stay unencoded until
read; the new primary answers a retry of an old request from its (lazily encoded) record
with the bytes the first primary sent; and a snapshot of the table round-trips.
"""

from __future__ import annotations

from clobkit.book import MarketSpec, Place, encode_command
from clobkit.replication import BookMachine
from clobkit.replication.client_table import ClientRecord, decode_state, encode_state
from clobkit.replication.messages import Reply, Request
from clobkit.replication.step import client_name
from tests.replication.harness import Net

SPECS = [MarketSpec("ACME")]


def _table(net: Net, i: int) -> dict[str, tuple[int, int]]:
    return {c: (rec.request_number, rec.op) for c, rec in net.r(i).client_table.items()}


def test_tables_agree_backups_defer_and_a_retry_gets_the_first_bytes() -> None:
    net = Net(3, record=False, machine_factory=lambda: BookMachine(SPECS))  # type: ignore[arg-type]
    replies: dict[str, bytes] = {}
    for round_ in range(4):
        for user, side in (("al", "buy"), ("bo", "sell"), ("cy", "buy")):
            payload = encode_command(Place("ACME", user, side, 100 + round_, 1 + round_))
            out = net.wait(user, net.submit(user, payload))
            assert out.status == "ok"
            replies[user] = out.value
    net.run(200_000)  # commit news reaches the backups
    primary = net.primaries()[0]
    backups = [i for i in range(3) if i != primary]
    assert _table(net, backups[0]) == _table(net, backups[1]) == _table(net, primary)
    assert {c: n for c, (n, _op) in _table(net, primary).items()} == {"al": 4, "bo": 4, "cy": 4}
    # the primary encoded its replies; the backups did not (yet)
    assert all(rec.encoded is not None for rec in net.r(primary).client_table.values())
    for i in backups:
        assert all(rec.encoded is None for rec in net.r(i).client_table.values())
        assert {c: rec.reply for c, rec in net.r(i).client_table.items()} == replies
    # a snapshot of the table round-trips (it encodes any deferred reply)
    data = encode_state(b"M", net.r(backups[0]).client_table)
    machine_bytes, table = decode_state(data)
    assert machine_bytes == b"M" and table == net.r(primary).client_table
    assert all(type(rec) is ClientRecord for rec in table.values())
    # failover: the new primary answers al's retry from its record, with the first bytes
    net.crash(primary)
    net.run(2_000_000)
    assert net.primaries() and net.primaries()[0] != primary
    new = net.r(net.primaries()[0])
    retry = Request(
        cluster_id=new.config.cluster_id,
        source=client_name("al"),
        target=new.name,
        view=new.view,
        client_id="al",
        request_number=4,
        payload=b"ignored: a retry is answered from the table",
    )
    step = new.handle(retry, net.now)
    answers = [m for m in step.messages if isinstance(m, Reply) and m.client_id == "al"]
    assert [(m.ok, m.request_number, m.reply) for m in answers] == [(True, 4, replies["al"])]
