"""Real processes: what a 3-replica ProcessCluster commits per second, with and without fsync.

Measured side by side in one run, through the public API (``ProcessCluster.submit`` and
``pump``, as a notebook or the torture command drives it): three replica processes on
127.0.0.1, ``CLIENTS`` client sessions in this process, each keeping one order in flight
(resting buys, so every command is a real book insert). Each mode runs on a fresh cluster:

* ``process_cluster_cmds_per_s``: ``sync="group"``, the default: every batch is fdatasync'ed
  on a majority before the primary commits (what a reply promises);
* ``process_cluster_cmds_per_s_sync_never``: ``sync="never"`` (the WAL is written but never
  fdatasync'ed: survives kill -9, not a power cut): what the disk costs;
* ``process_cluster_cmds_per_s_primary_reads``: ``read_mode="primary"``, ``sync="group"``: no
  extra half round (Commit/CommitOk) and no durable commit number per commit, which
  ``read_mode="quorum"`` pays for its reads (DESIGN.md, Reads);
* ``commands_per_real_fsync``: commands committed per fdatasync the primary really made
  (group commit at work; counted in the node process around ``os.fdatasync``);
* ``median_commit_latency_ms``: one client alone, place -> reply (``sync="group"``);
  ``median_commit_latency_ms_loaded``: the same under the ``CLIENTS``-client load;
* ``pysyncobj_cmds_per_s`` (when ``pysyncobj`` is installed: ``pip install clobkit[bench]``):
  PySyncObj's 3-node loopback throughput in the same run (three processes, a replicated
  counter, requests pipelined from one node, no fsync: PySyncObj has none), and
  ``over_pysyncobj`` = ``process_cluster_cmds_per_s`` / that.

Usage: ``python benchmarks/bench_processes.py [--quick] [--json PATH] [--seconds S]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from clobkit.proc import ProcessCluster
from clobkit.proc.torture import Workload

CLIENTS = 32


def run_cluster(
    sync: str, seconds: float, clients: int, read_mode: str = "quorum"
) -> dict[str, float]:
    """Commands/s, commands per primary fdatasync and median latency for one cluster."""
    with ProcessCluster(3, sync=sync, read_mode=read_mode, timeout_ms=20_000) as c:
        c.place("warmup", "buy", price="90", qty=1)
        before = {r["node"]: r.get("fsyncs", 0) for r in c.node_rows()}
        acked_before = len(c.acks)
        work = Workload(c, clients, side="buy", cancel_share=0, read_share=0, prices=("95",))
        start = time.perf_counter()
        work.run(seconds)
        elapsed = time.perf_counter() - start
        done = len(c.acks) - acked_before
        c.pump(0.1)  # let the status files catch up
        primary = c.primary or "n0"
        rows = {r["node"]: r for r in c.node_rows()}
        fsyncs = rows[primary].get("fsyncs", 0) - before.get(primary, 0)
        latencies = [k.latency_us / 1000 for k in work.calls if k.outcome == "ok" and k.latency_us]
        work.drain(20)
    return {
        "cmds_per_s": done / elapsed,
        "commands_per_fsync": done / fsyncs if fsyncs else float("nan"),
        "median_latency_ms": statistics.median(latencies) if latencies else float("nan"),
    }


def single_client_latency(count: int) -> float:
    """Median place -> reply latency (ms) of one client alone, ``sync="group"``."""
    with ProcessCluster(3) as c:
        c.place("warmup", "buy", price="90", qty=1)
        samples = []
        for i in range(count):
            t = time.perf_counter()
            c.place("solo", "buy", price="95", qty=1 + i % 3)
            samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


# -- PySyncObj, 3 processes on loopback ---------------------------------------------------------

_NODE = r"""
import sys, threading, time
from pysyncobj import SyncObj, SyncObjConf, replicated, FAIL_REASON

class Counter(SyncObj):
    def __init__(self, me, partners):
        super().__init__(me, partners, conf=SyncObjConf(dynamicMembershipChange=False))
        self.n = 0
    @replicated
    def inc(self):
        self.n += 1
        return self.n

me, partners, seconds, drive = sys.argv[1], sys.argv[2].split(","), float(sys.argv[3]), sys.argv[4] == "1"
obj = Counter(me, partners)
deadline = time.time() + 20
while time.time() < deadline and (not obj._isReady() or obj._getLeader() is None):
    time.sleep(0.05)
if not drive:
    time.sleep(seconds + 5)
    sys.exit(0)
time.sleep(0.5)
lock = threading.Lock()
state = {"inflight": 0, "ok": 0}
def done(result, err):
    with lock:
        state["inflight"] -= 1
        if err == FAIL_REASON.SUCCESS:
            state["ok"] += 1
start = time.time(); end = start + seconds
while time.time() < end:
    with lock:
        room = 1000 - state["inflight"]
        state["inflight"] += max(0, room)
    for _ in range(max(0, room)):
        obj.inc(callback=done)
    time.sleep(0.0005)
elapsed = time.time() - start
print(state["ok"] / elapsed, flush=True)
"""


def run_pysyncobj(seconds: float) -> float | None:
    """PySyncObj's committed commands/s on three loopback processes, or None if not installed."""
    try:
        import pysyncobj  # noqa: F401
    except ImportError:
        return None
    ports = []
    socks = []
    for _ in range(3):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    addrs = [f"127.0.0.1:{p}" for p in ports]
    procs = []
    try:
        for i, me in enumerate(addrs):
            partners = ",".join(a for a in addrs if a != me)
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-c",
                        _NODE,
                        me,
                        partners,
                        str(seconds),
                        "1" if i == 0 else "0",
                    ],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                )
            )
        out, _ = procs[0].communicate(timeout=seconds + 60)
        return float(out.strip().splitlines()[-1])
    except (subprocess.TimeoutExpired, ValueError, IndexError):
        return None
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (< 60 s in all)")
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    parser.add_argument("--seconds", type=float, default=None, help="seconds per measurement")
    parser.add_argument("--clients", type=int, default=CLIENTS)
    args = parser.parse_args()
    seconds = args.seconds or (3.0 if args.quick else 10.0)
    group = run_cluster("group", seconds, args.clients)
    never = run_cluster("never", seconds, args.clients)
    primary_reads = run_cluster("group", seconds, args.clients, read_mode="primary")
    solo = single_client_latency(50 if args.quick else 200)
    psync = run_pysyncobj(seconds)
    figures = {
        "process_cluster_cmds_per_s": round(group["cmds_per_s"], 1),
        "process_cluster_cmds_per_s_sync_never": round(never["cmds_per_s"], 1),
        "process_cluster_cmds_per_s_primary_reads": round(primary_reads["cmds_per_s"], 1),
        "commands_per_real_fsync": round(group["commands_per_fsync"], 2),
        "median_commit_latency_ms": round(solo, 2),
        "median_commit_latency_ms_loaded": round(group["median_latency_ms"], 2),
        "pysyncobj_cmds_per_s": None if psync is None else round(psync, 1),
        "over_pysyncobj": None if psync is None else round(group["cmds_per_s"] / psync, 3),
        "clients": args.clients,
        "seconds": seconds,
        "machine": f"{platform.machine()} {os.cpu_count()} cpus, {platform.python_version()}",
    }
    print(f"3 replica processes, {args.clients} clients, {seconds:g} s per mode (medians)")
    print(f"  sync=group  {figures['process_cluster_cmds_per_s']:>10} cmds/s")
    print(
        f"  sync=never  {figures['process_cluster_cmds_per_s_sync_never']:>10} cmds/s "
        f"(fsync costs x{never['cmds_per_s'] / group['cmds_per_s']:.2f})"
    )
    print(
        f"  read_mode=primary, sync=group: {figures['process_cluster_cmds_per_s_primary_reads']} "
        "cmds/s (no commit-knowledge half round, no metadata write per commit)"
    )
    print(f"  commands per real fdatasync (primary): {figures['commands_per_real_fsync']}")
    print(
        f"  commit latency: {figures['median_commit_latency_ms']} ms alone, "
        f"{figures['median_commit_latency_ms_loaded']} ms under load"
    )
    if psync is None:
        print("  PySyncObj: not installed (pip install clobkit[bench])")
    else:
        print(
            f"  PySyncObj 3 processes, pipelined, no fsync: {figures['pysyncobj_cmds_per_s']} "
            f"cmds/s; clobkit/PySyncObj = {figures['over_pysyncobj']}"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
