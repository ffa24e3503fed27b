"""Figure 8: /healthz beside normal load, with and without 200 slow clients connected.

CF's health check opens a new connection and needs a 200 within 1 s (its
default invocation timeout); /healthz is checked that way, ten times a
second, while two processes keep keyed /token traffic going. The same is done
with 100 clients sending their headers a byte a second and 100 keyed uploads
trickling their body, and without them, in alternating phases of the same
run on the same server (the Procfile's command, 2 workers).
"""

from __future__ import annotations

import http.client
import threading
import time
from typing import Any

from bench.harness import API_KEY, AUTH, emulator_for, load, percentile, served
from tests.slow_clients import SlowClients

HEALTH_CHECK_TIMEOUT = 1.0  # seconds: CF's default for an http health check
PHASE = 10.0  # seconds of load and checks per phase: slow bodies reach their deadline
ROUNDS = 2  # each: one phase without slow clients, one with
SETTLE = 2.0  # seconds for the slow clients to connect and start trickling
CHECK_EVERY = 0.1  # seconds


def _checks(port: int, seconds: float) -> list[tuple[bool, float]]:
    """(answered 200, seconds taken) of each /healthz check, on a new connection each."""
    results = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and len(results) < seconds / CHECK_EVERY:
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            response.read()
            ok = response.status == 200
        except OSError:
            ok = False
        finally:
            connection.close()
        results.append((ok, time.perf_counter() - started))
        time.sleep(CHECK_EVERY)
    return results


def _phase(port: int) -> tuple[list[tuple[bool, float]], int]:
    """The checks beside /token load for one phase; (checks, /token answers)."""
    answered: list[tuple[int, int]] = []
    loader = threading.Thread(
        target=lambda: answered.append(load(port, "/token", AUTH, seconds=PHASE, clients=2))
    )
    loader.start()
    checks = _checks(port, PHASE)
    loader.join(PHASE + 90)
    return checks, answered[0][0]


def _summary(checks: list[tuple[bool, float]]) -> tuple[float, float]:
    """(p99 seconds, share answered 200 within CF's timeout)."""
    in_time = [ok and took <= HEALTH_CHECK_TIMEOUT for ok, took in checks]
    return percentile([took for _, took in checks], 0.99), sum(in_time) / len(in_time)


def bench_slow_clients(pair: Any) -> None:
    without: list[tuple[bool, float]] = []
    beside: list[tuple[bool, float]] = []
    tokens = {"without": 0, "beside": 0}
    dropped = {"header": 0, "body": 0}
    with emulator_for(pair) as emulator, served(emulator.url, pair, workers=2) as port:
        load(port, "/token", AUTH, seconds=1.0)  # every worker holds the token
        for _ in range(ROUNDS):  # alternate, so that drift hits both sides alike
            checks, answered = _phase(port)
            without += checks
            tokens["without"] += answered
            with SlowClients(port, headers=100, bodies=100, api_key=API_KEY) as slow:
                time.sleep(SETTLE)
                checks, answered = _phase(port)
            beside += checks
            tokens["beside"] += answered
            for kind in dropped:
                dropped[kind] += slow.counts.dropped[kind]
    p99_without, share_without = _summary(without)
    p99_beside, share_beside = _summary(beside)
    print(
        f"slow clients: /healthz beside /token load with 200 slow clients connected (100 slow "
        f"headers, 100 slow keyed bodies) vs without: p99 {p99_beside / p99_without:.2f}x "
        f"({p99_beside * 1000:.0f} vs {p99_without * 1000:.0f} ms); answered 200 within CF's "
        f"1 s: {share_beside:.0%} vs {share_without:.0%} of {len(beside)} checks (target 100%); "
        f"/token load {tokens['beside'] / max(1, tokens['without']):.2f}x the answers; the server "
        f"dropped {dropped['header']} slow-header and {dropped['body']} slow-body connections "
        "(each reopened at once)"
    )
