"""The tables behind connected orgs. Changing them needs a migration in ``migrations/``.

``connections`` holds one row per named org: where it logs in, who it acts
as, and the refresh token sealed with ``SFDC_ENCRYPTION_KEY`` (a database
reader gets nothing usable). The current access token is kept sealed beside
it, so every instance shares one token per connection. ``consent_requests``
holds the single-use half of a connect link: the PKCE verifier (sealed) and
the redirect URI the code must be redeemed with. ``jobs`` holds the lease and
last run of background jobs (the keep-alive), so one process runs each.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, Dialect, Integer, String, Text, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAME_LENGTH = 64


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out, on SQLite (which keeps no zone) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        return value.astimezone(UTC) if isinstance(value, datetime) else None

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if not isinstance(value, datetime):
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class ConnectionRow(Base):
    __tablename__ = "connections"

    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    login_url: Mapped[str] = mapped_column(String(255))
    instance_url: Mapped[str] = mapped_column(String(255))
    identity_url: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(18))
    org_id: Mapped[str] = mapped_column(String(18))
    username: Mapped[str] = mapped_column(String(255))
    scopes: Mapped[str] = mapped_column(Text)
    connected_at: Mapped[datetime] = mapped_column(UtcDateTime)
    refresh_token: Mapped[str] = mapped_column(Text)  # sealed
    # "connected", or "needs_consent" once Salesforce refused the refresh token.
    status: Mapped[str] = mapped_column(String(32), default="connected")
    status_reason: Mapped[str | None] = mapped_column(Text)
    access_token: Mapped[str | None] = mapped_column(Text)  # sealed
    access_issued_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    access_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    refreshed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The refresh lease (see ``store.ConnectionStore.claim``): who may spend the refresh
    # token until when; the epoch grows with every claim, so a release is fenced.
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    lease_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The last refresh that failed, and why (no secret: Salesforce's error or ours; see
    # ``backoff``), and how many failed in a row: every process backs off from them.
    failed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    failure: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The client (API key holder) whose connect link made this binding; None before 0005.
    created_by: Mapped[str | None] = mapped_column(String(NAME_LENGTH))


class JobRow(Base):
    """A background job that one process in the whole space runs at a time (``jobs``)."""

    __tablename__ = "jobs"

    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    # Who runs it until when, as for a connection's refresh lease; the epoch fences.
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_run: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ConsentRequestRow(Base):
    __tablename__ = "consent_requests"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    login_url: Mapped[str] = mapped_column(String(255))
    scopes: Mapped[str] = mapped_column(Text)
    redirect_uri: Mapped[str] = mapped_column(Text)
    code_verifier: Mapped[str] = mapped_column(Text)  # sealed
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    # Whether the approval may move an existing connection to another org.
    replace_org: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    # The client that asked for the link: shown to the person who approves it.
    requested_by: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
