"""The commit file keeps the durable commit number across crashes, torn slot writes and
old directories, and a damaged or missing one is reported, never silently trusted.

Method: drive a MemoryStore/FileStore directly (save, crash, reopen), damage the commit
file's bytes on a MemoryDisk, and check what reopening reports; then a 3-node cluster in
read_mode="quorum" crashes and restarts every replica and must recover its commit number.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import clobkit as ck
from clobkit.errors import CorruptEntry, InvalidArgument, InvalidType
from clobkit.storage import FileStore, MemoryDisk, MemoryStore, Metadata
from clobkit.storage.store import _COMMIT_SLOT, _KIND_META, COMMIT_FILE, META_FILE, _encode_json


def _store(disk: MemoryDisk) -> MemoryStore:
    return MemoryStore(disk, cluster_id="c", replica_id=0)


def _saved(disk: MemoryDisk, commits: list[int]) -> MemoryStore:
    store = _store(disk)
    store.save_metadata(Metadata("c", 0, view=3, last_normal_view=3, commit_number=1))
    for commit in commits:
        assert store.save_commit(commit).fsyncs == 1
    return store


def test_saved_commit_survives_a_crash_and_meta_keeps_its_other_fields() -> None:
    disk = MemoryDisk()
    _saved(disk, [4, 9, 12]).crash()
    meta = _store(disk).load_metadata()
    assert meta is not None
    assert (meta.view, meta.last_normal_view, meta.commit_number) == (3, 3, 12)


def test_a_commit_not_yet_fsynced_is_lost_and_the_previous_one_kept() -> None:
    disk = MemoryDisk()
    store = _saved(disk, [5])
    disk.lose_next_sync(COMMIT_FILE)  # the fsync claims success, the bytes never land
    store.save_commit(6)
    store.crash()
    meta = _store(disk).load_metadata()
    assert meta is not None and meta.commit_number == 5


@pytest.mark.parametrize("saves", [1, 2, 3, 4])
def test_a_torn_last_slot_falls_back_to_the_slot_before_it(saves: int) -> None:
    disk = MemoryDisk()
    commits = [10 * (k + 1) for k in range(saves)]
    store = _saved(disk, commits)
    store.crash()
    # The last save wrote slot (its sequence mod 2): tear it (a bit of its checksum).
    last_slot = (saves + 1) % 2  # a new disk starts at sequence 1; save k is sequence 1 + k
    disk.flip_bit(COMMIT_FILE, last_slot * _COMMIT_SLOT + _COMMIT_SLOT - 1, 0)
    meta = _store(disk).load_metadata()
    previous = commits[-2] if saves > 1 else 1  # before any save_commit: meta's own number
    assert meta is not None and meta.commit_number == previous


def test_both_slots_damaged_is_refused_with_a_clear_error_and_nothing_changed() -> None:
    disk = MemoryDisk()
    _saved(disk, [7]).crash()
    for slot in (0, 1):
        disk.flip_bit(COMMIT_FILE, slot * _COMMIT_SLOT + 20, 3)
    before = disk.digest()
    with pytest.raises(CorruptEntry, match="commit: neither slot is valid"):
        _store(disk)
    assert disk.digest() == before


def test_a_lost_commit_file_is_damage_the_replica_must_not_trust() -> None:
    disk = MemoryDisk()
    _saved(disk, [7]).crash()
    disk.remove(COMMIT_FILE)
    disk.fsync_dir()
    assert _store(disk).missing_files == (COMMIT_FILE,)


def test_a_directory_from_before_the_commit_file_opens_and_gains_one(tmp_path: Path) -> None:
    with FileStore(tmp_path / "n0", cluster_id="c", replica_id=0) as store:
        store.save_metadata(Metadata("c", 0, view=1, last_normal_view=1, commit_number=2))
    # What an older clobkit wrote: no commit file, and a meta that does not mention one.
    (tmp_path / "n0" / COMMIT_FILE).unlink()
    fields = {"cluster_id": "c", "replica_id": 0, "view": 1, "last_normal_view": 1}
    old_meta = _encode_json(_KIND_META, {**fields, "vote": None, "commit_number": 2})
    (tmp_path / "n0" / META_FILE).write_bytes(old_meta)
    with FileStore(tmp_path / "n0", cluster_id="c", replica_id=0) as store:
        assert store.missing_files == ()
        meta = store.load_metadata()
        assert meta is not None and meta.commit_number == 2
        assert store.save_commit(5).fsyncs == 4  # creates the file, records it in meta
        assert store.save_commit(6).fsyncs == 1
    with FileStore(tmp_path / "n0", cluster_id="c", replica_id=0) as store:
        meta = store.load_metadata()
        assert meta is not None and (meta.view, meta.commit_number) == (1, 6)


@pytest.mark.parametrize(
    ("value", "error"), [(-1, InvalidArgument), (True, InvalidType), ("3", InvalidType)]
)
def test_bad_commit_numbers_are_refused_and_change_nothing(
    value: object, error: type[Exception]
) -> None:
    disk = MemoryDisk()
    store = _saved(disk, [3])
    before = disk.digest()
    with pytest.raises(error, match="commit_number"):
        store.save_commit(value)  # type: ignore[arg-type]
    assert disk.digest() == before
    meta = store.load_metadata()
    assert meta is not None and meta.commit_number == 3


def test_save_commit_before_any_metadata_is_refused() -> None:
    disk = MemoryDisk()
    store = _store(disk)
    before = disk.digest()
    with pytest.raises(InvalidArgument, match="needs saved metadata"):
        store.save_commit(1)
    assert disk.digest() == before and store.load_metadata() is None


def test_every_replica_recovers_its_durable_commit_after_a_whole_cluster_crash() -> None:
    with ck.Cluster(3, seed=4, storage="memory", read_mode="quorum") as c:
        for k in range(6):
            c.place("alice", "buy", price=str(90 + k), qty=1)
        c.run(ms=50)
        commits = {n: c.nodes[n].commit_number for n in c.replica_names}
        for n in c.replica_names:
            c.crash(n)
        for n in c.replica_names:
            c.restart(n)
        c.run(ms=1)  # the first tick hands over what opening the store traced
        for n in c.replica_names:
            recover = c.trace.select("recover", node=n)[-1]
            assert recover.detail is not None and recover.detail["commit"] == commits[n], n


def test_a_replica_whose_commit_file_is_lost_restarts_as_a_learner() -> None:
    import random

    from clobkit.replication import ClusterConfig, KvMachine, Replica

    disk = MemoryDisk()
    cfg = ClusterConfig("c", 3)
    r = Replica(cfg, 0, _store(disk), KvMachine(), rng=random.Random(1))
    assert r.status == "normal"
    r.store.save_commit(0)
    r.store.crash()
    disk.remove(COMMIT_FILE)
    disk.fsync_dir()
    again = Replica(cfg, 0, _store(disk), KvMachine(), rng=random.Random(1))
    assert again.status == "learner"
    kinds = [e.kind for e in again.tick(0).events]
    assert "damaged_disk" in kinds
