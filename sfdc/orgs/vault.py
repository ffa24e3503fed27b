"""Sealing refresh tokens, access tokens and PKCE verifiers for the database.

Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) under the keys in
``SFDC_ENCRYPTION_KEY``: the first seals, every one opens, so a key is rotated
by putting the new one first and keeping the old one until the rows have been
re-sealed. The plaintext names the connection and the purpose it was sealed
for, so a sealed value copied into another row or column does not open there.
The key comes from CredHub, never from the database, so a database reader
gets nothing usable.
"""

from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class Vault:
    def __init__(self, keys: tuple[str, ...]) -> None:
        if not keys:
            raise ValueError("a vault needs at least one key")
        self._fernet = MultiFernet([Fernet(k) for k in keys])

    def __repr__(self) -> str:
        return "Vault(Fernet)"

    def seal(self, secret: str, *, name: str, purpose: str) -> str:
        plaintext = json.dumps({"name": name, "purpose": purpose, "secret": secret})
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def open(self, sealed: str, *, name: str, purpose: str) -> str | None:
        """The secret, or None if no configured key sealed it for this name and purpose."""
        try:
            document = json.loads(self._fernet.decrypt(sealed.encode("ascii")))
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
