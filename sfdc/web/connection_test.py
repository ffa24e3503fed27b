"""``/connection``: the connection test, for callers with an API key.

It tests the JWT connection, or the stored connection named in ``X-Sfdc-Connection``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from flask import Blueprint
from pydantic import AnyUrl, BaseModel, ConfigDict

from sfdc.errors import IdentityRefusal
from sfdc.telemetry import audit
from sfdc.tokens import identity
from sfdc.web.auth import target
from sfdc.web.extension import CONNECTION, UPSTREAM, token_source
from sfdc.web.spec import documented

bp = Blueprint("connection", __name__)


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class User(_Closed):
    id: str | None
    username: str | None
    display_name: str | None
    email: str | None


class Org(_Closed):
    id: str | None


class TokenAge(_Closed):
    issued_at: datetime
    expires_at: datetime | None
    age_seconds: float


class Connection(_Closed):
    """The connection test through the identity URL. A failed test is an error answer, never
    `status: false`."""

    status: Literal[True]
    message: str
    user: User
    org: Org
    instance_url: AnyUrl
    identity_url: AnyUrl
    token: TokenAge


@bp.get("/connection")
@documented(Connection, raises=(IdentityRefusal, *UPSTREAM), params=(CONNECTION,))
def test_connection() -> dict[str, Any]:
    """Connection test through the identity URL

    A dead token is replaced once. Needs the scope `token:<connection>`.
    """
    caller, name = target("token")
    source = token_source(name)
    report = identity.check(source, source.transport, source.clock)
    audit.record("connection_test", client=caller.client, connection=name, key_id=caller.key_id)
    return report
