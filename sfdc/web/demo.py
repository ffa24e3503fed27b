"""``/``: the original demo's page, without its leaks.

It shows the exchange behind the current token (claim, signature, assertion,
Salesforce's response) with the seed's keys, so existing scripts keep working.
It does not log in again per page view. Live credentials, the access token
and an assertion whose ``exp`` has not passed, go only to API-key callers;
everyone else sees them as ``REDACTED`` and the names in ``redacted``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from sfdc.web.auth import caller_is_trusted
from sfdc.web.extension import token_service

bp = Blueprint("demo", __name__)

REDACTED = "REDACTED"
# Fields of a token response that are credentials in their own right.
_SECRET_RESPONSE_FIELDS = ("access_token", "refresh_token", "id_token")


@bp.get("/")
def index() -> dict[str, Any]:
    service = token_service()
    trusted = caller_is_trusted(service.settings.api_keys)
    exchange = service.current()
    assertion = exchange.assertion
    assert assertion is not None  # the JWT bearer flow always signs one
    response_text = dict(exchange.response.body)
    redacted: list[str] = []
    if not trusted:
        for name in _SECRET_RESPONSE_FIELDS:
            if name in response_text:
                response_text[name] = REDACTED
                redacted.append(f"response_text.{name}")
    live = not trusted and assertion.is_live(service.clock())
    if live:
        redacted += ["signed_claim", "target_payload"]
    return {
        "claim": assertion.claim,
        "signed_claim": REDACTED if live else assertion.signature,
        "target_payload": REDACTED if live else assertion.token,
        "response_headers": exchange.response.headers,
        "response_text": response_text,
        "assertion_expires_at": assertion.expires_at.isoformat(),
        "redacted": redacted,
    }
