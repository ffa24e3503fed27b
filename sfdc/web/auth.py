"""API keys: who may see live credentials.

Callers send ``Authorization: Bearer <key>``. Keys are compared in constant
time against every configured key, so timing reveals neither a key nor which
one matched. A caller with no key is anonymous (redacted answers where the
endpoint allows it); a caller with a wrong key is refused, so a typo is
noticed instead of silently getting redacted data.
"""

from __future__ import annotations

import hmac

from flask import request

from sfdc.errors import RequestError


class Unauthorized(RequestError):
    """No API key where one is needed, a wrong one, or an Authorization that is not Bearer."""

    code = "unauthorized"
    status = 401


def _unauthorized(description: str, hint: str) -> RequestError:
    return Unauthorized(description, hint=hint)


def presented_key() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if not header:
        return None
    if scheme.lower() != "bearer" or not key.strip():
        raise _unauthorized(
            "The Authorization header is not 'Bearer <API key>'.",
            "Send `Authorization: Bearer <one of SFDC_API_KEYS>`.",
        )
    return key.strip()


def caller_is_trusted(api_keys: frozenset[str]) -> bool:
    """True for a valid API key, False for none; a wrong key is a 401."""
    key = presented_key()
    if key is None:
        return False
    matched = False
    for candidate in api_keys:
        matched |= hmac.compare_digest(key.encode(), candidate.encode())
    if not matched:
        raise _unauthorized(
            "The API key is not valid." if api_keys else "This service has no API keys configured.",
            "Use a key from SFDC_API_KEYS (or the bound credential's api_keys)."
            if api_keys
            else "Set SFDC_API_KEYS, or api_keys in the bound credential, to hand out live "
            "credentials.",
        )
    return True


def require_api_key(api_keys: frozenset[str]) -> None:
    if not caller_is_trusted(api_keys):
        raise _unauthorized(
            "This endpoint returns live credentials and needs an API key.",
            "Send `Authorization: Bearer <one of SFDC_API_KEYS>`.",
        )
