"""Request bodies arrive whole and in time, or the caller gets 408/400 and nothing is proxied.

The app is driven as gunicorn drives it: the environ carries the connection's
socket (``gunicorn.socket``) and ``wsgi.input`` reads from it; the other end of
a socket pair plays the client. The deadline is shortened (0.2 s of grace)
so that a test waits about a second, not ten.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import EnvironBuilder

from sfdc.settings.settings import Settings
from sfdc.web import create_app
from sfdc.web.request_body import BodyDeadline
from sfdc.web.spool import MEMORY_LIMIT
from tests.conftest import FakeClock
from tests.emulated import stats
from tests.web.conftest import AUTH
from tests.web.spool_support import spool_files

PATH = "/api/data/v60.0/sobjects/Account"
BODY = json.dumps({"Name": "Acme", "Description": "x" * 2000}).encode()


@pytest.fixture
def wire() -> Iterator[tuple[socket.socket, socket.socket]]:
    """(server end, client end) of one connection."""
    server, client = socket.socketpair()
    yield server, client
    server.close()
    client.close()


def _serve(app: Flask, server: socket.socket, length: int, **deadline: float) -> tuple[int, Any]:
    """Run one request through the app's WSGI stack, reading the body from ``server``."""
    if deadline:
        app.wsgi_app = BodyDeadline(app.wsgi_app.app, **deadline)  # type: ignore[attr-defined, method-assign]
    environ = EnvironBuilder(
        path=PATH,
        method="POST",
        headers={**AUTH, "Content-Type": "application/json"},
    ).get_environ()
    status: list[str] = []
    with server.makefile("rb", buffering=0) as stream:
        environ.update(
            {
                "CONTENT_LENGTH": str(length),
                "wsgi.input": stream,
                "wsgi.input_terminated": True,  # as gunicorn sets it
                "gunicorn.socket": server,
            }
        )
        body = b"".join(app.wsgi_app(environ, lambda s, _h, _e=None: status.append(s)))  # type: ignore[arg-type, func-returns-value]
    return int(status[0].split()[0]), json.loads(body) if body else None


def _trickle(client: socket.socket, data: bytes, every: float) -> threading.Thread:
    def send() -> None:
        for byte in data:
            try:
                client.send(bytes([byte]))
            except OSError:
                return  # the server shut the connection: what a deadline does
            time.sleep(every)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def test_a_whole_body_on_time_is_proxied(app: Flask, wire: tuple[socket.socket, socket.socket]):
    server, client = wire
    client.sendall(BODY)
    status, answer = _serve(app, server, len(BODY), grace=0.2)
    assert status == 201, answer
    assert answer["success"] is True


def test_a_trickling_body_is_cut_off_with_408(
    app: Flask, wire: tuple[socket.socket, socket.socket], emulator: Any
) -> None:
    server, client = wire
    _trickle(client, BODY, every=0.05)  # 20 bytes a second against 64 KiB/s
    started = time.monotonic()
    status, answer = _serve(app, server, len(BODY), grace=0.2)
    took = time.monotonic() - started
    assert status == 408
    assert answer["error"] == "request_timeout"
    assert "64 KiB/s" in answer["error_description"]
    assert "without pauses" in answer["hint"]
    assert answer["retryable"] is True
    assert took < 0.2 + 1 + 5, "cut off after its deadline (grace + one 64 KiB chunk), not later"
    assert stats(emulator.url)["api_usage"] == 0, "nothing was sent to Salesforce"


def test_a_large_body_that_stalls_is_408_and_leaves_no_file(
    settings: Settings,
    live_clock: FakeClock,
    tmp_path: Path,
    wire: tuple[socket.socket, socket.socket],
    emulator: Any,
) -> None:
    app = create_app(settings, clock=live_clock, spool_dir=str(tmp_path))
    server, client = wire
    sent = b"x" * (2 * MEMORY_LIMIT)  # past what stays in memory: spooled to a file
    threading.Thread(target=client.sendall, args=(sent,), daemon=True).start()
    # Then nothing more: at 4 MiB/s after 1 s of grace, the 2 MiB sent buy half a second.
    status, answer = _serve(app, server, 3 * MEMORY_LIMIT, grace=1.0, min_rate=4 * MEMORY_LIMIT)
    assert status == 408
    assert answer["error"] == "request_timeout"
    assert stats(emulator.url)["api_usage"] == 0, "nothing was sent to Salesforce"
    assert spool_files(tmp_path) == []


def test_a_body_cut_short_is_never_proxied(
    app: Flask, wire: tuple[socket.socket, socket.socket], emulator: Any
) -> None:
    server, client = wire
    client.sendall(BODY[:100])
    client.shutdown(socket.SHUT_WR)  # the caller hung up after 100 bytes
    status, answer = _serve(app, server, len(BODY), grace=0.2)
    assert status == 400
    assert "Content-Length" in answer["error_description"]
    assert stats(emulator.url)["api_usage"] == 0, "half a record never reaches Salesforce"


def test_an_unread_body_is_not_watched_after_the_answer(
    app: Flask, wire: tuple[socket.socket, socket.socket]
) -> None:
    server, _client = wire
    app.wsgi_app = BodyDeadline(app.wsgi_app.app, grace=0.2)  # type: ignore[attr-defined, method-assign]
    environ = EnvironBuilder(path="/healthz", method="POST").get_environ()
    with server.makefile("rb") as stream:
        environ.update({"CONTENT_LENGTH": "10", "wsgi.input": stream, "gunicorn.socket": server})
        b"".join(app.wsgi_app(environ, lambda *_: None))  # type: ignore[arg-type, func-returns-value]
    time.sleep(1.5)  # past the deadline the body would have had
    server.setblocking(False)
    with pytest.raises(BlockingIOError):
        server.recv(1)  # still open for reading: the next request on it would be read
    watchdogs = [t for t in threading.enumerate() if t.name == "sfdc-body-watchdog"]
    assert watchdogs == [], "with no body being read, the watchdog has stopped"
