"""The API proxy's added latency and throughput against calling the emulator directly."""

from __future__ import annotations

import statistics
from typing import Any

from bench.harness import API_KEY, access_token, emulator_for, latencies, load, percentile, served


def bench_proxy(pair: Any) -> None:
    auth = {"Authorization": f"Bearer {API_KEY}"}
    with emulator_for(pair) as emulator, served(emulator.url, pair, workers=2) as port:
        emulator_port = int(emulator.url.rsplit(":", 1)[1])
        for _ in range(20):  # warm every worker's token cache
            latencies(port, "/api/data/v60.0/limits", auth, 1)
        token = access_token(port, auth)
        direct_auth = {"Authorization": f"Bearer {token}"}
        direct, proxied = [], []
        for _ in range(10):  # interleaved blocks, so drift hits both sides alike
            direct += latencies(emulator_port, "/services/data/v60.0/limits", direct_auth, 50)
            proxied += latencies(port, "/api/data/v60.0/limits", auth, 50)
        added = {q: (percentile(proxied, q) - percentile(direct, q)) * 1000 for q in (0.5, 0.99)}
        ratios = []
        for _ in range(3):
            ok_direct, _ = load(emulator_port, "/services/data/v60.0/limits", direct_auth, 3.0)
            ok_proxied, _ = load(port, "/api/data/v60.0/limits", auth, 3.0)
            ratios.append(ok_proxied / ok_direct)
        print(
            f"proxy: adds {added[0.5]:.2f} ms at p50 and {added[0.99]:.2f} ms at p99 on "
            f"loopback (target p50 <= 2 ms; direct p50 {percentile(direct, 0.5) * 1000:.2f} ms); "
            f"throughput {statistics.median(ratios):.2f}x calling the emulator directly"
        )
