"""Views of what clients saw and what the checker concluded, and of campaign results.

:func:`history` joins a client history (one row per call) with a
:class:`~clobkit.check.CheckResult`: the checker numbers the *checkable* operations
(:meth:`clobkit.check.History.operations`, which leaves out ``fail`` calls), so each row gets
its ``check_index`` (from :meth:`~clobkit.check.History.op_indices`) and, through it, its
position in the witness linearization (verdict ok) or in the longest linearizable prefix
(verdict illegal), and a ``culprit`` flag.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clobkit.check.history import FRAME_COLUMNS as HISTORY_FRAME_COLUMNS
from clobkit.errors import InvalidType
from clobkit.views.common import is_cluster, is_frame, typed_frame

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["CAMPAIGN_COLUMNS", "HISTORY_COLUMNS", "as_history", "campaign", "history"]

#: :func:`history` columns: :data:`clobkit.check.FRAME_COLUMNS` then the verdict columns.
#:
#: ===================== ====== ================================================================
#: index                 int64  record index (invocation order)
#: client_id             object client
#: op                    object operation name ("place", "fills", ...)
#: input                 object the operation's input tuple (recorded form: ticks and lots)
#: call_us               int64  invocation time
#: return_us             Int64  response time (NA while pending or unknown)
#: latency_us            Int64  return_us - call_us
#: outcome               object "ok", "fail", "unknown" or "pending"
#: output                object what the client saw (recorded form: ticks and lots)
#: check_index           Int64  index among the checked operations (NA for "fail" calls)
#: partition             Int64  the checker part (market) the op was placed in (NA: not placed)
#: linearization_position Int64 position in the witness (ok) or in the longest linearizable
#:                              prefix (illegal), within its part; NA when not placed
#: in_prefix             bool   placed in the witness/prefix
#: culprit               bool   one of the operations the checker could not order
#: input_text            object ``input`` as people read it: "place sell 10 @ 100.50 by alice"
#: output_text           object ``output`` likewise: "accepted as #2 (filled, fills 4 @ 100.50)"
#: ===================== ====== ================================================================
HISTORY_COLUMNS: dict[str, str] = {
    **HISTORY_FRAME_COLUMNS,  # the checker's own History.to_frame() columns, then ours
    "check_index": "Int64",
    "partition": "Int64",
    "linearization_position": "Int64",
    "in_prefix": "bool",
    "culprit": "bool",
    "input_text": "object",
    "output_text": "object",
}

#: :func:`campaign` columns: the same as the campaign module's ``CAMPAIGN_COLUMNS`` (a test
#: keeps the two equal); text columns use pandas' ``str`` dtype there, so they do here.
CAMPAIGN_COLUMNS: dict[str, str] = {
    "seed": "int64",
    "nodes": "int64",
    "ops": "int64",
    "faults": "int64",
    "fault_kinds": "str",
    "swarm": "str",
    "beyond_f": "bool",
    "verdict": "str",
    "violations": "int64",
    "first_violation": "str",
    "linearizable": "str",
    "states": "int64",
    "sim_time_us": "int64",
    "wall_time_s": "float64",
    "history_digest": "str",
    "repro": "str",
}


def as_history(source: Any) -> Any:
    """A :class:`clobkit.check.History` from a cluster, a sim ``ClientHistory`` or a History.

    Raises :class:`~clobkit.errors.InvalidType` for anything else.
    """
    from clobkit.check.history import History

    if isinstance(source, History):
        return source
    if is_cluster(source):
        source = source.history
    if callable(getattr(source, "to_check_history", None)):
        return source.to_check_history()
    raise InvalidType(
        f"history must be a Cluster, a ClientHistory or a clobkit.check.History, "
        f"got {type(source).__name__}"
    )


def history(source: Any, result: Any = None, *, spec: Any = None) -> pd.DataFrame:
    """Client calls with the checker's verdict attached. O(calls).

    ``source`` is a cluster, its ``history`` or a :class:`clobkit.check.History`; ``result``
    a :class:`~clobkit.check.CheckResult` for ``History.operations()`` of that history (or
    ``None``: the verdict columns stay NA/False). Columns and dtypes: :data:`HISTORY_COLUMNS`.
    ``input_text``/``output_text`` write book operations in the market's units: a cluster
    knows its :class:`~clobkit.book.MarketSpec`; for a bare history pass ``spec`` (else
    prices read as marked ticks, ``10050t``).

    >>> from clobkit.check import History, check_operations, register_model
    >>> h = History()
    >>> w = h.invoke(0, ("w", 1), 0); r = h.invoke(1, ("r", None), 5)
    >>> h.complete(w, "ok", None, 10); h.complete(r, "ok", 1, 20)
    >>> res = check_operations(register_model(), h.operations())
    >>> history(h, res)[["op", "linearization_position", "culprit"]].values.tolist()
    [['w', 0, False], ['r', 1, False]]
    """
    hist = as_history(source)
    frame = hist.to_frame()
    n = len(frame)
    check_index: list[int | None] = [None] * n
    for position, record_index in enumerate(hist.op_indices()):
        check_index[record_index] = position
    partition: list[int | None] = [None] * n
    placed_at: list[int | None] = [None] * n
    culprit = [False] * n
    by_check = {ci: row for row, ci in enumerate(check_index) if ci is not None}
    if result is not None:
        orders: list[tuple[int, list[int]]] = []
        if result.verdict == "ok" and result.witness:
            orders = list(enumerate(result.witness))
        elif result.verdict == "illegal" and result.prefix is not None:
            orders = [(result.partition_index or 0, list(result.prefix))]
        for part, order in orders:
            for position, ci in enumerate(order):
                row = by_check.get(ci)
                if row is not None:
                    partition[row] = part
                    placed_at[row] = position
        for ci in result.culprits or ():
            row = by_check.get(ci)
            if row is not None:
                culprit[row] = True
    data = {name: frame[name].to_numpy() if name in frame else [] for name in HISTORY_COLUMNS}
    data["check_index"] = check_index
    data["partition"] = partition
    data["linearization_position"] = placed_at
    data["in_prefix"] = [p is not None for p in placed_at]
    data["culprit"] = culprit
    from clobkit.book.describe import describe_input, describe_output

    if spec is None and is_cluster(source):
        spec = source.market
    inputs, outputs, outcomes = frame["input"].tolist(), frame["output"].tolist(), frame["outcome"]
    data["input_text"] = [describe_input(inp, spec) for inp in inputs]
    data["output_text"] = [
        describe_output(inp, out, spec) if outcome == "ok" else ""
        for inp, out, outcome in zip(inputs, outputs, outcomes.tolist(), strict=True)
    ]
    return typed_frame(data, HISTORY_COLUMNS)


def campaign(frame: Any) -> pd.DataFrame:
    """A campaign result frame with its known columns in order and at fixed dtypes. O(rows).

    Columns :data:`CAMPAIGN_COLUMNS` first (a missing one raises: no defaults are invented),
    then any extra columns unchanged; ``attrs`` kept.

    >>> import pandas as pd
    >>> campaign(pd.DataFrame({name: [] for name in CAMPAIGN_COLUMNS})).dtypes["seed"]
    dtype('int64')

    Raises :class:`~clobkit.errors.InvalidType` unless ``frame`` is a DataFrame and
    :class:`~clobkit.errors.InvalidArgument` if a known column is missing.
    """
    import pandas as pd

    from clobkit.errors import InvalidArgument

    if not is_frame(frame):
        raise InvalidType(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [name for name in CAMPAIGN_COLUMNS if name not in frame.columns]
    if missing:
        raise InvalidArgument(f"frame lacks campaign columns {missing!r}")
    extra = [name for name in frame.columns if name not in CAMPAIGN_COLUMNS]
    out = pd.DataFrame(frame[list(CAMPAIGN_COLUMNS) + extra]).astype(CAMPAIGN_COLUMNS)
    out.attrs = dict(frame.attrs)
    return out.reset_index(drop=True)
