"""benchmarks/bench_floor.py measures the floor of a replicated command: these tests prove its
loops do the work each layer claims (checked against a reference replay, layer by layer, and
each layer's run failing the checks of the layer above it), that the checks catch a loop that
does less, and that a tiny measurement writes every JSON key with positive layer times."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import bench_floor

from clobkit.book import Cancel, Place
from clobkit.storage.wal import WAL_FILE

N = 300


@pytest.fixture(scope="module")
def stream() -> bench_floor.Stream:
    return bench_floor.draw_stream(N, seed=5)


@pytest.fixture(scope="module")
def runs(stream: bench_floor.Stream) -> dict[str, bench_floor.FloorRun]:
    return {layer: bench_floor.run_layer(layer, stream) for layer in bench_floor.LAYERS}


def test_the_stream_is_the_workloads_kind_of_commands(stream: bench_floor.Stream) -> None:
    """Places and cancels by 64 users in turn, cancels of the user's own resting orders, about a
    quarter of them cancels, and the same seed draws the same stream."""
    kinds = Counter(type(c) for c in stream.commands)
    assert set(kinds) == {Place, Cancel}
    assert 0.1 < kinds[Cancel] / N < 0.3
    assert stream.users[:65] == [f"u{i}" for i in range(64)] + ["u0"]
    assert all(c.user == u for c, u in zip(stream.commands, stream.users, strict=True))
    assert {c.price for c in stream.commands if type(c) is Place} <= set(range(9_995, 10_006))
    again = bench_floor.draw_stream(N, seed=5)
    assert again.commands == stream.commands and again.digest == stream.digest
    assert bench_floor.draw_stream(N, seed=6).commands != stream.commands


def test_every_layer_passes_its_checks_and_fails_the_next_layers(
    stream: bench_floor.Stream, runs: dict[str, bench_floor.FloorRun]
) -> None:
    """Each layer's run holds the reference state for its own claims and those below, and
    lacks what the next layer claims: the layers are cumulative in the work they do."""
    layers = bench_floor.LAYERS
    for i, layer in enumerate(layers):
        run = runs[layer]
        assert run.seconds > 0 and run.us_per_command > 0
        bench_floor.verify(run, stream)
        for lower in layers[:i]:
            run.layer = lower
            bench_floor.verify(run, stream)
        run.layer = layer
        if i + 1 < len(layers):
            run.layer = layers[i + 1]
            with pytest.raises(AssertionError):
                bench_floor.verify(run, stream)
            run.layer = layer


def test_the_per_command_part_does_the_per_command_work_and_no_more(
    stream: bench_floor.Stream,
) -> None:
    """The per-command part applies, encodes and decodes and completes every call as the
    reference does, and has no WAL or messages (it fails the +client layer's checks)."""
    run = bench_floor.run_layer(bench_floor.PER_COMMAND, stream)
    assert run.us_per_command > 0 and not run.disks and not run.sent
    run.layer = "+client"
    with pytest.raises(AssertionError):
        bench_floor.verify(run, stream)


def test_the_checks_catch_a_loop_that_does_less(stream: bench_floor.Stream) -> None:
    """A book that missed a command, a lost WAL record, a message not sent and a history input
    changed are each refused."""
    run = bench_floor.run_layer("+client", stream)
    command = stream.commands[0]
    run.books[2].apply(Cancel("ACME", command.user, 10**6), N + 1, N + 1)  # a rejection: no change
    bench_floor.verify(run, stream)
    run.books[2].apply(Place("ACME", "zed", "buy", 9_000, 1), N + 1, N + 1)
    with pytest.raises(AssertionError, match="books differ"):
        bench_floor.verify(run, stream)

    run = bench_floor.run_layer("+wal", stream)
    disk = run.disks[1]
    image = disk.contents(WAL_FILE)
    disk.truncate(WAL_FILE, len(image) - 1)
    disk.fsync(WAL_FILE)
    with pytest.raises(AssertionError):
        bench_floor.verify(run, stream)

    run = bench_floor.run_layer("+messages", stream)
    run.sent["Prepare"] -= 1
    with pytest.raises(AssertionError):
        bench_floor.verify(run, stream)

    run = bench_floor.run_layer("+client", stream)
    assert run.history is not None
    records = run.history._records
    records[7] = records[7]._replace(input=("place", "ACME", "u7", "buy", 1, 1))
    with pytest.raises(AssertionError, match="other commands drawn"):
        bench_floor.verify(run, stream)

    run = bench_floor.run_layer("+codec", stream)
    run.replies[3] = b""
    with pytest.raises(AssertionError, match="replies differ"):
        bench_floor.verify(run, stream)


def test_a_tiny_measurement_writes_every_key(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """measure() at a tiny size gives every JSON key the issue names, positive layer times
    that add up to the floor, and the real run's message counts; report() prints them."""
    # (a full collection before each run steadies the timings; here nothing is compared, and
    # in a test process with many objects the collections would take most of the time)
    monkeypatch.setattr(bench_floor.gc, "collect", lambda: 0)
    figures = bench_floor.measure(200, 1, 2_000, log=False)
    for key in (
        "floor_us_per_command",
        "floor_layers_us",
        "floor_per_command_part_us",
        "real_cpu_us_per_command",
        "floor_share_of_35",
        "floor_best_sim_cluster_over_book",
        "book_us_per_apply",
        "messages_per_command",
        "entries_per_prepare",
        "wal_appends_per_command",
        "records_per_append",
        "records_per_sync",
        "phases_us",
        "gap_top10",
    ):
        assert key in figures, key
    layers = figures["floor_layers_us"]
    assert list(layers) == list(bench_floor.LAYERS)
    assert all(v > 0 for v in layers.values())
    assert all(v > 0 for v in figures["floor_layers_us_gc_off"].values())
    assert figures["floor_per_command_part_us"] > 0
    assert figures["floor_us_per_command"] == layers["+client"]
    assert sum(figures["floor_increments_us"].values()) == pytest.approx(layers["+client"])
    assert figures["floor_share_of_35"] == pytest.approx(layers["+client"] / 35)
    assert figures["floor_share_of_real"] == pytest.approx(
        layers["+client"] / figures["real_cpu_us_per_command"]
    )
    messages = figures["messages_per_command"]
    assert messages["Request"] >= 1.0 and messages["Reply"] >= 1.0
    assert 0 < messages["Prepare"] < 1 and figures["entries_per_prepare"] > 1
    assert figures["records_per_sync"] > 1
    assert len(figures["gap_top10"]) == 10
    assert sum(figures["phases_us"].values()) == pytest.approx(figures["real_cpu_us_per_command"])
    bench_floor.report(figures)
    assert "load average" in capsys.readouterr().out
