"""Cached answers vs /healthz, and how many token exchanges a cold start costs."""

from __future__ import annotations

from typing import Any

from bench.harness import API_KEY, all_at_once, emulator_for, healthz_ratio, served
from tests.redis_support import SHARED_URL, delete_prefix, unique_prefix


def bench_root_vs_healthz(pair: Any) -> None:
    with emulator_for(pair) as emulator, served(emulator.url, pair, workers=2) as port:
        ratio, root, health = healthz_ratio(port, "/", {})
        print(
            f"cached /: {ratio:.2f}x the throughput of /healthz, 2 workers, no Redis "
            f"(last run {root:.0f} vs {health:.0f} req/s; "
            f"{emulator.state.token_requests} token exchange(s) for all of it)"
        )


def bench_shared_cache(pair: Any) -> None:
    prefix = unique_prefix()
    auth = {"Authorization": f"Bearer {API_KEY}"}
    try:
        with (
            emulator_for(pair) as emulator,
            served(
                emulator.url, pair, workers=4, REDIS_URL=SHARED_URL, SFDC_CACHE_PREFIX=prefix
            ) as port,
        ):
            statuses = all_at_once(port, "/token", auth)
            print(
                f"cold start: 200 concurrent /token across 4 workers -> "
                f"{emulator.state.token_requests} token exchange(s) "
                f"({statuses.count(200)} answered 200; the original demo: 200 exchanges)"
            )
            ratio, token, health = healthz_ratio(port, "/token", auth)
            print(
                f"cached /token: {ratio:.2f}x the throughput of /healthz, 4 workers, Redis "
                f"(target >= 0.8; last run {token:.0f} vs {health:.0f} req/s)"
            )
    finally:
        delete_prefix(SHARED_URL, prefix)
