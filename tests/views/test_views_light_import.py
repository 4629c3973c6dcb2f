"""Importing clobkit.views and clobkit.viz loads neither pandas nor plotly until a function runs.

Method: a fresh interpreter imports both packages and reports which heavy modules are loaded,
then calls one view and one figure and reports again.
"""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import json, sys
import clobkit.views, clobkit.viz
before = sorted(m for m in ("pandas", "plotly", "numpy", "ipywidgets") if m in sys.modules)
from clobkit.book import MarketSpec, OrderBook
book = OrderBook(MarketSpec("ACME"))
clobkit.views.fills(book)
after_view = sorted(m for m in ("pandas", "plotly") if m in sys.modules)
clobkit.viz.depth_chart(book)
after_fig = sorted(m for m in ("pandas", "plotly") if m in sys.modules)
print(json.dumps([before, after_view, after_fig]))
"""


def test_heavy_modules_load_on_first_use() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=120
    )
    before, after_view, after_fig = json.loads(out.stdout.strip().splitlines()[-1])
    assert before == []
    assert after_view == ["pandas"]
    assert after_fig == ["pandas", "plotly"]
