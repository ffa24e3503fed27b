"""API keys: who may see live credentials.

Callers send ``Authorization: Bearer <key>`` (or ``OAuth <key>``, ``X-SFDC-Session``,
and on identity URLs ``?oauth_token=``, where Salesforce clients put a token). Keys
are compared in constant time against every configured key, so timing reveals
neither a key nor which one matched. A caller with no key is anonymous (redacted answers where the
endpoint allows it); a caller with a wrong key is refused, so a typo is
noticed instead of silently getting redacted data.
"""

from __future__ import annotations

import hmac

from flask import request

from sfdc.errors import Unauthorized

# Where Salesforce clients put their access token, and so a key (sfdc.web.proxy): the
# Authorization header (REST), X-SFDC-Session (Bulk API 1.0), and the identity URL's
# oauth_token parameter (jsforce's identity()), accepted on identity paths only.
_SCHEMES = ("bearer", "oauth")
SESSION_HEADER = "X-SFDC-Session"
TOKEN_PARAMETER = "oauth_token"  # noqa: S105 - a parameter name


def presented_key() -> str | None:
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, key = header.partition(" ")
        if scheme.lower() not in _SCHEMES or not key.strip():
            raise Unauthorized("The Authorization header is not 'Bearer <API key>'.")
        return key.strip()
    session = request.headers.get(SESSION_HEADER, "").strip()
    if session:
        return session
    if request.path.startswith("/id/"):
        return request.args.get(TOKEN_PARAMETER, "").strip() or None
    return None


def caller_is_trusted(api_keys: frozenset[str]) -> bool:
    """True for a valid API key, False for none; a wrong key is a 401."""
    key = presented_key()
    if key is None:
        return False
    matched = False
    for candidate in api_keys:
        matched |= hmac.compare_digest(key.encode(), candidate.encode())
    if not matched:
        raise Unauthorized(
            "The API key is not valid." if api_keys else "This service has no API keys configured.",
            hint="Use a key from SFDC_API_KEYS (or the bound credential's api_keys)."
            if api_keys
            else "Set SFDC_API_KEYS, or api_keys in the bound credential, to hand out live "
            "credentials.",
        )
    return True


def require_api_key(api_keys: frozenset[str]) -> None:
    if not caller_is_trusted(api_keys):
        raise Unauthorized("This endpoint returns live credentials and needs an API key.")
