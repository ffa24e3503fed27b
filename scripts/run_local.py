"""`make run`: the service on http://127.0.0.1:8080 against the local emulator.

Generates a throwaway signing key, API key, consumer secret and encryption key
under .local/ (kept between runs), starts the emulator as the connected app
holding that certificate, then starts the app with the Procfile's own `web:`
command, as Cloud Foundry would, and prints ready-to-paste curl and httpie
lines. Connected orgs are on: the emulator registers the service's
/oauth/callback, and connections are kept in .local/connections.db.
Ctrl-C stops both.

The emulator runs on a thread of this process, built from EmulatorConfig (the
same settings `python -m sfdc emulator --callback-url ... --consumer-secret ...`
takes), so that one process holds both and one Ctrl-C stops them.
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
HOST = "127.0.0.1"
PORT = int(os.environ.get("PORT", "8080"))
EMULATOR_PORT = int(os.environ.get("EMULATOR_PORT", "8081"))
CONSUMER_KEY = "local-emulator-consumer-key"
USERNAME = "integration@example.com"
# A second emulated user, so the consent page offers a choice of who approves.
ADMIN_USERNAME = "admin@acme.example"

sys.path.insert(0, str(ROOT))
from sfdc.access.keys import new_key  # noqa: E402 - needs the path above
from sfdc.emulator import EmulatorConfig, running_emulator  # noqa: E402
from sfdc.ops.keygen import generate, new_encryption_key  # noqa: E402


def _secret_file(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def _kept_secret(name: str, make: Callable[[], str]) -> str:
    """A throwaway secret in .local/, made on the first run and kept after."""
    path = LOCAL / name
    if not path.exists():
        _secret_file(path, make())
    return path.read_text().strip()


def _prepare() -> tuple[str, str, str]:
    """(API key, consumer secret, encryption key), all throwaway."""
    LOCAL.mkdir(exist_ok=True)
    key, cert = LOCAL / "private_key.pem", LOCAL / "certificate.pem"
    if not (key.exists() and cert.exists()):
        pair = generate("sfdc-token-service-local", datetime.now(UTC))
        _secret_file(key, pair.private_key_pem)
        cert.write_text(pair.certificate_pem)
        print(f"generated a throwaway signing key in {LOCAL.relative_to(ROOT)}/")
    return (
        # In the named keys' form, which the sf CLI takes as an access token.
        _kept_secret("api_key", lambda: new_key()[1]),
        _kept_secret("consumer_secret", lambda: secrets.token_urlsafe(32)),
        _kept_secret("encryption_key", new_encryption_key),
    )


def _write_settings(env: dict[str, str]) -> Path:
    """The service's settings as shell assignments, for ``python -m sfdc`` commands run
    beside it (``keys``, ``check``, ``token``): ``set -a; . .local/env; set +a``."""
    path = LOCAL / "env"
    lines = [
        f"{name}={shlex.quote(value)}"
        for name, value in env.items()
        if name.startswith("SFDC_") or name == "DATABASE_URL"
    ]
    _secret_file(path, "\n".join(lines) + "\n")
    return path


def _web_command() -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.removeprefix("web:").strip()
    raise SystemExit("Procfile has no web: line")


def _wait_for(url: str, process: subprocess.Popen[bytes] | None, name: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
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
    api_key, consumer_secret, encryption_key = _prepare()
    base = f"http://{HOST}:{PORT}"
    callback = f"{base}/oauth/callback"
    config = EmulatorConfig(
        consumer_key=CONSUMER_KEY,
        certificate_pem=(LOCAL / "certificate.pem").read_bytes(),
        usernames=(USERNAME, ADMIN_USERNAME),
        consumer_secret=consumer_secret,
        callback_urls=(callback,),
    )
    python = sys.executable
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
        # Connected orgs (the web-server flow), against the emulator's consent page.
        "SFDC_CONSUMER_SECRET": consumer_secret,
        "SFDC_ENCRYPTION_KEY": encryption_key,
        "SFDC_CALLBACK_URL": callback,
        "DATABASE_URL": f"sqlite:///{LOCAL / 'connections.db'}",
    }
    settings_file = _write_settings(env)
    with running_emulator(config, HOST, EMULATOR_PORT):
        print(f"Salesforce emulator listening on http://{HOST}:{EMULATOR_PORT}", flush=True)
        app = subprocess.Popen(["bash", "-c", _web_command()], cwd=ROOT, env=env)
        try:
            _wait_for(f"http://{HOST}:{EMULATOR_PORT}/_emulator/stats", None, "the emulator")
            _wait_for(f"{base}/healthz", app, "the app")
            auth = f"-H 'Authorization: Bearer {api_key}'"
            httpie = (
                f"  http --ignore-stdin {base}/token 'Authorization:Bearer {api_key}'\n"
                if shutil.which("http")
                else ""
            )
            print(
                f"\nThe token service is up on {base}, against the emulator on "
                f"http://{HOST}:{EMULATOR_PORT}.\n"
                f"  curl -s {auth} {base}/token\n"
                f"{httpie}"
                f"  curl -s {base}/            # the demo page, live credentials redacted\n"
                "Connect an org through the web-server flow:\n"
                f"  curl -s -X POST {auth} -H 'Content-Type: application/json' "
                f'-d \'{{"name": "acme"}}\' {base}/connections\n'
                "then open its connect_url in a browser, pick a user "
                f"({USERNAME} or {ADMIN_USERNAME}), press Allow, and:\n"
                f"  curl -s {auth} -H 'X-Sfdc-Connection: acme' "
                f"'{base}/api/data/v60.0/query?q=SELECT+Id+FROM+Account'\n"
                f"Any Salesforce client: instance URL {base}, access token the API key "
                "(simple-salesforce speaks only https: see the README), e.g.\n"
                f"  curl -s -H 'Authorization: OAuth {api_key}' "
                f"'{base}/services/data/v60.0/query?q=SELECT+Id+FROM+Account'\n"
                "A named key that may only call acme through the proxy (shown once):\n"
                f"  curl -s -X POST {auth} -H 'Content-Type: application/json' "
                '-d \'{"client": "billing-app", "scopes": ["proxy:acme"], '
                f'"default_connection": "acme"}}\' {base}/keys\n'
                f"python -m sfdc beside it (keys, check, token) reads its settings from "
                f"{settings_file.relative_to(ROOT)}:\n"
                f"  set -a; . {settings_file.relative_to(ROOT)}; set +a; "
                ".venv/bin/python -m sfdc keys list\n"
                "Ctrl-C stops both.\n",
                flush=True,
            )
            app.wait()
        except KeyboardInterrupt:
            pass
        finally:
            if app.poll() is None:
                app.send_signal(signal.SIGTERM)
            try:
                app.wait(10)
            except subprocess.TimeoutExpired:
                app.kill()


if __name__ == "__main__":
    main()
