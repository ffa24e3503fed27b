"""Connected orgs over HTTP: connect links, the OAuth callback, list, show, delete.

Everything but the callback needs an API key. The callback is where
Salesforce sends the person's browser back; the signed, single-use ``state``
is what lets it in, so the person needs no account here. It answers an HTML
page for browsers and JSON for callers that prefer it (``Accept:
application/json``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    render_template,
    request,
    url_for,
)
from pydantic import AnyUrl, BaseModel, ConfigDict, Field

from sfdc.access.scopes import CONNECTIONS, granted
from sfdc.errors import (
    AccessDenied,
    ConnectionConflict,
    ConnectionsNotEnabled,
    ConsentRequired,
    DatabaseUnavailable,
    Forbidden,
    IdentityRefusal,
    InvalidRequest,
    InvalidState,
    NoRefreshToken,
    NotFound,
    OrgMismatch,
    RefreshInProgress,
    SfdcError,
    StateExpired,
    StateUnreadable,
    StateUsed,
    UnknownConnection,
    UserMismatch,
)
from sfdc.orgs.records import CONNECTED, NAME_PATTERN, NEEDS_CONSENT, check_name
from sfdc.telemetry import audit
from sfdc.web.auth import caller, may, require
from sfdc.web.connect_request import ConnectRequest, connect_request
from sfdc.web.extension import UPSTREAM, connections, token_service
from sfdc.web.spec import Param, documented

bp = Blueprint("connections", __name__)

CALLBACK_PATH = "/oauth/callback"


def _base() -> str:
    """This service's URL, as the callback URL names it (connect pages live beside it)."""
    return callback_url().removesuffix(CALLBACK_PATH)


def callback_url() -> str:
    """SFDC_CALLBACK_URL, else this service's own callback as the caller reached it."""
    configured = token_service().settings.callback_url
    return configured or url_for("connections.callback", _external=True)


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


_MANAGING = (ConnectionsNotEnabled, DatabaseUnavailable)
NAME = Param(
    "name",
    "path",
    "The connection's name: 1-64 letters, digits, `.`, `-` or `_`, starting with a letter or "
    "digit; any other is refused with 400 `invalid_request`.",
    {"type": "string", "pattern": NAME_PATTERN, "examples": ["acme-prod"]},
)
_NAMED = (InvalidRequest, NotFound, UnknownConnection, *_MANAGING)


@bp.post("/connections")
@documented(
    ConnectLink,
    status=201,
    body=ConnectRequest,
    raises=(InvalidRequest, *_MANAGING),
    tag="connections",
)
def connect() -> tuple[dict[str, Any], int]:
    """A connect link: a person opens it and chooses Allow

    The link is single-use and lasts 15 minutes. When the person allows, Salesforce sends the
    browser to `/oauth/callback`, which stores the connection. Needs the scope
    `connections:<name>`.
    """
    who = caller()
    wanted = connect_request()
    require(CONNECTIONS, wanted.name)
    link = connections().connect_link(
        wanted.name,
        callback_url=callback_url(),
        login=wanted.login,
        scopes=wanted.scopes,
        replace=wanted.replace,
        client=who.client,
    )
    audit.record("connect_link", client=who.client, connection=wanted.name, key_id=who.key_id)
    return link.on_page(_base()).to_dict(), 201


# A page of connections is at most this many; at about 500 bytes each, a full page is
# half a megabyte, answered in one indexed range read.
PAGE_DEFAULT, PAGE_MAX = 100, 1000
_PAGING = (
    Param(
        "limit",
        "query",
        f"How many connections per page: 1 to {PAGE_MAX}, default {PAGE_DEFAULT}.",
        {"type": "integer", "minimum": 1, "maximum": PAGE_MAX, "default": PAGE_DEFAULT},
    ),
    Param(
        "after",
        "query",
        "Start after this connection name (the previous page's last). Follow the `Link` "
        'header\'s `rel="next"` (or `next`) rather than building it.',
        {"type": "string", "pattern": NAME_PATTERN, "examples": ["acme-prod"]},
    ),
)


def _limit(raw: str | None) -> int:
    if raw is None:
        return PAGE_DEFAULT
    if not raw.isdigit() or not 1 <= int(raw) <= PAGE_MAX:
        raise InvalidRequest(
            f"limit is '{raw[:40]}', not a whole number from 1 to {PAGE_MAX}.",
            hint=f"Ask for 1 to {PAGE_MAX} connections per page, or leave limit out for "
            f"{PAGE_DEFAULT}.",
        )
    return int(raw)


@bp.get("/connections")
@documented(
    ConnectionList,
    raises=(InvalidRequest, *_MANAGING),
    params=_PAGING,
    answer_headers={
        "Link": {
            "description": 'The next page, as `<path>; rel="next"` (RFC 8288); absent on the '
            "last page.",
            "schema": {"type": "string"},
        }
    },
    tag="connections",
)
def list_connections() -> Response:
    """The stored connections this key may manage, a page at a time, in name order

    Pages are stable under concurrent changes: each starts after the previous page's last
    name, so a connection added or deleted meanwhile never shifts another into or out of a
    page. Follow the `Link` header until it is absent (or `next` until it is null). Lists
    the connections the key has the `connections` capability over; a key with no such scope
    is refused.
    """
    who = caller()
    names = granted(who.scopes, CONNECTIONS)  # None: every connection
    if names is not None and not names:
        raise Forbidden(
            f"The key of client '{who.client}' may manage no connection, so it lists none.",
            hint="Listing needs a scope 'connections:<name>' for each connection to list (or "
            "'connections:*' for all); call with a key that has one, or ask whoever manages "
            "keys for one (python -m sfdc keys create).",
        )
    unknown = sorted(set(request.args) - {"limit", "after"})
    if unknown:
        # A typo (`limt`) must not silently mean the default.
        raise InvalidRequest(
            f"GET /connections takes no parameter '{unknown[0][:40]}'.",
            hint="Page with limit and after (or follow the Link header); nothing else.",
        )
    limit = _limit(request.args.get("limit"))
    after = request.args.get("after")
    if after is not None:
        check_name(after)
    page = connections().page(after=after, limit=limit, names=names)
    following = (
        None
        if page.after is None
        else f"{request.path}?{urlencode({'limit': limit, 'after': page.after})}"
    )
    answer = jsonify({"connections": page.connections, "next": following})
    if following is not None:
        answer.headers["Link"] = f'<{following}>; rel="next"'
    return answer


@bp.get("/connections/<name>")
@documented(StoredConnection, raises=_NAMED, params=(NAME,), tag="connections")
def show(name: str) -> dict[str, Any]:
    """One stored connection

    Needs the scope `connections:<name>`.
    """
    require(CONNECTIONS, name)
    return connections().get(name)


@bp.delete("/connections/<name>")
@documented(
    DeletedConnection,
    raises=(*_NAMED, RefreshInProgress, *UPSTREAM),
    params=(NAME,),
    tag="connections",
)
def delete(name: str) -> dict[str, Any]:
    """Revoke the connection's refresh token at Salesforce, then delete it

    When Salesforce cannot be asked to revoke, nothing is deleted: retry. Needs the scope
    `connections:<name>`.
    """
    who = require(CONNECTIONS, name)
    answer = connections().delete(name)
    audit.record("deleted", client=who.client, connection=name, key_id=who.key_id)
    return answer


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


_CALLBACK_QUERY = tuple(
    Param(name, "query", description, {"type": "string"})
    for name, description in (
        ("state", "The connect link's signed state."),
        ("code", "The authorization code, when the person allowed."),
        ("error", "Salesforce's error, e.g. `access_denied`."),
        ("error_description", "Salesforce's words for it."),
    )
)


@bp.get(CALLBACK_PATH)
@documented(
    Connected,
    auth="public",
    pages=True,
    params=_CALLBACK_QUERY,
    raises=(
        InvalidRequest,
        InvalidState,
        StateUsed,
        StateExpired,
        StateUnreadable,
        AccessDenied,
        OrgMismatch,
        UserMismatch,
        ConnectionConflict,
        NoRefreshToken,
        IdentityRefusal,
        *_MANAGING,
        *UPSTREAM,
    ),
    tag="connections",
)
def callback() -> Response | tuple[Response | str, int] | dict[str, Any] | str:
    """Where Salesforce sends the person's browser back

    Public: the signed, single-use `state` is what lets the browser in. Redeems the code (with
    the PKCE verifier), tests the new token and stores the connection. Answers an HTML page,
    or JSON when `Accept` prefers `application/json`. Nothing is stored on any error.
    """
    args = request.args
    try:
        stored = connections().complete(
            state=args.get("state"),
            code=args.get("code"),
            error=args.get("error"),
            error_description=args.get("error_description"),
        )
    except SfdcError as exc:
        current_app.logger.info("connect callback refused: %s", exc.code)
        if wants_json():
            raise
        return render_template("connect.html", error=exc.to_dict()), exc.status
    if wants_json():
        return {"connected": stored}
    return render_template("connect.html", connection=stored)


def consent_required(exc: ConsentRequired) -> tuple[dict[str, Any], int]:
    """The error, with a fresh connect link in its hint, for a caller whose key may manage
    the connection; others are told who can reconnect it."""
    body = exc.to_dict()
    try:
        allowed = may(CONNECTIONS, exc.connection)
        link = (
            connections().consent_link(exc.connection, callback_url=callback_url())
            if allowed
            else None
        )
    except SfdcError:
        return body, exc.status
    if link is None:
        body["hint"] = (
            f"Ask whoever manages connection '{exc.connection}' (a key with the scope "
            f"'connections:{exc.connection}') for a connect link, and have its user open it "
            "and choose Allow."
        )
        return body, exc.status
    link = link.on_page(_base())
    body["hint"] = (
        f"Connect '{exc.connection}' again: open {link.connect_url} in a browser and choose Allow "
        f"(the link works once, until {link.expires_at:%H:%M} UTC)."
    )
    body["connect_url"] = link.connect_url
    body["authorize_url"] = link.url
    return body, exc.status
