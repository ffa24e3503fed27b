"""Running the app as Cloud Foundry does: the Procfile's web command, PORT, VCAP_*."""

from __future__ import annotations

import fnmatch
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

import requests

ROOT = Path(__file__).resolve().parent.parent


def web_command() -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.removeprefix("web:").strip()
    raise AssertionError("Procfile has no web: process")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def stage_files(target: Path) -> Path:
    """Copy what `cf push` uploads: the tree minus .cfignore and what CF always skips."""
    patterns = [
        p.strip().rstrip("/")
        for p in (ROOT / ".cfignore").read_text().splitlines()
        if p.strip() and not p.startswith("#")
    ]
    patterns += [".git", "manifest.yml"]

    def ignore(_: str, names: list[str]) -> set[str]:
        return {n for n in names for p in patterns if fnmatch.fnmatch(n, p)}

    app_dir = target / "app"
    shutil.copytree(ROOT, app_dir, ignore=ignore)
    return app_dir


# Each started app's output, by process id. A file, not a pipe: nothing reads the output
# until stop(), and a worker that logged more than a pipe holds (64 KiB: a few hundred
# requests' audit lines) would block on its next line and stop answering.
_OUTPUTS: dict[int, IO[str]] = {}


def start(cwd: Path, env: Mapping[str, str]) -> subprocess.Popen[str]:
    output = tempfile.NamedTemporaryFile("w+", encoding="utf-8", prefix="app-output-")  # noqa: SIM115 - closed by stop()
    process = subprocess.Popen(
        ["bash", "-c", web_command()],
        cwd=cwd,
        env=dict(env),
        stdout=output,
        stderr=subprocess.STDOUT,
        text=True,
    )
    _OUTPUTS[process.pid] = output
    return process


def output_of(process: subprocess.Popen[str]) -> str:
    """Everything ``process`` (from ``start``) has written so far."""
    output = _OUTPUTS[process.pid]
    output.flush()
    with open(output.name, encoding="utf-8", errors="replace") as written:
        return written.read()


def wait_healthy(url: str, process: subprocess.Popen[str], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = output_of(process)
            raise AssertionError(f"the app exited ({process.returncode}):\n{output}")
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError(f"{url}/healthz did not answer within {seconds} s")


def stop(process: subprocess.Popen[str]) -> tuple[int, str, float]:
    """SIGTERM as CF does; (exit status, all output, seconds to exit)."""
    started = time.monotonic()
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    output = output_of(process)
    _OUTPUTS.pop(process.pid).close()  # deletes the file
    return process.returncode, output, time.monotonic() - started
