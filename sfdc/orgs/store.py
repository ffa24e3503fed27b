"""The database behind connected orgs: SQLAlchemy over SQLite or PostgreSQL.

``migrate`` brings the schema to the newest Alembic revision at start-up, so
a new release adds columns without losing stored connections; on PostgreSQL
an advisory lock keeps instances starting together from migrating twice.

No call to Salesforce ever runs inside a transaction here: a database that
stops mid-call must not take a rotated refresh token down with it. A refresh
is single-flight across every worker and instance through a *lease* on the
connection's row instead: ``claim`` takes it in one short statement (only if
it is free or expired, so a holder that died releases it by expiring), the
grant runs with no transaction open, and ``store_refresh`` writes the new
tokens in another short statement, fenced by the refresh token it replaces:
it lands only while the row still holds the token the grant spent, so a
holder whose lease ran out cannot overwrite a newer token. ``locked(name)``
(``SELECT ... FOR UPDATE``; SQLite's write lock at ``BEGIN IMMEDIATE``) is
kept for the short read-modify-write of a reconnect.

The engine is made lazily, per process: gunicorn forks workers after
``migrate`` ran in the master, and pooled connections must not cross a fork.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy import Engine, create_engine, delete, event, or_, select, text, update
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from sfdc.errors import (
    ConfigError,
    ConnectionConflict,
    DatabaseUnavailable,
    InvalidRequest,
    OrgMismatch,
    UserMismatch,
)
from sfdc.orgs.schema import ConnectionRow, ConsentRequestRow
from sfdc.settings.database import DatabaseBinding

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant shared by every instance; names the migration lock on PostgreSQL.
_MIGRATION_LOCK = 0x5FDC0001
# Writers hold SQLite's write lock for one short statement; this is how long another
# writer waits for it before the database counts as unavailable.
_SQLITE_BUSY_TIMEOUT = 60
_IMMEDIATE = "sfdc_sqlite_immediate"
_LEASE = frozenset({"lease_until", "lease_epoch"})


def _cause(exc: SQLAlchemyError) -> str:
    """The driver's error class: its message may hold the URL, so only the class is named."""
    return type(getattr(exc, "orig", None) or exc).__name__


def _unavailable(exc: SQLAlchemyError, binding: DatabaseBinding) -> DatabaseUnavailable:
    return DatabaseUnavailable(
        f"The connections database ({binding.description}) failed: {_cause(exc)}."
    )


def _sqlite_transactions(engine: Engine) -> None:
    """Let SQLAlchemy, not the driver, begin transactions: writers IMMEDIATE, readers not."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(_IMMEDIATE)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class ConnectionStore:
    def __init__(self, binding: DatabaseBinding) -> None:
        self.binding = binding
        self._lock = threading.Lock()
        # SQLite has one writer at a time and waits for its lock in C, which would freeze
        # a gevent worker (gunicorn.conf.py) whose holder is a greenlet mid-refresh: this
        # process's writers queue here instead, where waiting yields.
        self._sqlite_writer = threading.RLock()
        self._engine: Engine | None = None
        self._pid = 0
        self._readers: sessionmaker[Session] | None = None
        self._writers: sessionmaker[Session] | None = None

    def __repr__(self) -> str:
        return f"ConnectionStore({self.binding.description})"

    def _make_engine(self) -> Engine:
        if self.binding.is_sqlite:
            database = self.binding.url.database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(self.binding.url, connect_args={"timeout": _SQLITE_BUSY_TIMEOUT})
            _sqlite_transactions(engine)
            return engine
        return create_engine(
            self.binding.url, pool_pre_ping=True, connect_args={"connect_timeout": 10}
        )

    def _factories(self) -> tuple[Engine, sessionmaker[Session], sessionmaker[Session]]:
        with self._lock:
            if (
                self._engine is None
                or self._readers is None
                or self._writers is None
                or self._pid != os.getpid()
            ):
                engine = self._make_engine()
                writer = engine.execution_options(**{_IMMEDIATE: True})
                self._engine, self._pid = engine, os.getpid()
                self._readers = sessionmaker(engine, expire_on_commit=False)
                self._writers = sessionmaker(writer, expire_on_commit=False)
            return self._engine, self._readers, self._writers

    @property
    def engine(self) -> Engine:
        return self._factories()[0]

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
        except CommandError:
            raise ConfigError(
                f"The connections database ({self.binding.description}) has a schema newer "
                "than this release knows (it was migrated by a later release).",
                hint="Deploy that later release again; a rolled-back release cannot use the "
                "newer schema.",
            ) from None
        except SQLAlchemyError as exc:
            raise ConfigError(
                f"The connections database ({self.binding.description}) cannot be opened or "
                f"migrated: {_cause(exc)}.",
                hint="Check that the bound PostgreSQL service (or DATABASE_URL) is reachable "
                "and that its user may create tables.",
            ) from None
        finally:
            self.dispose()  # workers fork after this; they open their own connections

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any error."""
        _engine, readers, writers = self._factories()
        queue = self._sqlite_writer if write and self.binding.is_sqlite else nullcontext()
        try:
            with queue, (writers if write else readers).begin() as session:
                yield session
        except IntegrityError:
            raise ConnectionConflict(
                "Another change to the same connection was committed at the same moment; "
                "this one was not stored."
            ) from None
        except DataError:
            # A value the database cannot hold (a NUL, an over-long string): the request's
            # fault, not an outage. Inputs are checked before they get here; this is the net.
            raise InvalidRequest(
                "The connections database refused a value in this request.",
                hint="Send names, logins and scopes as the API describes them (GET "
                "/openapi.json): printable text within their length limits.",
            ) from None
        except SQLAlchemyError as exc:
            raise _unavailable(exc, self.binding) from None

    @contextmanager
    def locked(self, name: str) -> Iterator[tuple[Session, ConnectionRow | None]]:
        """The connection's row, locked against every other writer until the block ends."""
        with self.session(write=True) as session:
            row = session.scalars(
                select(ConnectionRow).where(ConnectionRow.name == name).with_for_update()
            ).one_or_none()
            yield session, row

    def claim(self, name: str, now: datetime, until: datetime) -> ConnectionRow | None:
        """Take the refresh lease of ``name`` until ``until``: its row, or None while another
        process holds an unexpired lease (or there is no such row)."""
        with self.session(write=True) as session:
            return session.scalars(
                update(ConnectionRow)
                .where(
                    ConnectionRow.name == name,
                    or_(ConnectionRow.lease_until.is_(None), ConnectionRow.lease_until <= now),
                )
                .values(lease_epoch=ConnectionRow.lease_epoch + 1, lease_until=until)
                .returning(ConnectionRow),
                execution_options={"synchronize_session": False},
            ).one_or_none()

    def release(self, name: str, epoch: int, **values: Any) -> bool:
        """End the lease taken at ``epoch`` (if it is still that one), writing ``values``."""
        return self._update(name, ConnectionRow.lease_epoch == epoch, lease_until=None, **values)

    def store_refresh(self, name: str, spent: str, **values: Any) -> bool:
        """Write a refresh's outcome and free the lease, only while the row still holds the
        sealed refresh token ``spent``: whether it landed."""
        return self._update(name, ConnectionRow.refresh_token == spent, lease_until=None, **values)

    def delete_leased(self, name: str, epoch: int) -> bool:
        """Delete ``name`` if the lease taken at ``epoch`` is still held: whether it went."""
        with self.session(write=True) as session:
            result = session.execute(
                delete(ConnectionRow).where(
                    ConnectionRow.name == name, ConnectionRow.lease_epoch == epoch
                ),
                execution_options={"synchronize_session": False},
            )
            return bool(getattr(result, "rowcount", 0))

    def set_expiry(self, name: str, issued_at: datetime, expires_at: datetime) -> bool:
        """Record when the stored access token issued at ``issued_at`` expires."""
        return self._update(
            name, ConnectionRow.access_issued_at == issued_at, access_expires_at=expires_at
        )

    def _update(self, name: str, fence: Any, **values: Any) -> bool:
        with self.session(write=True) as session:
            result = session.execute(
                update(ConnectionRow).where(ConnectionRow.name == name, fence).values(**values),
                execution_options={"synchronize_session": False},
            )
            return bool(getattr(result, "rowcount", 0))

    def get(self, name: str) -> ConnectionRow | None:
        with self.session() as session:
            return session.get(ConnectionRow, name)

    def page(
        self, *, after: str | None, limit: int, names: Collection[str] | None = None
    ) -> list[ConnectionRow]:
        """Up to ``limit`` rows named after ``after`` (None: from the first), in name order;
        with ``names``, only rows among those. One indexed range read (the primary key)."""
        query = select(ConnectionRow).order_by(ConnectionRow.name).limit(limit)
        if after is not None:
            query = query.where(ConnectionRow.name > after)
        if names is not None:
            query = query.where(ConnectionRow.name.in_(sorted(names)))
        with self.session() as session:
            return list(session.scalars(query))

    def all(self) -> list[ConnectionRow]:
        with self.session() as session:
            return list(session.scalars(select(ConnectionRow).order_by(ConnectionRow.name)))

    def replace(self, row: ConnectionRow, *, other_org: bool) -> ConnectionRow | None:
        """Store ``row`` under its name; a copy of the row it replaced, if any (to revoke its
        token). Without ``other_org`` (the link's explicit ``replace``) an existing
        connection stays in its org and with its user, and keeps the client that created it.

        The row is updated in place, never deleted and re-inserted, so a refresh or delete
        waiting on its lock finds it afterwards.
        """
        with self.locked(row.name) as (session, old):
            if old is None:
                session.add(row)
                return None
            if not other_org and old.org_id[:15] != row.org_id[:15]:  # 15- or 18-char ids
                raise OrgMismatch(row.name, old.org_id, row.org_id)
            if not other_org and old.user_id[:15] != row.user_id[:15]:
                raise UserMismatch(row.name, old.username, row.username)
            if not other_org and old.created_by:
                row.created_by = old.created_by
            replaced = ConnectionRow(
                **{c.key: getattr(old, c.key) for c in ConnectionRow.__table__.columns}
            )
            for column in ConnectionRow.__table__.columns:
                if column.key in _LEASE:  # a refresh in flight keeps its fence
                    continue
                value = getattr(row, column.key)
                if value is None and column.default is not None:  # as an insert would
                    value = column.default.arg
                setattr(old, column.key, value)
            return replaced

    def add_request(self, request: ConsentRequestRow, now: datetime) -> None:
        with self.session(write=True) as session:
            # Abandoned links pile up otherwise; each new one sweeps the expired.
            session.execute(delete(ConsentRequestRow).where(ConsentRequestRow.expires_at < now))
            session.add(request)

    def get_request(self, nonce: str) -> ConsentRequestRow | None:
        with self.session() as session:
            return session.get(ConsentRequestRow, nonce)

    def has_request(self, nonce: str) -> bool:
        with self.session() as session:
            return session.get(ConsentRequestRow, nonce) is not None

    def take_request(self, nonce: str) -> ConsentRequestRow | None:
        """The pending request for ``nonce``, removed: only one caller ever gets it."""
        with self.session(write=True) as session:
            return session.scalars(
                delete(ConsentRequestRow)
                .where(ConsentRequestRow.nonce == nonce)
                .returning(ConsentRequestRow)
            ).one_or_none()
