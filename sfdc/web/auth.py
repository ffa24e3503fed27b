"""API keys: who is calling, and whether their key's scopes cover the request.

Where a key is accepted (``presented_key``): ``Authorization: Bearer <key>``,
``Authorization: OAuth <key>`` (as Salesforce's own clients send a session),
``X-SFDC-Session: <key>`` (the Bulk API 1.0), and the ``oauth_token`` query
parameter only on identity-URL paths (``/id/...``, as jsforce's
``identity()`` sends it). None of them is ever forwarded to Salesforce.

``sfdc.access.keyring`` turns the key into a ``Caller``: configured keys
(``SFDC_API_KEYS``) are full access; named keys carry scopes. No key is
anonymous (redacted answers where an endpoint allows it); an unknown key is
401, so a typo is noticed; a valid key outside its scopes is 403
``forbidden`` with a hint naming the missing scope (``require``).
"""

from __future__ import annotations

from flask import current_app, g, request

from sfdc.access.caller import Caller
from sfdc.access.keyring import Keyring
from sfdc.errors import Forbidden, Unauthorized
from sfdc.web.extension import requested_connection

KEYRING_KEY = "sfdc.keyring"
_SCHEMES = ("bearer", "oauth")
_SESSION_HEADER = "X-SFDC-Session"
_IDENTITY_PREFIX = "/id/"


def keyring() -> Keyring:
    found: Keyring = current_app.extensions[KEYRING_KEY]
    return found


def presented_key() -> str | None:
    """The key this request carries, or None; a malformed Authorization header is a 401."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, key = header.partition(" ")
        if scheme.lower() not in _SCHEMES or not key.strip():
            raise Unauthorized("The Authorization header is not 'Bearer <API key>'.")
        return key.strip()
    session = request.headers.get(_SESSION_HEADER)
    if session is not None:
        if not session.strip():
            raise Unauthorized(f"The {_SESSION_HEADER} header is empty.")
        return session.strip()
    if request.path.startswith(_IDENTITY_PREFIX):
        token = request.args.get("oauth_token", "").strip()
        return token or None
    return None


def identify() -> Caller | None:
    """The caller, or None without a key; an unknown key is a 401. Once per request."""
    if "sfdc_caller" in g:
        known: Caller | None = g.sfdc_caller
        return known
    key = presented_key()
    found = None if key is None else keyring().identify(key)
    if key is not None and found is None:
        empty = keyring().empty
        raise Unauthorized(
            "This service has no API keys configured." if empty else "The API key is not valid.",
            hint="Set SFDC_API_KEYS, or api_keys in the bound credential, or create a named key "
            "(python -m sfdc keys create), to hand out live credentials."
            if empty
            else "Use a key from SFDC_API_KEYS (or the bound credential's api_keys), or a named "
            "key that has not been revoked or rotated (GET /keys lists them).",
        )
    g.sfdc_caller = found
    return found


def caller() -> Caller:
    """The caller; 401 without a key."""
    found = identify()
    if found is None:
        raise Unauthorized("This endpoint needs an API key.")
    return found


def require(capability: str, connection: str | None) -> Caller:
    """The caller, if its key grants ``capability`` over ``connection`` (None: the JWT
    identity); else 401 (no or unknown key) or 403 ``forbidden`` naming the missing scope."""
    found = caller()
    missing = found.missing(capability, connection)
    if missing is not None:
        target = f"connection '{connection}'" if connection else "the JWT identity"
        raise Forbidden(
            f"The key of client '{found.client}' does not grant '{capability}' over {target}.",
            hint=f"This needs the scope '{missing}'"
            + ("" if missing.capability == "keys" else f" (or '{missing.capability}:*')")
            + "; call with a key that has it, or ask whoever manages keys for one "
            "(python -m sfdc keys create).",
        )
    return found


def target(capability: str) -> tuple[Caller, str | None]:
    """The caller and the connection this request acts as: the ``X-Sfdc-Connection``
    header, else the key's default connection, else the JWT identity (None); refused
    unless the key grants ``capability`` over it."""
    found = caller()
    name = requested_connection()
    if name is None:
        name = found.default_connection
    return require(capability, name), name


def may(capability: str, connection: str | None) -> bool:
    """Whether this request's key (if any) grants it; an unknown key is still a 401."""
    found = identify()
    return found is not None and found.may(capability, connection)
