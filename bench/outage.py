"""Requests failed while Redis is stopped for 10 s under load."""

from __future__ import annotations

import threading
import time
from typing import Any

from bench.harness import API_KEY, emulator_for, load, served, throughput
from tests.redis_support import PrivateRedis


def bench_redis_outage(pair: Any) -> None:
    redis_server = PrivateRedis()
    redis_server.start()
    auth = {"Authorization": f"Bearer {API_KEY}"}
    try:
        with (
            emulator_for(pair) as emulator,
            served(emulator.url, pair, workers=4, REDIS_URL=redis_server.url) as port,
        ):
            throughput(port, "/token", auth, seconds=1.0)
            before = emulator.state.token_requests
            result: list[tuple[int, int]] = []
            loader = threading.Thread(
                target=lambda: result.append(load(port, "/token", auth, seconds=18.0))
            )
            loader.start()
            time.sleep(4)
            redis_server.stop()
            time.sleep(10)
            redis_server.start()
            loader.join(120)
            ok, failed = result[0]
            print(
                f"Redis stopped for 10 s under load: {failed} of {ok + failed} requests "
                f"failed (target 0); {emulator.state.token_requests - before} token "
                "exchange(s) meanwhile (Redis came back empty)"
            )
    finally:
        redis_server.stop()
