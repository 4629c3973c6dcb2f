"""Client histories: what each client asked, when, and what it saw.

A :class:`History` is recorded at the client boundary, never inside the servers: the checker
must judge the system by what clients observed. The recorder calls :meth:`History.invoke` when a
client sends a request (returning the record's index) and :meth:`History.complete` when the
client learns the outcome:

- ``"ok"``: the client got an answer (``output``);
- ``"fail"``: the request definitely did not take effect (rejected before it could apply);
- ``"unknown"``: the client gave up (timed out): it may or may not have taken effect.

:meth:`History.operations` turns the records into checker :class:`Operation` s: ``fail``
records are dropped (they did not happen), ``unknown`` and never-completed records become
operations with ``return_=None`` (they may take effect at any time after their call, or never).

The JSON lines form (:meth:`History.to_jsonl`) has one object per record, keys in this order:
``index`` (int), ``client_id`` (str or int), ``input`` (JSON array), ``call_us`` (int),
``outcome`` (``"ok"``, ``"fail"``, ``"unknown"`` or ``"pending"``), ``output`` (any JSON value)
and ``return_us`` (int, or null while pending), then, only when the recorder knew it,
``hint`` (int: where the server placed the call, see :attr:`Operation.hint`). JSON has no
tuples: arrays are read back as tuples (recursively), so inputs and outputs must be built from
tuples, str, int, float, bool and None (dicts with str keys are kept as dicts).

>>> h = History()
>>> w = h.invoke(0, ("w", 1), call_us=0)
>>> r = h.invoke(1, ("r", None), call_us=5)
>>> h.complete(w, "ok", None, return_us=10)
>>> h.complete(r, "ok", 1, return_us=20)
>>> History.from_jsonl(h.to_jsonl()) == h
True
>>> [op.return_ for op in h.operations()]
[10, 20]
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from clobkit.check.model import MalformedHistory, Operation

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["OUTCOMES", "FRAME_COLUMNS", "History", "Record"]

OUTCOMES = ("ok", "fail", "unknown")
"""The outcomes :meth:`History.complete` accepts."""

FRAME_COLUMNS = {
    "index": "int64",
    "client_id": "object",
    "op": "object",
    "input": "object",
    "call_us": "int64",
    "return_us": "Int64",
    "latency_us": "Int64",
    "outcome": "object",
    "output": "object",
}
"""Columns of :meth:`History.to_frame` and their pandas dtypes, in order."""


@dataclass(frozen=True, slots=True)
class Record:
    """One client call: ``outcome`` is ``"pending"`` until :meth:`History.complete`."""

    index: int
    client_id: Any
    input: Any
    call_us: int
    outcome: str = "pending"
    output: Any = None
    return_us: int | None = None
    hint: int | None = None


def _is_time(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _tupled(value: Any) -> Any:
    """JSON arrays back to tuples, recursively (tuples keep inputs hashable). O(size).

    ``json.loads`` gives only exact ``list``/``dict`` containers, so exact type tests suffice,
    and scalars (most of a fills or orders read) are copied without a call: this runs over
    every output of a campaign history (on 1,000-call histories it was most of reading one).
    """
    kind = type(value)
    if kind is list:
        return tuple([_tupled(v) if type(v) in _JSON_CONTAINERS else v for v in value])
    if kind is dict:
        return {k: _tupled(v) if type(v) in _JSON_CONTAINERS else v for k, v in value.items()}
    return value


_JSON_CONTAINERS = (list, dict)

_KEPT = frozenset({str, bool, type(None)})
_INT_LIMIT = 2**63  # json writes ints through str(): far below its digit limit


def _kept(value: tuple[Any, ...]) -> bool:
    """True when the JSON round trip gives back a tuple equal to ``value``: exact ``str``,
    ``bool``, ``None``, ints below 2**63 in size, and tuples of those."""
    # (ints first: most of a history's values are ints; this walks every read's output)
    for v in value:
        kind = type(v)
        if kind is int:
            if -_INT_LIMIT < v < _INT_LIMIT:
                continue
            return False
        if kind is str or kind is bool or v is None or (kind is tuple and _kept(v)):
            continue
        return False
    return True


# How to_jsonl writes a field and from_jsonl reads it back (see _read_back).
_PLAIN, _TUPLED, _PREPARED = 0, 1, 2


def _read_back(value: Any, how: int) -> Any:
    """``value`` as ``History.from_jsonl`` reads it back after ``ClientHistory.to_jsonl``
    wrote it: written through ``jsonable`` (``_PREPARED``: inputs, outputs) or as it is,
    read back with arrays as tuples (``_TUPLED``, ``_PREPARED``) or as JSON gives it
    (``_PLAIN``). ``value`` itself when the round trip gives an equal immutable value
    (:func:`_kept`), else the round trip's own result. O(size)."""
    kind = type(value)
    if kind in _KEPT or (kind is int and -_INT_LIMIT < value < _INT_LIMIT):
        return value
    if kind is tuple and how != _PLAIN and _kept(value):
        return value  # (a _PLAIN field's array stays a list)
    if how == _PREPARED:
        from clobkit.sim.trace import jsonable

        value = jsonable(value)
    back = json.loads(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
    return back if how == _PLAIN else _tupled(back)


class History:
    """An append-only log of client calls, recorded at the client boundary.

    ``invoke`` and ``complete`` are ``O(1)``; ``operations`` is ``O(n)``.
    """

    def __init__(self) -> None:
        self._records: list[Record] = []

    # -- recording ---------------------------------------------------------

    def invoke(self, client_id: Any, input: Any, call_us: int) -> int:
        """Record that ``client_id`` sent ``input`` at ``call_us``; return the record index.

        Raises :class:`MalformedHistory` for a negative or non-int time or an unhashable
        input (nothing is recorded).

        >>> History().invoke("alice", ("r", None), call_us=3)
        0
        """
        if not _is_time(call_us):
            raise MalformedHistory(f"call_us must be an int >= 0 (µs), got {call_us!r}")
        try:
            hash(input)
        except TypeError:
            raise MalformedHistory(f"input must be hashable (use tuples), got {input!r}") from None
        index = len(self._records)
        self._records.append(Record(index, client_id, input, call_us))
        return index

    def complete(
        self, index: int, outcome: str, output: Any, return_us: int, hint: int | None = None
    ) -> None:
        """Record the outcome of call ``index`` as the client saw it at ``return_us``.

        ``outcome`` is ``"ok"``, ``"fail"`` or ``"unknown"``; ``hint`` optionally where the
        server placed the call (see :attr:`Operation.hint`). Raises :class:`MalformedHistory`
        (nothing changes) for an unknown index, a call already completed, a bad outcome, a
        return time before the call, or a hint that is not an int.

        >>> h = History(); i = h.invoke(0, ("w", 1), 0)
        >>> h.complete(i, "unknown", None, 50); h[i].outcome
        'unknown'
        """
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(self):
            raise MalformedHistory(f"index must name an invoked call, got {index!r}")
        rec = self._records[index]
        if rec.outcome != "pending":
            raise MalformedHistory(f"call {index} is already completed ({rec.outcome})")
        if outcome not in OUTCOMES:
            raise MalformedHistory(f"outcome must be one of {OUTCOMES}, got {outcome!r}")
        if not _is_time(return_us) or return_us < rec.call_us:
            raise MalformedHistory(
                f"return_us must be an int >= call_us={rec.call_us}, got {return_us!r}"
            )
        if hint is not None and (isinstance(hint, bool) or not isinstance(hint, int)):
            raise MalformedHistory(f"hint must be an int or None, got {hint!r}")
        self._records[index] = Record(
            rec.index, rec.client_id, rec.input, rec.call_us, outcome, output, return_us, hint
        )

    # -- reading -----------------------------------------------------------

    def __len__(self) -> int:
        return len(self._records)

    def __getitem__(self, index: int) -> Record:
        return self._records[index]

    def __iter__(self) -> Any:
        return iter(self._records)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, History) and self._records == other._records

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        counts = dict.fromkeys((*OUTCOMES, "pending"), 0)
        for rec in self._records:
            counts[rec.outcome] += 1
        parts = ", ".join(f"{k}={v}" for k, v in counts.items() if v)
        return f"History({len(self)} calls{': ' + parts if parts else ''})"

    def records(self) -> list[Record]:
        """Every record, in invocation order (a copy of the list)."""
        return list(self._records)

    def operations(self) -> list[Operation]:
        """The checkable operations: ``fail`` dropped, ``unknown``/pending with ``return_=None``.

        >>> h = History(); a = h.invoke(0, ("w", 1), 0); b = h.invoke(0, ("w", 2), 1)
        >>> h.complete(a, "fail", None, 5)
        >>> h.operations()
        [Operation(client_id=0, input=('w', 2), call=1, output=None, return_=None)]
        """
        ops = []
        for rec in self._records:
            if rec.outcome == "fail":
                continue
            if rec.outcome == "ok":
                ops.append(
                    Operation(
                        rec.client_id, rec.input, rec.call_us, rec.output, rec.return_us, rec.hint
                    )
                )
            else:
                ops.append(Operation(rec.client_id, rec.input, rec.call_us, None, None))
        return ops

    def op_indices(self) -> list[int]:
        """Record index of each item of :meth:`operations` (to map checker results back)."""
        return [rec.index for rec in self._records if rec.outcome != "fail"]

    # -- formats -----------------------------------------------------------

    def to_jsonl(self) -> str:
        """One JSON object per line, keys in the documented order; byte-identical for equal
        histories. Raises :class:`MalformedHistory` if an input or output is not JSON data."""
        lines = []
        for rec in self._records:
            row = {
                "index": rec.index,
                "client_id": rec.client_id,
                "input": rec.input,
                "call_us": rec.call_us,
                "outcome": rec.outcome,
                "output": rec.output,
                "return_us": rec.return_us,
            }
            if rec.hint is not None:
                row["hint"] = rec.hint
            try:
                lines.append(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
            except (TypeError, ValueError) as exc:
                raise MalformedHistory(f"record {rec.index} is not JSON data: {exc}") from None
        return "".join(line + "\n" for line in lines)

    @classmethod
    def from_jsonl(cls, text: str) -> History:
        """Read the :meth:`to_jsonl` form back (blank lines are skipped).

        Raises :class:`MalformedHistory` naming the line for bad JSON, missing keys, indices
        out of order, or records that :meth:`invoke`/:meth:`complete` would refuse.
        """
        history = cls()
        keys = ("index", "client_id", "input", "call_us", "outcome", "output", "return_us")
        for lineno, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise MalformedHistory(f"line {lineno}: not JSON ({exc})") from None
            if not isinstance(row, dict) or any(k not in row for k in keys):
                raise MalformedHistory(f"line {lineno}: expected an object with keys {keys}")
            if row["index"] != len(history):
                raise MalformedHistory(
                    f"line {lineno}: index {row['index']!r}, expected {len(history)}"
                )
            try:
                index = history.invoke(
                    _tupled(row["client_id"]), _tupled(row["input"]), row["call_us"]
                )
                if row["outcome"] != "pending":
                    history.complete(
                        index,
                        row["outcome"],
                        _tupled(row["output"]),
                        row["return_us"],
                        row.get("hint"),
                    )
            except MalformedHistory as exc:
                raise MalformedHistory(f"line {lineno}: {exc}") from None
        return history

    @classmethod
    def from_client_history(cls, records: Iterable[Any]) -> History:
        """``History.from_jsonl(h.to_jsonl())`` for a simulated cluster's history ``h``
        (:class:`~clobkit.sim.history.ClientHistory`), without writing and parsing the text.

        ``records`` are ``h``'s records (anything with the attributes ``index, client_id,
        input, call_us, outcome, output, return_us, hint``). Every field becomes what the
        JSON round trip makes of it: a value built only of exact ``str``, ``bool``, ``None``,
        ``int`` (below 2**63 in size) and tuples of them comes back equal, so it is kept as
        it is (immutable, hence shareable); anything else goes through the round trip itself
        (inputs and outputs through :func:`~clobkit.sim.trace.jsonable` first, as
        ``to_jsonl`` writes them). Then the checks of :meth:`from_jsonl`, raising the same
        :class:`MalformedHistory` (naming the line the record would be on). O(size).

        >>> from clobkit.sim.history import ClientHistory
        >>> h = ClientHistory()
        >>> i = h.invoke("alice", ("place", "buy", 10), 3)
        >>> h.complete(i, "ok", [("fill", 1), {"a": {2, 1}}], 9, hint=1)
        >>> History.from_client_history(h) == History.from_jsonl(h.to_jsonl())
        True
        """
        # Everything converted first, as to_jsonl writes the whole text before it is read.
        rows = [
            (
                _read_back(rec.index, _PLAIN),
                _read_back(rec.client_id, _TUPLED),
                _read_back(rec.input, _PREPARED),
                _read_back(rec.call_us, _PLAIN),
                _read_back(rec.outcome, _PLAIN),
                _read_back(rec.output, _PREPARED),
                _read_back(rec.return_us, _PLAIN),
                _read_back(rec.hint, _PLAIN),
            )
            for rec in records
        ]
        history = cls()
        out = history._records
        for lineno, (
            index,
            client_id,
            input,
            call_us,
            outcome,
            output,
            return_us,
            hint,
        ) in enumerate(rows, start=1):
            if index != len(out):
                raise MalformedHistory(f"line {lineno}: index {index!r}, expected {len(out)}")
            # (what invoke() and then complete() check, in their order and words)
            try:
                if not _is_time(call_us):
                    raise MalformedHistory(f"call_us must be an int >= 0 (µs), got {call_us!r}")
                try:
                    hash(input)
                except TypeError:
                    raise MalformedHistory(
                        f"input must be hashable (use tuples), got {input!r}"
                    ) from None
                if outcome == "pending":
                    out.append(Record(len(out), client_id, input, call_us))
                    continue
                if outcome not in OUTCOMES:
                    raise MalformedHistory(f"outcome must be one of {OUTCOMES}, got {outcome!r}")
                if not _is_time(return_us) or return_us < call_us:
                    raise MalformedHistory(
                        f"return_us must be an int >= call_us={call_us}, got {return_us!r}"
                    )
                if hint is not None and (isinstance(hint, bool) or not isinstance(hint, int)):
                    raise MalformedHistory(f"hint must be an int or None, got {hint!r}")
            except MalformedHistory as exc:
                raise MalformedHistory(f"line {lineno}: {exc}") from None
            out.append(
                Record(len(out), client_id, input, call_us, outcome, output, return_us, hint)
            )
        return history

    def to_frame(self) -> pd.DataFrame:
        """A pandas DataFrame, one row per record, with the columns of :data:`FRAME_COLUMNS`.

        ``op`` is the first element of the input when it is a tuple (``"w"``, ``"put"``,
        ``"place"``...), else the input's repr; ``latency_us`` is ``return_us - call_us``.

        >>> h = History(); h.complete(h.invoke(0, ("w", 1), 0), "ok", None, 10)
        >>> list(h.to_frame().columns) == list(FRAME_COLUMNS)
        True
        """
        import pandas as pd

        cols: dict[str, list[Any]] = {name: [] for name in FRAME_COLUMNS}
        for rec in self._records:
            cols["index"].append(rec.index)
            cols["client_id"].append(rec.client_id)
            is_named = isinstance(rec.input, tuple) and rec.input and isinstance(rec.input[0], str)
            cols["op"].append(rec.input[0] if is_named else repr(rec.input))
            cols["input"].append(rec.input)
            cols["call_us"].append(rec.call_us)
            cols["return_us"].append(rec.return_us)
            lat = None if rec.return_us is None else rec.return_us - rec.call_us
            cols["latency_us"].append(lat)
            cols["outcome"].append(rec.outcome)
            cols["output"].append(rec.output)
        frame = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in cols.items()})
        return frame.astype(FRAME_COLUMNS)
