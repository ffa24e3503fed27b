"""The named API key's format: recognizable, ``sf``-compatible, stored only as a hash.

A key is ``00Dsfk`` + a 10-character key id (lowercase base32) + ``!`` + a
43-character secret (base62, about 256 bits). It passes the ``sf`` CLI's
access-token check ``^00D\\w{12,15}![.\\w]*$`` (13 word characters after
``00D``), so a key works wherever a Salesforce access token is expected, and
``00Dsfk`` is the prefix secret scanners and people can spot. The id is not
secret: it names the key in lists, logs and ``/keys/<id>``. The store keeps
the SHA-256 of the whole key, enough for a 256-bit random secret (no
password stretching needed), compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string

PREFIX = "00Dsfk"
ID_LENGTH = 10
SECRET_LENGTH = 43
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
_SECRET_ALPHABET = string.ascii_letters + string.digits
KEY_PATTERN = re.compile(rf"^{PREFIX}([a-z2-7]{{{ID_LENGTH}}})!([A-Za-z0-9]{{{SECRET_LENGTH}}})$")
ID_PATTERN = rf"^[a-z2-7]{{{ID_LENGTH}}}$"


def new_key_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(ID_LENGTH))


def new_key(key_id: str | None = None) -> tuple[str, str]:
    """(key id, key): a fresh key, under ``key_id`` when rotating one."""
    key_id = key_id or new_key_id()
    secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(SECRET_LENGTH))
    return key_id, f"{PREFIX}{key_id}!{secret}"


def key_id(key: str) -> str | None:
    """The id of a key of the named form, else None (a configured key, or garbage)."""
    found = KEY_PATTERN.fullmatch(key)
    return found.group(1) if found else None


def digest(key: str) -> str:
    """What the store keeps: the hex SHA-256 of the whole key."""
    return hashlib.sha256(key.encode()).hexdigest()


def matches(key: str, stored_digest: str) -> bool:
    """Whether ``key`` is the one ``stored_digest`` was made from, in constant time."""
    return hmac.compare_digest(digest(key).encode(), stored_digest.encode())
