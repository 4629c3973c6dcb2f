"""The protocol's main stories, told with the hand-driven harness (shared by several tests)."""

from __future__ import annotations

from tests.replication.harness import Net


def normal_write() -> Net:
    """Two clients write at once: the primary pipelines/batches, commits, replies."""
    net = Net(3)
    a = net.put("alice", "x", "1")
    b = net.put("bob", "x", "2")
    net.wait("alice", a)
    net.wait("bob", b)
    c = net.put("alice", "y", "3")
    net.wait("alice", c)
    net.run(100_000)
    return net


def reads() -> Net:
    """A quorum read (with write-back when needed) and a primary read-index read."""
    net = Net(3)
    net.wait("alice", net.put("alice", "x", "1"))
    # Only the primary learns that op 2 committed: its Commit messages are held back, so
    # alice gets no reply yet (a majority must know first).
    net.hold(lambda m: m.kind == "Commit")
    w = net.put("alice", "x", "2")
    net.run(5_000)
    # Bob's quorum read sees commit 2 at n0 only: it writes commit 2 back to a majority
    # before returning, so no later read can go back to commit 1.
    r1 = net.read("bob", ("get", "x"), "quorum")
    net.wait("bob", r1)
    net.release()
    net.wait("alice", w)
    r2 = net.read("bob", ("get", "x"), "primary")
    net.wait("bob", r2)
    return net


def backup_crash_restart() -> Net:
    """n2 crashes, the others keep committing, n2 restarts from its disk and catches up."""
    net = Net(3)
    net.wait("alice", net.put("alice", "x", "1"))
    net.crash(2)
    net.wait("alice", net.put("alice", "x", "2"))
    net.wait("alice", net.put("alice", "x", "3"))
    net.restart(2)
    net.run(100_000)
    return net


def primary_crash_view_change() -> Net:
    """The primary crashes; a backup times out, n1 becomes primary of view 1 with the
    log from a majority; the client's retry reaches it."""
    net = Net(3)
    net.wait("alice", net.put("alice", "x", "1"))
    net.crash(0)
    net.wait("alice", net.put("alice", "x", "2"))
    net.run(50_000)
    return net


def replacement_state_transfer() -> Net:
    """n2's disk is replaced; it joins as a learner and gets the primary's snapshot + log."""
    net = Net(3, config_kwargs={"snapshot_every": 2})
    for v in "12345":
        net.wait("alice", net.put("alice", "x", v))
    net.replace(2)
    net.run(100_000)
    net.wait("alice", net.put("alice", "x", "6"))
    net.run(50_000)
    return net


def corrupt_entry_repair() -> Net:
    """n1 restarts with a bit flipped in op 2 of its WAL: it fetches op 2 from a peer that
    vouches for it (committed there) instead of truncating, then rejoins."""
    net = Net(3)
    for v in "1234":
        net.wait("alice", net.put("alice", "x", v))
    net.run(50_000)
    net.crash(1)
    net.corrupt_entry(1, 2)
    net.restart(1)
    net.run(100_000)
    return net


STORIES = {
    "normal_write": normal_write,
    "reads": reads,
    "backup_crash_restart": backup_crash_restart,
    "primary_crash_view_change": primary_crash_view_change,
    "replacement_state_transfer": replacement_state_transfer,
    "corrupt_entry_repair": corrupt_entry_repair,
}
