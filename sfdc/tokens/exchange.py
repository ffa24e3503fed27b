"""One successful JWT bearer exchange, and its round trip through JSON for the shared cache.

An ``Exchange`` is what every cache layer holds: the token, plus the assertion
and Salesforce's response behind it, which the demo page shows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sfdc.salesforce.oauth import TokenResponse
from sfdc.tokens.assertion import Assertion
from sfdc.tokens.token import Token


@dataclass(frozen=True)
class Exchange:
    token: Token
    assertion: Assertion | None  # None for grants without one (refresh token, code)
    response: TokenResponse


class TokenSource(Protocol):
    """What re-authentication needs: the current exchange, and a way to report it dead."""

    def current(self) -> Exchange: ...

    def rejected(self, exchange: Exchange) -> bool: ...


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def dumps(exchange: Exchange) -> bytes:
    token, assertion, response = exchange.token, exchange.assertion, exchange.response
    return json.dumps(
        {
            "token": {
                "access_token": token.access_token,
                "instance_url": token.instance_url,
                "id": token.id,
                "token_type": token.token_type,
                "issued_at": _when(token.issued_at),
                "expires_at": _when(token.expires_at),
                "scope": token.scope,
            },
            "assertion": None
            if assertion is None
            else {
                "claim": assertion.claim,
                "signature": assertion.signature,
                "token": assertion.token,
                "expires_at": _when(assertion.expires_at),
            },
            "response": {
                "status": response.status,
                "headers": response.headers,
                "body": response.body,
            },
        }
    ).encode()


def loads(data: bytes) -> Exchange:
    """The exchange ``dumps`` wrote; ValueError (or KeyError) for anything else."""
    document: dict[str, Any] = json.loads(data)
    token, assertion, response = document["token"], document["assertion"], document["response"]
    expires = token["expires_at"]
    return Exchange(
        token=Token(
            access_token=token["access_token"],
            instance_url=token["instance_url"],
            id=token["id"],
            token_type=token["token_type"],
            issued_at=datetime.fromisoformat(token["issued_at"]),
            expires_at=datetime.fromisoformat(expires) if expires else None,
            scope=token["scope"],
        ),
        assertion=None
        if assertion is None
        else Assertion(
            claim=assertion["claim"],
            signature=assertion["signature"],
            token=assertion["token"],
            expires_at=datetime.fromisoformat(assertion["expires_at"]),
        ),
        response=TokenResponse(
            status=response["status"], headers=response["headers"], body=response["body"]
        ),
    )
