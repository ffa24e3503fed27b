"""Connections' token sources at scale: lock-free reads, shared through Redis, bounded.

Several workers (each what one gunicorn worker builds) on one PostgreSQL
database and one Redis, against the emulator: a fresh stored token is read
with no lock, a token one worker got is served to another from Redis
without touching the database, a deleted connection stops being served
everywhere once Redis is re-read, and each worker keeps at most
``SFDC_CONNECTION_CACHE_SIZE`` sources.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
import requests
from sqlalchemy.orm import Session

from sfdc.errors import ConsentRequired, UnknownConnection
from sfdc.orgs.connections import Connections
from sfdc.orgs.store import ConnectionStore
from sfdc.salesforce.pools import new_session
from sfdc.salesforce.transport import Transport
from sfdc.settings.settings import Settings, load_settings
from sfdc.tokens.provider import LOCAL_RECHECK
from tests.conftest import ENCRYPTION_KEY, FakeClock
from tests.emulated import stats
from tests.orgs.upkeep_support import QUICK_RETRY, column, connect, worker
from tests.sealing_support import open_column


@pytest.fixture
def database_url(postgres_url: str) -> str:
    """PostgreSQL only: the row lock and the read counts are PostgreSQL's."""
    return postgres_url


class CountingStore(ConnectionStore):
    """The real store, counting the transactions it opens (each one a database round trip)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.transactions = 0

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        self.transactions += 1
        with super().session(write=write) as session:
            yield session


def counting_worker(made: list[Connections], settings: Settings, clock: FakeClock) -> Any:
    assert settings.database is not None
    store = CountingStore(settings.database)
    transport = Transport(new_session(), timeout=settings.http_timeout, retry=QUICK_RETRY)
    connections = Connections(settings, store, transport, clock)
    made.append(connections)
    return connections, store


def stored_access_token(database_url: str, name: str) -> str:
    sealed = column(database_url, name, "access_token")
    return open_column(sealed, ENCRYPTION_KEY, name=name, purpose="access_token")


def test_a_fresh_stored_token_is_read_without_taking_the_row_lock(
    env: dict[str, str], org: Any, workers: list[Connections], database_url: str
) -> None:
    settings = load_settings(env)
    first = worker(workers, settings, FakeClock(datetime.now(UTC)))
    connect(first, "acme")
    epoch = column(database_url, "acme", "lease_epoch")
    grants = stats(org.url)["refresh_grants"]
    second = worker(workers, settings, FakeClock(datetime.now(UTC)))
    got: list[str] = []
    with psycopg.connect(database_url) as locker:
        # Another transaction holds the row as a reconnect would, until this block ends: a
        # reader that claimed the lease or locked the row would wait here for good.
        locker.execute("SELECT name FROM connections WHERE name = 'acme' FOR UPDATE")
        reader = threading.Thread(
            target=lambda: got.append(second.source("acme").current().token.access_token),
            daemon=True,
        )
        reader.start()
        reader.join(60)
        finished = not reader.is_alive()
        locker.rollback()
    reader.join(60)
    assert finished, "reading a fresh stored token waited for the row lock"
    assert got == [stored_access_token(database_url, "acme")]
    assert column(database_url, "acme", "lease_epoch") == epoch  # no lease was claimed
    assert stats(org.url)["refresh_grants"] == grants


def test_a_token_one_worker_got_is_served_to_another_from_redis_alone(
    env: dict[str, str], org: Any, workers: list[Connections], database_url: str
) -> None:
    settings = load_settings(env)
    first = worker(workers, settings, FakeClock(datetime.now(UTC)))
    connect(first, "acme")
    token = first.source("acme").current().token.access_token
    second, store = counting_worker(workers, settings, FakeClock(datetime.now(UTC)))

    served = second.source("acme").current().token.access_token

    assert served == token
    assert store.transactions == 0  # not one database read: Redis had it
    # And it works at Salesforce: the emulator knows it as a live session.
    answer = new_session().get(
        f"{org.url}/services/data/v60.0/limits",
        headers={"Authorization": f"Bearer {served}"},
        timeout=10,
    )
    assert answer.status_code == 200


def test_without_redis_a_worker_reads_the_database_and_still_takes_no_lease(
    env: dict[str, str], org: Any, workers: list[Connections], database_url: str
) -> None:
    alone = {k: v for k, v in env.items() if k != "REDIS_URL"}
    settings = load_settings(alone)
    first = worker(workers, settings, FakeClock(datetime.now(UTC)))
    connect(first, "acme")
    epoch = column(database_url, "acme", "lease_epoch")
    second, store = counting_worker(workers, settings, FakeClock(datetime.now(UTC)))

    served = second.source("acme").current().token.access_token

    assert served == stored_access_token(database_url, "acme")
    assert store.transactions >= 1
    assert column(database_url, "acme", "lease_epoch") == epoch


def test_a_deleted_connection_stops_being_served_from_redis(
    env: dict[str, str], org: Any, workers: list[Connections], database_url: str
) -> None:
    settings = load_settings(env)
    first = worker(workers, settings, FakeClock(datetime.now(UTC)))
    clock = FakeClock(datetime.now(UTC))
    second = worker(workers, settings, clock)
    connect(first, "acme")
    second.source("acme").current()  # the second worker holds a copy

    first.delete("acme")
    clock.advance(LOCAL_RECHECK + timedelta(seconds=1))

    with pytest.raises(UnknownConnection):
        second.source("acme").current()


def test_a_reconnected_connection_is_served_with_its_new_token(
    env: dict[str, str], org: Any, workers: list[Connections], database_url: str
) -> None:
    settings = load_settings(env)
    first_clock = FakeClock(datetime.now(UTC))
    first = worker(workers, settings, first_clock)
    clock = FakeClock(datetime.now(UTC))
    second = worker(workers, settings, clock)
    connect(first, "acme")
    old = second.source("acme").current().token.access_token

    first_clock.advance(timedelta(minutes=1))
    connect(first, "acme")  # approved again: a new grant and token
    clock.advance(LOCAL_RECHECK + timedelta(seconds=1))

    new = second.source("acme").current().token.access_token
    assert new != old
    assert new == stored_access_token(database_url, "acme")


def test_each_worker_keeps_at_most_the_configured_number_of_sources(
    env: dict[str, str], org: Any, workers: list[Connections], database_url: str
) -> None:
    settings = load_settings({**env, "SFDC_CONNECTION_CACHE_SIZE": "2"})
    one = worker(workers, settings, FakeClock(datetime.now(UTC)))
    names = ["c1", "c2", "c3"]
    tokens = {}
    for name in names:
        connect(one, name)
    for name in names:
        tokens[name] = one.source(name).current().token.access_token
    assert len(one.sources) == 2
    assert one.sources.get("c1") is None  # the least recently used went first
    assert one.sources.get("c3") is not None
    grants = stats(org.url)["refresh_grants"]

    # One pushed out is served again from the shared copy: no refresh, the same token.
    assert one.source("c1").current().token.access_token == tokens["c1"]
    assert len(one.sources) == 2
    assert stats(org.url)["refresh_grants"] == grants


def test_a_connection_that_lost_consent_stops_being_served_from_redis(
    env: dict[str, str], org: Any, workers: list[Connections], database_url: str
) -> None:
    settings = load_settings(env)
    first = worker(workers, settings, FakeClock(datetime.now(UTC)))
    clock = FakeClock(datetime.now(UTC))
    second = worker(workers, settings, clock)
    connect(first, "acme")
    second.source("acme").current()  # the second worker holds a copy
    # An admin revokes the app's refresh tokens; the next refresh (here the keep-alive's)
    # is refused, and the connection turns needs_consent.
    assert requests.post(f"{org.url}/_emulator/refresh-tokens/revoke", timeout=10).ok
    with pytest.raises(ConsentRequired):
        first.refresher.refresh("acme", frozenset(), since=datetime.now(UTC))
    clock.advance(LOCAL_RECHECK + timedelta(seconds=1))

    with pytest.raises(ConsentRequired):
        second.source("acme").current()
