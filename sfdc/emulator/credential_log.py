"""Which credentials reached the emulator that it never issued (a test knob, not Salesforce).

A token service must never forward its callers' own secrets (API keys, basic-auth
passwords) to Salesforce. To let a test prove that, every request's `Authorization` and
`X-SFDC-Session` headers and `oauth_token` parameter are checked against the access
tokens this emulator has ever issued, expired or revoked ones included; anything else is
recorded here with its raw value (this is a test-only emulator, so raw values are fine)
and served by `GET /_emulator/credentials-seen`.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

# The places a Salesforce client puts an access token (REST, Bulk API 1.0, identity URL).
CREDENTIAL_HEADERS = ("Authorization", "X-SFDC-Session")
CREDENTIAL_PARAMETER = "oauth_token"

_TOKEN_SCHEMES = ("bearer", "oauth")


@dataclass(frozen=True)
class SeenCredential:
    """One credential the emulator never issued: where it came and its raw value."""

    source: str
    value: str
    path: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_of(value: str) -> str:
    """The token inside a header value: `Bearer x` / `OAuth x` give `x`, else the value."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() in _TOKEN_SCHEMES and rest.strip():
        return rest.strip()
    return value.strip()


class CredentialLog:
    """Thread-safe memory of issued tokens (as digests) and of unknown credentials."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._issued: set[str] = set()
        self._unknown: list[SeenCredential] = []

    def remember_issued(self, access_token: str) -> None:
        with self._lock:
            self._issued.add(_digest(access_token))

    def check(self, presented: Iterable[tuple[str, str]], path: str) -> None:
        """Record each `(source, raw value)` whose token was never issued here."""
        for source, value in presented:
            known = _digest(token_of(value))
            with self._lock:
                if known not in self._issued:
                    self._unknown.append(SeenCredential(source, value, path))

    @property
    def unknown_count(self) -> int:
        with self._lock:
            return len(self._unknown)

    def unknown(self) -> list[SeenCredential]:
        with self._lock:
            return list(self._unknown)

    def reset(self) -> None:
        """Forget what was seen. Issued tokens stay known: a token from before a reset is
        still one the emulator issued, not a leaked secret."""
        with self._lock:
            self._unknown.clear()
