"""Binder would build clobkit's environment as intended: Python 3.11, the repo installed after.

Method: run the lint part of ``scripts/binder_check.sh``, which asks repo2docker itself (a dry
run: ``--no-build``, no Docker engine) to render the Dockerfile for this repository, and checks
the Python version it picked and where the ``pip install -r binder/requirements.txt`` step
lands. The same script must reject the two known ways to get it wrong (a requirements file
that is exactly ".\\n", which repo2docker 2026.4 mis-decodes, and a missing runtime.txt, which
falls back to Python 3.10), shown on small fixture repositories. The full check (a fresh venv
from binder/ running every notebook) is ``scripts/binder_check.sh --notebooks``; only its
"no notebooks yet" path is fast enough to test here.

repo2docker missing is a failure, not a skip: jupyter-repo2docker belongs in the test extra.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "binder_check.sh"

pytestmark = pytest.mark.slow


def _repo2docker() -> str:
    candidates = [
        os.environ.get("R2D"),
        str(Path(sys.executable).parent / "repo2docker"),
        shutil.which("repo2docker"),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(
        "repo2docker not found: pip install jupyter-repo2docker (the test extra "
        "should include it), or set R2D to the executable"
    )


def _check(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, R2D=_repo2docker())
    return subprocess.run(
        ["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=300
    )


def _fixture_repo(root: Path, requirements: str | None, runtime: str | None) -> Path:
    (root / "binder").mkdir(parents=True)
    (root / "notebooks").mkdir()
    if requirements is not None:
        (root / "binder" / "requirements.txt").write_bytes(requirements.encode())
    if runtime is not None:
        (root / "binder" / "runtime.txt").write_text(runtime, encoding="utf-8")
    return root


def test_this_repository_passes_the_binder_lint() -> None:
    result = _check("--lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "binder lint OK (python 3.11" in result.stdout


def test_binder_files_say_what_the_recipe_needs() -> None:
    requirements = (REPO / "binder" / "requirements.txt").read_text(encoding="utf-8")
    lines = [line.strip() for line in requirements.splitlines()]
    # The repo itself, editable, optionally with extras ("-e .[parquet]").
    installs = [line for line in lines if line and not line.startswith("#")]
    assert len(installs) == 1 and re.fullmatch(r"-e \.(\[[a-z,]+\])?", installs[0]), installs
    assert any(line.startswith("#") for line in lines)
    assert (REPO / "binder" / "runtime.txt").read_text(encoding="utf-8").strip() == "python-3.11"
    assert not (REPO / "binder" / "environment.yml").exists()  # would make pip files ignored
    assert not (REPO / ".binder").exists()  # two binder dirs is an error


def test_lint_rejects_a_bare_dot_requirements_file(tmp_path: Path) -> None:
    repo = _fixture_repo(tmp_path / "r", requirements=".\n", runtime="python-3.11\n")
    result = _check("--lint", "--repo", str(repo))
    assert result.returncode == 1
    assert "installed before the repository is copied in" in result.stderr


def test_lint_rejects_a_missing_runtime(tmp_path: Path) -> None:
    shutil.copytree(REPO / "binder", tmp_path / "r" / "binder")
    (tmp_path / "r" / "binder" / "runtime.txt").unlink()
    result = _check("--lint", "--repo", str(tmp_path / "r"))
    assert result.returncode == 1
    assert "runtime.txt missing" in result.stderr


def test_notebook_run_without_notebooks_says_so_and_passes(tmp_path: Path) -> None:
    repo = _fixture_repo(tmp_path / "r", requirements="-e .\n", runtime="python-3.11\n")
    result = _check("--notebooks", "--repo", str(repo))
    assert result.returncode == 0, result.stderr
    assert "no notebooks in notebooks/" in result.stdout


def test_unknown_argument_is_a_usage_error() -> None:
    result = _check("--frobnicate")
    assert result.returncode == 2
    assert "--frobnicate" in result.stderr


@pytest.mark.slow
@pytest.mark.notebooks
def test_every_notebook_runs_in_a_fresh_venv_built_from_binder_files() -> None:
    """What Binder does, minus Docker: a fresh venv with only ``binder/requirements.txt``
    (plus ipykernel and the runner) executes every course notebook top to bottom."""
    notebooks = sorted((REPO / "notebooks").glob("*.ipynb"))
    assert notebooks, "the course has notebooks"
    result = subprocess.run(
        ["bash", str(SCRIPT), "--notebooks"],
        capture_output=True,
        text=True,
        timeout=3000,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert f"running {len(notebooks)} notebook(s) in a fresh venv" in result.stdout
