"""The site's build hooks do what they claim, and every code example on the site is valid Python.

Method: load ``docs/hooks/*.py`` by path, exactly the files mkdocs loads, and feed them small
inputs whose right output is known: the Binder placeholder and a configured URL, notebook HTML
with CDN scripts, docstrings with doctests, reST tables and Sphinx roles. Then compile every
``python`` code block in ``docs/`` (how-to code is not executed at build time, so a syntax slip
would otherwise reach readers), and run the checker how-tos' blocks end to end.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
FENCE = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def _load(name: str) -> ModuleType:
    path = DOCS / "hooks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_clobkit_docs_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _File:
    def __init__(self, src_uri: str) -> None:
        self.src_uri = src_uri


class _Page:
    def __init__(self, src_uri: str) -> None:
        self.file = _File(src_uri)


def _config(url: str) -> dict[str, Any]:
    return {"extra": {"repo_url_binder": url}}


@pytest.mark.parametrize("unset", ["", "  ", None])
def test_unset_binder_url_shows_no_badge(unset: str | None) -> None:
    hooks = _load("clobkit_docs")
    md = hooks.on_page_markdown(
        "x\n\n{{ binder_badge }}\n", _Page("a.md"), {"extra": {"repo_url_binder": unset}}, None
    )
    assert "binder-badge.svg" not in md and "mybinder.org/v2" not in md
    assert "no public Binder link" in md


def test_no_placeholder_binder_url_is_configured() -> None:
    """The one setting is either empty or a real launch URL, never a CHANGE-ME stand-in."""
    text = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    assert "CHANGE-ME" not in text
    assert re.search(r'^  repo_url_binder: "(|https://mybinder\.org/v2/\S+)"$', text, re.M)


def test_configured_binder_url_opens_the_tour() -> None:
    hooks = _load("clobkit_docs")
    url = "https://mybinder.org/v2/gh/someone/clobkit/HEAD/"
    md = hooks.on_page_markdown(
        "{{ binder_badge }} {{ binder_url }}", _Page("a.md"), _config(url), None
    )
    tour = "https://mybinder.org/v2/gh/someone/clobkit/HEAD?labpath=notebooks%2F00_tour.ipynb"
    assert md.count(tour) == 2
    assert "assets/binder-badge.svg" in md
    assert (DOCS / "assets" / "binder-badge.svg").is_file()


NOTEBOOK_HTML = """<html><head>
<script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js"> </script>
<script src="../../assets/local.js"></script>
<script>
(function() {
  function addWidgetsRenderer() {
    var widgetRendererSrc = 'https://unpkg.com/@jupyter-widgets/html-manager@*/dist/embed-amd.js';
  }
}());
</script></head><body>
<div><script src='//cdn.example.org/x.js' async></script></div>
<script type="application/vnd.jupyter.widget-view+json">{"model_id": "abc"}</script>
</body></html>"""


def test_notebook_pages_lose_their_cdn_scripts_and_explain_widgets() -> None:
    hooks = _load("clobkit_docs")
    out = hooks.on_post_page(NOTEBOOK_HTML, _Page("notebooks/tour.ipynb"), {})
    assert "cdnjs" not in out and "unpkg" not in out and "cdn.example.org" not in out
    assert '<script src="../../assets/local.js"></script>' in out  # local scripts stay
    assert out.count("clobkit-widget-note") == 1
    assert '{"model_id": "abc"}' in out


def test_only_notebooks_named_in_nav_are_published() -> None:
    hooks = _load("clobkit_docs")
    files = [
        _File(uri)
        for uri in (
            "index.md",
            "notebooks/01_order_book.ipynb",
            "notebooks/06_linearizability.ipynb",  # work in progress: not in nav
            "notebooks/README.md",
            "notebooks/_build/build_01_04.py",
            "notebooks/.ipynb_checkpoints/01_order_book-checkpoint.ipynb",
        )
    ]
    nav = [{"Home": "index.md"}, {"Course": ["course.md", "notebooks/01_order_book.ipynb"]}]
    kept = hooks.on_files(files, {"nav": nav})
    assert [f.src_uri for f in kept] == ["index.md", "notebooks/01_order_book.ipynb"]


def test_notebook_links_point_at_site_pages() -> None:
    hooks = _load("clobkit_docs")
    nav = [{"Course": ["notebooks/01_order_book.ipynb", "notebooks/02_sequencing_and_wal.ipynb"]}]
    files = [_File(p) for p in _nav_paths_for_test(nav)]
    hooks.on_files(files, {"nav": nav})
    html = (
        '<a href="README.md">Course index</a> <a href="00_tour.ipynb">tour</a> '
        '<a href="02_sequencing_and_wal.ipynb#the-wal">next</a> '
        '<a href="01_order_book.ipynb">download</a> <a href="https://example.org/x.md">x</a>'
    )
    out = hooks.on_post_page(html, _Page("notebooks/01_order_book.ipynb"), {})
    assert out == (
        '<a href="../../course/">Course index</a> <a href="../../course/">tour</a> '
        '<a href="../02_sequencing_and_wal/#the-wal">next</a> '
        '<a href="01_order_book.ipynb">download</a> <a href="https://example.org/x.md">x</a>'
    )


def _nav_paths_for_test(nav: list[dict[str, list[str]]]) -> list[str]:
    return [p for item in nav for paths in item.values() for p in paths]


def test_markdown_pages_are_left_alone() -> None:
    hooks = _load("clobkit_docs")
    assert hooks.on_post_page(NOTEBOOK_HTML, _Page("concepts/reads.md"), {}) == NOTEBOOK_HTML


def test_docstring_rewrite_fences_doctests_tables_and_roles() -> None:
    rewrite = _load("griffe_docstrings").rewrite
    text = (
        "Summary with :class:`~clobkit.errors.InvalidArgument` and :func:`f <a.b.f>`::\n"
        "\n"
        "    literal block\n"
        "\n"
        "===  =====\n"
        "col  what\n"
        "===  =====\n"
        "a    first\n"
        "===  =====\n"
        "\n"
        ">>> [(o, 1) for o in 'ab']\n"
        "[('a', 1), ('b', 1)]\n"
        "\n"
        "```python\n"
        ">>> untouched  # :class:`X`\n"
        "```"
    )
    lines = rewrite(text).split("\n")
    assert lines[0] == "Summary with `InvalidArgument` and `f`:"
    assert lines[4:10] == [
        "```text",
        "===  =====",
        "col  what",
        "===  =====",
        "a    first",
        "===  =====",
    ]
    assert lines[10] == "```"
    assert lines[12:16] == ["```pycon", ">>> [(o, 1) for o in 'ab']", "[('a', 1), ('b', 1)]", "```"]
    assert lines[-3:] == ["```python", ">>> untouched  # :class:`X`", "```"]


def test_docstring_rewrite_keeps_an_indented_doctest_indented() -> None:
    rewrite = _load("griffe_docstrings").rewrite
    out = rewrite("- item:\n\n    >>> 1 + 1\n    2\n")
    assert out.split("\n")[2:6] == ["    ```pycon", "    >>> 1 + 1", "    2", "    ```"]


def _python_blocks() -> list[tuple[str, int, str]]:
    blocks = []
    for path in sorted(DOCS.rglob("*.md")):
        for k, match in enumerate(FENCE.finditer(path.read_text(encoding="utf-8"))):
            blocks.append((str(path.relative_to(DOCS)), k, match.group(1)))
    return blocks


def test_docs_have_python_examples() -> None:
    assert len(_python_blocks()) >= 20


@pytest.mark.parametrize(
    ("page", "k", "code"), _python_blocks(), ids=[f"{p}[{k}]" for p, k, _ in _python_blocks()]
)
def test_every_python_block_compiles(page: str, k: int, code: str) -> None:
    compile(code, f"{page}[{k}]", "exec")


@pytest.mark.parametrize(
    "page",
    [
        "howto/check-history.md",
        "howto/write-a-model.md",
        "howto/analyse-fills.md",
        "concepts/reads.md",
        "concepts/source-design.md",
        "concepts/unsafe-switches.md",
        "getting-started.md",
    ],
)
def test_howto_runs_end_to_end(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """These pages' blocks are quick (no campaign over many seeds), so they must run as written."""
    monkeypatch.chdir(tmp_path)  # analyse-fills writes a Parquet file
    namespace: dict[str, Any] = {}
    blocks = [code for p, _, code in _python_blocks() if p == page]
    assert blocks
    for code in blocks:
        exec(compile(code, page, "exec"), namespace)


def test_docstring_rewrite_turns_rest_definitions_into_a_markdown_list() -> None:
    rewrite = _load("griffe_docstrings").rewrite
    text = (
        "Parameters:\n\n``nodes``\n    how many.\n``seed``\n    feeds every\n    choice.\n\nAfter."
    )
    assert rewrite(text).split("\n") == [
        "Parameters:",
        "",
        "``nodes``",
        ":   how many.",
        "",
        "``seed``",
        ":   feeds every",
        "    choice.",
        "",
        "After.",
    ]


def test_docstring_rewrite_leaves_indented_code_blocks_alone() -> None:
    rewrite = _load("griffe_docstrings").rewrite
    text = "Layout:\n\n    header  magic | version\n            | base_op\n"
    assert rewrite(text) == text


def test_hook_module_doctests_pass() -> None:
    import doctest

    result = doctest.testmod(_load("griffe_docstrings"))
    assert result.attempted >= 2 and result.failed == 0


class _NotebookPage:
    def __init__(self, src_uri: str, abs_src_path: str, url: str) -> None:
        self.file = _File(src_uri)
        self.file.abs_src_path = abs_src_path  # type: ignore[attr-defined]
        self.url = url


def test_notebook_page_loads_the_site_plotly_instead_of_its_own_copy() -> None:
    hooks = _load("clobkit_docs")
    page = _NotebookPage("notebooks/a.ipynb", "", "notebooks/a/")
    html = (
        '<html><head></head><body><script type="text/javascript">/**\n* plotly.js v3.1.0\n'
        "*/ var Plotly = {newPlot: 1};</script><div><script>Plotly.newPlot('x', [])</script>"
        "</div></body></html>"
    )
    out = hooks.on_post_page(html, page, _config(""))
    assert "plotly.js v3" not in out
    assert '<head><script src="../../assets/javascripts/plotly.min.js"></script>' in out
    assert out.count("Plotly.newPlot") == 1
    assert "md-sidebar--secondary{display:none}" in out


def test_a_notebook_page_that_lost_its_figures_warns(tmp_path: Path, caplog: Any) -> None:
    hooks = _load("clobkit_docs")
    source = tmp_path / "a.ipynb"
    source.write_text('{"cells": [{"source": ["import clobkit.viz as cz"]}]}', encoding="utf-8")
    page = _NotebookPage("notebooks/a.ipynb", str(source), "notebooks/a/")
    with caplog.at_level("WARNING", logger="mkdocs.hooks.clobkit_docs"):
        hooks.on_post_page("<html><head></head><body>no figure</body></html>", page, _config(""))
    assert "draws figures but its page shows none" in caplog.text  # a strict build fails on it
