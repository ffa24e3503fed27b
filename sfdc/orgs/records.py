"""What every part of connected orgs shares: names, states, how a row is shown, errors."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sfdc.errors import RequestError, UpstreamError
from sfdc.orgs.schema import NAME_LENGTH, ConnectionRow

CONNECTED = "connected"
NEEDS_CONSENT = "needs_consent"
CONNECT_HINT = "Ask for a connect link with POST /connections and open it in a browser."
# As JSON Schema (ECMA-262) and Python both read it; the OpenAPI document states it too.
NAME_PATTERN = rf"^[A-Za-z0-9][A-Za-z0-9_.-]{{0,{NAME_LENGTH - 1}}}$"
_NAME = re.compile(NAME_PATTERN)


class UnknownConnection(RequestError):
    """No stored connection has this name."""

    code = "unknown_connection"
    status = 404

    def __init__(self, name: str) -> None:
        super().__init__(
            f"There is no connection named '{name}'.",
            hint="List them with GET /connections (names are case-sensitive). " + CONNECT_HINT,
        )


class ConsentRequired(UpstreamError):
    """Salesforce no longer honours the connection's refresh token; a person must consent."""

    code = "invalid_grant"
    status = 502
    retryable = False

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(
            f"Connection '{name}' needs consent again: Salesforce refused its refresh token "
            f"({reason}).",
            hint=f"Connect it again: {CONNECT_HINT}",
        )
        self.connection = name
        self.reason = reason


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name or ""):
        raise RequestError(
            f"'{name[:80]}' is not a connection name.",
            hint=f"Use 1-{NAME_LENGTH} letters, digits, '.', '-' or '_', starting with a "
            "letter or digit, e.g. acme-prod.",
        )
    return name


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def describe(row: ConnectionRow) -> dict[str, Any]:
    """A stored connection, as callers see it: never a token."""
    return {
        "name": row.name,
        "status": row.status,
        "status_reason": row.status_reason,
        "login_url": row.login_url,
        "instance_url": row.instance_url,
        "identity_url": row.identity_url,
        "username": row.username,
        "user_id": row.user_id,
        "org_id": row.org_id,
        "scopes": row.scopes,
        "connected_at": _when(row.connected_at),
        "refreshed_at": _when(row.refreshed_at),
        "access_token_expires_at": _when(row.access_expires_at),
    }
