"""Golden transcripts of the order book running on the replicated cluster: the real
book, the real replicas and the simulator together, step by step. Each story is a
short script on a :class:`~clobkit.Cluster` with constant latency; its trace is
written one line per event and compared with the checked-in file under
``tests/sim/transcripts/``. The stories also assert the facts they claim to show,
so a transcript that changes for a good reason is regenerated on purpose, with
``CLOBKIT_REWRITE=1 pytest tests/sim/test_sim_transcripts.py``, after reading the diff."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

import clobkit as ck
from clobkit.book import describe_command
from clobkit.sim import Cluster

HERE = Path(__file__).parent / "transcripts"


def _cluster() -> Cluster:
    return ck.Cluster(
        nodes=3, seed=7, storage="memory", latency="constant", latency_us_min=500,
        latency_us_max=500,
    )  # fmt: skip


def _line(row: dict[str, object]) -> str:
    detail = json.loads(str(row["detail"]) or "{}")
    payload = detail.pop("payload", None)
    if isinstance(payload, str):  # a client's command: show it as the book reads it
        detail["command"] = describe_command(bytes.fromhex(payload))
    extra = " ".join(f"{k}={detail[k]}" for k in sorted(detail) if k != "time_us")
    fields = [f"t={row['time_us']:>7}", f"{row['node']:<12}", f"{row['kind']:<13}"]
    if row["message"]:
        arrow = "->" if row["kind"] == "send" else "<-"
        fields.append(f"{arrow} {row['peer']:<12} {row['message']}")
    for key in ("view", "op"):
        value = row[key]
        if value is not None and value == value and str(value) != "<NA>":
            fields.append(f"{key}={value}")
    return " ".join(fields + ([extra] if extra else [])).rstrip()


def _transcript(cluster: Cluster) -> str:
    frame = cluster.trace.to_frame().astype(object)
    rows = frame.where(frame.notna(), None).to_dict("records")
    return "\n".join(_line(row) for row in rows) + "\n"


def trade() -> tuple[Cluster, str]:
    """Two orders that trade: each is sequenced, written to a majority, committed, then
    matched on every replica; the taker's reply carries the fill."""
    c = _cluster()
    c.place("alice", "sell", price="100.50", qty=10)
    r = c.place("bob", "buy", price="100.50", qty=4)
    assert r.status == "filled" and r.fill_prices == [ck.MarketSpec("X").ticks_to_price(10050)]
    c.run(ms=30)  # let the backups learn the last commit and apply it
    assert {n.commit_number for n in c.nodes.values()} == {r.op}
    assert len({n.digest() for n in c.nodes.values()}) == 1
    return c, "trade"


def failover() -> tuple[Cluster, str]:
    """The primary crashes after an acknowledged order; the backups time out, change view,
    and the new primary still has the order and keeps trading."""
    c = _cluster()
    resting = c.place("alice", "sell", price="100.50", qty=10)
    old = c.primary
    c.crash(old)
    c.run(ms=300)
    assert c.primary not in (None, old)
    r = c.place("bob", "buy", price="100.50", qty=3)
    assert r.fills[0].maker_order_id == resting.order_id
    return c, "failover"


@pytest.mark.parametrize("story", [trade, failover], ids=["trade", "failover"])
def test_book_story_matches_golden_transcript(story: Callable[[], tuple[Cluster, str]]) -> None:
    cluster, name = story()
    try:
        text = _transcript(cluster)
    finally:
        cluster.close()
    path = HERE / f"{name}.txt"
    if os.environ.get("CLOBKIT_REWRITE") == "1":
        HERE.mkdir(exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"no golden transcript {path}: run with CLOBKIT_REWRITE=1"
    assert text == path.read_text(), f"{name} transcript changed: diff it, then rewrite"
    again, _ = story()
    try:
        assert _transcript(again) == text, "the same story must give the same transcript"
    finally:
        again.close()
