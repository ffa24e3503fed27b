"""Running the app as Cloud Foundry does: the Procfile's web command, PORT, VCAP_*."""

from __future__ import annotations

import fnmatch
import shutil
import socket
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

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


def start(cwd: Path, env: Mapping[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["bash", "-c", web_command()],
        cwd=cwd,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_healthy(url: str, process: subprocess.Popen[str], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
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
        output, _ = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return process.returncode, output, time.monotonic() - started
