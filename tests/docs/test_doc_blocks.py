"""Every command and code block in README.md and docs/ runs as printed.

Method: extract the fenced ``python`` and ``bash`` blocks of README.md and every docs/**/*.md
page. A page's python blocks run in order in one namespace, statement by statement like a
doctest session; a statement whose line says ``# raises Name`` must raise an exception of that
class (or a subclass), and nothing else may raise. A bash block runs as one ``bash -e`` script
in a fresh temporary directory, with ``.venv/`` meaning the environment the suite runs in (the
one ``make test`` builds) and a time limit, and must exit 0.

A block that must not run here (it starts a server, installs with pip, or runs for minutes)
carries ``<!-- docs-test: skip (reason) -->`` on the line above it, visible to whoever edits
the page. The set of skipped blocks is pinned below, so skipping one more is a visible change.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
FENCE = re.compile(
    r"^(?P<marker><!-- docs-test: skip \((?P<reason>[^)]*)\) -->\n)?"
    r"```(?P<lang>python|bash)\n(?P<code>.*?)^```\s*$",
    re.DOTALL | re.MULTILINE,
)
RAISES = re.compile(r"#\s*raises\s+(\w+)")
VENV = Path(sys.prefix)  # what ".venv/" stands for in a printed command

# (page, first line) of every block marked "docs-test: skip". Keep this short.
SKIPPED = {
    (
        "README.md",
        "make lab     # set up .venv and open the course in JupyterLab (127.0.0.1, "
        "prints the URL with its token)",
    ),
    ("README.md", "make demo    # same environment, then: python -m clobkit demo"),
    ("docs/getting-started.md", "make lab     # set up .venv and open the course in JupyterLab"),
    (
        "docs/getting-started.md",
        "make demo    # the same environment as make lab, then: python -m clobkit demo",
    ),
    ("docs/getting-started.md", '.venv/bin/pip install -e ".[docs]"'),
    ("docs/howto/campaigns.md", 'for read_mode in ("quorum", "primary"):'),
    (
        "docs/howto/campaigns.md",
        'df = ck.campaign(seeds=range(200), nodes=3, unsafe={"own_wal_failover"})',
    ),
    ("docs/howto/campaigns.md", "from concurrent.futures import ProcessPoolExecutor"),
    ("docs/howto/campaigns.md", "from dask.distributed import Client"),
}


@dataclass(frozen=True)
class Block:
    page: str
    lang: str
    code: str
    skip: str | None

    @property
    def first_line(self) -> str:
        return self.code.splitlines()[0] if self.code.strip() else ""


def _blocks() -> list[Block]:
    found = []
    for path in PAGES:
        for m in FENCE.finditer(path.read_text(encoding="utf-8")):
            found.append(Block(str(path.relative_to(REPO)), m["lang"], m["code"], m["reason"]))
    return found


BLOCKS = _blocks()


def test_the_skipped_blocks_are_few_and_named() -> None:
    skipped = {(b.page, b.first_line) for b in BLOCKS if b.skip is not None}
    assert skipped == SKIPPED
    assert len(skipped) <= 10
    assert all(b.skip and len(b.skip) > 10 for b in BLOCKS if b.skip is not None)
    assert sum(b.skip is None for b in BLOCKS) >= 25  # most blocks do run


def _exception_names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def _run_python_page(page: str, codes: list[str]) -> None:
    namespace: dict[str, Any] = {"__name__": "__main__"}
    for k, code in enumerate(codes):
        lines = code.splitlines()
        for stmt in ast.parse(code).body:
            source = "\n".join(lines[stmt.lineno - 1 : stmt.end_lineno])
            expected = RAISES.search(lines[(stmt.end_lineno or stmt.lineno) - 1])
            compiled = compile(ast.Module([stmt], []), f"{page}[{k}]", "exec")
            if expected is None:
                exec(compiled, namespace)
                continue
            with pytest.raises(Exception) as caught:
                exec(compiled, namespace)
            assert expected[1] in _exception_names(caught.value), (source, caught.value)


PYTHON_PAGES = sorted({b.page for b in BLOCKS if b.lang == "python" and b.skip is None})


@pytest.mark.parametrize("page", PYTHON_PAGES)
def test_python_blocks_run_as_printed(
    page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # some pages write files (Parquet, HTML)
    codes = [b.code for b in BLOCKS if b.page == page and b.lang == "python" and b.skip is None]
    _run_python_page(page, codes)


SHELL = [b for b in BLOCKS if b.lang == "bash" and b.skip is None]


@pytest.mark.parametrize("block", SHELL, ids=[f"{b.page}:{b.first_line[:30]}" for b in SHELL])
def test_shell_blocks_run_as_printed(block: Block, tmp_path: Path) -> None:
    script = block.code.replace(".venv/", f"{VENV}/")
    env = dict(os.environ, PYTHONPATH=os.environ.get("PYTHONPATH", str(REPO)))
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, (
        f"{block.page}:\n{script}\n{done.stdout[-2000:]}{done.stderr[-3000:]}"
    )


def test_a_statement_marked_raises_must_raise() -> None:
    with pytest.raises(pytest.fail.Exception):
        _run_python_page("x.md", ["x = 1  # raises ValueError\n"])
    with pytest.raises(AssertionError):
        _run_python_page("x.md", ["int('a')  # raises KeyError\n"])
    _run_python_page("x.md", ["int('a')  # raises ValueError\n"])
