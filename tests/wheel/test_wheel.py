"""The package as pip delivers it: ``python -m build`` makes an sdist and a
wheel, the wheel installs into a fresh virtual environment (dependencies from
the registry), and there ``import clobkit; clobkit.Cluster(nodes=3, seed=1)``
places and fills an order. Slow (a real build and a real install), so it runs
once per suite."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

import clobkit

ROOT = Path(__file__).resolve().parents[2]

SMOKE = """
import sys
import clobkit as ck
assert "pandas" not in sys.modules, "import clobkit must stay light"
c = ck.Cluster(nodes=3, seed=1)
c.place("alice", "sell", price="100.50", qty=10)
r = c.place("bob", "buy", price="100.50", qty=4)
assert r.status == "filled" and r.filled_qty == 4, r
assert len(c.fills()) == 1
c.close()
print("smoke ok", ck.__version__)
"""


def _clean_env() -> dict[str, str]:
    """The environment without anything that could let the fresh venv see this checkout."""
    return {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return out


@pytest.mark.slow
def test_wheel_and_sdist_carry_the_package(dist: Path) -> None:
    (wheel,) = dist.glob("clobkit-*.whl")
    (sdist,) = dist.glob("clobkit-*.tar.gz")
    assert wheel.name.startswith(f"clobkit-{clobkit.__version__}-")
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "clobkit/__init__.py",
        "clobkit/py.typed",
        "clobkit/book/orderbook.py",
        "clobkit/storage/wal.py",
        "clobkit/replication/replica.py",
        "clobkit/sim/cluster.py",
        "clobkit/check/checker.py",
    ):
        assert required in names, required
    assert not any(n.startswith("tests/") for n in names), "tests must not ship in the wheel"
    with tarfile.open(sdist) as tar:
        members = {m.name.split("/", 1)[1] for m in tar.getmembers() if "/" in m.name}
    assert {"pyproject.toml", "README.md", "LICENSE", "clobkit/py.typed"} <= members


@pytest.mark.slow
def test_wheel_installs_in_a_fresh_venv_and_trades(dist: Path, tmp_path: Path) -> None:
    (wheel,) = dist.glob("clobkit-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)],
        check=True,
        capture_output=True,
        text=True,
        timeout=900,
        env=_clean_env(),
    )
    result = subprocess.run(
        [str(python), "-c", SMOKE],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=_clean_env(),
    )
    assert result.returncode == 0, result.stderr
    assert f"smoke ok {clobkit.__version__}" in result.stdout
    console = subprocess.run(
        [str(env_dir / "bin" / "clobkit"), "--version"],
        capture_output=True,
        text=True,
        env=_clean_env(),
    )
    assert console.stdout.strip() == f"clobkit {clobkit.__version__}"
