"""The first command/result codec (``Reader``/``Writer`` based), kept as the test oracle.

This is ``clobkit/book/codec.py`` and ``clobkit/book/wire.py`` as they were before the fast
codec (commit 53a6306), copied verbatim except for the module layout. The shipped codec must
produce byte-identical output and raise the same errors with the same messages
(``tests/book/test_book_codec_oracle.py``); ``benchmarks/bench_codec.py`` times both side by
side. It is not part of the package.
"""

from __future__ import annotations

import sys
from array import array

from clobkit.book.commands import (
    ORDER_TYPES,
    SIDES,
    STP_MODES,
    TIFS,
    Cancel,
    Command,
    Modify,
    Place,
)
from clobkit.book.results import STATUSES, ApplyResult, Fill
from clobkit.errors import InvalidArgument

_BIG_ENDIAN = sys.byteorder == "big"


class Writer:
    """Append-only byte builder. O(1) amortised per value."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = bytearray()

    def byte(self, value: int) -> None:
        """One byte, 0..255."""
        self._buf.append(value)

    def uint(self, value: int) -> None:
        """A non-negative int as an unsigned LEB128 varint."""
        assert value >= 0, value
        buf = self._buf
        while value >= 0x80:
            buf.append((value & 0x7F) | 0x80)
            value >>= 7
        buf.append(value)

    def opt_uint(self, value: int | None) -> None:
        """``None`` as 0, else ``value + 1`` (so 0 stays representable)."""
        self.uint(0 if value is None else value + 1)

    def text(self, value: str) -> None:
        """A string: varint byte length, then UTF-8."""
        data = value.encode("utf-8")
        self.uint(len(data))
        self._buf += data

    def blob(self, data: bytes) -> None:
        """Raw bytes: varint length, then the bytes."""
        self.uint(len(data))
        self._buf += data

    def column(self, values: array[int]) -> None:
        """An integer column: typecode, count, then little-endian items."""
        self._buf.append(ord(values.typecode))
        self.uint(len(values))
        if _BIG_ENDIAN:  # pragma: no cover - snapshots are little-endian everywhere
            values = array(values.typecode, values)
            values.byteswap()
        self._buf += values.tobytes()

    def getvalue(self) -> bytes:
        """The bytes written so far."""
        return bytes(self._buf)


class Reader:
    """Bounds-checked reader over bytes written by :class:`Writer`."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes) -> None:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InvalidArgument(f"data must be bytes, not {type(data).__name__}")
        self._data = bytes(data)
        self._pos = 0

    def _fail(self, what: str) -> InvalidArgument:
        return InvalidArgument(f"malformed data: {what} at byte {self._pos}")

    def byte(self) -> int:
        """One byte."""
        if self._pos >= len(self._data):
            raise self._fail("unexpected end")
        value = self._data[self._pos]
        self._pos += 1
        return value

    def uint(self) -> int:
        """An unsigned varint (at most 10 bytes, canonical)."""
        result = 0
        shift = 0
        for _ in range(10):
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                if b == 0 and shift:
                    raise self._fail("non-canonical varint")
                return result
            shift += 7
        raise self._fail("varint too long")

    def opt_uint(self) -> int | None:
        """Inverse of :meth:`Writer.opt_uint`."""
        value = self.uint()
        return None if value == 0 else value - 1

    def text(self) -> str:
        """A string written by :meth:`Writer.text`."""
        size = self.uint()
        end = self._pos + size
        if end > len(self._data):
            raise self._fail("string past end")
        try:
            value = self._data[self._pos : end].decode("utf-8")
        except UnicodeDecodeError:
            raise self._fail("invalid UTF-8") from None
        self._pos = end
        return value

    def blob(self) -> bytes:
        """Bytes written by :meth:`Writer.blob`."""
        size = self.uint()
        end = self._pos + size
        if end > len(self._data):
            raise self._fail("blob past end")
        value = self._data[self._pos : end]
        self._pos = end
        return value

    def column(self, typecode: str) -> array[int]:
        """An integer column written by :meth:`Writer.column`, checking its typecode."""
        if self.byte() != ord(typecode):
            raise self._fail(f"expected a {typecode!r} column")
        count = self.uint()
        values: array[int] = array(typecode)
        end = self._pos + count * values.itemsize
        if end > len(self._data):
            raise self._fail("column past end")
        values.frombytes(self._data[self._pos : end])
        if _BIG_ENDIAN:  # pragma: no cover
            values.byteswap()
        self._pos = end
        return values

    def done(self) -> None:
        """Assert that every byte was consumed (trailing garbage is malformed)."""
        if self._pos != len(self._data):
            raise self._fail("trailing bytes")


#: Newest version byte: commands with a client order id. Version 1 is everything else.
CODEC_VERSION = 2
_V1 = 1

_PLACE, _CANCEL, _MODIFY, _RESULT = 1, 2, 3, 4
_STP_CODES: tuple[str | None, ...] = (None, *STP_MODES)


def encode_command(command: Command) -> bytes:
    """Encode a command as compact, deterministic bytes. O(size of the strings).

    >>> encode_command(Place("ACME", "al", "buy", 5, 1)).hex()
    '01010441434d4502616c0006010000'
    >>> encode_command(Cancel("ACME", "al", client_order_id="c1")).hex()
    '02020441434d4502616c026331'

    Raises :class:`~clobkit.errors.InvalidType` for anything that is not a command.
    """
    w = Writer()
    cid = getattr(command, "client_order_id", None)
    w.byte(_V1 if cid is None else CODEC_VERSION)
    if isinstance(command, Place):
        w.byte(_PLACE)
        w.text(command.market)
        w.text(command.user)
        flags = (
            SIDES.index(command.side)
            | ORDER_TYPES.index(command.order_type) << 1
            | TIFS.index(command.tif) << 2
            | int(command.post_only) << 4
            | _STP_CODES.index(command.stp) << 5
        )
        w.byte(flags)
        w.opt_uint(command.price)
        w.uint(command.qty)
        w.opt_uint(command.order_id)
        w.opt_uint(command.protection_price)
        if cid is not None:
            w.text(cid)
    elif isinstance(command, Cancel):
        w.byte(_CANCEL)
        w.text(command.market)
        w.text(command.user)
        _write_target(w, command.order_id, cid)
    elif isinstance(command, Modify):
        w.byte(_MODIFY)
        w.text(command.market)
        w.text(command.user)
        _write_target(w, command.order_id, cid)
        w.opt_uint(command.price)
        w.opt_uint(command.qty)
    else:
        from clobkit.errors import InvalidType

        raise InvalidType(f"command must be Place, Cancel or Modify, not {type(command).__name__}")
    return w.getvalue()


def _write_target(w: Writer, order_id: int | None, cid: str | None) -> None:
    """Version 1 names the order by its id; version 2 by its client order id."""
    if cid is None:
        assert order_id is not None
        w.uint(order_id)
    else:
        w.text(cid)


def _check_version(r: Reader, newest: int = CODEC_VERSION) -> int:
    version = r.byte()
    if not _V1 <= version <= newest:
        raise InvalidArgument(f"malformed data: unsupported codec version {version}")
    return version


def decode_command(data: bytes) -> Command:
    """Decode bytes made by :func:`encode_command`. O(len(data)).

    >>> decode_command(encode_command(Modify("ACME", "al", 3, qty=2)))
    Modify(market='ACME', user='al', order_id=3, price=None, qty=2, client_order_id=None)

    Raises :class:`~clobkit.errors.InvalidArgument` for malformed bytes (wrong version,
    truncation, trailing bytes, bad flags, fields the constructor refuses).
    """
    r = Reader(data)
    version = _check_version(r)
    kind = r.byte()
    command: Command
    cid: str | None = None
    if kind == _PLACE:
        market, user = r.text(), r.text()
        flags = r.byte()
        tif_code, stp_code = flags >> 2 & 3, flags >> 5
        if tif_code >= len(TIFS) or stp_code >= len(_STP_CODES):
            raise InvalidArgument(f"malformed data: bad place flags {flags:#x}")
        price, qty, order_id, protection = r.opt_uint(), r.uint(), r.opt_uint(), r.opt_uint()
        if version != _V1:
            cid = r.text()
        command = Place(
            market,
            user,
            SIDES[flags & 1],
            price,
            qty,
            order_type=ORDER_TYPES[flags >> 1 & 1],
            tif=TIFS[tif_code],
            order_id=order_id,
            stp=_STP_CODES[stp_code],
            protection_price=protection,
            post_only=bool(flags >> 4 & 1),
            client_order_id=cid,
        )
    elif kind == _CANCEL:
        market, user = r.text(), r.text()
        if version == _V1:
            command = Cancel(market, user, r.uint())
        else:
            command = Cancel(market, user, client_order_id=r.text())
    elif kind == _MODIFY:
        market, user = r.text(), r.text()
        oid: int | None = None
        if version == _V1:
            oid = r.uint()
        else:
            cid = r.text()
        new_price, new_qty = r.opt_uint(), r.opt_uint()
        command = Modify(market, user, oid, price=new_price, qty=new_qty, client_order_id=cid)
    else:
        raise InvalidArgument(f"malformed data: unknown command kind {kind}")
    r.done()
    return command


def encode_result(result: ApplyResult) -> bytes:
    """Encode an :class:`~clobkit.book.results.ApplyResult` deterministically. O(fills).

    >>> r = ApplyResult(True, None, 4, 40, 4, "resting", (), 10, 0)
    >>> decode_result(encode_result(r)) == r
    True
    """
    if not isinstance(result, ApplyResult):
        from clobkit.errors import InvalidType

        raise InvalidType(f"result must be an ApplyResult, not {type(result).__name__}")
    w = Writer()
    w.byte(_V1)
    w.byte(_RESULT)
    w.byte(int(result.accepted))
    w.text(result.reason or "")
    w.uint(result.seq)
    w.uint(result.ts_us)
    w.opt_uint(result.order_id)
    w.byte(STATUSES.index(result.status))
    w.uint(len(result.fills))
    for fill in result.fills:
        w.uint(fill.fill_id)
        w.uint(fill.seq)
        w.uint(fill.ts_us)
        w.text(fill.market)
        w.uint(fill.price)
        w.uint(fill.qty)
        w.uint(fill.taker_order_id)
        w.uint(fill.maker_order_id)
        w.text(fill.taker_user)
        w.text(fill.maker_user)
        w.byte(SIDES.index(fill.aggressor_side))
    w.uint(result.resting_qty)
    w.uint(result.cancelled_qty)
    w.uint(len(result.stp_cancelled))
    for order_id in result.stp_cancelled:
        w.uint(order_id)
    return w.getvalue()


def decode_result(data: bytes) -> ApplyResult:
    """Decode bytes made by :func:`encode_result`. O(len(data)).

    Raises :class:`~clobkit.errors.InvalidArgument` for malformed bytes.
    """
    r = Reader(data)
    _check_version(r, newest=_V1)
    if r.byte() != _RESULT:
        raise InvalidArgument("malformed data: not an encoded result")
    accepted = r.byte()
    if accepted > 1:
        raise InvalidArgument("malformed data: bad accepted flag")
    reason = r.text() or None
    seq, ts_us, order_id = r.uint(), r.uint(), r.opt_uint()
    status_code = r.byte()
    if status_code >= len(STATUSES):
        raise InvalidArgument(f"malformed data: bad status {status_code}")
    fills = []
    for _ in range(r.uint()):
        head = (r.uint(), r.uint(), r.uint(), r.text(), r.uint(), r.uint(), r.uint(), r.uint())
        users = (r.text(), r.text())
        side = r.byte()
        if side > 1:
            raise InvalidArgument("malformed data: bad aggressor side")
        fills.append(Fill(*head, *users, SIDES[side]))
    resting_qty, cancelled_qty = r.uint(), r.uint()
    stp_cancelled = tuple(r.uint() for _ in range(r.uint()))
    r.done()
    return ApplyResult(
        bool(accepted),
        reason,
        seq,
        ts_us,
        order_id,
        STATUSES[status_code],
        tuple(fills),
        resting_qty,
        cancelled_qty,
        stp_cancelled,
    )
