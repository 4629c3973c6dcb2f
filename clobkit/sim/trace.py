"""The message and event trace of a simulation.

Every send, delivery, drop (with its reason), sync, commit, apply, view
change, timeout, fault and client invoke/return becomes one small
:class:`TraceRecord`, appended in the order the simulator processed it. The
trace is what the space-time figures draw and what the determinism tests
compare: :meth:`Trace.to_jsonl` writes one JSON object per line with a fixed
key order and sorted detail keys, and :meth:`Trace.digest` is the SHA-256 of
those bytes, so two runs agree byte for byte or they do not agree.

Columns (also of :meth:`Trace.to_frame`):

======== ========= ===========================================================
column   dtype     meaning
======== ========= ===========================================================
time_us  int64     simulated time in microseconds
kind     str       ``send``, ``deliver``, ``drop``, ``sync``, ``commit``, ...
node     str       the node it happened at (the sender for ``send``)
peer     str       the other end of a message (target of a send, source of a
                   delivery), else ``""``
message  str       message kind (``Prepare``...), else ``""``
view     Int64     the view the record is about (nullable)
op       Int64     the op number the record is about (nullable)
msg_id   Int64     the simulator's id of the message (pairs sends with their
                   deliveries and drops; duplicates share it; nullable)
detail   str       remaining facts as compact JSON with sorted keys
======== ========= ===========================================================
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import html
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from clobkit.book import MarketSpec

__all__ = ["TraceRecord", "Trace", "json_line", "jsonable", "people_detail", "TRACE_COLUMNS"]

TRACE_COLUMNS = ("time_us", "kind", "node", "peer", "message", "view", "op", "msg_id", "detail")


_SCALARS = frozenset({str, int, bool, float, type(None)})


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data with a stable form (sets sorted, bytes hex).

    >>> jsonable({"b": {3, 1}, "a": b"\\x01"})
    {'b': [1, 3], 'a': '01'}
    """
    # Exact scalars and tuples/lists of them first (a history digest turns every call's input
    # and output into JSON this way); the same answers as the general checks below.
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is tuple or kind is list:
        return [v if type(v) in _SCALARS else jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((jsonable(v) for v in value), key=repr)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return str(value)


def _not_json(value: Any) -> Any:
    # (json.JSONEncoder.default's own words)
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


def _line_encoder() -> Callable[[Any], str]:
    """What :func:`json_line` calls: ``json.dumps(value, ensure_ascii=False,
    separators=(",", ":"))`` with the C encoder built once instead of at every call."""
    from json import encoder

    make = getattr(encoder, "c_make_encoder", None)  # (not in the typeshed stubs)
    if make is None:  # pragma: no cover - a Python without json's C accelerator
        return functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":"))
    encode_str = encoder.encode_basestring
    # The arguments JSONEncoder.iterencode gives it for those options, but for ``markers``
    # (its check for circular containers): None, as a dict shared between calls could be
    # left holding ids by a call that raised. A circular container then raises
    # RecursionError instead of ValueError; the JSON lines written here are of plain data.
    iterencode = make(None, _not_json, encode_str, None, ":", ",", False, False, True)
    join = "".join

    def line(value: Any) -> str:
        if isinstance(value, str):
            return encode_str(value)  # (as JSONEncoder.encode does)
        return join(iterencode(value, 0))

    return line


json_line: Callable[[Any], str] = _line_encoder()
"""``json.dumps(value, ensure_ascii=False, separators=(",", ":"))``, the same text, about a
third cheaper per call on a history's rows (JSON lines write one such call per row).

>>> json_line({"a": [1, "é", None], "b": 1.5})
'{"a":[1,"é",null],"b":1.5}'
"""


def people_detail(detail: Mapping[str, Any] | None, spec: MarketSpec | None) -> dict[str, Any]:
    """A record's ``detail`` for people: book values in the market's units. O(size of detail).

    The trace keeps what the protocol saw (encoded commands and results, read values in ticks
    and lots) so that digests compare runs exactly. Views and :meth:`Trace.tail` show this
    instead: a client's encoded command gains ``command`` (``"place alice sell 10 @ 100.50
    gtc"``), an encoded result gains ``result``, and a read's ``value`` is written in market
    units (``price=100.50``). Without a ``spec`` the detail is returned unchanged.

    >>> from clobkit.book import MarketSpec, Order
    >>> d = {"kind": "read", "value": [Order(1, "al", "buy", 9999, 3, 0, 0, 3, 1, 1)]}
    >>> people_detail(d, MarketSpec("ACME"))["value"]
    ["LiveOrder(order_id=1, user='al', side='buy', price=99.99, qty=3, ...)"]
    """
    out = dict(detail or {})
    if spec is None:
        return out
    from clobkit.book import ApplyResult, Fill, Order
    from clobkit.book.codec import decode_result, describe_command
    from clobkit.errors import ClobError
    from clobkit.sim.results import for_people

    payload, value = out.get("payload"), out.get("value")
    if isinstance(payload, bytes | bytearray) and payload:
        with contextlib.suppress(ClobError, ValueError):  # not a command: leave it as recorded
            out["command"] = describe_command(bytes(payload), spec)
    if isinstance(value, bytes | bytearray) and value:
        try:
            result: ApplyResult = decode_result(bytes(value))
        except (ClobError, ValueError):
            pass
        else:
            fills = ", ".join(
                f"{spec.format_qty(f.qty)} @ {spec.format_price(f.price)}" for f in result.fills
            )
            out["result"] = (
                f"{result.status} #{result.order_id}" + (f", fills {fills}" if fills else "")
                if result.accepted
                else f"rejected ({result.reason})"
            )
    elif isinstance(value, list) and value and isinstance(value[0], Fill):
        out["value"] = [repr(row) for row in for_people("fills", value, spec)]
    elif isinstance(value, list) and value and isinstance(value[0], Order):
        out["value"] = [repr(row) for row in for_people("live_orders", value, spec)]
    elif isinstance(value, Mapping) and set(value) == {"bids", "asks"}:
        levels = for_people("depth", value, spec)
        out["value"] = {side: [repr(level) for level in rows] for side, rows in levels.items()}
    return out


def _sorted_keys(value: Any) -> Any:
    """``value`` with every mapping's keys in sorted order (for stable JSON)."""
    if isinstance(value, dict):
        return {k: _sorted_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class TraceRecord:
    """One thing that happened, at ``time_us``; see the module for columns."""

    time_us: int
    kind: str
    node: str
    peer: str = ""
    message: str = ""
    view: int | None = None
    op: int | None = None
    msg_id: int | None = None
    detail: Mapping[str, Any] | None = None

    def to_json(self) -> str:
        """The record as one line of JSON: fixed key order, detail keys sorted."""
        return json.dumps(
            {
                "time_us": self.time_us,
                "kind": self.kind,
                "node": self.node,
                "peer": self.peer,
                "message": self.message,
                "view": self.view,
                "op": self.op,
                "msg_id": self.msg_id,
                "detail": _sorted_keys(jsonable(self.detail)) if self.detail else {},
            },
            separators=(",", ":"),
        )

    def text(self, spec: MarketSpec | None = None) -> str:
        """One line for people: like ``str(record)``, with the detail in the units of the
        market ``spec`` (:func:`people_detail`) when given."""
        if spec is None or not self.detail:
            return str(self)
        return str(replace(self, detail=people_detail(self.detail, spec)))

    def __str__(self) -> str:
        parts = [f"{self.time_us:>10}us", f"{self.kind:<14}", self.node]
        if self.peer:
            parts.append(f"-> {self.peer}" if self.kind == "send" else f"<- {self.peer}")
        if self.message:
            parts.append(self.message)
        if self.view is not None:
            parts.append(f"v{self.view}")
        if self.op is not None:
            parts.append(f"op{self.op}")
        if self.detail:
            parts.append(json.dumps(jsonable(self.detail), sort_keys=True, default=str))
        return " ".join(parts)


class Trace:
    """An append-only list of :class:`TraceRecord` with stable serialization.

    ``limit`` bounds memory: once it is reached, further records are counted
    in :attr:`dropped_records` but not kept (the digest then covers the kept
    prefix only, and says so in :meth:`__repr__`). ``enabled=False`` keeps
    nothing (benchmarks).

    >>> t = Trace()
    >>> t.add(TraceRecord(5, "crash", "n0"))
    >>> t.to_jsonl()
    '{"time_us":5,"kind":"crash","node":"n0","peer":"","message":"","view":null,"op":null,"msg_id":null,"detail":{}}\\n'
    >>> len(t.digest())
    64
    """

    __slots__ = ("_records", "dropped_records", "enabled", "limit")

    def __init__(self, *, enabled: bool = True, limit: int = 1_000_000) -> None:
        self._records: list[TraceRecord] = []
        self.enabled = enabled
        self.limit = limit
        self.dropped_records = 0

    def add(self, record: TraceRecord) -> None:
        """Append ``record`` (O(1))."""
        if not self.enabled:
            return
        if len(self._records) >= self.limit:
            self.dropped_records += 1
            return
        self._records.append(record)

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[TraceRecord]:
        return iter(self._records)

    def __getitem__(self, index: int) -> TraceRecord:
        return self._records[index]

    @property
    def records(self) -> list[TraceRecord]:
        """The records kept, oldest first (a copy)."""
        return list(self._records)

    def since(self, index: int) -> list[TraceRecord]:
        """Records from position ``index`` on (O(new records))."""
        return self._records[index:]

    def select(
        self,
        kind: str | None = None,
        *,
        node: str | None = None,
        message: str | None = None,
        since_us: int | None = None,
    ) -> list[TraceRecord]:
        """Records matching every given filter, in order. O(n)."""
        return [
            r
            for r in self._records
            if (kind is None or r.kind == kind)
            and (node is None or r.node == node)
            and (message is None or r.message == message)
            and (since_us is None or r.time_us >= since_us)
        ]

    def kinds(self) -> dict[str, int]:
        """How many records of each kind, sorted by kind."""
        counts: dict[str, int] = {}
        for r in self._records:
            counts[r.kind] = counts.get(r.kind, 0) + 1
        return dict(sorted(counts.items()))

    def to_jsonl(self) -> str:
        """Every record as one JSON line; identical runs give identical text."""
        return "".join(r.to_json() + "\n" for r in self._records)

    def digest(self) -> str:
        """SHA-256 (hex) of :meth:`to_jsonl`."""
        h = hashlib.sha256()
        for r in self._records:
            h.update(r.to_json().encode())
            h.update(b"\n")
        return h.hexdigest()

    def to_frame(self) -> pd.DataFrame:
        """The trace as a pandas DataFrame with the columns in the module doc."""
        import pandas as pd

        rows = self._records
        frame = pd.DataFrame(
            {
                "time_us": pd.array([r.time_us for r in rows], dtype="int64"),
                "kind": pd.array([r.kind for r in rows], dtype=object),
                "node": pd.array([r.node for r in rows], dtype=object),
                "peer": pd.array([r.peer for r in rows], dtype=object),
                "message": pd.array([r.message for r in rows], dtype=object),
                "view": pd.array([r.view for r in rows], dtype="Int64"),
                "op": pd.array([r.op for r in rows], dtype="Int64"),
                "msg_id": pd.array([r.msg_id for r in rows], dtype="Int64"),
                "detail": pd.array(
                    [
                        json.dumps(jsonable(r.detail or {}), sort_keys=True, default=str)
                        for r in rows
                    ],
                    dtype=object,
                ),
            },
            columns=list(TRACE_COLUMNS),
        )
        return frame

    def tail(self, n: int = 20, spec: MarketSpec | None = None) -> str:
        """The last ``n`` records, one per line, for quick reading.

        With the market's ``spec`` (``cluster.market``) details read in market units
        (:func:`people_detail`); without it, as recorded.
        """
        return "\n".join(r.text(spec) for r in self._records[-n:])

    def __repr__(self) -> str:
        extra = f", {self.dropped_records} not kept (limit)" if self.dropped_records else ""
        return f"<Trace {len(self._records)} records{extra}>"

    def _repr_html_(self) -> str:
        rows = "".join(
            "<tr>"
            + "".join(
                f"<td>{html.escape('' if v is None else str(v))}</td>"
                for v in (r.time_us, r.kind, r.node, r.peer, r.message, r.view, r.op)
            )
            + "</tr>"
            for r in self._records[-15:]
        )
        head = "".join(
            f"<th>{c}</th>" for c in ("time_us", "kind", "node", "peer", "message", "view", "op")
        )
        return (
            f"<div><p>{html.escape(repr(self))} (last 15)</p><table><thead><tr>{head}</tr>"
            f"</thead><tbody>{rows}</tbody></table></div>"
        )
