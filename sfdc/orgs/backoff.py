"""Backing off a connection whose refresh keeps failing, in every process at once.

Each process already cools down after a failed refresh (``TokenProvider``'s
``Cooldown``), but with many workers and instances each would still ask
Salesforce once per cool-down. So a failed refresh is also written to the
connection's row: ``failed_at``, ``failure`` (the error callers were given,
as JSON: code, description, hint, status; never a secret) and ``failures``
(in a row; zero again after a success). Until ``failed_at`` plus the wait
these give, every process answers with that error, its hint saying when the
service will ask again, and spends no grant. The waits are the JWT flow's
(``sfdc.tokens.cooldown``): after an outage or timeout 1 s, doubling with
each failure in a row up to a minute; after a refusal that leaves the
connection usable (login hours, a frozen user), a minute. Pure: time comes in
as ``now``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sfdc.errors import SalesforceRefusal, SfdcError
from sfdc.orgs.schema import ConnectionRow
from sfdc.tokens.cooldown import REFUSAL_COOLDOWN, Blocked, backoff

# What a successful refresh writes: no failure in a row, nothing to back off from.
CLEARED: dict[str, Any] = {"failed_at": None, "failure": None, "failures": 0}


def failed(exc: SfdcError, now: datetime) -> dict[str, Any]:
    """What a failed refresh writes: ``exc``, enough to answer with it again later, and
    one more failure in a row."""
    record = {**exc.to_dict(), "status": exc.status, "refused": isinstance(exc, SalesforceRefusal)}
    return {
        "failed_at": now,
        "failure": json.dumps(record),
        "failures": ConnectionRow.failures + 1,
    }


def read_failure(failure: str | None) -> dict[str, Any] | None:
    """The error ``failed`` recorded: ``error``, ``error_description``, ``hint``..."""
    try:
        document = json.loads(failure or "")
    except ValueError:
        return None  # none, or written by an older release: a bare code, no backoff
    return document if isinstance(document, dict) else None


def blocked(row: ConnectionRow, now: datetime) -> Blocked | None:
    """The error to answer with instead of refreshing ``row`` at ``now``, if backing off."""
    document = read_failure(row.failure)
    if not row.failures or row.failed_at is None or document is None:
        return None
    wait = REFUSAL_COOLDOWN if document.get("refused") else backoff(row.failures)
    until = row.failed_at + wait
    if now >= until:
        return None
    try:
        return Blocked(
            code=str(document["error"]),
            description=str(document["error_description"]),
            hint=str(document.get("hint") or ""),
            retryable=bool(document.get("retryable", True)),
            status=int(document.get("status", 503)),
            until=until,
            failures=row.failures,
        )
    except (KeyError, TypeError, ValueError):
        return None
