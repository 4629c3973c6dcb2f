"""Real processes: the same :class:`~clobkit.replication.Replica` over TCP, real fsync, kill -9.

The second host of the sans-I/O protocol (the simulator is the first; the
duties both honour are in :mod:`clobkit.replication.step`):

* :mod:`clobkit.proc.wire` - checksummed, length-prefixed frames carrying the
  protocol messages (log entries as WAL records);
* :mod:`clobkit.proc.node` - one replica per OS process
  (``python -m clobkit.proc.node``): FileStore with real fdatasync, a
  ``selectors`` event loop on 127.0.0.1, the wall clock;
* :mod:`clobkit.proc.proxy` - one process forwarding every replica-to-replica
  link, so partitions and one-way blocks are real cuts;
* :mod:`clobkit.proc.cluster` - :class:`ProcessCluster`, the notebook facade
  (clients run in the calling process), and :func:`check_disks`;
* :mod:`clobkit.proc.torture` - ``clobkit torture``: concurrent clients and a
  random nemesis, then the checker and the on-disk invariants.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["PROTOCOL_DEFAULTS", "ProcessCluster", "check_disks", "torture"]

_LAZY = {
    "PROTOCOL_DEFAULTS": "clobkit.proc.cluster",
    "ProcessCluster": "clobkit.proc.cluster",
    "check_disks": "clobkit.proc.cluster",
    "torture": "clobkit.proc.torture",
}


def __getattr__(name: str) -> Any:
    # Lazy (PEP 562): ``clobkit torture --help`` and ``import clobkit`` stay light.
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'clobkit.proc' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


if TYPE_CHECKING:  # pragma: no cover
    from clobkit.proc.cluster import PROTOCOL_DEFAULTS, ProcessCluster, check_disks
    from clobkit.proc.torture import torture
