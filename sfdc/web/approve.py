"""``/connect/<nonce>``: the page a connect link opens first, before Salesforce.

It tells the person who is about to approve which client asked for the link,
which connection name it binds, where they will log in, and, for an existing
connection, the user and org it is bound to now and whether approving
replaces them; its button goes on to Salesforce's authorize URL. Like the
callback it is public: the link's random nonce is what opens it, and it
shows nothing a holder of the link could not already reach. Jinja escapes
every value.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from flask import Blueprint, Response, render_template
from pydantic import AnyUrl, BaseModel, ConfigDict, Field

from sfdc.errors import (
    ConnectionsNotEnabled,
    DatabaseUnavailable,
    SfdcError,
    StateExpired,
    StateUnreadable,
    StateUsed,
)
from sfdc.web.connection_models import StoredConnection
from sfdc.web.connections import wants_json
from sfdc.web.extension import connections
from sfdc.web.spec import Param, documented

bp = Blueprint("approve", __name__)


class PendingConnect(BaseModel):
    """What approving this connect link would do."""

    model_config = ConfigDict(extra="forbid")

    name: str
    client: Annotated[
        str | None,
        Field(
            description="The client whose key asked for the link; null for a link this "
            "service made because the connection needs consent again."
        ),
    ]
    login_url: AnyUrl
    scopes: str
    expires_at: datetime
    replace: Annotated[
        bool, Field(description="Whether approving may bind the name to another user or org.")
    ]
    existing: Annotated[
        StoredConnection | None,
        Field(description="The connection as bound now, or null for a new name."),
    ]
    authorize_url: Annotated[AnyUrl, Field(description="Salesforce's page, to go on to.")]


NONCE = Param(
    "nonce",
    "path",
    "The connect link's random nonce.",
    {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
)


@bp.get("/connect/<nonce>")
@documented(
    PendingConnect,
    auth="public",
    pages=True,
    params=(NONCE,),
    raises=(StateUsed, StateExpired, StateUnreadable, ConnectionsNotEnabled, DatabaseUnavailable),
    tag="connections",
)
def approve(nonce: str) -> tuple[str, int] | dict[str, Any] | str | Response:
    """The page a connect link opens: who asks, what will be bound, a button to Salesforce

    Public: the link's nonce opens it. An HTML page, or JSON when `Accept` prefers it.
    """
    try:
        pending = connections().pending(nonce[:64])
    except SfdcError as exc:
        if wants_json():
            raise
        return render_template("approve.html", error=exc.to_dict()), exc.status
    if wants_json():
        return {**pending, "expires_at": pending["expires_at"].isoformat()}
    return render_template("approve.html", pending=pending)
