"""Fixtures for the keep-alive, backoff and alert tests (helpers: ``upkeep_support``).

``org`` is the emulator with refresh-token rotation on; ``env`` the service's
settings against it, on SQLite and PostgreSQL, with Redis under a fresh
prefix; ``workers`` collects the workers a test makes and stops them after;
``receiver`` is a webhook receiver on loopback. (``test_crash_safety`` has
its own ``database_url``: a PostgreSQL server it may stop.)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from sfdc.emulator import running_emulator
from sfdc.orgs.connections import Connections
from tests.conftest import CONSUMER_SECRET, ENCRYPTION_KEY, KeyPair
from tests.orgs.upkeep_support import Receiver
from tests.orgs_support import CALLBACK, org_config
from tests.redis_support import SHARED_URL, delete_prefix, unique_prefix


@pytest.fixture
def org(keypair: KeyPair) -> Iterator[Any]:
    with running_emulator(org_config(keypair)) as running:
        yield running


@pytest.fixture
def env(org: Any, seed_env: dict[str, str], database_url: str) -> Iterator[dict[str, str]]:
    prefix = unique_prefix()
    yield {
        **seed_env,
        "SFDC_LOGIN_URL": org.url,
        "SFDC_CONSUMER_SECRET": CONSUMER_SECRET,
        "SFDC_ENCRYPTION_KEY": ENCRYPTION_KEY,
        "SFDC_CALLBACK_URL": CALLBACK,
        "DATABASE_URL": database_url,
        "REDIS_URL": SHARED_URL,
        "SFDC_CACHE_PREFIX": prefix,
    }
    delete_prefix(SHARED_URL, prefix)


@pytest.fixture
def workers() -> Iterator[list[Connections]]:
    """Every worker a test makes, stopped and closed after it."""
    made: list[Connections] = []
    yield made
    for connections in made:
        connections.stop(timeout=2.0)
        connections.store.dispose()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    server = make_server("127.0.0.1", 0, found, threaded=True)
    found.url = f"http://127.0.0.1:{server.server_port}/hooks/sfdc"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found
    server.shutdown()
    thread.join(5)
