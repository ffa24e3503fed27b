"""Deployment: the manifest, start-up refusals, and staging as the Python buildpack does."""

from __future__ import annotations

import fnmatch
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from sfdc.emulator import running_emulator
from tests.conftest import API_KEY, CONSUMER_KEY, USERNAME, KeyPair, seed_vcap
from tests.deploy import ROOT, free_port, stage_files, start, stop, wait_healthy, web_command
from tests.emulated import emulator_config, stats

VCAP_APPLICATION = json.dumps(
    {
        "name": "sfdc-token-service",
        "application_name": "sfdc-token-service",
        "space_name": "dev",
        "uris": [],
    }
)


def test_manifest_uses_todays_schema() -> None:
    text = (ROOT / "manifest.yml").read_text()
    app = yaml.safe_load(text)["applications"][0]
    assert app["buildpacks"] == ["python_buildpack"]
    assert app["stack"] == "cflinuxfs4"
    assert app["health-check-type"] == "http"
    assert app["health-check-http-endpoint"] == "/healthz"
    assert app["services"], "the CredHub service is bound"
    assert not {"buildpack", "host", "hosts", "domain", "domains", "inherit"} & app.keys()
    assert "((consumer_key))" in text, "per-foundation values come from --vars-file"
    example = yaml.safe_load((ROOT / "vars.example.yml").read_text())
    assert set(example) >= {v.strip("()") for v in text.split() if v.startswith("((")}


def test_procfile_execs_gunicorn_and_stops_before_cf_kills_it() -> None:
    command = web_command()
    assert command.startswith("exec gunicorn ")
    assert "--preload" in command, "configuration is checked once, before workers start"
    graceful = int(command.split("--graceful-timeout")[1].split()[0])
    assert graceful < 10, "CF sends SIGKILL 10 s after SIGTERM"
    assert (ROOT / "runtime.txt").read_text().startswith("python-3.")
    pins = [
        line
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert all("==" in line for line in pins)


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"SFDC_USERNAME": USERNAME}, "SFDC_CONSUMER_KEY is not set"),
        (
            {
                "SFDC_CONSUMER_KEY": CONSUMER_KEY,
                "SFDC_USERNAME": USERNAME,
                "SFDC_LOGIN_URL": "http://login.salesforce.com",
            },
            "plain http",
        ),
        ({"VCAP_SERVICES": "{oops"}, "VCAP_SERVICES is not JSON"),
    ],
)
def test_bad_configuration_stops_start_up_with_one_line(
    keypair: KeyPair, env: dict[str, str], problem: str
) -> None:
    full = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "PORT": str(free_port()),
        "VCAP_SERVICES": seed_vcap(keypair),
        **env,
    }
    result = subprocess.run(
        ["bash", "-c", web_command()],
        cwd=ROOT,
        env=full,
        timeout=60,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    lines = [line for line in output.splitlines() if "configuration error" in line]
    assert len(lines) == 1, output
    assert problem in lines[0]
    assert "Fix:" in lines[0]
    assert "Traceback" not in output
    assert "Listening at" not in output, "it never took traffic"
    assert keypair.key_body[:40] not in output


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The app as the buildpack stages it: uploaded files, fresh venv, requirements.txt."""
    root = tmp_path_factory.mktemp("staging")
    app_dir = stage_files(root)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [
            str(venv / "bin" / "pip"),
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            str(app_dir / "requirements.txt"),
        ],
        check=True,
        timeout=600,
    )
    return app_dir


def test_staged_app_serves_a_token_from_the_emulator(staged: Path, keypair: KeyPair) -> None:
    assert not (staged / "tests").exists(), ".cfignore keeps tests out of the droplet"
    port = free_port()
    with running_emulator(emulator_config(keypair)) as emulator:
        env = {
            "PATH": f"{staged.parent / 'venv' / 'bin'}:/usr/bin:/bin",
            "HOME": str(staged.parent),
            "PORT": str(port),
            "VCAP_APPLICATION": VCAP_APPLICATION,
            "VCAP_SERVICES": seed_vcap(keypair),
            "SFDC_CONSUMER_KEY": CONSUMER_KEY,
            "SFDC_USERNAME": USERNAME,
            "SFDC_LOGIN_URL": emulator.url,
            "SFDC_API_KEYS": API_KEY,
            # What the buildpack's profile.d script exports at launch:
            "PYTHONUNBUFFERED": "1",
            "FORWARDED_ALLOW_IPS": "*",
            "GUNICORN_CMD_ARGS": "--access-logfile -",
        }
        process = start(staged, env)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_healthy(url, process)
            anonymous = requests.get(url, timeout=10).json()
            page = requests.get(
                url,
                headers={"Authorization": f"Bearer {API_KEY}", "X-Vcap-Request-Id": "rtr-42"},
                timeout=10,
            ).json()
            exchanges = stats(emulator.url)["token_requests"]
        finally:
            status, output, seconds = stop(process)
    assert anonymous["response_text"]["access_token"] == "REDACTED"
    token = page["response_text"]["access_token"]
    assert token.startswith("00D")
    assert exchanges <= int(os.environ.get("WEB_CONCURRENCY", "2")), "at most one per worker"
    assert status == 0, output
    assert seconds < 10, "stopped before CF's SIGKILL"
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]  # all JSON
    access = [e for e in lines if e.get("event") == "request" and e.get("path") == "/"]
    assert any(e["status"] == 200 and e["request_id"] == "rtr-42" for e in access), access
    calls = [e for e in lines if e.get("event") == "salesforce call"]
    assert calls, "every call to Salesforce is logged"
    assert {"endpoint", "method", "status", "duration_ms", "outcome"} <= calls[0].keys()
    assert calls[0]["endpoint"].endswith("/services/oauth2/token")
    assert token not in output
    assert keypair.key_body[:40] not in output


def _three_workers(keypair: KeyPair, port: int, home: Path, **settings: str) -> dict[str, str]:
    """The environment for gunicorn from the app's directory, three workers on loopback."""
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(home),
        "PORT": str(port),
        "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port}",
        "WEB_CONCURRENCY": "3",
        "VCAP_SERVICES": seed_vcap(keypair),
        "SFDC_CONSUMER_KEY": CONSUMER_KEY,
        "SFDC_USERNAME": USERNAME,
        **settings,
    }


def test_metrics_sum_over_gunicorn_workers_sharing_redis(
    keypair: KeyPair, shared_redis: tuple[str, str], tmp_path: Path
) -> None:
    from tests.web.test_metrics import sample

    url_redis, prefix = shared_redis
    port = free_port()
    # A temporary directory of its own: other runs on this machine make metrics dirs too.
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    with running_emulator(emulator_config(keypair)) as emulator:
        env = _three_workers(
            keypair,
            port,
            tmp_path,
            SFDC_LOGIN_URL=emulator.url,
            SFDC_API_KEYS=API_KEY,
            REDIS_URL=url_redis,
            SFDC_CACHE_PREFIX=prefix,
            TMPDIR=str(private_tmp),
        )
        process = start(ROOT, env)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_healthy(base, process)
            auth = {"Authorization": f"Bearer {API_KEY}"}
            for _ in range(30):  # new connections, spread over the workers
                assert requests.get(f"{base}/token", headers=auth, timeout=10).status_code == 200
            text = requests.get(f"{base}/metrics", timeout=10).text
            exchanges = stats(emulator.url)["token_requests"]
        finally:
            stop(process)
    lookups = sample(text, "sfdc_token_cache_lookups_total", layer="process", result="hit")
    lookups += sample(text, "sfdc_token_cache_lookups_total", layer="process", result="miss")
    assert lookups == 30, "every worker's lookups are in one scrape"
    assert sample(text, "sfdc_token_exchanges_total", outcome="ok") == 1
    assert exchanges == 1, "three workers, one exchange: they share the token through Redis"
    assert sample(text, "sfdc_redis_up") == 1
    leftovers = list(private_tmp.glob("sfdc-metrics-*"))
    assert leftovers == [], "the metrics directory goes away with the server"


@pytest.mark.parametrize("leftover", ["build", "dist", "sfdc_token_service.egg-info"])
def test_what_pip_install_leaves_is_neither_committed_nor_pushed(leftover: str) -> None:
    patterns = [p.strip().rstrip("/") for p in (ROOT / ".cfignore").read_text().splitlines()]
    assert any(fnmatch.fnmatch(leftover, p) for p in patterns if p and not p.startswith("#"))
    ignored = subprocess.run(
        ["git", "check-ignore", "--quiet", f"{leftover}/"], cwd=ROOT, check=False
    )
    assert ignored.returncode == 0, f"{leftover}/ is not in .gitignore"


def test_under_gunicorn_one_worker_keeps_an_idle_connection_alive(
    keypair: KeyPair, postgres_url: str, tmp_path: Path
) -> None:
    """Each worker starts the keep-alive job after the fork; the lease lets one work."""
    from sfdc.settings.settings import load_settings
    from tests.conftest import CONSUMER_SECRET, ENCRYPTION_KEY, FakeClock
    from tests.orgs.upkeep_support import connect, idle_since, worker
    from tests.orgs_support import CALLBACK, org_config
    from tests.web.test_metrics import sample

    port = free_port()
    with running_emulator(org_config(keypair)) as emulator:
        env = _three_workers(
            keypair,
            port,
            tmp_path,
            SFDC_LOGIN_URL=emulator.url,
            SFDC_CONSUMER_SECRET=CONSUMER_SECRET,
            SFDC_ENCRYPTION_KEY=ENCRYPTION_KEY,
            SFDC_CALLBACK_URL=CALLBACK,
            DATABASE_URL=postgres_url,
            SFDC_KEEPALIVE_INTERVAL="1m",  # a pass spreads over 30 s
        )
        made: list[Any] = []
        connect(worker(made, load_settings(env), FakeClock(datetime.now(UTC))), "idle")
        made[0].store.dispose()
        idle_since(postgres_url, "idle", datetime.now(UTC) - timedelta(days=8))
        grants = stats(emulator.url)["refresh_grants"]
        process = start(ROOT, env)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_healthy(base, process)
            deadline = time.monotonic() + 45
            while stats(emulator.url)["refresh_grants"] == grants and time.monotonic() < deadline:
                time.sleep(0.5)
            time.sleep(2)  # time for a second worker's mistake to show
            spent = stats(emulator.url)["refresh_grants"] - grants
            text = requests.get(f"{base}/metrics", timeout=10).text
        finally:
            status, output, _seconds = stop(process)
    assert spent == 1, output
    assert sample(text, "sfdc_keepalive_refreshes_total", outcome="ok") == 1
    assert sample(text, "sfdc_connections", status="connected") == 1
    assert status == 0, output
    # Every worker left within the graceful timeout: the job's thread holds none up.
    assert "SIGKILL" not in output
