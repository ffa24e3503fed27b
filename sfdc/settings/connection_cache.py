"""How many connections' token sources each worker keeps: ``SFDC_CONNECTION_CACHE_SIZE``.

Each worker keeps, per connection it served lately, a token source (its
access token, single-flight and cool-down state): a few kilobytes. With
thousands of connected orgs, keeping one per connection forever grows every
worker without bound, so they are kept in a least-recently-used cache of this
size (``sfdc.orgs.sources``). A connection pushed out costs one Redis read
(or, without Redis, one database read) when it is next used, never a
refresh: its token is still shared in Redis and the database.
"""

from __future__ import annotations

from sfdc.errors import ConfigError

# Enough for every connection of most deployments, at a few megabytes per worker
# (`make bench` measures the cost of one kept source).
DEFAULT_CONNECTION_CACHE_SIZE = 1000
CONNECTION_CACHE_RANGE = (1, 1_000_000)


def connection_cache_size(raw: str | None) -> int:
    """The setting as given (None: unset), checked; ConfigError if it is not a whole
    number within ``CONNECTION_CACHE_RANGE``."""
    if raw is None or not raw.strip():
        return DEFAULT_CONNECTION_CACHE_SIZE
    low, high = CONNECTION_CACHE_RANGE
    text = raw.strip().replace("_", "")
    if not text.isdigit() or not low <= int(text) <= high:
        raise ConfigError(
            f"SFDC_CONNECTION_CACHE_SIZE is {raw.strip()[:40]!r}, not a whole number from "
            f"{low} to {high:,}.",
            hint="Set it to how many connections each worker keeps in memory, e.g. 1000, or "
            "unset it for the default.",
        )
    return int(text)
