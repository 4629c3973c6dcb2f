"""Test options for the replication tests: ``--rewrite`` regenerates golden transcripts.

pytest honours ``pytest_addoption`` only in initial conftests (the rootdir's,
or the one in a directory named on the command line), so the option works as
``pytest tests/replication --rewrite``; from anywhere else set the environment
variable ``CLOBKIT_REWRITE=1`` instead.
"""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--rewrite",
        action="store_true",
        default=False,
        help="rewrite the golden transcripts under tests/replication/transcripts/",
    )


@pytest.fixture
def rewrite(request: pytest.FixtureRequest) -> bool:
    """True when golden transcripts should be rewritten instead of compared."""
    try:
        flag = bool(request.config.getoption("--rewrite"))
    except ValueError:
        flag = False
    return flag or os.environ.get("CLOBKIT_REWRITE") == "1"
