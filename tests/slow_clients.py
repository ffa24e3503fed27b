"""Slow clients (slowloris): connections that send their request a byte at a time.

Used by ``tests/test_slow_clients.py`` and ``make bench`` to show that clients which
trickle their request line, headers or body starve no one else. All the
connections are driven from one thread with non-blocking sockets, so hundreds
of them cost the test process almost nothing. A connection the server drops
(as a header or body deadline should) is opened again at once, as an attacker
would: the server faces the same number of slow clients for the whole run.
Loopback only, and bounded: nothing is sent after the ``with`` block ends.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

BODY_PATH = "/api/data/v60.0/sobjects/Account"
# Announced, never sent: a body this long at a byte a second takes 10 days.
BODY_LENGTH = 1_000_000


def header_trickle() -> Iterator[int]:
    """A request line, then headers that never end, one byte per call."""
    yield from b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    while True:
        yield from b"X-Slow: a\r\n"


def body_opening(api_key: str) -> bytes:
    """A complete, keyed request head announcing a large body."""
    return (
        f"POST {BODY_PATH} HTTP/1.1\r\n"
        "Host: 127.0.0.1\r\n"
        f"Authorization: Bearer {api_key}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {BODY_LENGTH}\r\n\r\n"
    ).encode()


def body_trickle() -> Iterator[int]:
    while True:
        yield ord(" ")


@dataclass
class _Slow:
    opening: bytes
    kind: str  # "header" or "body"
    sock: socket.socket | None = None
    trickle: Iterator[int] = field(default_factory=lambda: iter(()))


@dataclass
class Counts:
    """What the server did to the slow clients during the run."""

    opened: int = 0
    dropped: dict[str, int] = field(default_factory=lambda: {"header": 0, "body": 0})


class SlowClients:
    """``headers`` slow-header and ``bodies`` slow-body connections to 127.0.0.1:``port``."""

    def __init__(
        self, port: int, *, headers: int, bodies: int, api_key: str, interval: float = 1.0
    ) -> None:
        self.port = port
        self.interval = interval
        self.counts = Counts()
        self._clients = [_Slow(b"", "header") for _ in range(headers)]
        self._clients += [_Slow(body_opening(api_key), "body") for _ in range(bodies)]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="slow-clients", daemon=True)

    def _connect(self, client: _Slow) -> None:
        client.sock = None
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            sock.sendall(client.opening)
        except OSError:
            return  # tried again on the next tick
        sock.setblocking(False)
        client.sock = sock
        client.trickle = header_trickle() if client.kind == "header" else body_trickle()
        self.counts.opened += 1

    @staticmethod
    def _server_done(sock: socket.socket) -> bool:
        """True once the server has closed the connection or answered (b"" or bytes)."""
        try:
            sock.recv(4096)
        except BlockingIOError:
            return False  # nothing yet: still waiting for us
        except OSError:
            pass
        return True

    def _tick(self) -> None:
        for client in self._clients:
            if self._stop.is_set():
                return
            if client.sock is None:
                self._connect(client)
                continue
            if self._server_done(client.sock):
                client.sock.close()
                self.counts.dropped[client.kind] += 1
                self._connect(client)
                continue
            with contextlib.suppress(OSError):  # a closed one is seen on the next tick
                client.sock.send(bytes([next(client.trickle)]))

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self._tick()
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def __enter__(self) -> SlowClients:
        for client in self._clients:
            self._connect(client)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(30)
        for client in self._clients:
            if client.sock is not None:
                client.sock.close()
