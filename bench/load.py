"""Load for the proxy bench: wrk (Debian's ``wrk``) where installed, else Python clients.

wrk is C and event-driven, so on this small machine it costs far less CPU than
what it measures; the Python fallback (keep-alive ``http.client`` connections,
one process each) costs more and lowers every figure, ratios less so. Each
run gives p50 and p99 latency and requests per second.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.harness import latencies, load, percentile

# Prints the figures wrk keeps (latency in microseconds) as one parseable line.
_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("FIGURES %d %d %d %d %d\\n", latency:percentile(50),
    latency:percentile(99), summary.requests, summary.duration,
    e.status + e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass(frozen=True)
class Run:
    p50_ms: float
    p99_ms: float
    rps: float
    requests: int


def generator() -> str:
    """Which load generator the runs use, for the report."""
    return "wrk" if shutil.which("wrk") else "Python http.client (no wrk installed)"


def run(port: int, path: str, headers: dict[str, str], seconds: float, connections: int) -> Run:
    """``connections`` keep-alive connections sending GET ``path`` back to back."""
    if shutil.which("wrk"):
        return _wrk(port, path, headers, seconds, connections)
    return _python(port, path, headers, seconds, connections)


def _wrk(port: int, path: str, headers: dict[str, str], seconds: float, connections: int) -> Run:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp, "report.lua")
        script.write_text(_REPORT)
        command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "-s", str(script)]
        for name, value in headers.items():
            command += ["-H", f"{name}: {value}"]
        done = subprocess.run(
            [*command, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True
        )
    if done.returncode != 0:  # the command line holds a token: show wrk's words only
        raise SystemExit(f"wrk failed on {path}: {done.stderr.strip() or done.stdout.strip()}")
    out = done.stdout
    line = next(line for line in out.splitlines() if line.startswith("FIGURES "))
    p50, p99, requests, duration, errors = (int(word) for word in line.split()[1:])
    if errors:
        raise SystemExit(f"{errors} requests to {path} failed or were refused under wrk")
    return Run(p50 / 1000, p99 / 1000, requests / (duration / 1e6), requests)


def _python(port: int, path: str, headers: dict[str, str], seconds: float, connections: int) -> Run:
    if connections == 1:
        took: list[float] = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            took += latencies(port, path, headers, 50)
        p50, p99 = percentile(took, 0.5) * 1000, percentile(took, 0.99) * 1000
        return Run(p50, p99, len(took) / sum(took), len(took))
    ok, failed = load(port, path, headers, seconds, clients=connections)
    if failed:
        raise SystemExit(f"{failed} requests to {path} failed during a throughput run")
    return Run(float("nan"), float("nan"), ok / seconds, ok)


def cpu_seconds(port: int) -> float:
    """CPU time (user + system) so far of the processes serving ``port``: the gunicorn
    master and workers started with ``PORT=port`` (Linux /proc)."""
    total = 0
    marker = f"PORT={port}".encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if b"gunicorn" not in (proc / "cmdline").read_bytes():
                continue
            if marker not in (proc / "environ").read_bytes().split(b"\0"):
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone, or not ours to read
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")
