"""Constants and small helpers shared by the emulator's tests (fixtures live in conftest)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID

CONSUMER_KEY = "3MVG9_emulator_test_consumer_key"
CONSUMER_SECRET = "emulator-test-consumer-secret"
ALICE = "alice.smith@example.com"
BOB = "bob@example.com"
STRANGER = "mallory@example.com"
LOGIN = "https://login.salesforce.com"
TEST = "https://test.salesforce.com"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
START = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)


class FakeClock:
    """A clock tests move by hand; returns aware UTC like the real one."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta

    def epoch(self) -> int:
        return int(self.now.timestamp())


def make_certificate_pem(
    key: CertificateIssuerPrivateKeyTypes, not_before: datetime, not_after: datetime
) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "emulator-test")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


def post_token(http: requests.Session, url: str, assertion: str) -> requests.Response:
    return http.post(
        f"{url}/services/oauth2/token",
        data={"grant_type": JWT_BEARER, "assertion": assertion},
        timeout=10,
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
