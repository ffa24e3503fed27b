"""What an admin sets up in Salesforce for the OAuth 2.0 JWT Bearer Flow.

Emulates the org-side setup described in Salesforce Help, "OAuth 2.0 JWT Bearer Flow for
Server-to-Server Integration": a connected app with a consumer key and an uploaded X.509
certificate, users pre-authorized for that app ("Admin approved users are pre-authorized"),
the org's login host (production or sandbox) and the session timeout from Session Settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

LOGIN_AUDIENCE = "https://login.salesforce.com"
SANDBOX_AUDIENCE = "https://test.salesforce.com"

# Salesforce's exact tolerance for an `exp` just in the past is undocumented. It accepts
# exp == now (CumulusCI sends no margin), so some allowance exists; 30 seconds absorbs
# whole-second truncation and request latency, yet still rejects a client whose clock or
# arithmetic is off by a minute or more.
EXP_SKEW = timedelta(seconds=30)

# The org default session timeout: 2 hours of inactivity (REST API Developer Guide,
# "Session expiration"). Access tokens live exactly as long as that session.
SESSION_TIMEOUT = timedelta(hours=2)

# The scope string in Salesforce's example JWT-bearer token response.
DEFAULT_SCOPE = "web openid api id"


def utc_now() -> datetime:
    """The real clock, aware UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class EmulatorConfig:
    """One emulated org with one connected app.

    `certificate_pem` is the certificate "uploaded to the connected app"; its public key
    verifies assertion signatures and, as in Salesforce, its validity dates are ignored.
    `consumer_secret` enables token introspection and the `signature` field of token
    responses. `clock` must return aware UTC datetimes; tests pass a fake one.
    """

    consumer_key: str
    certificate_pem: bytes = field(repr=False)
    usernames: tuple[str, ...]
    audience: str = LOGIN_AUDIENCE
    consumer_secret: str | None = field(default=None, repr=False)
    exp_skew: timedelta = EXP_SKEW
    session_timeout: timedelta = SESSION_TIMEOUT
    scope: str = DEFAULT_SCOPE
    clock: Callable[[], datetime] = utc_now
    public_key: RSAPublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.consumer_key:
            raise ValueError("consumer_key must not be empty")
        if self.exp_skew < timedelta(0):
            raise ValueError("exp_skew must not be negative")
        if self.session_timeout <= timedelta(0):
            raise ValueError("session_timeout must be positive")
        if self.clock().utcoffset() != timedelta(0):
            raise ValueError("clock must return aware UTC datetimes")
        # A list is an easy mistake; freeze it so the config stays hashable and immutable.
        object.__setattr__(self, "usernames", tuple(self.usernames))
        try:
            certificate = x509.load_pem_x509_certificate(self.certificate_pem)
        except ValueError as error:
            raise ValueError("certificate_pem is not a PEM X.509 certificate") from error
        key = certificate.public_key()
        if not isinstance(key, RSAPublicKey):
            raise ValueError("the connected app certificate must hold an RSA public key")
        object.__setattr__(self, "public_key", key)
