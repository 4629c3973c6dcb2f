"""A standalone HTML report of one simulated run.

:func:`write_report` re-runs a seed (:func:`clobkit.check.replay`), then writes
one HTML file centred on the run's story: the verdict first (the linearizability
checker and the cluster invariants), then what happened, as a short table of
episodes (faults, view changes, catch-up), each with its time window and a
label; the replication lag over the whole run with those episodes shaded and
labelled; for each episode (up to :data:`MAX_EPISODES`) the space-time diagram
of the messages in its window; the client history zoomed to the anomaly; the
committed book's depth; the nodes; and the first fills. plotly.js is inlined
once at the top of the page and every figure after it reuses it, so the file
opens in any browser, without Jupyter and without the internet.

The report is a *picture* of a run, so it lives with the figures: it imports
pandas and plotly only when called.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

__all__ = [
    "FAULT_KINDS",
    "MAX_EPISODES",
    "episodes",
    "first_fault_us",
    "render_report",
    "write_report",
]

#: Episodes that get their own message diagram (the rest are listed in the table).
MAX_EPISODES = 3
#: Events closer than this (µs) belong to one episode.
EPISODE_GAP_US = 150_000
#: Fill rows shown in the report (the total is stated).
FILL_ROWS = 10

# Trace kinds that tell the story, and how to say each.
_STORY = {
    "crash": "crash {node}",
    "restart": "restart {node}",
    "replace": "replace {node} (empty disk)",
    "pause": "pause {node}",
    "resume": "resume {node}",
    "partition": "partition",
    "heal": "network healed",
    "set_loss": "message loss set",
    "set_duplicate": "duplication set",
    "view_change_start": "{node} starts a view change",
    "start_view": "{node} starts view {view}",
    "primary": "{node} is primary of view {view}",
    "state_transfer": "catch-up: {node} fetches state",
    "learner_start": "catch-up: {node} joins as a learner",
    "learner_caught_up": "catch-up: {node} caught up",
    "repair": "catch-up: {node} repairs its log",
    "recover": "{node} recovers from its WAL",
}

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


def episodes(cluster: Any) -> list[dict[str, Any]]:
    """The run's story: its notable events grouped into episodes. O(trace).

    Each episode is a dict with ``start_us``, ``end_us`` and ``label`` (the events in order,
    repeated ones counted) and ``events`` (``(time_us, text)`` pairs). Events closer than
    :data:`EPISODE_GAP_US` belong to one episode.

    >>> import clobkit as ck
    >>> c = ck.Cluster(nodes=3, seed=1, storage="memory")
    >>> c.crash("n0"); _ = c.run(ms=400)
    >>> for event in episodes(c)[0]["label"].split("; "): print(event)
    crash n0
    n2 starts a view change
    n1 starts a view change
    n1 is primary of view 1
    n2 starts view 1
    """
    events: list[tuple[int, str]] = []
    for r in cluster.trace:
        template = _STORY.get(r.kind)
        if template is None:
            continue
        text = template.format(node=r.node or "", view="" if r.view is None else r.view)
        events.append((r.time_us, text))
    found: list[dict[str, Any]] = []
    for t, text in events:
        if found and t - found[-1]["end_us"] <= EPISODE_GAP_US:
            found[-1]["end_us"] = t
            found[-1]["events"].append((t, text))
        else:
            found.append({"start_us": t, "end_us": t, "events": [(t, text)]})
    for episode in found:
        counts: dict[str, int] = {}
        for _t, text in episode["events"]:
            counts[text] = counts.get(text, 0) + 1
        parts = [text if n == 1 else f"{text} ×{n}" for text, n in counts.items()]
        episode["label"] = "; ".join(parts[:6]) + ("; …" if len(parts) > 6 else "")
    return found


# What makes an episode worth a diagram, most telling first (by the start of the event text).
_PRIORITY = ("crash", "replace", "partition", "pause", "catch-up", "n", "restart", "resume")
#: The longest message diagram window (µs): wider ones are a tangle of heartbeats.
WINDOW_US = 160_000


def _rank(text: str) -> int:
    for rank, start in enumerate(_PRIORITY):
        if text.startswith(start):
            return rank
    return len(_PRIORITY)


def _key_time(episode: dict[str, Any]) -> int:
    """When the episode's most telling event happens."""
    return int(min(episode["events"], key=lambda e: (_rank(e[1]), e[0]))[0])


def _window(episode: dict[str, Any], end_us: int) -> tuple[int, int]:
    """An episode's window for its message diagram: its span plus a margin, at most
    :data:`WINDOW_US` long and starting a little before its most telling event."""
    start, stop = episode["start_us"], episode["end_us"]
    margin = max((stop - start) // 5, 20_000)
    lo, hi = max(0, start - margin), min(end_us, stop + margin)
    if hi - lo > WINDOW_US:
        lo = max(lo, _key_time(episode) - WINDOW_US // 8)
        hi = min(hi, lo + WINDOW_US)
    return lo, hi


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
    end_us = cluster.now_us
    story = episodes(cluster)
    shown = sorted(
        sorted(story, key=lambda e: (min(_rank(t) for _, t in e["events"]), e["start_us"]))[
            :MAX_EPISODES
        ],
        key=lambda e: e["start_us"],
    )
    figures: list[tuple[str, str, Any]] = [
        (
            "Replication lag",
            "How far each replica's log trails the primary's, over the whole run; crashes, "
            "partitions and view changes are shaded and labelled (hover a band for its span).",
            cz.lag_chart(cluster, width=1100),
        ),
    ]
    for k, episode in enumerate(shown, 1):
        lo, hi = _window(episode, end_us)
        figures.append(
            (
                f"Episode {k}: {lo / 1000:.0f}–{hi / 1000:.0f} ms",
                f"{episode['label']}. Messages in this window: one lane per replica and "
                "client, each arrow named; ✕ marks a dropped message, diamonds mark commits.",
                cz.spacetime_diagram(cluster, lo, hi, max_messages=400),
            )
        )
    figures += [
        (
            "Client history",
            "One bar per client call, from call to return, coloured by outcome. When the "
            "checker found an anomaly the figure opens zoomed on it (a button shows the "
            "whole run); the calls it could not order have a red outline.",
            cz.history_timeline(cluster, run.check),
        ),
        (
            "Order book depth",
            "Cumulative quantity at each price of the committed book (bids left, asks right).",
            cz.depth_chart(cluster),
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
    rows = "".join(
        f"<tr><td>{e['start_us'] / 1000:.1f}–{e['end_us'] / 1000:.1f} ms</td>"
        f"<td style='text-align:left'>{html.escape(e['label'])}</td></tr>"
        for e in story
    )
    story_html = (
        f"<table class='frame'><tr><th>window</th><th>what happened</th></tr>{rows}</table>"
        if story
        else "<p>No fault, view change or catch-up: a quiet run.</p>"
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
<h2>What happened</h2>{story_html}
<h2>Invariants</h2>{violation_html}
"""
    fills = cv.fills(cluster)
    keep = [
        c
        for c in ("fill_id", "ts_us", "price", "qty", "taker_user", "maker_user", "aggressor_side")
        if c in fills.columns
    ]
    short = fills[keep].head(FILL_ROWS)
    # People read prices as the market spec writes them (100.50), not as floats or ticks.
    short = short.assign(
        price=[cluster.market.format_price(int(t)) for t in fills["price_ticks"].head(FILL_ROWS)]
    )
    if "ts_us" in short.columns:
        short = short.assign(ts_us=(short["ts_us"] / 1000).round(1)).rename(
            columns={"ts_us": "time (ms)"}
        )
    more = f" (the first {FILL_ROWS})" if len(fills) > FILL_ROWS else ""
    tail = (
        f"<h2>Nodes at the end of the run</h2>{_frame_html(cv.nodes(cluster))}"
        f"<h2>Fills: {len(fills)}{more}</h2>{_frame_html(short)}"
    )
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
