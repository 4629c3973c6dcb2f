"""Benchmark: CPU instructions and Python calls per committed command, whole run and replica side.

The run is ``bench_cluster.cluster_rate("memory", 64, n, 2)`` (3 nodes, quorum reads, memory
disks, trace off, 64 closed-loop clients): what a user gets from ``clobkit.sim.Cluster``.

* ``instructions_per_command``: ``valgrind --tool=callgrind`` counts the instructions of two
  runs of different lengths in child processes (``PYTHONHASHSEED=0``); their difference over
  the extra commands removes start-up and warm-up. Deterministic up to dict/set probing (a few
  thousand per command between builds), so it is the A/B measure on a loaded machine.
* ``python_calls_per_command``: cProfile's count of every call (builtins included) of one
  6,000-command run; ``replica_calls_per_command``: the calls of the replica's own files
  (``replication/`` but the client, messages, envelope and step modules; ``storage/``;
  ``book/exchange.py``), ``replica_outgoing_calls_per_command``: the calls those files make to
  anything else (builtins, the book, the codec, message constructors).

``python benchmarks/bench_replica_instructions.py [--quick] [--json PATH] [--against TREE]``;
``--quick`` counts instructions over 320 -> 960 commands instead of 640 -> 1,920 (about 40 s
per tree here; valgrind needed). ``--against TREE`` measures another source tree (a checkout of
main) in the same run and prints both and the ratio. JSON keys: the three figures above, each
also with ``_against`` and ``_ratio`` (this tree over the other).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
KEYS = ("instructions_per_command", "python_calls_per_command", "replica_calls_per_command")

_RUN = """
import sys
sys.path.insert(0, {bench!r})
import bench_cluster as b
b.cluster_rate("memory", 64, 200, 0)
print("ok", b.cluster_rate("memory", 64, {n}, 2)[1]["ok"])
"""

_CALLS = """
import cProfile, os, pstats, sys
sys.path.insert(0, {bench!r})
import bench_cluster as b
b.cluster_rate("memory", 64, 600, 0)
profile = cProfile.Profile()
profile.enable()
ok = b.cluster_rate("memory", 64, 6000, 2)[1]["ok"]
profile.disable()
skip = ("client.py", "messages.py", "envelope.py", "step.py")
def replica(f):
    f = f.replace(os.sep, "/")
    return ("/clobkit/storage/" in f or f.endswith("/clobkit/book/exchange.py")
            or ("/clobkit/replication/" in f and not f.endswith(skip)))
total = own = out = 0
for (f, _line, _name), (_cc, nc, _tt, _ct, callers) in pstats.Stats(profile).stats.items():
    total += nc
    if replica(f):
        own += nc
    else:
        out += sum(v[0] for (cf, _cl, _cn), v in callers.items() if replica(cf))
print("calls", total / ok, own / ok, out / ok)
"""


def _env(tree: str) -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=tree, PYTHONHASHSEED="0")


def instructions(tree: str, short: int, long: int) -> float:
    """Instructions per command between a ``short`` and a ``long`` run of ``tree``."""
    bench = str(Path(tree) / "benchmarks")
    counts = []
    with tempfile.TemporaryDirectory() as out:
        for n in (short, long):
            done = subprocess.run(
                ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/cg.{n}",
                 sys.executable, "-c", _RUN.format(bench=bench, n=n)],
                env=_env(tree), check=True, capture_output=True, text=True,
            )  # fmt: skip
            ok = int(done.stdout.split()[-1])
            found = re.search(r"Collected : (\d+)", done.stderr)
            assert found is not None, done.stderr[-500:]
            counts.append((ok, int(found.group(1))))
    (ok_a, ir_a), (ok_b, ir_b) = counts
    return (ir_b - ir_a) / (ok_b - ok_a)


def calls(tree: str) -> tuple[float, float, float]:
    """(all calls, replica-side calls, calls the replica side makes elsewhere) per command."""
    bench = str(Path(tree) / "benchmarks")
    done = subprocess.run(
        [sys.executable, "-c", _CALLS.format(bench=bench)],
        env=_env(tree), check=True, capture_output=True, text=True,
    )  # fmt: skip
    total, own, out = (float(x) for x in done.stdout.split()[-3:])
    return total, own, out


def measure(tree: str, quick: bool) -> dict[str, float]:
    short, long = (320, 960) if quick else (640, 1920)
    total, own, out = calls(tree)
    return {
        "instructions_per_command": round(instructions(tree, short, long)),
        "python_calls_per_command": round(total, 1),
        "replica_calls_per_command": round(own, 1),
        "replica_outgoing_calls_per_command": round(out, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="320 -> 960 commands")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--against", help="another source tree to measure beside this one")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("bench_replica_instructions needs valgrind (apt-get install valgrind)")
    mine = measure(str(HERE), args.quick)
    other = measure(args.against, args.quick) if args.against else None
    figures: dict[str, Any] = {}
    head = f"{'per committed command':36s} {'this tree':>12s}"
    print(head + (f" {'against':>12s} {'ratio':>6s}" if other else ""))
    for key, value in mine.items():
        figures[key] = value
        row = f"{key:36s} {value:12,.1f}"
        if other is not None:
            figures[f"{key}_against"] = other[key]
            figures[f"{key}_ratio"] = round(value / other[key], 3)
            row += f" {other[key]:12,.1f} {value / other[key]:6.3f}"
        print(row)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
