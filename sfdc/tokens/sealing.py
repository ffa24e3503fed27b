"""Sealing cache entries so that a reader of Redis gets nothing usable.

AES-256-GCM with a key derived by HKDF-SHA256 from the signing key. Every
instance of the service is bound to the same CredHub credential, so every
instance derives the same cache key without another secret to distribute;
rotating the signing key rotates the cache key, and old entries simply stop
opening. The Redis key name is bound in as associated data, so an entry
cannot be replayed under another name.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"sfdc-token-service/cache-key/v1"
_NONCE_BYTES = 12  # GCM's standard nonce; random per entry


class Sealer:
    """Encrypts and authenticates cache entries with a key derived from the signing key."""

    def __init__(self, private_key: rsa.RSAPrivateKey) -> None:
        material = private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(material)
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return "Sealer(AES-256-GCM)"

    def seal(self, plaintext: bytes, *, context: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, context)

    def open(self, sealed: bytes, *, context: bytes) -> bytes | None:
        """The plaintext, or None for anything not sealed by this key under this context."""
        if len(sealed) <= _NONCE_BYTES:
            return None
        try:
            return self._aead.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], context)
        except InvalidTag:
            return None
