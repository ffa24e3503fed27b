"""Key and certificate loading survives mangled PEM and refuses what cannot work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from sfdc.errors import ConfigError
from sfdc.settings import keys
from sfdc.telemetry.fingerprints import certificate_fingerprint
from tests.conftest import KeyPair, make_keypair


def _same(a: object, b: object) -> bool:
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return a.public_key().public_bytes(*spki) == b.public_key().public_bytes(*spki)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda pem: pem, id="intact"),
        pytest.param(lambda pem: pem.replace("\n", "\\n"), id="escaped-newlines"),
        pytest.param(lambda pem: pem.replace("\n", ""), id="newlines-lost"),
        pytest.param(lambda pem: pem.replace("\n", " "), id="newlines-as-spaces"),
        pytest.param(lambda pem: pem.replace("\n", "\r\n"), id="crlf"),
        pytest.param(lambda pem: "  " + pem.strip() + "  \n\n", id="padded"),
    ],
)
@pytest.mark.parametrize("form", ["pkcs8", "pkcs1"])
def test_private_key_loads_whatever_happened_to_newlines(
    keypair: KeyPair, form: str, mangle: object
) -> None:
    text = mangle(getattr(keypair, form))  # type: ignore[operator]
    assert _same(keys.load_private_key(text, source="test"), keypair.key)


def test_certificate_loads_with_escaped_newlines(keypair: KeyPair) -> None:
    cert = keys.load_certificate(keypair.cert_pem.replace("\n", "\\n"), source="test")
    assert cert == keypair.cert


def test_encrypted_key_is_refused_with_a_fix(keypair: KeyPair) -> None:
    encrypted = keypair.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    ).decode()
    with pytest.raises(ConfigError, match="encrypted") as caught:
        keys.load_private_key(encrypted, source="SFDC_PRIVATE_KEY")
    assert "openssl" in caught.value.hint
    assert encrypted.splitlines()[1] not in str(caught.value)


def test_garbage_is_described_not_echoed() -> None:
    secretish = "not-a-key-but-maybe-a-password-hunter2"
    with pytest.raises(ConfigError) as caught:
        keys.load_private_key(secretish, source="SFDC_PRIVATE_KEY")
    assert "no '-----BEGIN' line" in caught.value.description
    assert secretish not in str(caught.value)


def test_certificate_given_as_key_says_what_was_found(keypair: KeyPair) -> None:
    with pytest.raises(ConfigError, match="found a 'CERTIFICATE' block"):
        keys.load_private_key(keypair.cert_pem, source="SFDC_PRIVATE_KEY")


def test_truncated_key_is_refused(keypair: KeyPair) -> None:
    lines = keypair.pkcs8.splitlines()
    truncated = "\n".join([*lines[:5], lines[-1]])
    with pytest.raises(ConfigError, match="does not parse") as caught:
        keys.load_private_key(truncated, source="SFDC_PRIVATE_KEY")
    assert lines[2] not in str(caught.value)


def test_non_rsa_key_is_refused() -> None:
    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    with pytest.raises(ConfigError, match="not an RSA key"):
        keys.load_private_key(pem, source="test")


def test_key_that_does_not_match_its_certificate_is_refused(
    keypair: KeyPair, other_keypair: KeyPair
) -> None:
    with pytest.raises(ConfigError, match="do not belong together") as caught:
        keys.check_pair(keypair.key, other_keypair.cert, source="service 'x'")
    assert certificate_fingerprint(other_keypair.cert) in caught.value.description
    keys.check_pair(keypair.key, keypair.cert, source="service 'x'")  # the true pair passes


def test_expiry_is_a_warning_on_the_day_after_not_before() -> None:
    not_after = datetime(2026, 1, 1, tzinfo=UTC)
    pair = make_keypair(not_after=not_after)
    assert keys.expiry_warning(pair.cert, not_after - timedelta(seconds=1)) is None
    warning = keys.expiry_warning(pair.cert, not_after + timedelta(seconds=1))
    assert warning is not None
    assert "2026-01-01" in warning
