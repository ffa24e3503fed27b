"""The audit trail: one structured line per use of credentials, and a count of them.

Logger ``sfdc.audit``; each line's ``event`` says what happened, and its
fields say to whom: ``audit`` (the kind of use: ``token``, ``proxy``,
``connect_link``, ``connected``, ``replaced``, ``deleted``, ``key_created``,
``key_rotated``, ``key_revoked``), ``client`` (the key holder's client name,
or the configured keys' ``SFDC_API_KEYS``), ``connection`` (a connection name,
or ``jwt``) and, for keys, ``key_id``. Call sites pass names and ids only,
never a key or a token. ``sfdc_credential_uses_total`` counts the same uses
by client, connection and kind.
"""

from __future__ import annotations

import logging

from prometheus_client import Counter

log = logging.getLogger("sfdc.audit")

USES = Counter(
    "sfdc_credential_uses",
    "Uses of credentials (tokens handed out, proxied calls, connects, deletes, key changes), "
    "by client, connection (or jwt) and kind.",
    ["client", "connection", "use"],
)


def record(use: str, *, client: str, connection: str | None, key_id: str | None = None) -> None:
    """Log and count one use; ``connection`` None is the JWT identity."""
    where = connection or "jwt"
    fields: dict[str, str] = {"audit": use, "client": client, "connection": where}
    if key_id is not None:
        fields["key_id"] = key_id
    log.info("%s by %s on %s", use, client, where, extra=fields)
    USES.labels(client, where, use).inc()
