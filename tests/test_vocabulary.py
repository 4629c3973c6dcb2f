"""One vocabulary: outside the protocol, code names trace-event kinds by the constants of
``clobkit.replication.events``, unsafe switches by those of ``clobkit.replication.config``,
and node names through ``replica_name()``/``client_name()``/``is_client_name()`` of
``clobkit.replication.step``, so that a typo fails at import instead of matching nothing.

Method: parse every module of ``sim``, ``check``, ``proc``, ``views`` and ``viz`` with ``ast``
and report a string literal where a word of the vocabulary is meant: compared with a
``kind`` (``rec.kind == "commit"``, ``kind in ("apply", ...)``), passed to ``select()``,
tested against or given as an ``unsafe`` set, the kind of a ``TraceRecord``, a literal set
of kinds, or spelling a node name (``f"client:{x}"``, ``f"n{i}"``,
``.startswith("client:")``). The same word in another meaning (a role ``"primary"``, a dict
key ``"commit"``) is not a finding. A planted literal of each shape shows the scan sees it.
"""

from __future__ import annotations

import ast
from pathlib import Path

from clobkit.replication import config, events
from clobkit.replication.step import CLIENT_PREFIX

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("sim", "check", "proc", "views", "viz")

EVENT_KINDS = {
    getattr(events, name) for name in events.__all__ if isinstance(getattr(events, name), str)
}
SWITCHES = set(config.UNSAFE_SWITCHES)


def _strings(node: ast.AST) -> list[ast.Constant]:
    """The string constants of ``node``: itself, or the items of a tuple/list/set."""
    items = node.elts if isinstance(node, ast.Tuple | ast.List | ast.Set) else [node]
    return [n for n in items if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _is_named(node: ast.AST, names: set[str]) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr in names
    if isinstance(node, ast.Name):
        return node.id in names
    if isinstance(node, ast.Call):  # r.get("kind"), getattr(r, "kind")
        return any(
            isinstance(a, ast.Constant) and a.value in names for a in node.args[-1:]
        ) and isinstance(node.func, ast.Attribute | ast.Name)
    if isinstance(node, ast.Subscript):  # row["kind"]
        return isinstance(node.slice, ast.Constant) and node.slice.value in names
    return False


def _is_kind_set(node: ast.AST) -> bool:
    """A literal set, tuple or list of two or more event kinds."""
    if not isinstance(node, ast.Set | ast.Tuple | ast.List):
        return False
    values = [c.value for c in _strings(node)]
    return len(values) == len(node.elts) >= 2 and all(v in EVENT_KINDS for v in values)


def findings(source: str, where: str = "<source>") -> list[str]:
    """Every literal of the vocabulary in ``source`` used where a constant belongs."""
    out: list[str] = []

    def report(node: ast.AST, what: str) -> None:
        out.append(f"{where}:{getattr(node, 'lineno', 0)}: {what}")

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_is_named(s, {"kind", "event_kind"}) for s in sides):
                for side in sides:
                    for c in _strings(side):
                        if c.value in EVENT_KINDS:
                            report(c, f"event kind {c.value!r}: use clobkit.replication.events")
            if any(_is_named(s, {"unsafe"}) for s in sides):
                for side in sides:
                    for c in _strings(side):
                        if c.value in SWITCHES:
                            report(c, f"switch {c.value!r}: use clobkit.replication.config")
        elif isinstance(node, ast.Set | ast.Tuple | ast.List) and _is_kind_set(node):
            report(node, "a set of event kinds: use clobkit.replication.events")
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "TraceRecord" and len(node.args) > 1:
                for c in _strings(node.args[1]):
                    if c.value in EVENT_KINDS:
                        report(c, f"event kind {c.value!r} in a TraceRecord")
            for kw in node.keywords:
                if kw.arg == "unsafe":
                    for c in _strings(kw.value):
                        if c.value in SWITCHES:
                            report(c, f"switch {c.value!r}: use clobkit.replication.config")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "select":
                for arg in node.args:
                    for c in _strings(arg):
                        if c.value in EVENT_KINDS:
                            report(c, f"event kind {c.value!r} in select()")
            if node.func.attr in ("startswith", "removeprefix"):
                for arg in node.args:
                    for c in _strings(arg):
                        if c.value == CLIENT_PREFIX:
                            report(c, "client prefix: use is_client_name()/CLIENT_PREFIX")
        elif isinstance(node, ast.JoinedStr) and node.values:
            first = node.values[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                whole = len(node.values) == 2 and isinstance(node.values[1], ast.FormattedValue)
                if whole and first.value in (CLIENT_PREFIX, "n"):
                    report(node, f"node name f{first.value!r}...: use client_name()/replica_name()")
    return out


def test_no_vocabulary_literals_outside_the_protocol() -> None:
    found: list[str] = []
    for package in PACKAGES:
        for path in sorted((ROOT / "clobkit" / package).rglob("*.py")):
            found += findings(path.read_text(), str(path.relative_to(ROOT)))
    assert found == [], "\n".join(found)


def test_the_scan_sees_each_planted_shape() -> None:
    planted = {
        'if rec.kind == "commit": pass': "event kind 'commit'",
        'x = r["kind"] in ("apply", "crash")': "event kind 'apply'",
        'c.trace.select("view_change_start")': "in select()",
        'on = "no_dedup" in cluster.config.unsafe': "switch 'no_dedup'",
        'host = world.hosts[f"client:{user}"]': "node name",
        'names = [f"n{i}" for i in range(3)]': "node name",
        'if name.startswith("client:"): pass': "client prefix",
        'HOT = frozenset({"commit", "apply"})': "a set of event kinds",
        'r = TraceRecord(now, "drop", a, b)': "in a TraceRecord",
        'c = Cluster(3, unsafe={"no_fencing"})': "switch 'no_fencing'",
    }
    for source, expected in planted.items():
        found = findings(source)
        assert len(found) == 1 and expected in found[0], (source, found)
    innocent = [
        'role = "primary" if flag else "backup"',
        'row = {"commit": 3, "op": 4}',
        'if rec.kind == "crash": pass',  # a simulator fault, not a replica event
        'label = f"n{i} of {n}"',
        'fields = {"commit", "op", "view"}',
    ]
    assert [findings(s) for s in innocent] == [[]] * len(innocent)
