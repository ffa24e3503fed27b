"""Finding the database for stored connections: ``DATABASE_URL``, a bound PostgreSQL, or SQLite.

Cloud Foundry's launcher builds ``DATABASE_URL`` from a recognised database
binding, and PostgreSQL brokers (``postgres``, ``aws-rds``, ``csb-*``,
user-provided) put a ``uri`` in their credentials (research/cloudfoundry.md).
A binding is recognised by a ``postgres`` label or tag, or a ``postgres://``
URI. Without either, connections live in an embedded SQLite file, which on
Cloud Foundry is lost with the container: that case starts with a warning.
The URL is checked with SQLAlchemy's parser at start-up and never quoted in a
message, since it holds a password.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import cfenv
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from sfdc.errors import ConfigError
from sfdc.settings.cloudfoundry import choose_bound

DEFAULT_SQLITE_PATH = "connections.db"
_POSTGRES_SCHEMES = ("postgres", "postgresql", "postgresql+psycopg")


@dataclass(frozen=True)
class DatabaseBinding:
    """Where stored connections live; ``url`` may hold a password."""

    url: URL = field(repr=False)
    source: str

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def description(self) -> str:
        """For logs: the kind and where it came from, never the URL."""
        if self.is_sqlite:
            return f"SQLite file {self.url.database} ({self.source})"
        return f"PostgreSQL database {self.url.database} on {self.url.host} ({self.source})"


def _is_postgres(service: cfenv.Service) -> bool:
    tags = [str(t).lower() for t in service.env.get("tags") or []]
    label = str(service.env.get("label") or "").lower()
    uri = _uri(service.credentials)
    return (
        "postgres" in label
        or any("postgres" in t for t in tags)
        or (uri is not None and uri.startswith(("postgres://", "postgresql://")))
    )


def _uri(credentials: Mapping[str, Any]) -> str | None:
    for key in ("uri", "url", "database_url"):
        value = credentials.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _checked(raw: str, source: str) -> DatabaseBinding:
    """A URL SQLAlchemy can use with our drivers: sqlite, or PostgreSQL through psycopg 3."""
    try:
        url = make_url(raw)
    except ArgumentError:
        url = None
    if url is None or url.drivername not in (*_POSTGRES_SCHEMES, "sqlite", "sqlite+pysqlite"):
        raise ConfigError(
            f"The database URL from {source} is not a postgres:// or sqlite:// URL.",
            hint="Bind a PostgreSQL service, set DATABASE_URL=postgresql://user:password@host/db, "
            "or unset it to use the embedded SQLite file.",
        )
    if url.drivername in _POSTGRES_SCHEMES:
        if not url.host or not url.database:
            raise ConfigError(
                f"The PostgreSQL URL from {source} names no host or no database.",
                hint="Use postgresql://user:password@host:5432/database, or rebind the service.",
            )
        url = url.set(drivername="postgresql+psycopg")
    return DatabaseBinding(url=url, source=source)


def find_database(environ: Mapping[str, str], *, service_name: str | None) -> DatabaseBinding:
    """``DATABASE_URL``, else the bound PostgreSQL service, else the embedded SQLite file."""
    raw = environ.get("DATABASE_URL", "").strip()
    if raw:
        return _checked(raw, "DATABASE_URL")
    match = choose_bound(
        environ,
        service_name=service_name,
        setting="SFDC_DATABASE_SERVICE",
        kind="PostgreSQL",
        is_kind=_is_postgres,
    )
    if match is not None:
        uri = _uri(match.credentials)
        if uri is None:
            raise ConfigError(
                f"Database service '{match.name}' has no uri in its credentials.",
                hint="Bind a PostgreSQL service whose credentials hold a uri, or set DATABASE_URL.",
            )
        return _checked(uri, f"service '{match.name}'")
    return DatabaseBinding(
        url=URL.create("sqlite+pysqlite", database=DEFAULT_SQLITE_PATH), source="embedded default"
    )
