"""Prometheus metrics for the token lifecycle (prometheus-client).

Metrics are module-level, as prometheus-client intends: they register once
per process in its default registry. Under gunicorn, ``gunicorn.conf.py`` sets
``PROMETHEUS_MULTIPROC_DIR`` before the app is imported, so every worker
writes its values to files and ``/metrics`` sums them across workers;
``multiprocess_mode`` says how each gauge combines.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

EXCHANGES = Counter(
    "sfdc_token_exchanges",
    "Token exchanges with Salesforce, by outcome (ok, or the error code).",
    ["outcome"],
)
CACHE = Counter(
    "sfdc_token_cache_lookups",
    "Token cache lookups by layer (process, redis) and result (hit, miss).",
    ["layer", "result"],
)
# Bound once: labels() looks the series up on every call, and these sit on the hot path.
PROCESS_HIT = CACHE.labels("process", "hit")
PROCESS_MISS = CACHE.labels("process", "miss")
REDIS_HIT = CACHE.labels("redis", "hit")
REDIS_MISS = CACHE.labels("redis", "miss")
EXCHANGE_SECONDS = Histogram(
    "sfdc_token_exchange_seconds",
    "Time for one token exchange, retries included.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25),
)
TOKEN_AGE = Gauge(
    "sfdc_token_age_seconds",
    "Age of the token this service hands out, at the last scrape.",
    multiprocess_mode="livemostrecent",
)
REDIS_UP = Gauge(
    "sfdc_redis_up",
    "1 while the shared Redis cache answers, 0 while the service falls back to process caches.",
    multiprocess_mode="livemin",
)
# A rotated refresh token the database could not take: parked in Redis ("redis"), or,
# with Redis failing too, held only by the process that got it ("process": at risk).
REFRESH_TOKENS_PARKED = Counter(
    "sfdc_refresh_tokens_parked",
    "Rotated refresh tokens kept outside the database because it failed, by where.",
    ["place"],
)

# Connected orgs' upkeep (sfdc.orgs.keepalive, sfdc.orgs.webhook). Every worker's job
# thread counts the database each minute, so the most recent count is the space's.
CONNECTIONS = Gauge(
    "sfdc_connections",
    "Stored connections by status (connected, needs_consent), as last counted in the database.",
    ["status"],
    multiprocess_mode="livemostrecent",
)
KEEPALIVE_REFRESHES = Counter(
    "sfdc_keepalive_refreshes",
    "Refreshes of idle connections (and write-backs of parked refresh tokens) by the "
    "keep-alive job, by outcome (ok, needs_consent, failed).",
    ["outcome"],
)
WEBHOOK_DELIVERIES = Counter(
    "sfdc_webhook_deliveries",
    "Alert webhook attempts by outcome: delivered, retried (an attempt failed, another "
    "follows), failed (given up), dropped (the queue was full).",
    ["outcome"],
)

CONTENT_TYPE = CONTENT_TYPE_LATEST

# Outcome labels are a closed set: Salesforce's error strings are not ours to
# multiply time series with.
_OUTCOMES = frozenset(
    {
        "invalid_grant",
        "invalid_client_id",
        "invalid_app_access",
        "inactive_user",
        "inactive_org",
        "rate_limit_exceeded",
        "salesforce_unavailable",
        "salesforce_timeout",
        "invalid_upstream_response",
    }
)


def outcome(code: str) -> str:
    """The exchange outcome label for an error code."""
    return code if code in _OUTCOMES else "other_error"


def render() -> bytes:
    """The text exposition: summed over gunicorn workers when running multi-process."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)
