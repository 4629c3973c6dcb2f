"""Benchmark: CPU instructions per call of the codec, message and result pieces (callgrind).

Each case calls one piece of a committed command's path many times (``encode_command`` of a
GTC limit place and of a cancel; ``encode_result`` of a rested, a cancelled and a traded
result; a message check through ``problem()`` and through ``messages.checks`` as
``Replica._dispatch`` calls it; building a ``Reply``, a ``CommandResult``, an ``Envelope`` and
a ``Step``; ``encode_envelope``) inside ``functools.reduce`` in a child Python run under
``valgrind --tool=callgrind``, which counts instructions only inside ``reduce`` and writes one
count per case (``--toggle-collect``/``--dump-after``). An empty case is subtracted, so the
figure is the piece's own instructions per call, garbage collector off. Instruction counts do
not move with the machine's load (the shared 2-core VM's CPU times do), so they are the A/B
measure: ``--against TREE`` measures another source tree (e.g. a checkout of main) in the
same run and prints both and their ratio.

``python benchmarks/bench_codec_instructions.py [--quick] [--json PATH] [--against TREE]``;
``--quick`` makes 1,000 calls per case instead of 5,000 (about 20 s per tree here). JSON keys:
``<case>_instructions`` (and ``_against``, ``_ratio``: this tree over the other).
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
CASES = (
    "encode_place",
    "encode_cancel",
    "encode_result_rested",
    "encode_result_cancelled",
    "encode_result_traded",
    "problem_reply",
    "problem_request",
    "check_request",
    "check_prepare_ok",
    "build_reply",
    "build_command_result",
    "build_envelope",
    "encode_envelope",
    "build_step",
)


def _cases() -> dict[str, Any]:
    """The cases, each a function of the call number (inputs built beforehand)."""
    from clobkit.book import ApplyResult, Fill, MarketSpec
    from clobkit.book.codec import encode_command, encode_result
    from clobkit.book.commands import Cancel, Place
    from clobkit.replication import messages
    from clobkit.replication.envelope import Envelope, encode_envelope
    from clobkit.replication.messages import PrepareOk, Reply, Request, problem
    from clobkit.replication.step import Step
    from clobkit.sim.results import CommandResult

    spec = MarketSpec("ACME", tick="0.01")
    users = [f"u{i}" for i in range(64)]
    n = 1000
    places = [
        Place("ACME", users[i % 64], "buy" if i % 2 else "sell", 9995 + i % 11, 1 + i % 5)
        for i in range(n)
    ]
    cancels = [Cancel("ACME", users[i % 64], 100 + i * 7) for i in range(n)]
    fill = Fill(5, 100, 1_000_000, "ACME", 10000, 2, 100, 40, "u1", "u2", "buy")
    rested = [
        ApplyResult(True, None, 100 + i, 1_000_000 + i * 37, 100 + i, "resting", (), 3, 0)
        for i in range(n)
    ]
    cancelled = [
        ApplyResult(True, None, 100 + i, 1_000_000 + i * 37, 50 + i, "cancelled", (), 0, 3)
        for i in range(n)
    ]
    traded = [
        ApplyResult(True, None, 100 + i, 1_000_000 + i, 100 + i, "partially_filled", (fill,), 1, 0)
        for i in range(n)
    ]
    payload = encode_command(places[0])
    header = {"cluster_id": "c", "view": 0}
    replies = [
        Reply(**header, source="n0", target="client:u1", client_id="u1",
              request_number=i + 1, ok=True, op=i + 1, reply=b"xx")
        for i in range(n)
    ]  # fmt: skip
    requests = [
        Request(**header, source="client:u1", target="n0", client_id="u1",
                request_number=i + 1, payload=payload)
        for i in range(n)
    ]  # fmt: skip
    reply_fields = {**header, "source": "n0", "target": "client:u1", "client_id": "u1"}
    reply_fields.update(ok=True, reply=b"xx")
    oks = [PrepareOk(**header, source="n1", target="n0", op=i + 1, commit=i) for i in range(n)]
    checks = getattr(messages, "checks", None)
    if checks is None:  # (a tree from before messages.checks: its lazily compiled checks)
        problem(requests[0])
        problem(oks[0])
        checks = messages._COMPILED
    check_request, check_ok = checks[Request], checks[PrepareOk]
    return {
        "empty": lambda i: None,
        "encode_place": lambda i: encode_command(places[i % n]),
        "encode_cancel": lambda i: encode_command(cancels[i % n]),
        "encode_result_rested": lambda i: encode_result(rested[i % n]),
        "encode_result_cancelled": lambda i: encode_result(cancelled[i % n]),
        "encode_result_traded": lambda i: encode_result(traded[i % n]),
        "problem_reply": lambda i: problem(replies[i % n]),
        "problem_request": lambda i: problem(requests[i % n]),
        "check_request": lambda i: check_request(requests[i % n]),
        "check_prepare_ok": lambda i: check_ok(oks[i % n]),
        "build_reply": lambda i: Reply(**reply_fields, request_number=i, op=i),
        "build_command_result": lambda i: CommandResult(rested[i % n], i, spec),
        "build_envelope": lambda i: Envelope("u1", i, 1_000_000 + i, payload),
        "encode_envelope": lambda i: encode_envelope(Envelope("u1", i, 1_000_000 + i, payload)),
        "build_step": lambda i: Step(),
    }


def child(calls: int) -> None:
    """Run under callgrind: the empty case, then every case, each inside one ``reduce``."""
    cases = _cases()
    gc.collect()
    gc.freeze()
    gc.disable()
    for name in ("empty", *CASES):
        case = cases[name]
        for i in range(2000):  # warm: memos, specialised bytecode
            case(i)
        functools.reduce(lambda _, i: case(i), range(calls), None)


def measure(tree: str, calls: int) -> dict[str, float]:
    """Instructions per call of each case, with ``tree`` first on the import path."""
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ, PYTHONPATH=tree, PYTHONHASHSEED="0")
        code = (
            f"import sys; sys.path.insert(0, {tree!r}); sys.path.insert(1, {str(HERE / 'benchmarks')!r});"
            f"import bench_codec_instructions as b; b.child({calls})"
        )
        subprocess.run(
            ["valgrind", "--tool=callgrind", "--collect-atstart=no",
             "--toggle-collect=functools_reduce", "--dump-after=functools_reduce",
             f"--callgrind-out-file={out}/cg", sys.executable, "-c", code],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
        dumps = sorted(Path(out).glob("cg.*"), key=lambda p: int(p.suffix[1:]))
        totals = []
        for dump in dumps:
            line = next(x for x in dump.read_text().splitlines() if x.startswith("summary:"))
            totals.append(int(line.split()[1]) / calls)
    assert len(totals) == len(CASES) + 1, len(totals)
    empty = totals[0]
    return {name: round(total - empty) for name, total in zip(CASES, totals[1:], strict=True)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 calls per case")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--against", help="another source tree to measure beside this one")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("bench_codec_instructions needs valgrind (apt-get install valgrind)")
    calls = 1000 if args.quick else 5000
    mine = measure(str(HERE), calls)
    other = measure(args.against, calls) if args.against else None
    figures: dict[str, Any] = {}
    print(
        f"{'case':28s} {'this tree':>10s}" + (f" {'against':>10s} {'ratio':>6s}" if other else "")
    )
    for name in CASES:
        figures[f"{name}_instructions"] = mine[name]
        row = f"{name:28s} {mine[name]:10,d}"
        if other is not None:
            ratio = mine[name] / other[name]
            figures[f"{name}_instructions_against"] = other[name]
            figures[f"{name}_instructions_ratio"] = round(ratio, 3)
            row += f" {other[name]:10,d} {ratio:6.2f}"
        print(row)
    figures["calls_per_case"] = calls
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
