"""When the keep-alive job runs: ``SFDC_KEEPALIVE_AFTER`` and ``SFDC_KEEPALIVE_INTERVAL``.

A connected app's refresh token policy may expire a refresh token that goes
unused for a while ("Expire refresh token if not used for N"): a sliding
window that each use resets, which Salesforce also lets app developers cap at
30 days of idleness (Salesforce Help, "Limit the Idle Refresh Token TTL in
Connected Apps"). A connection nobody calls for that long would need a person
to approve it again, so the job (``sfdc.orgs.keepalive``) uses every
connection that has been idle for ``after``, looking every ``interval``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sfdc.settings.durations import duration, switch

# Well inside the shortest idle windows people set (weeks) and the 30-day cap,
# and rare enough to cost each connection a handful of refreshes a month.
DEFAULT_AFTER = timedelta(days=7)
AFTER_RANGE = (timedelta(hours=1), timedelta(days=365))
# A connection is used within about one interval of turning idle.
DEFAULT_INTERVAL = timedelta(hours=1)
INTERVAL_RANGE = (timedelta(minutes=1), timedelta(days=1))


@dataclass(frozen=True)
class KeepAliveTiming:
    after: timedelta | None = DEFAULT_AFTER  # None: no idle refreshes (SFDC_KEEPALIVE_AFTER=off)
    interval: timedelta = DEFAULT_INTERVAL


def keepalive_timing(after: str | None, interval: str | None) -> KeepAliveTiming:
    """The two settings as given (None: unset), checked; ConfigError if out of range."""
    return KeepAliveTiming(
        after=switch("SFDC_KEEPALIVE_AFTER", after, DEFAULT_AFTER, AFTER_RANGE),
        interval=duration("SFDC_KEEPALIVE_INTERVAL", interval, DEFAULT_INTERVAL, INTERVAL_RANGE),
    )
