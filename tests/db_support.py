"""Databases for the connected-org tests: a fresh SQLite file, or a fresh PostgreSQL database.

PostgreSQL is the real server on this machine (127.0.0.1:5432, trust auth);
each test gets its own database, dropped afterwards, so tests never see each
other's rows or a developer's data.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

POSTGRES_ADMIN = os.environ.get(
    "SFDC_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _admin() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=5)


def _base() -> str:
    return POSTGRES_ADMIN.rsplit("/", 1)[0]


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """A new, empty PostgreSQL database; dropped (connections and all) afterwards."""
    name = f"sfdc_test_{uuid.uuid4().hex[:12]}"
    with _admin() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{_base()}/{name}"
    finally:
        with _admin() as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with fresh_postgres() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'connections.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs twice: on SQLite and on PostgreSQL."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url
