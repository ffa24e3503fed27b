"""The JWT bearer assertion: claims and RS256 signature.

Implements the assertion of Salesforce's "OAuth 2.0 JWT Bearer Flow for
Server-to-Server Integration" (RFC 7523): header ``{"alg": "RS256"}``, claims
``iss`` (consumer key), ``sub`` (username), ``aud`` (authorization server) and
``exp``. ``claims`` is pure; ``Signer`` holds a key parsed once per process,
because parsing the PEM is most of the cost of signing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

# Salesforce documents exp as "within 3 minutes"; a longer-lived assertion is
# only a longer-lived secret if it leaks.
ASSERTION_LIFETIME = timedelta(minutes=3)

# Salesforce accepts an assertion somewhat past its exp (the tolerance is not
# documented; research §1.3), and our clock may run ahead of Salesforce's. An
# assertion counts as a live credential until this long after exp.
LIVE_AFTER_EXP = timedelta(minutes=5)


def claims(now: datetime, *, issuer: str, subject: str, audience: str) -> dict[str, Any]:
    """The claim set for an assertion built at ``now`` (aware UTC)."""
    expires = now + ASSERTION_LIFETIME
    # Round down: rounding up could put exp a fraction past the 3-minute limit.
    return {"iss": issuer, "sub": subject, "aud": audience, "exp": int(expires.timestamp())}


@dataclass(frozen=True)
class Assertion:
    """A signed assertion, split the way the demo page shows it.

    ``claim`` is the base64url header and payload, ``signature`` the base64url
    RS256 signature, ``token`` the whole compact JWT that is posted.
    """

    claim: str
    signature: str = field(repr=False)
    token: str = field(repr=False)
    expires_at: datetime

    def is_live(self, now: datetime) -> bool:
        """Whether Salesforce could still accept it: a live assertion is a credential."""
        return now < self.expires_at + LIVE_AFTER_EXP


class Signer:
    """Signs claim sets with one RSA key, parsed before the first request."""

    def __init__(self, private_key: rsa.RSAPrivateKey) -> None:
        self._key = private_key

    def __repr__(self) -> str:
        return f"Signer(key_size={self._key.key_size})"

    def sign(self, claim_set: dict[str, Any]) -> Assertion:
        token = jwt.encode(claim_set, self._key, algorithm="RS256")
        claim, _, signature = token.rpartition(".")
        return Assertion(
            claim=claim,
            signature=signature,
            token=token,
            expires_at=datetime.fromtimestamp(int(claim_set["exp"]), UTC),
        )
