"""No refresh token is lost, whatever instant the database stops or a worker dies.

Salesforce rotates the refresh token on every refresh here (the emulator's
rotation is on): the old one is dead the moment the new one is issued, so a
new one that never reaches durable storage means a person must approve the
connection again. Each trial takes a connection whose access token is stale,
starts a refresh, and at one named step of it either stops PostgreSQL
(``pg_ctl -m immediate``, a private server of this test's own) or SIGKILLs the
process doing it. Then the database comes back, a fresh process (a new
``Connections``, as a new worker would build) uses the connection, and the
test asserts that it works, that the stored refresh token is the live one, and
that Salesforce saw no more refresh grants than the trial needed.

The steps (see ``sfdc/orgs/refresh.py``): ``claimed`` (lease taken, before the
grant), in flight (the grant's request is at Salesforce), ``answered`` (the
answer is here, nothing written yet), ``stored`` (written), ``done`` (expiry
learnt). A worker killed at ``answered`` is the documented exception: the
answer dies with it, and with it the rotated token; it is not tried.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from prometheus_client import REGISTRY
from sqlalchemy import text

from sfdc.clock import utc_now
from sfdc.errors import SfdcError
from sfdc.orgs.connections import Connections
from sfdc.orgs.sources import shared_tokens
from sfdc.orgs.store import ConnectionStore
from sfdc.salesforce.pools import new_session
from sfdc.salesforce.transport import Transport
from sfdc.settings.settings import Settings, load_settings
from sfdc.tokens.shared_cache import connect
from tests.db_support import PrivatePostgres
from tests.deploy import ROOT, free_port
from tests.emulated import fail_next, stats
from tests.orgs_support import CALLBACK, decide

LEASE = 1.5  # seconds: short, so that a dead holder's lease lapses within a trial
TRIALS_PER_STEP = 3
# Refresh grants a trial needs: by the interrupted process, then by the next one,
# which either adopts the tokens the interrupted one stored or refreshes itself.
STOPPED = {
    "claimed": (1, 1),  # the grant still runs; writing its answer fails: parked in Redis
    "in flight": (1, 1),  # likewise, the database stopping while Salesforce answers
    "answered": (1, 1),  # likewise
    "stored": (1, 0),  # stored before the stop: the next process adopts it
    "done": (1, 0),
}
KILLED = {"claimed": (0, 1), "stored": (1, 0), "done": (1, 0)}


@pytest.fixture(scope="module")
def postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture
def database_url(postgres: PrivatePostgres) -> str:
    """The conftest's ``env`` on this module's PostgreSQL server, which trials stop."""
    return postgres.url


def worker(settings: Settings, *, step: Callable[[str], None] | None = None) -> Connections:
    """What one gunicorn worker builds: its own store, transport and caches."""
    assert settings.database is not None
    store = ConnectionStore(settings.database)
    store.migrate()
    connections = Connections(
        settings, store, Transport(new_session(), timeout=settings.http_timeout), utc_now
    )
    connections.refresher.lease = timedelta(seconds=LEASE)
    if step is not None:
        connections.refresher.step = step
    return connections


def make_stale(settings: Settings, name: str) -> None:
    """The stored access token counts as expired, so the next use must refresh: in the
    database, and the copy shared through Redis (which would have expired with it)."""
    assert settings.database is not None
    shared = shared_tokens(settings, connect(settings.redis.url) if settings.redis else None)
    if shared is not None:
        shared.drop(name)
    store = ConnectionStore(settings.database)
    try:
        with store.engine.begin() as connection:
            connection.execute(
                text("UPDATE connections SET access_expires_at = :past WHERE name = :name"),
                {"past": datetime.now(UTC) - timedelta(hours=1), "name": name},
            )
    finally:
        store.dispose()


def answers(connections: Connections, name: str) -> bool:
    """Whether the connection hands out a token that Salesforce accepts."""
    token = connections.source(name).current().token
    identity = requests.get(
        token.id, headers={"Authorization": f"Bearer {token.access_token}"}, timeout=10
    )
    return identity.status_code == 200


def recovered(settings: Settings, org: Any, name: str) -> int:
    """Use ``name`` from a fresh worker, then refresh it once more from another: both
    work only if what is stored (or parked) is the live refresh token. The grants the
    first use took."""
    before = stats(org.url)["refresh_grants"]
    first = worker(settings)
    assert answers(first, name)
    spent = stats(org.url)["refresh_grants"] - before
    first.store.dispose()
    make_stale(settings, name)
    second = worker(settings)
    assert answers(second, name)
    second.store.dispose()
    return spent


def test_stopping_the_database_at_any_step_of_a_rotating_refresh_loses_nothing(
    env: dict[str, str], org: Any, postgres: PrivatePostgres
) -> None:
    settings = load_settings(env)
    setup = worker(settings)
    trials = [(step, n) for step in STOPPED for n in range(TRIALS_PER_STEP)]
    for step, n in trials:
        _connect(setup, f"stop-{n}-{step.replace(' ', '-')}")
    setup.store.dispose()
    for step, n in trials:
        name = f"stop-{n}-{step.replace(' ', '-')}"
        make_stale(settings, name)

        def stop_at(reached: str, target: str = step) -> None:
            if reached == target:
                postgres.stop()

        victim = worker(settings, step=None if step == "in flight" else stop_at)
        before = stats(org.url)["refresh_grants"]
        if step == "in flight":  # Salesforce holds the answer while the database stops
            fail_next(org.url, "hang", 1, seconds=1.0)
            threading.Timer(0.3, postgres.stop).start()
        outcome = "ok"
        try:
            victim.source(name).current()
        except SfdcError as exc:
            outcome = exc.code
        # The caller is served, or told the database failed; either way nothing is lost.
        assert outcome in ("ok", "database_unavailable"), (step, outcome)
        grants = stats(org.url)["refresh_grants"] - before
        victim.store.dispose()
        postgres.start()
        assert (grants, recovered(settings, org, name)) == STOPPED[step], (step, n)


def test_killing_the_worker_outside_the_grant_round_trip_loses_nothing(
    env: dict[str, str], org: Any
) -> None:
    settings = load_settings(env)
    setup = worker(settings)
    trials = [(step, n) for step in KILLED for n in range(TRIALS_PER_STEP)]
    for step, n in trials:
        _connect(setup, f"kill-{n}-{step}")
    setup.store.dispose()
    for step, n in trials:
        name = f"kill-{n}-{step}"
        make_stale(settings, name)
        before = stats(org.url)["refresh_grants"]
        child = subprocess.run(
            [sys.executable, "-m", "tests.orgs.crash_child", name, step, str(LEASE)],
            env={**os.environ, "SFDC_CRASH_ENV": json.dumps(env)},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert child.returncode == -9, child.stderr  # SIGKILLed at the step
        grants = stats(org.url)["refresh_grants"] - before
        assert (grants, recovered(settings, org, name)) == KILLED[step], (step, n)


def _connect(connections: Connections, name: str) -> None:
    link = connections.connect_link(name, callback_url=CALLBACK)
    connections.complete(**decide(link.url))


def parked_during_an_outage(
    settings: Settings, postgres: PrivatePostgres, name: str
) -> Connections:
    """Connect ``name`` and refresh it from a worker whose database stops the moment
    Salesforce's rotating answer arrives, then comes back: the worker, which kept serving."""
    setup = worker(settings)
    _connect(setup, name)
    setup.store.dispose()
    make_stale(settings, name)
    stops = iter([True])

    def stop_at(reached: str) -> None:
        if reached == "answered" and next(stops, False):
            postgres.stop()

    victim = worker(settings, step=stop_at)
    try:
        assert answers(victim, name)  # served meanwhile, the new token parked
    finally:
        postgres.start()
    return victim


def test_with_redis_down_too_the_token_stays_in_the_process_and_says_so_loudly(
    env: dict[str, str], org: Any, postgres: PrivatePostgres, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings({**env, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    before = parked_in_process()
    victim = parked_during_an_outage(settings, postgres, "alone")  # in this process's memory
    alarms = [r for r in caplog.records if r.levelname == "ERROR" and "alone" in r.getMessage()]
    assert alarms, "no error line said the refresh token was held by this process only"
    assert parked_in_process() == before + 1
    # The same process writes it back by its next refresh: the connection survives.
    make_stale(settings, "alone")
    victim.forget("alone")
    assert answers(victim, "alone")
    victim.store.dispose()
    assert recovered(settings, org, "alone") == 0


def parked_in_process() -> float:
    value = REGISTRY.get_sample_value("sfdc_refresh_tokens_parked_total", {"place": "process"})
    return value or 0.0


def test_a_parked_token_is_used_when_no_key_opens_the_stored_one(
    env: dict[str, str], org: Any, postgres: PrivatePostgres
) -> None:
    """The parked token is the newer one; the stored one lost its key (or was garbled):
    the parked token is spent, not dropped for want of proof that it succeeded."""
    settings = load_settings(env)
    parked_during_an_outage(settings, postgres, "keyless").store.dispose()  # in Redis
    assert settings.database is not None
    store = ConnectionStore(settings.database)
    try:
        with store.engine.begin() as connection:
            connection.execute(
                text(
                    "UPDATE connections SET refresh_token = 'sealed-by-a-removed-key', "
                    "access_expires_at = :past WHERE name = 'keyless'"
                ),
                {"past": datetime.now(UTC) - timedelta(hours=1)},
            )
    finally:
        store.dispose()
    after = worker(settings)
    try:
        assert answers(after, "keyless")
    finally:
        after.store.dispose()
