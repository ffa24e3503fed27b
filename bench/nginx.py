"""nginx in front of the emulator, adding a static Authorization header: the floor for a proxy.

Debian's nginx (``apt-get install nginx-light``) where installed; the bench does
not install it. One worker process, keep-alive to the upstream, no access log:
the least a reverse proxy that swaps a header can cost on this machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.harness import wait_answering
from tests.deploy import free_port

_CONFIG = """
daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  upstream salesforce {{ server {upstream}; keepalive 32; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://salesforce;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Authorization "Bearer {token}";
    }}
  }}
}}
"""


def nginx_binary() -> str | None:
    return shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin")


@contextmanager
def nginx_in_front(upstream_url: str, token: str) -> Iterator[int | None]:
    """nginx proxying to ``upstream_url`` with ``token``; yields its port, or None without nginx."""
    binary = nginx_binary()
    if binary is None:
        yield None
        return
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        config = Path(tmp, "nginx.conf")
        upstream = upstream_url.removeprefix("http://").rstrip("/")
        config.write_text(_CONFIG.format(tmp=tmp, upstream=upstream, port=port, token=token))
        process = subprocess.Popen(
            [binary, "-c", str(config), "-p", tmp],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_answering(port, process, "nginx", seconds=15, pause=0.1)
            yield port
        finally:
            process.terminate()
            process.wait(15)
