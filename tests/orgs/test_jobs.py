"""The jobs lease: one holder at a time, freed by expiry, fenced by its epoch."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from sfdc.orgs.jobs import JobLeases
from sfdc.orgs.store import ConnectionStore
from sfdc.settings.database import find_database

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


@pytest.fixture
def leases(database_url: str) -> Iterator[tuple[JobLeases, JobLeases]]:
    """Two processes' views of one database."""
    stores = [ConnectionStore(find_database({"DATABASE_URL": database_url}, service_name=None))]
    stores[0].migrate()
    stores.append(ConnectionStore(stores[0].binding))
    yield JobLeases(stores[0]), JobLeases(stores[1])
    for store in stores:
        store.dispose()


def test_one_holder_at_a_time_until_the_lease_expires(
    leases: tuple[JobLeases, JobLeases],
) -> None:
    first, second = leases
    held = first.claim("keepalive", NOW, NOW + LEASE)
    assert held is not None
    assert held.last_run is None
    assert second.claim("keepalive", NOW + LEASE - timedelta(seconds=1), NOW + 2 * LEASE) is None
    taken = second.claim("keepalive", NOW + LEASE, NOW + 2 * LEASE)  # the holder died
    assert taken is not None
    assert taken.epoch > held.epoch
    assert not first.renew(held, NOW + 3 * LEASE), "a holder that lost the lease learns it"
    assert not first.release(held), "and cannot free the new holder's lease"
    assert first.claim("keepalive", NOW + LEASE, NOW + 2 * LEASE) is None


def test_release_frees_it_and_the_last_run_is_kept(leases: tuple[JobLeases, JobLeases]) -> None:
    first, second = leases
    held = first.claim("keepalive", NOW, NOW + LEASE)
    assert held is not None
    assert first.ran(held, NOW)
    assert first.renew(held, NOW + 2 * LEASE)
    assert first.release(held)
    again = second.claim("keepalive", NOW, NOW + LEASE)
    assert again is not None
    assert again.last_run == NOW


def test_jobs_have_leases_of_their_own(leases: tuple[JobLeases, JobLeases]) -> None:
    first, second = leases
    assert first.claim("keepalive", NOW, NOW + LEASE) is not None
    assert second.claim("another-job", NOW, NOW + LEASE) is not None
