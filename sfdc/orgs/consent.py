"""The two secrets of a connect link: the signed ``state`` and the PKCE pair.

``state`` is what lets a browser into the callback without an account on
this service: a random nonce and an expiry, signed (itsdangerous, HMAC-SHA1
over a key derived from ``SFDC_ENCRYPTION_KEY``). A forged or altered state
fails the signature; an old one fails the expiry; a replayed one finds its
nonce already taken from the database (``ConnectionStore.take_request``).

PKCE (research §3): the verifier is 64 random bytes in base64url (86
characters, inside RFC 7636's 43-128), kept sealed in the database, never in
the browser; the challenge is the unpadded base64url SHA-256 of it.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from itsdangerous import BadSignature, URLSafeSerializer

from sfdc.errors import InvalidState, StateExpired

# Long enough to log in (with MFA) and read the consent page; short enough
# that a link found in a chat log later is useless.
STATE_LIFETIME = timedelta(minutes=15)
_INFO = b"sfdc-token-service/connect-state/v1"


def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge)."""
    verifier = secrets.token_urlsafe(64)
    return verifier, challenge(verifier)


def challenge(verifier: str) -> str:
    """The S256 challenge of ``verifier``."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _state_key(fernet_key: str) -> bytes:
    material = base64.urlsafe_b64decode(fernet_key)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(material)


class StateSigner:
    def __init__(self, keys: tuple[str, ...]) -> None:
        # itsdangerous signs with the last key and accepts any: newest last.
        derived = [_state_key(k) for k in reversed(keys)]
        self._serializer = URLSafeSerializer(derived, salt="connect-state")

    def __repr__(self) -> str:
        return "StateSigner()"

    def issue(self, now: datetime) -> tuple[str, str, datetime]:
        """(state, nonce, expires_at) for a new connect link."""
        nonce = secrets.token_urlsafe(32)
        expires_at = now + STATE_LIFETIME
        return self.state(nonce, expires_at), nonce, expires_at

    def state(self, nonce: str, expires_at: datetime) -> str:
        """The state ``issue`` made for ``nonce`` (signing is deterministic): to rebuild a
        pending link's authorize URL from its stored request."""
        return self._serializer.dumps({"nonce": nonce, "exp": int(expires_at.timestamp())})

    def nonce(self, state: str, now: datetime) -> str:
        """The nonce of a state this service signed and that has not expired."""
        try:
            document = self._serializer.loads(state)
        except BadSignature:
            document = None
        if (
            not isinstance(document, dict)
            or not isinstance(document.get("nonce"), str)
            or not isinstance(document.get("exp"), int)
        ):
            raise InvalidState(
                "This callback's state was not issued by this service, or was altered; "
                "nothing was stored."
            )
        if now >= datetime.fromtimestamp(document["exp"], UTC):
            raise StateExpired("This connect link has expired; nothing was stored.")
        nonce: str = document["nonce"]
        return nonce
