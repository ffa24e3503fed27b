"""Connected orgs over HTTP: connect links, the OAuth callback, list, show, delete.

Everything but the callback needs an API key. The callback is where
Salesforce sends the person's browser back; the signed, single-use ``state``
is what lets it in, so the person needs no account here. It answers an HTML
page for browsers and JSON for callers that prefer it (``Accept:
application/json``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, ClassVar

from flask import Blueprint, Response, current_app, render_template, request, url_for
from pydantic import (
    AnyUrl,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    model_validator,
)
from werkzeug.exceptions import NotFound

from sfdc.errors import RequestError, SfdcError
from sfdc.orgs.consent import InvalidState, StateExpired, StateUnreadable, StateUsed
from sfdc.orgs.onboarding import LOGIN_ALIASES, AccessDenied, NoRefreshToken
from sfdc.orgs.records import (
    CONNECTED,
    NAME_PATTERN,
    NEEDS_CONSENT,
    ConsentRequired,
    UnknownConnection,
)
from sfdc.orgs.store import ConnectionConflict, DatabaseUnavailable, OrgMismatch
from sfdc.settings.hosts import SALESFORCE_DOMAINS
from sfdc.web.auth import require_api_key
from sfdc.web.extension import UPSTREAM, ConnectionsNotEnabled, connections, token_service
from sfdc.web.spec import Param, RequestBody, documented, read_body

bp = Blueprint("connections", __name__)

CALLBACK_PATH = "/oauth/callback"


def callback_url() -> str:
    """SFDC_CALLBACK_URL, else this service's own callback as the caller reached it."""
    configured = token_service().settings.callback_url
    return configured or url_for("connections.callback", _external=True)


def _authorized() -> None:
    require_api_key(token_service().settings.api_keys)


_BODY_HINT = (
    'Send {"name": "acme", "login": "production"} with Content-Type: application/json, '
    "or name=acme&login=production as a form."
)


def _body() -> dict[str, Any]:
    """A JSON object (whatever the Content-Type claims, as curl -d sends it) or a form."""
    raw = request.get_data(cache=True)
    if raw.lstrip().startswith((b"{", b"[")):
        try:
            document = json.loads(raw)
        except ValueError:
            raise RequestError("The request body is not valid JSON.", hint=_BODY_HINT) from None
        if not isinstance(document, dict):
            raise RequestError("The request body is not a JSON object.", hint=_BODY_HINT)
        return document
    return request.form.to_dict()


def _string(value: Any, key: str) -> str | None:
    """A string; empty means absent."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RequestError(f"'{key}' must be a string.", hint="See GET /openapi.json.")
    return value


def _text(value: Any, info: ValidationInfo) -> str | None:
    return _string(value, info.field_name or "")


_WORDS = {"true": True, "1": True, "on": True, "false": False, "0": False, "off": False}


def _flag(value: Any, info: ValidationInfo) -> bool:
    """A JSON boolean, or a form's true/false/1/0/on/off."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _WORDS:
        return _WORDS[value.strip().lower()]
    raise RequestError(f"'{info.field_name}' must be true or false.", hint="See GET /openapi.json.")


def _boolean_or_word(schema: dict[str, Any]) -> None:
    """What ``_flag`` takes, for the document."""
    schema.pop("type", None)
    schema["anyOf"] = [{"type": "boolean"}, {"enum": list(_WORDS)}]


# 'production', 'sandbox', or an https URL on a Salesforce host (sfdc.settings.hosts).
_LOGIN_URL = r"^https://([A-Za-z0-9-]+\.)*({})/?$".format(
    "|".join(domain.replace(".", r"\.") for domain in SALESFORCE_DOMAINS)
)


class ConnectRequest(RequestBody):
    """What a connect link is for: the connection's name, and where its person logs in."""

    incomplete: ClassVar[tuple[str, str]] = (
        "A connect link needs the connection's name.",
        'Send {"name": "acme"}; add "login": "sandbox" or a My Domain URL if needed.',
    )

    @model_validator(mode="before")
    @classmethod
    def _name_first(cls, document: Any) -> Any:
        """The name before any other field: a link is nothing without it."""
        if isinstance(document, dict) and _string(document.get("name"), "name") is None:
            description, hint = cls.incomplete
            raise RequestError(description, hint=hint)
        return document

    # Its pattern is check_name's, applied when the link is made (after 501 when orgs are off).
    name: Annotated[
        str,
        Field(
            description="The connection's name, case-sensitive. Connecting an existing name "
            "reconnects it, in the same org unless `replace` is true.",
            json_schema_extra={"pattern": NAME_PATTERN, "examples": ["acme-prod"]},
        ),
    ]
    replace: Annotated[
        bool,
        BeforeValidator(_flag),
        Field(
            description="Let the link point an existing connection at another org; default "
            "false, so a reconnect approved in another org is refused. A form (or a lenient "
            "client) may also spell it as a word.",
            json_schema_extra=_boolean_or_word,
        ),
    ] = False
    login: Annotated[
        str | None,
        BeforeValidator(_text),
        Field(
            description="`production`, `sandbox` or a My Domain URL; default: the "
            "connection's current login host, else `SFDC_LOGIN_URL`.",
            json_schema_extra={
                "anyOf": [
                    {"enum": [*LOGIN_ALIASES, ""]},
                    {"type": "string", "format": "uri", "pattern": _LOGIN_URL},
                    {"type": "null"},
                ],
                "examples": ["sandbox"],
            },
        ),
    ] = None
    scopes: Annotated[
        str | None,
        BeforeValidator(_text),
        Field(description="Space-separated OAuth scopes; default `api refresh_token`."),
    ] = None


class ConnectLink(BaseModel):
    """A single-use link for a person to open in a browser and choose Allow."""

    model_config = ConfigDict(extra="forbid")

    name: str
    connect_url: Annotated[
        AnyUrl,
        Field(
            description="Salesforce's authorize URL, with a signed `state` and a PKCE challenge."
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


class ConnectionList(BaseModel):
    """Every stored connection, without tokens."""

    model_config = ConfigDict(extra="forbid")

    connections: list[StoredConnection]


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
_NAMED = (RequestError, NotFound, UnknownConnection, *_MANAGING)


@bp.post("/connections")
@documented(
    ConnectLink,
    status=201,
    body=ConnectRequest,
    raises=(RequestError, *_MANAGING),
    tag="connections",
)
def connect() -> tuple[dict[str, Any], int]:
    """A connect link: a person opens it and chooses Allow

    The link is single-use and lasts 15 minutes. When the person allows, Salesforce sends the
    browser to `/oauth/callback`, which stores the connection.
    """
    _authorized()
    wanted = read_body(ConnectRequest, _body())
    link = connections().connect_link(
        wanted.name,
        callback_url=callback_url(),
        login=wanted.login,
        scopes=wanted.scopes,
        replace=wanted.replace,
    )
    return link.to_dict(), 201


@bp.get("/connections")
@documented(ConnectionList, raises=_MANAGING, tag="connections")
def list_connections() -> dict[str, Any]:
    """Every stored connection"""
    _authorized()
    return {"connections": connections().list()}


@bp.get("/connections/<name>")
@documented(StoredConnection, raises=_NAMED, params=(NAME,), tag="connections")
def show(name: str) -> dict[str, Any]:
    """One stored connection"""
    _authorized()
    return connections().get(name)


@bp.delete("/connections/<name>")
@documented(DeletedConnection, raises=(*_NAMED, *UPSTREAM), params=(NAME,), tag="connections")
def delete(name: str) -> dict[str, Any]:
    """Revoke the connection's refresh token at Salesforce, then delete it

    When Salesforce cannot be asked to revoke, nothing is deleted: retry.
    """
    _authorized()
    return connections().delete(name)


def _wants_json() -> bool:
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
        RequestError,
        InvalidState,
        StateUsed,
        StateExpired,
        StateUnreadable,
        AccessDenied,
        OrgMismatch,
        ConnectionConflict,
        NoRefreshToken,
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
        if _wants_json():
            raise
        return render_template("connect.html", error=exc.to_dict()), exc.status
    if _wants_json():
        return {"connected": stored}
    return render_template("connect.html", connection=stored)


def consent_required(exc: ConsentRequired) -> tuple[dict[str, Any], int]:
    """The error, with a fresh connect link in its hint, for an API-key caller."""
    body = exc.to_dict()
    try:
        link = connections().consent_link(exc.connection, callback_url=callback_url())
    except SfdcError:
        return body, exc.status
    body["hint"] = (
        f"Connect '{exc.connection}' again: open {link.url} in a browser and choose Allow "
        f"(the link works once, until {link.expires_at:%H:%M} UTC)."
    )
    body["connect_url"] = link.url
    return body, exc.status
