"""Salesforce record IDs as the emulator mints them.

A Salesforce ID is 15 case-sensitive characters: a 3-character key prefix naming the
object type (`00D` organization, `005` user, `001` account, ...) and 12 more. APIs also
give the 18-character case-safe form, which appends 3 characters encoding which of the
first 15 are upper case. Token responses carry 18-character IDs in the identity URL
(`/id/{orgId}/{userId}`), while the access token starts with the 15-character org ID.
"""

from __future__ import annotations

import hashlib
import secrets
import string

from .config import EmulatorConfig

ORGANIZATION_PREFIX = "00D"
USER_PREFIX = "005"
ACCOUNT_PREFIX = "001"
CONTACT_PREFIX = "003"

_ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase
_CASE_SAFE_SUFFIX = string.ascii_uppercase + "012345"
_BODY_LENGTH = 12


def _encode(number: int) -> str:
    chars = []
    for _ in range(_BODY_LENGTH):
        number, digit = divmod(number, len(_ALPHABET))
        chars.append(_ALPHABET[digit])
    return "".join(chars)


def stable_id(prefix: str, *seed: str) -> str:
    """A 15-character ID that is the same every time for the same prefix and seed."""
    digest = hashlib.sha256("\x00".join((prefix, *seed)).encode()).digest()
    return prefix + _encode(int.from_bytes(digest, "big"))


def random_id(prefix: str) -> str:
    """A fresh 15-character ID for a newly created record."""
    return prefix + _encode(secrets.randbits(128))


def case_safe(id15: str) -> str:
    """The 18-character case-safe form of a 15-character ID."""
    if len(id15) != 15:
        raise ValueError("expected a 15-character Salesforce ID")
    suffix = ""
    for start in range(0, 15, 5):
        bits = sum(1 << i for i, char in enumerate(id15[start : start + 5]) if char.isupper())
        suffix += _CASE_SAFE_SUFFIX[bits]
    return id15 + suffix


def same_id(left: str, right: str) -> bool:
    """Whether two IDs, each in 15- or 18-character form, name the same record."""
    if len(left) not in (15, 18) or len(right) not in (15, 18):
        return False
    return left[:15] == right[:15]


def organization_id(config: EmulatorConfig) -> str:
    """The emulated org's 18-character ID, stable for a given app and login host."""
    return case_safe(stable_id(ORGANIZATION_PREFIX, config.consumer_key, config.audience))


def user_id(config: EmulatorConfig, username: str) -> str:
    """A user's 18-character ID, stable for a given org and username."""
    return case_safe(stable_id(USER_PREFIX, organization_id(config), username))
