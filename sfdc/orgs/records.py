"""What every part of connected orgs shares: names, states, how a row is shown."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sfdc.errors import InvalidRequest
from sfdc.orgs.schema import NAME_LENGTH, ConnectionRow

CONNECTED = "connected"
NEEDS_CONSENT = "needs_consent"
# As JSON Schema (ECMA-262) and Python both read it; the OpenAPI document states it too.
NAME_PATTERN = rf"^[A-Za-z0-9][A-Za-z0-9_.-]{{0,{NAME_LENGTH - 1}}}$"
_NAME = re.compile(NAME_PATTERN)


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name or ""):
        raise InvalidRequest(
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
        "created_by": row.created_by,
    }
