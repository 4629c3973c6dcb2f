"""Tiny deterministic binary encoding shared by the command codec and book snapshots.

Values are written as unsigned LEB128 varints (small numbers take one byte), strings as a
varint length plus UTF-8, and integer columns as little-endian ``array`` bytes (fast and
compact for a million fills). No pickle: decoding never runs code, and every read is bounds
checked so malformed bytes raise :class:`~clobkit.errors.InvalidArgument` instead of
producing a half-built object.

>>> w = Writer(); w.uint(300); w.text("hé"); r = Reader(w.getvalue())
>>> r.uint(), r.text(); r.done()
(300, 'hé')
"""

from __future__ import annotations

import sys
from array import array

from clobkit.errors import InvalidArgument

__all__ = ["Reader", "Writer"]

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
