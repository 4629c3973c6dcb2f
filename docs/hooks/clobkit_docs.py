"""MkDocs hooks for the clobkit site: the Binder button, and offline notebook pages.

Two small jobs, both on purpose in one place so the site's build behaviour is easy to audit:

* ``{{ binder_url }}`` and ``{{ binder_badge }}`` in a page's Markdown become the Binder launch
  link built from ``extra.repo_url_binder`` in ``mkdocs.yml``, the one place it is configured.
  While that setting is empty (the public repository URL is not known yet), there is no button:
  the page says in one sentence that Binder is not set up for this copy.
* ``docs/notebooks`` is a symlink to the course in ``notebooks/``. Only the notebooks that
  ``nav`` names are published (and so executed at build time); everything else under
  ``notebooks/`` (work in progress, build scripts, checkpoints) is left out of the site, so
  adding a notebook to ``nav`` is the one step that publishes it.
* Links between notebooks (``02_sequencing_and_wal.ipynb``, ``README.md``) are written for
  JupyterLab. On the site they are rewritten to the notebook's page, or to the Course page
  when the target is the course index or not published.
* Notebook pages (rendered by mkdocs-jupyter through nbconvert) load MathJax, and, when a cell
  displayed an ipywidget, require.js and the widget manager, from public CDNs. The site must
  work without the internet, so those ``<script src="https://...">`` tags are removed. What the
  reader loses is only what could not have worked offline anyway: widgets in a static page
  (see the recipe's static-HTML findings; live widgets belong in JupyterLab or Binder).
* Figures. plotly >= 6 shows a figure in a kernel with its own mimetype only, which nbconvert
  drops, so :func:`on_config` sets ``PLOTLY_RENDERER=notebook`` for the notebook kernels (unless
  the environment already sets one): the documented ``mkdocs build --strict`` gives figures.
  That renderer embeds plotly.js (5 MB) in every notebook page; :func:`on_post_page` removes
  the embedded copy and loads ``assets/javascripts/plotly.min.js`` instead, one file for the
  whole site that :func:`on_post_build` writes and the browser caches. A notebook page whose
  notebook draws figures but that shows none fails the (strict) build with a warning.
* Notebook pages use the page's full width (code and wide tables are not cut off): the table
  of contents sidebar is hidden there and the content grid may grow.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

log = logging.getLogger("mkdocs.hooks.clobkit_docs")

TOUR = "?labpath=notebooks%2F00_tour.ipynb"

# A <script> element whose src is absolute (http:, https: or protocol-relative //).
_REMOTE_SCRIPT = re.compile(
    r"<script\b[^>]*\bsrc\s*=\s*[\"'](?:https?:)?//[^\"']*[\"'][^>]*>\s*</script>",
    re.IGNORECASE,
)
# nbconvert's inline loader that appends the widget manager from unpkg when the page loads.
_WIDGET_LOADER = re.compile(
    r"<script>\s*\(function\(\)\s*\{\s*function addWidgetsRenderer\(\).*?</script>",
    re.DOTALL,
)
# Where a cell displayed a widget: nbconvert leaves this inert element in the output area.
_WIDGET_VIEW = re.compile(
    r"(<script type=\"application/vnd\.jupyter\.widget-view\+json\">.*?</script>)", re.DOTALL
)
WIDGET_NOTE = (
    '<p class="clobkit-widget-note"><em>Interactive widget: it runs only in a live kernel. '
    "Open this notebook in JupyterLab (<code>make lab</code>) or on Binder to use it.</em></p>"
)


PLOTLY_ASSET = "assets/javascripts/plotly.min.js"
# The copy of plotly.js the "notebook" renderer embeds once per page (a <script> whose body
# starts with plotly.js' licence banner).
_EMBEDDED_PLOTLY = re.compile(
    r"<script[^>]*>\s*/\*\*\s*\n\s*\*\s*plotly\.js v.*?</script>", re.DOTALL
)
# What in a notebook's source means it draws plotly figures.
_DRAWS = re.compile(r"\bclobkit\.viz\b|\bplotly\b|\.figure\(|\bcz\.")
# The saved widget state: for plotly's FigureWidget it holds the 5 MB widget bundle, useless on
# a static page (the widgets cannot run there; see WIDGET_NOTE).
_WIDGET_STATE = re.compile(
    r"<script type=\"application/vnd\.jupyter\.widget-state\+json\">.*?</script>", re.DOTALL
)
WIDE_NOTEBOOK_CSS = (
    "<style>/* clobkit: notebook pages use the full width */"
    ".md-grid{max-width:none}.md-sidebar--secondary{display:none}"
    ".md-content{max-width:none}.jp-Notebook{max-width:none}</style>"
)


def on_config(config: Any) -> Any:
    """Notebook kernels render plotly figures as HTML (see the module docstring)."""
    os.environ.setdefault("PLOTLY_RENDERER", "notebook")
    return config


def on_post_build(config: Any) -> None:
    """Write the site's one copy of plotly.js."""
    from plotly.offline import get_plotlyjs

    target = Path(config["site_dir"]) / PLOTLY_ASSET
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(get_plotlyjs(), encoding="utf-8")


def _plotly_once(output: str, page: Any) -> str:
    """Swap the page's embedded plotly.js for the shared site asset."""
    from mkdocs.utils import get_relative_url

    output = _EMBEDDED_PLOTLY.sub("<!-- plotly.js: loaded once for the site, in <head> -->", output)
    draws = output.count("Plotly.newPlot")
    if draws:
        src = get_relative_url(PLOTLY_ASSET, getattr(page, "url", "") or "")
        tag = f'<script src="{src}"></script>'
        output = output.replace("</head>", tag + "</head>", 1)
    else:
        path = Path(getattr(page.file, "abs_src_path", None) or "")
        source = path.read_text(encoding="utf-8") if path.is_file() else ""
        if _DRAWS.search(source):
            log.warning(
                "%s: the notebook draws figures but its page shows none "
                "(was PLOTLY_RENDERER set to a renderer nbconvert drops?)",
                page.file.src_uri,
            )
    return output.replace("</head>", WIDE_NOTEBOOK_CSS + "</head>", 1)


# A relative link to a sibling notebook or to the course index, as nbconvert renders it.
_NOTEBOOK_LINK = re.compile(r'href="(?:\./)?([A-Za-z0-9_.-]+)\.(ipynb|md)(#[^"]*)?"')

# Top-level notebooks named in nav, by file stem: set by on_files, read by on_post_page.
_published: set[str] = set()


def _nav_paths(nav: Any) -> list[str]:
    """Every page path named in a (raw) ``nav`` config value."""
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [p for item in nav for p in _nav_paths(item)]
    if isinstance(nav, dict):
        return [p for value in nav.values() for p in _nav_paths(value)]
    return []


def on_files(files: Any, config: Any) -> Any:
    """Keep only the notebooks that nav names; drop everything else under notebooks/."""
    wanted = {p for p in _nav_paths(config["nav"]) if p.startswith("notebooks/")}
    _published.clear()
    for file in list(files):
        uri = file.src_uri
        if not uri.startswith("notebooks/"):
            continue
        if uri in wanted and uri.endswith(".ipynb") and uri.count("/") == 1:
            _published.add(uri[len("notebooks/") : -len(".ipynb")])
        else:
            files.remove(file)
    return files


def _notebook_href(match: re.Match[str], own: str) -> str:
    stem, ext, anchor = match.group(1), match.group(2), match.group(3) or ""
    if ext == "ipynb" and stem == own:
        return match.group(0)  # the page's own .ipynb, copied next to it for download
    if ext == "ipynb" and stem in _published:
        return f'href="../{stem}/{anchor}"'
    return 'href="../../course/"'


def binder_url(config: Any) -> str | None:
    """The Binder link that opens the tour, or ``None`` while none is configured."""
    base = str(config["extra"].get("repo_url_binder") or "").strip()
    if not base:
        return None
    return base.rstrip("/") + TOUR


def binder_badge(config: Any) -> str:
    """Markdown for the Binder button (a local SVG, so the page needs no network to show it)."""
    url = binder_url(config)
    if url is None:
        return (
            "*This copy of the site has no public Binder link (`extra.repo_url_binder` in "
            "`mkdocs.yml` is empty); use `make lab` instead.*\n"
        )
    return f"[![launch binder](assets/binder-badge.svg)]({url})\n"


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Substitute the Binder placeholders in every Markdown page."""
    if "{{ binder_badge }}" in markdown:
        markdown = markdown.replace("{{ binder_badge }}", binder_badge(config))
    if "{{ binder_url }}" in markdown:
        url = binder_url(config) or "https://mybinder.org/v2/gh/<owner>/<repo>/HEAD" + TOUR
        markdown = markdown.replace("{{ binder_url }}", url)
    return markdown


def on_post_page(output: str, page: Any, config: Any) -> str:
    """Make a notebook page work offline, and point its notebook links at site pages."""
    if not page.file.src_uri.endswith(".ipynb"):
        return output
    removed = len(_REMOTE_SCRIPT.findall(output)) + len(_WIDGET_LOADER.findall(output))
    if removed:
        log.info("%s: removed %d CDN script(s)", page.file.src_uri, removed)
    output = _REMOTE_SCRIPT.sub("<!-- CDN script removed: the site works offline -->", output)
    output = _WIDGET_LOADER.sub("<!-- widget manager loader removed: it needs a CDN -->", output)
    output = _WIDGET_STATE.sub("<!-- widget state removed: widgets need a live kernel -->", output)
    output = _plotly_once(output, page)
    own = page.file.src_uri.rsplit("/", 1)[-1][: -len(".ipynb")]
    output = _NOTEBOOK_LINK.sub(lambda m: _notebook_href(m, own), output)
    return _WIDGET_VIEW.sub(lambda m: m.group(1) + WIDGET_NOTE, output)
