"""The dashboard's picture panel shows the moment the dashboard shows, and its node menu acts
exactly as the node buttons do.

Method: drive ``ck.Dashboard`` as a user would (buttons, the time slider) and compare the
panel's ``state`` with ``picture_state`` of the same moment; send the panel the message its ES
module sends when a node's menu item is clicked and check the cluster's journal records the
same call the button makes, and that an action the buttons refuse is refused too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import clobkit as ck
from clobkit.errors import InvalidArgument
from clobkit.viz import picture_state
from clobkit.widgets.picture_widget import PictureWidget


def test_panel_follows_steps_and_the_slider() -> None:
    c = ck.Cluster(3, seed=1, storage="memory")
    dash = ck.Dashboard(c)
    assert dash.picture.state == {**picture_state(c), "live": True}
    dash.node_buttons["n0"]["crash"].click()
    dash.run_buttons[500].click()
    assert dash.picture.state["primary"] == "n1"
    assert dash.picture.state == {**picture_state(c), "live": True}
    dash.step_button.click()
    assert dash.picture.state["time_us"] == c.now_us
    dash.time_slider.value = 104.0  # mid view change (after n2's pre-vote round), replayed exactly
    shown = dash.picture.state
    assert shown["live"] is False and shown["time_us"] == 104_000
    assert [n["role"] for n in shown["nodes"]] == ["down", "recovering", "recovering"]
    json.dumps(shown)  # what the front end receives is plain JSON


def test_clicking_a_node_runs_the_same_call_as_its_button() -> None:
    by_button = ck.Cluster(3, seed=4, storage="memory")
    by_picture = ck.Cluster(3, seed=4, storage="memory")
    d1, d2 = ck.Dashboard(by_button), ck.Dashboard(by_picture)
    d1.node_buttons["n2"]["isolate"].click()
    d2.picture.handle_action({"event": "action", "node": "n2", "action": "isolate"})
    d1.node_buttons["n0"]["crash"].click()
    d2.picture.handle_action({"event": "action", "node": "n0", "action": "crash"})
    assert [repr(e) for e in by_picture.journal] == [repr(e) for e in by_button.journal]
    assert by_picture.trace.digest() == by_button.trace.digest()
    assert d2.picture.state["nodes"][0]["role"] == "down"
    cut = {(k["source"], k["target"]) for k in d2.picture.state["cuts"]}
    assert ("n1", "n2") in cut or ("n2", "n1") in cut
    # a crashed node cannot be crashed again: the button is disabled, the menu refuses too
    before = len(by_picture.journal)
    d2.picture.handle_action({"event": "action", "node": "n0", "action": "crash"})
    assert len(by_picture.journal) == before
    assert "crash n0 is not available now" in d2.errors[-1]


def test_widget_refuses_unknown_names_and_ships_its_module() -> None:
    c = ck.Cluster(3, seed=1, storage="memory")
    w = PictureWidget(on_action=lambda node, action: None)
    w.state = picture_state(c)
    with pytest.raises(InvalidArgument, match="node"):
        w.handle_action({"event": "action", "node": "n9", "action": "crash"})
    with pytest.raises(InvalidArgument, match="action"):
        w.handle_action({"event": "action", "node": "n1", "action": "explode"})
    source = (Path(__file__).parents[2] / "clobkit/widgets/picture_widget.js").read_text()
    assert "export default" in source and "http" not in source.replace(NS_URL, "")
    assert "requestAnimationFrame" in source


NS_URL = "http://www.w3.org/2000/svg"
