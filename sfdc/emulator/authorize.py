"""`/services/oauth2/authorize`: the browser half of the web-server (authorization code) flow.

Emulates the research notes, section 3 (REST API Developer Guide, "Understanding the Web
Server OAuth Authentication Flow"). `GET` takes `response_type=code`, `client_id` and
`redirect_uri`, optionally `scope`, `state`, `code_challenge` (+ `code_challenge_method`,
S256 assumed when absent), `prompt` and `login_hint`, and shows a consent page. The page's
form `POST`s back here; approving redirects to `redirect_uri?code=...&state=...`, denying to
`redirect_uri?error=access_denied&...`. There is no login step: the user picks one of the
org's usernames on the consent page.

An unknown `client_id` or a `redirect_uri` that is not a registered Callback URL gets an
HTML error page (HTTP 400) and never a redirect, since redirecting to an unregistered URI
would hand codes or errors to whoever named it. Other errors redirect to the callback with
`error` (`unsupported_response_type`, `invalid_scope`, `invalid_request`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, render_template_string, request

from .assertion import CLIENT_IDENTIFIER_INVALID
from .context import current
from .issuance import new_authorization_code
from .state import AuthorizationCode
from .user_grants import REDIRECT_URI_MISMATCH

blueprint = Blueprint("authorize", __name__)

AUTHORIZE_PATH = "/services/oauth2/authorize"
ACCESS_DENIED = "end-user denied authorization"

# What the consent page says each scope allows (wording after Salesforce's scope labels).
_SCOPE_LABELS = {
    "api": "Access and manage your data",
    "refresh_token": "Perform requests on your behalf at any time",
    "offline_access": "Perform requests on your behalf at any time",
    "id": "Access your basic information",
    "web": "Provide access to your data via the Web",
    "openid": "Access your unique identifier",
    "full": "Full access",
}

# Autoescaped: render_template_string escapes every value for HTML.
_CONSENT_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Allow Access?</title></head>
<body>
<h1>Allow Access?</h1>
<p><strong>{{ client_id }}</strong> is asking to:</p>
<ul id="scopes">
{%- for scope, label in scopes %}
<li data-scope="{{ scope }}">{{ label }} ({{ scope }})</li>
{%- endfor %}
</ul>
<form method="post" action="{{ action }}">
{%- for name, value in hidden %}
<input type="hidden" name="{{ name }}" value="{{ value }}">
{%- endfor %}
<label for="username">Log in as</label>
<select name="username" id="username">
{%- for username in usernames %}
<option value="{{ username }}"{{ " selected" if username == selected }}>{{ username }}</option>
{%- endfor %}
</select>
<p>Do you want to allow access for {{ client_id }}?</p>
<button type="submit" name="decision" value="deny" id="deny">Deny</button>
<button type="submit" name="decision" value="approve" id="approve">Allow</button>
</form>
</body>
</html>
"""

_ERROR_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>OAuth Error</title></head>
<body>
<h1>OAuth Error</h1>
<p>We can't authorize you because of an OAuth error.</p>
<p id="error">error={{ error }}</p>
<p id="error_description">error_description={{ description }}</p>
</body>
</html>
"""

# The authorize request's parameters that the consent form carries back.
_CARRIED = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)


@dataclass(frozen=True)
class AuthorizeRequest:
    """An authorize request that passed every check."""

    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    code_challenge: str | None


def _page(html: str, status: int) -> Response:
    response = Response(html, status, content_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    )
    return response


def _error_page(error: str, description: str) -> Response:
    return _page(render_template_string(_ERROR_PAGE, error=error, description=description), 400)


def _callback(redirect_uri: str, parameters: dict[str, str], state: str | None) -> Response:
    """302 to the registered callback with `parameters` (and `state`) added to its query."""
    if state is not None:
        parameters = {**parameters, "state": state}
    separator = "&" if urlsplit(redirect_uri).query else "?"
    if redirect_uri.endswith(("?", "&")):
        separator = ""
    location = f"{redirect_uri}{separator}{urlencode(parameters)}"
    return Response(b"", 302, headers={"Location": location, "Cache-Control": "no-store"})


def _check(parameters: Mapping[str, str]) -> AuthorizeRequest | Response:
    """The validated request, or the error page or error redirect Salesforce answers."""
    config = current().config
    if parameters.get("client_id") != config.consumer_key:
        return _error_page("invalid_client_id", CLIENT_IDENTIFIER_INVALID)
    redirect_uri = parameters.get("redirect_uri", "")
    if redirect_uri not in config.callback_urls:
        return _error_page("redirect_uri_mismatch", REDIRECT_URI_MISMATCH)
    state = parameters.get("state")

    def refuse(error: str, description: str) -> Response:
        return _callback(redirect_uri, {"error": error, "error_description": description}, state)

    if parameters.get("response_type") != "code":
        return refuse("unsupported_response_type", "response type not supported")
    if parameters.get("code_challenge_method", "S256") not in ("S256", ""):
        return refuse("invalid_request", "code challenge method not supported")
    requested = tuple(dict.fromkeys(parameters.get("scope", "").split()))
    if any(scope not in config.oauth_scopes for scope in requested):
        return refuse("invalid_scope", "the requested scope is not allowed")
    return AuthorizeRequest(
        client_id=config.consumer_key,
        redirect_uri=redirect_uri,
        scopes=requested or config.oauth_scopes,
        state=state,
        code_challenge=parameters.get("code_challenge") or None,
    )


@blueprint.get(AUTHORIZE_PATH)
def consent() -> Response:
    checked = _check(request.args)
    if isinstance(checked, Response):
        return checked
    usernames = current().config.usernames
    hint = request.args.get("login_hint")
    html = render_template_string(
        _CONSENT_PAGE,
        action=AUTHORIZE_PATH,
        client_id=checked.client_id,
        scopes=[(scope, _SCOPE_LABELS.get(scope, scope)) for scope in checked.scopes],
        hidden=[(name, request.args[name]) for name in _CARRIED if name in request.args],
        usernames=usernames,
        selected=hint if hint in usernames else next(iter(usernames), None),
    )
    return _page(html, 200)


@blueprint.post(AUTHORIZE_PATH)
def decide() -> Response:
    checked = _check(request.form)
    if isinstance(checked, Response):
        return checked
    decision = request.form.get("decision")
    if decision == "deny":
        error = {"error": "access_denied", "error_description": ACCESS_DENIED}
        return _callback(checked.redirect_uri, error, checked.state)
    if decision != "approve":
        return _error_page("invalid_request", "decision must be approve or deny")
    emulator = current()
    username = request.form.get("username", "")
    if username not in emulator.config.usernames:
        return _error_page("invalid_request", "unknown username")
    now = emulator.config.clock()
    code = AuthorizationCode(
        code=new_authorization_code(),
        client_id=checked.client_id,
        redirect_uri=checked.redirect_uri,
        scope=" ".join(checked.scopes),
        username=username,
        code_challenge=checked.code_challenge,
        expires_at=now + emulator.config.code_lifetime,
    )
    emulator.state.save_code(code, now)
    return _callback(checked.redirect_uri, {"code": code.code}, checked.state)
