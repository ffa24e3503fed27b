"""``python -m sfdc keygen``: files a person can upload and bind, and that the service loads."""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
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
    # once the consumer secret is in it (--consumer-secret-stdin, or by hand).
    credentials = json.loads((tmp_path / "credhub-service.json").read_text())
    credentials["consumer_secret"] = "the-connected-apps-consumer-secret"
    settings = load_settings(_vcap(credentials))
    assert settings.consumer_key == "3MVGkey"
    assert settings.username == "api@example.com"
    assert settings.key_source == "service 'demo-credhub', credential 'demo-certificate'"
    assert settings.api_keys == {credentials["api_keys"]}
    # The named-key form: a recognizable prefix for scanners, accepted by the sf CLI.
    assert re.fullmatch(r"00Dsfk[a-z2-7]{10}![A-Za-z0-9]{43}", credentials["api_keys"])
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


_FILES = ("private_key.pem", "certificate.pem", "credhub-service.json")
CONSUMER_SECRET = "8F1E5A0C2B7D4E6F9A3C5B7D1E2F4A6C8E0B2D4F6A8C0E2B4D6F8A0C2E4B6D8F"


def test_keygen_takes_the_consumer_secret_from_stdin_and_never_shows_it(tmp_path: Path) -> None:
    piped = CONSUMER_SECRET + "\n"
    result = sfdc("keygen", "--out", str(tmp_path), "--consumer-secret-stdin", stdin=piped)
    assert result.exit_code == 0, result.stderr
    assert CONSUMER_SECRET not in result.stdout + result.stderr
    assert "--consumer-secret-stdin" not in result.stdout, "no step left to add it"
    credentials = json.loads((tmp_path / "credhub-service.json").read_text())
    assert credentials["consumer_secret"] == CONSUMER_SECRET
    assert stat.S_IMODE((tmp_path / "credhub-service.json").stat().st_mode) == 0o600
    settings = load_settings({**_vcap(credentials), "SFDC_CONSUMER_KEY": "k", "SFDC_USERNAME": "u"})
    assert settings.consumer_secret == CONSUMER_SECRET
    assert settings.connections_enabled


def test_keygen_adds_the_consumer_secret_to_the_files_it_wrote_before(tmp_path: Path) -> None:
    # The connected app shows its secret only once saved with the certificate made here.
    first = sfdc("keygen", "--out", str(tmp_path), "--api-key")
    assert f"python -m sfdc keygen --out {tmp_path} --consumer-secret-stdin" in first.stdout
    before = {name: (tmp_path / name).read_text() for name in _FILES}
    result = sfdc(
        "keygen", "--out", str(tmp_path), "--consumer-secret-stdin", stdin=CONSUMER_SECRET
    )
    assert result.exit_code == 0, result.stderr
    assert "the key pair is unchanged" in result.stdout
    assert CONSUMER_SECRET not in result.stdout + result.stderr
    assert (tmp_path / "private_key.pem").read_text() == before["private_key.pem"]
    assert (tmp_path / "certificate.pem").read_text() == before["certificate.pem"]
    credentials = json.loads((tmp_path / "credhub-service.json").read_text())
    assert credentials == {
        **json.loads(before["credhub-service.json"]),
        "consumer_secret": CONSUMER_SECRET,
    }
    assert stat.S_IMODE((tmp_path / "credhub-service.json").stat().st_mode) == 0o600
    assert load_settings(
        {**_vcap(credentials), "SFDC_CONSUMER_KEY": "k", "SFDC_USERNAME": "u"}
    ).connections_enabled


@pytest.mark.parametrize(
    ("stdin", "problem"),
    [
        ("", "no consumer secret"),
        ("\n  \n", "no consumer secret"),
        ("first-half second-half\n", "one line"),
        ("first-line\nsecond-line\n", "one line"),
    ],
)
def test_keygen_refuses_stdin_that_is_not_one_secret(
    tmp_path: Path, stdin: str, problem: str
) -> None:
    assert sfdc("keygen", "--out", str(tmp_path)).exit_code == 0
    before = (tmp_path / "credhub-service.json").read_text()
    result = sfdc("keygen", "--out", str(tmp_path), "--consumer-secret-stdin", stdin=stdin)
    assert result.exit_code == 1
    assert problem in result.stderr
    assert not any(word in result.stderr for word in stdin.split())
    assert (tmp_path / "credhub-service.json").read_text() == before


def test_keygen_adding_a_secret_will_not_quietly_drop_other_options(tmp_path: Path) -> None:
    assert sfdc("keygen", "--out", str(tmp_path)).exit_code == 0
    before = (tmp_path / "credhub-service.json").read_text()
    result = sfdc(
        "keygen", "--out", str(tmp_path), "--consumer-secret-stdin", "--api-key", stdin="s3cr3t"
    )
    assert result.exit_code == 1
    assert "--force" in result.stderr
    assert (tmp_path / "credhub-service.json").read_text() == before


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
