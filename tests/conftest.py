"""Shared fixtures: real RSA keys and certificates, VCAP documents, settings.

Keys are generated here with ``cryptography`` (not with our keygen), so tests
of our loading and signing code do not lean on our own key-making code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.db_support import database_url, postgres_url, sqlite_url  # noqa: F401 - fixtures
from tests.redis_support import private_redis, shared_redis  # noqa: F401 - fixtures

CONSUMER_KEY = "3MVG9test.consumer.key"
USERNAME = "integration@example.com"
API_KEY = "test-api-key-0123456789abcdef"
# Fernet keys (32 bytes, url-safe base64); made for these tests only.
ENCRYPTION_KEY = "dGVzdC1lbmNyeXB0aW9uLWtleS0wMTIzNDU2Nzg5YWI="
OLD_ENCRYPTION_KEY = "b2xkLWVuY3J5cHRpb24ta2V5LTAxMjM0NTY3ODlhYmM="
CONSUMER_SECRET = "test-consumer-secret-0123456789"


@dataclass(frozen=True)
class KeyPair:
    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @property
    def pkcs8(self) -> str:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    @property
    def pkcs1(self) -> str:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ).decode()

    @property
    def cert_pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def key_body(self) -> str:
        """The base64 body of the key: what must never appear in output."""
        return "".join(self.pkcs8.strip().splitlines()[1:-1])


def make_keypair(not_after: datetime | None = None) -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=400))
        .not_valid_after(not_after or now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return KeyPair(key, cert)


@pytest.fixture(scope="session")
def keypair() -> KeyPair:
    return make_keypair()


@pytest.fixture(scope="session")
def other_keypair() -> KeyPair:
    return make_keypair()


def seed_vcap(pair: KeyPair, **extra_credentials: Any) -> str:
    """The seed's binding: service demo-credhub, credential demo-certificate under value."""
    credentials: dict[str, Any] = {
        "demo-certificate": {
            "value": {"ca": pair.cert_pem, "certificate": pair.cert_pem, "private_key": pair.pkcs8}
        },
        **extra_credentials,
    }
    return json.dumps(
        {
            "credhub": [
                {
                    "name": "demo-credhub",
                    "instance_name": "demo-credhub",
                    "binding_name": None,
                    "label": "credhub",
                    "plan": "default",
                    "tags": ["credhub"],
                    "credentials": credentials,
                }
            ]
        }
    )


@pytest.fixture
def seed_env(keypair: KeyPair) -> dict[str, str]:
    return {
        "VCAP_SERVICES": seed_vcap(keypair),
        "SFDC_CONSUMER_KEY": CONSUMER_KEY,
        "SFDC_USERNAME": USERNAME,
    }


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))


class FakeClock:
    """A clock tests move by hand: no sleeping, no flakiness."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta
