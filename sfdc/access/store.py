"""Named keys in the connections database: create, list, rotate, revoke, look up.

Each write is one short transaction. The key itself exists only in the
answer to ``create`` and ``rotate``; the row holds its hash. Rotating keeps
the id (and so the name in logs) and replaces the secret: the old key stops
working as the new one starts, within ``keyring.REVOCATION_DELAY``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from sfdc.access import keys
from sfdc.access.schema import ApiKeyRow
from sfdc.access.scopes import JWT, PROXY, Scope, allows, parse_scopes
from sfdc.clock import Clock
from sfdc.errors import InvalidRequest, UnknownKey
from sfdc.orgs.records import check_name
from sfdc.orgs.store import ConnectionStore


@dataclass(frozen=True)
class KeyRecord:
    """A named key as stored: everything but the key."""

    key_id: str
    client: str
    digest: str
    scopes: tuple[Scope, ...]
    default_connection: str | None
    created_at: datetime
    rotated_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: ApiKeyRow) -> KeyRecord:
        return cls(
            row.key_id,
            row.client,
            row.digest,
            parse_scopes([row.scopes]),
            row.default_connection,
            row.created_at,
            row.rotated_at,
            row.revoked_at,
        )

    def to_dict(self) -> dict[str, Any]:
        """As ``/keys`` and ``keys list`` show it: never the key or its hash."""
        return {
            "id": self.key_id,
            "client": self.client,
            "scopes": [str(scope) for scope in self.scopes],
            "default_connection": self.default_connection,
            "created_at": self.created_at.isoformat(),
            "rotated_at": self.rotated_at.isoformat() if self.rotated_at else None,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


def check_client(client: str) -> str:
    try:
        return check_name(client)
    except InvalidRequest:
        raise InvalidRequest(
            f"'{client[:80]}' is not a client name.",
            hint="Name the app that will hold the key: 1-64 letters, digits, '.', '-' or '_', "
            "starting with a letter or digit, e.g. billing-app.",
        ) from None


def _check_default(name: str, scopes: tuple[Scope, ...]) -> None:
    """A default connection the key may call: else every call without X-Sfdc-Connection
    would be refused."""
    if name == JWT:
        raise InvalidRequest(
            "'jwt' is the JWT identity, what a key without a default connection acts as.",
            hint="Leave the default connection out.",
        )
    if not allows(scopes, PROXY, name):
        raise InvalidRequest(
            f"The default connection '{name}' is not one this key may call.",
            hint=f"Add the scope 'proxy:{name}' (or 'token:{name}'), or name a connection "
            "the key's scopes cover.",
        )


def _check_id(key_id: str) -> str:
    """An id shaped like one, else UnknownKey before any database sees it: PostgreSQL
    refuses a NUL, and an argument that is not UTF-8 (a surrogate from the shell) cannot
    even be encoded for the query."""
    if not re.fullmatch(keys.ID_PATTERN, key_id):
        raise UnknownKey(key_id)
    return key_id


class KeyStore:
    def __init__(self, store: ConnectionStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def __repr__(self) -> str:
        return f"KeyStore({self.store!r})"

    def create(
        self, client: str, scopes: list[str], default_connection: str | None = None
    ) -> tuple[KeyRecord, str]:
        """A new key for ``client``: (its record, the key, which is shown this once)."""
        parsed = parse_scopes(scopes)
        if default_connection is not None:
            _check_default(check_name(default_connection), parsed)
        key_id, key = keys.new_key()
        row = ApiKeyRow(
            key_id=key_id,
            client=check_client(client),
            digest=keys.digest(key),
            scopes=" ".join(str(scope) for scope in parsed),
            default_connection=default_connection,
            created_at=self.clock(),
        )
        with self.store.session(write=True) as session:
            session.add(row)
        return KeyRecord.of(row), key

    def all(self) -> list[KeyRecord]:
        with self.store.session() as session:
            rows = session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.client, ApiKeyRow.key_id))
            return [KeyRecord.of(row) for row in rows]

    def find(self, key_id: str) -> KeyRecord | None:
        """The live (unrevoked) key with this id, or None."""
        with self.store.session() as session:
            row = session.get(ApiKeyRow, key_id)
            return KeyRecord.of(row) if row is not None and row.revoked_at is None else None

    def rotate(self, key_id: str) -> tuple[KeyRecord, str]:
        """A new secret for a live key: (its record, the new key); the old key stops working."""
        _, key = keys.new_key(_check_id(key_id))
        with self.store.session(write=True) as session:
            row = session.get(ApiKeyRow, key_id, with_for_update=True)
            if row is None or row.revoked_at is not None:
                raise UnknownKey(key_id)
            row.digest = keys.digest(key)
            row.rotated_at = self.clock()
            return KeyRecord.of(row), key

    def revoke(self, key_id: str) -> KeyRecord:
        """End a key for good; revoking one already revoked changes nothing."""
        _check_id(key_id)
        with self.store.session(write=True) as session:
            row = session.get(ApiKeyRow, key_id, with_for_update=True)
            if row is None:
                raise UnknownKey(key_id)
            if row.revoked_at is None:
                row.revoked_at = self.clock()
            return KeyRecord.of(row)
