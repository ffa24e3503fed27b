"""The database behind connected orgs: SQLAlchemy over SQLite or PostgreSQL.

``migrate`` brings the schema to the newest Alembic revision at start-up, so
a new release adds columns without losing stored connections; on PostgreSQL
an advisory lock keeps instances starting together from migrating twice.

``locked(name)`` is how a refresh stays single-flight across every worker and
instance: the connection's row is locked (``SELECT ... FOR UPDATE`` on
PostgreSQL; SQLite takes its write lock at ``BEGIN IMMEDIATE``) while the
holder re-reads it, refreshes, and writes the new tokens in the same
transaction. A rotated refresh token therefore replaces the old one
atomically: nobody can read the old one after Salesforce has spent it.

The engine is made lazily, per process: gunicorn forks workers after
``migrate`` ran in the master, and pooled connections must not cross a fork.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, delete, event, select, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from sfdc.database_binding import DatabaseBinding
from sfdc.errors import ConfigError, SfdcError
from sfdc.orgs.schema import ConnectionRow, ConsentRequestRow

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant shared by every instance; names the migration lock on PostgreSQL.
_MIGRATION_LOCK = 0x5FDC0001
# A refresh holds SQLite's write lock for up to one Salesforce call (25 s at most).
_SQLITE_BUSY_TIMEOUT = 30


class DatabaseUnavailable(SfdcError):
    code = "database_unavailable"
    status = 503
    retryable = True


def _unavailable(exc: SQLAlchemyError, binding: DatabaseBinding) -> DatabaseUnavailable:
    # The driver's message may hold the URL; name only its class.
    cause = type(getattr(exc, "orig", None) or exc).__name__
    return DatabaseUnavailable(
        f"The connections database ({binding.description}) failed: {cause}.",
        hint="Check the bound PostgreSQL service (`cf service`), or DATABASE_URL; retry in a "
        "moment.",
    )


def _sqlite_immediate(engine: Engine) -> None:
    """Let SQLAlchemy, not the driver, begin transactions, and begin them IMMEDIATE."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class ConnectionStore:
    def __init__(self, binding: DatabaseBinding) -> None:
        self.binding = binding
        self._lock = threading.Lock()
        self._engine: Engine | None = None
        self._pid = 0
        self._sessions: sessionmaker[Session] | None = None

    def __repr__(self) -> str:
        return f"ConnectionStore({self.binding.description})"

    def _make_engine(self) -> Engine:
        if self.binding.is_sqlite:
            database = self.binding.url.database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(self.binding.url, connect_args={"timeout": _SQLITE_BUSY_TIMEOUT})
            _sqlite_immediate(engine)
            return engine
        return create_engine(
            self.binding.url, pool_pre_ping=True, connect_args={"connect_timeout": 10}
        )

    @property
    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None or self._pid != os.getpid():
                self._engine = self._make_engine()
                self._pid = os.getpid()
                self._sessions = sessionmaker(self._engine, expire_on_commit=False)
            return self._engine

    def dispose(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
            self._engine = None

    def migrate(self) -> None:
        """Bring the schema to the newest revision; ConfigError if the database is unusable."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        try:
            with self.engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK}
                    )
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except SQLAlchemyError as exc:
            raise ConfigError(
                f"The connections database ({self.binding.description}) cannot be opened or "
                f"migrated: {type(getattr(exc, 'orig', None) or exc).__name__}.",
                hint="Check that the bound PostgreSQL service (or DATABASE_URL) is reachable "
                "and that its user may create tables.",
            ) from None
        finally:
            self.dispose()  # workers fork after this; they open their own connections

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any error."""
        self.engine  # noqa: B018 - makes the per-process session factory
        assert self._sessions is not None
        try:
            with self._sessions.begin() as session:
                yield session
        except DBAPIError as exc:
            raise _unavailable(exc, self.binding) from None

    @contextmanager
    def locked(self, name: str) -> Iterator[tuple[Session, ConnectionRow | None]]:
        """The connection's row, locked against every other refresh until the block ends."""
        with self.session() as session:
            row = session.scalars(
                select(ConnectionRow).where(ConnectionRow.name == name).with_for_update()
            ).one_or_none()
            yield session, row

    def get(self, name: str) -> ConnectionRow | None:
        with self.session() as session:
            return session.get(ConnectionRow, name)

    def all(self) -> list[ConnectionRow]:
        with self.session() as session:
            return list(session.scalars(select(ConnectionRow).order_by(ConnectionRow.name)))

    def replace(self, row: ConnectionRow) -> str | None:
        """Store ``row`` under its name; the sealed refresh token it replaced, if any."""
        with self.session() as session:
            old = session.scalars(
                select(ConnectionRow).where(ConnectionRow.name == row.name).with_for_update()
            ).one_or_none()
            previous = old.refresh_token if old is not None else None
            if old is not None:
                session.delete(old)
                session.flush()
            session.add(row)
            return previous

    def delete(self, name: str) -> bool:
        with self.session() as session:
            result = session.execute(delete(ConnectionRow).where(ConnectionRow.name == name))
            return bool(getattr(result, "rowcount", 0))

    def add_request(self, request: ConsentRequestRow, now: datetime) -> None:
        with self.session() as session:
            # Abandoned links pile up otherwise; each new one sweeps the expired.
            session.execute(delete(ConsentRequestRow).where(ConsentRequestRow.expires_at < now))
            session.add(request)

    def take_request(self, nonce: str) -> ConsentRequestRow | None:
        """The pending request for ``nonce``, removed: only one caller ever gets it."""
        with self.session() as session:
            return session.scalars(
                delete(ConsentRequestRow)
                .where(ConsentRequestRow.nonce == nonce)
                .returning(ConsentRequestRow)
            ).one_or_none()
