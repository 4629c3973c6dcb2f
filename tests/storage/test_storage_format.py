"""The record format never invents a record: fuzzed WAL images only yield records that were written.

Method: Hypothesis builds a small valid WAL image, then damages it arbitrarily (overwrite runs of
random bytes, delete or insert bytes, cut the tail). ``scan`` must not crash, must only report
records byte-identical to ones written (at most once each, in increasing op order), and every op
it accounts for must be either such a record or inside a reported corrupt range.
"""

from __future__ import annotations

import hypothesis.strategies as st
from hypothesis import given, settings

from clobkit.errors import StorageError
from clobkit.storage.format import (
    FILE_HEADER_SIZE,
    decode_record,
    encode_file_header,
    encode_record,
    scan,
)

damage = st.lists(
    st.tuples(
        st.sampled_from(["overwrite", "delete", "insert", "cut"]),
        st.floats(0, 1, exclude_max=True),
        st.binary(min_size=1, max_size=24),
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=400, deadline=None)
@given(
    payloads=st.lists(st.binary(max_size=20), min_size=1, max_size=8),
    base=st.integers(0, 5),
    damages=damage,
)
def test_scan_of_damaged_images_yields_only_written_records(
    payloads: list[bytes], base: int, damages: list[tuple[str, float, bytes]]
) -> None:
    records = [encode_record(1 + i // 3, base + 1 + i, p) for i, p in enumerate(payloads)]
    image = bytearray(encode_file_header(base, 1) + b"".join(records))
    written = {decode_record(r).op: decode_record(r) for r in records}
    for kind, where, data in damages:
        # Keep the file header intact: its damage is a separate, refused-to-open case.
        at = FILE_HEADER_SIZE + int(where * max(1, len(image) - FILE_HEADER_SIZE))
        if kind == "overwrite":
            image[at : at + len(data)] = data
        elif kind == "delete":
            del image[at : at + len(data)]
        elif kind == "insert":
            image[at:at] = data
        else:
            del image[at:]
    try:
        result = scan(bytes(image))
    except StorageError:  # pragma: no cover - the header is intact, so this must not happen
        raise AssertionError("scan refused an image with an intact header") from None
    ops = [op for op, *_ in result.records]
    assert ops == sorted(set(ops))
    for op, view, start, end in result.records:
        got = decode_record(bytes(image[start:end]))
        assert got == written[op] and got.view == view
    covered = set(ops)
    for region in result.corrupt:
        assert region.first_op <= region.last_op
        covered |= set(range(region.first_op, region.last_op + 1))
    assert covered == set(range(base + 1, result.last_op + 1))
    assert result.valid_end <= len(image)


@settings(max_examples=300, deadline=None)
@given(
    payloads=st.lists(st.binary(max_size=20), min_size=1, max_size=6),
    damages=damage,
)
def test_cutting_a_torn_tail_leaves_a_stable_log(
    payloads: list[bytes], damages: list[tuple[str, float, bytes]]
) -> None:
    # Recovery cuts the file at valid_end; scanning the cut file must find no torn tail and
    # the same records and corrupt ranges (so a second reopen reports a clean tail).
    image = bytearray(encode_file_header(0, 0))
    image += b"".join(encode_record(1, 1 + i, p) for i, p in enumerate(payloads))
    for kind, where, data in damages:
        at = FILE_HEADER_SIZE + int(where * max(1, len(image) - FILE_HEADER_SIZE))
        if kind == "overwrite":
            image[at : at + len(data)] = data
        elif kind == "cut":
            del image[at:]
        else:
            image[at:at] = data
    first = scan(bytes(image))
    again = scan(bytes(image[: first.valid_end]))
    assert again.torn_start is None
    assert again.records == first.records
    assert again.corrupt == first.corrupt
