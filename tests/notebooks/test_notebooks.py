"""Proves every course notebook (notebooks/*.ipynb) runs top to bottom in a fresh kernel and
follows the course rules: committed without outputs, a nav link to the course index in its first
markdown cell, a seed set in its first code cell, and a line in notebooks/README.md. Each notebook
is executed with nbclient in a kernel of this interpreter (run pytest as `.venv/bin/python -m
pytest`), with IPYTHONDIR pointing at a copy of tests/ipython_config so tracebacks carry no ANSI
colours; a failing cell fails its own parametrised test with the cell and traceback."""

from __future__ import annotations

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
TIMEOUT_S = 600  # per cell; generous for 2 noisy cores (a notebook's budget is < 60 s in total)
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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
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
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
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
    print(f"{path.name}: {elapsed:.1f} s")


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
