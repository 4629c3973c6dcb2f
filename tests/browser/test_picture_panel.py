"""Proves the dashboard's cluster picture works in a real browser: JupyterLab serves a small
notebook (7 replicas on a slow network, 24 clients' orders in flight), Debian's Chromium
(Playwright, no `playwright install`) runs it; the test clicks the primary *in the picture*,
chooses "crash" from its menu and sees the node's role change in the picture and in the node
panel; runs the cluster into the view change and checks 200+ message dots are drawn; measures
frame times with requestAnimationFrame while the dots glide (target: 30 frames per second);
and saves a screenshot of the picture mid view change in the test's tmp dir, or in
$CLOBKIT_SHOT_DIR: the one in docs/assets/ comes from
``CLOBKIT_SHOT_DIR=docs/assets python -m pytest tests/browser/test_picture_panel.py``.

Servers: JupyterLab on 127.0.0.1 (free port, temp dirs), stopped with POST /api/shutdown, then
only its own process group by PID if needed (the fixtures of test_lab_dashboard.py).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tests.browser import test_lab_dashboard as lab

sync_api = lab.sync_api
expect = lab.expect
pytestmark = pytest.mark.browser

SHOT_NAME = "cluster_picture_view_change.png"

SETUP = """\
import clobkit as ck
# seven replicas on a slow network (30-90 ms a message), 24 clients' orders in flight
c = ck.Cluster(7, seed=3, storage="memory", latency_us_min=30_000, latency_us_max=90_000)
for i in range(24):
    c.submit(f"u{i}", "place", side="buy" if i % 2 else "sell", price=f"{100 + i % 3}", qty=1)
c.run(ms=120)
dash = ck.Dashboard(c)
dash.picture.speed = 10.0  # dots glide at 10 simulated µs per real ms between updates
dash"""


@pytest.fixture(scope="module")
def picture_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The test_lab_dashboard server, serving our notebook instead of the tour."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(SETUP)])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    folder = tmp_path_factory.mktemp("picture-notebook")
    path = folder / lab.NOTEBOOK.name  # the fixture serves a copy of this path
    nbformat.write(nb, path)
    original = lab.NOTEBOOK
    lab.NOTEBOOK = path
    try:
        yield from lab.lab_server.__wrapped__(tmp_path_factory)  # type: ignore[attr-defined]
    finally:
        lab.NOTEBOOK = original


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    yield from lab.lab_page.__wrapped__(tmp_path)  # type: ignore[attr-defined]


def test_click_a_node_in_the_picture_measure_fps_and_shoot(
    picture_lab: str, page: Any, tmp_path: Path
) -> None:
    t0 = time.perf_counter()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{picture_lab}/lab/tree/{lab.NOTEBOOK.name}?reset&token={lab.TOKEN}")
    expect(page.locator(".jp-NotebookPanel .jp-Cell").first).to_be_visible(timeout=90_000)
    expect(page.locator(".jp-StatusBar-Widget")).to_contain_text("| Idle", timeout=90_000)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_text("Run All Cells", exact=True).click()

    dashboard = page.locator(".jp-OutputArea-output .clobkit-dashboard")
    expect(dashboard).to_be_visible(timeout=150_000)
    picture = dashboard.locator(".clobkit-picture")
    expect(picture.locator(".ck-node")).to_have_count(7, timeout=60_000)
    expect(picture.locator(".ck-node-n0")).to_have_attribute("data-role", "primary")
    lab._log("picture rendered", t0)

    # click the primary in the picture, choose crash from its menu
    picture.locator(".ck-node-n0").click()
    menu = picture.locator(".ck-menu")
    expect(menu).to_be_visible()
    expect(menu.locator("button.ck-action-restart")).to_be_disabled()
    menu.locator("button.ck-action-crash").click()
    expect(picture.locator(".ck-node-n0")).to_have_attribute("data-role", "down")
    expect(dashboard.locator(".clobkit-node[data-node='n0']")).to_have_attribute(
        "data-role", "down"
    )
    expect(dashboard.locator("button.clobkit-crash-n0")).to_be_disabled()
    lab._log("n0 crashed from the picture", t0)

    # into the view change: the replicas give up on n0 and start view 1
    run = dashboard.locator("button.clobkit-run-50")
    for _ in range(6):
        renders = int(picture.get_attribute("data-renders") or "0")
        run.click()
        expect(picture).not_to_have_attribute("data-renders", str(renders), timeout=60_000)
    expect(picture.locator(".ck-node[data-role='recovering']")).not_to_have_count(0)
    flying = int(picture.get_attribute("data-messages") or "0")
    # a 7-node view change draws ~100 messages since the pre-vote round (200+ before)
    assert flying >= 80, flying
    assert picture.locator(".ck-msg[data-family='view change']").count() > 0
    lab._log(f"mid view change: {flying} messages drawn", t0)

    shot_dir = Path(os.environ.get("CLOBKIT_SHOT_DIR", tmp_path))
    shot_dir.mkdir(parents=True, exist_ok=True)
    picture.scroll_into_view_if_needed()
    picture.screenshot(path=str(shot_dir / SHOT_NAME))

    # frame times while 7 nodes and 200+ dots are drawn and move every frame
    picture.evaluate("el => el.clobkitResetFrames()")
    page.wait_for_timeout(3_000)
    frames = picture.evaluate("el => el.clobkitFrameTimes()")
    assert len(frames) > 30, frames
    median_ms = statistics.median(frames)
    p90_ms = sorted(frames)[int(len(frames) * 0.9)]
    fps = 1000 / median_ms
    lab._log(f"fps {fps:.1f} (median frame {median_ms:.1f} ms, p90 {p90_ms:.1f} ms)", t0)
    print(json.dumps({"picture_fps": fps, "frame_median_ms": median_ms, "frame_p90_ms": p90_ms}))
    assert fps >= 30, (fps, frames[:20])
    assert not dashboard.locator(".clobkit-output").inner_text().strip(), "a callback failed"
    assert not errors, errors
