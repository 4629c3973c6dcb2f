"""clobkit: learn and explore a replicated central limit order book.

``import clobkit as ck`` is light: the names below are loaded on first use,
and pandas, plotly and ipywidgets are imported only by the functions that
draw tables, figures and dashboards.

>>> import clobkit as ck
>>> book = ck.OrderBook(ck.MarketSpec("ACME", tick="0.01", lot=1))
>>> book.place("alice", "sell", price="100.50", qty=10).accepted
True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from clobkit._version import __version__
from clobkit.errors import *  # noqa: F403  (the error hierarchy is part of the top-level API)
from clobkit.errors import __all__ as _error_names

# name -> module that defines it; imported on first attribute access (PEP 562).
_LAZY: dict[str, str] = {
    "MarketSpec": "clobkit.book",
    "OrderBook": "clobkit.book",
    "Exchange": "clobkit.book",
    "Place": "clobkit.book",
    "Cancel": "clobkit.book",
    "Modify": "clobkit.book",
    "FileStore": "clobkit.storage",
    "MemoryStore": "clobkit.storage",
    "Cluster": "clobkit.sim",
    "ProcessCluster": "clobkit.proc",
    "campaign": "clobkit.check",
    "replay": "clobkit.check",
    "check_operations": "clobkit.check",
    "Dashboard": "clobkit.widgets",
}

__all__ = ["__version__", *_error_names, *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'clobkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from clobkit.book import Cancel, Exchange, MarketSpec, Modify, OrderBook, Place  # noqa: F401
    from clobkit.storage import FileStore, MemoryStore  # noqa: F401
