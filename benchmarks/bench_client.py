"""Benchmark: the client side of a command, through the public API and through the workload.

A committed command's CPU is the replicas' work plus the client's: the call's checks, the book
command and its history input, the session's Request, then the reply's decoding, the history
record, the :class:`~clobkit.sim.results.Call`'s outcome and its callbacks. This measures a
3-node memory cluster (quorum reads, trace and invariant monitor off, seeds 0, 1, 2...) driven
three ways, all counted per committed command:

* ``cpu_us_per_command_workload``: a :class:`~clobkit.sim.workload.RandomWorkload` of 64 users
  (75 % places, 25 % cancels, no think time): bench_cluster's ``cpu_us_per_command`` run;
* ``cpu_us_per_command_submit``: the same load made through the public API: 64 users, each
  call's ``on_done`` callback making the user's next call with :meth:`Cluster.submit`;
* ``cpu_us_per_place``: one user's synchronous :meth:`Cluster.place` calls, one after another
  (each runs the simulation until its reply);
* ``cpu_us_per_command_client_side``: the client side alone: 64 users' public
  :meth:`Cluster.submit` calls, each answered at once by a prebuilt ``Reply`` handed to the
  client's host (no replica runs): the call, its Request's send, the reply's handling, the
  history record and the ``on_done`` callback;
* ``python_calls_per_command``: Python function calls per committed command of the workload run
  (cProfile; deterministic, the A/B measure that CPU noise does not blur).

CPU is ``time.process_time`` of a child process per measurement (one tree imported per child).
``--against TREE`` measures another source tree (e.g. an older checkout) in the same session,
runs interleaved (this tree, the other, this tree, ...), and prints both medians and their
ratio (keys ``*_against`` and ``*_ratio``, this tree over the other). ``--quick`` keeps the run
under a minute; ``--json PATH`` writes every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
USERS = 64
MIX = {"place": 0.75, "cancel": 0.25}


def workload_cpu(commands: int, seed: int) -> float:
    """CPU us per committed command of a RandomWorkload run (bench_cluster's memory run)."""
    from clobkit.sim import Cluster
    from clobkit.sim.workload import RandomWorkload

    c = Cluster(3, seed=seed, storage="memory", check=False, trace=False, timeout_ms=20_000)
    per_user = max(1, commands // USERS)
    w = RandomWorkload(
        c, users=[f"u{i}" for i in range(USERS)], ops_per_user=per_user, think_us_max=0, mix=MIX
    )
    w.start()
    start = time.process_time()
    c.run(until=lambda _: w.completed >= USERS * per_user)
    cpu = time.process_time() - start
    ok = w.outcomes.get("ok", 0)
    c.close()
    return cpu * 1e6 / ok


def submit_cpu(commands: int, seed: int) -> float:
    """CPU us per committed command when every call is made with the public Cluster.submit."""
    import random

    from clobkit.sim import Cluster

    c = Cluster(3, seed=seed, storage="memory", check=False, trace=False, timeout_ms=20_000)
    rng = random.Random(seed)
    per_user = max(1, commands // USERS)
    left = dict.fromkeys((f"u{i}" for i in range(USERS)), per_user)
    resting: dict[str, list[int]] = {u: [] for u in left}
    prices = [c.market.ticks_to_price(t) for t in range(9_995, 10_006)]
    done = [0, 0]  # calls finished, of which ok

    def issue(user: str) -> None:
        left[user] -= 1
        live = resting[user]
        if live and rng.random() < MIX["cancel"]:
            call = c.submit(user, "cancel", order_id=live.pop(rng.randrange(len(live))))
        else:
            side = "buy" if rng.random() < 0.5 else "sell"
            price = prices[rng.randrange(len(prices))]
            call = c.submit(user, "place", side=side, price=price, qty=rng.randint(1, 10))
        call.on_done.append(finished)

    def finished(call: Any) -> None:
        done[0] += 1
        if call.outcome == "ok":
            done[1] += 1
            value = call.value
            if call.kind == "place" and call.error is None and value.resting_qty > 0:
                resting[call.client_id].append(value.order_id)
        if left[call.client_id] > 0:
            issue(call.client_id)

    start = time.process_time()
    for user in left:
        issue(user)
    c.run()
    cpu = time.process_time() - start
    assert done[0] == USERS * per_user
    c.close()
    return cpu * 1e6 / done[1]


def place_cpu(commands: int, seed: int) -> float:
    """CPU us per synchronous Cluster.place of one user (the notebook's way)."""
    from clobkit.sim import Cluster

    c = Cluster(3, seed=seed, storage="memory", check=False, trace=False)
    start = time.process_time()
    for i in range(commands):
        side = "buy" if i % 2 else "sell"
        c.place("alice", side, price=f"{100 + (i % 7) / 100:.2f}", qty=1 + i % 5)
    cpu = time.process_time() - start
    c.close()
    return cpu * 1e6 / commands


def client_side_cpu(commands: int, seed: int) -> float:
    """CPU us per call of the client side alone: submit, then the reply (prebuilt) delivered
    to the client's host at once; no replica runs."""
    from clobkit.book import ApplyResult, encode_result
    from clobkit.replication.messages import Reply
    from clobkit.sim import Cluster

    c = Cluster(3, seed=seed, storage="memory", check=False, trace=False, timeout_ms=20_000)
    users = [f"u{i}" for i in range(USERS)]
    answer = encode_result(ApplyResult(True, None, 7, 1, 0, "resting", (), 3, 0))
    prices = [c.market.ticks_to_price(t) for t in range(9_995, 10_006)]
    replies = [  # the replicas' part, built beforehand: user i's k-th request commits at op ...
        Reply(
            cluster_id=c.config.cluster_id,
            source="n0",
            target=f"client:{user}",
            view=0,
            client_id=user,
            request_number=k + 1,
            ok=True,
            op=k * USERS + i + 1,
            reply=answer,
        )
        for k in range(commands // USERS + 1)
        for i, user in enumerate(users)
    ]
    done = [0]

    def finished(call: Any) -> None:
        done[0] += 1

    start = time.process_time()
    for j in range(commands):
        user = users[j % USERS]
        side = "buy" if j % 2 else "sell"
        call = c.submit(user, "place", side=side, price=prices[j % 11], qty=1 + j % 5)
        call.on_done.append(finished)
        c.world.hosts[f"client:{user}"].deliver(j + 1, replies[j])
    cpu = time.process_time() - start
    assert done[0] == commands
    c.close()
    return cpu * 1e6 / commands


def python_calls(commands: int, seed: int = 2) -> float:
    """Python function calls per committed command of the workload run (cProfile, seed 2)."""
    import cProfile
    import pstats

    from clobkit.sim import Cluster
    from clobkit.sim.workload import RandomWorkload

    c = Cluster(3, seed=seed, storage="memory", check=False, trace=False, timeout_ms=20_000)
    per_user = max(1, commands // USERS)
    w = RandomWorkload(
        c, users=[f"u{i}" for i in range(USERS)], ops_per_user=per_user, think_us_max=0, mix=MIX
    )
    w.start()
    profile = cProfile.Profile()
    profile.enable()
    c.run(until=lambda _: w.completed >= USERS * per_user)
    profile.disable()
    total = sum(row[1] for row in pstats.Stats(profile).stats.values())  # type: ignore[attr-defined]
    return total / w.outcomes.get("ok", 1)


def child(tree: str, what: str, commands: int, seed: int) -> float:
    """Run one measurement in a fresh process that imports clobkit from ``tree``."""
    env = dict(os.environ, PYTHONPATH=tree)
    code = (
        f"import sys; sys.path.insert(0, {tree!r}); sys.path.insert(1, {str(HERE / 'benchmarks')!r});"
        f"import bench_client as b; b.workload_cpu(300, 0);"  # warm the imports
        f"print(b.{what}({commands}, {seed}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    )
    return float(out.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run (< 60 s)")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--against", help="another source tree to measure beside this one")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args()
    repeats = args.repeats or (3 if args.quick else 5)
    commands = 1_500 if args.quick else 6_000
    places = 100 if args.quick else 400
    trees = {"": str(HERE)}
    if args.against:
        trees["_against"] = str(Path(args.against).resolve())
    runs = {
        "cpu_us_per_command_workload": ("workload_cpu", commands),
        "cpu_us_per_command_submit": ("submit_cpu", commands),
        "cpu_us_per_place": ("place_cpu", places),
        "cpu_us_per_command_client_side": ("client_side_cpu", commands),
    }
    samples: dict[str, list[float]] = {}
    for seed in range(repeats):
        for key, (what, n) in runs.items():
            for suffix, tree in trees.items():  # interleaved: this tree, the other, ...
                samples.setdefault(key + suffix, []).append(child(tree, what, n, seed))
    figures: dict[str, Any] = {k: statistics.median(v) for k, v in samples.items()}
    for suffix, tree in trees.items():
        figures["python_calls_per_command" + suffix] = child(tree, "python_calls", commands, 2)
    if args.against:
        for key in [*runs, "python_calls_per_command"]:
            figures[key + "_ratio"] = figures[key] / figures[key + "_against"]
    figures["repeats"] = repeats
    figures["load_average"] = os.getloadavg()[0]
    for key, value in figures.items():
        print(f"{key:42s} {value:12.3f}" if isinstance(value, float) else f"{key:42s} {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
