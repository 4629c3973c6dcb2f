"""Bytes for commands and results: what the write-ahead log stores and replicas ship.

Every encoding starts with a version byte so a newer clobkit can read old logs, then a kind
byte, then fields in a fixed order using the varint/UTF-8 primitives of
:mod:`clobkit.book.wire`. Version 1 is every command without a client order id (and every
result); version 2 (:data:`CODEC_VERSION`) adds the client order id and is written only for
commands that carry one, so logs written before client ids existed keep their bytes. The
decoder reads both. The same command always encodes to the same bytes (no dict order,
no floats, no pickle), which is what lets replicas compare logs byte for byte. Decoding checks
every byte and rebuilds the command through its validating constructor, so garbage raises
:class:`~clobkit.errors.InvalidArgument` and never yields a malformed command.

Results (:class:`~clobkit.book.results.ApplyResult`) have their own encoding because the
replicated client table caches replies and ships them in snapshots.

>>> data = encode_command(Cancel("ACME", "alice", 7))
>>> decode_command(data), data[0]
(Cancel(market='ACME', user='alice', order_id=7, client_order_id=None), 1)
"""

from __future__ import annotations

from collections.abc import Callable

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
from clobkit.book.spec import MarketSpec
from clobkit.book.wire import Reader, Writer
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
