r"""Sealing what the service keeps at rest, so a reader of Redis or the database gets nothing.

One scheme for both stores: AES-256-GCM under an ordered keyring, in a
versioned envelope that names the key beside the value::

    header = b"s2." + key_id + b"."              (key_id: 8 hex digits)
    binary = header + nonce + ciphertext_and_tag (nonce: 12 random bytes)
    text   = header + base64url(nonce + ciphertext_and_tag), unpadded

Redis entries are stored in the binary form (``CacheSealer``); database
columns, which are text, in the text form (``ColumnSealer``). The associated
data is ``header + place``, the place saying where the value lives:
``b"redis\0" + key name`` in Redis, ``b"database\0" + purpose + b"\0" + row
name`` in the database (purpose: ``refresh_token``, ``access_token`` or
``code_verifier``). A value copied to another key, row or column does not
open there, and neither does one whose header was edited.

Keys. The first key of a ``Keyring`` seals; a value is opened by the key its
id names, never by trying every key. Each ``SFDC_ENCRYPTION_KEY`` entry (a
Fernet key, as operators were given) yields a 256-bit key through HKDF-SHA256
(no salt; info ``sfdc-token-service/sealing-key/v2/encryption-key``; input
the entry's 32 decoded bytes). The signing key yields one the same way (info
``.../v2/signing-key``, input its PKCS#8 DER), so a deployment without an
encryption key still seals its Redis entries without another secret to hand
out. The key id is the first 8 hex digits of the SHA-256 of the derived key:
the same key has the same id on every instance and after every restart, and
the id tells nothing about the key.

Which key seals Redis entries: the first encryption key when the settings
hold one (connected orgs on), because that is the key kept for data at rest
and rotating it should move everything at rest; else the signing key's. The
signing key's opens in both cases, so turning connected orgs on keeps the
cache. The database never uses the signing key's: it depends on one secret.

Formats written by earlier releases are still opened, never written: Redis
entries sealed as ``nonce + ciphertext`` under HKDF(signing key,
``cache-key/v1``) with the key name as associated data, and database values
that are Fernet tokens of ``{"name", "purpose", "secret"}``. A value that
carries the ``s2.`` header is only ever read as the current format.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Iterable, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_MAGIC = b"s2."
_KEY_ID_CHARS = 8  # 32 bits: enough to tell a handful of keys apart, see Keyring
_HEADER_BYTES = len(_MAGIC) + _KEY_ID_CHARS + 1
_NONCE_BYTES = 12  # GCM's standard nonce; random per value
_TAG_BYTES = 16
_HEX = frozenset(b"0123456789abcdef")
_FROM_ENCRYPTION_KEY = b"sfdc-token-service/sealing-key/v2/encryption-key"
_FROM_SIGNING_KEY = b"sfdc-token-service/sealing-key/v2/signing-key"
_LEGACY_CACHE_KEY = b"sfdc-token-service/cache-key/v1"


def _derive(material: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(material)


def _signing_material(private_key: rsa.RSAPrivateKey) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


class SealingKey:
    """One AES-256-GCM key and its id; the key itself is never shown."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("a sealing key is 32 bytes")
        self._digest = hashlib.sha256(key).hexdigest()
        self.key_id = self._digest[:_KEY_ID_CHARS]
        self.aead = AESGCM(key)

    @classmethod
    def from_encryption_key(cls, fernet_key: str) -> SealingKey:
        """The key derived from one ``SFDC_ENCRYPTION_KEY`` entry (url-safe base64, 32 bytes)."""
        return cls(_derive(base64.urlsafe_b64decode(fernet_key), _FROM_ENCRYPTION_KEY))

    @classmethod
    def from_signing_key(cls, private_key: rsa.RSAPrivateKey) -> SealingKey:
        return cls(_derive(_signing_material(private_key), _FROM_SIGNING_KEY))

    def same_key(self, other: SealingKey) -> bool:
        return self._digest == other._digest

    def __repr__(self) -> str:
        return f"SealingKey({self.key_id})"


def key_id_of(sealed: bytes | str) -> str | None:
    """The id in a value's header (binary or text form), or None if it has none."""
    head = sealed[:_HEADER_BYTES]
    raw = head.encode("ascii", "replace") if isinstance(head, str) else head
    if len(raw) != _HEADER_BYTES or not raw.startswith(_MAGIC) or raw[-1:] != b".":
        return None
    key_id = raw[len(_MAGIC) : -1]
    return key_id.decode("ascii") if set(key_id) <= _HEX else None


class Keyring:
    """Ordered keys: the first seals, each opens the values that carry its id.

    The same key listed twice counts once; two different keys whose ids
    collide (a 1-in-4-billion chance per pair) are refused rather than guessed
    between.
    """

    def __init__(self, keys: Iterable[SealingKey]) -> None:
        self._keys: dict[str, SealingKey] = {}
        for key in keys:
            known = self._keys.setdefault(key.key_id, key)
            if not known.same_key(key):
                raise ValueError(f"two keys share the id {key.key_id}; replace one of them")
        if not self._keys:
            raise ValueError("a keyring needs at least one key")
        self.sealing_id = next(iter(self._keys))

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def __repr__(self) -> str:
        return f"Keyring({', '.join(self._keys)})"

    def seal(self, plaintext: bytes, *, place: bytes) -> bytes:
        """The binary envelope of ``plaintext``, under the first key, bound to ``place``."""
        header = _MAGIC + self.sealing_id.encode("ascii") + b"."
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._keys[self.sealing_id].aead.encrypt(nonce, plaintext, header + place)
        return header + nonce + sealed

    def open(self, sealed: bytes, *, place: bytes) -> bytes | None:
        """The plaintext, or None unless a key here sealed it, unaltered, for ``place``."""
        key_id = key_id_of(sealed)
        key = self._keys.get(key_id) if key_id else None
        if key is None or len(sealed) < _HEADER_BYTES + _NONCE_BYTES + _TAG_BYTES:
            return None
        header, nonce = sealed[:_HEADER_BYTES], sealed[_HEADER_BYTES:][:_NONCE_BYTES]
        try:
            return key.aead.decrypt(nonce, sealed[_HEADER_BYTES + _NONCE_BYTES :], header + place)
        except InvalidTag:
            return None


def to_text(sealed: bytes) -> str:
    """The text form of a binary envelope: the header as is, the rest in base64url."""
    body = base64.urlsafe_b64encode(sealed[_HEADER_BYTES:]).rstrip(b"=")
    return (sealed[:_HEADER_BYTES] + body).decode("ascii")


def from_text(text: str) -> bytes | None:
    """The binary envelope behind a text form, or None if it is not one."""
    if key_id_of(text) is None or not text.isascii():
        return None
    body = text[_HEADER_BYTES:]
    try:
        decoded = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        return None
    binary = text[:_HEADER_BYTES].encode("ascii") + decoded
    return binary if to_text(binary) == text else None  # one spelling per value


class CacheSealer:
    """Redis entries: binary envelopes, bound to the entry's key name.

    Keys, in order: the ``SFDC_ENCRYPTION_KEY`` entries, then the signing
    key's. Entries written by earlier releases (no header) open with the
    signing key's ``cache-key/v1`` key.
    """

    def __init__(self, private_key: rsa.RSAPrivateKey, encryption_keys: Sequence[str] = ()) -> None:
        self.keyring = Keyring(
            [
                *(SealingKey.from_encryption_key(k) for k in encryption_keys),
                SealingKey.from_signing_key(private_key),
            ]
        )
        self._legacy = AESGCM(_derive(_signing_material(private_key), _LEGACY_CACHE_KEY))

    def __repr__(self) -> str:
        return f"CacheSealer({self.keyring!r})"

    def seal(self, plaintext: bytes, *, context: bytes) -> bytes:
        """``plaintext`` sealed for the Redis key named ``context``."""
        return self.keyring.seal(plaintext, place=b"redis\x00" + context)

    def open(self, sealed: bytes, *, context: bytes) -> bytes | None:
        """The plaintext, or None for anything not sealed by these keys for this key name."""
        if key_id_of(sealed) is not None:
            return self.keyring.open(sealed, place=b"redis\x00" + context)
        if len(sealed) <= _NONCE_BYTES:
            return None
        try:
            return self._legacy.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], context)
        except InvalidTag:
            return None


class ColumnSealer:
    """Secrets in database columns: text envelopes, bound to the row's name and the column's
    purpose (``refresh_token``, ``access_token``, ``code_verifier``).

    Keys: the ``SFDC_ENCRYPTION_KEY`` entries, in order; never the signing key,
    so that the database depends on one secret only. Values written by earlier
    releases (Fernet tokens) open with the same entries.
    """

    def __init__(self, encryption_keys: Sequence[str]) -> None:
        if not encryption_keys:
            raise ValueError("sealing database values needs an encryption key")
        self.keyring = Keyring(SealingKey.from_encryption_key(k) for k in encryption_keys)
        self._legacy = MultiFernet([Fernet(k) for k in encryption_keys])

    def __repr__(self) -> str:
        return f"ColumnSealer({self.keyring!r})"

    @staticmethod
    def _place(name: str, purpose: str) -> bytes:
        return b"database\x00" + purpose.encode() + b"\x00" + name.encode()

    def seal(self, secret: str, *, name: str, purpose: str) -> str:
        return to_text(self.keyring.seal(secret.encode(), place=self._place(name, purpose)))

    def open(self, sealed: str, *, name: str, purpose: str) -> str | None:
        """The secret, or None if no configured key sealed it for this name and purpose."""
        if key_id_of(sealed) is None:
            return self._open_legacy(sealed, name=name, purpose=purpose)
        binary = from_text(sealed)
        opened = self.keyring.open(binary, place=self._place(name, purpose)) if binary else None
        try:
            return opened.decode() if opened is not None else None
        except UnicodeDecodeError:
            return None

    def is_current(self, sealed: str) -> bool:
        """Whether ``sealed`` is in this format under the key that seals now."""
        return key_id_of(sealed) == self.keyring.sealing_id

    def _open_legacy(self, sealed: str, *, name: str, purpose: str) -> str | None:
        try:
            document = json.loads(self._legacy.decrypt(sealed.encode("ascii")))
        except (InvalidToken, ValueError, UnicodeEncodeError):
            return None
        if (
            not isinstance(document, dict)
            or document.get("name") != name
            or document.get("purpose") != purpose
            or not isinstance(document.get("secret"), str)
        ):
            return None
        secret: str = document["secret"]
        return secret
