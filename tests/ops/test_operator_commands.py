"""``python -m sfdc smoke | check | token`` run as an operator would, against a live app.

The commands run in-process (``tests.ops.invoke``); the app and the emulator
they talk to serve real HTTP on threads of this process.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.fernet import Fernet
from flask import Flask
from junitparser import JUnitXml
from werkzeug.serving import make_server

from sfdc.emulator import running_emulator
from sfdc.settings.settings import load_settings
from sfdc.web import create_app
from tests.conftest import API_KEY, CONSUMER_KEY, USERNAME, KeyPair
from tests.deploy import free_port
from tests.emulated import emulator_config, stats
from tests.ops.invoke import sfdc
from tests.web.conftest import AUTH


def _serve(app: Flask, port: int = 0) -> tuple[Any, str]:
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    server, url = _serve(app)
    yield url
    server.shutdown()


# -- smoke ------------------------------------------------------------------------------


def test_smoke_passes_with_one_line_per_check_and_never_prints_a_token(
    app: Flask, live_url: str, tmp_path: Path
) -> None:
    report = tmp_path / "smoke.xml"
    result = sfdc("smoke", live_url, "--junit", str(report), env={"SFDC_SMOKE_API_KEY": API_KEY})
    assert result.exit_code == 0, result.stdout
    lines = result.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["PASS", "healthz"],
        ["PASS", "demo"],
        ["PASS", "token"],
        ["PASS", "connection"],
    ]
    assert all(line.endswith(" ms)") for line in lines)
    token = app.test_client().get("/token", headers=AUTH).get_json()["access_token"]
    assert token not in result.stdout
    suite = JUnitXml.fromfile(str(report))
    assert (suite.tests, suite.failures) == (4, 0)


def test_smoke_json_report(live_url: str) -> None:
    result = sfdc("smoke", live_url, "--json", "--api-key", API_KEY)
    report = json.loads(result.stdout)
    assert report["passed"] is True
    assert [c["name"] for c in report["checks"]] == ["healthz", "demo", "token", "connection"]


def test_smoke_without_a_key_skips_the_key_checks_unless_required(live_url: str) -> None:
    result = sfdc("smoke", live_url)
    assert result.exit_code == 0
    statuses = [line.split()[0] for line in result.stdout.splitlines()]
    assert statuses == ["PASS", "PASS", "SKIP", "SKIP"]
    required = sfdc("smoke", live_url, "--require-key", env={"SFDC_SMOKE_API_KEY": ""})
    assert required.exit_code == 1, "a CI secret that went missing must not pass green"
    assert required.stdout.count("FAIL") == 2


def test_smoke_asks_for_the_scheme() -> None:
    result = sfdc("smoke", "127.0.0.1:8080")
    assert result.exit_code == 2
    assert "https://127.0.0.1:8080" in result.stderr


def test_smoke_failure_carries_the_services_error_and_hint(
    keypair: KeyPair, seed_env: dict[str, str], tmp_path: Path
) -> None:
    config = emulator_config(keypair, usernames=("someone-else@example.com",))
    with running_emulator(config) as emulator:
        env = {**seed_env, "SFDC_LOGIN_URL": emulator.url, "SFDC_API_KEYS": API_KEY}
        server, url = _serve(create_app(load_settings(env)))
        try:
            report = tmp_path / "smoke.xml"
            result = sfdc("smoke", url, "--api-key", API_KEY, "--junit", str(report))
        finally:
            server.shutdown()
    assert result.exit_code == 1
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert any("token" in line and "invalid_grant" in line and "Hint:" in line for line in failed)
    suite = JUnitXml.fromfile(str(report))
    assert suite.failures >= 1


def test_smoke_waits_for_a_deploy_that_is_still_coming_up(app: Flask) -> None:
    port = free_port()
    started: list[Any] = []
    threading.Timer(1.5, lambda: started.append(_serve(app, port)[0])).start()
    try:
        result = sfdc("smoke", f"http://127.0.0.1:{port}", "--wait", "20")
    finally:
        deadline = time.monotonic() + 5
        while not started and time.monotonic() < deadline:
            time.sleep(0.1)
        for server in started:
            server.shutdown()
    assert result.exit_code == 0, result.stdout


def test_smoke_catches_a_service_that_leaks_to_anonymous_callers() -> None:
    leaky = Flask(__name__)

    @leaky.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @leaky.get("/")
    def demo() -> dict[str, Any]:
        return {
            "claim": "e30.e30",
            "signed_claim": "REDACTED",
            "target_payload": "REDACTED",
            "response_headers": {},
            "response_text": {"access_token": "00Dx!live"},
        }

    server, url = _serve(leaky)
    try:
        result = sfdc("smoke", url)
    finally:
        server.shutdown()
    assert result.exit_code == 1
    assert "FAIL  demo" in result.stdout
    assert "access token" in result.stdout


def test_smoke_against_nothing_fails_fast() -> None:
    started = time.monotonic()
    result = sfdc("smoke", f"http://127.0.0.1:{free_port()}", "--timeout", "2")
    assert result.exit_code == 1
    assert result.stdout.startswith("FAIL  healthz")
    statuses = [line.split()[0] for line in result.stdout.splitlines()]
    assert statuses == ["FAIL", "SKIP", "SKIP", "SKIP"], "every check reported, for CI's report"
    assert time.monotonic() - started < 30


# -- check and token ---------------------------------------------------------------------


@pytest.fixture
def operator_env(keypair: KeyPair, tmp_path: Path) -> dict[str, str]:
    (tmp_path / "key.pem").write_text(keypair.pkcs8)
    (tmp_path / "cert.pem").write_text(keypair.cert_pem)
    return {
        "SFDC_PRIVATE_KEY_FILE": str(tmp_path / "key.pem"),
        "SFDC_CERTIFICATE_FILE": str(tmp_path / "cert.pem"),
        "SFDC_CONSUMER_KEY": CONSUMER_KEY,
        "SFDC_USERNAME": USERNAME,
    }


def test_check_offline_reports_where_the_key_came_from_and_its_fingerprints(
    operator_env: dict[str, str], keypair: KeyPair
) -> None:
    result = sfdc("check", "--offline", env=operator_env)
    assert result.exit_code == 0, result.stdout
    names = [line.split()[1] for line in result.stdout.splitlines()]
    assert names[:6] == ["configuration", "key", "certificate", "login", "user", "service"]
    assert "SFDC_PRIVATE_KEY_FILE" in result.stdout
    assert "sha256:" in result.stdout
    assert "valid until" in result.stdout
    assert keypair.key_body[:40] not in result.stdout


def test_check_labels_a_warning_warn_and_still_passes(operator_env: dict[str, str]) -> None:
    on_cf_with_sqlite = {
        **operator_env,
        "VCAP_APPLICATION": '{"name": "sfdc-token-service"}',
        "SFDC_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "SFDC_CONSUMER_SECRET": "the-connected-apps-consumer-secret",
    }
    result = sfdc("check", "--offline", env=on_cf_with_sqlite)
    assert result.exit_code == 0, "the service starts with it, so check passes"
    (warned,) = [line for line in result.stdout.splitlines() if "lost when it restarts" in line]
    assert warned.startswith("warn  warning ")
    assert "bind a PostgreSQL service" in warned
    steps = json.loads(sfdc("check", "--offline", "--json", env=on_cf_with_sqlite).stdout)
    (step,) = [step for step in steps if "lost when it restarts" in step["detail"]]
    assert (step["status"], step["ok"]) == ("warn", True)
    assert {s["status"] for s in steps if s is not step} == {"ok"}


def test_check_logs_in_once_and_calls_the_identity_url(
    operator_env: dict[str, str], emulator: Any
) -> None:
    result = sfdc("check", env={**operator_env, "SFDC_LOGIN_URL": emulator.url})
    assert result.exit_code == 0, result.stdout
    assert "ok    exchange" in result.stdout
    assert "ok    identity       Connected to org" in result.stdout
    assert USERNAME in result.stdout
    assert stats(emulator.url)["token_requests"] == 1


def test_check_names_the_refusal_and_the_fix(
    operator_env: dict[str, str], keypair: KeyPair
) -> None:
    with running_emulator(emulator_config(keypair, usernames=("other@example.com",))) as refusing:
        result = sfdc("check", "--json", env={**operator_env, "SFDC_LOGIN_URL": refusing.url})
    assert result.exit_code == 1
    steps = json.loads(result.stdout)
    assert steps[-1]["name"] == "exchange"
    assert steps[-1]["ok"] is False
    assert "invalid_grant" in steps[-1]["detail"]
    assert "Fix:" in steps[-1]["detail"]


def test_check_with_bad_configuration_is_one_failing_line() -> None:
    result = sfdc("check", env={"SFDC_USERNAME": "u"})
    assert result.exit_code == 1
    assert result.stdout.count("\n") == 1
    assert result.stdout.startswith("FAIL  configuration")
    assert "Fix:" in result.stdout


def test_token_assertion_is_a_jwt_the_certificate_verifies_and_costs_no_login(
    operator_env: dict[str, str], keypair: KeyPair, emulator: Any
) -> None:
    result = sfdc("token", "--assertion", env={**operator_env, "SFDC_LOGIN_URL": emulator.url})
    assert result.exit_code == 0, result.stderr
    claims = jwt.decode(
        result.stdout.strip(),
        keypair.cert.public_key(),
        algorithms=["RS256"],
        audience="https://login.salesforce.com",
    )
    assert (claims["iss"], claims["sub"]) == (CONSUMER_KEY, USERNAME)
    assert stats(emulator.url)["token_requests"] == 0


def test_token_json_is_salesforces_response(operator_env: dict[str, str], emulator: Any) -> None:
    result = sfdc("token", "--json", env={**operator_env, "SFDC_LOGIN_URL": emulator.url})
    body = json.loads(result.stdout)
    assert body["access_token"].startswith("00D")
    assert body["instance_url"] == emulator.url
