"""The history timeline: every client call as a bar from invocation to response.

One row per client; a bar per call from ``call_us`` to ``return_us`` coloured by outcome
(:data:`~clobkit.viz.style.OUTCOME_COLORS`). A call that never returned (``unknown`` or still
``pending``) runs open-ended to the end of the history and is drawn lighter: it may take effect
at any time after its call, or never. With a :class:`~clobkit.check.CheckResult` the bars show
the checker's order (``#k`` = position in the witness when ok, in the longest linearizable
prefix when illegal) and the culprits get a thick red outline (trace ``"culprits"``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clobkit.viz.style import OUTCOME_COLORS, check_height, finish, is_na

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = ["history_timeline"]

_OUTCOMES = ("ok", "fail", "unknown", "pending")


def _label(row: Any) -> str:
    text = getattr(row, "input_text", None)
    if isinstance(text, str) and text:
        return text  # from views.history: prices in market units
    inp = row.input
    if isinstance(inp, tuple) and inp:
        parts = [str(v) for v in inp[:6] if v is not None]
        return " ".join(parts)
    return repr(inp)


def history_timeline(
    source: Any,
    result: Any = None,
    *,
    height: int | None = None,
    title: str | None = None,
) -> go.Figure:
    """Client calls over time, one row per client, coloured by outcome. O(calls).

    ``source`` is a cluster, its ``history``, a :class:`clobkit.check.History` or a frame from
    :func:`clobkit.views.history`; ``result`` a :class:`~clobkit.check.CheckResult` for that
    history's operations. Traces: one bar trace per outcome present (``"ok"``, ``"fail"``,
    ``"unknown"``, ``"pending"``) and ``"culprits"`` (outlines; empty unless illegal).

    >>> from clobkit.check import History
    >>> h = History(); h.complete(h.invoke("a", ("w", 1), 0), "ok", None, 10)
    >>> [t.name for t in history_timeline(h).data]
    ['ok', 'culprits']
    """
    import plotly.graph_objects as go

    from clobkit.views import history
    from clobkit.views._common import is_frame

    check_height(height)
    frame = source if is_frame(source) else history(source, result)
    if len(frame):
        ends = frame["return_us"].dropna()
        t_end = int(max(frame["call_us"].max(), ends.max() if len(ends) else 0))
    else:
        t_end = 0
    t_end = max(
        t_end + max(t_end // 50, 1), 1
    )  # open-ended bars reach a little past the last event
    clients = sorted({str(c) for c in frame["client_id"]})
    fig = go.Figure()
    show_order = result is not None

    def bars(part: Any) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {"base": [], "x": [], "y": [], "text": [], "hover": []}
        for row in part.itertuples(index=False):
            open_ended = is_na(row.return_us)
            stop = t_end if open_ended else int(row.return_us)
            out["base"].append(row.call_us / 1000.0)
            out["x"].append(max(stop - row.call_us, 1) / 1000.0)
            out["y"].append(str(row.client_id))
            pos = row.linearization_position
            has_pos = not is_na(pos)
            out["text"].append(f"#{pos}" if show_order and has_pos else "")
            ret = "never returned" if open_ended else f"returned {stop / 1000.0:.3f} ms"
            detail = "" if not has_pos else f"<br>checker position #{pos}"
            detail += "<br><b>culprit</b>" if bool(row.culprit) else ""
            out["hover"].append(
                f"{row.client_id}: {_label(row)}<br>{row.outcome}: {_answer(row)}<br>"
                f"called {row.call_us / 1000.0:.3f} ms, {ret}{detail}"
            )
        return out

    for outcome in _OUTCOMES:
        part = frame[frame["outcome"] == outcome]
        if not len(part):
            continue
        b = bars(part)
        fig.add_trace(
            go.Bar(
                name=outcome,
                orientation="h",
                base=b["base"],
                x=b["x"],
                y=b["y"],
                marker={
                    "color": OUTCOME_COLORS[outcome],
                    "opacity": 0.55 if outcome in ("unknown", "pending") else 0.9,
                    "line": {"width": 0},
                },
                text=b["text"],
                textposition="inside",
                insidetextanchor="middle",
                textangle=0,
                hovertext=b["hover"],
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )
    culprits = frame[frame["culprit"].astype(bool)] if len(frame) else frame
    b = bars(culprits)
    fig.add_trace(
        go.Bar(
            name="culprits",
            orientation="h",
            base=b["base"],
            x=b["x"],
            y=b["y"],
            marker={"color": "rgba(0,0,0,0)", "line": {"width": 3, "color": "#d62728"}},
            hovertext=b["hover"],
            hovertemplate="%{hovertext}<extra></extra>",
        )
    )
    if result is not None:
        verdict = getattr(result, "verdict", "")
        fig.add_annotation(
            text=f"checker: {verdict}",
            xref="paper",
            yref="paper",
            x=1,
            y=1.0,
            xanchor="right",
            yanchor="bottom",
            showarrow=False,
            font={"color": "#2ca02c" if verdict == "ok" else "#d62728"},
        )
    fig.update_layout(barmode="overlay", bargap=0.35)
    fig.update_yaxes(
        type="category", categoryorder="array", categoryarray=clients[::-1], title_text="client"
    )
    fig.update_xaxes(title_text="simulated time (ms)")
    return finish(fig, title=title, height=height, default_height=max(250, 45 * len(clients) + 120))


def _answer(row: Any) -> str:
    text = getattr(row, "output_text", None)
    if isinstance(text, str) and text:
        return _short(text)  # from views.history: prices in market units
    return _short(row.output)


def _short(value: Any, limit: int = 80) -> str:
    if isinstance(value, str):
        return value if len(value) <= limit else value[: limit - 1] + "…"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
