"""Request bodies that arrive whole and in time, or not at all.

gunicorn hands the app a body stream that blocks for as long as the client
takes to send it. A client that announces a large body and sends it a byte a
second would hold its worker slot for days, and one that hangs up halfway
leaves a short body that ``request.get_data()`` returns as if it were whole:
the proxy would forward half a record to Salesforce.

``BodyDeadline`` wraps the app (WSGI middleware) so that every body read,
whoever reads it, follows one rule, Apache's ``mod_reqtimeout`` ``MinRate``
idea: after ``grace`` seconds the body must keep arriving at ``min_rate``
bytes a second on average. A client that falls behind has the read side of
its connection shut by a ``Watchdog``; the blocked read returns at once, and
the caller gets 408 ``request_timeout``. A body that ends before its
``Content-Length`` is a 400, and so is one the server cannot parse (a bad
chunk); none ever reaches a view as data. The rule needs no cooperation
from the worker class: it works under gevent and threads alike. Requests
served without a socket (Flask's test client) are left alone.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import BadRequest, ClientDisconnected, RequestTimeout

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

# A body may take this long before the rate counts: a client's first bytes
# can wait for its own TLS, DNS or garbage collector.
BODY_GRACE = 10.0  # seconds
# Then it must keep coming at least this fast: 64 MiB (the largest body the
# proxy takes) in about 17 minutes; a server in the same foundation sends it in
# seconds, and a client trickling a byte a second is cut off after the grace.
MIN_BODY_RATE = 64 * 1024  # bytes per second
# How often the watchdog looks for bodies that fell behind.
WATCHDOG_TICK = 0.5  # seconds
_CHUNK = 64 * 1024


@dataclass(eq=False)  # kept in a set by identity
class _Watch:
    sock: socket.socket
    deadline: float
    expired: bool = False


class Watchdog:
    """Shuts the read side of connections whose body deadline has passed.

    A thread (under gevent, a greenlet) runs while some body is being read and
    stops when none is; it is started again in each process, since threads do
    not cross gunicorn's fork. Shutting down the read side wakes a read
    blocked on that socket with end-of-file, while the answer can still be
    written.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, tick: float = WATCHDOG_TICK):
        self.clock = clock
        self._tick = tick
        self._lock = threading.Lock()
        self._watched: set[_Watch] = set()
        self._running_in = 0  # the pid whose thread runs, 0 for none

    def watch(self, sock: socket.socket, deadline: float) -> _Watch:
        watch = _Watch(sock, deadline)
        with self._lock:
            self._watched.add(watch)
            if self._running_in != os.getpid():
                self._running_in = os.getpid()
                threading.Thread(target=self._run, name="sfdc-body-watchdog", daemon=True).start()
        return watch

    def forget(self, watch: _Watch) -> None:
        with self._lock:
            self._watched.discard(watch)

    def _run(self) -> None:
        while True:
            time.sleep(self._tick)
            self.expire()
            with self._lock:
                if not self._watched:
                    self._running_in = 0
                    return

    def expire(self) -> None:
        """Cut off every watched connection past its deadline (the thread's one job)."""
        now = self.clock()
        with self._lock:
            late = {watch for watch in self._watched if watch.deadline <= now}
            self._watched -= late
            for watch in late:
                watch.expired = True
        for watch in late:
            with contextlib.suppress(OSError):  # the client is gone already
                watch.sock.shutdown(socket.SHUT_RD)


class _DeadlineInput(io.RawIOBase):
    """``wsgi.input`` that yields the body only as it arrives in time, and whole."""

    def __init__(
        self,
        stream: Any,
        sock: socket.socket,
        length: int | None,
        watchdog: Watchdog,
        grace: float,
        min_rate: float,
    ) -> None:
        super().__init__()
        self._stream = stream
        self._left = length  # None: chunked, the server finds the end
        self._grace = grace
        self._rate = min_rate
        self._rate_from = watchdog.clock() + grace
        self._received = 0
        self._watchdog = watchdog
        self._watch = watchdog.watch(sock, self._deadline())
        self._done = False

    def _deadline(self) -> float:
        # Room for the next chunk too: progress is seen only when a read returns.
        return self._rate_from + (self._received + _CHUNK) / self._rate

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._read(min(len(buffer), _CHUNK))
        buffer[: len(data)] = data
        return len(data)

    def _read(self, size: int) -> bytes:
        if self._done or size == 0:
            return b""
        want = size if self._left is None else min(size, self._left)
        try:
            data = self._stream.read(want)
            # An empty read ends a chunked body normally (after its last chunk); one that
            # announced a length is cut off if it ends before it.
            cut_off = not data and self._left is not None and self._left != 0
        except OSError:  # gunicorn's NoMoreData: a chunked body ended early
            data, cut_off = b"", True
        except Exception as exc:  # gunicorn's parse errors, e.g. a chunk size that is not hex
            self._finish()
            raise BadRequest(f"The request body is malformed ({type(exc).__name__}).") from exc
        if self._watch.expired:
            self._finish()
            raise RequestTimeout(
                f"The request body did not arrive in time: after {self._grace:.0f} s it must "
                f"keep coming at {self._rate / 1024:.0f} KiB/s or faster."
            )
        if cut_off and self._left is not None:
            self._finish()
            raise ClientDisconnected("The request body ended before its Content-Length.")
        if cut_off:
            self._finish()
            raise ClientDisconnected("The chunked request body ended before its last chunk.")
        self._received += len(data)
        if self._left is not None:
            self._left -= len(data)
        if not data or self._left == 0:
            self._finish()
        else:
            self._watch.deadline = self._deadline()
        return bytes(data)

    def _finish(self) -> None:
        self._done = True
        self._watchdog.forget(self._watch)

    def close(self) -> None:
        if not self._done:
            self._finish()
        super().close()


class BodyDeadline:
    """WSGI middleware: every request body is read under the rule in the module docstring."""

    def __init__(
        self,
        app: WSGIApplication,
        *,
        grace: float = BODY_GRACE,
        min_rate: float = MIN_BODY_RATE,
        watchdog: Watchdog | None = None,
    ) -> None:
        self.app = app
        self.grace = grace
        self.min_rate = min_rate
        self.watchdog = watchdog or Watchdog()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        # The stdlib's socket, or gevent's: both shut down alike.
        sock: socket.socket | None = environ.get("gunicorn.socket")
        length = _content_length(environ)
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if sock is not None and (length or chunked):
            body = _DeadlineInput(
                environ["wsgi.input"],
                sock,
                None if chunked else length,
                self.watchdog,
                self.grace,
                self.min_rate,
            )
            environ["wsgi.input"] = body
            try:
                return self.app(environ, start_response)
            finally:
                body.close()  # the body is done with once the view returns
        return self.app(environ, start_response)


def _content_length(environ: WSGIEnvironment) -> int:
    try:
        return max(0, int(environ.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0
