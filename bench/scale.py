"""10,000 connected orgs: a random connection's p99 vs one connection's, and memory per worker.

The orgs are seeded straight into a private PostgreSQL database (one bulk
INSERT of sealed rows) and into the emulator (a session and a refresh token
each, as its consent flow would have issued them), so seeding takes seconds.
The app runs with 2 gunicorn workers and Redis, every connection is used once
(steady state: each token shared in Redis), then `/token` and a proxied call
are timed for one connection and for a random one, alternating request by
request on one keep-alive connection. Memory: `tracemalloc` over one process's token
sources, with the LRU (`SFDC_CONNECTION_CACHE_SIZE`) empty, full, and after
every connection was used.
"""

from __future__ import annotations

import gc
import http.client
import multiprocessing
import random
import tempfile
import time
import tracemalloc
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import create_engine, insert

from bench.harness import API_KEY, CONSUMER_KEY, USERNAME, emulator_for, percentile, served
from sfdc.clock import utc_now
from sfdc.emulator.issuance import mint_token, new_grant_id, new_refresh_token
from sfdc.emulator.state import RefreshGrant
from sfdc.orgs.connections import Connections
from sfdc.orgs.schema import ConnectionRow
from sfdc.orgs.store import ConnectionStore
from sfdc.salesforce.pools import new_session
from sfdc.salesforce.transport import Transport
from sfdc.settings.settings import load_settings
from sfdc.tokens.sealing import ColumnSealer
from tests.db_support import fresh_postgres
from tests.orgs_support import CALLBACK, PERSON

ORGS = 10_000
SECRET = "bench-consumer-secret"  # noqa: S105 - the emulated app's, made up for this run
ENCRYPTION_KEY = "YmVuY2gtZW5jcnlwdGlvbi1rZXktMDEyMzQ1Njc4OWE="
REDIS_URL = "redis://127.0.0.1:6379/0"
SCOPE = "api refresh_token"
PAIRS = 2500
TOKEN, PROXIED = "/token", "/api/data/v60.0/limits"


def _names() -> list[str]:
    return [f"org-{i:05d}" for i in range(ORGS)]


def _seed(emulator: Any, database: str) -> None:
    """Every org as the consent flow would leave it: a live grant at the emulator, a row
    holding its sealed refresh token and fresh access token."""
    now = utc_now()
    sealer = ColumnSealer((ENCRYPTION_KEY,))
    rows = []
    for name in _names():
        grant = new_grant_id()
        session = mint_token(
            emulator.config, PERSON, emulator.url, now, scope=SCOPE, grant_id=grant
        )
        refresh = new_refresh_token()
        emulator.state.issue(session, RefreshGrant(refresh, grant, PERSON, SCOPE))
        rows.append(
            {
                "name": name,
                "login_url": emulator.url,
                "instance_url": emulator.url,
                "identity_url": session.identity_url,
                "user_id": session.user_id,
                "org_id": session.organization_id,
                "username": PERSON,
                "scopes": SCOPE,
                "connected_at": now,
                "refresh_token": sealer.seal(refresh, name=name, purpose="refresh_token"),
                "status": "connected",
                "access_token": sealer.seal(
                    session.access_token, name=name, purpose="access_token"
                ),
                "access_issued_at": now,
                "access_expires_at": session.expires_at,
                "refreshed_at": now,
                "lease_epoch": 0,
                "failures": 0,
            }
        )
    engine = create_engine(database.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.begin() as connection:
            connection.execute(insert(ConnectionRow.__table__), rows)
    finally:
        engine.dispose()


def _use_all(port: int, names: list[str], out: Any) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    failed = 0
    for name in names:
        connection.request(
            "GET", TOKEN, headers={"Authorization": f"Bearer {API_KEY}", "X-Sfdc-Connection": name}
        )
        answer = connection.getresponse()
        answer.read()
        failed += answer.status != 200
    out.put(failed)


def _warm(port: int, clients: int = 4) -> None:
    """Every connection used once, from ``clients`` processes: each token is in Redis."""
    names = _names()
    queue: Any = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=_use_all, args=(port, names[i::clients], queue))
        for i in range(clients)
    ]
    for worker in workers:
        worker.start()
    failed = sum(queue.get(timeout=600) for _ in workers)
    for worker in workers:
        worker.join()
    if failed:
        raise SystemExit(f"{failed} connections failed their first use")


def _timed(connection: http.client.HTTPConnection, path: str, name: str) -> float:
    headers = {"Authorization": f"Bearer {API_KEY}", "X-Sfdc-Connection": name}
    started = time.perf_counter()
    connection.request("GET", path, headers=headers)
    answer = connection.getresponse()
    answer.read()
    took = time.perf_counter() - started
    if answer.status != 200:
        raise SystemExit(f"{path} for {name} answered {answer.status}")
    return took


def _p99_ratio(port: int, path: str, rng: random.Random) -> tuple[float, float, float]:
    """(ratio, one connection's p99, a random connection's p99). The two alternate request
    by request, so a burst of load on this shared machine falls on both alike."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    names = _names()
    one: list[float] = []
    spread: list[float] = []
    for _ in range(100):  # the one connection's token in this worker's process cache
        _timed(connection, path, names[0])
    for _ in range(PAIRS):
        one.append(_timed(connection, path, names[0]))
        spread.append(_timed(connection, path, rng.choice(names)))
    connection.close()
    single, scattered = percentile(one, 0.99), percentile(spread, 0.99)
    return scattered / single, single, scattered


def _traced() -> int:
    gc.collect()  # what is still held, not garbage the collector has yet to reach
    return tracemalloc.get_traced_memory()[0]


def _memory(env: dict[str, str]) -> tuple[float, int, int, int]:
    """(bytes per kept source, LRU size, bytes with the LRU full, after every connection)
    in one process built as a worker builds it."""
    settings = load_settings(env)
    assert settings.database is not None
    store = ConnectionStore(settings.database)
    connections = Connections(
        settings, store, Transport(new_session(), timeout=settings.http_timeout), utc_now
    )
    size = settings.connection_cache_size
    names = _names()
    try:
        connections.source(names[-1]).current()  # imports, pools, the first Redis connection
        tracemalloc.start()
        empty = _traced()
        for name in names[:size]:
            connections.source(name).current()
        full = _traced() - empty
        for name in names[size:]:
            connections.source(name).current()
        after_all = _traced() - empty
        tracemalloc.stop()
    finally:
        store.dispose()
    return full / size, size, full, after_all


def bench_scale(pair: Any) -> None:
    started = time.monotonic()
    prefix = f"sfdc-bench-{uuid.uuid4().hex[:8]}"
    extra = {
        "SFDC_CONSUMER_SECRET": SECRET,
        "SFDC_ENCRYPTION_KEY": ENCRYPTION_KEY,
        "SFDC_CALLBACK_URL": CALLBACK,
        "REDIS_URL": REDIS_URL,
        "SFDC_CACHE_PREFIX": prefix,
    }
    with (
        emulator_for(
            pair, more_users=(PERSON,), consumer_secret=SECRET, callback_urls=(CALLBACK,)
        ) as emulator,
        fresh_postgres() as database,
        served(emulator.url, pair, workers=2, DATABASE_URL=database, **extra) as port,
        tempfile.TemporaryDirectory() as keys,
    ):
        seeded = time.monotonic()
        _seed(emulator, database)
        seeding = time.monotonic() - seeded
        _warm(port)
        rng = random.Random(13)
        token = _p99_ratio(port, TOKEN, rng)
        proxied = _p99_ratio(port, PROXIED, rng)
        Path(keys, "key.pem").write_text(pair.private_key_pem)
        Path(keys, "cert.pem").write_text(pair.certificate_pem)
        per_source, size, full, after_all = _memory(
            {
                "SFDC_CONSUMER_KEY": CONSUMER_KEY,
                "SFDC_USERNAME": USERNAME,
                "SFDC_LOGIN_URL": emulator.url,
                "SFDC_PRIVATE_KEY_FILE": f"{keys}/key.pem",
                "SFDC_CERTIFICATE_FILE": f"{keys}/cert.pem",
                "DATABASE_URL": database,
                **extra,
            }
        )
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}:*", count=1000):
        client.delete(key)
    print(
        f"{ORGS:,} connected orgs (PostgreSQL, Redis, 2 workers; seeded in {seeding:.1f} s): "
        f"p99 for a random connection vs one connection: /token {token[0]:.2f}x "
        f"({token[2] * 1000:.1f} vs {token[1] * 1000:.1f} ms), proxied call {proxied[0]:.2f}x "
        f"({proxied[2] * 1000:.1f} vs {proxied[1] * 1000:.1f} ms) (target <= 1.5x)"
    )
    print(
        f"memory per worker: {per_source / 1024:.1f} KiB per kept connection; the LRU "
        f"(SFDC_CONNECTION_CACHE_SIZE={size:,}) full: {full / 2**20:.1f} MiB, after all "
        f"{ORGS:,} connections were used: {after_all / 2**20:.1f} MiB "
        f"({after_all / full:.2f}x full: bounded) [{time.monotonic() - started:.0f} s]"
    )


if __name__ == "__main__":
    from sfdc.ops.keygen import generate

    bench_scale(generate("bench", datetime.now(UTC)))
