"""The simulation layer: a seeded, deterministic discrete-event world.

:class:`World` runs hosts (:class:`Host`) that wrap sans-I/O protocol
participants and talk over a :class:`Network` with latency, loss,
duplication, reordering, partitions and per-message rules; every random
choice comes from one seed through named streams (:class:`RandomStreams`),
and everything that happens is written to a :class:`Trace`. The
:class:`Cluster` facade builds a replicated order book on top and is what a
notebook drives.
"""

from __future__ import annotations

import importlib
from typing import Any

from clobkit.sim.host import Host
from clobkit.sim.network import Latency, Network, Rule, matching
from clobkit.sim.rng import RandomStreams
from clobkit.sim.trace import Trace, TraceRecord
from clobkit.sim.world import World

__all__ = [
    "Cluster",
    "Host",
    "Latency",
    "Network",
    "RandomStreams",
    "Rule",
    "Trace",
    "TraceRecord",
    "World",
    "matching",
]


def __getattr__(name: str) -> Any:
    # The Cluster pulls in the replication, storage and book layers: load it on first use.
    if name == "Cluster":
        value = importlib.import_module("clobkit.sim.cluster").Cluster
        globals()[name] = value
        return value
    raise AttributeError(f"module 'clobkit.sim' has no attribute {name!r}")
