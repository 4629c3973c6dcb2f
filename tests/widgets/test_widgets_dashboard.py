"""Proves the dashboard does what a user's clicks ask, headless: each button is pressed with
ipywidgets' Button.click() (the same on_click path as a browser click) and the test asserts on the
cluster itself (node down, new view after running, order in the book, network changed) and on the
figures shown (PlotOutput.figure); the time slider shows the exact earlier state, fork-from-here
continues from it with an identical trace prefix, and every callback error lands in the visible
output area."""

from __future__ import annotations

import subprocess
import sys

import pytest

import clobkit as ck
from clobkit.errors import InvalidArgument, InvalidType
from clobkit.sim import Cluster
from clobkit.sim.workload import RandomWorkload
from clobkit.widgets import NODE_ACTIONS, Dashboard


def make(seed: int = 1) -> tuple[Cluster, Dashboard]:
    c = Cluster(3, seed=seed, storage="memory")
    c.place("alice", "sell", price="100.50", qty=10)
    c.place("bob", "buy", price="99.00", qty=5)
    return c, Dashboard(c)


def lag_xy(dash: Dashboard) -> list[tuple[tuple, tuple]]:
    return [(tuple(t.x), tuple(t.y)) for t in dash.lag_fig.figure.data]


def depth_levels(dash: Dashboard) -> dict[str, list[tuple[float, float]]]:
    """(price, quantity) per level and side, from the depth FigureWidget (a price ladder: bids
    are drawn to the left of zero, asks to the right)."""
    return {
        t.name: sorted((float(p), abs(q)) for p, q in zip(t.y, t.x, strict=True))
        for t in dash.depth_fig.figure.data
    }


def bands(dash: Dashboard) -> list[str]:
    """The names of the fault bands shaded on the lag figure."""
    return [shape.name for shape in dash.lag_fig.figure.layout.shapes]


def test_crash_primary_then_run_gives_a_new_view_and_moves_the_lag_figure() -> None:
    c, dash = make()
    old_primary = c.primary
    assert old_primary == "n0" and 'data-view="0"' not in dash.status.value
    assert "data-primary='n0'" in dash.status.value
    lag_before = lag_xy(dash)
    dash.node_buttons[old_primary]["crash"].click()
    assert c.nodes[old_primary].status == "crashed"
    assert "data-status='crashed'" in dash.node_labels[old_primary].value
    assert dash.node_buttons[old_primary]["crash"].disabled
    assert not dash.node_buttons[old_primary]["restart"].disabled
    dash.run_buttons[500].click()
    assert c.primary not in (None, old_primary)
    assert c.nodes[c.primary].view > 0
    assert f"data-primary='{c.primary}'" in dash.status.value
    assert f"data-view='{c.nodes[c.primary].view}'" in dash.status.value
    assert lag_xy(dash) != lag_before
    assert [t.name for t in dash.lag_fig.figure.data] == ["n0", "n1", "n2"]
    assert f"crash {old_primary}" in bands(dash)
    assert f"view change to {c.nodes[c.primary].view}" in bands(dash)
    assert dash.lag_fig.figure.layout.xaxis.range[1] == pytest.approx(c.now_ms)


def test_restart_replace_isolate_buttons() -> None:
    c, dash = make()
    dash.node_buttons["n2"]["crash"].click()
    dash.node_buttons["n2"]["restart"].click()
    assert c.nodes["n2"].status != "crashed"
    dash.node_buttons["n1"]["replace"].click()
    assert c.journal[-1].action == "replace" and c.journal[-1].args == ("n1",)
    dash.run_buttons[500].click()
    assert c.nodes["n1"].role in ("backup", "learner")
    dash.node_buttons["n2"]["isolate"].click()
    assert not c.network.can_reach("n0", "n2") and not c.network.can_reach("n2", "n0")
    assert [e.action for e in c.journal if e.action in NODE_ACTIONS] == [
        "crash",
        "restart",
        "replace",
        "isolate",
    ]


def test_network_controls() -> None:
    c, dash = make()
    dash.partition_select.value = ("n0",)
    dash.partition_button.click()
    assert not c.network.can_reach("n0", "n1") and c.network.can_reach("n1", "n2")
    dash.heal_button.click()
    assert c.network.can_reach("n0", "n1")
    dash.loss_slider.value = 0.2
    assert c.network.loss == pytest.approx(0.2)
    assert c.journal[-1].action == "set_loss"


def test_order_form_places_an_order_and_the_depth_figure_shows_it() -> None:
    c, dash = make()
    assert depth_levels(dash) == {"bids": [(99.0, 5.0)], "asks": [(100.5, 10.0)]}
    dash.order_user.value = "carol"
    dash.order_side.value = "buy"
    dash.order_price.value = "100.50"
    dash.order_qty.value = 4
    dash.order_button.click()
    book = c.nodes[c.primary].book
    assert [(o.user, o.qty) for o in book.live_orders() if o.side == "sell"] == [("alice", 6)]
    assert "filled" in dash.order_result.value
    assert depth_levels(dash) == {"bids": [(99.0, 5.0)], "asks": [(100.5, 6.0)]}
    dash.order_type.value = "post-only"
    dash.order_side.value = "sell"
    dash.order_price.value = "101.25"
    dash.order_button.click()
    assert depth_levels(dash)["asks"] == [(100.5, 6.0), (101.25, 4.0)]
    dash.order_type.value = "market"
    dash.order_side.value = "buy"
    dash.order_qty.value = 1
    dash.order_button.click()
    assert depth_levels(dash)["asks"] == [(100.5, 5.0), (101.25, 4.0)]


def test_step_and_play_advance_the_simulation() -> None:
    c, dash = make()
    events = c.world.events_processed
    dash.step_button.click()
    assert c.world.events_processed == events + 1
    t = c.now_us
    dash.play.value += 1  # what one browser tick of the Play widget does
    assert c.now_us == t + dash.play_ms * 1000
    assert dash.time_slider.value == pytest.approx(c.now_ms) == dash.time_slider.max


def test_time_slider_shows_the_exact_earlier_state_and_returns_to_now() -> None:
    c, dash = make()
    t_before_crash = c.now_ms
    dash.node_buttons["n0"]["crash"].click()
    dash.run_buttons[500].click()
    live_status = dash.status.value
    live_lag = lag_xy(dash)
    dash.time_slider.value = t_before_crash - 1
    assert "data-live='false'" in dash.status.value and "data-primary='n0'" in dash.status.value
    assert "data-role='primary'" in dash.node_labels["n0"].value
    # the figures show the past: the time axis ends at the shown time, no crash band yet
    assert dash.lag_fig.figure.layout.xaxis.range[1] == pytest.approx(t_before_crash - 1)
    assert all(x <= t_before_crash - 1 for t in dash.lag_fig.figure.data for x in t.x)
    assert not any(name.startswith("crash") for name in bands(dash))
    assert not dash.fork_button.disabled
    # in a replay the buttons still act on the live cluster, so they follow the LIVE state:
    # n0 is down now (restart enabled, crash not), n1 is up now (crash enabled)
    assert not dash.node_buttons["n1"]["crash"].disabled
    assert dash.node_buttons["n0"]["crash"].disabled
    assert not dash.node_buttons["n0"]["restart"].disabled
    assert "buttons act on the live cluster" in dash.status.value
    assert "(live cluster)" in dash.node_buttons["n1"]["crash"].tooltip
    # the replayed state equals a fresh fork's (exact, not estimated)
    f = c.fork(round((t_before_crash - 1) * 1000))
    assert f"data-commit='{f.nodes['n1'].commit_number}'" in dash.node_labels["n1"].value
    dash.live_button.click()
    assert dash.status.value == live_status and lag_xy(dash) == live_lag
    assert dash.fork_button.disabled


def test_fork_from_here_continues_a_new_run_with_the_same_prefix() -> None:
    c, dash = make()
    dash.node_buttons["n0"]["crash"].click()
    dash.run_buttons[500].click()
    at_ms = 10.0
    dash.time_slider.value = at_ms
    dash.fork_button.click()
    fork = dash.cluster
    assert fork is not c and dash.parent is c and dash.forks == [fork]
    assert fork.seed == c.seed and fork.now_us == 10_000
    assert fork.trace.records == [r for r in c.trace if r.time_us <= 10_000]
    assert "data-live='true'" in dash.status.value
    # the new run goes its own way; the original is untouched
    digest = c.trace.digest()
    dash.node_buttons["n2"]["crash"].click()
    dash.run_buttons[50].click()
    assert fork.nodes["n2"].status == "crashed" and c.nodes["n2"].status != "crashed"
    assert c.trace.digest() == digest


def test_errors_land_in_the_output_area_and_status_line() -> None:
    c, dash = make()
    dash.order_price.value = "abc"
    dash.order_button.click()
    assert len(dash.errors) == 1 and "price" in dash.errors[0]
    assert "price" in dash.output.outputs[-1]["text"]
    assert "⚠" in dash.status.value
    dash.partition_select.value = ()
    dash.partition_button.click()  # an empty group: the cluster refuses
    assert "InvalidArgument" in dash.output.outputs[-1]["text"]

    def broken(**_kwargs: object) -> None:
        raise RuntimeError("boom")

    c.run = broken  # type: ignore[method-assign]  # a bug inside a callback
    dash.run_buttons[50].click()
    text = dash.output.outputs[-1]["text"]
    assert "RuntimeError: boom" in text and "Traceback" in text
    assert len(dash.errors) == 3
    # the next successful action clears the status warning but keeps the output
    del c.run
    dash.run_buttons[50].click()
    assert "⚠" not in dash.status.value and len(dash.output.outputs) == 3


def test_unreplayable_cluster_still_scrubs_the_trace() -> None:
    c = Cluster(3, seed=2, storage="memory")
    RandomWorkload(c, users=["u1"], ops_per_user=3).start()
    c.run(ms=100)
    dash = Dashboard(c)
    dash.time_slider.value = 50.0
    assert "replay unavailable" in dash.status.value
    assert dash.log.value.count("us ") > 0
    assert all(r.time_us <= 50_000 for r in dash._moment().records)


def test_same_clicks_same_trace() -> None:
    digests = []
    for _ in range(2):
        c, dash = make(seed=9)
        dash.node_buttons["n0"]["crash"].click()
        dash.run_buttons[500].click()
        dash.order_button.click()
        digests.append(c.trace.digest())
    assert digests[0] == digests[1]


def test_displays_as_a_widget_and_checks_its_argument() -> None:
    _c, dash = make()
    bundle = dash._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert ck.Dashboard is Dashboard
    assert "live" in repr(dash)
    with pytest.raises(InvalidType):
        Dashboard("not a cluster")  # type: ignore[arg-type]


def test_import_clobkit_does_not_load_ipywidgets_or_plotly() -> None:
    code = (
        "import sys, clobkit as ck; c = ck.Cluster(3, seed=1, storage='memory'); "
        "c.place('a', 'sell', price='1', qty=1); c.fork(); "
        "print(sorted(m for m in ('ipywidgets', 'plotly', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_failing_figure_is_reported_once_and_replaced_by_a_simpler_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import clobkit.viz

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("viz bug")

    monkeypatch.setattr(clobkit.viz, "lag_chart", broken)
    _c, dash = make()
    assert "viz bug" in dash.output.outputs[0]["text"] and "lag figure" in dash.errors[0]
    assert [t.name for t in dash.lag_fig.figure.data] == ["n0", "n1", "n2", "new primary", "crash"]
    dash.node_buttons["n0"]["crash"].click()
    dash.run_buttons[500].click()
    assert len(dash.errors) == 1  # reported once, not on every redraw
    crash = dash.lag_fig.figure.data[4]
    assert list(crash.text) == ["n0 crashed"]


def test_show_time_checks_its_argument_and_close_releases_everything() -> None:
    c, dash = make()
    dash.run_buttons[50].click()
    dash.show_time(10.0)
    assert "data-time-us='10000'" in dash.status.value and len(dash._replays) == 1
    with pytest.raises(InvalidArgument):
        dash.show_time(-1)
    dash.show_time(None)
    assert "data-live='true'" in dash.status.value
    dash.close()
    assert not dash._replays
    assert dash.widget.comm is None and dash.lag_fig.comm is None
    assert dash.node_buttons["n0"]["crash"].comm is None
    assert c.nodes["n0"].status == "normal"  # the cluster stays usable


def test_a_replay_button_acts_on_the_live_cluster_and_returns_to_it() -> None:
    c, dash = make()
    dash.run_buttons[50].click()
    dash.time_slider.value = 10.0
    assert "data-live='false'" in dash.status.value
    dash.node_buttons["n2"]["crash"].click()
    assert "data-live='true'" in dash.status.value
    assert c.world.hosts["n2"].status == "crashed"


def test_a_placed_order_is_one_readable_line_of_fixed_height() -> None:
    _c, dash = make()
    height = dash.order_result.layout.height
    assert height and "place an order" in dash.order_result.value
    dash.order_user.value, dash.order_side.value = "alice", "sell"
    dash.order_price.value, dash.order_qty.value = "100.50", 5
    dash.order_button.click()
    line = dash.order_result.value
    assert "CommandResult" not in line and "<code>" not in line
    assert "alice sells 5 @ 100.50" in line and "resting" in line
    dash.order_user.value, dash.order_side.value, dash.order_qty.value = "bob", "buy", 2
    dash.order_button.click()
    assert "traded 2 @ 100.50" in dash.order_result.value
    assert dash.order_result.layout.height == height


def _widget_tree(root: object) -> list[object]:
    out, stack = [], [root]
    while stack:
        widget = stack.pop()
        out.append(widget)
        stack.extend(getattr(widget, "children", ()))
    return out


def test_figures_are_plain_output_widgets_carrying_the_figure_shown() -> None:
    """The figures travel as plotly's mime type inside core ``Output`` widgets: no
    ``FigureWidget`` (an anywidget carrying 5 MB of plotly.js, which a second browser session
    into the kernel fails to initialise in time), and every anywidget left in the dashboard
    has a small module. Each figure widget's one output is the figure the dashboard holds,
    and a click replaces it."""
    import json

    import anywidget
    import ipywidgets
    import plotly.io as pio

    from clobkit.widgets.figures import PLOTLY_MIME, PlotOutput

    c, dash = make()
    tree = _widget_tree(dash.widget)
    assert dash.lag_fig in tree and dash.depth_fig in tree
    for widget in tree:
        assert "FigureWidget" not in type(widget).__name__, type(widget)
        if isinstance(widget, anywidget.AnyWidget):
            assert len(str(widget._esm)) < 200_000, type(widget)
    for panel in (dash.lag_fig, dash.depth_fig):
        assert isinstance(panel, PlotOutput) and isinstance(panel, ipywidgets.Output)
        (output,) = panel.outputs
        shown = output["data"][PLOTLY_MIME]
        assert shown["data"] == json.loads(pio.to_json(panel.figure))["data"]
        assert shown["layout"]["width"] in (420, 560)
    before = dash.lag_fig.outputs[0]["data"][PLOTLY_MIME]
    dash.node_buttons["n0"]["crash"].click()
    dash.run_buttons[500].click()
    (output,) = dash.lag_fig.outputs
    after = output["data"][PLOTLY_MIME]
    assert after != before
    assert any("crash n0" in a.get("text", "") for a in after["layout"]["annotations"])
    assert c.primary != "n0"
