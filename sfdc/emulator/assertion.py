"""Checks a JWT bearer assertion the way Salesforce's token endpoint does.

Emulates "OAuth 2.0 JWT Bearer Flow for Server-to-Server Integration" (Salesforce Help) and
the error strings Salesforce is observed to return for it. The checks run in the order a
server must do them: parse, look at `alg`, find the connected app by `iss` (its certificate
is needed to check the signature), verify the signature, then `aud`, `exp` and the user.
Salesforce does not document the order of the last three; this order is a choice.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.hashes import SHA256

from .config import EmulatorConfig

# The only algorithm Salesforce documents for the assertion ("SHA256 with RSA").
SIGNING_ALGORITHM = "RS256"

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_NUMERIC = re.compile(r"-?[0-9]+(\.[0-9]+)?")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

INVALID_ASSERTION = "invalid assertion"
CLIENT_IDENTIFIER_INVALID = "client identifier invalid"
AUDIENCE_INVALID = "audience is invalid"
EXPIRED = "expired authorization code"
NOT_APPROVED = "user hasn't approved this consumer"


class GrantError(Exception):
    """A token request Salesforce would refuse, with its `error`/`error_description`."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


def _invalid() -> GrantError:
    return GrantError("invalid_grant", INVALID_ASSERTION)


def _b64url_decode(segment: str) -> bytes:
    if not _BASE64URL.fullmatch(segment):
        raise _invalid()
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise _invalid() from None


def _json_object(segment: str) -> dict[str, Any]:
    try:
        value = json.loads(_b64url_decode(segment))
    except (UnicodeDecodeError, ValueError):
        raise _invalid() from None
    if not isinstance(value, dict):
        raise _invalid()
    return value


def _expiry(claims: dict[str, Any]) -> datetime:
    """`exp` as a JSON number or a numeric string (both occur in practice), in seconds."""
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float | str):
        raise _invalid()
    if isinstance(exp, str) and not _NUMERIC.fullmatch(exp):
        raise _invalid()
    seconds = float(exp)
    if not math.isfinite(seconds):
        raise _invalid()
    if seconds <= 0:
        return EPOCH
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        # Beyond what datetime can hold (e.g. milliseconds sent as seconds, times 1000):
        # still "far future", which Salesforce accepts.
        return datetime.max.replace(tzinfo=UTC)


def _subject(claims: dict[str, Any]) -> str:
    """The username: `prn` (the older name) wins over `sub` when both are present."""
    subject = claims["prn"] if "prn" in claims else claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise _invalid()
    return subject


def verify_assertion(assertion: str, config: EmulatorConfig, now: datetime) -> str:
    """Return the username an assertion authenticates, or raise `GrantError`."""
    parts = assertion.split(".")
    if len(parts) != 3 or not all(parts):
        raise _invalid()
    header_segment, payload_segment, signature_segment = parts
    header = _json_object(header_segment)
    claims = _json_object(payload_segment)
    if header.get("alg") != SIGNING_ALGORITHM:
        raise _invalid()
    if claims.get("iss") != config.consumer_key:
        raise GrantError("invalid_client_id", CLIENT_IDENTIFIER_INVALID)
    signed = f"{header_segment}.{payload_segment}".encode("ascii")
    try:
        config.public_key.verify(_b64url_decode(signature_segment), signed, PKCS1v15(), SHA256())
    except InvalidSignature:
        raise _invalid() from None
    # Exact match: whether Salesforce tolerates a trailing slash or a list is unconfirmed.
    if claims.get("aud") != config.audience:
        raise GrantError("invalid_grant", AUDIENCE_INVALID)
    if now - config.exp_skew > _expiry(claims):
        raise GrantError("invalid_grant", EXPIRED)
    username = _subject(claims)
    if username not in config.usernames:
        raise GrantError("invalid_grant", NOT_APPROVED)
    return username
