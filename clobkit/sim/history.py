"""The client-visible history of a simulated cluster.

Recorded at the client boundary only: when a client sends a request
(:meth:`ClientHistory.invoke`) and when it learns the outcome
(:meth:`ClientHistory.complete`: ``"ok"``, ``"fail"`` or ``"unknown"`` for a
timeout). The simulation layer may not import the checking layer below it,
so this is its own small recorder; :meth:`ClientHistory.to_jsonl` writes
exactly the JSON-lines form that :meth:`clobkit.check.history.History.from_jsonl`
reads (keys ``index, client_id, input, call_us, outcome, output,
return_us`` and, when the session learned it, ``hint``), which is how the checker consumes it
(:meth:`ClientHistory.to_check_history` does that for you).
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from clobkit.sim.trace import json_line, jsonable

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from clobkit.book import MarketSpec

__all__ = ["ClientHistory", "HistoryRecord", "as_tuples"]

_new_tuple: Any = tuple.__new__


def as_tuples(value: Any) -> Any:
    """``value`` with lists turned into tuples, recursively (hashable inputs).

    >>> as_tuples(["place", ["a", 1]])
    ('place', ('a', 1))
    """
    if isinstance(value, list | tuple):
        return tuple(as_tuples(v) for v in value)
    if isinstance(value, dict):
        return {str(k): as_tuples(v) for k, v in value.items()}
    return value


class HistoryRecord(NamedTuple):
    """One client call; ``outcome`` is ``"pending"`` until completed. A named tuple: every
    call builds two (at the call and at its outcome).

    >>> HistoryRecord(0, "alice", ("fills", "ACME", None), 10, "ok", (), 250).latency_us
    240
    """

    # (the field shadows tuple.index, which nothing here calls)
    index: int  # type: ignore[assignment]
    client_id: str
    input: Any
    call_us: int
    outcome: str = "pending"
    output: Any = None
    return_us: int | None = None
    hint: int | None = None

    @property
    def latency_us(self) -> int | None:
        """``return_us - call_us`` once completed."""
        return None if self.return_us is None else self.return_us - self.call_us


class ClientHistory:
    """Append-only record of client calls (O(1) per call).

    >>> h = ClientHistory()
    >>> i = h.invoke("alice", ("read", "fills", "alice"), 10)
    >>> h.complete(i, "ok", (), 250)
    >>> h[i].latency_us
    240
    >>> h.to_jsonl()
    '{"index":0,"client_id":"alice","input":["read","fills","alice"],"call_us":10,"outcome":"ok","output":[],"return_us":250}\\n'
    """

    def __init__(self, market: MarketSpec | None = None) -> None:
        self._records: list[HistoryRecord] = []
        #: the MarketSpec the calls trade in: the default model's, and the units
        #: :meth:`_repr_html_` writes prices in (ticks when ``None``)
        self.market = market
        self._changes = 0  # bumped by invoke/complete: keys the to_jsonl cache
        self._jsonl: tuple[int, str] | None = None
        # Outputs recorded raw, to convert when the history is next read: (index, convert).
        self._unconverted: list[tuple[int, Callable[[Any], Any]]] = []

    def invoke(self, client_id: str, input: Any, call_us: int) -> int:
        """Record a call; returns its index."""
        records = self._records
        index = len(records)
        if type(input) is not tuple and isinstance(input, list | dict):
            input = as_tuples(input)
        # (HistoryRecord(index, client_id, input, call_us) without the named tuple's __new__
        # frame: every call comes here)
        records.append(_new_tuple(HistoryRecord, (index, client_id, input, call_us, "pending",
                                                  None, None, None)))  # fmt: skip
        self._changes += 1
        return index

    def complete(
        self,
        index: int,
        outcome: str,
        output: Any,
        return_us: int,
        hint: int | None = None,
        convert: Callable[[Any], Any] | None = None,
    ) -> None:
        """Record how call ``index`` ended (``"ok"``, ``"fail"`` or ``"unknown"``).

        ``hint``: what the client session was told about where the call was placed (the op
        number a write committed at, the commit number a read reflected); the checker tries
        that order first (``clobkit.check.Operation.hint``). ``convert``: the output is
        ``convert(output)``, computed when the history is next read (a cluster's writes: most
        calls' outputs are never read one by one, and a whole history converts at once).

        >>> h = ClientHistory()
        >>> h.complete(h.invoke("al", ("fills", "ACME", None), 0), "ok", [3, 4], 5, None, tuple)
        >>> h[0].output
        (3, 4)
        """
        rec = self._records[index]
        assert rec.outcome == "pending", f"call {index} already completed"
        assert outcome in ("ok", "fail", "unknown"), outcome
        assert return_us >= rec.call_us
        if convert is not None:
            self._unconverted.append((index, convert))
        # Outputs built by the cluster are tuples already; only lists need converting.
        elif type(output) is not tuple and isinstance(output, list | dict):
            output = as_tuples(output)
        self._records[index] = _new_tuple(
            HistoryRecord,
            (rec.index, rec.client_id, rec.input, rec.call_us, outcome, output, return_us, hint),
        )
        self._changes += 1

    def _rows(self) -> list[HistoryRecord]:
        """The records, every output converted (what every reader reads)."""
        if self._unconverted:
            records = self._records
            for index, convert in self._unconverted:
                rec = records[index]
                output = convert(rec.output)
                if type(output) is not tuple and isinstance(output, list | dict):
                    output = as_tuples(output)
                records[index] = rec._replace(output=output)
            self._unconverted.clear()
        return self._records

    def __len__(self) -> int:
        return len(self._records)

    def __getitem__(self, index: int) -> HistoryRecord:
        return self._rows()[index]

    def __iter__(self) -> Any:
        return iter(self._rows())

    def records(self) -> list[HistoryRecord]:
        """Every record in invocation order (a copy)."""
        return list(self._rows())

    def pending(self) -> list[HistoryRecord]:
        """Calls not completed yet."""
        return [r for r in self._records if r.outcome == "pending"]

    def to_jsonl(self) -> str:
        """The checker's JSON-lines form (see :mod:`clobkit.check.history`). Cached until the
        next ``invoke``/``complete`` (a campaign run both checks and digests it)."""
        if self._jsonl is not None and self._jsonl[0] == self._changes:
            return self._jsonl[1]
        lines = []
        for r in self._rows():
            row = {
                "index": r.index,
                "client_id": r.client_id,
                "input": jsonable(r.input),
                "call_us": r.call_us,
                "outcome": r.outcome,
                "output": jsonable(r.output),
                "return_us": r.return_us,
            }
            if r.hint is not None:
                row["hint"] = r.hint
            lines.append(
                json_line(row)
            )  # (json.dumps(row, ensure_ascii=False, separators=(",", ":")))
        text = "".join(line + "\n" for line in lines)
        self._jsonl = (self._changes, text)
        return text

    def digest(self) -> str:
        """SHA-256 (hex) of :meth:`to_jsonl`."""
        return hashlib.sha256(self.to_jsonl().encode()).hexdigest()

    def to_check_history(self) -> Any:
        """This history as a :class:`clobkit.check.history.History` (imports the checker)."""
        from clobkit.check.history import History

        return History.from_jsonl(self.to_jsonl())

    def check(self, model: Any = None) -> Any:
        """Run the linearizability checker on this history; returns its ``CheckResult``.

        One name for ``check_operations(model, self.to_check_history().operations())``;
        ``model`` defaults to the order book model of :attr:`market` (a cluster's history
        knows its market).

        >>> from clobkit.sim import Cluster
        >>> c = Cluster(3, seed=1, storage="memory")
        >>> _ = c.place("alice", "sell", price="100.50", qty=5)
        >>> c.history.check().verdict
        'ok'

        Raises ``InvalidArgument`` when there is no model and no market to build one from.
        """
        from clobkit.check.checker import check_operations

        if model is None:
            if self.market is None:
                from clobkit.errors import InvalidArgument

                raise InvalidArgument(
                    "model is required: this history has no market to build a book model from"
                )
            from clobkit.check.book_model import book_model

            model = book_model(self.market)
        return check_operations(model, self.to_check_history().operations())

    def to_frame(self) -> pd.DataFrame:
        """One row per call: ``index, client_id, op, input, call_us, return_us, latency_us,
        outcome, output`` (``op`` is the input's first element)."""
        import pandas as pd

        rows = self._rows()
        return pd.DataFrame(
            {
                "index": pd.array([r.index for r in rows], dtype="int64"),
                "client_id": pd.array([r.client_id for r in rows], dtype=object),
                "op": pd.array(
                    [r.input[0] if isinstance(r.input, tuple) and r.input else None for r in rows],
                    dtype=object,
                ),
                "input": pd.array([r.input for r in rows], dtype=object),
                "call_us": pd.array([r.call_us for r in rows], dtype="int64"),
                "return_us": pd.array([r.return_us for r in rows], dtype="Int64"),
                "latency_us": pd.array([r.latency_us for r in rows], dtype="Int64"),
                "outcome": pd.array([r.outcome for r in rows], dtype=object),
                "output": pd.array([r.output for r in rows], dtype=object),
            }
        )

    def __repr__(self) -> str:
        counts: dict[str, int] = {}
        for r in self._records:
            counts[r.outcome] = counts.get(r.outcome, 0) + 1
        parts = ", ".join(f"{k}={counts[k]}" for k in sorted(counts))
        return f"<ClientHistory {len(self)} calls{': ' + parts if parts else ''}>"

    def _repr_html_(self) -> str:
        from clobkit.book.describe import describe_input  # prices as people typed them

        cells = ("index", "client_id", "input", "call_us", "return_us", "outcome")

        def cell(r: HistoryRecord, c: str) -> str:
            value = getattr(r, c)
            if c == "input":
                return describe_input(value, self.market)
            return "" if value is None else str(value)

        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(cell(r, c))}</td>" for c in cells) + "</tr>"
            for r in self._rows()[-10:]
        )
        head = "".join(f"<th>{c}</th>" for c in cells)
        return (
            f"<div><p>{html.escape(repr(self))} (last 10)</p><table><thead><tr>{head}</tr>"
            f"</thead><tbody>{rows}</tbody></table></div>"
        )
