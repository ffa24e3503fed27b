"""The connection test: is the current token good, for which user and org?

It calls the identity URL (the ``id`` of the token response; research §5.4)
with the current token. Salesforce answers 403 ``Bad_OAuth_Token`` for a dead
token; then the token is dropped and the call made once more with a fresh
one. Any other answer is Salesforce's refusal, returned with a hint.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sfdc.errors import IdentityRefusal, UpstreamProtocolError
from sfdc.salesforce.refusals import is_session_rejection
from sfdc.salesforce.transport import Transport
from sfdc.tokens.exchange import Exchange, TokenSource

# Identity URL refusals (research §5.4; only Bad_OAuth_Token is confirmed).
_HINTS = {
    "Bad_OAuth_Token": "A freshly issued token was refused too: check that the connected app's "
    "scopes include 'api' or 'id' and that the user's profile has API Enabled.",
    "Missing_OAuth_Token": "The token was not sent; please report this.",
    "Wrong_Org": "The identity URL belongs to another org than the token: check SFDC_LOGIN_URL.",
    "Bad_Id": "The identity URL names a user Salesforce does not know: check SFDC_USERNAME.",
    "No_Access": "The token may not read this identity: add the 'api' or 'id' scope to the "
    "connected app.",
    "Inactive": "The user or org is inactive: reactivate the integration user.",
}


class OneToken:
    """A token source holding one exchange, for testing a token just obtained: nothing to
    re-authenticate with, so a refusal is reported as it is."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange

    def current(self) -> Exchange:
        return self.exchange

    def rejected(self, exchange: Exchange) -> bool:
        return False


def _refusal(status: int, body: bytes) -> IdentityRefusal:
    text = body.decode("utf-8", "replace").strip()
    code = text if text in _HINTS else f"identity_http_{status}"
    return IdentityRefusal(
        code,
        f"The identity URL answered HTTP {status}" + (f" {code}." if text in _HINTS else "."),
        hint=_HINTS.get(code, "Check the integration user and the connected app in Salesforce."),
        retryable=status >= 500,
        upstream_status=status,
    )


def check(
    tokens: TokenSource, transport: Transport, clock: Callable[[], datetime]
) -> dict[str, Any]:
    """The connection report, or the upstream error that explains why there is none."""
    exchange = tokens.current()
    for attempt in (1, 2):
        reply = transport.request(
            "GET",
            exchange.token.id,
            headers={
                "Authorization": f"Bearer {exchange.token.access_token}",
                "Accept": "application/json",
            },
        )
        if attempt == 1 and is_session_rejection(reply.status_code, reply.content):
            tokens.rejected(exchange)
            exchange = tokens.current()  # once: a fresh token refused too is a real refusal
            continue
        break
    if reply.status_code != 200:
        raise _refusal(reply.status_code, reply.content)
    try:
        identity = json.loads(reply.content)
    except ValueError:
        identity = None
    if not isinstance(identity, dict):
        raise UpstreamProtocolError(
            "The identity URL answered 200 without a JSON identity.",
            hint="Something other than Salesforce may be answering; check SFDC_LOGIN_URL.",
        )
    token = exchange.token
    username = identity.get("username")
    org = identity.get("organization_id")
    return {
        "status": True,
        "message": f"Connected to org {org} as {username}.",
        "user": {
            "id": identity.get("user_id"),
            "username": username,
            "display_name": identity.get("display_name"),
            "email": identity.get("email"),
        },
        "org": {"id": org},
        "instance_url": token.instance_url,
        "identity_url": token.id,
        "token": {
            "issued_at": token.issued_at.isoformat(),
            "expires_at": token.expires_at.isoformat() if token.expires_at else None,
            "age_seconds": round((clock() - token.issued_at).total_seconds(), 1),
        },
    }
