"""Proves the learner mark in a store's metadata (issue 11/12) for FileStore and MemoryStore:
it survives a crash, a bad value is refused with the disk unchanged, ordinary metadata is
written byte for byte as before the mark existed (so old files open, as non-learners), and
a metadata file with a field this clobkit does not know is refused clearly, not misread."""

from __future__ import annotations

import json

import pytest

from clobkit.errors import InvalidType, UnsupportedFormat
from clobkit.storage import Metadata
from clobkit.storage.format import encode_blob

from .conftest import CLUSTER, FileHarness, Harness, MemoryHarness


def _write_meta(harness: Harness, fields: dict[str, object]) -> None:
    """Write a metadata file by hand, as an older (or newer) clobkit would have."""
    data = encode_blob(
        b"CLOBMETA", json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    )
    if isinstance(harness, MemoryHarness):
        harness.disk.create("meta", data)
        harness.disk.fsync("meta")
        harness.disk.fsync_dir()
    else:
        assert isinstance(harness, FileHarness)
        (harness.path / "meta").write_bytes(data)


def _meta_bytes(harness: Harness) -> bytes:
    if isinstance(harness, MemoryHarness):
        return harness.disk.contents("meta", durable=True)
    assert isinstance(harness, FileHarness)
    return (harness.path / "meta").read_bytes()


def test_learner_mark_survives_a_crash_and_bad_values_change_nothing(harness: Harness) -> None:
    store = harness.open()
    meta = Metadata(CLUSTER, 0, view=4, last_normal_view=3, commit_number=7, learner=True)
    store.save_metadata(meta)
    before = harness.digest()
    with pytest.raises(InvalidType, match=r"meta\.learner must be a bool"):
        store.save_metadata(Metadata(CLUSTER, 0, learner=1))  # type: ignore[arg-type]
    assert harness.digest() == before
    store.crash()
    reopened = harness.open()
    assert reopened.load_metadata() == meta
    cleared = Metadata(CLUSTER, 0, view=4, last_normal_view=4, commit_number=9)
    reopened.save_metadata(cleared)
    reopened.crash()
    assert harness.open().load_metadata() == cleared


def test_ordinary_metadata_keeps_its_old_bytes_and_old_files_open(harness: Harness) -> None:
    old = {
        "cluster_id": CLUSTER,
        "replica_id": 0,
        "view": 2,
        "last_normal_view": 2,
        "vote": None,
        "commit_number": 5,
        "commit_file": True,
    }
    store = harness.open()
    store.save_metadata(Metadata(CLUSTER, 0, view=1))  # meta now records the commit file
    store.close()
    _write_meta(harness, old)  # exactly what a clobkit without the mark wrote
    written_by_old = _meta_bytes(harness)
    store = harness.open()
    meta = store.load_metadata()
    assert meta == Metadata(CLUSTER, 0, view=2, last_normal_view=2, commit_number=5)
    assert meta is not None and meta.learner is False
    store.save_metadata(meta)
    assert _meta_bytes(harness) == written_by_old


def test_metadata_with_an_unknown_field_is_refused_and_left_alone(harness: Harness) -> None:
    harness.open().close()
    _write_meta(harness, {"cluster_id": CLUSTER, "replica_id": 0, "view": 1, "epoch": 3})
    before = harness.digest()
    with pytest.raises(UnsupportedFormat, match=r"unknown fields \['epoch'\]"):
        harness.open()
    assert harness.digest() == before
