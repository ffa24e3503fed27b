"""Named keys in a real database (SQLite and PostgreSQL), seen by two processes' keyrings.

Each keyring stands for one worker or instance: its own cache, one shared
database. A revocation made through one reaches the other after at most
``REVOCATION_DELAY`` of the other's clock, and not before: a fake clock moves
across that boundary, so nothing here sleeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from sfdc.access.caller import CONFIGURED_CLIENT
from sfdc.access.keyring import REVOCATION_DELAY, Keyring
from sfdc.access.scopes import FULL_ACCESS, Scope
from sfdc.access.store import KeyStore
from sfdc.errors import InvalidRequest, UnknownKey
from sfdc.orgs.store import ConnectionStore
from sfdc.settings.database import find_database
from tests.conftest import API_KEY, FakeClock

TICK = timedelta(milliseconds=1)


@pytest.fixture
def store(database_url: str) -> Iterator[ConnectionStore]:
    found = ConnectionStore(find_database({"DATABASE_URL": database_url}, service_name=None))
    found.migrate()
    yield found
    found.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 12, 2, 1, 0, tzinfo=UTC))


def _keyring(store: ConnectionStore, clock: FakeClock) -> Keyring:
    return Keyring(frozenset({API_KEY}), KeyStore(store, clock), clock)


def test_a_named_key_is_its_client_with_its_scopes_and_default(
    store: ConnectionStore, clock: FakeClock
) -> None:
    ring = _keyring(store, clock)
    record, key = KeyStore(store, clock).create("billing-app", ["proxy:acme"], "acme")
    caller = ring.identify(key)
    assert caller is not None
    assert (caller.client, caller.key_id, caller.scopes, caller.default_connection) == (
        "billing-app",
        record.key_id,
        (Scope("proxy", "acme"),),
        "acme",
    )
    assert ring.identify(key[:-1] + ("a" if key[-1] != "a" else "b")) is None  # wrong secret
    configured = ring.identify(API_KEY)
    assert configured is not None
    assert (configured.client, configured.scopes) == (CONFIGURED_CLIENT, FULL_ACCESS)


def test_only_a_hash_of_the_key_is_stored(store: ConnectionStore, clock: FakeClock) -> None:
    record, key = KeyStore(store, clock).create("billing-app", ["token:*"])
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM api_keys")).all()
    assert len(rows) == 1
    stored = " ".join(str(value) for value in rows[0])
    assert key not in stored
    assert key.split("!")[1] not in stored
    assert record.key_id in stored


def test_a_revocation_reaches_another_process_within_the_delay_and_not_before(
    store: ConnectionStore, clock: FakeClock
) -> None:
    other_clock = FakeClock(clock.now)
    here, there = _keyring(store, clock), _keyring(store, other_clock)
    record, key = here.store.create("billing-app", ["proxy:acme"])  # type: ignore[union-attr]
    assert there.identify(key) is not None  # the other process has looked it up
    here.store.revoke(record.key_id)  # type: ignore[union-attr]
    here.forget(record.key_id)
    assert here.identify(key) is None  # where it was revoked: at once
    other_clock.advance(REVOCATION_DELAY - TICK)
    assert there.identify(key) is not None  # still its cached view
    other_clock.advance(TICK)
    assert there.identify(key) is None  # no restart, no message: the delay ran out


def test_rotating_ends_the_old_key_and_keeps_the_id(
    store: ConnectionStore, clock: FakeClock
) -> None:
    ring = _keyring(store, clock)
    keys = KeyStore(store, clock)
    record, old = keys.create("billing-app", ["token:jwt"])
    rotated, new = keys.rotate(record.key_id)
    ring.forget(record.key_id)
    assert rotated.key_id == record.key_id
    assert rotated.rotated_at == clock.now
    assert ring.identify(old) is None
    assert ring.identify(new) is not None


def test_unknown_ids_and_bad_requests_are_refused(store: ConnectionStore, clock: FakeClock) -> None:
    keys = KeyStore(store, clock)
    with pytest.raises(UnknownKey):
        keys.revoke("abcdefghij")
    with pytest.raises(UnknownKey):
        keys.rotate("abcdefghij")
    with pytest.raises(InvalidRequest):
        keys.create("billing app", ["proxy:acme"])
    with pytest.raises(InvalidRequest):
        keys.create("billing-app", ["proxy"])
    record, _ = keys.create("billing-app", ["keys"])
    keys.revoke(record.key_id)
    with pytest.raises(UnknownKey):
        keys.rotate(record.key_id)  # a revoked key stays revoked
    assert [found.revoked_at for found in keys.all()] == [clock.now]


def test_without_a_database_only_configured_keys_work(clock: FakeClock) -> None:
    ring = Keyring(frozenset({API_KEY}), None, clock)
    assert ring.identify(API_KEY) is not None
    assert ring.identify("00Dsfkabcdefghij!" + "a" * 43) is None
    assert Keyring(frozenset(), None, clock).empty


def test_a_key_rotated_elsewhere_works_here_at_once(
    store: ConnectionStore, clock: FakeClock
) -> None:
    here, there = _keyring(store, clock), _keyring(store, FakeClock(clock.now))
    record, old = here.store.create("billing-app", ["proxy:acme"])  # type: ignore[union-attr]
    assert there.identify(old) is not None  # cached there, with the old hash
    _, new = here.store.rotate(record.key_id)  # type: ignore[union-attr]
    assert there.identify(new) is not None  # a mismatch reads the row again
    assert there.identify(old) is None  # and that read ended the old key there too
