"""The history timeline: every client call as a bar from invocation to response.

One row per client; a bar per call from ``call_us`` to ``return_us`` coloured by outcome
(:data:`~clobkit.viz.style.OUTCOME_COLORS`). A call that never returned (``unknown`` or still
``pending``) runs open-ended to the end of the history and is drawn lighter: it may take effect
at any time after its call, or never. With a :class:`~clobkit.check.CheckResult` the bars show
the checker's order (``#k`` = position in the witness when ok, in the longest linearizable
prefix when illegal) and the culprits get a red outline (trace ``"culprits"``); a subtitle
says so, so the reader need not guess.

When the checker found an anomaly, the figure opens **zoomed to it**: the time window from the
first culprit's call to the last culprit's answer, with a margin, so the calls the anomaly is
about are bars, not slivers beside a second-long run. Two buttons in the figure switch
between that window and the whole run; ``window="all"`` opens on the whole run and
``window=(start_ms, end_ms)`` on any window.
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
    window: str | tuple[float, float] = "anomaly",
) -> go.Figure:
    """Client calls over time, one row per client, coloured by outcome. O(calls).

    ``source`` is a cluster, its ``history``, a :class:`clobkit.check.History` or a frame from
    :func:`clobkit.views.history`; ``result`` a :class:`~clobkit.check.CheckResult` for that
    history's operations. Traces: one bar trace per outcome present (``"ok"``, ``"fail"``,
    ``"unknown"``, ``"pending"``) and ``"culprits"`` (outlines; empty unless illegal).
    ``window``: ``"anomaly"`` (default) opens zoomed on the culprits when there are any,
    ``"all"`` on the whole run, a ``(start_ms, end_ms)`` pair on that window; the figure's
    buttons switch between the anomaly and the whole run either way.

    >>> from clobkit.check import History
    >>> h = History(); h.complete(h.invoke("a", ("w", 1), 0), "ok", None, 10)
    >>> [t.name for t in history_timeline(h).data]
    ['ok', 'culprits']
    """
    import plotly.graph_objects as go

    from clobkit.views import history
    from clobkit.views.common import is_frame

    check_height(height)
    if not (
        window in ("anomaly", "all")
        or (
            isinstance(window, tuple)
            and len(window) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in window)
            and window[0] < window[1]
        )
    ):
        from clobkit.errors import InvalidArgument

        raise InvalidArgument(
            f'window must be "anomaly", "all" or a (start_ms, end_ms) pair, got {window!r}'
        )
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
            marker={"color": "rgba(0,0,0,0)", "line": {"width": 2, "color": "#d62728"}},
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
    whole = [0.0, t_end / 1000.0]
    focus = _anomaly_window(culprits, t_end)
    if window == "all":
        start = None
    elif window == "anomaly":
        start = focus
    else:
        start = (float(window[0]), float(window[1]))
    if start is not None:
        fig.update_xaxes(range=list(start), autorange=False)
    if focus is not None:
        fig.update_layout(
            updatemenus=[
                {
                    "type": "buttons",
                    "direction": "down",
                    "x": 1.01,
                    "y": 0,
                    "xanchor": "left",
                    "yanchor": "bottom",
                    "showactive": False,
                    "font": {"size": 10},
                    "buttons": [
                        {
                            "label": "zoom to the anomaly",
                            "method": "relayout",
                            "args": [{"xaxis.range": list(focus), "xaxis.autorange": False}],
                        },
                        {
                            "label": "whole run",
                            "method": "relayout",
                            "args": [{"xaxis.range": whole, "xaxis.autorange": False}],
                        },
                    ],
                }
            ]
        )
    fig = finish(fig, title=title, height=height, default_height=max(250, 45 * len(clients) + 130))
    if show_order:
        legend_text = "#n: the call's place in the checker's order"
        if len(culprits):
            legend_text += " (the longest explainable prefix); red outline: a culprit"
        fig.update_layout(title={"subtitle": {"text": legend_text, "font": {"size": 11}}})
        fig.update_layout(margin={"t": 75 if title else 45})
    # The legend right of the plot (above the buttons), clear of the title and subtitle.
    fig.update_layout(
        legend={"orientation": "v", "x": 1.01, "y": 1, "xanchor": "left", "yanchor": "top"}
    )
    if focus is not None:
        fig.update_layout(margin={"r": 150})  # room for the two buttons, right of the plot
    return fig


def _anomaly_window(culprits: Any, t_end: int) -> tuple[float, float] | None:
    """The ms window around the anomaly, padded: the latest culprit call and every culprit
    whose call overlaps it (a culprit that only set the state long before is left out; it is
    one click away, "whole run")."""
    if not len(culprits):
        return None
    spans = []
    for row in culprits.itertuples(index=False):
        call = int(row.call_us)
        end = call if is_na(row.return_us) else int(row.return_us)
        spans.append((call, end))
    spans.sort()
    lo, hi = spans[-1]
    grown = True
    while grown:
        grown = False
        for call, end in spans:
            if call <= hi and end >= lo and (call < lo or end > hi):
                lo, hi, grown = min(lo, call), max(hi, end), True
    hi = max(hi, lo + 1)
    pad = max((hi - lo) // 4, 500)  # at least half a millisecond each side
    lo, hi = max(0, lo - pad), min(t_end, hi + pad)
    if hi <= lo:
        return None
    return lo / 1000.0, hi / 1000.0


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
