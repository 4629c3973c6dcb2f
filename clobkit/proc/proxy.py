"""The links between replicas: one small TCP proxy per directed link, in one process.

``python -m clobkit.proc.proxy CONFIG_JSON`` listens, for each directed link
``"n0>n1"``, on the port replica ``n0`` dials to reach ``n1``, and forwards
the bytes to ``n1``'s own port. Replica ``i`` sends to ``j`` only over its
connection to link ``i>j`` (replies come back on ``j>i``), so cutting one
link is a one-way block and cutting both is a partition.

Control: one JSON object per line on standard input, ``{"blocked": ["n0>n1",
...]}``, the complete set of cut links; the proxy closes every connection of
a newly cut link at once (bytes in flight are lost, as in a real network
cut), refuses new ones (accepts and closes them) until the link is healed,
and answers ``ok`` on standard output. It exits when standard input closes.
"""

from __future__ import annotations

import contextlib
import errno
import json
import selectors
import socket
import sys
from typing import Any

from clobkit.proc.node import _die_with_parent

__all__ = ["main"]

_MAX_BUFFER = 16 << 20


class _Side:
    __slots__ = ("connected", "link", "other", "out", "sock")

    def __init__(self, sock: socket.socket, link: str, connected: bool) -> None:
        self.sock = sock
        self.out = bytearray()
        self.other: _Side | None = None
        self.link = link
        self.connected = connected


class Proxy:
    """Forwards bytes for every link that is not cut."""

    def __init__(self, links: dict[str, tuple[int, int]]) -> None:
        self.sel = selectors.DefaultSelector()
        self.targets: dict[str, int] = {}
        self.blocked: set[str] = set()
        self.sides: set[_Side] = set()
        for link, (listen, target) in links.items():
            lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            lsock.bind(("127.0.0.1", int(listen)))
            lsock.listen(16)
            lsock.setblocking(False)
            self.sel.register(lsock, selectors.EVENT_READ, ("listen", link))
            self.targets[link] = int(target)
        self.sel.register(sys.stdin.fileno(), selectors.EVENT_READ, ("stdin", ""))

    def _accept(self, lsock: socket.socket, link: str) -> None:
        while True:
            try:
                sock, _ = lsock.accept()
            except (BlockingIOError, InterruptedError):
                return
            if link in self.blocked:
                sock.close()
                continue
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            up = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            up.setblocking(False)
            up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            err = up.connect_ex(("127.0.0.1", self.targets[link]))
            if err not in (0, errno.EINPROGRESS):
                sock.close()
                up.close()
                continue
            a, b = _Side(sock, link, True), _Side(up, link, False)
            a.other, b.other = b, a
            self.sides.update((a, b))
            self.sel.register(sock, selectors.EVENT_READ, ("side", a))
            self.sel.register(up, selectors.EVENT_READ | selectors.EVENT_WRITE, ("side", b))

    def _drop(self, side: _Side) -> None:
        for s in (side, side.other):
            if s is None or s not in self.sides:
                continue
            self.sides.discard(s)
            with contextlib.suppress(KeyError, ValueError):
                self.sel.unregister(s.sock)
            s.sock.close()

    def _want(self, side: _Side) -> None:
        events = selectors.EVENT_READ
        if side.out or not side.connected:
            events |= selectors.EVENT_WRITE
        with contextlib.suppress(KeyError, ValueError):
            self.sel.modify(side.sock, events, ("side", side))

    def _on(self, side: _Side, events: int) -> None:
        if side not in self.sides:
            return
        if events & selectors.EVENT_WRITE:
            if not side.connected:
                if side.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    self._drop(side)
                    return
                side.connected = True
            if side.out:
                try:
                    sent = side.sock.send(side.out)
                except BlockingIOError:
                    sent = 0
                except OSError:
                    self._drop(side)
                    return
                del side.out[:sent]
            self._want(side)
        if events & selectors.EVENT_READ:
            try:
                data = side.sock.recv(1 << 18)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            other = side.other
            if not data or other is None or len(other.out) > _MAX_BUFFER:
                self._drop(side)
                return
            other.out += data
            if other.connected:
                self._on(other, selectors.EVENT_WRITE)

    def _control(self) -> bool:
        line = sys.stdin.readline()
        if not line:
            return False
        with contextlib.suppress(ValueError, TypeError, KeyError):
            self.blocked = set(json.loads(line)["blocked"])
            for side in list(self.sides):
                if side.link in self.blocked:
                    self._drop(side)
        print("ok", flush=True)
        return True

    def run(self) -> None:
        """Serve until standard input closes."""
        print("READY", flush=True)
        while True:
            for key, events in self.sel.select(1.0):
                what, data = key.data
                if what == "listen":
                    self._accept(key.fileobj, data)  # type: ignore[arg-type]
                elif what == "stdin":
                    if not self._control():
                        return
                else:
                    self._on(data, events)


def main(argv: list[str] | None = None) -> int:
    """Run the proxy from the JSON config ``{"links": {"n0>n1": [listen, target]}}``."""
    _die_with_parent()
    args = sys.argv[1:] if argv is None else argv
    config: dict[str, Any] = json.loads(args[0])
    Proxy({k: (v[0], v[1]) for k, v in config["links"].items()}).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
