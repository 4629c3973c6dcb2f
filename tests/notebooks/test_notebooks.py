"""Proves every course notebook (notebooks/*.ipynb) runs top to bottom in a fresh kernel within
its 20 s budget and follows the course rules: committed without outputs, a nav link to the course
index in its first markdown cell, a seed set in its first code cell, and a line in
notebooks/README.md. Each notebook is executed with nbclient in a kernel of this interpreter (run
pytest as `.venv/bin/python -m pytest`), with IPYTHONDIR pointing at a copy of
tests/ipython_config so tracebacks carry no ANSI colours; a failing cell fails its own
parametrised test with the cell and traceback. Every notebook's wall and CPU time is printed in
the session summary (tests/notebooks/conftest.py)."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
IPYTHON_CONFIG = ROOT / "tests" / "ipython_config"
TIMEOUT_S = 600  # per cell: only a hang should reach it; the budget below is what counts
# A notebook's budget (issue 19: every notebook runs in CI under 20 s), measured two ways.
# CPU time: what the kernel and the processes it started and reaped (notebook 09's replicas)
# computed, read by a last cell appended in memory; from kernel start-up to the end, as
# wall time is. It barely moves with other load, so it is always held to the budget (notebook
# 09's witness check alone once cost 37 s of CPU on an idle machine). Wall time: also the real
# waits (09 waits about 4 s on purpose) and start-up. On a machine running nothing else it is held to the
# budget too; when other work oversubscribes the cores (1-minute load average above the core
# count, before or after the run: five engineers share 2 cores here), a CPU-bound notebook
# gets a fraction of a core and its wall time says more about the neighbours than about it,
# so it is held to WALL_CEILING_S (3x) instead, a hang or runaway sleep guard, and the summary
# says the budget was relaxed.
BUDGET_S = 20.0
WALL_CEILING_S = 60.0
CPU_PROBE = (
    "import os as _os\n"
    "_t = _os.times()\n"
    "print('clobkit-cpu-s', _t.user + _t.system + _t.children_user + _t.children_system)"
)
SEED = re.compile(r"\bseed\s*=|\bSEED\s*=", re.IGNORECASE)

pytestmark = pytest.mark.notebooks


def _read(path: Path):  # -> nbformat.NotebookNode
    return nbformat.read(path, as_version=4)


def _first(nb, cell_type: str):  # -> nbformat.NotebookNode | None
    return next((cell for cell in nb.cells if cell.cell_type == cell_type), None)


def test_the_course_has_notebooks() -> None:
    assert NOTEBOOKS, f"no notebooks in {NOTEBOOK_DIR}"
    assert (NOTEBOOK_DIR / "00_tour.ipynb") in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_clean_and_follows_the_rules(path: Path) -> None:
    nb = _read(path)
    nbformat.validate(nb)
    dirty = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.outputs != [] or cell.execution_count is not None)
    ]
    assert not dirty, f"{path.name}: cells {dirty} have outputs or execution counts; strip them"
    markdown = _first(nb, "markdown")
    assert markdown is not None, f"{path.name} has no markdown cell"
    assert "](README.md)" in markdown.source, (
        f"{path.name}: the first markdown cell needs a nav link to the course index, "
        f"[Course index](README.md)"
    )
    code = _first(nb, "code")
    assert code is not None and SEED.search(code.source), (
        f"{path.name}: the first code cell must set a seed (e.g. `SEED = 7`, `seed=SEED`)"
    )
    index = (NOTEBOOK_DIR / "README.md").read_text(encoding="utf-8")
    assert f"]({path.name})" in index, f"notebooks/README.md has no line linking {path.name}"


def _probe_cpu_s(cell) -> float:  # cell: nbformat.NotebookNode (the CPU_PROBE cell, run)
    text = "".join(out.get("text", "") for out in cell.outputs if out.get("name") == "stdout")
    label, value = text.split()
    assert label == "clobkit-cpu-s", text
    return float(value)


def _budget_failures(wall_s: float, cpu_s: float, load: float, cores: int) -> list[str]:
    """The budget rules above: why these times fail them (empty: within budget)."""
    failures = []
    if cpu_s > BUDGET_S:
        failures.append(f"CPU {cpu_s:.1f} s > {BUDGET_S:g} s")
    wall_bound = BUDGET_S if load <= cores else WALL_CEILING_S
    if wall_s > wall_bound:
        failures.append(f"wall {wall_s:.1f} s > {wall_bound:g} s (load {load:.1f}, {cores} cores)")
    return failures


def test_the_budget_rules() -> None:
    assert _budget_failures(19.0, 12.0, load=1.0, cores=2) == []
    assert _budget_failures(21.0, 12.0, load=1.0, cores=2) == [
        "wall 21.0 s > 20 s (load 1.0, 2 cores)"
    ]
    assert _budget_failures(35.0, 12.0, load=4.5, cores=2) == []  # neighbours' load: relaxed
    assert _budget_failures(61.0, 12.0, load=4.5, cores=2) != []  # but never unbounded
    assert _budget_failures(35.0, 21.0, load=4.5, cores=2) == ["CPU 21.0 s > 20 s"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(
    path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    notebook_times: list[tuple[str, float, float, float, int]],
) -> None:
    # A copy of the no-colour profile: the kernel writes history and security files into
    # IPYTHONDIR, which must not land in the repository.
    ipython_dir = tmp_path / "ipython"
    shutil.copytree(IPYTHON_CONFIG, ipython_dir)
    monkeypatch.setenv("IPYTHONDIR", str(ipython_dir))
    monkeypatch.setenv("PYTHONHASHSEED", "0")
    nb = _read(path)
    client = nbclient.NotebookClient(
        nb,
        timeout=TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    if path.name == "00_tour.ipynb":  # the learner's clicks, appended in memory only
        nb.cells.append(nbformat.v4.new_code_cell(TOUR_CLICKS))
    nb.cells.append(nbformat.v4.new_code_cell(CPU_PROBE))  # in memory only, run last
    load = os.getloadavg()[0]
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    load = max(load, os.getloadavg()[0])
    errors = [
        output
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.get("output_type") == "error"
    ]
    assert not errors, errors
    if path.name == "00_tour.ipynb":
        mimes = {
            key
            for cell in nb.cells
            for out in cell.get("outputs", [])
            for key in out.get("data", {})
        }
        assert "application/vnd.jupyter.widget-view+json" in mimes  # a widget, not a text repr
    cpu_s = _probe_cpu_s(nb.cells.pop())
    cores = os.cpu_count() or 1
    notebook_times.append((path.name, elapsed, cpu_s, load, cores))
    print(f"{path.name}: wall {elapsed:.1f} s, CPU {cpu_s:.1f} s, load {load:.1f} on {cores} cores")
    failures = _budget_failures(elapsed, cpu_s, load, cores)
    assert not failures, f"{path.name} is over its budget: {'; '.join(failures)}"


# Runs after the tour's last cell (the dashboard), in the same kernel: Button.click() is the
# code path of a browser click.
TOUR_CLICKS = """
old = c.primary
view = c.nodes[old].view
dash.node_buttons[old]["crash"].click()
dash.run_buttons[500].click()
assert c.nodes[old].status == "crashed", c.nodes_df()
assert c.primary not in (None, old) and c.nodes[c.primary].view > view
assert f"data-primary='{c.primary}'" in dash.status.value
assert not dash.errors, dash.errors
"""


def test_the_tour_ends_with_the_dashboard() -> None:
    """The browser test runs the tour and looks for the dashboard in its last cell."""
    nb = _read(NOTEBOOK_DIR / "00_tour.ipynb")
    last = [cell for cell in nb.cells if cell.cell_type == "code"][-1]
    assert "ck.Dashboard(" in last.source
