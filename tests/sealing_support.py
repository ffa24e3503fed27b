"""Sealed values read as ``sfdc/tokens/sealing.py``'s docstring documents them.

Written from the documented format, not from the module's code, so a test
that reads through here fails if the code stops writing what operators and
later releases were promised.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ENCRYPTION_KEY_INFO = b"sfdc-token-service/sealing-key/v2/encryption-key"


def derived_key(fernet_key: str) -> bytes:
    """The AES-256 key an ``SFDC_ENCRYPTION_KEY`` entry stands for."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=ENCRYPTION_KEY_INFO)
    return hkdf.derive(base64.urlsafe_b64decode(fernet_key))


def documented_key_id(fernet_key: str) -> str:
    return hashlib.sha256(derived_key(fernet_key)).hexdigest()[:8]


def open_binary(sealed: bytes, key: bytes, place: bytes) -> bytes:
    """header ``s2.<id>.``, then a 12-byte nonce, then AES-GCM ciphertext and tag."""
    header, nonce, ciphertext = sealed[:12], sealed[12:24], sealed[24:]
    assert header == b"s2." + hashlib.sha256(key).hexdigest()[:8].encode() + b"."
    return AESGCM(key).decrypt(nonce, ciphertext, header + place)


def open_column(text: str, fernet_key: str, *, name: str, purpose: str) -> str:
    """A database value: the header, then base64url (unpadded) of nonce and ciphertext."""
    header, body = text[:12], text[12:]
    binary = header.encode() + base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    place = b"database\x00" + purpose.encode() + b"\x00" + name.encode()
    return open_binary(binary, derived_key(fernet_key), place).decode()
