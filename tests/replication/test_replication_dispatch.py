"""A replica's dispatch table covers exactly the message kinds it receives, checked at import.

Every kind in ``REPLICA_BOUND`` must reach its handler; a client-bound kind is dropped as
``unexpected_kind``. A handler that is renamed, left out of the table, or added without an
entry makes importing ``clobkit.replication.replica`` fail, instead of silently dropping
every message of its kind.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from types import ModuleType

import pytest

import clobkit.replication.replica as replica_module
from clobkit.errors import ProtocolDefinitionError
from clobkit.replication import ClusterConfig, KvMachine, Replica
from clobkit.replication.messages import CLIENT_BOUND, REPLICA_BOUND, Prepare, Reply
from clobkit.storage import MemoryStore

SOURCE = Path(replica_module.__file__).read_text()


def _import_variant(source: str) -> ModuleType:
    """Import ``source`` as a throwaway copy of the replica module."""
    name = "clobkit.replication._replica_variant"
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        exec(compile(source, "replica_variant.py", "exec"), module.__dict__)
    finally:
        del sys.modules[name]
    return module


def test_the_table_has_one_handler_per_replica_bound_kind() -> None:
    table = replica_module._HANDLERS
    assert set(table) == set(REPLICA_BOUND)
    assert not set(table) & set(CLIENT_BOUND)
    for kind, handler in table.items():
        assert handler is getattr(Replica, f"_on_{kind.__name__}")


def test_an_unchanged_copy_of_the_module_imports() -> None:
    assert hasattr(_import_variant(SOURCE), "Replica")


def test_a_renamed_handler_fails_at_import() -> None:
    renamed = SOURCE.replace("def _on_Prepare(", "def _on_Prepar(", 1)
    assert renamed != SOURCE
    with pytest.raises(AttributeError, match="_on_Prepare"):
        _import_variant(renamed)


def test_a_handler_left_out_of_the_table_fails_at_import() -> None:
    line = "    Prepare: Replica._on_Prepare,\n"
    assert line in SOURCE
    with pytest.raises(ProtocolDefinitionError, match=r"no handler for message kind.*Prepare"):
        _import_variant(SOURCE.replace(line, "", 1))


def test_a_handler_missing_from_the_table_is_reported() -> None:
    table = dict(replica_module._HANDLERS)
    del table[Prepare]
    with pytest.raises(ProtocolDefinitionError, match="Prepare"):
        replica_module.check_handler_table(table, REPLICA_BOUND)
    orphan_table = dict(replica_module._HANDLERS)
    orphan_table[Prepare] = Replica._on_Commit
    with pytest.raises(ProtocolDefinitionError, match="_on_Prepare"):
        replica_module.check_handler_table(orphan_table, REPLICA_BOUND)
    with pytest.raises(ProtocolDefinitionError, match="Reply"):
        replica_module.check_handler_table(
            {**replica_module._HANDLERS, Reply: Replica._on_Request}, REPLICA_BOUND
        )


def test_a_client_bound_message_is_dropped_as_unexpected_kind() -> None:
    cfg = ClusterConfig("demo", 3)
    r = Replica(
        cfg, 0, MemoryStore(cluster_id="demo", replica_id=0), KvMachine(), rng=random.Random(1)
    )
    r.tick(0)
    before = (r.view, r.status, r.op_number, r.commit_number)
    msg = Reply(
        cluster_id="demo",
        source="n1",
        target="n0",
        view=0,
        client_id="a",
        request_number=1,
        ok=False,
        error="x",
    )
    r.handle(msg, now=5)
    assert r.counters["drop:unexpected_kind"] == 1
    assert (r.view, r.status, r.op_number, r.commit_number) == before
