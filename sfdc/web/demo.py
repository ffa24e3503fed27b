"""``/``: the original demo's page, without its leaks.

It shows the exchange behind the current token (claim, signature, assertion,
Salesforce's response) with the seed's keys, so existing scripts keep working.
It does not log in again per page view. Live credentials, the access token
and an assertion whose ``exp`` has not passed, go only to API-key callers;
everyone else sees them as ``REDACTED`` and the names in ``redacted``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, Field

from sfdc.web.auth import may
from sfdc.web.extension import UPSTREAM, token_service
from sfdc.web.spec import documented

bp = Blueprint("demo", __name__)

REDACTED = "REDACTED"
# Fields of a token response that are credentials in their own right.
_SECRET_RESPONSE_FIELDS = ("access_token", "refresh_token", "id_token")


class TokenResponse(BaseModel):
    """Salesforce's token response, parsed; its credentials read `REDACTED` without an API key."""

    access_token: str
    instance_url: str
    id: str
    token_type: str | None = None
    issued_at: str | None = None
    scope: str | None = None
    signature: str | None = None


_REDACTABLE = [f"response_text.{name}" for name in _SECRET_RESPONSE_FIELDS]


class Demo(BaseModel):
    """The exchange behind the current token. Without an API key, live credentials read
    `REDACTED` and are named in `redacted`."""

    model_config = ConfigDict(extra="forbid")

    claim: Annotated[
        str, Field(description="The assertion's base64url header and payload (`header.payload`).")
    ]
    signed_claim: Annotated[str, Field(description="The base64url RS256 signature, or `REDACTED`.")]
    target_payload: Annotated[
        str, Field(description="The whole assertion that was posted, or `REDACTED`.")
    ]
    response_headers: Annotated[
        dict[str, str], Field(description="Salesforce's token response headers.")
    ]
    response_text: TokenResponse
    assertion_expires_at: datetime
    redacted: Annotated[
        list[str],
        Field(
            description="The fields hidden from this caller.",
            json_schema_extra={
                "uniqueItems": True,
                "items": {"enum": [*_REDACTABLE, "signed_claim", "target_payload"]},
            },
        ),
    ]


@bp.get("/")
@documented(Demo, auth="api_key_optional", raises=UPSTREAM)
def index() -> dict[str, Any]:
    """The exchange behind the current token

    Never logs in again per view. Live credentials go only to callers whose key has the scope
    `token:jwt`; for anyone else they read `REDACTED`. A wrong key is refused.
    """
    service = token_service()
    trusted = may("token", None)
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
