"""Proves the client side's one-frame paths change nothing: RandomWorkload's inlined random
draws and its calls through Cluster._submit_write give the same calls, history, journal,
random streams and replica state as the same workload written with the public API
(rng.choices/choice/randint/randrange, Cluster.submit, World.schedule), over many seeds,
parameters and fault schedules; _submit_write raises what _submit raises and changes nothing
then; ClientSession.submit_quiet/reply_quiet leave a session exactly as submit/handle do;
a plain place's inlined history input is command_input's. Method: twin clusters and twin
sessions driven side by side, compared field by field."""

from __future__ import annotations

import copy
import random
from decimal import Decimal
from typing import Any

import pytest

import clobkit as ck
from clobkit.book.records import command_input
from clobkit.errors import ClobError
from clobkit.replication import ClusterConfig
from clobkit.replication.client import ClientSession
from clobkit.replication.messages import Reply, WriteBack
from clobkit.sim import calls
from clobkit.sim.faults import random_faults
from clobkit.sim.workload import RandomWorkload

SPEC = ck.MarketSpec("ACME", tick="0.01")


class PublicWorkload(RandomWorkload):
    """RandomWorkload's loop written with the public API, draw for draw: what the inlined
    draws and Cluster._submit_write must reproduce exactly."""

    def _schedule(self, user: str) -> None:
        if self.stopped:
            return
        if self.ops_per_user is not None and self.issued[user] >= self.ops_per_user:
            return
        world = self.cluster.world
        think = self.rng.randint(self.think_us_min, self.think_us_max)
        world.schedule(world.now_us + think, self._issue, user)

    def _issue(self, user: str) -> None:
        c = self.cluster
        if self.stopped or c._closed:
            return
        rng, timeout = self.rng, self.timeout_ms
        kind = rng.choices(self.kinds, self.weights)[0]
        live = self.resting[user]
        if kind in ("cancel", "modify") and not live:
            kind = "place"
        if kind == "place":
            side = rng.choice(("buy", "sell"))
            offset = rng.randint(-self.spread_ticks, self.spread_ticks)
            ticks = self.mid_ticks + (offset if side == "buy" else -offset)
            price = c.market.ticks_to_price(ticks)
            qty = rng.randint(1, self.qty_max)
            call = c.submit(user, "place", side=side, price=price, qty=qty, timeout_ms=timeout)
        elif kind == "cancel":
            order_id = live.pop(rng.randrange(len(live)))
            call = c.submit(user, "cancel", order_id=order_id, timeout_ms=timeout)
        elif kind == "modify":
            order_id = live[rng.randrange(len(live))]
            qty = rng.randint(1, self.qty_max)
            call = c.submit(user, "modify", order_id=order_id, qty=qty, timeout_ms=timeout)
        else:
            self._reads += 1
            read = ("fills", "live_orders", "depth")[self._reads % 3]
            if read == "depth":
                call = c.submit(user, read, timeout_ms=timeout, levels=5)
            else:
                call = c.submit(user, read, timeout_ms=timeout, user=user)
        self.issued[user] += 1
        call.on_done.append(self._on_done)


def _call_row(call: Any) -> tuple[Any, ...]:
    return (
        call.kind,
        call.client_id,
        call.input,
        call.call_us,
        call.deadline_us,
        call.history_index,
        call.outcome,
        repr(call.value),
        repr(call.error),
        call.return_us,
        call.handle,
        call.payload,
        call.request,
        len(call.on_done),
    )


def _state(c: ck.Cluster, w: RandomWorkload | None = None) -> dict[str, Any]:
    """Everything a run leaves that the two paths could differ in."""
    world = c.world
    sessions = {
        name: (
            node.session.view,
            node.session._next_handle,
            node.session._next_request,
            dict(node.session.counters),
            node.session._rng.getstate(),
            sorted(node.pending),
            node.host.timer_at_us,
            node.host._timer_due,
            list(node.session.finished),
            dict(node.session._outcomes),
        )
        for name, node in c._clients.items()
    }
    state = {
        "history": c.history.to_jsonl(),
        "journal": [tuple(e) for e in c.journal],
        "calls": [_call_row(x) for x in c.calls],
        "clock": (world.now_us, world.events_processed, world._seq, world._msg_id),
        "net": world._net_rng.getstate(),
        "heap": sorted((t, s) for t, s, *_ in world._heap),
        "sessions": sessions,
        "deadlines": [(t, s, x.history_index) for t, s, x in c._deadlines],
        "queued": list(c._deadlines_queued),
        "pending": c._pending,
        "log": c.committed_log(),
        "violations": [repr(v) for v in c.violations],
    }
    if w is not None:
        state["workload"] = (
            w.completed,
            w.outcomes,
            w.issued,
            w.resting,
            w._reads,
            w.rng.getstate(),
        )
    return state


def _run(cls: type[RandomWorkload], seed: int, params: dict[str, Any], faults: bool) -> Any:
    trace = params.pop("trace", False)
    c = ck.Cluster(3, seed=seed, storage="memory", trace=trace, market=SPEC, timeout_ms=300)
    w = cls(c, users=["u1", "u2", "u3", "u4"], ops_per_user=20, **params)
    w.start()
    if faults:
        start = c.now_us
        c.schedule_faults(
            random_faults(
                c.world.streams.stream("faults"),
                c.replica_names,
                start_us=start,
                duration_us=300_000,
            )
        )
    c.run(ms=1_500)
    state = _state(c, w)
    c.close()
    return state


# (parameters, with faults?) Short timeouts and faults make calls time out while their
# session still retries, so later writes queue behind them and replies come for old requests.
CASES: list[tuple[dict[str, Any], bool]] = [
    ({}, False),
    ({"mix": {"place": 0.75, "cancel": 0.25}, "think_us_max": 0}, False),
    (
        {
            "mix": {"place": 1.0},
            "spread_ticks": 0,
            "qty_max": 1,
            "think_us_min": 7,
            "think_us_max": 7,
        },
        False,
    ),
    ({"spread_ticks": 40, "qty_max": 16, "think_us_max": 5_000, "timeout_ms": 40}, True),
    ({"mix": {"place": 0.5, "cancel": 0.3, "read": 0.2}, "qty_max": 7, "timeout_ms": 25}, True),
    # widths that are powers of two (a draw of n.bit_length() bits, not (n - 1)'s)
    ({"think_us_min": 1, "think_us_max": 1_024, "qty_max": 8, "spread_ticks": 8}, False),
    ({"think_us_max": 63, "qty_max": 2, "mix": {"place": 0.6, "cancel": 0.4}}, True),
    ({"trace": True}, True),  # traced sessions: _submit_write takes the general path
]


@pytest.mark.parametrize(("params", "faults"), CASES)
def test_the_workload_makes_the_public_apis_calls(params: dict[str, Any], faults: bool) -> None:
    for seed in range(6):
        fast = _run(RandomWorkload, seed, dict(params), faults)
        public = _run(PublicWorkload, seed, dict(params), faults)
        for key in public:
            assert fast[key] == public[key], (seed, key)
        assert fast["workload"][0] > 20  # (calls did complete)


def _twins(market: ck.MarketSpec = SPEC) -> tuple[ck.Cluster, ck.Cluster]:
    twins = []
    for _ in range(2):
        c = ck.Cluster(3, seed=4, storage="memory", trace=False, market=market)
        # al's session exists; the Decimal 100.50 was converted (the fast path's conditions)
        c.place("al", "sell", price=Decimal("100.50"), qty=5)
        twins.append(c)
    return twins[0], twins[1]


def _plain(**extra: Any) -> dict[str, Any]:
    return {"side": "buy", "price": Decimal("100.50"), "qty": 2, "timeout_ms": None, **extra}


BAD_OR_OTHER: list[tuple[str, str, dict[str, Any]]] = [
    ("al", "place", _plain()),
    ("al", "place", _plain(timeout_ms=50)),
    ("al", "place", {"side": "buy", "price": Decimal("100.50"), "qty": 2}),  # no timeout_ms
    ("al", "place", {**_plain(), "tif": "ioc"}),
    ("al", "place", {**_plain(), "order_type": "market"}),
    ("al", "place", _plain(side="BUY")),
    ("al", "place", _plain(side=None)),
    ("al", "place", _plain(timeout_ms=-1)),
    ("al", "place", _plain(timeout_ms=-1, side="up")),  # (which error first)
    ("al", "place", _plain(timeout_ms="soon")),
    ("al", "place", _plain(timeout_ms=float("nan"))),
    ("al", "place", _plain(timeout_ms=True)),
    ("al", "place", _plain(timeout_ms=0.0004)),  # (rounds to 0 us)
    ("al", "place", _plain(timeout_ms=12.3456)),
    ("al", "place", _plain(qty=0)),
    ("al", "place", _plain(qty=True)),
    ("al", "place", _plain(qty=2**63)),
    ("al", "place", _plain(qty=2.0)),
    ("al", "place", _plain(price=Decimal("100.5"))),  # equal to a converted price
    ("al", "place", _plain(price=Decimal("100.505"))),  # off the tick
    ("al", "place", _plain(price=Decimal("99"))),  # not converted before
    ("al", "place", _plain(price="100.50")),
    ("al", "place", _plain(price=100)),
    ("bo", "place", _plain()),  # no session yet
    ("b o", "place", _plain()),  # not a user name
    ("al", "cancel", {"order_id": 1, "timeout_ms": None}),
    ("al", "cancel", {"order_id": 99, "timeout_ms": 10}),
    ("al", "cancel", {"order_id": 0, "timeout_ms": None}),
    ("al", "cancel", {"order_id": "1", "timeout_ms": None}),
    ("al", "cancel", {"order_id": 1, "timeout_ms": "soon"}),
    ("al", "cancel", {"order_id": 1}),
    ("al", "cancel", {"client_order_id": "c1", "timeout_ms": None}),
    ("al", "modify", {"order_id": 1, "qty": 2, "timeout_ms": None}),
    ("al", "fills", {"user": "al", "timeout_ms": None}),
    ("al", "depth", {"levels": 0, "timeout_ms": None}),
    ("al", "teleport", {"timeout_ms": None}),
]


@pytest.mark.parametrize("market", [SPEC, ck.MarketSpec("ACME", tick="0.01", lot="0.5")])
@pytest.mark.parametrize(("user", "kind", "kwargs"), BAD_OR_OTHER)
def test_submit_write_does_what_submit_does(
    user: str, kind: str, kwargs: dict[str, Any], market: ck.MarketSpec
) -> None:
    # Each call through _submit_write on one twin and _submit on the other: the same error
    # (and then no change at all), or the same call, journal, history and run.
    fast, general = _twins(market)
    before = _state(fast)
    outcomes = []
    for c, submit in ((fast, fast._submit_write), (general, general._submit)):
        try:
            call = submit(user, kind, copy.deepcopy(kwargs))
        except ClobError as exc:
            outcomes.append((type(exc), str(exc)))
            assert _state(c) == before  # nothing changed
        else:
            outcomes.append(("call", _call_row(call)))
    assert outcomes[0] == outcomes[1]
    fast.run()
    general.run()
    assert _state(fast) == _state(general)


def test_submit_write_takes_one_frame_for_the_plain_writes() -> None:
    # (so that the comparisons above compare the fast path, not the general one twice)
    c, _ = _twins()

    def general(*args: Any) -> Any:
        raise AssertionError("took the general path")

    c._submit = c._start = general  # type: ignore[method-assign]
    c._submit_write("al", "place", _plain())
    c._submit_write("al", "cancel", {"order_id": 1, "timeout_ms": 5})
    with pytest.raises(ck.errors.InvalidArgument, match="side"):
        c._submit_write("al", "place", _plain(side="BUY"))
    assert [x.kind for x in c.calls] == ["place", "place", "cancel"]


def test_resolved_writes_are_recorded_as_complete_records_them() -> None:
    # Cluster._resolve writes a committed write's history record itself: rebuilt through
    # ClientHistory.invoke/complete (what settle() and _finish() would record: the output
    # write_output(result), the hint the op), the history reads the same.
    from clobkit.book.records import write_output
    from clobkit.sim.history import ClientHistory

    c = ck.Cluster(3, seed=3, storage="memory", trace=False, market=SPEC, timeout_ms=30)
    RandomWorkload(c, users=["a", "b", "c"], ops_per_user=30).start()
    c.schedule_faults(
        random_faults(c.world.streams.stream("faults"), c.replica_names, duration_us=200_000)
    )
    c.run(ms=1_000)
    rebuilt = ClientHistory(market=SPEC)
    writes = 0
    for x in c.calls:
        index = rebuilt.invoke(x.client_id, x.input, x.call_us)
        rec = c.history[index]
        if x.outcome == "pending":
            continue
        if x.outcome == "ok" and x.kind in calls.WRITE_KINDS:
            writes += 1
            rebuilt.complete(index, "ok", write_output(x.value.result), x.return_us, x.value.op)
        else:
            rebuilt.complete(index, rec.outcome, rec.output, rec.return_us, rec.hint)
    assert writes > 30
    assert rebuilt.to_jsonl() == c.history.to_jsonl()


def test_submit_write_takes_the_general_path_where_it_must() -> None:
    # Inside a journaled method, on a closed cluster, with an unpolled outcome: as _submit.
    fast, general = _twins()
    for c in (fast, general):
        c._journal_depth += 1  # (as if a journaled method were running)
    fast._submit_write("al", "place", _plain())
    general._submit("al", "place", _plain())
    for c in (fast, general):
        c._journal_depth -= 1
        c.run()
    assert _state(fast) == _state(general)
    for c in (fast, general):
        c.close()
    for submit in (fast._submit_write, general._submit):
        with pytest.raises(ck.errors.InvalidArgument, match="closed"):
            submit("al", "place", _plain())


def test_a_plain_places_history_input_is_command_input() -> None:
    for spec in (SPEC, ck.MarketSpec("X", tick="0.5", lot=1), ck.MarketSpec("Y", lot="0.1")):
        for side in ("buy", "sell"):
            for price, qty in (("1", 1), ("100.50", 3), (Decimal("2"), 10)):
                if spec.symbol == "X" and price == "100.50":
                    continue
                args = {"side": side, "price": price, "qty": qty}
                command, recorded = calls.build_command(spec, "place", "al", args, {})
                assert recorded == command_input(command)
                assert [type(v) for v in recorded] == [type(v) for v in command_input(command)]


def _session(seed: int) -> ClientSession:
    config = ClusterConfig("demo", 3)
    return ClientSession(config, "al", rng=random.Random(seed), trace_events=False, max_attempts=3)


def _session_state(s: ClientSession) -> tuple[Any, ...]:
    write = s._write
    return (
        s.view,
        s._now,
        s._next_handle,
        s._next_request,
        dict(s.counters),
        s._rng.getstate(),
        None if write is None else repr(write),
        [repr(q) for q in s._queued],
        sorted(s._reads),
        dict(s._outcomes),
        list(s.finished),
        s.wake_at_us,
    )


def _reply(**fields: Any) -> Reply:
    base: dict[str, Any] = {
        "cluster_id": "demo",
        "source": "n0",
        "target": "client:al",
        "view": 0,
        "client_id": "al",
        "request_number": 1,
        "ok": True,
        "op": 3,
        "reply": b"r",
    }
    base.update(fields)
    return Reply(**base)


MESSAGES = [
    _reply(),
    _reply(view=4),
    _reply(source="n2", view=2),
    _reply(request_number=2),
    _reply(request_number=0),
    _reply(ok=False, error="not_primary", view=1, op=None, reply=b""),
    _reply(ok=False, error="stale_request", op=None, reply=b""),
    _reply(ok=False, error="no_quorum", op=None, reply=b""),
    _reply(client_id="bo"),
    _reply(cluster_id="other"),
    _reply(target="client:bo"),
    _reply(source="n9"),
    _reply(source=["n0"]),  # malformed (unhashable)
    _reply(view=-1),
    _reply(op=-3),
    _reply(ok=1),
    WriteBack(cluster_id="demo", source="n0", target="client:al", view=0, read_id=1, commit=1),
]


@pytest.mark.parametrize("message", MESSAGES, ids=range(len(MESSAGES)))
@pytest.mark.parametrize("setup", ["one write", "queued", "read", "none", "retried"])
def test_reply_quiet_is_handle_or_nothing(message: Any, setup: str) -> None:
    # Twin sessions: reply_quiet either declines and changes nothing, or leaves the session
    # as handle() does, returning the outcome handle() adds to `finished`, where handle()'s
    # Step asks for nothing.
    twins = [_session(7), _session(7)]
    for s in twins:
        if setup != "none":
            s.submit(b"w1", 10)
        if setup == "queued":
            s.submit(b"w2", 20)
        if setup == "read":
            s.read(("fills", "ACME", None), 30)
        if setup == "retried":
            s.tick(s.wake_at_us or 0)
    quiet, general = twins
    before = _session_state(quiet)
    outcome = quiet.reply_quiet(message, 900)
    step = general.handle(message, 900)
    if outcome is None:
        assert _session_state(quiet) == before
        quiet.handle(message, 900)
        assert _session_state(quiet) == _session_state(general)
        return
    assert general.finished == [outcome]
    assert (step.messages, step.events, step.delay_us, step.wake_at_us) == ([], [], 0, None)
    assert step.sync_us is None and not step.early
    general.finished.clear()
    assert _session_state(quiet) == _session_state(general)
    assert setup in ("one write", "retried") and message.ok  # (the case it is for)


@pytest.mark.parametrize("timeout_us", [1, 10, 25, 160, 100_000])
def test_submit_quiet_draws_what_submit_draws(timeout_us: int) -> None:
    # Twin sessions, 300 writes each ended by its reply: the same Requests and deadlines
    # (the jitter draw inlined), over request timeouts whose jitter widths are small.
    for seed in range(8):
        config = ClusterConfig("demo", 3, request_timeout_us=timeout_us)
        quiet, general = (
            ClientSession(config, "al", rng=random.Random(seed), trace_events=False)
            for _ in range(2)
        )
        for k in range(1, 301):
            handle, request, wake = quiet.submit_quiet(b"w", k * 1_000)
            handle_general, step = general.submit(b"w", k * 1_000)
            assert (handle, [request], wake) == (handle_general, step.messages, step.wake_at_us)
            reply = _reply(request_number=k, op=k)
            assert quiet.reply_quiet(reply, k * 1_000 + 1) is not None
            general.handle(reply, k * 1_000 + 1)
            general.finished.clear()
        assert _session_state(quiet) == _session_state(general)


@pytest.mark.parametrize("setup", ["first", "queued", "read", "after a retry"])
def test_submit_quiet_is_submit(setup: str) -> None:
    # Twin sessions: submit_quiet returns the Step's Request and timer, and leaves the
    # session as submit() does (same handle, request number, deadline draw).
    twins = [_session(3), _session(3)]
    for s in twins:
        if setup == "queued":
            s.submit(b"w0", 5)
        if setup == "read":
            s.read(("depth", "ACME", 5), 5)
        if setup == "after a retry":
            s.submit(b"w0", 5)
            s.tick(s.wake_at_us or 0)
            s.handle(_reply(view=1, source="n1"), 9_000)  # ends w0, learns view 1
            s.finished.clear()
    quiet, general = twins
    handle, request, wake = quiet.submit_quiet(b"w1", 10_000)
    handle_general, step = general.submit(b"w1", 10_000)
    assert handle == handle_general
    assert step.messages == ([] if request is None else [request])
    assert (step.wake_at_us, step.events, step.delay_us) == (wake, [], 0)
    assert _session_state(quiet) == _session_state(general)
    with pytest.raises(ck.errors.InvalidType, match="payload must be bytes"):
        quiet.submit_quiet("w2", 10_001)  # type: ignore[arg-type]
    assert _session_state(quiet) == _session_state(general)


def test_the_shared_empty_step_cannot_change() -> None:
    with pytest.raises(AttributeError):
        calls.NO_STEP.messages.append(None)  # type: ignore[arg-type]
    assert not (calls.NO_STEP.messages or calls.NO_STEP.events or calls.NO_STEP.early)
    assert calls.NO_STEP.wake_at_us is None and calls.NO_STEP.sync_us is None


def test_a_reply_after_an_unpolled_outcome_resolves_in_call_order() -> None:
    # A resolve callback that raised leaves outcomes in `finished`; the next reply must then
    # take the general path, which resolves the older call first (ClientNode.poll's order).
    session = ClientSession(
        ClusterConfig("demo", 3), "al", rng=random.Random(1), trace_events=False, max_attempts=1
    )
    seen: list[int] = []

    def resolve(call: Any, outcome: Any, now: int) -> None:
        seen.append(outcome.handle)
        if outcome.handle == 1:
            raise RuntimeError("a callback failed")

    node = calls.ClientNode("al", session, resolve)
    for handle in (1, 2, 3):
        node.pending[handle] = handle  # type: ignore[assignment]
    session.read(("fills", "ACME", None), 0)  # handles 1 and 2: reads that will time out
    session.read(("fills", "ACME", None), 0)
    due = max(read.deadline for read in session._reads.values())
    session.submit(b"w", due - 1)  # handle 3, its deadline later
    with pytest.raises(RuntimeError):
        node.tick(due)  # both reads give up; resolving the first raises
    assert seen == [1] and [o.handle for o in session.finished] == [2]
    node.handle(_reply(), due + 5)
    assert seen == [1, 2, 3] and not session.finished
