"""The API proxy's cost: a proxied call against the same call made directly, through nginx
adding a static header, and against the service's own ``/healthz``.

All four are measured in one run, interleaved round by round so that the
machine's drift hits each alike: latency (p50, p99) over one keep-alive
connection, then throughput over several. The emulator stands in for
Salesforce in its own process with connections kept alive (bench/upstream.py);
the app runs with the Procfile's command, 2 gevent workers, on loopback.
Targets (issue 14): a proxied call within 0.5 ms of ``/healthz`` plus the
direct call at p50, and at least 0.8x the throughput of ``/healthz``.
"""

from __future__ import annotations

import statistics
from typing import Any

from bench.harness import API_KEY, access_token, latencies, served
from bench.load import Run, cpu_seconds, generator, run
from bench.nginx import nginx_in_front
from bench.upstream import kept_alive_emulator

ROUNDS = 3
LATENCY_SECONDS = 2.0
THROUGHPUT_SECONDS = 3.0
CONNECTIONS = 8  # at once, for throughput: a few per worker
API = "/api/data/v60.0/limits"
DIRECT = "/services/data/v60.0/limits"


def bench_proxy(pair: Any) -> None:
    auth = {"Authorization": f"Bearer {API_KEY}"}
    with kept_alive_emulator(pair) as emulator_url, served(emulator_url, pair, workers=2) as port:
        for _ in range(20):  # warm every worker's token cache and upstream pool
            latencies(port, API, auth, 1)
        token = access_token(port, auth)
        emulator_port = int(emulator_url.rsplit(":", 1)[1])
        with nginx_in_front(emulator_url, token) as nginx_port:
            targets = {
                "direct": (emulator_port, DIRECT, {"Authorization": f"Bearer {token}"}),
                "/api": (port, API, auth),
                "/healthz": (port, "/healthz", {}),
            }
            if nginx_port is not None:
                targets["nginx"] = (nginx_port, DIRECT, {})
            else:
                print("proxy: nginx is not installed; the nginx comparison is skipped")
            latency, _ = _measure(targets, LATENCY_SECONDS, 1, port)
            _report(latency, *_measure(targets, THROUGHPUT_SECONDS, CONNECTIONS, port))


def _measure(
    targets: dict[str, tuple[int, str, dict[str, str]]],
    seconds: float,
    connections: int,
    service_port: int,
) -> tuple[dict[str, list[Run]], dict[str, list[float]]]:
    """Runs per target, and the service's CPU seconds per request for its own targets."""
    runs: dict[str, list[Run]] = {name: [] for name in targets}
    cpu: dict[str, list[float]] = {name: [] for name in targets}
    for _ in range(ROUNDS):
        for name, (port, path, headers) in targets.items():
            before = cpu_seconds(service_port)
            runs[name].append(run(port, path, headers, seconds, connections))
            if port == service_port:
                cpu[name].append((cpu_seconds(service_port) - before) / runs[name][-1].requests)
    return runs, cpu


def _median(runs: list[Run], figure: str) -> float:
    return statistics.median(getattr(one, figure) for one in runs)


def _ratio(runs: dict[str, list[Run]], name: str, other: str) -> float:
    """Median over rounds of the throughput ratio within each round."""
    return statistics.median(a.rps / b.rps for a, b in zip(runs[name], runs[other], strict=True))


def _report(
    latency: dict[str, list[Run]], load: dict[str, list[Run]], cpu: dict[str, list[float]]
) -> None:
    p50 = {name: _median(runs, "p50_ms") for name, runs in latency.items()}
    p99 = {name: _median(runs, "p99_ms") for name, runs in latency.items()}
    direct = p50["direct"]

    def shown(name: str) -> str:
        added = "" if name == "direct" else f" ({p50[name] - direct:+.2f}, p99 {p99[name]:.2f})"
        return f"{name} {p50[name]:.2f}{added}"

    names = [name for name in ("direct", "nginx", "/api", "/healthz") if name in p50]
    print(
        f"proxy: p50 ms on loopback, 2 gevent workers, load from {generator()}, "
        f"{ROUNDS} interleaved rounds: " + "; ".join(shown(name) for name in names)
    )
    over = p50["/api"] - (p50["/healthz"] + direct)
    print(
        f"proxy: /api adds {p50['/api'] - direct:.2f} ms at p50 to the direct call, "
        f"{over:.2f} ms over /healthz + direct (target <= 0.5 ms); p99 /api {p99['/api']:.2f} "
        f"vs direct {p99['direct']:.2f} ms (p99 of {LATENCY_SECONDS:g} s runs is noise-bound)"
    )
    versus = [f"{_ratio(load, '/api', '/healthz'):.2f}x /healthz (target >= 0.8)"]
    if "nginx" in load:
        versus.append(f"{_ratio(load, '/api', 'nginx'):.2f}x nginx")
    versus.append(f"{_ratio(load, '/api', 'direct'):.2f}x direct")
    last = ", ".join(f"{name} {load[name][-1].rps:.0f}" for name in names)
    print(
        f"proxy: throughput over {CONNECTIONS} connections: /api {', '.join(versus)} "
        f"(last round req/s: {last})"
    )
    api, health = (statistics.median(cpu[name]) * 1e6 for name in ("/api", "/healthz"))
    print(
        f"proxy: the service's own CPU per call (its processes' user + system time): /api "
        f"{api:.0f} us, /healthz {health:.0f} us ({api / health:.1f}x)"
    )
