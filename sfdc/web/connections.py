"""Connected orgs over HTTP: connect links, the OAuth callback, list, show, delete.

Everything but the callback needs an API key. The callback is where
Salesforce sends the person's browser back; the signed, single-use ``state``
is what lets it in, so the person needs no account here. It answers an HTML
page for browsers and JSON for callers that prefer it (``Accept:
application/json``).
"""

from __future__ import annotations

from typing import Any
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
from sfdc.orgs.records import NAME_PATTERN, check_name
from sfdc.telemetry import audit
from sfdc.web.auth import caller, may, require
from sfdc.web.connect_request import ConnectRequest, connect_request
from sfdc.web.connection_models import (
    Connected,
    ConnectionList,
    ConnectLink,
    DeletedConnection,
    StoredConnection,
)
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
