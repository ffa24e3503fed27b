"""The connections database, on SQLite and on the PostgreSQL running on this machine."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import text

import sfdc.access.schema  # noqa: F401 - registers api_keys, which shares this database
from sfdc.errors import ConfigError, ConnectionConflict, InvalidRequest, OrgMismatch
from sfdc.orgs.schema import Base, ConnectionRow, ConsentRequestRow
from sfdc.orgs.store import MIGRATIONS, ConnectionStore
from sfdc.settings.database import find_database
from tests.deploy import ROOT

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


_OPEN: list[ConnectionStore] = []


def store_for(url: str) -> ConnectionStore:
    store = ConnectionStore(find_database({"DATABASE_URL": url}, service_name=None))
    store.migrate()
    _OPEN.append(store)
    return store


@pytest.fixture(autouse=True)
def _close_stores() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().dispose()


def a_connection(name: str = "acme") -> ConnectionRow:
    return ConnectionRow(
        name=name,
        login_url="https://login.salesforce.com",
        instance_url="https://acme.my.salesforce.com",
        identity_url="https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS",
        user_id="005xx000001SwiUAAS",
        org_id="00Dxx0000001gPLEAY",
        username="admin@acme.example",
        scopes="api refresh_token",
        connected_at=NOW,
        refresh_token="sealed-refresh-token",
        status="connected",
    )


def a_request(nonce: str, expires_at: datetime) -> ConsentRequestRow:
    return ConsentRequestRow(
        nonce=nonce,
        name="acme",
        login_url="https://login.salesforce.com",
        scopes="api refresh_token",
        redirect_uri="https://svc.example/oauth/callback",
        code_verifier="sealed",
        expires_at=expires_at,
    )


def test_migrations_describe_exactly_the_models(database_url: str) -> None:
    """A model change without a migration fails here, before it can lose rows in production."""
    store = store_for(database_url)
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_migrating_again_keeps_stored_connections(database_url: str) -> None:
    store = store_for(database_url)
    store.replace(a_connection(), other_org=False)
    store_for(database_url)  # the next release starting up
    kept = store.get("acme")
    assert kept is not None
    assert kept.username == "admin@acme.example"
    assert kept.connected_at == NOW  # aware UTC in, aware UTC out, on both databases
    with store.engine.connect() as connection:
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert version == "0005"


def test_upgrading_from_the_first_schema_keeps_connections_and_pending_links(
    database_url: str,
) -> None:
    """A database written by the first release, upgraded by this one: nothing is lost."""
    store = ConnectionStore(find_database({"DATABASE_URL": database_url}, service_name=None))
    _OPEN.append(store)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    with store.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO connections (name, login_url, instance_url, identity_url, user_id, "
                "org_id, username, scopes, connected_at, refresh_token, status) VALUES ('acme', "
                "'https://login.salesforce.com', 'https://acme.my.salesforce.com', 'https://"
                "login.salesforce.com/id/00D/005', '005xx000001SwiUAAS', '00Dxx0000001gPLEAY', "
                "'admin@acme.example', 'api', :at, 'sealed', 'connected')"
            ),
            {"at": NOW},
        )
        connection.execute(
            text(
                "INSERT INTO consent_requests (nonce, name, login_url, scopes, redirect_uri, "
                "code_verifier, expires_at) VALUES ('n1', 'acme', 'https://login.salesforce.com',"
                " 'api', 'https://svc.example/oauth/callback', 'sealed', :at)"
            ),
            {"at": NOW + timedelta(minutes=15)},
        )
    store.migrate()  # this release starting up
    kept = store.get("acme")
    assert kept is not None
    assert kept.refresh_token == "sealed"
    assert kept.failures == 0  # no failed refresh in a row: nothing to back off from
    pending = store.take_request("n1")
    assert pending is not None
    assert pending.replace_org is False  # the new column, false for rows from before it


def test_replace_returns_the_refresh_token_it_replaced(database_url: str) -> None:
    store = store_for(database_url)
    assert store.replace(a_connection(), other_org=False) is None
    second = a_connection()
    second.refresh_token = "sealed-second"
    replaced = store.replace(second, other_org=False)
    assert replaced is not None
    assert replaced.refresh_token == "sealed-refresh-token"
    second = a_connection()
    second.refresh_token = "sealed-second"
    replaced = store.replace(second, other_org=False)
    assert replaced is not None
    assert replaced.refresh_token == "sealed-second"
    assert [row.refresh_token for row in store.all()] == ["sealed-second"]


def test_a_consent_request_is_taken_once_even_by_concurrent_callbacks(database_url: str) -> None:
    store = store_for(database_url)
    store.add_request(a_request("n1", NOW + timedelta(minutes=15)), NOW)
    barrier = threading.Barrier(6)
    taken: list[ConsentRequestRow | None] = []

    def take() -> None:
        barrier.wait()
        taken.append(store.take_request("n1"))

    threads = [threading.Thread(target=take) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    winners = [row for row in taken if row is not None]
    assert len(taken) == 6
    assert len(winners) == 1
    assert winners[0].redirect_uri == "https://svc.example/oauth/callback"


def test_expired_consent_requests_are_swept_by_the_next_one(database_url: str) -> None:
    store = store_for(database_url)
    store.add_request(a_request("old", NOW), NOW - timedelta(minutes=20))
    store.add_request(a_request("new", NOW + timedelta(minutes=15)), NOW + timedelta(seconds=1))
    assert store.take_request("old") is None
    assert store.take_request("new") is not None


def test_the_row_lock_makes_a_second_refresher_wait_for_the_first(database_url: str) -> None:
    store = store_for(database_url)
    store.replace(a_connection(), other_org=False)
    order: list[str] = []
    first_holds = threading.Event()

    def first() -> None:
        with store.locked("acme") as (_session, row):
            assert row is not None
            first_holds.set()
            order.append("first in")
            threading.Event().wait(0.3)  # a refresh in flight
            row.refresh_token = "sealed-rotated"
            order.append("first out")

    def second() -> None:
        first_holds.wait(10)
        with store.locked("acme") as (_session, row):
            order.append("second in")
            assert row is not None
            order.append(row.refresh_token)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert order == ["first in", "first out", "second in", "sealed-rotated"]


def test_an_unreachable_database_stops_start_up_with_one_clear_line() -> None:
    binding = find_database(
        {"DATABASE_URL": "postgresql://svc:s3cr3t-pw@127.0.0.1:1/connections"}, service_name=None
    )
    with pytest.raises(ConfigError) as caught:
        ConnectionStore(binding).migrate()
    message = str(caught.value)
    assert "cannot be opened or migrated" in message
    assert "s3cr3t-pw" not in message


def test_reading_another_connection_does_not_wait_for_a_refresh_in_flight(
    database_url: str,
) -> None:
    store = store_for(database_url)
    store.replace(a_connection("acme"), other_org=False)
    store.replace(a_connection("other"), other_org=False)
    holding, read_done = threading.Event(), threading.Event()
    order: list[str] = []

    def refresh() -> None:
        with store.locked("acme"):
            holding.set()
            read_done.wait(10)  # a refresh in flight until the read is done
            order.append("refresh done")

    thread = threading.Thread(target=refresh)
    thread.start()
    holding.wait(10)
    assert store.get("other") is not None
    assert [row.name for row in store.all()] == ["acme", "other"]
    order.append("read done")
    read_done.set()
    thread.join(30)
    assert order == ["read done", "refresh done"]


def test_two_first_connects_under_one_name_never_look_like_an_outage(database_url: str) -> None:
    store = store_for(database_url)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def connect(index: int) -> None:
        row = a_connection("acme")
        row.refresh_token = f"sealed-{index}"
        barrier.wait()
        try:
            store.replace(row, other_org=False)
            outcomes.append("stored")
        except ConnectionConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=connect, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(outcomes) == 4
    assert "stored" in outcomes
    assert len(store.all()) == 1


def test_a_schema_newer_than_this_release_stops_start_up_saying_so(database_url: str) -> None:
    store = store_for(database_url)
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(ConfigError) as caught:
        store.migrate()
    assert "newer than this release" in str(caught.value)


def test_a_reconnect_from_another_org_is_refused_unless_moving_is_allowed(
    database_url: str,
) -> None:
    store = store_for(database_url)
    store.replace(a_connection(), other_org=False)
    elsewhere = a_connection()
    elsewhere.org_id = "00Dxx0000002hQMEAY"
    with pytest.raises(OrgMismatch) as caught:
        store.replace(elsewhere, other_org=False)
    assert '"replace": true' in caught.value.hint
    same_org_18_vs_15 = a_connection()
    same_org_18_vs_15.org_id = "00Dxx0000001gPL"
    assert store.replace(same_org_18_vs_15, other_org=False) is not None
    moved = a_connection()
    moved.org_id = "00Dxx0000002hQMEAY"
    assert store.replace(moved, other_org=True) is not None
    kept = store.get("acme")
    assert kept is not None
    assert kept.org_id == "00Dxx0000002hQMEAY"


def test_a_writer_waiting_on_the_lock_still_finds_a_replaced_row(database_url: str) -> None:
    """Replacing updates the row in place, so a refresh or delete queued behind it finds it.

    (Deleting and re-inserting would leave a PostgreSQL ``FOR UPDATE`` waiter with nothing.)
    """
    store = store_for(database_url)
    store.replace(a_connection(), other_org=False)
    holding, release = threading.Event(), threading.Event()
    found: list[str | None] = []

    def refresh_in_flight() -> None:
        with store.locked("acme"):
            holding.set()
            release.wait(10)

    def reconnect() -> None:
        again = a_connection()
        again.refresh_token = "sealed-reconnected"
        store.replace(again, other_org=False)

    def delete_waiting() -> None:
        with store.locked("acme") as (_session, row):
            found.append(row.refresh_token if row is not None else None)

    first = threading.Thread(target=refresh_in_flight)
    first.start()
    holding.wait(10)
    queued = [threading.Thread(target=reconnect), threading.Thread(target=delete_waiting)]
    for thread in queued:
        thread.start()
        threading.Event().wait(0.2)  # queue them in this order behind the lock
    release.set()
    for thread in [first, *queued]:
        thread.join(30)
    assert len(found) == 1
    assert found[0] is not None


def test_a_value_postgresql_cannot_hold_is_the_request_s_fault_not_an_outage(
    postgres_url: str,
) -> None:
    """A NUL in a text column: PostgreSQL refuses it (DataError); that is a 400, never a
    retryable 503 that sends callers to check a healthy database."""
    store = store_for(postgres_url)
    row = a_connection()
    row.username = "admin\x00@acme.example"
    with pytest.raises(InvalidRequest, match="refused a value") as refused:
        store.replace(row, other_org=False)
    assert refused.value.status == 400
    assert store.get("acme") is None


_GEVENT_WRITERS = """
from gevent import monkey

monkey.patch_all()  # as gunicorn.conf.py does, before anything else
import json
import sys

import gevent

from sfdc.orgs.store import ConnectionStore
from sfdc.settings.database import find_database
from tests.orgs.test_store import a_connection

store = ConnectionStore(find_database({"DATABASE_URL": sys.argv[1]}, service_name=None))
store.migrate()
store.replace(a_connection("acme"), other_org=False)
store.replace(a_connection("other"), other_org=False)
order = []
holding = gevent.event.Event()


def refresh():
    with store.locked("acme"):
        order.append("refresh in")
        holding.set()
        gevent.sleep(1)  # the refresh grant in flight: this greenlet yields
        order.append("refresh out")


def other_write():
    holding.wait()
    with store.locked("other"):
        order.append("other write")


gevent.joinall([gevent.spawn(refresh), gevent.spawn(other_write)])
print(json.dumps(order))
"""


def test_under_gevent_a_second_sqlite_writer_waits_without_freezing_the_worker(
    sqlite_url: str,
) -> None:
    # SQLite's own wait for its write lock would hold the worker's one thread in C, so
    # the refresh holding the lock could never finish: the worker froze for the 60 s
    # busy timeout. Run as gunicorn's gevent workers run, in a patched process.
    result = subprocess.run(
        [sys.executable, "-c", _GEVENT_WRITERS, sqlite_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["refresh in", "refresh out", "other write"]
