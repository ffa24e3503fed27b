"""`make run`: the service on http://127.0.0.1:8080 against the local emulator.

Generates a throwaway key and API key under .local/ (kept between runs),
starts the emulator as the connected app holding that certificate, then starts
the app with the Procfile's own `web:` command, as Cloud Foundry would, and
prints ready-to-paste curl and httpie lines. Ctrl-C stops both.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
HOST = "127.0.0.1"
PORT = int(os.environ.get("PORT", "8080"))
EMULATOR_PORT = int(os.environ.get("EMULATOR_PORT", "8081"))
CONSUMER_KEY = "local-emulator-consumer-key"
USERNAME = "integration@example.com"

sys.path.insert(0, str(ROOT))
from sfdc.keygen import generate  # noqa: E402 - needs the path above


def _secret_file(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def _prepare() -> str:
    LOCAL.mkdir(exist_ok=True)
    key, cert, api = LOCAL / "private_key.pem", LOCAL / "certificate.pem", LOCAL / "api_key"
    if not (key.exists() and cert.exists()):
        pair = generate("sfdc-token-service-local", datetime.now(UTC))
        _secret_file(key, pair.private_key_pem)
        cert.write_text(pair.certificate_pem)
        print(f"generated a throwaway signing key in {LOCAL.relative_to(ROOT)}/")
    if not api.exists():
        _secret_file(api, secrets.token_urlsafe(32))
    return api.read_text().strip()


def _web_command() -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.removeprefix("web:").strip()
    raise SystemExit("Procfile has no web: line")


def _wait_for(url: str, process: subprocess.Popen[bytes], name: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(
                f"{name} exited with status {process.returncode}; see its output above"
            )
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - fixed loopback URL
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{name} did not answer {url} within 30 s")


def _port_free(port: int) -> None:
    import socket

    with socket.socket() as probe:
        if probe.connect_ex((HOST, port)) == 0:
            raise SystemExit(
                f"port {port} on {HOST} is taken; stop what uses it or run "
                f"`PORT=... EMULATOR_PORT=... make run`"
            )


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # run the same clean-up as Ctrl-C


def main() -> None:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    for port in (PORT, EMULATOR_PORT):
        _port_free(port)
    api_key = _prepare()
    python = sys.executable
    emulator = subprocess.Popen(
        [
            python,
            "-m",
            "sfdc",
            "emulator",
            "--certificate",
            str(LOCAL / "certificate.pem"),
            "--consumer-key",
            CONSUMER_KEY,
            "--username",
            USERNAME,
            "--host",
            HOST,
            "--port",
            str(EMULATOR_PORT),
        ],
        cwd=ROOT,
    )
    # Settings left in the shell (a real key, a sandbox audience) would fight the
    # throwaway ones; the local run uses only what it sets here, and REDIS_URL
    # if given, to share one token between the workers.
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SFDC_", "VCAP_", "PROMETHEUS_MULTIPROC_DIR"))
    }
    env = {
        **inherited,
        "PATH": f"{Path(python).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PORT": str(PORT),
        # Locally, listen on loopback only; on CF gunicorn binds 0.0.0.0:$PORT itself.
        "GUNICORN_CMD_ARGS": f"--bind {HOST}:{PORT} --access-logfile -",
        "SFDC_CONSUMER_KEY": CONSUMER_KEY,
        "SFDC_USERNAME": USERNAME,
        "SFDC_LOGIN_URL": f"http://{HOST}:{EMULATOR_PORT}",
        "SFDC_PRIVATE_KEY_FILE": str(LOCAL / "private_key.pem"),
        "SFDC_CERTIFICATE_FILE": str(LOCAL / "certificate.pem"),
        "SFDC_API_KEYS": api_key,
    }
    app = subprocess.Popen(["bash", "-c", _web_command()], cwd=ROOT, env=env)
    try:
        _wait_for(f"http://{HOST}:{EMULATOR_PORT}/_emulator/stats", emulator, "the emulator")
        _wait_for(f"http://{HOST}:{PORT}/healthz", app, "the app")
        base = f"http://{HOST}:{PORT}"
        print(
            f"\nThe token service is up on {base}, against the emulator on "
            f"http://{HOST}:{EMULATOR_PORT}.\n"
            f"  curl -s -H 'Authorization: Bearer {api_key}' {base}/token\n"
            f"  http --ignore-stdin {base}/token 'Authorization:Bearer {api_key}'\n"
            f"  curl -s {base}/            # the demo page, live credentials redacted\n"
            "Ctrl-C stops both.\n",
            flush=True,
        )
        app.wait()
    except KeyboardInterrupt:
        pass
    finally:
        for process in (app, emulator):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (app, emulator):
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    main()
