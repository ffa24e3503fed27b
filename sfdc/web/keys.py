"""``/keys``: named API keys, created, listed, rotated and revoked without a redeploy.

Every route needs the ``keys`` scope. A key is in the answer to ``POST
/keys`` and ``POST /keys/<id>/rotate`` only, once; the database keeps its
hash. A revoked or rotated key stops working on every worker and instance
within ``sfdc.access.keyring.REVOCATION_DELAY``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, ClassVar

from flask import Blueprint, request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from sfdc.access.keys import ID_PATTERN, KEY_PATTERN
from sfdc.access.scopes import GRAMMAR, KEYS, SCOPE_PATTERN
from sfdc.access.store import KeyRecord, KeyStore, check_client
from sfdc.errors import (
    ConnectionsNotEnabled,
    DatabaseUnavailable,
    InvalidRequest,
    UnknownKey,
)
from sfdc.orgs.records import NAME_PATTERN, check_name
from sfdc.telemetry import audit
from sfdc.web.auth import keyring, require
from sfdc.web.json_body import json_object
from sfdc.web.spec import Param, RequestBody, documented, read_body

bp = Blueprint("keys", __name__)

_BODY_HINT = (
    'Send {"client": "billing-app", "scopes": ["proxy:acme"], "default_connection": "acme"} '
    "as JSON."
)


class KeyInfo(BaseModel):
    """A named key as stored: never the key itself, nor its hash."""

    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, Field(description="The key's id: the 10 characters after `00Dsfk`.")]
    client: Annotated[str, Field(examples=["billing-app"])]
    scopes: Annotated[list[str], Field(examples=[["proxy:acme", "connections:acme"]])]
    default_connection: Annotated[
        str | None,
        Field(description="The connection used when a request names none in X-Sfdc-Connection."),
    ]
    created_at: datetime
    rotated_at: datetime | None
    revoked_at: datetime | None


class NewKey(KeyInfo):
    """A key and what it grants. `key` is shown this once: store it now."""

    key: Annotated[
        str,
        Field(
            description="Send as `Authorization: Bearer <key>`.",
            json_schema_extra={"pattern": KEY_PATTERN.pattern},
        ),
    ]


class KeyList(BaseModel):
    """Every named key, revoked ones included."""

    model_config = ConfigDict(extra="forbid")

    keys: list[KeyInfo]


def _scope(scope: str) -> str:
    if not re.fullmatch(SCOPE_PATTERN, scope):
        raise InvalidRequest(f"'{scope[:80]}' is not a scope.", hint=f"Write scopes as {GRAMMAR}.")
    return scope


def _text(field: str, check: Callable[[str], str], *, optional: bool = False) -> BeforeValidator:
    """A string field (or None, if ``optional``) checked by ``check``, which names what is
    wrong: the model's own refusal could only repeat ``incomplete``. The schema states
    the pattern."""

    def read(value: Any) -> Any:
        if optional and value is None:
            return value
        if not isinstance(value, str):
            raise InvalidRequest(f"'{field}' must be a string.", hint=_BODY_HINT)
        return check(value)

    return BeforeValidator(read)


def _scopes(value: Any) -> Any:
    if isinstance(value, list) and not all(isinstance(scope, str) for scope in value):
        raise InvalidRequest("'scopes' must be a list of strings.", hint=_BODY_HINT)
    return value


class KeyRequest(RequestBody):
    """The key to create."""

    incomplete: ClassVar[tuple[str, str]] = (
        "POST /keys needs a 'client' name and a list of 'scopes'.",
        _BODY_HINT,
    )

    client: Annotated[
        str, _text("client", check_client), Field(json_schema_extra={"pattern": NAME_PATTERN})
    ]
    scopes: Annotated[
        list[
            Annotated[
                str, _text("scopes", _scope), Field(json_schema_extra={"pattern": SCOPE_PATTERN})
            ]
        ],
        BeforeValidator(_scopes),
        Field(min_length=1, max_length=100, description=f"Scopes: {GRAMMAR}."),
    ]
    default_connection: Annotated[
        str | None,
        _text("default_connection", check_name, optional=True),
        Field(json_schema_extra={"pattern": NAME_PATTERN}),
    ] = None


KEY_ID = Param("key_id", "path", "The key's id.", {"type": "string", "pattern": ID_PATTERN})
_STORE_ERRORS = (ConnectionsNotEnabled, DatabaseUnavailable)


def _store() -> KeyStore:
    store = keyring().store
    if store is None:
        raise ConnectionsNotEnabled(
            "Named API keys are kept in the connections database, which this service does not "
            "have; only SFDC_API_KEYS work."
        )
    return store


def _body() -> dict[str, Any]:
    """A JSON object, or a form (``scopes`` repeated, one scope each)."""
    document = json_object(request.get_data(cache=True), hint=_BODY_HINT)
    if document is not None:
        return document
    form = request.form
    fields: dict[str, Any] = {key: form[key] for key in form}
    fields["scopes"] = form.getlist("scopes")
    return fields


def _shown(record: KeyRecord, key: str | None = None) -> dict[str, Any]:
    return {**record.to_dict(), **({"key": key} if key is not None else {})}


@bp.post("/keys")
@documented(
    NewKey, status=201, body=KeyRequest, raises=(InvalidRequest, *_STORE_ERRORS), tag="keys"
)
def create() -> tuple[dict[str, Any], int]:
    """Create a named key for a client; the key is in this answer only

    Needs the scope `keys`.
    """
    who = require(KEYS, None)
    wanted = read_body(KeyRequest, _body())
    record, key = _store().create(wanted.client, wanted.scopes, wanted.default_connection)
    audit.record("key_created", client=who.client, connection="-", key_id=record.key_id)
    return _shown(record, key), 201


@bp.get("/keys")
@documented(KeyList, raises=_STORE_ERRORS, tag="keys")
def list_keys() -> dict[str, Any]:
    """Every named key: client, scopes, default connection, dates; never a key

    Needs the scope `keys`.
    """
    require(KEYS, None)
    return {"keys": [record.to_dict() for record in _store().all()]}


@bp.post("/keys/<key_id>/rotate")
@documented(NewKey, raises=(UnknownKey, *_STORE_ERRORS), params=(KEY_ID,), tag="keys")
def rotate(key_id: str) -> dict[str, Any]:
    """A new secret for a key, same id and scopes; the old key stops working

    Every worker and instance refuses the old key within 2 seconds. Needs the scope `keys`.
    """
    who = require(KEYS, None)
    record, key = _store().rotate(key_id)
    keyring().forget(key_id)
    audit.record("key_rotated", client=who.client, connection="-", key_id=key_id)
    return _shown(record, key)


@bp.delete("/keys/<key_id>")
@documented(KeyInfo, raises=(UnknownKey, *_STORE_ERRORS), params=(KEY_ID,), tag="keys")
def revoke(key_id: str) -> dict[str, Any]:
    """Revoke a key for good

    Every worker and instance refuses it within 2 seconds. Needs the scope `keys`.
    """
    who = require(KEYS, None)
    record = _store().revoke(key_id)
    keyring().forget(key_id)
    audit.record("key_revoked", client=who.client, connection="-", key_id=key_id)
    return _shown(record)
