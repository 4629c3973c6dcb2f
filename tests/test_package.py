"""The package as a user first meets it: a light import, one error hierarchy,
one version, and a command line. Each check runs the real thing (a fresh
interpreter in a subprocess where import side effects matter)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import clobkit as ck
from clobkit import errors

HEAVY = ("pandas", "plotly", "ipywidgets", "numpy")


def _loaded_after(code: str) -> list[str]:
    probe = (
        f"import sys\n{code}\nimport json\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_import_clobkit_loads_no_heavy_module() -> None:
    assert _loaded_after("import clobkit") == []


def test_touching_the_book_and_errors_stays_light() -> None:
    code = (
        "import clobkit as ck\n"
        "b = ck.OrderBook(ck.MarketSpec('ACME', tick='0.01', lot=1))\n"
        "b.place('alice', 'sell', price='100.50', qty=10)\n"
        "b.place('bob', 'buy', price='100.50', qty=4)\n"
        "assert len(b.fills()) == 1\n"
        "ck.InvalidArgument\n"
    )
    assert _loaded_after(code) == []


def test_every_error_derives_from_clob_error() -> None:
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, ck.ClobError), name
        assert getattr(ck, name) is cls, name


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        ck.no_such_thing  # noqa: B018


def test_version_has_one_source() -> None:
    from importlib.metadata import version

    assert ck.__version__ == version("clobkit")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clobkit", *args], capture_output=True, text=True, timeout=300
    )


def test_cli_help_lists_the_commands() -> None:
    result = _cli("--help")
    assert result.returncode == 0
    assert "demo" in result.stdout


def test_cli_rejects_an_unknown_command_with_usage() -> None:
    result = _cli("frobnicate")
    assert result.returncode == 2
    assert "usage:" in result.stderr
    assert "frobnicate" in result.stderr


def test_demo_trades_fails_over_and_loses_nothing() -> None:
    result = _cli("demo", "--seed", "3")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "fills" in out.lower()
    assert "live orders" in out.lower()
    assert "alice" in out and "bob" in out
    assert "new primary: n" in out
    assert "missing from the committed log: 0" in out
    assert "checker on what the clients saw: ok" in out


def test_demo_is_deterministic() -> None:
    assert _cli("demo", "--seed", "5").stdout == _cli("demo", "--seed", "5").stdout


def test_demo_rejects_a_bad_seed() -> None:
    result = _cli("demo", "--seed", "x")
    assert result.returncode == 2
    assert "--seed" in result.stderr
