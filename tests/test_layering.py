"""The package is layered, and this test keeps it so: every ``import`` in every module of
``clobkit`` (module level, inside functions and under ``TYPE_CHECKING`` alike, parsed with
``ast``) must go to the same or a lower layer, and no module may import a private (``_``)
name from another package.

The layers, lowest first (a module may import from its own layer and the ones before it)::

    0  errors, _version, the ``clobkit`` facade  (the facade's body imports only these two;
                                                 everything else it offers loads lazily),
       slotinit (a cheaper __init__ for the dataclasses built once per command)
    1  book        orders, matching, and the book's own tables and words for people
    2  storage     bytes on disk
    3  replication the protocol
    4  sim         time, faults, the simulated host
    5  check       judges histories and runs campaigns of simulations
    6  proc        the second host: real processes over TCP; it reuses the simulator's
                   client plumbing and judges its runs with ``check``, and nothing below
                   the user-facing layers imports it
    7  views       DataFrames
    8  viz         plotly figures (from views)
    9  widgets     dashboards (from viz)
    10 labs, report  course labs and the HTML report: they draw on everything below
    11 cli, __main__ the command line

A sanctioned exception is listed in :data:`EXCEPTIONS` with its reason; the test also fails
when an exception is no longer used, so the list cannot rot. The method: a test below plants
an upward import in a copy of a module and checks that the scanner reports it.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "clobkit"

LAYERS: dict[str, int] = {
    "errors": 0,
    "_version": 0,
    "slotinit": 0,
    "": 0,  # the facade ``clobkit`` itself
    "book": 1,
    "storage": 2,
    "replication": 3,
    "sim": 4,
    "check": 5,
    "proc": 6,
    "views": 7,
    "viz": 8,
    "widgets": 9,
    "labs": 10,
    "report": 10,
    "cli": 11,
    "__main__": 11,
}

#: (importing module, imported module) -> why this upward import is allowed.
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("clobkit.sim.history", "clobkit.check.history"): (
        "ClientHistory.to_check_history(), the public one-call handover of a cluster's history "
        "to the checker (notebooks 00-06 use it); lazy, so the simulator runs without check"
    ),
    ("clobkit.sim.history", "clobkit.check.checker"): (
        "ClientHistory.check(), the public shortcut c.history.check(); lazy"
    ),
    ("clobkit.sim.history", "clobkit.check.book_model"): (
        "ClientHistory.check() builds the default model of the history's market; lazy"
    ),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> int:
    """The layer of a ``clobkit`` module (by its top-level package under ``clobkit``)."""
    parts = module.split(".")
    assert parts[0] == "clobkit", module
    top = parts[1] if len(parts) > 1 else ""
    assert top in LAYERS, f"{module}: put package {top!r} in a layer (LAYERS in this test)"
    return LAYERS[top]


def imports_of(source: str, module: str, is_package: bool) -> list[tuple[str, list[str], int]]:
    """``(imported module, names, line)`` for every clobkit import in ``source``."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[str, list[str], int]] = []
    tree = ast.parse(source)
    if module == "clobkit":
        # The facade names its lazy exports under ``if TYPE_CHECKING:`` for type checkers
        # only; its running body is what must stay at layer 0.
        tree.body = [
            n
            for n in tree.body
            if not (isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING")
        ]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                if node.level > 1:
                    base = base[: -(node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "clobkit" or target.startswith("clobkit."):
                found.append((target, [a.name for a in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "clobkit" or alias.name.startswith("clobkit."):
                    found.append((alias.name, [], node.lineno))
    return found


def problems(module: str, source: str, is_package: bool, used: set[tuple[str, str]]) -> list[str]:
    """Every layering problem of one module, as readable lines."""
    out: list[str] = []
    here = layer_of(module)
    own = module.split(".")[1] if "." in module else ""
    for target, names, line in imports_of(source, module, is_package):
        there = layer_of(target)
        if there > here:
            if (module, target) in EXCEPTIONS:
                used.add((module, target))
            else:
                out.append(
                    f"{module}:{line} imports {target} (layer {there}) from layer {here}: "
                    "move the shared code down, or the caller up"
                )
        other = target.split(".")[1] if "." in target else ""
        if other != own and other not in ("_version",):
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if any(part.startswith("_") and part != "__main__" for part in target.split(".")):
                private.append(f"module {target}")
            if private:
                out.append(f"{module}:{line} imports private {private} from {target}")
    return out


def scan() -> tuple[list[str], set[tuple[str, str]]]:
    used: set[tuple[str, str]] = set()
    found: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        found += problems(module_name(path), path.read_text(), path.name == "__init__.py", used)
    return found, used


def test_no_module_imports_a_higher_layer_or_a_private_name_of_another_package() -> None:
    found, _ = scan()
    assert found == [], "\n".join(found)


def test_every_sanctioned_exception_is_still_needed() -> None:
    _, used = scan()
    assert set(EXCEPTIONS) == used, f"remove from EXCEPTIONS: {sorted(set(EXCEPTIONS) - used)}"


def test_every_package_has_a_layer() -> None:
    tops = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    tops |= {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert tops <= set(LAYERS), sorted(tops - set(LAYERS))


def test_a_planted_upward_import_is_reported() -> None:
    """The scanner is not blind: an upward import at module level, inside a function, a
    relative one and a private cross-package name are each reported."""
    cases = {
        "from clobkit.sim.cluster import Cluster\n": "imports clobkit.sim.cluster (layer 4)",
        "def f():\n    from clobkit.views import nodes\n": "imports clobkit.views (layer 7)",
        "from ..check import checker\n": "imports clobkit.check (layer 5)",
        "from clobkit.errors import _hidden\n": "imports private ['_hidden']",
    }
    for source, expected in cases.items():
        found = problems("clobkit.replication.replica", source, False, set())
        assert len(found) == 1 and expected in found[0], (source, found)
    assert problems("clobkit.viz.lag", "from clobkit.views.lag import lag\n", False, set()) == []
