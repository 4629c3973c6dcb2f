"""The HTML report as a reader sees it: headless Debian Chromium (driven by
Playwright, never `playwright install`) opens the file offline and every
plotly figure renders, with no page errors and no failed requests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.mark.browser
def test_report_renders_every_figure_offline(tmp_path: Path) -> None:
    if not os.path.exists(CHROMIUM):
        reason = "Debian chromium is not installed (scripts/system-deps.sh needs root or sudo)"
        if os.environ.get("CI"):
            pytest.fail(reason)  # CI installs it: a missing browser is a broken setup there
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    report = tmp_path / "report.html"
    subprocess.run(
        [sys.executable, "-m", "clobkit", "report", "5", "--ops", "40", "-o", str(report)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    errors: list[str] = []
    failed: list[str] = []
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=ARGS
        )
        try:
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("requestfailed", lambda request: failed.append(request.url))
            page.goto(report.as_uri())
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
            plots = page.locator(".js-plotly-plot").count()
            drawn = page.locator(".js-plotly-plot .main-svg").count()
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            context.close()
    expected = report.read_text().count('class="plotly-graph-div"')
    assert plots == expected >= 4
    assert drawn >= expected
    assert errors == []
    assert failed == []
