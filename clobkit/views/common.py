"""Shared plumbing for the views: typed frame building and telling sources apart.

Sources are told apart by duck typing rather than ``isinstance`` so that this module imports
nothing heavy: a cluster has ``nodes``, ``trace`` and ``world``; an exchange has ``markets``
and ``book()``; an order book has ``fill_columns()``; a trace has ``records()``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from clobkit.errors import InvalidArgument, InvalidType

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


def typed_frame(data: dict[str, Any], columns: dict[str, str]) -> pd.DataFrame:
    """A DataFrame with exactly ``columns`` (missing ones empty), cast to their dtypes."""
    import pandas as pd

    frame = pd.DataFrame({name: data.get(name, []) for name in columns}, columns=list(columns))
    return frame.astype(columns)


def conform(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """``frame`` reduced to ``columns`` in order and cast to their dtypes (a new frame)."""
    data = {name: frame[name] if name in frame.columns else [] for name in columns}
    if len(frame) and any(name not in frame.columns for name in columns):
        missing = [n for n in columns if n not in frame.columns]
        raise InvalidArgument(f"frame lacks columns {missing!r}")
    return typed_frame(
        {k: (v.to_numpy() if hasattr(v, "to_numpy") else v) for k, v in data.items()}, columns
    )


def is_cluster(obj: Any) -> bool:
    """True for a :class:`clobkit.sim.Cluster` (or anything shaped like one)."""
    return hasattr(obj, "nodes") and hasattr(obj, "trace") and hasattr(obj, "world")


def is_exchange(obj: Any) -> bool:
    """True for a :class:`clobkit.book.Exchange`."""
    return hasattr(obj, "markets") and callable(getattr(obj, "book", None))


def is_book(obj: Any) -> bool:
    """True for a :class:`clobkit.book.OrderBook`."""
    return callable(getattr(obj, "fill_columns", None)) and hasattr(obj, "spec")


def is_frame(obj: Any) -> bool:
    """True for a pandas DataFrame (without importing pandas)."""
    return type(obj).__name__ == "DataFrame" and hasattr(obj, "columns")


def require_cluster(obj: Any, name: str = "cluster") -> Any:
    """``obj`` if it is a cluster, else :class:`InvalidType` naming ``name``."""
    if not is_cluster(obj):
        raise InvalidType(f"{name} must be a clobkit Cluster, got {type(obj).__name__}")
    return obj


def node_names(cluster: Any) -> list[str]:
    """The cluster's replica names in configuration order (n0, n1, ...)."""
    return list(cluster.nodes)


def check_node(cluster: Any, node: str | None) -> list[str]:
    """``[node]`` (validated) or every node when ``node`` is None."""
    names = node_names(cluster)
    if node is None:
        return names
    if node not in names:
        raise InvalidArgument(f"node must be one of {names}, got {node!r}")
    return [node]


def parse_detail(text: Any) -> dict[str, Any]:
    """A trace ``detail`` (JSON text or dict) as a dict."""
    if isinstance(text, dict):
        return text
    if not text:
        return {}
    value = json.loads(text)
    return value if isinstance(value, dict) else {}
