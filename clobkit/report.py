"""A standalone HTML report of one simulated run.

:func:`write_report` re-runs a seed (:func:`clobkit.check.replay`), then writes
one HTML file with the run's story: the verdict of the linearizability checker
and the cluster invariants, the depth chart, replication lag with the faults
shaded, the space-time diagram of the messages, the client history timeline,
the node table and the fills. plotly.js is inlined once at the top of the page
and every figure after it reuses it, so the file opens in any browser, without
Jupyter and without the internet.

The report is a *picture* of a run, so it lives with the figures: it imports
pandas and plotly only when called.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

__all__ = ["FAULT_KINDS", "first_fault_us", "render_report", "write_report"]

_STYLE = """
body { font-family: system-ui, -apple-system, Segoe UI, Roboto, sans-serif; margin: 2rem auto;
       max-width: 1200px; color: #1f2933; padding: 0 1rem; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #d9e2ec; }
.verdict { display: inline-block; padding: .25rem .7rem; border-radius: .4rem; font-weight: 600; }
.ok { background: #e3f9e5; color: #05400a; } .bad { background: #ffe3e3; color: #610404; }
.unknown { background: #fff3c4; color: #513c06; }
table.frame { border-collapse: collapse; font-size: .85rem; }
table.frame th, table.frame td { border: 1px solid #d9e2ec; padding: .2rem .5rem;
                                 text-align: right; }
table.frame th { background: #f0f4f8; }
.meta { color: #52606d; } code { background: #f0f4f8; padding: 0 .25rem; border-radius: .2rem; }
"""


def _frame_html(frame: Any, max_rows: int = 200) -> str:
    shown = frame.head(max_rows)
    table = shown.to_html(index=False, classes="frame", border=0, escape=True)
    more = len(frame) - len(shown)
    note = f"<p class='meta'>… and {more} more rows</p>" if more > 0 else ""
    return str(table) + note


def _verdict_class(verdict: str) -> str:
    return {"ok": "ok", "unknown": "unknown"}.get(verdict, "bad")


def render_report(run: Any, *, title: str | None = None) -> str:
    """The HTML text of a report for ``run`` (a :class:`clobkit.check.RunResult`).

    Raises whatever the figures raise for a run they cannot draw; the caller's
    files are untouched until :func:`write_report` writes the finished text.
    """
    import clobkit.views as cv
    import clobkit.viz as cz

    cluster = run.cluster
    heading = title or f"clobkit run, seed {run.seed}"
    if cluster is None:  # the run itself raised: say so rather than draw nothing
        return (
            "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(heading)}</title><style>{_STYLE}</style></head><body>"
            f"<h1>{html.escape(heading)}</h1><p>Verdict: <span class='verdict bad'>error</span></p>"
            f"<pre>{html.escape(run.error)}</pre>"
            f"<p class='meta'>Re-run it with <code>{html.escape(run.repro)}</code></p>"
            "</body></html>\n"
        )
    figures: list[tuple[str, str, Any]] = [
        (
            "Order book depth",
            "Cumulative quantity at each price of the committed book (bids left, asks right).",
            cz.depth_chart(cluster),
        ),
        (
            "Replication lag",
            "How far each replica's committed op trails the primary's, with crashes, "
            "partitions and view changes shaded.",
            cz.lag_chart(cluster),
        ),
        (
            "Messages (space-time diagram)",
            "One lane per replica and client; each line is a message from send to delivery; "
            "✕ marks a dropped message, diamonds mark commits.",
            cz.spacetime_diagram(cluster, max_messages=300),
        ),
        (
            "Client history",
            "One bar per client call, from call to return, coloured by outcome; the "
            "operations the checker could not order are highlighted.",
            cz.history_timeline(cluster, run.check),
        ),
    ]
    # The report opens with the cluster picture around the run's first fault; plotly.js goes
    # inline once, there, and every figure after it reuses it.
    picture = _picture_section(cluster)
    parts: list[str] = []
    for section, caption, fig in figures:
        body = fig.to_html(
            full_html=False,
            include_plotlyjs=False,
            config={"displaylogo": False},
            default_width="100%",
        )
        parts.append(
            f"<h2>{html.escape(section)}</h2><p class='meta'>{html.escape(caption)}</p>{body}"
        )

    verdict = str(run.verdict)
    checker = run.check.verdict if run.check is not None else "not run"
    violations = run.violations
    explanation = ""
    if run.check is not None and run.check.verdict == "illegal":
        explanation = f"<p>{html.escape(run.check.explanation)}</p>"
    violation_html = (
        _frame_html(run.violations_df()) if violations else "<p>No invariant was violated.</p>"
    )
    header = f"""
<h1>{html.escape(heading)}</h1>
<p class="meta">Re-run it with <code>{html.escape(run.repro)}</code></p>
<p>Verdict: <span class="verdict {_verdict_class(verdict)}">{html.escape(verdict)}</span>
&nbsp; linearizability checker: <b>{html.escape(str(checker))}</b>
&nbsp; invariant violations: <b>{len(violations)}</b>
&nbsp; simulated time: <b>{cluster.now_us / 1000:.1f} ms</b></p>
{explanation}
{picture}
<h2>Invariants</h2>{violation_html}
<h2>Nodes at the end of the run</h2>{_frame_html(cv.nodes(cluster))}
"""
    fills = cv.fills(cluster)
    # People read prices as the market spec writes them (100.50), not as floats or ticks.
    shown = fills.drop(columns=["price_ticks", "qty_lots"]).assign(
        price=[cluster.market.format_price(int(t)) for t in fills["price_ticks"].tolist()]
    )
    tail = f"<h2>Fills ({len(fills)})</h2>{_frame_html(shown)}"
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(heading)}</title><style>{_STYLE}</style></head><body>"
        f"{header}{''.join(parts)}{tail}</body></html>\n"
    )


#: Trace kinds that count as a fault for :func:`first_fault_us` (in the order they can happen).
FAULT_KINDS = (
    "crash",
    "pause",
    "partition",
    "isolate",
    "block",
    "replace",
    "disk_fault",
    "set_loss",
)


def first_fault_us(cluster: Any) -> int | None:
    """When the run's first fault happened (crash, partition, ..., or a rule's first drop).

    A drop by a network rule (``drop_next``) counts, a drop at a dead target does not (the
    crash came first). ``None`` for a run without faults.

    >>> import clobkit as ck
    >>> c = ck.Cluster(3, seed=1, storage="memory"); _ = c.run(ms=5); c.crash("n1")
    >>> first_fault_us(c)
    5000
    """
    for record in cluster.trace:
        if record.kind in FAULT_KINDS:
            return int(record.time_us)
        reason = str((record.detail or {}).get("reason", ""))
        if record.kind == "drop" and reason.startswith(("rule:", "loss")):
            return int(record.time_us)
    return None


def _picture_section(cluster: Any) -> str:
    """The report's opening: the animated cluster picture around the first fault."""
    import clobkit.viz as cz

    fault_us = first_fault_us(cluster)
    if fault_us is None:
        start_us, end_us = 0, min(int(cluster.now_us), 60_000)
        what = "The run had no fault: its first moments"
    else:
        start_us = max(0, fault_us - 5_000)
        end_us = min(int(cluster.now_us), fault_us + 60_000)
        after_ms = (end_us - fault_us) / 1000
        what = f"The first fault, at {fault_us / 1000:.3f} ms, and the {after_ms:g} ms after it"
    fig = cz.cluster_animation(cluster, start_us / 1000, end_us / 1000, frames=120)
    body = fig.to_html(
        full_html=False,
        include_plotlyjs=True,
        auto_play=False,
        config={"displaylogo": False},
        default_width="100%",
    )
    caption = (
        f"{what}. Press ▶ play or drag the slider: replicas on a ring (★ primary, ● backup, "
        "⬢ recovering, ✕ down), messages as dots on their links (● normal case, ◆ view change, "
        "■ state transfer, ▲ reads; ✕ dropped), cut links dashed; right, each node's log "
        "(hollow = not yet committed, bar = commit point) and the committed book."
    )
    return (
        f"<h2>The cluster around the first fault</h2><p class='meta'>{html.escape(caption)}</p>"
        f"{body}"
    )


def write_report(seed: int, path: str | Path = "report.html", **options: Any) -> Path:
    """Re-run ``seed`` with ``options`` (as for :func:`clobkit.check.replay`) and write
    its standalone HTML report to ``path``; returns the path.

    Raises :class:`~clobkit.errors.InvalidArgument` for bad options (nothing is written).

    >>> import tempfile, pathlib
    >>> out = write_report(3, pathlib.Path(tempfile.mkdtemp()) / "r.html", ops=20)
    >>> text = out.read_text()
    >>> "plotly" in text and "seed 3" in text
    True
    """
    from clobkit.check.campaigns import replay

    run = replay(seed=seed, **options)
    try:
        text = render_report(run)
    finally:
        if run.cluster is not None:
            run.cluster.close()
    target = Path(path)
    target.write_text(text, encoding="utf-8")
    return target
