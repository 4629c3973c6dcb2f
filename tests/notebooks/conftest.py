"""Collects each notebook's run times (test_notebooks.py) and prints them all at the end of the
session, passed or failed, so the 20 s budget of every notebook is visible in every run."""

from __future__ import annotations

import pytest

_TIMES = pytest.StashKey[list[tuple[str, float, float, float, int]]]()


@pytest.fixture
def notebook_times(request: pytest.FixtureRequest) -> list[tuple[str, float, float, float, int]]:
    """The session's list of ``(notebook, wall_s, cpu_s, load, cores)``, one per run."""
    return request.config.stash.setdefault(_TIMES, [])


def pytest_terminal_summary(terminalreporter, config) -> None:  # type: ignore[no-untyped-def]
    times = config.stash.get(_TIMES, [])
    if not times:
        return
    terminalreporter.section("notebook times (budget 20 s each; see test_notebooks.py)")
    for name, wall_s, cpu_s, load, cores in sorted(times):
        relaxed = "   (loaded: wall held to the ceiling)" if load > cores else ""
        terminalreporter.write_line(
            f"{name:32} wall {wall_s:5.1f} s   CPU {cpu_s:5.1f} s   load {load:4.1f} / {cores}"
            + relaxed
        )
