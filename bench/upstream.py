"""The emulator as the proxy bench's Salesforce: its own process, connections kept alive.

The emulator's usual server (Werkzeug's, in the test's process) closes every
connection after one answer, so each proxied call would pay a TCP connect that
Salesforce, which keeps connections alive, never costs us; and its threads
would share the bench's GIL. Here the same emulator app is served by gevent's
WSGI server (keep-alive) in a process of its own. Run as
``bench/upstream_server.py``.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench.harness import CONSUMER_KEY, USERNAME, wait_answering
from tests.deploy import ROOT, free_port


@contextmanager
def kept_alive_emulator(pair: Any) -> Iterator[str]:
    """The emulator for ``pair``'s certificate, served with keep-alive; yields its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.upstream_server", str(port), CONSUMER_KEY, USERNAME],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
    )
    assert process.stdin is not None
    process.stdin.write(pair.certificate_pem.encode())
    process.stdin.close()
    try:
        wait_answering(port, process, "the emulator")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(15)
