"""Test doubles for the HTTP seam: a scripted requests adapter, a fake clock for time.

``ScriptedAdapter`` is mounted on a real ``requests.Session``, like httpx's
MockTransport: the code under test runs unchanged, only the network is fake.
``closed_port``, ``silent_server`` and ``answering_server`` are the opposite:
real sockets, for the failures only a real network produces.
"""

from __future__ import annotations

import io
import json
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter

from sfdc.salesforce.oauth import TokenResponse
from sfdc.tokens.assertion import Assertion
from sfdc.tokens.exchange import Exchange
from sfdc.tokens.token import Token


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | dict[str, Any] | list[Any] = b""
    headers: Mapping[str, str] = field(default_factory=dict)


Outcome = Reply | Exception


class ScriptedAdapter(HTTPAdapter):
    """Answers each request with the next scripted outcome and records what was sent."""

    def __init__(self, *outcomes: Outcome) -> None:
        super().__init__()
        self.outcomes = list(outcomes)
        self.sent: list[requests.PreparedRequest] = []
        self.timeouts: list[Any] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.sent.append(request)
        self.timeouts.append(kwargs.get("timeout"))
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        body = outcome.body
        headers = dict(outcome.headers)
        if isinstance(body, dict | list):
            body = json.dumps(body)
            headers.setdefault("Content-Type", "application/json;charset=UTF-8")
        content = body.encode() if isinstance(body, str) else body
        raw = urllib3.HTTPResponse(
            body=io.BytesIO(content),
            headers=headers,
            status=outcome.status,
            preload_content=False,
        )
        return self.build_response(request, raw)


def scripted_session(*outcomes: Outcome) -> tuple[requests.Session, ScriptedAdapter]:
    session = requests.Session()
    adapter = ScriptedAdapter(*outcomes)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session, adapter


class FakeTime:
    """monotonic() and sleep() that only move when slept: retries without waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class CountingMint:
    """A stand-in for the JWT exchange: numbered tokens, optional failure and delay.

    Used where the thing under test is the cache around the exchange, not the
    exchange itself (that one is tested against the emulator).
    """

    def __init__(self, clock: Any, lifetime: timedelta = timedelta(hours=1)) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.calls = 0
        self.fail: Exception | None = None
        self.gate: threading.Event | None = None
        self._lock = threading.Lock()

    def __call__(self) -> Exchange:
        with self._lock:
            self.calls += 1
            number = self.calls
        if self.gate is not None:
            self.gate.wait(10)
        if self.fail is not None:
            raise self.fail
        return make_exchange(f"00Dtoken!{number}", self.clock(), self.lifetime)


def make_exchange(access_token: str, issued: datetime, lifetime: timedelta | None) -> Exchange:
    token = Token(
        access_token=access_token,
        instance_url="https://acme.my.salesforce.com",
        id="https://login.salesforce.com/id/00D000000000001AAA/005000000000001AAA",
        token_type="Bearer",
        issued_at=issued,
        expires_at=issued + lifetime if lifetime else None,
    )
    assertion = Assertion(
        claim="e30.e30",
        signature="sig",
        token="e30.e30.sig",
        expires_at=issued + timedelta(minutes=3),
    )
    response = TokenResponse(status=200, headers={}, body={"access_token": access_token})
    return Exchange(token=token, assertion=assertion, response=response)


def closed_port() -> int:
    """A local port nothing listens on: connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def silent_server(port: int = 0) -> Iterator[int]:
    """A local port that accepts connections and never answers; yields the port."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(16)  # the kernel completes the handshakes; nobody ever reads
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


@contextmanager
def answering_server(
    answer: Callable[[socket.socket, threading.Event], None],
) -> Iterator[int]:
    """A local port whose first connection has its request read, then gets ``answer``
    (which should return once the event is set, when the block exits); yields the port."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    done = threading.Event()

    def serve() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)
            answer(connection, done)
            done.wait(5)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield server.getsockname()[1]
    finally:
        done.set()
        server.close()
