"""A worker's memory while the proxy forwards a 50 MiB Bulk 2.0 upload.

The body is spooled to a temporary file (``sfdc.web.spool``) and sent on from there,
so a worker's peak RSS should grow by far less than the body. Measured from the
outside, in ``/proc``: the worker's ``VmHWM`` (peak resident set), reset before each
upload, against its size then; for a body with ``Content-Length`` and the same body
chunked.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.harness import AUTH, emulator_for, served

UPLOAD = 50 * 1024 * 1024
V = "/services/data/v60.0"


def _workers(port: int) -> list[int]:
    """The pids of the gunicorn workers serving ``port``: processes started with its
    PORT whose parent was too (the master)."""
    served_here: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            status = (entry / "status").read_text()
        except OSError:  # gone, or not ours
            continue
        if f"PORT={port}".encode() in environ:
            parent = next(line for line in status.splitlines() if line.startswith("PPid:"))
            served_here[int(entry.name)] = int(parent.split()[1])
    return [pid for pid, parent in served_here.items() if parent in served_here]


def _reset_peak(pid: int) -> None:
    """Start ``VmHWM`` again from the current RSS (proc(5), ``clear_refs``)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def _peak_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1])


def _csv() -> bytes:
    row = b"Acme Upload Holdings, a company with a long name\n"
    return b"Name\n" + row * ((UPLOAD - 5) // len(row))


def _pieces(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), 256 * 1024):
        yield data[start : start + 256 * 1024]


def _upload(port: int, path: str, data: bytes, chunked: bool) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {**AUTH, "Content-Type": "text/csv"}
    body: Any = _pieces(data) if chunked else data
    connection.request("PUT", path, body=body, headers=headers, encode_chunked=chunked)
    answer = connection.getresponse()
    answer.read()
    return answer.status


def bench_upload(pair: Any) -> None:
    with emulator_for(pair) as emulator, served(emulator.url, pair, workers=1) as port:
        del emulator
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        job = json.dumps({"object": "Account", "operation": "insert"})
        connection.request(
            "POST",
            f"{V}/jobs/ingest",
            body=job,
            headers={**AUTH, "Content-Type": "application/json"},
        )
        path = "/" + json.loads(connection.getresponse().read())["contentUrl"]
        if _upload(port, path, b"Name\nWarm-up\n", chunked=False) != 201:
            raise SystemExit("the warm-up upload failed")
        (worker,) = _workers(port)
        data = _csv()
        growth = {}
        for chunked in (False, True):
            _reset_peak(worker)
            before = _peak_kib(worker)
            if _upload(port, path, data, chunked) != 201:
                raise SystemExit("the 50 MiB upload failed")
            growth[chunked] = (_peak_kib(worker) - before) / 1024
        print(
            f"uploads: proxying a {len(data) / (1 << 20):.0f} MiB Bulk 2.0 upload raised the "
            f"worker's peak RSS by {growth[False]:.1f} MiB with Content-Length and "
            f"{growth[True]:.1f} MiB chunked ({max(growth.values()) / 50:.2f}x the body; "
            "target: far below 1x)"
        )
