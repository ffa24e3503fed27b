"""``python -m sfdc check``: the configuration as the service sees it, then one real login.

The first thing the troubleshooting guide tells people to run, locally with
the same variables or in the container with ``cf ssh``. It loads the
settings exactly as the service does at start-up, reports where the key came
from and the fingerprints to compare with the connected app, and, unless
offline, performs one exchange (no cache) and one identity call. Each step is
one line, ``ok``, ``warn`` or ``FAIL``; the first failure carries Salesforce's error
and the hint.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests

from sfdc.clock import Clock, utc_now
from sfdc.errors import SfdcError
from sfdc.orgs.backoff import read_failure
from sfdc.orgs.schema import ConnectionRow
from sfdc.orgs.store import ConnectionStore
from sfdc.salesforce.oauth import OAuthClient
from sfdc.salesforce.pools import new_session
from sfdc.salesforce.transport import Transport
from sfdc.settings.durations import human
from sfdc.settings.settings import Settings, load_settings
from sfdc.telemetry.fingerprints import public_key_fingerprint
from sfdc.tokens import identity
from sfdc.tokens.service import JwtBearerFlow


@dataclass(frozen=True)
class Step:
    """One line of the report. A warning passes (exit status 0) but is not labelled ok:
    the service starts with it, and the operator should still act on it."""

    name: str
    ok: bool
    detail: str
    warning: bool = False

    @property
    def status(self) -> str:
        """``ok``, ``warn`` or ``FAIL``: the line's label, and its ``status`` in JSON."""
        if not self.ok:
            return "FAIL"
        return "warn" if self.warning else "ok"

    def line(self) -> str:
        return f"{self.status:4}  {self.name:<14} {self.detail}"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "status": self.status, "detail": self.detail}


def _describe(settings: Settings, now: datetime) -> list[Step]:
    cert = settings.certificate
    expiry = cert.not_valid_after_utc
    public_key = public_key_fingerprint(settings.private_key.public_key())
    cache = f"Redis ({settings.redis.source})" if settings.redis else "per process (no Redis)"
    return [
        Step("key", True, f"from {settings.key_source}; public key {public_key}"),
        Step(
            "certificate",
            True,
            f"{settings.certificate_fingerprint}, {cert.subject.rfc4514_string()}, "
            f"{'EXPIRED on' if expiry <= now else 'valid until'} {expiry:%Y-%m-%d} "
            "(Salesforce does not enforce expiry)",
        ),
        Step("login", True, f"{settings.login_url}, audience {settings.audience}"),
        Step("user", True, f"{settings.username} via consumer key {settings.consumer_key}"),
        Step(
            "service",
            True,
            f"{len(settings.api_keys)} API key(s); token cache {cache}; expiry from "
            + (
                "introspection" if settings.consumer_secret else f"max age {settings.token_max_age}"
            ),
        ),
        _connections_setting(settings),
        *(Step("warning", True, warning, warning=True) for warning in settings.warnings),
    ]


def _connections_setting(settings: Settings) -> Step:
    if not settings.connections_enabled or settings.database is None:
        return Step(
            "connected orgs",
            True,
            "off (SFDC_ENCRYPTION_KEY and SFDC_CONSUMER_SECRET turn them on)",
        )
    callback = settings.callback_url or "<the route callers use>/oauth/callback"
    after, every = settings.keepalive.after, human(settings.keepalive.interval)
    keepalive = f"after {human(after)} idle, looking every {every}" if after else "off"
    webhook = settings.webhook.description if settings.webhook is not None else "off"
    return Step(
        "connected orgs",
        True,
        f"on; stored in {settings.database.description}; callback {callback}; keep-alive "
        f"{keepalive}; alerts webhook {webhook}",
    )


def _state(row: ConnectionRow) -> str:
    """``connected``, or ``needs_consent``, with failed refreshes in a row if any."""
    if not row.failures or row.failed_at is None:
        return row.status
    failure = read_failure(row.failure) or {}
    return (
        f"{row.status}, {row.failures} failed refresh(es) in a row, the last "
        f"{failure.get('error', 'unknown')} at {row.failed_at:%Y-%m-%d %H:%M:%S} UTC"
    )


def _stored(settings: Settings) -> Step | None:
    """What the connections database holds, read-only: names and states, never tokens."""
    if not settings.connections_enabled or settings.database is None:
        return None
    store = ConnectionStore(settings.database)
    try:
        rows = store.all()
    except SfdcError as exc:
        return Step("stored orgs", False, exc.one_line())
    finally:
        store.dispose()
    listed = ", ".join(f"{row.name} ({_state(row)})" for row in rows)
    return Step("stored orgs", True, f"{len(rows)}" + (f": {listed}" if rows else ""))


def run(
    environ: Mapping[str, str] | None = None,
    *,
    offline: bool = False,
    session: requests.Session | None = None,
    clock: Clock = utc_now,
) -> list[Step]:
    try:
        settings = load_settings(environ, now=clock())
    except SfdcError as exc:
        return [Step("configuration", False, exc.one_line())]
    steps = [
        Step("configuration", True, "loads as the service loads it"),
        *_describe(settings, clock()),
    ]
    if offline:
        return steps
    stored = _stored(settings)
    if stored is not None:
        steps.append(stored)
    transport = Transport(session or new_session(), timeout=settings.http_timeout)
    flow = JwtBearerFlow(settings, OAuthClient(settings.login_url, transport), clock=clock)
    try:
        exchange = flow.exchange()
    except SfdcError as exc:
        return [*steps, Step("exchange", False, f"{exc.code}: {exc.one_line()}")]
    token = exchange.token
    steps.append(
        Step(
            "exchange",
            True,
            f"token {token.fingerprint} for {token.instance_url}, "
            f"good until {token.expires_at:%Y-%m-%d %H:%M} UTC",
        )
    )
    try:
        report = identity.check(identity.OneToken(exchange), transport, clock)
    except SfdcError as exc:
        return [*steps, Step("identity", False, f"{exc.code}: {exc.one_line()}")]
    return [*steps, Step("identity", True, str(report["message"]))]
