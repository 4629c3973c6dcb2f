"""What the labs' graders share: one staged run's verdict, in words for the student."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["verdict_text"]


def verdict_text(result: Any, short: Callable[[str], str] = str) -> str | None:
    """``None`` when the staged run ``result`` (a :class:`~clobkit.check.RunResult`) is ok;
    otherwise its verdict and repro, why the cluster stopped (``short`` shortens a replica's
    own assertion), its first invariant violation and the checker's explanation, a line each.

    >>> from clobkit.check import scenarios
    >>> verdict_text(scenarios.s10_duplicate_retry(unsafe=False, seed=1)) is None
    True
    >>> verdict_text(scenarios.s10_duplicate_retry(unsafe=True, seed=1)).splitlines()[0]
    'verdict illegal (scenarios.s10_duplicate_retry(unsafe=True, seed=1))'
    """
    if result.ok:
        return None
    lines = [f"verdict {result.verdict} ({result.repro})"]
    if result.error:
        # a replica's own consistency assertion stopped the run
        lines.append(f"the cluster stopped: {short(result.error)}")
    if result.violations:
        lines.append(f"invariant: {result.violations[0]}")
    if result.check is not None and result.check.explanation:
        lines.append(f"checker: {result.check.explanation}")
    return "\n".join(lines)
