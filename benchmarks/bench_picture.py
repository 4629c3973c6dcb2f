"""How long the cluster picture takes to build: one moment, a whole animation, one SVG state.

Workload: a seeded 3-node cluster run for 2 seconds of simulated time (a client placing
orders every 50 ms, the primary crashed at 600 ms and restarted at 1,200 ms, so the trace has
normal traffic, a view change and a state transfer). Then interleaved repeats of:

* ``clobkit.viz.cluster_animation(c)``: the public call, 120 frames over the 2 s (target:
  under 2 s); beside it the internal part, the per-moment states alone
  (``PictureTimeline.state`` for the same 120 times), so the plotly share is visible;
* ``clobkit.viz.cluster_picture(c, at_ms)``: one moment mid view change;
* ``clobkit.viz.picture_state(c, at_ms)``: the dict the dashboard's SVG panel draws;
* with ``--quick`` off, also a 7-node run (the dashboard's fps target size).

Medians of interleaved repeats in wall-clock time (``time.perf_counter``); 2 shared cores.
Usage: ``python benchmarks/bench_picture.py [--quick] [--json PATH] [--repeats R]``.
JSON keys: ``animation_build_s``, ``animation_states_only_s``, ``animation_frames``,
``picture_build_s``, ``picture_state_s``, ``trace_records``, ``animation_build_7_nodes_s``
(null with ``--quick``), ``target_animation_s`` (2.0), ``target_met``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import clobkit as ck
import clobkit.viz as cz
from clobkit.viz.picture import frame_times
from clobkit.viz.picture_data import PictureTimeline


def build_run(nodes: int = 3, seed: int = 1) -> ck.Cluster:
    """The 2-second workload of the module doc."""
    c = ck.Cluster(nodes=nodes, seed=seed, storage="memory")
    i = 0
    while c.now_ms < 2_000:
        if 600 <= c.now_ms < 650 and c.nodes["n0"].up:
            c.crash("n0")
        if c.now_ms >= 1_200 and not c.nodes["n0"].up:
            c.restart("n0")
        i += 1
        c.submit("alice", "place", side="buy" if i % 2 else "sell", price=f"{100 + i % 5}", qty=1)
        c.run(ms=min(50.0, 2_000 - c.now_ms))
    return c


def _median(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 nodes only, fewer repeats")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON here")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 7)

    c = build_run(3)
    vc = next(r.time_us for r in c.trace if r.kind == "view_change_start")
    times = frame_times(0, c.now_us, frames=120)
    cz.cluster_animation(c)  # warm plotly's validators once, as a notebook would
    anim: list[float] = []
    states: list[float] = []
    pic: list[float] = []
    state: list[float] = []
    for _ in range(repeats):  # interleaved, so load swings hit every measurement alike
        anim.append(_median(lambda: cz.cluster_animation(c), 1))

        def states_only() -> None:
            tl = PictureTimeline(c)
            for t in times:
                tl.state(t)

        states.append(_median(states_only, 1))
        pic.append(_median(lambda: cz.cluster_picture(c, at_ms=vc / 1000 + 1), 1))
        state.append(_median(lambda: cz.picture_state(c, at_ms=vc / 1000 + 1), 1))
    seven = None
    if not args.quick:
        c7 = build_run(7)
        cz.cluster_animation(c7)
        seven = _median(lambda: cz.cluster_animation(c7), repeats)
    out = {
        "animation_build_s": statistics.median(anim),
        "animation_states_only_s": statistics.median(states),
        "animation_frames": 120,
        "picture_build_s": statistics.median(pic),
        "picture_state_s": statistics.median(state),
        "trace_records": len(c.trace),
        "animation_build_7_nodes_s": seven,
        "target_animation_s": 2.0,
        "target_met": statistics.median(anim) < 2.0,
    }
    print(f"3-node 2 s run: {len(c.trace)} trace records, {len(times)} frames")
    print(
        f"cluster_animation (public):  {out['animation_build_s'] * 1000:8.1f} ms  "
        f"(target < 2000 ms: {'met' if out['target_met'] else 'MISSED'})"
    )
    print(
        f"  states only (internal):    {out['animation_states_only_s'] * 1000:8.1f} ms  "
        f"({out['animation_states_only_s'] / out['animation_build_s']:.0%} of the build)"
    )
    print(f"cluster_picture, one moment: {out['picture_build_s'] * 1000:8.1f} ms")
    print(f"picture_state, one moment:   {out['picture_state_s'] * 1000:8.1f} ms")
    if seven is not None:
        print(f"cluster_animation, 7 nodes:  {seven * 1000:8.1f} ms")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=2)
    return out


if __name__ == "__main__":
    main()
