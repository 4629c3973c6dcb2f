"""Checking: did the clients see one linearizable order book?

clobkit's replicated book chooses linearizability over availability. This package shows the
choice: a :class:`History` records what clients saw at the client boundary, and
:func:`check_operations` searches for one order of those operations that respects real time
and the sequential model (Wing & Gong's search with Lowe's memoisation). With an unsafe switch
on, the result points at the few operations that no single order can explain.

Models: :func:`register_model`, :func:`kv_model` and :func:`book_model` (the order book, one
part per market); any :class:`Model` with ``init`` and ``step`` works.

>>> from clobkit.check import Model, Operation, check_operations
>>> register = Model(init=lambda: 0,
...                  step=lambda state, inp, out: (True, inp[1]) if inp[0] == "w"
...                  else (out == state, state))
>>> ops = [Operation(client_id=0, input=("w", 1), call=0, output=None, return_=10),
...        Operation(client_id=1, input=("r", None), call=5, output=1, return_=20)]
>>> check_operations(register, ops, timeout_s=5).verdict
'ok'
"""

from __future__ import annotations

import importlib
from typing import Any

# Imported eagerly, not lazily: the function shares its module's name, and importing the
# submodule (``import clobkit.check.book_model``) would otherwise bind the *module* over a
# lazily exported function. clobkit.book is light (no pandas), so this costs little.
from clobkit.check.book_model import book_model
from clobkit.check.checker import CheckResult, check_operations
from clobkit.check.history import FRAME_COLUMNS, OUTCOMES, History, Record
from clobkit.check.model import (
    UNKNOWN_OUTPUT,
    MalformedHistory,
    Model,
    Operation,
    kv_model,
    register_model,
)

__all__ = [
    "FRAME_COLUMNS",
    "OUTCOMES",
    "UNKNOWN_OUTPUT",
    "CheckResult",
    "History",
    "MalformedHistory",
    "Model",
    "Operation",
    "Record",
    "book_model",
    "check_operations",
    "kv_model",
    "register_model",
]

# name -> module, imported on first use (PEP 562): campaigns are written by another engineer,
# and the book model pulls in clobkit.book.
_LAZY = {
    # The module is "campaigns" (plural): a submodule named like the function would replace
    # the function on this package as soon as anyone imported the submodule.
    "campaign": "clobkit.check.campaigns",
    "replay": "clobkit.check.campaigns",
    "shrink": "clobkit.check.campaigns",
    "RunResult": "clobkit.check.campaigns",
    "check_invariants": "clobkit.check.invariants",
    "Violation": "clobkit.check.invariants",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'clobkit.check' has no attribute {name!r}")
    try:
        imported = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise  # a real import error inside the module: show it
        raise AttributeError(f"clobkit.check.{name} is not available yet ({module})") from exc
    value = getattr(imported, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
