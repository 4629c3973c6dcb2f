"""Proves the tour's dashboard works for a learner in a real browser: JupyterLab serves a copy of
notebooks/00_tour.ipynb, Debian's Chromium (driven by Playwright, no `playwright install`) opens
it, runs all cells from the Run menu, clicks "crash" on the primary's row and then "run 500 ms",
and the page itself must show the node down, a new primary in a higher view, and a changed lag
figure (its SVG line paths moved, a labelled crash band appeared). Then the notebook is saved
and a second JupyterLab session (a new tab, its own workspace, so its own widget manager) opens
it on the same kernel: the dashboard must come back from the kernel's widget state with both
plotly figures drawn, showing the current state (the crash band), its buttons must drive the
same cluster (both sessions see the run), and neither page may log anywidget's
"Failed to initialize model" (what plotly's 5 MB FigureWidget module caused; the figures are
now core Output widgets, see clobkit.widgets.figures). A screenshot is saved in the
test's tmp dir; with CLOBKIT_SCREENSHOTS=1 the dashboard's goes to docs/assets/dashboard.png, the
picture README.md and the docs home page show (regenerate it that way after a dashboard change).

The test starts its own JupyterLab on 127.0.0.1 (free port, token, temp root/config/runtime/
settings/workspaces dirs, --allow-root as root) and stops it with POST /api/shutdown, then kills
only the process group it started if that did not work. Chromium missing: the test runs
scripts/system-deps.sh to install it and skips, with the script's reason, only if it cannot.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

if os.environ.get("CI"):  # the test extra installs playwright: in CI a missing one is a failure
    import playwright.sync_api as sync_api
else:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')"
    )
expect = sync_api.expect
sync_playwright = sync_api.sync_playwright

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "00_tour.ipynb"
IPYTHON_CONFIG = ROOT / "tests" / "ipython_config"
CHROMIUM = "/usr/bin/chromium"
TOKEN = "clobkit-browser-test"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

pytestmark = pytest.mark.browser
expect.set_options(timeout=30_000)


def _log(message: str, t0: float) -> None:
    print(f"[{time.perf_counter() - t0:6.2f}s] {message}", flush=True)


def _ensure_chromium() -> None:
    """Install Chromium with scripts/system-deps.sh if missing; skip only if it cannot."""
    if Path(CHROMIUM).exists():
        return
    script = ROOT / "scripts" / "system-deps.sh"
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=900)
    if Path(CHROMIUM).exists():
        return
    said = (done.stderr + done.stdout).strip()
    if (
        done.returncode == 0
        and "browser tests will be skipped" in said
        and not os.environ.get("CI")
    ):
        pytest.skip(f"no Chromium at {CHROMIUM}: {said}")  # CI must run it: it fails below
    pytest.fail(f"no Chromium at {CHROMIUM} and {script} failed ({done.returncode}):\n{said}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_lab(process: subprocess.Popen[bytes], base: str, token: str) -> None:
    """Stop a JupyterLab this test started: gracefully first (the server shuts its kernels
    down, they run in their own sessions, then exits); only then, and only its own process
    group, by signal."""
    try:
        request = urllib.request.Request(
            f"{base}/api/shutdown",
            method="POST",
            headers={"Authorization": f"token {token}"},
        )
        urllib.request.urlopen(request, timeout=10)
    except OSError:
        pass
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """JupyterLab on 127.0.0.1:<free port> serving a temp copy of the tour; yields its URL."""
    _ensure_chromium()
    root = tmp_path_factory.mktemp("labroot")
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    home = tmp_path_factory.mktemp("jupyter-home")
    # no "get Jupyter news?" toast over the notebook, no update check
    notification = home / "settings" / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"checkForUpdates": False, "fetchNews": "false"})
    )
    shutil.copytree(IPYTHON_CONFIG, home / "ipython")  # plain-text tracebacks in the kernel
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        IPYTHONDIR=str(home / "ipython"),
    )
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--port-retries=0",
        f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.extension_manager=readonly",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log_path = home / "server.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"jupyter lab exited {process.returncode}:\n{log_path.read_text()[-3000:]}"
                    )
                try:
                    urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(
                            "jupyter lab did not come up:\n" + log_path.read_text()[-3000:]
                        ) from None
                    time.sleep(0.25)
            yield base
        finally:
            stop_lab(process, base, TOKEN)


@pytest.fixture
def lab_page(tmp_path: Path) -> Iterator[Any]:
    """A fresh headless Debian Chromium page (its own profile dir)."""
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def _line_paths(plot: Any) -> list[str | None]:
    lines = plot.locator(".scatterlayer .trace path.js-line")
    return [lines.nth(i).get_attribute("d") for i in range(lines.count())]


def test_crash_the_primary_from_the_dashboard(
    lab_server: str, lab_page: Any, tmp_path: Path
) -> None:
    t0 = time.perf_counter()
    page = lab_page
    page_errors: list[str] = []
    console: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.on("console", lambda message: console.append(message.text))

    page.goto(f"{lab_server}/lab/tree/{NOTEBOOK.name}?reset&token={TOKEN}")
    expect(page.locator(".jp-NotebookPanel .jp-Cell").first).to_be_visible(timeout=90_000)
    # the status bar text is the reliable "kernel ready" signal (the execution indicator
    # says idle before any kernel exists)
    expect(page.locator(".jp-StatusBar-Widget")).to_contain_text("| Idle", timeout=90_000)
    _log("notebook open, kernel idle", t0)

    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_text("Run All Cells", exact=True).click()

    dashboard = page.locator(".jp-OutputArea-output .clobkit-dashboard")
    expect(dashboard).to_be_visible(timeout=150_000)  # kernel imports, plotly.js loaded once
    plots = dashboard.locator(".js-plotly-plot")
    expect(plots).to_have_count(2, timeout=90_000)
    lag = plots.nth(0)
    expect(lag.locator(".scatterlayer .trace")).to_have_count(3)  # one line per node
    expect(lag.locator(".legend")).to_contain_text("n0")
    status = dashboard.locator(".clobkit-status-line")
    expect(status).to_have_attribute("data-live", "true")
    _log("dashboard rendered", t0)

    primary_row = dashboard.locator(".clobkit-node[data-role='primary']")
    expect(primary_row).to_have_count(1)
    primary = primary_row.get_attribute("data-node")
    view_before = int(status.get_attribute("data-view") or "-1")
    assert primary and status.get_attribute("data-primary") == primary
    paths_before = _line_paths(lag)
    bands_before = lag.locator(".annotation").all_inner_texts()
    assert f"crash {primary}" not in bands_before

    dashboard.locator(f"button.clobkit-crash-{primary}").click()
    row = dashboard.locator(f".clobkit-node[data-node='{primary}']")
    expect(row).to_have_attribute("data-status", "crashed")
    expect(row).to_have_attribute("data-role", "down")
    expect(dashboard.locator(f"button.clobkit-crash-{primary}")).to_be_disabled()
    _log(f"{primary} shows as down", t0)

    dashboard.locator("button.clobkit-run-500").click()
    new_primary = dashboard.locator(
        f".clobkit-status-line:not([data-primary='{primary}']):not([data-primary=''])"
    )
    expect(new_primary).to_have_count(1)
    view_after = int(status.get_attribute("data-view") or "-1")
    assert view_after > view_before, (view_before, view_after)
    expect(status).to_contain_text(re.compile(rf"primary n\d \(view {view_after}\)"))
    expect(dashboard.locator(".clobkit-node[data-role='primary']")).not_to_have_attribute(
        "data-node", primary
    )
    # the lag figure was redrawn in place: the lines moved and the crash band is labelled
    expect(lag.locator(".annotation", has_text=f"crash {primary}")).to_have_count(1)
    # A new crash band and a new view-change band (narrow, so clobkit.viz marks it "▾" and
    # keeps "view change to N" for the hover; adjacent view changes may merge into one band).
    assert lag.locator(".annotation").count() >= len(bands_before) + 2, bands_before
    assert _line_paths(lag) != paths_before
    _log(f"new primary in view {view_after}; lag figure changed", t0)

    # Tall enough for the whole dashboard (status to message log) to be on screen at once.
    page.set_viewport_size({"width": 1400, "height": 2300})
    dashboard.scroll_into_view_if_needed()
    shot = Path(os.environ.get("CLOBKIT_SHOT", tmp_path / "lab_dashboard.png"))
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=False)
    dashboard.screenshot(path=str(shot.with_name(shot.stem + "_dashboard.png")))
    if os.environ.get("CLOBKIT_SCREENSHOTS"):
        dashboard.screenshot(path=str(ROOT / "docs" / "assets" / "dashboard.png"))
    page.set_viewport_size({"width": 1400, "height": 1000})
    _log(f"screenshots: {shot}", t0)
    assert not dashboard.locator(".clobkit-output").inner_text().strip(), "a button failed"
    assert not page_errors, page_errors

    second_session(page, lab_server, primary, console, t0)


def _saved_with_widgets(base: str) -> bool:
    """Whether the notebook on disk holds the dashboard's widget view (saved after Run All)."""
    url = f"{base}/api/contents/{NOTEBOOK.name}?content=1&token={TOKEN}"
    with urllib.request.urlopen(url, timeout=10) as response:
        body = response.read().decode()
    return "application/vnd.jupyter.widget-view+json" in body


def second_session(page: Any, base: str, primary: str, console: list[str], t0: float) -> None:
    """Save, open the notebook in a second JupyterLab session on the same kernel, check it."""
    page.get_by_role("menuitem", name="File", exact=True).click()
    page.get_by_text("Save Notebook", exact=True).click()
    # Wait for the save to finish before reading the file: a read during jupyter_server's
    # atomic write finds it half written and moves it aside as *.invalid.
    expect(page.locator(".lm-TabBar-tab.jp-mod-dirty")).to_have_count(0)
    page.wait_for_timeout(1000)
    assert _saved_with_widgets(base), "the notebook was not saved with its outputs"
    _log("saved", t0)

    other = page.context.new_page()
    other_console: list[str] = []
    other_errors: list[str] = []
    other.on("console", lambda message: other_console.append(message.text))
    other.on("pageerror", lambda error: other_errors.append(str(error)))
    other.goto(f"{base}/lab/workspaces/second/tree/{NOTEBOOK.name}?reset&token={TOKEN}")
    dashboard = other.locator(".jp-OutputArea-output .clobkit-dashboard")
    expect(dashboard).to_be_visible(timeout=120_000)
    plots = dashboard.locator(".js-plotly-plot")
    expect(plots).to_have_count(2, timeout=60_000)
    lag = plots.nth(0)
    expect(lag.locator(".scatterlayer .trace")).to_have_count(3)
    # the current figure, from the widget's state: the crash the first session made
    expect(lag.locator(".annotation", has_text=f"crash {primary}")).to_have_count(1)
    expect(plots.nth(1).locator(".barlayer .trace")).not_to_have_count(0)
    _log("second session: dashboard and both figures rendered", t0)

    # The two sessions drive one cluster: a run here moves the time shown in both.
    first_status = page.locator(".jp-OutputArea-output .clobkit-status-line")
    time_before = first_status.get_attribute("data-time-us")
    dashboard.locator("button.clobkit-run-50").click()
    expect(dashboard.locator(".clobkit-status-line")).not_to_have_attribute(
        "data-time-us", time_before or ""
    )
    expect(first_status).not_to_have_attribute("data-time-us", time_before or "")
    other.wait_for_timeout(3000)  # anywidget reports a failed model after ~2 s
    failed = [m for m in console + other_console if "Failed to initialize model" in m]
    assert not failed, failed
    assert not other_errors, other_errors
    _log(f"second session drove the cluster; {len(other_console)} console lines, none failed", t0)
