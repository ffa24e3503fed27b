"""``python -m sfdc keepalive``: the keep-alive job outside the web workers.

``--once`` runs one pass now (for an operator, or a ``cf run-task`` on a
schedule); without it the job runs in the foreground as each web worker runs
it in the background. Either way it takes the same lease in the database as
the workers, so it never runs beside them. Built from the settings as
``create_app`` builds it, the schema migrated first as at start-up.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime

from sfdc.clock import utc_now
from sfdc.errors import ConnectionsNotEnabled
from sfdc.orgs.connections import Connections
from sfdc.orgs.store import ConnectionStore
from sfdc.salesforce.pools import new_session
from sfdc.salesforce.transport import Transport
from sfdc.settings.settings import load_settings

log = logging.getLogger(__name__)

# A one-off task exits after its pass; alerts it raised get this long to go out.
ALERT_GRACE = 30.0  # seconds


def open_connections(
    environ: Mapping[str, str] | None = None, *, clock: Callable[[], datetime] = utc_now
) -> Connections:
    settings = load_settings(environ, now=clock())
    if not settings.connections_enabled or settings.database is None:
        raise ConnectionsNotEnabled(
            "Connected orgs are not enabled with these settings; there is nothing to keep alive.",
            hint="Run it with the service's settings (SFDC_ENCRYPTION_KEY, SFDC_CONSUMER_SECRET "
            "and the database), e.g. through `cf run-task`.",
        )
    store = ConnectionStore(settings.database)
    store.migrate()
    transport = Transport(new_session(), timeout=settings.http_timeout)
    return Connections(settings, store, transport, clock)


def once(connections: Connections) -> str:
    """One pass now; what it did, in one line."""
    try:
        report = connections.keepalive.run_once()
        webhook = connections.alerts.webhook
        if webhook is not None and not webhook.flush(ALERT_GRACE):
            log.error("some alerts were not delivered within %.0f s", ALERT_GRACE)
    finally:
        connections.stop(timeout=1.0)
        connections.store.dispose()
    if report is None:
        return "another process is running a keep-alive pass; nothing done"
    return report.line()


def forever(connections: Connections) -> None:
    """Run the job until interrupted (Ctrl-C, or the platform stopping the process)."""
    connections.start()
    try:
        threading.Event().wait()
    finally:
        connections.stop()
        connections.store.dispose()
