"""What every scenario of ``make bench`` shares: the app served as CF runs it, load, timing.

The app is started with the Procfile's own command against the emulator, on
loopback; every load loop stops after a set time.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sfdc.emulator import EmulatorConfig, running_emulator
from tests.deploy import ROOT, free_port, web_command

API_KEY = "bench-api-key-0123456789abcdef"
CONSUMER_KEY = "bench-consumer-key"
USERNAME = "bench@example.com"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


def _load(port: int, path: str, headers: dict[str, str], seconds: float, out: Any) -> None:
    """One client process: keep-alive requests until ``seconds`` pass; (ok, failed) out."""
    ok = failed = 0
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
        except OSError:
            failed += 1
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            continue
        if response.status == 200:
            ok += 1
        else:
            failed += 1
    out.put((ok, failed))


def load(
    port: int, path: str, headers: dict[str, str], seconds: float = 3.0, clients: int = 4
) -> tuple[int, int]:
    """(ok, failed) requests from ``clients`` keep-alive connections in separate processes."""
    queue: Any = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=_load, args=(port, path, headers, seconds, queue))
        for _ in range(clients)
    ]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=seconds + 60) for _ in workers]
    for worker in workers:
        worker.join()
    return sum(r[0] for r in results), sum(r[1] for r in results)


def throughput(port: int, path: str, headers: dict[str, str], seconds: float = 3.0) -> float:
    ok, failed = load(port, path, headers, seconds)
    if failed:
        raise SystemExit(f"{failed} requests to {path} failed during a throughput run")
    return ok / seconds


@contextmanager
def served(emulator_url: str, pair: Any, workers: int, **extra: str) -> Iterator[int]:
    """The app, started with the Procfile's command, against the emulator; yields its port."""
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "key.pem").write_text(pair.private_key_pem)
        Path(tmp, "cert.pem").write_text(pair.certificate_pem)
        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SFDC_", "REDIS_"))},
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
            "PORT": str(port),
            "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port}",
            "WEB_CONCURRENCY": str(workers),
            "PROMETHEUS_MULTIPROC_DIR": f"{tmp}/metrics",
            "SFDC_CONSUMER_KEY": CONSUMER_KEY,
            "SFDC_USERNAME": USERNAME,
            "SFDC_LOGIN_URL": emulator_url,
            "SFDC_PRIVATE_KEY_FILE": f"{tmp}/key.pem",
            "SFDC_CERTIFICATE_FILE": f"{tmp}/cert.pem",
            "SFDC_API_KEYS": API_KEY,
            **extra,
        }
        app = subprocess.Popen(
            ["bash", "-c", web_command()],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_answering(port, app, "the app", "/healthz", status=200)
            yield port
        finally:
            app.terminate()
            app.wait(15)


def wait_answering(
    port: int,
    process: subprocess.Popen[bytes],
    what: str,
    path: str = "/services/data",
    *,
    seconds: float = 30,
    pause: float = 0.2,
    status: int | None = None,
) -> None:
    """Return once ``process`` answers a GET of ``path`` on ``port`` (with ``status``, if
    given); SystemExit naming ``what`` if it exits first or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited during start-up")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            if status is None or response.status == status:
                return
        except OSError:
            time.sleep(pause)
    raise SystemExit(f"{what} did not start")


def emulator_for(pair: Any, **extra: Any) -> Any:
    return running_emulator(
        EmulatorConfig(
            consumer_key=CONSUMER_KEY,
            usernames=(USERNAME, *extra.pop("more_users", ())),
            certificate_pem=pair.certificate_pem.encode(),
            **extra,
        )
    )


def healthz_ratio(port: int, path: str, headers: dict[str, str]) -> tuple[float, float, float]:
    """Median throughput of ``path`` over /healthz, interleaved runs; (ratio, path, healthz)."""
    throughput(port, path, headers, seconds=1.0)  # warm every worker
    ratios = []
    for _ in range(3):
        health = throughput(port, "/healthz", {})
        measured = throughput(port, path, headers)
        ratios.append(measured / health)
    return statistics.median(ratios), measured, health


def all_at_once(port: int, path: str, headers: dict[str, str], count: int = 200) -> list[int]:
    """Statuses of ``count`` GETs released together, each on its own connection."""
    barrier = threading.Barrier(count)
    statuses: list[int] = []

    def call() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        barrier.wait()
        connection.request("GET", path, headers=headers)
        statuses.append(connection.getresponse().status)

    threads = [threading.Thread(target=call) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    return statuses


def latencies(port: int, path: str, headers: dict[str, str], count: int) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    took = []
    for _ in range(count):
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        took.append(time.perf_counter() - started)
        if response.status != 200:
            raise SystemExit(f"{path} answered {response.status}")
        if response.getheader("Connection", "").lower() == "close" or response.version == 10:
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    return took


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def access_token(port: int, auth: dict[str, str]) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/token", headers=auth)
    return str(json.loads(connection.getresponse().read())["access_token"])


def call(port: int, method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    payload = json.dumps(body) if body is not None else None
    connection.request(method, path, body=payload, headers=headers)
    answer = connection.getresponse()
    return answer.status, json.loads(answer.read() or b"null")
