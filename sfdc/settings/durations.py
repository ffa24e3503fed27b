"""Durations in settings: ``7d``, ``12h``, ``30m``, ``90s``, or a bare number of seconds.

Read like the other time settings (``SFDC_TOKEN_MAX_AGE``): bounded, and a
value outside the bounds stops the service at start-up with one line naming
the variable. Days and hours are what people think in for jobs that run
weekly or hourly; a bare number stays seconds, as everywhere else. ``0`` or
``off`` switches a job off where that is allowed (``switch``).
"""

from __future__ import annotations

import math
import re
from datetime import timedelta

from sfdc.errors import ConfigError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)")
_OFF = frozenset({"0", "off"})


def human(value: timedelta) -> str:
    """The shortest exact spelling: 7d, 12h, 90s (what the settings accept)."""
    seconds = value.total_seconds()
    for unit in ("d", "h", "m"):
        count = seconds / _UNITS[unit]
        if count >= 1 and count == int(count):
            return f"{int(count)}{unit}"
    return f"{seconds:g}s"


def _parse(raw: str) -> timedelta | None:
    match = _DURATION.fullmatch(raw.strip().lower())
    if match is None:
        return None
    seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    return timedelta(seconds=seconds) if math.isfinite(seconds) else None


Range = tuple[timedelta, timedelta]


def duration(name: str, raw: str | None, default: timedelta, within: Range) -> timedelta:
    """A duration ``within`` [low, high], or the default when unset; else ConfigError."""
    if raw is None:
        return default
    low, high = within
    value = _parse(raw)
    if value is None or not low <= value <= high:
        raise ConfigError(
            f"{name} is '{raw}', not a duration from {human(low)} to {human(high)}.",
            hint=f"Set it to e.g. {human(default)} (units s, m, h, d; a bare number is "
            "seconds), or unset it.",
        )
    return value


def switch(name: str, raw: str | None, default: timedelta, within: Range) -> timedelta | None:
    """Like ``duration``, where ``0`` or ``off`` turns the feature off (None)."""
    if raw is not None and raw.strip().lower() in _OFF:
        return None
    try:
        return duration(name, raw, default, within)
    except ConfigError as exc:
        raise ConfigError(exc.description, hint=f"{exc.hint} 0 or off turns it off.") from None
