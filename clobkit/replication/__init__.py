"""The protocol layer: Viewstamped Replication Revisited as sans-I/O state machines.

:class:`Replica` (one replica: normal case, view change, state transfer,
recovery, repair, reads) and :class:`ClientSession` (request numbers,
retries, the three read modes) exchange the messages in
:mod:`clobkit.replication.messages` and return
:class:`~clobkit.replication.step.Step` s that a driver (the simulator, or a
test loop) turns into deliveries. :class:`ClusterConfig` holds what they
agree on, including the unsafe teaching switches; :class:`StateMachine` is
what a replica applies committed commands to (:class:`BookMachine` for the
order book, :class:`KvMachine` for protocol tests).

>>> import random
>>> from clobkit.replication import ClusterConfig, ClientSession
>>> cfg = ClusterConfig("demo", 3, read_mode="primary")
>>> ClientSession(cfg, "alice", rng=random.Random(0)).primary_index
0
"""

from __future__ import annotations

from clobkit.replication.client import ClientSession, Outcome, OutcomeStatus
from clobkit.replication.client_table import ClientRecord
from clobkit.replication.config import (
    READ_MODES,
    UNSAFE_SWITCHES,
    ClusterConfig,
    ReadMode,
)
from clobkit.replication.envelope import Envelope, decode_envelope, encode_envelope
from clobkit.replication.machine import BookMachine, KvMachine, StateMachine
from clobkit.replication.quorum import majority, quorum_value
from clobkit.replication.replica import LogRow, Replica, ReplicaStatus
from clobkit.replication.step import Message, Step, TraceEvent, client_name, replica_name

__all__ = [
    "READ_MODES",
    "UNSAFE_SWITCHES",
    "BookMachine",
    "ClientRecord",
    "ClientSession",
    "ClusterConfig",
    "Envelope",
    "KvMachine",
    "LogRow",
    "Message",
    "Outcome",
    "OutcomeStatus",
    "ReadMode",
    "Replica",
    "ReplicaStatus",
    "StateMachine",
    "Step",
    "TraceEvent",
    "client_name",
    "decode_envelope",
    "encode_envelope",
    "majority",
    "quorum_value",
    "replica_name",
]
