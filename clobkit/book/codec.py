"""Bytes for commands and results: what the write-ahead log stores and replicas ship.

Every encoding starts with a version byte so a newer clobkit can read old logs, then a kind
byte, then fields in a fixed order: unsigned LEB128 varints (small numbers take one byte) and
strings as a varint byte length plus UTF-8, the primitives of :mod:`clobkit.book.wire`.
Version 1 is every command without a client order id (and every result); version 2
(:data:`CODEC_VERSION`) adds the client order id and is written only for commands that carry
one, so logs written before client ids existed keep their bytes. The decoder reads both. The
same command always encodes to the same bytes (no dict order, no floats, no pickle), which is
what lets replicas compare logs byte for byte. Decoding checks every byte and rebuilds the
command through its validating constructor, so garbage raises
:class:`~clobkit.errors.InvalidArgument` and never yields a malformed command.

Results (:class:`~clobkit.book.results.ApplyResult`) have their own encoding because the
replicated client table caches replies and ships them in snapshots.

**Speed.** This is the replicated path's innermost loop (every command is decoded once per
replica, every result encoded once per replica), so the codec is written for it: an encoder
joins precomputed varint bytes (one table look-up for values below 2**14) in one
``bytes.join`` (the common commands and results, a plain GTC limit place, a cancel by id, a
result without self-trade cancels whose fills are plain, are one join of table look-ups and
remembered strings, checked against the oracle in ``tests/book/test_book_codec_encode_common.py``);
a decoder walks the bytes with a position and a one-byte fast path per
varint, with the same bounds checks and the same error messages as
:class:`~clobkit.book.wire.Reader`. :func:`decode_command` remembers the last few thousand
byte strings it decoded (commands are immutable, so the three replicas applying the same
entry share one decode). The bytes are identical to those of the first, ``Reader``/``Writer``
codec, which ``tests/book/codec_oracle.py`` keeps as the test oracle.

>>> data = encode_command(Cancel("ACME", "alice", 7))
>>> decode_command(data), data[0]
(Cancel(market='ACME', user='alice', order_id=7, client_order_id=None), 1)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

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
from clobkit.book.results import REJECT_REASONS, RESULT_TYPES, STATUSES, ApplyResult, Fill
from clobkit.book.spec import MarketSpec
from clobkit.errors import InvalidArgument

__all__ = [
    "CODEC_VERSION",
    "decode_command",
    "decode_result",
    "describe_command",
    "encode_command",
    "encode_result",
]

#: Newest version byte: commands with a client order id. Version 1 is everything else.
CODEC_VERSION = 2
_V1 = 1

_PLACE, _CANCEL, _MODIFY, _RESULT = 1, 2, 3, 4
_STP_CODES: tuple[str | None, ...] = (None, *STP_MODES)

# -- encoding primitives -----------------------------------------------------------------

_SMALL = 1 << 14
#: How many distinct strings (encoding) and byte strings (decoding) are remembered.
_MEMO_SIZE = 4096


def _pairs(high_flag: int) -> tuple[bytes, ...]:
    """For every v below 2**14: ``(v & 0x7F) | 0x80`` then ``(v >> 7) | high_flag``, as 2 bytes.

    Built row by row with slice assignment (a few milliseconds at import, not one ``bytes``
    call per value).
    """
    lows = bytes(range(0x80, 0x100))
    blob = bytearray(2 * _SMALL)
    for high in range(0x80):
        row = 2 * 0x80 * high
        blob[row : row + 0x100 : 2] = lows
        blob[row + 1 : row + 0x100 : 2] = bytes((high | high_flag,)) * 0x80
    data = bytes(blob)
    return tuple(data[i : i + 2] for i in range(0, len(data), 2))


#: The LEB128 bytes of every value below 2**14 (one or two bytes each), built once.
_VARINT: tuple[bytes, ...] = tuple(bytes((v,)) for v in range(0x80)) + _pairs(0)[0x80:]
#: The two leading bytes (14 bits, both with the continuation bit) of a larger value.
_LOW14: tuple[bytes, ...] = _pairs(0x80)


def _uvar(value: int) -> bytes:
    """``value`` as an unsigned LEB128 varint (the bytes of ``Writer.uint``), 14 bits a step."""
    if 0 <= value < _SMALL:
        return _VARINT[value]
    assert value >= 0, value
    out = b""
    while value >= _SMALL:
        out += _LOW14[value & 0x3FFF]
        value >>= 14
    return out + _VARINT[value]


def _ovar(value: int | None) -> bytes:
    """``None`` as 0, else ``value + 1`` (``Writer.opt_uint``)."""
    return _VARINT[0] if value is None else _uvar(value + 1)


_texts: dict[str, bytes] = {}


def _utext(value: str) -> bytes:
    """A string: varint byte length, then UTF-8 (``Writer.text``).

    Markets and user names repeat on every command and fill, so the encodings of the last few
    thousand distinct strings are remembered (a ``str`` always encodes to the same bytes).
    """
    if type(value) is str:
        if value in _texts:  # (`in` and `[]`: no call)
            return _texts[value]
        data = value.encode("utf-8")
        known = _uvar(len(data)) + data
        if len(_texts) >= _MEMO_SIZE:
            _texts.clear()
        _texts[value] = known
        return known
    data = value.encode("utf-8")
    return _uvar(len(data)) + data


_SIDE_CODE: dict[str | None, int] = {side: i for i, side in enumerate(SIDES)}
_TYPE_CODE: dict[str | None, int] = {t: i << 1 for i, t in enumerate(ORDER_TYPES)}
_TIF_CODE: dict[str | None, int] = {t: i << 2 for i, t in enumerate(TIFS)}
_STP_CODE: dict[str | None, int] = {s: i << 5 for i, s in enumerate(_STP_CODES)}
_STATUS_CODE: dict[str | None, int] = {s: i for i, s in enumerate(STATUSES)}
_HEAD = {
    (version, kind): bytes((version, kind))
    for version in (_V1, CODEC_VERSION)
    for kind in (_PLACE, _CANCEL, _MODIFY, _RESULT)
}


_BYTE: tuple[bytes, ...] = tuple(bytes((v,)) for v in range(256))

# The fixed parts of the common commands (see encode_command): their heads, the flag byte of a
# GTC limit order on each side, and the two absent numbers (order id, protection price) that
# end a plain place. The choices are compared by identity with the same interned literals
# Place's constructor uses.
_LIMIT, _GTC, _BUY, _SELL = "limit", "gtc", "buy", "sell"
_PLACE_V1, _CANCEL_V1 = _HEAD[_V1, _PLACE], _HEAD[_V1, _CANCEL]
_GTC_BUY = _BYTE[_SIDE_CODE[_BUY] | _TYPE_CODE[_LIMIT] | _TIF_CODE[_GTC] | _STP_CODE[None]]
_GTC_SELL = _BYTE[_SIDE_CODE[_SELL] | _TYPE_CODE[_LIMIT] | _TIF_CODE[_GTC] | _STP_CODE[None]]
_NO_ID_NO_PROTECTION = _VARINT[0] + _VARINT[0]


def _code(table: dict[str | None, int], value: str | None, names: tuple[str | None, ...]) -> int:
    """The code of a field value; a value outside ``names`` raises what ``names.index`` raises."""
    try:
        return table[value]
    except (KeyError, TypeError):
        names.index(value)  # not one of the names: raises the ValueError it always raised
        raise


def encode_command(command: Command) -> bytes:
    """Encode a command as compact, deterministic bytes. O(size of the strings).

    >>> encode_command(Place("ACME", "al", "buy", 5, 1)).hex()
    '01010441434d4502616c0006010000'
    >>> encode_command(Cancel("ACME", "al", client_order_id="c1")).hex()
    '02020441434d4502616c026331'

    Raises :class:`~clobkit.errors.InvalidType` for anything that is not a command.
    """
    if type(command) is Place:
        (market, user, side, price, qty, order_type, tif, order_id, stp, protection, post_only,
         cid) = command  # fmt: skip
        # The common place (a plain GTC limit order: every default field at its default, exact
        # types, strings already remembered) as one join of table look-ups; anything else (or
        # an equal value that is not the interned constant) takes the general path below,
        # which gives the same bytes (tests/book/test_book_codec_encode_common.py).
        if (
            order_type is _LIMIT
            and tif is _GTC
            and order_id is None
            and stp is None
            and protection is None
            and post_only is False
            and cid is None
            and type(price) is int
            and 0 <= price < _SMALL - 1
            and type(qty) is int
            and 0 <= qty < _SMALL
            and type(market) is str
            and market in _texts
            and type(user) is str
            and user in _texts
        ):
            if side is _BUY:
                side_flags: bytes | None = _GTC_BUY
            elif side is _SELL:
                side_flags = _GTC_SELL
            else:
                side_flags = None
            if side_flags is not None:
                table = _VARINT
                return b"".join(
                    (
                        _PLACE_V1,
                        _texts[market],
                        _texts[user],
                        side_flags,
                        table[price + 1],
                        table[qty],
                        _NO_ID_NO_PROTECTION,
                    )
                )
    elif type(command) is Cancel:
        market, user, order_id, cid = command
        # The common cancel (by order id, exact types, strings remembered), as for Place.
        if (
            cid is None
            and type(order_id) is int
            and 0 <= order_id < _SMALL
            and type(market) is str
            and market in _texts
            and type(user) is str
            and user in _texts
        ):
            return _CANCEL_V1 + _texts[market] + _texts[user] + _VARINT[order_id]
    if type(command) is Place or isinstance(command, Place):  # (exact type first: no call)
        (market, user, side, price, qty, order_type, tif, order_id, stp, protection, post_only,
         cid) = command  # fmt: skip
        try:
            flags = (
                _SIDE_CODE[side]
                | _TYPE_CODE[order_type]
                | _TIF_CODE[tif]
                | int(post_only) << 4
                | _STP_CODE[stp]
            )
        except (KeyError, TypeError):
            flags = (  # (a value outside the names: raises what _code always raised)
                _code(_SIDE_CODE, side, SIDES)
                | _code(_TYPE_CODE, order_type, ORDER_TYPES)
                | _code(_TIF_CODE, tif, TIFS)
                | _code(_STP_CODE, stp, _STP_CODES)
            )
        # (the memo and table look-ups of _utext, _uvar and _ovar inline, calls for the rest:
        # every command a client sends is encoded here)
        texts, small, table = _texts, _SMALL, _VARINT
        parts = [
            _HEAD[_V1 if cid is None else CODEC_VERSION, _PLACE],
            texts[market] if type(market) is str and market in texts else _utext(market),
            texts[user] if type(user) is str and user in texts else _utext(user),
            _BYTE[flags],
            table[price + 1] if type(price) is int and -1 <= price < small - 1 else _ovar(price),
            table[qty] if type(qty) is int and 0 <= qty < small else _uvar(qty),
            table[0] if order_id is None else _ovar(order_id),
            table[0] if protection is None else _ovar(protection),
        ]
        if cid is not None:
            parts.append(_utext(cid))
        return b"".join(parts)
    if type(command) is Cancel or isinstance(command, Cancel):
        market, user, order_id, cid = command
        texts = _texts
        return b"".join(
            (
                _HEAD[_V1 if cid is None else CODEC_VERSION, _CANCEL],
                texts[market] if type(market) is str and market in texts else _utext(market),
                texts[user] if type(user) is str and user in texts else _utext(user),
                _target_bytes(order_id, cid),
            )
        )
    if isinstance(command, Modify):
        market, user, order_id, new_price, new_qty, cid = command
        return b"".join(
            (
                _HEAD[_V1 if cid is None else CODEC_VERSION, _MODIFY],
                _utext(market),
                _utext(user),
                _target_bytes(order_id, cid),
                _ovar(new_price),
                _ovar(new_qty),
            )
        )
    from clobkit.errors import InvalidType

    raise InvalidType(f"command must be Place, Cancel or Modify, not {type(command).__name__}")


def _target_bytes(order_id: int | None, cid: str | None) -> bytes:
    """Version 1 names the order by its id; version 2 by its client order id."""
    if cid is None:
        assert order_id is not None
        return _uvar(order_id)
    return _utext(cid)


# -- decoding primitives: the checks and messages of wire.Reader, on (data, position) ----


def _fail(what: str, pos: int) -> InvalidArgument:
    return InvalidArgument(f"malformed data: {what} at byte {pos}")


def _uint(data: bytes, pos: int) -> tuple[int, int]:
    """The varint at ``pos`` and the position after it (at most 10 bytes, canonical)."""
    n = len(data)
    if pos + 1 < n:  # one or two bytes (below 2**14, canonical): the common case
        b = data[pos]
        if b < 0x80:
            return b, pos + 1
        c = data[pos + 1]
        if 0 < c < 0x80:
            return (b & 0x7F) | c << 7, pos + 2
    elif pos < n and data[pos] < 0x80:
        return data[pos], pos + 1
    result = 0
    shift = 0
    for _ in range(10):
        if pos >= n:
            raise _fail("unexpected end", pos)
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            if b == 0 and shift:
                raise _fail("non-canonical varint", pos)
            return result, pos
        shift += 7
    raise _fail("varint too long", pos)


def _text(data: bytes, pos: int) -> tuple[str, int]:
    """The length-prefixed UTF-8 string at ``pos`` and the position after it."""
    if pos < len(data) and data[pos] < 0x80:
        size = data[pos]
        pos += 1
    else:
        size, pos = _uint(data, pos)
    end = pos + size
    if end > len(data):
        raise _fail("string past end", pos)
    try:
        return data[pos:end].decode("utf-8"), end
    except UnicodeDecodeError:
        raise _fail("invalid UTF-8", pos) from None


def _byte(data: bytes, pos: int) -> int:
    if pos >= len(data):
        raise _fail("unexpected end", pos)
    return data[pos]


def _as_bytes(data: object) -> bytes:
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    raise InvalidArgument(f"data must be bytes, not {type(data).__name__}")


def _version(data: bytes, newest: int) -> int:
    version = _byte(data, 0)
    if not _V1 <= version <= newest:
        raise InvalidArgument(f"malformed data: unsupported codec version {version}")
    return version


_decoded: dict[bytes, Command] = {}

recent_commands: Mapping[bytes, Command] = _decoded
"""``data -> command`` for what :func:`decode_command` decoded recently (read-only), for a
replica's apply path: ``data in recent_commands`` and ``recent_commands[data]`` make no call
(the replicas of a simulated cluster apply the same entry: one decode between them). The memo
is cleared in place, never replaced."""


def decode_command(data: bytes) -> Command:
    """Decode bytes made by :func:`encode_command`. O(len(data)).

    >>> decode_command(encode_command(Modify("ACME", "al", 3, qty=2)))
    Modify(market='ACME', user='al', order_id=3, price=None, qty=2, client_order_id=None)

    Raises :class:`~clobkit.errors.InvalidArgument` for malformed bytes (wrong version,
    truncation, trailing bytes, bad flags, fields the constructor refuses).

    The last few thousand distinct byte strings decoded are remembered (commands are
    immutable), so decoding the same entry again, as every replica does, is a dict look-up.
    """
    if type(data) is bytes:
        if data in _decoded:  # (`in` and `[]`: no call)
            return _decoded[data]
    else:
        data = _as_bytes(data)
    command = _decode_command(data)
    if len(_decoded) >= _MEMO_SIZE:
        _decoded.clear()
    _decoded[data] = command
    return command


_N_TIFS, _N_STP = len(TIFS), len(_STP_CODES)


def _decode_common(data: bytes) -> Command | None:
    """A version-1 Place or Cancel whose strings are under 128 bytes and whose numbers are
    below 2**14 (nearly every command), decoded with no call per field; ``None`` for
    anything else, which :func:`_decode_command`'s general walk then reads (with its checks
    and errors). The bytes it accepts are exactly those the general walk decodes to the same
    command: canonical one- and two-byte varints, valid UTF-8, nothing trailing."""
    kind = data[1]
    try:
        size = data[2]
        if size >= 0x80:
            return None
        pos = 3 + size
        market = data[3:pos].decode()
        size = data[pos]
        if size >= 0x80:
            return None
        start = pos + 1
        pos = start + size
        user = data[start:pos].decode()
        if kind == _PLACE:
            flags = data[pos]
            pos += 1
            count = 4  # price, qty, order id, protection
        else:
            flags = 0
            count = 1  # the order id
        numbers = [0, 0, 0, 0]
        for i in range(count):
            b = data[pos]
            if b < 0x80:
                numbers[i] = b
                pos += 1
            else:
                c = data[pos + 1]
                if not 0 < c < 0x80:
                    return None
                numbers[i] = (b & 0x7F) | c << 7
                pos += 2
        if pos != len(data):
            return None
    except (IndexError, UnicodeDecodeError):
        return None
    if kind != _PLACE:
        return Cancel(market, user, numbers[0])
    tif_code, stp_code = flags >> 2 & 3, flags >> 5
    if tif_code >= _N_TIFS or stp_code >= _N_STP:
        return None
    price, qty, order_id, protection = numbers
    return Place(
        market,
        user,
        SIDES[flags & 1],
        price - 1 if price else None,
        qty,
        ORDER_TYPES[flags >> 1 & 1],
        TIFS[tif_code],
        order_id - 1 if order_id else None,
        _STP_CODES[stp_code],
        protection - 1 if protection else None,
        bool(flags >> 4 & 1),
        None,
    )


_COMMON_HEADS = (bytes((_V1, _PLACE)), bytes((_V1, _CANCEL)))


def _decode_command(data: bytes) -> Command:
    if data[:2] in _COMMON_HEADS:
        common = _decode_common(data)
        if common is not None:
            return common
    version = _version(data, CODEC_VERSION)
    kind = _byte(data, 1)
    cid: str | None = None
    if kind == _PLACE:
        market, pos = _text(data, 2)
        user, pos = _text(data, pos)
        flags = _byte(data, pos)
        tif_code, stp_code = flags >> 2 & 3, flags >> 5
        if tif_code >= len(TIFS) or stp_code >= len(_STP_CODES):
            raise InvalidArgument(f"malformed data: bad place flags {flags:#x}")
        price, pos = _uint(data, pos + 1)
        qty, pos = _uint(data, pos)
        order_id, pos = _uint(data, pos)
        protection, pos = _uint(data, pos)
        if version != _V1:
            cid, pos = _text(data, pos)
        command: Command = Place(
            market,
            user,
            SIDES[flags & 1],
            price - 1 if price else None,
            qty,
            ORDER_TYPES[flags >> 1 & 1],
            TIFS[tif_code],
            order_id - 1 if order_id else None,
            _STP_CODES[stp_code],
            protection - 1 if protection else None,
            bool(flags >> 4 & 1),
            cid,
        )
    elif kind == _CANCEL:
        market, pos = _text(data, 2)
        user, pos = _text(data, pos)
        if version == _V1:
            oid, pos = _uint(data, pos)
            command = Cancel(market, user, oid)
        else:
            cid, pos = _text(data, pos)
            command = Cancel(market, user, None, cid)
    elif kind == _MODIFY:
        market, pos = _text(data, 2)
        user, pos = _text(data, pos)
        target: int | None = None
        if version == _V1:
            target, pos = _uint(data, pos)
        else:
            cid, pos = _text(data, pos)
        new_price, pos = _uint(data, pos)
        new_qty, pos = _uint(data, pos)
        command = Modify(
            market,
            user,
            target,
            new_price - 1 if new_price else None,
            new_qty - 1 if new_qty else None,
            cid,
        )
    else:
        raise InvalidArgument(f"malformed data: unknown command kind {kind}")
    if pos != len(data):
        raise _fail("trailing bytes", pos)
    return command


def describe_command(data_or_command: bytes | Command, spec: MarketSpec | None = None) -> str:
    """A short human summary of a command (or of its encoded bytes).

    With the market's ``spec``, prices and quantities read as people typed them; without
    it they are the book's ticks and lots.

    >>> describe_command(Place("ACME", "alice", "buy", 10050, 10), MarketSpec("ACME"))
    'place alice buy 10 @ 100.50 gtc'
    >>> describe_command(Place("ACME", "alice", "buy", 10050, 10))
    'place alice buy 10 @ 10050 gtc'
    >>> describe_command(encode_command(Cancel("ACME", "alice", 7)))
    'cancel alice #7'

    Raises :class:`~clobkit.errors.InvalidArgument` for malformed bytes.
    """
    if isinstance(data_or_command, bytes | bytearray | memoryview):
        command = decode_command(bytes(data_or_command))
    else:
        command = data_or_command
    price: Callable[[int], object] = spec.format_price if spec is not None else int
    qty: Callable[[int], object] = spec.format_qty if spec is not None else int
    if isinstance(command, Place):
        if command.order_type == "market":
            text = f"place {command.user} {command.side} {qty(command.qty)} @ market"
            text += " fok" if command.tif == "fok" else " ioc"
            if command.protection_price is not None:
                text += f" protect {price(command.protection_price)}"
        else:
            assert command.price is not None
            text = (
                f"place {command.user} {command.side} {qty(command.qty)} @ {price(command.price)}"
            )
            text += f" {command.tif}"
        if command.post_only:
            text += " post-only"
        if command.order_id is not None:
            text += f" id={command.order_id}"
        if command.client_order_id is not None:
            text += f" client_id={command.client_order_id}"
        if command.stp is not None:
            text += f" stp={command.stp}"
        return text
    if isinstance(command, Cancel):
        return f"cancel {command.user} {_target(command.order_id, command.client_order_id)}"
    if isinstance(command, Modify):
        text = f"modify {command.user} {_target(command.order_id, command.client_order_id)}"
        if command.price is not None:
            text += f" price={price(command.price)}"
        if command.qty is not None:
            text += f" qty={qty(command.qty)}"
        return text
    from clobkit.errors import InvalidType

    raise InvalidType(f"not a command: {type(command).__name__}")


def _target(order_id: int | None, cid: str | None) -> str:
    return f"#{order_id}" if cid is None else f"client_id={cid}"


def encode_result(result: ApplyResult) -> bytes:
    """Encode an :class:`~clobkit.book.results.ApplyResult` deterministically. O(fills).

    >>> r = ApplyResult(True, None, 4, 40, 4, "resting", (), 10, 0)
    >>> decode_result(encode_result(r)) == r
    True
    """
    if type(result) in RESULT_TYPES:
        # The common results (rested, cancelled, rejected: no fills, no self-trade cancels,
        # exact types, numbers below 2**28; a plain ApplyResult or one of the book's outcome
        # subclasses, which read the same) as one join of table look-ups; anything else takes
        # the general path below, which gives the same bytes
        # (tests/book/test_book_codec_encode_common.py). `_fills` is read rather than `fills`
        # (a property: one call); an empty tuple is what both hold for a command that did not
        # trade. A command that traded (common fills, see _common_fills) takes this path too,
        # its fills' bytes in place of the zero fill count.
        fills, stp = result._fills, result.stp_cancelled
        if type(fills) is not tuple:
            fills = result.fills  # (built from the book's fill log on this first read)
        if fills and type(fills) is tuple:
            traded = _common_fills(fills)
        else:
            traded = None
        if (
            type(fills) is tuple
            and (not fills or traded is not None)
            and type(stp) is tuple
            and not stp
        ):
            accepted, reason, seq, ts_us = result.accepted, result.reason, result.seq, result.ts_us
            order_id, status = result.order_id, result.status
            resting, cancelled = result.resting_qty, result.cancelled_qty
            if accepted is True and reason is None:
                head: bytes | None = _RESULT_ACCEPTED
            elif accepted is False and type(reason) is str and reason in _RESULT_REJECTED:
                head = _RESULT_REJECTED[reason]
            else:
                head = None
            if (
                head is not None
                and type(seq) is int
                and 0 <= seq < _SMALL2
                and type(ts_us) is int
                and 0 <= ts_us < _SMALL2
                and (order_id is None or (type(order_id) is int and 0 <= order_id < _SMALL2 - 1))
                and type(status) is str
                and status in _STATUS_NO_FILLS
                and (traded is None or len(fills) < _SMALL)
                and type(resting) is int
                and 0 <= resting < _SMALL
                and type(cancelled) is int
                and 0 <= cancelled < _SMALL
            ):
                # (a value below 2**28 is one table entry, or two: 14 low bits, then the rest)
                table, low, small = _VARINT, _LOW14, _SMALL
                if order_id is not None:
                    order_id += 1
                data = b"".join(
                    (
                        head,
                        table[seq] if seq < small else low[seq & 0x3FFF] + table[seq >> 14],
                        table[ts_us] if ts_us < small else low[ts_us & 0x3FFF] + table[ts_us >> 14],
                        table[0]
                        if order_id is None
                        else table[order_id]
                        if order_id < small
                        else low[order_id & 0x3FFF] + table[order_id >> 14],
                        _STATUS_NO_FILLS[status]
                        if traded is None
                        else _BYTE[_STATUS_CODE[status]] + table[len(fills)] + traded,
                        table[resting],
                        table[cancelled],
                        _NO_STP,
                    )
                )
                # These are exactly results that decode back to themselves (see _round_trips).
                if len(_results) >= _MEMO_SIZE:
                    _results.clear()
                _results[data] = result
                return data
    elif not isinstance(result, ApplyResult):
        from clobkit.errors import InvalidType

        raise InvalidType(f"result must be an ApplyResult, not {type(result).__name__}")
    # Read as attributes, not unpacked: unpacking builds a tuple of all ten through
    # ApplyResult.__iter__ (one more call); `fills` is read once (it builds the fills of a
    # command that traded, which the encoding needs anyway).
    accepted, reason, seq, ts_us = result.accepted, result.reason, result.seq, result.ts_us
    order_id, status, fills = result.order_id, result.status, result.fills
    resting, cancelled, stp = result.resting_qty, result.cancelled_qty, result.stp_cancelled
    # (small values straight from the tables, as _uvar, _ovar and _utext would: a look-up
    # instead of a call)
    small, table, texts = _SMALL, _VARINT, _texts
    reason_text = reason or ""
    parts = [
        _HEAD[_V1, _RESULT],
        _BYTE[int(accepted)],
        texts[reason_text]
        if type(reason_text) is str and reason_text in texts
        else _utext(reason_text),
        table[seq] if type(seq) is int and 0 <= seq < small else _uvar(seq),
        table[ts_us] if 0 <= ts_us < small else _uvar(ts_us),
        table[0] if order_id is None else _ovar(order_id),
        _BYTE[
            _STATUS_CODE[status]
            if type(status) is str and status in _STATUS_CODE
            else _code(_STATUS_CODE, status, STATUSES)
        ],
        table[0] if not fills else _uvar(len(fills)),
    ]
    for fill in fills:
        (fill_id, fseq, fts, market, price, qty, taker_id, maker_id, taker, maker,
         side) = fill  # fmt: skip
        # (`table[v] if 0 <= v < small else _uvar(v)` is _uvar(v): its own first test)
        parts += (
            table[fill_id] if 0 <= fill_id < small else _uvar(fill_id),
            table[fseq] if 0 <= fseq < small else _uvar(fseq),
            _uvar(fts),
            texts[market] if type(market) is str and market in texts else _utext(market),
            table[price] if 0 <= price < small else _uvar(price),
            table[qty] if 0 <= qty < small else _uvar(qty),
            table[taker_id] if 0 <= taker_id < small else _uvar(taker_id),
            table[maker_id] if 0 <= maker_id < small else _uvar(maker_id),
            texts[taker] if type(taker) is str and taker in texts else _utext(taker),
            texts[maker] if type(maker) is str and maker in texts else _utext(maker),
            _BYTE[_code(_SIDE_CODE, side, SIDES)],
        )
    parts += (
        table[resting] if type(resting) is int and 0 <= resting < small else _uvar(resting),
        table[cancelled] if type(cancelled) is int and 0 <= cancelled < small else _uvar(cancelled),
        table[0] if not stp else _uvar(len(stp)),
    )
    if stp:
        parts += map(_uvar, stp)
    data = b"".join(parts)
    # Remember it when it decodes back to this very result (see _round_trips), inline for
    # the common case: exact types, no fills, no self-trade cancels.
    if (
        type(result) in RESULT_TYPES
        and not fills
        and not stp
        and type(fills) is tuple
        and type(stp) is tuple
        and (accepted is True or accepted is False)
        and (reason is None or (type(reason) is str and reason != ""))
        and type(seq) is int
        and 0 <= seq < _BIG
        and type(ts_us) is int
        and 0 <= ts_us < _BIG
        and (order_id is None or (type(order_id) is int and 0 <= order_id < _BIG))
        and type(status) is str
        and type(resting) is int
        and 0 <= resting < _BIG
        and type(cancelled) is int
        and 0 <= cancelled < _BIG
    ) or _round_trips(result):
        if len(_results) >= _MEMO_SIZE:
            _results.clear()
        _results[data] = result
    return data


# The fixed parts of the common results (see encode_result): the head of an accepted result
# (version, kind, accepted, no reason) and of each rejection (its reason's text), the status
# byte followed by a fill count of zero, and the count of zero self-trade cancels that ends it.
_SMALL2 = 1 << 28
_RESULT_ACCEPTED = _HEAD[_V1, _RESULT] + _BYTE[1] + _VARINT[0]
_RESULT_REJECTED: dict[str, bytes] = {
    reason: _HEAD[_V1, _RESULT] + _BYTE[0] + _VARINT[len(reason.encode())] + reason.encode()
    for reason in REJECT_REASONS
}
_STATUS_NO_FILLS: dict[str, bytes] = {s: _BYTE[i] + _VARINT[0] for i, s in enumerate(STATUSES)}
_NO_STP = _VARINT[0]


def _common_fills(fills: tuple[Fill, ...]) -> bytes | None:
    """The bytes of ``fills`` when every one is common (an exact :class:`Fill`, numbers below
    2**28, remembered exact strings, a ``"buy"``/``"sell"`` side: what decodes back to an
    equal fill), with a table look-up per field; ``None`` when one is not."""
    texts, table, low, small = _texts, _VARINT, _LOW14, _SMALL
    parts: list[bytes] = []
    for fill in fills:
        if type(fill) is not Fill:
            return None
        (fill_id, fseq, fts, market, price, qty, taker_id, maker_id, taker, maker,
         side) = fill  # fmt: skip
        if side is _BUY:
            side_byte = _BYTE[0]
        elif side is _SELL:
            side_byte = _BYTE[1]
        else:
            return None
        if not (
            type(fill_id) is int
            and 0 <= fill_id < _SMALL2
            and type(fseq) is int
            and 0 <= fseq < _SMALL2
            and type(fts) is int
            and 0 <= fts < _SMALL2
            and type(price) is int
            and 0 <= price < _SMALL2
            and type(qty) is int
            and 0 <= qty < _SMALL2
            and type(taker_id) is int
            and 0 <= taker_id < _SMALL2
            and type(maker_id) is int
            and 0 <= maker_id < _SMALL2
            and type(market) is str
            and market in texts
            and type(taker) is str
            and taker in texts
            and type(maker) is str
            and maker in texts
        ):
            return None
        parts += (
            table[fill_id] if fill_id < small else low[fill_id & 0x3FFF] + table[fill_id >> 14],
            table[fseq] if fseq < small else low[fseq & 0x3FFF] + table[fseq >> 14],
            table[fts] if fts < small else low[fts & 0x3FFF] + table[fts >> 14],
            texts[market],
            table[price] if price < small else low[price & 0x3FFF] + table[price >> 14],
            table[qty] if qty < small else low[qty & 0x3FFF] + table[qty >> 14],
            table[taker_id] if taker_id < small else low[taker_id & 0x3FFF] + table[taker_id >> 14],
            table[maker_id] if maker_id < small else low[maker_id & 0x3FFF] + table[maker_id >> 14],
            texts[taker],
            texts[maker],
            side_byte,
        )
    return b"".join(parts)


# Results recently encoded here (or decoded), by their exact bytes. A result is immutable and
# ``decode_result`` is a function of the bytes alone, so bytes that :func:`encode_result` made
# from a result that decodes back to an equal one (see :func:`_round_trips`) decode to that
# result without walking them again: the client decoding the primary's reply, in a simulated
# cluster, is a dict look-up. Bounded like the command memo (cleared when full).
_results: dict[bytes, ApplyResult] = {}


def _remember_result(data: bytes, result: ApplyResult) -> None:
    if len(_results) >= _MEMO_SIZE:
        _results.clear()
    _results[data] = result


def _round_trips(result: ApplyResult) -> bool:
    """True when ``decode_result(encode_result(result))`` is ``result`` field for field and
    type for type (one of :data:`~clobkit.book.results.RESULT_TYPES`: the book's outcome
    subclasses of ``ApplyResult`` read exactly as the class itself): exact
    ``bool``/``int``/``str``/``tuple`` fields, integers in ``[0, 2**63)`` (larger ones
    encode to varints the decoder refuses), a reason that is ``None`` or non-empty (``""``
    decodes as ``None``), fills that are exact :class:`Fill` tuples."""
    (accepted, reason, seq, ts_us, order_id, status, fills, resting, cancelled,
     stp) = result  # fmt: skip
    if not (
        type(result) in RESULT_TYPES  # an outcome subclass reads the same (results.py)
        and type(accepted) is bool
        and (reason is None or (type(reason) is str and reason != ""))
        and type(seq) is int
        and 0 <= seq < _BIG
        and type(ts_us) is int
        and 0 <= ts_us < _BIG
        and (order_id is None or (type(order_id) is int and 0 <= order_id < _BIG))
        and type(status) is str
        and type(fills) is tuple
        and type(resting) is int
        and 0 <= resting < _BIG
        and type(cancelled) is int
        and 0 <= cancelled < _BIG
        and type(stp) is tuple
    ):
        return False
    for fill in fills:
        if type(fill) is not Fill:
            return False
        for value in fill:
            if type(value) is not str and (type(value) is not int or not 0 <= value < _BIG):
                return False
    return all(type(oid) is int and 0 <= oid < _BIG for oid in stp)


_BIG = 1 << 63


def decode_result(data: bytes) -> ApplyResult:
    """Decode bytes made by :func:`encode_result`. O(len(data)).

    Raises :class:`~clobkit.errors.InvalidArgument` for malformed bytes.
    """
    if type(data) is bytes:
        if data in _results:  # (`in` and `[]`: no call)
            return _results[data]
    else:
        data = _as_bytes(data)
    result = _decode_result(data)
    _remember_result(data, result)
    return result


def _decode_result(data: bytes) -> ApplyResult:
    _version(data, _V1)
    if _byte(data, 1) != _RESULT:
        raise InvalidArgument("malformed data: not an encoded result")
    accepted = _byte(data, 2)
    if accepted > 1:
        raise InvalidArgument("malformed data: bad accepted flag")
    reason, pos = _text(data, 3)
    seq, pos = _uint(data, pos)
    ts_us, pos = _uint(data, pos)
    order_id, pos = _uint(data, pos)
    status_code = _byte(data, pos)
    if status_code >= len(STATUSES):
        raise InvalidArgument(f"malformed data: bad status {status_code}")
    count, pos = _uint(data, pos + 1)
    fills = []
    for _ in range(count):
        fill_id, pos = _uint(data, pos)
        fseq, pos = _uint(data, pos)
        fts, pos = _uint(data, pos)
        market, pos = _text(data, pos)
        price, pos = _uint(data, pos)
        qty, pos = _uint(data, pos)
        taker_id, pos = _uint(data, pos)
        maker_id, pos = _uint(data, pos)
        taker, pos = _text(data, pos)
        maker, pos = _text(data, pos)
        side = _byte(data, pos)
        if side > 1:
            raise InvalidArgument("malformed data: bad aggressor side")
        pos += 1
        fills.append(
            Fill(fill_id, fseq, fts, market, price, qty, taker_id, maker_id, taker, maker,
                 SIDES[side])
        )  # fmt: skip
    resting_qty, pos = _uint(data, pos)
    cancelled_qty, pos = _uint(data, pos)
    count, pos = _uint(data, pos)
    stp_cancelled = []
    for _ in range(count):
        oid, pos = _uint(data, pos)
        stp_cancelled.append(oid)
    if pos != len(data):
        raise _fail("trailing bytes", pos)
    return ApplyResult(
        bool(accepted),
        reason or None,
        seq,
        ts_us,
        order_id - 1 if order_id else None,
        STATUSES[status_code],
        tuple(fills),
        resting_qty,
        cancelled_qty,
        tuple(stp_cancelled),
    )
