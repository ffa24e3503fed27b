"""A worker that dies by SIGKILL at one step of a refresh, for ``test_crash_safety``.

``python -m tests.orgs.crash_child NAME STEP LEASE_SECONDS``, with the
service's settings as JSON in ``SFDC_CRASH_ENV``.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from datetime import timedelta

from sfdc.clock import utc_now
from sfdc.orgs.connections import Connections
from sfdc.orgs.store import ConnectionStore
from sfdc.salesforce.pools import new_session
from sfdc.salesforce.transport import Transport
from sfdc.settings.settings import load_settings


def main(name: str, step: str, lease: float) -> None:
    settings = load_settings(json.loads(os.environ["SFDC_CRASH_ENV"]))
    assert settings.database is not None
    store = ConnectionStore(settings.database)
    connections = Connections(
        settings, store, Transport(new_session(), timeout=settings.http_timeout), utc_now
    )
    connections.refresher.lease = timedelta(seconds=lease)

    def die_at(reached: str) -> None:
        if reached == step:
            os.kill(os.getpid(), signal.SIGKILL)

    connections.refresher.step = die_at
    connections.source(name).current()
    sys.exit(f"the refresh of {name} never reached step {step}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
