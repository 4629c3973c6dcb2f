"""Every unsafe-switch name written anywhere in clobkit/ and tests/ is a real switch.

The protocol code names the switches by constants (a typo is a NameError at import);
code elsewhere still writes them as strings (``"no_fencing" in config.unsafe``,
``unsafe={"no_dedup"}``, ``is_unsafe("...")``). A misspelt string would silently leave a
safety mechanism on (or a scenario testing nothing), so this test finds each such
literal and requires it to be in ``UNSAFE_SWITCHES``.
"""

from __future__ import annotations

import re
from pathlib import Path

import clobkit
from clobkit.replication import config
from clobkit.replication.config import UNSAFE_SWITCHES

ROOT = Path(clobkit.__file__).resolve().parent.parent
PATTERNS = [
    re.compile(r"""["'](\w+)["']\s+(?:not\s+)?in\s+[\w.]*unsafe\b"""),
    re.compile(r"""is_unsafe\(\s*["'](\w+)["']"""),
    re.compile(r"""\bunsafe\s*=\s*[({\[]\s*((?:["']\w+["']\s*,?\s*)+)[)}\]]"""),
]

# names written on purpose to test that an unknown switch is rejected
DELIBERATELY_UNKNOWN = {"no_brakes"}


def _switch_literals() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for folder in ("clobkit", "tests"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.resolve() == Path(__file__).resolve():
                continue  # this file writes typos on purpose
            text = path.read_text()
            for pattern in PATTERNS:
                for match in pattern.finditer(text):
                    for name in re.findall(r"\w+", match.group(1)):
                        found.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return found


def test_every_switch_literal_names_a_switch() -> None:
    found = _switch_literals()
    assert len(found) >= 4, found  # the search finds the literals it is meant to
    unknown = {
        name: paths
        for name, paths in found.items()
        if name not in UNSAFE_SWITCHES | DELIBERATELY_UNKNOWN
    }
    assert not unknown, f"unknown unsafe switch name(s): {unknown}"


def test_the_search_would_catch_a_typo() -> None:
    text = 'if "no_fenicng" in self.config.unsafe: pass\ncfg(unsafe={"no_dedupe"})'
    names = {n for p in PATTERNS for m in p.finditer(text) for n in re.findall(r"\w+", m.group(1))}
    assert names == {"no_fenicng", "no_dedupe"}


def test_each_switch_is_one_named_constant() -> None:
    constants = {
        value: name
        for name, value in vars(config).items()
        if name.isupper() and isinstance(value, str) and value in UNSAFE_SWITCHES
    }
    assert set(constants) == UNSAFE_SWITCHES
    assert all(name == value.upper() for value, name in constants.items())


def test_node_names_are_built_only_by_client_name_and_replica_name() -> None:
    """In the replication package, only ``step.py`` spells out a node name's format."""
    builders = re.compile(r"""f["'](?:client:|n)\{""")
    offenders = [
        f"{path.name}:{number}"
        for path in sorted((ROOT / "clobkit" / "replication").glob("*.py"))
        if path.name != "step.py"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if builders.search(line) and "``" not in line  # (docstrings may show the format)
    ]
    assert not offenders, offenders
    assert builders.search('name = f"client:{cid}"') and builders.search('f"n{i}"')


def test_the_replica_reports_trace_events_only_through_named_kinds() -> None:
    """Every ``_event(...)`` call in replica.py passes a constant from ``events``, and the
    kinds the golden transcripts record are all known kinds."""
    import ast

    from clobkit.replication import events
    from tests.replication.harness import TRANSCRIPT_EVENTS

    tree = ast.parse((ROOT / "clobkit" / "replication" / "replica.py").read_text())
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "_event"
        and node.args
    ]
    assert len(calls) >= 20
    names = [c.args[0] for c in calls]
    assert all(isinstance(n, ast.Name) for n in names), [ast.dump(n) for n in names]
    kinds = {getattr(events, n.id) for n in names if isinstance(n, ast.Name)}
    assert kinds == events.REPLICA_EVENT_KINDS
    assert TRANSCRIPT_EVENTS <= events.REPLICA_EVENT_KINDS | events.CLIENT_EVENT_KINDS
