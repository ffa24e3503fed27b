"""Real Redis for tests: the machine's server under a unique key prefix, or a private one.

The machine's Redis (127.0.0.1:6379) serves tests that only need a Redis; each
test gets its own key prefix and its keys are deleted afterwards. Tests that
stop, kill or freeze Redis get a private ``redis-server`` on a free port, so
nothing else on the machine notices.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from tests.deploy import free_port

SHARED_URL = "redis://127.0.0.1:6379/0"


def unique_prefix() -> str:
    return f"sfdc-test-{uuid.uuid4().hex[:12]}"


def delete_prefix(url: str, prefix: str) -> None:
    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def shared_redis() -> Iterator[tuple[str, str]]:
    """(url, key prefix) on the machine's Redis; the prefix's keys are removed after."""
    client = redis.Redis.from_url(SHARED_URL, socket_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        raise AssertionError(
            "these tests need the Redis server at 127.0.0.1:6379 (see README, Development)"
        ) from exc
    prefix = unique_prefix()
    yield SHARED_URL, prefix
    delete_prefix(SHARED_URL, prefix)


class PrivateRedis:
    """A redis-server of our own that tests may stop, kill, freeze and restart."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is needed for Redis outage tests"
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "private redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(10)
            self.process = None

    def freeze(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()
