"""``python -m sfdc keygen``: files a person can upload and bind, and that the service loads."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from sfdc.ops.keygen import KeyPair, credhub_json
from sfdc.settings.settings import load_settings
from tests.deploy import ROOT
from tests.ops.invoke import sfdc


def test_keygen_writes_a_bindable_pair_and_says_what_to_do(tmp_path: Path) -> None:
    result = sfdc(
        "keygen",
        "--out",
        str(tmp_path),
        "--consumer-key",
        "3MVGkey",
        "--username",
        "api@example.com",
        "--api-key",
    )
    assert result.exit_code == 0, result.stderr
    assert "cf create-service credhub default demo-credhub -c" in result.stdout
    assert "certificate.pem" in result.stdout
    assert "digital signatures" in result.stdout
    assert "PRIVATE KEY" not in result.stdout
    for secret in ("private_key.pem", "credhub-service.json"):
        assert stat.S_IMODE((tmp_path / secret).stat().st_mode) == 0o600
    # What `cf create-service ... -c` stores is what the app then sees in VCAP_SERVICES,
    # once the person has added the consumer secret, as the README's deploy guide says.
    credentials = json.loads((tmp_path / "credhub-service.json").read_text())
    credentials["consumer_secret"] = "the-connected-apps-consumer-secret"
    settings = load_settings(_vcap(credentials))
    assert settings.consumer_key == "3MVGkey"
    assert settings.username == "api@example.com"
    assert settings.key_source == "service 'demo-credhub', credential 'demo-certificate'"
    assert settings.api_keys == {credentials["api_keys"]}
    assert settings.encryption_keys == (credentials["encryption_key"],)
    assert settings.connections_enabled
    Fernet(credentials["encryption_key"])  # a usable Fernet key
    for secret in (credentials["api_keys"], credentials["encryption_key"]):
        assert secret not in result.stdout


def _vcap(credentials: dict[str, object]) -> dict[str, str]:
    vcap = {"credhub": [{"name": "demo-credhub", "label": "credhub", "credentials": credentials}]}
    return {"VCAP_SERVICES": json.dumps(vcap)}


def test_keygen_json_starts_jwt_only_until_the_consumer_secret_is_added(tmp_path: Path) -> None:
    assert (
        sfdc("keygen", "--out", str(tmp_path), "--consumer-key", "k", "--username", "u").exit_code
        == 0
    )
    credentials = json.loads((tmp_path / "credhub-service.json").read_text())
    assert set(credentials) == {"demo-certificate", "consumer_key", "username", "encryption_key"}
    settings = load_settings(_vcap(credentials))
    assert not settings.connections_enabled
    warnings = " ".join(settings.warnings)
    assert "SFDC_CONSUMER_SECRET" in warnings
    assert credentials["encryption_key"] not in warnings


def test_keygen_makes_a_new_encryption_key_each_time(tmp_path: Path) -> None:
    assert sfdc("keygen", "--out", str(tmp_path)).exit_code == 0
    first = json.loads((tmp_path / "credhub-service.json").read_text())["encryption_key"]
    assert sfdc("keygen", "--out", str(tmp_path), "--force").exit_code == 0
    second = json.loads((tmp_path / "credhub-service.json").read_text())["encryption_key"]
    assert first != second
    assert stat.S_IMODE((tmp_path / "credhub-service.json").stat().st_mode) == 0o600


def test_credhub_json_keeps_a_given_encryption_key() -> None:
    key = Fernet.generate_key().decode()
    pair = KeyPair(private_key_pem="key", certificate_pem="cert")
    document = json.loads(credhub_json(pair, credential="c", encryption_key=key))
    assert document["encryption_key"] == key
    assert document["c"]["value"]["private_key"] == "key"


def test_keygen_will_not_overwrite_a_key(tmp_path: Path) -> None:
    assert sfdc("keygen", "--out", str(tmp_path)).exit_code == 0
    key = (tmp_path / "private_key.pem").read_text()
    again = sfdc("keygen", "--out", str(tmp_path))
    assert again.exit_code != 0
    assert "--force" in again.stderr
    assert (tmp_path / "private_key.pem").read_text() == key


def test_token_command_reports_bad_configuration_in_one_line(tmp_path: Path) -> None:
    # The one test of the real entry point, sfdc/__main__.py, as a process of its own.
    result = subprocess.run(
        [sys.executable, "-m", "sfdc", "token"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "SFDC_USERNAME": "u"},
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr
