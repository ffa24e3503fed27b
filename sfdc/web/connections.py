"""Connected orgs over HTTP: connect links, the OAuth callback, list, show, delete.

Everything but the callback needs an API key. The callback is where
Salesforce sends the person's browser back; the signed, single-use ``state``
is what lets it in, so the person needs no account here. It answers an HTML
page for browsers and JSON for callers that prefer it (``Accept:
application/json``).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request, url_for

from sfdc.errors import ConsentRequired, InvalidRequest, SfdcError
from sfdc.web.auth import require_api_key
from sfdc.web.extension import connections, token_service

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
            raise InvalidRequest("The request body is not valid JSON.", hint=_BODY_HINT) from None
        if not isinstance(document, dict):
            raise InvalidRequest("The request body is not a JSON object.", hint=_BODY_HINT)
        return document
    return request.form.to_dict()


def _text(document: dict[str, Any], key: str) -> str | None:
    value = document.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidRequest(f"'{key}' must be a string.", hint="See GET /openapi.json.")
    return value


def _flag(value: Any, key: str) -> bool:
    """A JSON boolean, or a form's true/false/1/0/on/off."""
    if isinstance(value, bool):
        return value
    words = {"true": True, "1": True, "on": True, "false": False, "0": False, "off": False}
    if isinstance(value, str) and value.strip().lower() in words:
        return words[value.strip().lower()]
    raise InvalidRequest(f"'{key}' must be true or false.", hint="See GET /openapi.json.")


@bp.post("/connections")
def connect() -> tuple[dict[str, Any], int]:
    _authorized()
    document = _body()
    name = _text(document, "name")
    if name is None:
        raise InvalidRequest(
            "A connect link needs the connection's name.",
            hint='Send {"name": "acme"}; add "login": "sandbox" or a My Domain URL if needed.',
        )
    replace = _flag(document.get("replace", False), "replace")
    link = connections().connect_link(
        name,
        callback_url=callback_url(),
        login=_text(document, "login"),
        scopes=_text(document, "scopes"),
        replace=replace,
    )
    return link.to_dict(), 201


@bp.get("/connections")
def list_connections() -> dict[str, Any]:
    _authorized()
    return {"connections": connections().list()}


@bp.get("/connections/<name>")
def show(name: str) -> dict[str, Any]:
    _authorized()
    return connections().get(name)


@bp.delete("/connections/<name>")
def delete(name: str) -> dict[str, Any]:
    _authorized()
    return connections().delete(name)


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


@bp.get(CALLBACK_PATH)
def callback() -> Response | tuple[Response | str, int] | dict[str, Any] | str:
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
