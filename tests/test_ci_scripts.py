"""The glue a fresh clone runs: `.ci/run` calls exactly the README's test command,
and the pytest step fails (not passes) when pytest collects no tests."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"^(make \w+)\s+# set up .venv with the test extra", readme, re.M)
    assert commands == ["make test"]
    lines = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines[-1] == "make test"
    assert all(line.startswith(("set ", "cd ")) for line in lines[:-1])


def test_pytest_step_turns_no_tests_collected_into_a_failure() -> None:
    env_python = {"CLOBKIT_PYTHON": sys.executable}
    result = subprocess.run(
        ["bash", "scripts/pytest.sh", "-q", "-p", "no:cacheprovider", "-k", "no_such_test_xyz",
         "tests/test_ci_scripts.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env={**_env(), **env_python},
    )  # fmt: skip
    assert result.returncode == 1
    assert "collected no tests" in result.stderr


def test_pytest_step_passes_a_real_failure_through() -> None:
    result = subprocess.run(
        ["bash", "scripts/pytest.sh", "-q", "-p", "no:cacheprovider", "--co", "no/such/path"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**_env(), "CLOBKIT_PYTHON": sys.executable},
    )  # fmt: skip
    assert result.returncode not in (0, 5)


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)
