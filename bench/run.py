"""`make bench`: performance figures as ratios taken in one run.

This machine is shared and noisy, so absolute numbers mean little; each figure
compares two things measured side by side, interleaved, in the same run.

1. Signing one assertion vs a bare RSA-SHA256 signature with the same key
   (target <= 1.2x), and, for scale, passing the PEM to PyJWT on every call.
2. Cached `/` throughput vs `/healthz` in the same gunicorn (Procfile command).
3. 200 concurrent cold `/token` requests across 4 workers sharing Redis: how
   many token exchanges the emulator counts (target 1).
4. Cached `/token` throughput vs `/healthz`, 4 workers with Redis (target >= 0.8).
5. Requests failed while Redis is stopped for 10 s under load (target 0).
6. The API proxy: p50 and p99 latency and throughput of a call through /api
   against the same call made directly to the emulator, through nginx adding a
   static header (where nginx is installed), and /healthz (target: within
   0.5 ms of /healthz + direct at p50; >= 0.8x /healthz throughput).
7. A worker's peak RSS growth while the proxy forwards a 50 MiB Bulk 2.0 upload
   (with Content-Length and chunked), as a share of the body (target: far below 1x).
8. A connected org (web-server flow, PostgreSQL, refresh-token rotation on):
   refresh-token grants spent when 200 proxied calls across 4 workers all hold
   a dead token (target 1), and cached `/token` throughput for the stored
   connection vs the JWT connection (target >= 0.9).
9. /healthz beside /token load with 200 slow clients connected (100 sending
   headers, 100 sending a keyed body, a byte a second) vs the same load
   without them: p99 as a ratio, and the share answered within CF's 1 s
   health-check timeout (target 100%).
10. Refresh tokens lost across the crash trials of tests/orgs/test_crash_safety.py
   (rotation on; database stopped, workers killed at each step; target 0).
11. 10,000 connected orgs in PostgreSQL, 2 workers with Redis, steady state: p99 of
    `/token` and of a proxied call for a random connection vs one connection (target
    <= 1.5x), and memory per kept connection with the LRU full vs after all were used.

Each scenario is a module of this package; this file only runs them in order,
or those named on the command line (`python bench/run.py proxy signing`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # the project, not bench/, so that `bench` is a package

from bench.cache import bench_root_vs_healthz, bench_shared_cache  # noqa: E402
from bench.connected_org import bench_connected_org  # noqa: E402
from bench.crash import bench_crash_trials  # noqa: E402
from bench.outage import bench_redis_outage  # noqa: E402
from bench.proxy import bench_proxy  # noqa: E402
from bench.scale import bench_scale  # noqa: E402
from bench.signing import bench_signing  # noqa: E402
from bench.slow_clients import bench_slow_clients  # noqa: E402
from bench.uploads import bench_upload  # noqa: E402
from sfdc.ops.keygen import generate  # noqa: E402

SCENARIOS: dict[str, Callable[[Any], None]] = {
    "signing": lambda keys: bench_signing(),
    "root": bench_root_vs_healthz,
    "cache": bench_shared_cache,
    "outage": bench_redis_outage,
    "proxy": bench_proxy,
    "uploads": bench_upload,
    "connected": bench_connected_org,
    "slow": bench_slow_clients,
    "crash": lambda keys: bench_crash_trials(),
    "scale": bench_scale,
}

if __name__ == "__main__":
    chosen = sys.argv[1:] or list(SCENARIOS)
    unknown = [name for name in chosen if name not in SCENARIOS]
    if unknown:
        raise SystemExit(f"unknown scenario(s) {unknown}; choose from {list(SCENARIOS)}")
    keys = generate("bench", datetime.now(UTC))
    for name in chosen:
        SCENARIOS[name](keys)
