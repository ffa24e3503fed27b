"""Alerts an operator acts on: a connection needs consent again, or has recovered.

A connection turns ``needs_consent`` when Salesforce refuses its refresh
token for good; only a person approving it again brings it back. Nobody
should learn that from a failing app days later, so each turn is an
*alert*: one structured log line (``alert``, ``connection``, ``org_id``,
``reason``), and, when ``SFDC_WEBHOOK_URL`` is set, a signed POST (see
``webhook``) with the body::

    {"event": "connection.needs_consent" | "connection.recovered",
     "connection": name, "org_id": ..., "username": ..., "reason": ..., "at": ISO 8601}

An alert is raised where the change is written, by the one process that
wrote it (the refresh whose fenced release marked the row; the callback that
stored the new grant), so each turn is announced once. It never carries a
token, and raising one never waits on the receiver.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sfdc.orgs.schema import ConnectionRow
from sfdc.orgs.webhook import Webhook

log = logging.getLogger(__name__)

NEEDS_CONSENT_EVENT = "connection.needs_consent"
RECOVERED_EVENT = "connection.recovered"
RECOVERED_REASON = "connected again: a person approved it through a connect link"
_SAYS = {NEEDS_CONSENT_EVENT: "needs consent again", RECOVERED_EVENT: "recovered"}


@dataclass(frozen=True)
class Alert:
    event: str
    connection: str
    org_id: str
    username: str
    reason: str
    at: datetime

    def document(self) -> dict[str, Any]:
        """The webhook body: who and why, never a token."""
        return {
            "event": self.event,
            "connection": self.connection,
            "org_id": self.org_id,
            "username": self.username,
            "reason": self.reason,
            "at": self.at.isoformat(),
        }


class Alerts:
    """Announces connection turns: a log line always, the webhook when one is set."""

    def __init__(self, webhook: Webhook | None = None) -> None:
        self.webhook = webhook

    def __repr__(self) -> str:
        return f"Alerts({self.webhook!r})"

    def needs_consent(self, row: ConnectionRow, reason: str, at: datetime) -> None:
        self._raise(Alert(NEEDS_CONSENT_EVENT, row.name, row.org_id, row.username, reason, at))

    def recovered(self, row: ConnectionRow, at: datetime) -> None:
        self._raise(
            Alert(RECOVERED_EVENT, row.name, row.org_id, row.username, RECOVERED_REASON, at)
        )

    def _raise(self, alert: Alert) -> None:
        log.warning(
            "connection %s %s: %s",
            alert.connection,
            _SAYS[alert.event],
            alert.reason,
            extra={
                "alert": alert.event,
                "connection": alert.connection,
                "org_id": alert.org_id,
                "reason": alert.reason,
            },
        )
        if self.webhook is not None:
            self.webhook.send(alert.document())
