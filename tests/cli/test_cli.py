"""The command line as a user types it: every sub-command runs through
``python -m clobkit`` in a subprocess, with its exit code and output checked;
bad arguments get argparse's usage message and exit code 2. The one path a
subprocess cannot reach cheaply (a safe-default campaign that finds a bug) is
driven in-process with a stand-in campaign."""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
from pathlib import Path

import pytest

from clobkit import cli


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clobkit", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
    )


@pytest.mark.parametrize("command", ["demo", "campaign", "replay", "report"])
def test_every_command_has_help(command: str) -> None:
    result = run(command, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith(f"usage: clobkit {command}")


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["campaign", "--seeds", "0"], "--seeds"),
        (["campaign", "--switch", "no_such_switch"], "no_such_switch"),
        (["campaign", "--nodes", "4"], "--nodes"),
        (["campaign", "--read-mode", "fastest"], "fastest"),
        (["replay"], "seed"),
        (["replay", "seven"], "seven"),
        (["report", "3", "--ops", "-5"], "--ops"),
    ],
)
def test_bad_arguments_get_usage_and_exit_2(args: list[str], complaint: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert "usage:" in result.stderr
    assert complaint in result.stderr


def test_safe_campaign_passes_and_summarises() -> None:
    result = run("campaign", "--seeds", "4", "--ops", "40", "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "campaign: 4 seeds x 3 nodes" in result.stdout
    assert "ok              4" in result.stdout


def test_campaign_with_a_process_pool_agrees_with_serial() -> None:
    serial = run("campaign", "--seeds", "3", "--ops", "40", "--quiet")
    pooled = run("campaign", "--seeds", "3", "--ops", "40", "--quiet", "--workers", "2")
    assert pooled.returncode == serial.returncode == 0

    def verdicts(text: str) -> list[str]:
        return [line for line in text.splitlines() if line.startswith("  ") and "wall" not in line]

    assert verdicts(pooled.stdout) == verdicts(serial.stdout)


def test_campaign_exits_1_when_safe_defaults_find_a_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    import pandas as pd

    import clobkit.check.campaigns

    def fake_campaign(seeds: range, **options: object) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "seed": [0, 1],
                "verdict": ["ok", "illegal"],
                "wall_time_s": [0.1, 0.1],
                "repro": ["ck.replay(seed=0)", "ck.replay(seed=1)"],
            }
        )

    monkeypatch.setattr(clobkit.check.campaigns, "campaign", fake_campaign)
    args = cli.build_parser().parse_args(["campaign", "--seeds", "2", "--quiet"])
    out = io.StringIO()
    assert cli.campaign_command(args, out) == 1
    assert "clobkit replay 1    # illegal" in out.getvalue()
    # The same finding with an unsafe switch on is the expected outcome, not a failure.
    args = cli.build_parser().parse_args(["campaign", "--quiet", "--switch", "no_dedup"])
    assert cli.campaign_command(args, io.StringIO()) == 0


def test_replay_prints_trace_summary_and_verdict() -> None:
    result = run("replay", "3", "--ops", "40")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("replay of seed 3: verdict ok")
    assert "re-run with: clobkit replay 3 --ops 40" in out and "ck.replay(seed=3" in out
    assert "trace records by kind:" in out and "commit" in out
    assert "linearizability: ok" in out
    assert run("replay", "3", "--ops", "40").stdout == out  # deterministic


def test_replay_passes_unsafe_switches_and_read_mode_to_the_run() -> None:
    result = run("replay", "1", "--ops", "40", "--switch", "no_dedup", "--read-mode", "primary")
    assert result.returncode in (0, 1), result.stderr
    assert "unsafe=('no_dedup',)" in result.stdout
    assert "read_mode='primary'" in result.stdout


def test_report_writes_standalone_html(tmp_path: Path) -> None:
    target = tmp_path / "out.html"
    result = run("report", "3", "--ops", "40", "-o", str(target))
    assert result.returncode == 0, result.stderr
    text = target.read_text()
    # the cluster picture, the lag chart, a message diagram per episode (up to 3),
    # the history and the depth chart
    assert 4 <= text.count('class="plotly-graph-div"') <= 7
    assert "<h2>What happened</h2>" in text and "Client history" in text
    assert "<title>clobkit run, seed 3</title>" in text
    # plotly.js is inlined exactly once, and nothing is fetched from the network.
    assert text.count("plotly.js v") <= 2
    assert 'src="http' not in text and "<link" not in text


def test_parser_is_argparse() -> None:
    assert isinstance(cli.build_parser(), argparse.ArgumentParser)


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["replay", "-5"], "clobkit replay: error: seed must be a non-negative integer, got -5"),
        (["report", "-1"], "clobkit report: error: seed must be a non-negative integer, got -1"),
        (["demo", "--seed", "-1"], "clobkit demo: error: --seed must be a non-negative integer"),
        (
            ["campaign", "--first-seed", "-5"],
            "clobkit campaign: error: --first-seed must be a non-negative integer, got -5",
        ),
        (
            ["report", "17", "-o", "missing_dir/x.html"],
            "clobkit report: error: -o missing_dir/x.html: the directory 'missing_dir' does not "
            "exist",
        ),
    ],
)
def test_bad_values_are_one_line_each_and_exit_2_before_running(
    args: list[str], complaint: str, tmp_path: Path
) -> None:
    """Checked before any simulation runs: one line, no traceback, nothing written."""
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == complaint.strip() or result.stderr.startswith(complaint)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr and not result.stdout
    assert list(tmp_path.iterdir()) == []


def test_every_bad_value_gets_its_own_line(tmp_path: Path) -> None:
    result = run("report", "-3", "-o", "nowhere/x.html", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and "seed" in lines[0] and "nowhere" in lines[1], lines


def test_report_does_not_overwrite_a_file_without_force(tmp_path: Path) -> None:
    target = tmp_path / "run.html"
    target.write_text("mine")
    result = run("report", "3", "--ops", "20", "-o", str(target))
    assert result.returncode == 2
    assert "the file exists; add --force to overwrite it" in result.stderr
    assert target.read_text() == "mine"
    result = run("report", "3", "--ops", "20", "-o", str(target), "--force")
    assert result.returncode == 0, result.stderr
    assert target.read_text().startswith("<!DOCTYPE html>") or "<html" in target.read_text()
