"""Every exception class clobkit defines lives in ``clobkit/errors.py`` (one hierarchy a user
can read in one place and catch as ``ck.ClobError``), and the places the classes used to be
defined still export the same objects, so user code importing them from there keeps working.

Method: import every module of the package, collect each class deriving from
``BaseException`` whose module is a clobkit module, and require that module to be
``clobkit.errors``; a hand-made class in another module shows the check is not blind.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types

import pytest

import clobkit
import clobkit.errors as errors

#: Where each class was defined before it moved to errors.py: (module, name).
OLD_HOMES = [
    ("clobkit.sim.cluster", "UnknownNode"),
    ("clobkit.proc.wire", "BadFrame"),
    ("clobkit.proc.wire", "BadStream"),
    ("clobkit.storage.wal", "StoreClosed"),
    ("clobkit.storage", "StoreClosed"),
    ("clobkit.storage.format", "CorruptWalHeader"),
    ("clobkit.storage", "CorruptWalHeader"),
    ("clobkit.check.model", "MalformedHistory"),
    ("clobkit.check", "MalformedHistory"),
    ("clobkit.storage.disk", "PowerLoss"),
    ("clobkit.storage", "PowerLoss"),
    ("clobkit.views.export", "MissingDependency"),
    ("clobkit.views", "MissingDependency"),
]


def all_modules() -> list[types.ModuleType]:
    names = [
        info.name
        for info in pkgutil.walk_packages(clobkit.__path__, "clobkit.")
        if info.name != "clobkit.__main__"  # importing it runs the command line
    ]
    return [clobkit, *(importlib.import_module(name) for name in names)]


def stray_exceptions(modules: list[types.ModuleType]) -> list[str]:
    """``module.Class`` for every clobkit exception class defined outside errors.py."""
    stray = set()
    for module in modules:
        for _, value in inspect.getmembers(module, inspect.isclass):
            home = value.__module__
            if (
                issubclass(value, BaseException)
                and home.split(".")[0] == "clobkit"
                and home != "clobkit.errors"
            ):
                stray.add(f"{home}.{value.__qualname__}")
    return sorted(stray)


def test_every_exception_class_is_defined_in_errors_py() -> None:
    assert stray_exceptions(all_modules()) == []


def test_the_check_finds_an_exception_class_defined_elsewhere() -> None:
    fake = types.ModuleType("clobkit.fake")
    exec("class Oops(ValueError):\n    pass\n", fake.__dict__)
    fake.__dict__["Oops"].__module__ = "clobkit.fake"
    assert stray_exceptions([fake]) == ["clobkit.fake.Oops"]


def test_every_error_is_exported_and_derives_from_clob_error() -> None:
    defined = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, BaseException)
    }
    assert defined == set(errors.__all__)
    assert all(issubclass(getattr(errors, n), errors.ClobError) for n in defined)
    assert all(getattr(clobkit, n) is getattr(errors, n) for n in defined)


@pytest.mark.parametrize(("module", "name"), OLD_HOMES)
def test_old_import_paths_still_give_the_same_class(module: str, name: str) -> None:
    assert getattr(importlib.import_module(module), name) is getattr(errors, name)
