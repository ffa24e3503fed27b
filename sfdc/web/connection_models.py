"""What the connections endpoints answer, as pydantic models: ``/openapi.json``'s schemas
for ``sfdc.web.connections`` (never a token in any of them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AnyUrl, BaseModel, ConfigDict, Field

from sfdc.orgs.records import CONNECTED, NEEDS_CONSENT


class ConnectLink(BaseModel):
    """A single-use link for a person to open in a browser and choose Allow."""

    model_config = ConfigDict(extra="forbid")

    name: str
    connect_url: Annotated[
        AnyUrl,
        Field(
            description="This service's page `/connect/<nonce>`: it names the client that "
            "asked and what will be bound, and goes on to Salesforce."
        ),
    ]
    login_url: AnyUrl
    scopes: str
    callback_url: Annotated[
        AnyUrl,
        Field(
            description="Where Salesforce sends the browser back (`/oauth/callback`); must be "
            "the connected app's Callback URL."
        ),
    ]
    expires_at: Annotated[datetime, Field(description="The link works once, until then.")]
    authorize_url: Annotated[
        AnyUrl,
        Field(
            description="Salesforce's authorize URL, with a signed `state` and a PKCE "
            "challenge: where `connect_url`'s button goes (for scripts that skip the page)."
        ),
    ]


class StoredConnection(BaseModel):
    """A connected org, as stored: who it acts as and its state. Never a token."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(examples=["acme-prod"])]
    status: Annotated[
        str,
        Field(
            description="`needs_consent`: Salesforce refused the refresh token; a person must "
            "connect it again.",
            json_schema_extra={"enum": [CONNECTED, NEEDS_CONSENT]},
        ),
    ]
    status_reason: Annotated[
        str | None, Field(description="Why it needs consent (Salesforce's words), else null.")
    ]
    login_url: AnyUrl
    instance_url: AnyUrl
    identity_url: AnyUrl
    username: str
    user_id: str
    org_id: str
    scopes: Annotated[str, Field(examples=["api refresh_token"])]
    connected_at: datetime
    refreshed_at: datetime | None
    access_token_expires_at: datetime | None
    created_by: Annotated[
        str | None,
        Field(description="The client whose connect link made this binding (null if unknown)."),
    ]


class ConnectionList(BaseModel):
    """One page of stored connections, in name order, without tokens."""

    model_config = ConfigDict(extra="forbid")

    connections: list[StoredConnection]
    next: Annotated[
        str | None,
        Field(
            description='The next page\'s path (as in the `Link: <...>; rel="next"` header), '
            "or null on the last page.",
            examples=["/connections?limit=100&after=acme-prod"],
        ),
    ] = None


class DeletedConnection(BaseModel):
    """A deleted connection, and whether its refresh token was revoked."""

    model_config = ConfigDict(extra="forbid")

    deleted: Annotated[str, Field(description="The connection's name.")]
    revoked: Annotated[
        bool | None,
        Field(
            description="true: the refresh token was revoked at Salesforce; false: Salesforce "
            "no longer knew it; null: it could not be opened with `SFDC_ENCRYPTION_KEY`, so "
            "revoke it in Salesforce."
        ),
    ]
    message: str


class Connected(BaseModel):
    """The connection the callback stored."""

    model_config = ConfigDict(extra="forbid")

    connected: StoredConnection
