"""Helpers for the keep-alive, backoff and alert tests: workers, idle rows, a webhook receiver.

A *worker* is what one gunicorn worker builds (its own store, transport and
caches) against the emulator with refresh-token rotation on; a test runs
several side by side on one database. The receiver is a real HTTP server on
loopback that records what it is sent and answers as scripted.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, text
from werkzeug.wrappers import Request, Response

from sfdc.orgs.connections import Connections
from sfdc.orgs.store import ConnectionStore
from sfdc.salesforce.pools import new_session
from sfdc.salesforce.transport import RetryPolicy, Transport
from sfdc.settings.settings import Settings
from tests.conftest import FakeClock
from tests.orgs_support import CALLBACK, decide

WEBHOOK_SECRET = "test-webhook-secret-0123456789abcdef"
# Retries within a refresh, without the real waits: the tests count grants, not seconds.
QUICK_RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02, budget=10.0)


def worker(made: list[Connections], settings: Settings, clock: FakeClock) -> Connections:
    assert settings.database is not None
    store = ConnectionStore(settings.database)
    store.migrate()
    transport = Transport(new_session(), timeout=settings.http_timeout, retry=QUICK_RETRY)
    connections = Connections(settings, store, transport, clock)
    made.append(connections)
    return connections


def connect(connections: Connections, name: str) -> dict[str, Any]:
    """A person approves ``name`` at the emulator's consent page."""
    link = connections.connect_link(name, callback_url=CALLBACK)
    return connections.complete(**decide(link.url))


def set_column(database_url: str, name: str, column: str, value: object) -> None:
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.begin() as connection:
            connection.execute(
                text(f"UPDATE connections SET {column} = :value WHERE name = :name"),  # noqa: S608
                {"value": value, "name": name},
            )
    finally:
        engine.dispose()


def column(database_url: str, name: str, column: str) -> Any:
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as connection:
            return connection.execute(
                text(f"SELECT {column} FROM connections WHERE name = :name"),  # noqa: S608
                {"name": name},
            ).scalar_one()
    finally:
        engine.dispose()


def idle_since(database_url: str, name: str, when: datetime) -> None:
    """``name`` was last refreshed at ``when``, and its stored access token is stale."""
    set_column(database_url, name, "refreshed_at", when)
    set_column(database_url, name, "access_expires_at", when + timedelta(hours=1))


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


def _open() -> threading.Event:
    gate = threading.Event()
    gate.set()
    return gate


@dataclass
class Receiver:
    """A webhook receiver on loopback: records each request, answers ``statuses`` in turn
    (then 200); while ``gate`` is clear, it holds every answer."""

    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    gate: threading.Event = field(default_factory=_open)
    url: str = ""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.received.append(Received(dict(request.headers), request.get_data()))
        self.gate.wait(30)
        status = self.statuses.pop(0) if self.statuses else 200
        return Response("ok", status)(environ, start_response)
