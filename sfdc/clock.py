"""The time, as every part of ``sfdc`` reads it: aware UTC, from an injectable clock.

Expiry decisions (a token's refresh window, an assertion's ``exp``, a connect
link's 15 minutes, a cool-down) take ``now`` or a ``Clock`` instead of reading
the system time, so tests advance a fake clock rather than sleep or patch
(STYLE.md §5). ``utc_now`` is the real clock. It sits at the ground, beside
``errors``, because every part needs the time and none may import upward for it.

May import: nothing from ``sfdc``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """Now, aware and in UTC: never naive, never local time."""
    return datetime.now(UTC)
