"""The campaign and replay summaries tell the truth, as a user sees them in a terminal
(subprocesses): elapsed wall time rather than the sum of runs, "... and N more" when only some
failing seeds are listed, ``clobkit replay N ...`` lines that re-run a seed with the same
options and give the same verdict when pasted, the read mode listed among the unsafe settings,
and one exit-code rule for both commands: 1 only when a safe configuration fails."""

from __future__ import annotations

import io
import re
import shlex
import subprocess
import sys
import time
from typing import Any

import pytest

from clobkit import cli


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clobkit", *args], capture_output=True, text=True, timeout=600
    )


def test_unsafe_campaign_lists_five_failures_then_counts_the_rest() -> None:
    result = run("campaign", "--seeds", "8", "--ops", "60", "--switch", "no_dedup", "--quiet")
    assert result.returncode == 0, result.stderr  # an unsafe setting: anomalies are expected
    out = result.stdout
    assert "unsafe settings: no_dedup" in out
    counts = {v: int(n) for v, n in re.findall(r"^  (\w+) +(\d+)$", out, re.M)}
    failing = sum(n for v, n in counts.items() if v != "ok")
    assert failing > 5, out  # this switch breaks most seeds: the list must be cut
    lines = re.findall(r"^  (clobkit replay .*?)    # (\w+)$", out, re.M)
    assert len(lines) == 5
    assert f"  ... and {failing - 5} more (seeds " in out
    # A listed line, pasted, re-runs that seed with the same options and the same verdict,
    # and replay exits as campaign did.
    command, verdict = lines[0]
    argv = shlex.split(command)
    assert argv[:2] == ["clobkit", "replay"] and argv[3:] == ["--ops", "60", "--switch", "no_dedup"]
    again = run(*argv[1:])
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(f"replay of seed {argv[2]}: verdict {verdict}")


def test_read_mode_is_listed_among_the_unsafe_settings() -> None:
    args = ("--ops", "30", "--read-mode", "quorum-highest-seq")
    result = run("campaign", "--seeds", "1", *args, "--quiet")
    assert result.returncode == 0, result.stderr
    assert "unsafe settings: read mode quorum-highest-seq" in result.stdout
    replayed = run("replay", "0", *args)
    assert replayed.returncode == 0, replayed.stderr
    assert "unsafe settings: read mode quorum-highest-seq" in replayed.stdout
    assert "re-run with: clobkit replay 0 --ops 30 --read-mode quorum-highest-seq" in (
        replayed.stdout
    )


def test_campaign_reports_elapsed_wall_time() -> None:
    started = time.perf_counter()
    result = run("campaign", "--seeds", "4", "--ops", "40", "--workers", "2", "--quiet")
    outer = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    match = re.search(r"wall time +([\d.]+) s elapsed .* took ([\d.]+) s in all", result.stdout)
    assert match, result.stdout
    elapsed = float(match.group(1))
    assert 0 < elapsed <= outer  # measured around the campaign, not summed over its runs
    assert "Re-run" not in result.stdout  # nothing failed, nothing to list


class FakeRun:
    """A replay that raised: no cluster, verdict ``error``."""

    cluster = None
    check = None
    violations: list[Any] = []
    error = "AssertionError: two primaries"
    verdict = "error"
    repro = "ck.replay(seed=5)"
    ok = False


@pytest.mark.parametrize(("extra", "code"), [([], 1), (["--switch", "no_fencing"], 0)])
def test_replay_exit_code_follows_the_campaign_rule(
    monkeypatch: pytest.MonkeyPatch, extra: list[str], code: int
) -> None:
    # A failure is exit 1 with safe settings and exit 0 with an unsafe one, as in campaign.
    import clobkit.check.campaigns

    monkeypatch.setattr(clobkit.check.campaigns, "replay", lambda seed, **options: FakeRun())
    args = cli.build_parser().parse_args(["replay", "5", *extra])
    out = io.StringIO()
    assert cli.replay_command(args, out) == code
    assert "the run raised: AssertionError" in out.getvalue()
