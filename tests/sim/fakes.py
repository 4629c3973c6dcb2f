"""Tiny fake protocols that exercise the simulator without the real replica."""

from __future__ import annotations

import random
from dataclasses import dataclass

from clobkit.replication.step import Message, Step, TraceEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class Ping(Message):
    op: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Pong(Message):
    op: int


class Pinger:
    """Every ``period_us`` sends a numbered Ping to each peer; counts Pongs."""

    def __init__(self, name: str, peers: list[str], period_us: int, rng: random.Random) -> None:
        self.name = name
        self.peers = peers
        self.period_us = period_us
        self.rng = rng
        self.sent = 0
        self.pongs: list[tuple[int, str, int]] = []

    def handle(self, message: Message, now: int) -> Step:
        assert isinstance(message, Pong)
        self.pongs.append((now, message.source, message.op))
        return Step(events=[TraceEvent("pong", self.name, {"op": message.op})])

    def tick(self, now: int) -> Step:
        self.sent += 1
        jitter = self.rng.randint(0, self.period_us // 10)
        return Step(
            messages=[
                Ping(cluster_id="t", source=self.name, target=p, view=0, op=self.sent)
                for p in self.peers
            ],
            wake_at_us=now + self.period_us + jitter,
        )


class Echo:
    """Answers every Ping with a Pong after a disk sync of ``sync_us``."""

    def __init__(self, name: str, sync_us: int = 0, batch: bool = False) -> None:
        self.name = name
        self.sync_us = sync_us
        self.handled: list[tuple[int, str, int]] = []
        self.syncs = 0
        if batch:
            self.handle_batch = self._handle_batch

    def handle(self, message: Message, now: int) -> Step:
        return self._handle_batch([message], now)

    def _handle_batch(self, messages: list[Message], now: int) -> Step:
        out = []
        for message in messages:
            assert isinstance(message, Ping)
            self.handled.append((now, message.source, message.op))
            out.append(
                Pong(cluster_id="t", source=self.name, target=message.source, view=0, op=message.op)
            )
        step = Step(messages=out, delay_us=self.sync_us)
        if self.sync_us:
            self.syncs += 1
            step.events.append(TraceEvent("sync", self.name, {"records": len(messages)}))
        return step

    def tick(self, now: int) -> Step:
        return Step()
