"""Golden transcripts: each main protocol story, told step by step, must match its checked-in file.

Each story (tests/replication/stories.py) drives real replicas over MemoryStores with
the hand-driven harness; the transcript (every delivered message and every
interesting trace event, with simulated times) is compared exactly with
``tests/replication/transcripts/<story>.txt``. Regenerate only when the diff is
understood: ``pytest tests/replication --rewrite`` (or ``CLOBKIT_REWRITE=1``).
Each test also asserts the facts the story claims, so a rewritten transcript
cannot hide a broken story, and runs the story twice to prove determinism.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.replication.harness import Net
from tests.replication.stories import STORIES

TRANSCRIPTS = Path(__file__).parent / "transcripts"


def _text(net: Net) -> str:
    footer = [repr(r) + " " + repr(r.machine.query(("all",))) for r in net.up()]
    return "\n".join([*net.lines, "-- final state", *footer]) + "\n"


def _state(net: Net) -> list[tuple[int, int, str]]:
    return [(r.commit_number, r.applied_op, r.machine.digest()) for r in net.up()]


def _facts(name: str, net: Net) -> None:
    """What each story claims, asserted on the replicas (not on the transcript)."""
    values = {r.index: r.machine.query(("get", "x")) for r in net.up()}
    kinds = [e.kind for _, e in net.events]
    if name == "normal_write":
        assert all(v == ("1", "2") for v in values.values())
        # The two simultaneous requests went out in one Prepare carrying two entries.
        assert any("Prepare v0 op=2" in line and "1@v0" in line for line in net.lines)
    elif name == "reads":
        outcomes = [net.clients["bob"].result(h) for h in (1, 2)]
        assert [o.value for o in outcomes if o] == [("1", "2"), ("1", "2")]
        assert any("WriteBack v0 id=1 commit=2" in line for line in net.lines)
    elif name == "backup_crash_restart":
        assert values[2] == ("1", "2", "3") and "state_transfer" in kinds
    elif name == "primary_crash_view_change":
        assert net.primaries() == [1] and net.r(1).view == 1
        assert values == {1: ("1", "2"), 2: ("1", "2")}
    elif name == "replacement_state_transfer":
        assert "install_snapshot" in kinds and "learner_caught_up" in kinds
        assert values[2] == tuple("123456") and net.r(2).status == "normal"
    elif name == "corrupt_entry_repair":
        assert "repair" in kinds and "repair_truncate" not in kinds
        assert values[1] == tuple("1234") and net.r(1).status == "normal"
    digests = {r.machine.digest() for r in net.up()}
    assert len(digests) == 1, "replicas at the same commit number disagree"


@pytest.mark.parametrize("name", sorted(STORIES))
def test_story_matches_golden_transcript(name: str, rewrite: bool) -> None:
    net = STORIES[name]()
    _facts(name, net)
    text = _text(net)
    again = STORIES[name]()
    assert _text(again) == text and _state(again) == _state(net), "story is not deterministic"
    path = TRANSCRIPTS / f"{name}.txt"
    if rewrite:
        TRANSCRIPTS.mkdir(exist_ok=True)
        path.write_text(text)
        return
    assert path.exists(), f"no golden transcript {path}; run pytest tests/replication --rewrite"
    assert text == path.read_text(), f"{name} transcript changed; diff it, then --rewrite"
